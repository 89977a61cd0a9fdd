"""Grading the learner's own tests by mutation (workbook/grading/learner_tests.py), on tiny modules.

The phases' real broken versions are exercised by the self-test; here the rules of the engine:
what counts as a test, as a caught bug, and which tests fail before any score.
"""

from __future__ import annotations

import importlib.util
import textwrap

import pytest

from workbook.course.phases import PHASES
from workbook.course.requirements import requirements
from workbook.grading import learner_tests
from workbook.grading.learner_tests import Broken, score, verdict
from workbook.platform.paths import GRADERS, SOLUTIONS

REFERENCE = """
def double(x):
    return 2 * x
"""

BROKEN = [
    Broken("a double that adds one", lambda ref: {"double": lambda x: 2 * x + 1}),
    Broken("a double that squares", lambda ref: {"double": lambda x: x * x}),
]


def module(tmp_path, name: str, source: str):
    path = tmp_path / f"{name}.py"
    path.write_text(REFERENCE + textwrap.dedent(source))
    spec = importlib.util.spec_from_file_location(f"_learner_{name}", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture
def grade(tmp_path):
    reference = module(tmp_path, "reference", "")

    def run(source: str, threshold: int = 2):
        learner = module(tmp_path, f"learner{len(list(tmp_path.iterdir()))}", source)
        s = score(learner, reference, ("double",), BROKEN, todo="TODO 9")
        return s, verdict(s, threshold)

    return run


def test_good_tests_catch_every_broken_version_through_helpers_and_fixtures(grade):
    s, problem = grade("""
        def twice(x):  # a helper of the learner's: it must see the swapped-in double too
            return double(x)

        def test_small():
            assert twice(3) == 6

        def test_zero(tmp_path, monkeypatch):
            monkeypatch.setenv("ANY", "1")
            assert tmp_path.is_dir() and double(0) == 0
    """)
    assert (problem, s.as_dict()) == ("", {"caught": 2, "total": 2, "not_caught": []})


def test_a_score_below_the_threshold_names_what_was_missed(grade):
    s, problem = grade("def test_zero():\n    assert double(0) == 0\n")  # x*x is 0 too
    assert s.as_dict()["caught"] == 1
    assert problem == (
        "your tests caught 1 of 2 broken versions (at least 2 needed); "
        "not caught: a double that squares"
    )


@pytest.mark.parametrize(
    ("source", "says"),
    [
        ("", "has no test_ function yet: TODO 9"),
        ("def test_nothing():\n    double(2)\n", "test_nothing asserts nothing"),
        ("def test_always():\n    assert True\n", "your tests caught 0 of 2 broken versions"),
        (
            "def test_wrong():\n    assert double(2) == 5\n",
            "test_wrong fails on the reference implementation: AssertionError "
            "(line 5: assert double(2) == 5)",
        ),
        (
            "def test_stub():\n    raise NotImplementedError('TODO 9: write me')\n",
            "test_stub fails on the reference implementation: NotImplementedError: TODO 9",
        ),
        (
            "import psycopg2\ndef test_db():\n    psycopg2.connect('x')\n    assert double(1) == 2\n",
            "test_db connects to the database",
        ),
        (
            "def test_fixture(capsys):\n    assert double(1) == 2\n",
            "test_fixture asks for capsys; a test here may only take tmp_path and monkeypatch",
        ),
    ],
    ids=["none", "asserts-nothing", "always-passes", "wrong", "stub", "database", "fixture"],
)
def test_tests_that_cannot_count_fail_with_a_reason(grade, source, says):
    _, problem = grade(source)
    assert says in problem


def test_a_test_that_hangs_is_stopped_and_a_hang_on_a_broken_version_counts_as_caught(
    grade, monkeypatch
):
    monkeypatch.setattr(learner_tests, "SLOW_S", 0.3)
    _, problem = grade("def test_hang():\n    while True:\n        pass\n")
    assert problem.startswith("test_hang was stopped after 0.3 s")
    # Passes on the reference at once; loops forever on both broken versions (3 and 1 != 2).
    s, problem = grade(
        "def test_loop():\n    while double(1) != 2:\n        pass\n    assert True\n"
    )
    assert (problem, s.as_dict()["caught"]) == ("", 2)


@pytest.mark.parametrize("phase", sorted(PHASES))
def test_each_phase_states_its_threshold_as_graded(phase, monkeypatch):
    """The phase text and the requirement's title give the numbers the grader uses."""
    monkeypatch.syspath_prepend(str(GRADERS))
    broken = importlib.import_module(f"broken_phase{phase}")
    text = (SOLUTIONS / f"{PHASES[phase]}.py").read_text()
    assert f"{len(broken.BROKEN)} broken versions" in text
    assert f"catch at least {broken.THRESHOLD}" in text
    title = requirements()[phase]["tests_catch_broken_versions"].title
    assert f"{broken.THRESHOLD} of {len(broken.BROKEN)} broken versions" in title
    if phase == 4:  # the dbt unit tests, graded on broken versions of the mart's SQL
        assert f"{len(broken.BROKEN_SQL)} broken versions" in text
        assert f"catch at least {broken.SQL_THRESHOLD}" in text
        title = requirements()[4]["dbt_unit_tests_catch_broken_sql"].title
        assert f"{broken.SQL_THRESHOLD} of {len(broken.BROKEN_SQL)} broken versions" in title
