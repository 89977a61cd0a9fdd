"""Grade the learner's dbt unit tests (Phase 4) by mutation, in one ``dbt test`` run.

The learner's ``unit_tests:`` of ``daily_weather_summary`` (``models/marts/unit_tests.yml``) are
copied into a scratch copy of the reference dbt project, once for the reference model and once
for each broken version of its SQL, added there as a model of its own
(``daily_weather_summary__broken_N``). One ``dbt test --select test_type:unit``, run in this
process, runs them all; its results say which passed. On the reference every test must pass; a
broken version is caught when one of its copies fails. Unit tests read no real table, but dbt looks up the
columns of the model's inputs, so the staging view must exist (the phase's grader builds it).
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import yaml

from workbook.grading.learner_tests import Score
from workbook.platform import dbt as wdbt

MODEL = "daily_weather_summary"
UNIT_TESTS = Path("models/marts/unit_tests.yml")
PARSE_KEY = "unit tests of the mart"  # its own entry in the parse cache (workbook.platform.dbt)


def learner_unit_tests(project: Path) -> list[dict]:
    """The learner's unit tests of the mart (an unreadable file raises ValueError, said plainly)."""
    path = project / UNIT_TESTS
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ValueError(f"dbt_project/{UNIT_TESTS} cannot be read: {exc}") from None
    tests = data.get("unit_tests") or []
    return [t for t in tests if isinstance(t, dict) and t.get("model") == MODEL]


def score(learner_project: Path, reference_project: Path, broken: list[tuple[str, str, str]],
          todo: str) -> Score:  # fmt: skip
    """``broken``: (description, old, new) edits of the reference SQL, each a wrong version."""
    try:
        tests = learner_unit_tests(learner_project)
    except ValueError as exc:
        return Score(problem=str(exc))
    if not tests:
        return Score(problem=f"dbt_project/{UNIT_TESTS} has no unit test of {MODEL} yet: {todo}")
    with tempfile.TemporaryDirectory(prefix="workbook-unit-") as tmp:
        project = Path(tmp) / "project"
        shutil.copytree(reference_project, project, ignore=shutil.ignore_patterns("target", "logs"))
        sql = (project / "models/marts" / f"{MODEL}.sql").read_text()
        copies = [dict(t) for t in tests]
        for n, (_, old, new) in enumerate(broken):
            name = f"{MODEL}__broken_{n}"
            (project / "models/marts" / f"{name}.sql").write_text(sql.replace(old, new))
            copies += [{**t, "name": f"{t['name']}__broken_{n}", "model": name} for t in tests]
        (project / UNIT_TESTS).write_text(yaml.safe_dump({"version": 2, "unit_tests": copies}))
        # dbt's parse state of this scratch project, kept between grades: dbt re-parses only the
        # files that changed (the learner's tests), not the whole project every time.
        wdbt.restore_partial_parse(project / "target", PARSE_KEY)
        results = _run_unit_tests(project)
        wdbt.save_partial_parse(project / "target", PARSE_KEY)
    if isinstance(results, str):
        return Score(problem=results)
    failing = {name: message for name, (status, message) in results.items() if status != "pass"}
    for t in tests:
        if t["name"] in failing or t["name"] not in results:
            why = failing.get(t["name"], "it did not run")
            return Score(problem=f"the unit test {t['name']} fails on the reference SQL: {why}")
    out = Score()
    for n, (description, _, _) in enumerate(broken):
        caught = any(f"{t['name']}__broken_{n}" in failing for t in tests)
        (out.caught if caught else out.missed).append(description)
    return out


def _run_unit_tests(project: Path) -> dict[str, tuple[str, str]] | str:
    """{unit test name: (status, first line of its message)}, or why dbt could not run them.

    dbt runs in this process: the grader has imported it already (through dagster-dbt), and a
    `dbt` subprocess would import it again (about 4 s here).
    """
    wdbt.apply_env()  # the database this process grades in (WORKBOOK_DATABASE_URL)
    args = ["test", "--select", "test_type:unit", "--log-level", "none", "--project-dir",
            str(project), "--profiles-dir", str(project)]  # fmt: skip
    result, errors = wdbt.run_in_process(args, project)
    results = getattr(result.result, "results", None)
    if results is None:
        tail = [line for line in errors.splitlines() if line.strip()][-1:] or ["no output"]
        return f"dbt could not run the unit tests: {tail[0].strip()}"
    return {
        r.node.name: (getattr(r.status, "value", str(r.status)), _short(r.message or ""))
        for r in results
    }


def _short(message: str) -> str:
    """dbt's message in one line: its first three non-empty lines (the diff's header and row)."""
    return " / ".join(" ".join(line.split()) for line in message.splitlines() if line.strip())[:300]
