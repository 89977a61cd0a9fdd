"""The graders grade: stubs fail every requirement, solutions pass, wrong answers are rejected,
and correct variants (other algorithms, SQL styles, APIs) pass.

All variants of a phase are graded in one process (`python -m workbook.grading`), one after
another, as `workbook check` grades each: they write the same tables of the test database. Two
lanes run side by side (two cores), each on a database of its own; Phase 4's cases, which run real
dbt (about 9 s each, against about 1 s for the others), are split over both lanes.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tomllib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from workbook.course.markers import pairs
from workbook.course.phases import PHASES
from workbook.course.requirements import requirements
from workbook.maintainer import stubs
from workbook.platform.paths import GRADERS, REPO_ROOT, SOLUTIONS

_CASES = tomllib.loads((Path(__file__).parent / "mutants.toml").read_text())
MUTANTS = _CASES["mutant"]
VARIANTS = _CASES.get("variant", [])
GRADED = sorted(requirements())


def _grade(phase: int, dirs: list[str], lane: int) -> list[dict[str, dict]]:
    """Grade several exercise directories of one phase in one process, one after another.

    A directory may end with ``::req,req`` to grade only those requirements: a mutant only has
    to fail the ones it names, and grading nothing else keeps the self-test fast. ``lane`` picks
    the test database (workbook.grading.database names one per worker id).
    """
    worker = f"{os.environ.get('PYTEST_XDIST_WORKER', 'main')}_lane{lane}"
    out = subprocess.run(
        [sys.executable, "-m", "workbook.grading", str(phase), *dirs],
        capture_output=True, text=True, cwd=REPO_ROOT, timeout=900,
        env={**os.environ, "PYTEST_XDIST_WORKER": worker},
    )  # fmt: skip
    assert out.returncode == 0, out.stderr[-3000:]
    lines = [line for line in out.stdout.splitlines() if line.startswith("[")]
    assert len(lines) == len(dirs), out.stdout[-3000:] + out.stderr[-3000:]
    return [{o["id"]: o for o in json.loads(line)} for line in lines]


def _solution_tree(dest: Path) -> None:
    """The solutions laid out as exercises (phase files at the top, dbt SQL under dbt_project)."""
    for pair in pairs():
        target = dest / pair.exercise.relative_to(REPO_ROOT)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(pair.solution, target)


@pytest.fixture(scope="session")
def graded(tmp_path_factory, test_database) -> dict[str, dict[str, dict]]:
    """Grade every stub and every mutant once, two processes at a time."""
    jobs: dict[str, tuple[int, str]] = {}
    stub_dir = tmp_path_factory.mktemp("stubs")
    stubs.write_stubs(stub_dir)
    solution_dir = tmp_path_factory.mktemp("solutions")
    _solution_tree(solution_dir)
    for phase in GRADED:
        jobs[f"stub{phase}"] = (phase, str(stub_dir))
        jobs[f"solution{phase}"] = (phase, str(solution_dir))
    for m in [*MUTANTS, *VARIANTS]:
        d = tmp_path_factory.mktemp("mutant")
        _solution_tree(d)
        # `file` is a path under solutions/; in the tree it sits where the learner's copy does
        # (phase files at the top, dbt SQL under dbt_project/).
        pair = next(p for p in pairs() if p.solution == SOLUTIONS / m["file"])
        f = d / pair.exercise.relative_to(REPO_ROOT)
        text = f.read_text()
        assert text.count(m["old"]) == 1, f"{m['name']!r}: 'old' must occur exactly once"
        f.write_text(text.replace(m["old"], m["new"]))
        # A mutant only has to fail the requirements it names; a variant must pass them all.
        only = f"::{','.join(m['fails'])}" if "fails" in m else ""
        jobs[m["name"]] = (m["phase"], f"{d}{only}")

    names = {p: [k for k, (q, _) in jobs.items() if q == p] for p in sorted(GRADED)}
    lanes: list[list[tuple[int, list[str]]]] = [[(4, names[4][0::2])], [(4, names[4][1::2])]]
    for phase in (1, 2, 3, 5):  # the rest to the lane with fewer cases so far (by cost)
        cost = [sum(len(n) * (9 if p == 4 else 1) for p, n in lane) for lane in lanes]
        lanes[cost.index(min(cost))].append((phase, names[phase]))

    def grade_lane(lane: int) -> dict[str, dict[str, dict]]:
        out: dict[str, dict[str, dict]] = {}
        for phase, chain in lanes[lane]:
            out.update(zip(chain, _grade(phase, [jobs[k][1] for k in chain], lane)))
        return out

    results: dict[str, dict[str, dict]] = {}
    with ThreadPoolExecutor(max_workers=len(lanes)) as pool:
        for done in pool.map(grade_lane, range(len(lanes))):
            results.update(done)
    return results


@pytest.mark.parametrize("phase", GRADED)
def test_untouched_stub_fails_every_requirement(graded, phase):
    outcomes = graded[f"stub{phase}"]
    assert set(outcomes) == set(requirements()[phase])
    passing = [rid for rid, o in outcomes.items() if o["passed"]]
    assert not passing, f"phase {phase}: the untouched stub passes {passing}"
    for rid, o in outcomes.items():
        assert o["message"].strip(), f"phase {phase}: {rid} fails without a message"


@pytest.mark.parametrize("phase", GRADED)
def test_the_solution_passes_every_requirement(graded, phase):
    outcomes = graded[f"solution{phase}"]
    assert set(outcomes) == set(requirements()[phase])
    failing = {rid: o["message"] for rid, o in outcomes.items() if not o["passed"]}
    assert not failing, f"phase {phase}: the solution fails {failing}"


@pytest.mark.parametrize("mutant", MUTANTS, ids=[m["name"] for m in MUTANTS])
def test_wrong_implementation_is_rejected(graded, mutant):
    outcomes = graded[mutant["name"]]
    for rid in mutant["fails"]:
        assert not outcomes[rid]["passed"], f"{mutant['name']}: {rid} passed but should fail"
        if "says" in mutant:  # a learner mistake that must be explained, not dumped
            message = outcomes[rid]["message"]
            assert mutant["says"] in message, f"{mutant['name']}: {rid} says {message!r}"
            assert "Traceback" not in message and len(message.splitlines()) <= 4, message
            assert len(message) < 1500, f"{mutant['name']}: {len(message)} characters"


@pytest.mark.parametrize("variant", VARIANTS, ids=[v["name"] for v in VARIANTS])
def test_correct_variant_passes(graded, variant):
    outcomes = graded[variant["name"]]
    assert set(outcomes) == set(requirements()[variant["phase"]])
    failing = {rid: o["message"] for rid, o in outcomes.items() if not o["passed"]}
    assert not failing, f"{variant['name']}: a correct variant fails {failing}"


def test_every_requirement_has_a_title_and_hints():
    """Every graded requirement of every phase has a title naming its TODO and 1-3 hints."""
    for phase, reqs in requirements().items():
        assert phase in PHASES, f"requirements.toml: [phase{phase}] is not a phase"
        for rid, req in reqs.items():
            name = f"phase{phase}.{rid}"
            assert req.title and 1 <= len(req.hints) <= 3, f"{name} needs 1-3 hints"
            assert "TODO" in req.title, f"{name}: the title should name its TODO number"
            assert all(h.strip() for h in req.hints), f"{name} has an empty hint"
            assert len(set(req.hints)) == len(req.hints), f"{name} repeats a hint"
            assert req.points >= 1, f"{name}: points must be at least 1"


def test_every_graded_phase_has_hints_for_every_test():
    """A grader test with no requirements.toml entry would fail with no hint at all."""
    for phase in PHASES:
        path = GRADERS / f"test_phase{phase}.py"
        if path.exists():
            reqs = requirements().get(phase, {})
            assert reqs, f"{path.name} exists but requirements.toml has no [phase{phase}.*]"
            assert all(r.hints for r in reqs.values()), f"phase {phase}: a requirement lacks hints"


def test_every_grader_test_is_a_known_requirement():
    """A test without an entry in requirements.toml would print no title and no hint."""
    for phase in range(1, 6):
        path = GRADERS / f"test_phase{phase}.py"
        if not path.exists():
            continue
        tests = {
            line.split("(")[0].removeprefix("def test_")
            for line in path.read_text().splitlines()
            if line.startswith("def test_")
        }
        known = set(requirements().get(phase, {}))
        assert tests == known, (
            f"phase {phase}: tests {sorted(tests ^ known)} and requirements.toml differ"
        )


def _changed_by_learner(path: Path) -> bool:
    out = subprocess.run(["git", "diff", "--quiet", "HEAD", "--", str(path)], cwd=REPO_ROOT)
    return out.returncode == 1


def test_committed_stubs_equal_the_derived_ones():
    stale = stubs.out_of_sync()
    mine = [p for p in stale if _changed_by_learner(p.exercise)]
    if mine and len(mine) == len(stale):
        pytest.skip(f"{', '.join(p.exercise.name for p in mine)} hold your own work; "
                    "stub sync is checked on a clean clone")  # fmt: skip
    assert not stale, f"run `uv run workbook stubs --write`: {[p.exercise.name for p in stale]}"
