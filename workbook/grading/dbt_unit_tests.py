"""Grade the learner's dbt unit tests (Phase 4) by mutation, in one ``dbt test`` run.

The learner's ``unit_tests:`` of ``daily_weather_summary`` (``models/marts/unit_tests.yml``) are
copied into a scratch copy of the reference dbt project, once for the reference model and once
for each broken version of its SQL, added there as a model of its own
(``daily_weather_summary__broken_N``). One ``dbt test --select test_type:unit`` runs them all;
``run_results.json`` says which passed. On the reference every test must pass; a broken version
is caught when one of its copies fails. Unit tests read no real table, but dbt looks up the
columns of the model's inputs, so the staging view must exist (the phase's grader builds it).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

from workbook.grading.learner_tests import Score
from workbook.platform import db
from workbook.platform import dbt as wdbt

MODEL = "daily_weather_summary"
UNIT_TESTS = Path("models/marts/unit_tests.yml")


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
        results = _run_unit_tests(project)
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
    """{unit test name: (status, first line of its message)}, or why dbt could not run them."""
    env = {**os.environ, **wdbt.env(os.environ.get(db.ENV_VAR))}
    dbt = Path(sys.executable).parent / "dbt"
    done = subprocess.run(
        [str(dbt), "test", "--select", "test_type:unit", "--project-dir", str(project),
         "--profiles-dir", str(project)],
        capture_output=True, text=True, env=env, cwd=project, timeout=600,
    )  # fmt: skip
    run_results = project / "target" / "run_results.json"
    if not run_results.exists():
        tail = [line for line in done.stdout.splitlines() if "rror" in line][-1:] or ["no output"]
        return f"dbt could not run the unit tests: {tail[0].strip()}"
    results = json.loads(run_results.read_text())["results"]
    return {
        r["unique_id"].rsplit(".", 1)[-1]: (r["status"], _short(r.get("message") or ""))
        for r in results
    }


def _short(message: str) -> str:
    """dbt's message in one line: its first three non-empty lines (the diff's header and row)."""
    return " / ".join(" ".join(line.split()) for line in message.splitlines() if line.strip())[:300]
