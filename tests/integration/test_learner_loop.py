"""The learner's loop: watch, progress, reset, solution, classroom reports, errors explained.

The diagnoses of mistakes in a phase file are graded for real as mutants
(tests/selftest/mutants.toml, the entries with `says`); this file tests the rest.
"""

from __future__ import annotations

import json
import queue
import subprocess
import sys
import threading
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from workbook.course import explain, markers, results
from workbook.course.requirements import requirements
from workbook.grading import report
from workbook.grading.render import render_outcomes
from workbook.learner import progress, reset, solution
from workbook.platform.paths import REPO_ROOT

PHASE1 = "phase1_basic_assets.py"


@pytest.fixture
def state_dir(tmp_path, monkeypatch) -> Path:
    """Saved results and backups go to a temp dir, never to the learner's .workbook/."""
    monkeypatch.setattr(results, "RESULTS_FILE", tmp_path / "state" / "results.json")
    monkeypatch.setattr(reset, "BACKUPS", tmp_path / "state" / "backups")
    return tmp_path / "state"


N1 = len(requirements()[1])  # phase 1's graded requirements


def _outcomes(phase: int, passing: set[str]) -> list[results.Outcome]:
    return [
        results.Outcome(r, r.id in passing, "" if r.id in passing else f"{r.id} is wrong", "", 0.5)
        for r in requirements()[phase].values()
    ]


def _solution_text() -> str:
    return solution.reference_text(REPO_ROOT / "solutions" / PHASE1)


# --- watch -----------------------------------------------------------------------------------


def test_watch_regrades_each_save_with_the_new_file(tmp_path):
    """Stub, then a syntax error, then the solution: each save is graded from the new file
    (the warm worker must forget the module it imported before)."""
    stub = markers.derive_file(REPO_ROOT / "solutions" / PHASE1)
    target = tmp_path / PHASE1
    target.write_text(stub)
    proc = subprocess.Popen(
        [sys.executable, "-m", "workbook.cli", "watch", "1", "--exercises-dir", str(tmp_path),
         "--max-runs", "3"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=REPO_ROOT,
    )  # fmt: skip
    lines: queue.Queue = queue.Queue()
    threading.Thread(target=lambda: [lines.put(x) for x in proc.stdout], daemon=True).start()

    def next_result() -> str:
        seen = []
        while True:
            line = lines.get(timeout=180)
            seen.append(line)
            if "requirements pass." in line:
                return "".join(seen)

    try:
        first = next_result()
        assert f"0/{N1} requirements pass." in first and "TODO 2" in first, first
        time.sleep(0.3)
        target.write_text(stub.replace("import dagster as dg", "import dagster as dg(", 1))
        broken = next_result()
        assert "syntax error" in broken and f"0/{N1}" in broken, broken
        time.sleep(0.3)
        target.write_text(_solution_text())
        fixed = next_result()
        assert f"{N1}/{N1} requirements pass." in fixed, fixed
        assert proc.wait(timeout=60) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_watch_screen_shows_focus_and_hints_on_request():
    from workbook.learner import watch

    state = watch.State(
        phase=1, follow=False, outcomes=_outcomes(1, {"depends_on_raw_weather_data"})
    )
    state.focus = "drops_unusable_readings"
    screen = watch.render(state, interactive=True)
    assert "› ✗ unusable readings" in screen and "✓ cleaned_weather_data depends" in screen
    assert "hint 1:" not in screen and "h hint (1/3)" in screen
    watch._on_key(state, "h")
    watch._on_key(state, "h")
    screen = watch.render(state, interactive=True)
    assert "hint 2:" in screen and "hint 3:" not in screen
    watch._on_key(state, "n")
    assert state.focus == "temperatures_in_celsius"
    for _ in range(N1 - 2):
        watch._on_key(state, "n")
    assert state.focus == "drops_unusable_readings"  # wraps around the failing ones only


# --- check's output --------------------------------------------------------------------------


def test_one_cause_for_every_failure_is_printed_once():
    reqs = list(requirements()[1].values())
    why = "phase1_basic_assets.py, line 3: syntax error: invalid syntax"
    lines = render_outcomes([results.Outcome(r, False, why) for r in reqs])
    assert sum(why in line for line in lines) == 1
    assert not any("hint:" in line for line in lines)
    mixed = render_outcomes(_outcomes(1, {"depends_on_raw_weather_data"}))
    assert sum("hint:" in line for line in mixed) == len(reqs) - 1


# --- progress, reset, solution ---------------------------------------------------------------


def test_progress_reads_saved_results(state_dir, capsys):
    assert progress.progress()[0].graded == ""
    results.save_results(1, "exercises", _outcomes(1, {"depends_on_raw_weather_data"}))
    row = progress.progress()[0]
    assert (row.passed, row.total, row.next_up.id) == (1, N1, "drops_unusable_readings")
    progress.show()
    out = capsys.readouterr().out
    assert f"1/{N1}" in out and "workbook hint 1 drops_unusable_readings" in out


def test_reset_asks_backs_up_and_restores_the_stub(state_dir, tmp_path, monkeypatch, capsys):
    mine = tmp_path / PHASE1
    mine.write_text("# my work in progress\n")
    monkeypatch.setattr(sys, "stdin", open(__import__("os").devnull))  # not a terminal
    assert reset.reset(1, exercises_dir=tmp_path) == 1
    assert mine.read_text() == "# my work in progress\n", "no --yes and no terminal: untouched"

    assert reset.reset(1, yes=True, exercises_dir=tmp_path) == 0
    assert mine.read_text() == markers.derive_file(REPO_ROOT / "solutions" / PHASE1)
    backups = list((state_dir / "backups").glob(f"*/{PHASE1}"))
    assert [b.read_text() for b in backups] == ["# my work in progress\n"]
    assert reset.reset(1, yes=True, exercises_dir=tmp_path) == 0
    assert "already the untouched stub" in capsys.readouterr().out


def test_reset_asks_in_a_terminal(state_dir, tmp_path, monkeypatch):
    mine = tmp_path / PHASE1
    mine.write_text("# mine\n")
    monkeypatch.setattr(sys.stdin, "isatty", lambda: True, raising=False)
    monkeypatch.setattr("builtins.input", lambda prompt: "n")
    assert reset.reset(1, exercises_dir=tmp_path) == 1 and mine.read_text() == "# mine\n"
    monkeypatch.setattr("builtins.input", lambda prompt: "y")
    assert reset.reset(1, exercises_dir=tmp_path) == 0 and mine.read_text() != "# mine\n"


def test_solution_only_after_the_phase_passes(state_dir, tmp_path, capsys):
    (tmp_path / PHASE1).write_text(markers.derive_file(REPO_ROOT / "solutions" / PHASE1))
    assert solution.show(1, exercises_dir=tmp_path) == 1
    assert "Not yet: phase 1 has not been graded yet" in capsys.readouterr().out
    results.save_results(1, "exercises", _outcomes(1, {"depends_on_raw_weather_data"}))
    assert solution.show(1, exercises_dir=tmp_path) == 1
    assert f"(1/{N1} in your last check)" in capsys.readouterr().out

    results.save_results(1, "exercises", _outcomes(1, set(requirements()[1])))
    assert solution.show(1, exercises_dir=tmp_path) == 0
    diff = capsys.readouterr().out
    assert f"--- {PHASE1} (yours)" in diff and f"+++ solutions/{PHASE1} (reference)" in diff
    assert "+    seen: set[tuple] = set()" in diff
    assert "-    raise NotImplementedError" in diff
    assert ">>> solution" not in diff and "=== stub" not in diff

    (tmp_path / PHASE1).write_text(_solution_text())
    results.forget_results(1)
    assert solution.show(1, force=True, exercises_dir=tmp_path) == 0
    assert "is the reference, line for line" in capsys.readouterr().out


# --- classroom reports -----------------------------------------------------------------------


def _results() -> list[report.PhaseResult]:
    return [report.PhaseResult(1, "exercises", _outcomes(1, {"depends_on_raw_weather_data"}), 7.5)]


def test_junit_report_has_one_case_per_requirement(tmp_path):
    """Checked against the shape of the JUnit XSD that CI tools import (Ant/Jenkins/GitLab)."""
    path = tmp_path / "junit.xml"
    report.write(path, _results())
    root = ET.parse(path).getroot()
    assert (
        root.tag == "testsuites"
        and root.get("tests") == str(N1)
        and root.get("failures") == str(N1 - 1)
    )
    suites = root.findall("testsuite")
    assert [s.get("name") for s in suites] == ["phase1"]
    suite = suites[0]
    for attr in ("tests", "failures", "errors", "skipped"):
        assert suite.get(attr).isdigit(), attr
    float(suite.get("time"))
    assert [c.tag for c in suite] == ["properties"] + ["testcase"] * N1  # XSD order
    props = {p.get("name"): p.get("value") for p in suite.find("properties")}
    assert props["points"] == "1" and props["max_points"] == str(N1)
    cases = suite.findall("testcase")
    assert [c.get("name") for c in cases] == list(requirements()[1])
    assert {c.get("classname") for c in cases} == {"workbook.phase1"}
    for case in cases:
        float(case.get("time"))
        assert set(case.attrib) == {"classname", "name", "time"}
        assert all(child.tag == "failure" for child in case)
    failures = [c.find("failure") for c in cases if c.find("failure") is not None]
    assert len(failures) == int(suite.get("failures")) == N1 - 1
    assert all(f.get("message") and "hint: " in f.text for f in failures)


def test_json_report_has_points_per_requirement(tmp_path):
    path = tmp_path / "report.json"
    report.write(path, _results())
    data = json.loads(path.read_text())
    assert (data["points"], data["max_points"], data["version"]) == (1, N1, 1)
    (phase,) = data["phases"]
    assert (phase["phase"], phase["passed"], phase["total"]) == (1, 1, N1)
    first, second = phase["requirements"][:2]
    assert first == {"id": "depends_on_raw_weather_data", "title": first["title"], "passed": True,
                     "points": 1, "max_points": 1, "message": "", "hint": ""}  # fmt: skip
    assert second["points"] == 0 and second["hint"] == requirements()[1][second["id"]].hints[0]
    assert all("score" not in r for r in phase["requirements"])  # only a testing requirement's


def test_json_report_lists_the_mutation_score(tmp_path):
    outcomes = _outcomes(1, set())
    score = {"caught": 5, "total": 9, "not_caught": ["a version that keeps duplicates"]}
    outcomes[-1].score = score
    path = tmp_path / "report.json"
    report.write(path, [report.PhaseResult(1, "exercises", outcomes, 1.0)])
    last = json.loads(path.read_text())["phases"][0]["requirements"][-1]
    assert last["score"] == score and not last["passed"]


def test_report_suffix_is_checked(tmp_path):
    with pytest.raises(ValueError, match=r"\.xml \(JUnit\) or \.json"):
        report.write(tmp_path / "report.txt", _results())


# --- errors explained without a grader run ---------------------------------------------------


def test_database_not_running_is_explained():
    from workbook.platform.db import DatabaseError

    text = explain.explain_exception(
        DatabaseError("Cannot connect to database 'x' on host 127.0.0.1:5999: Connection refused\n"
                      "Try `uv run workbook db status`.")
    )  # fmt: skip
    assert text.startswith("The database is not reachable: Cannot connect to database 'x'")
    assert "workbook db status" in text and len(text.splitlines()) == 2


# Real dbt 1.11 output (the `msg` of its error events, as dagster-dbt's error carries them).
DBT_DATABASE_ERROR = """The dbt CLI process with command

`dbt build`

failed with exit code `1`. Check the stdout in the Dagster compute logs for the full information about the error.

Errors parsed from dbt logs:

\x1b[31mFailure in model broken (models/broken.sql)\x1b[0m

  Database Error in model broken (models/broken.sql)
  syntax error at or near ""workbook""
  LINE 11: form "workbook"."dbt_issue8_tmp"."base"
                ^
  compiled code at target/run/t/models/broken.sql"""
DBT_JINJA_ERROR = """Encountered an error:
Compilation Error in model broken (models/broken.sql)
  unexpected '}'
    line 2
      from {{ ref('base') }"""
DBT_REF_ERROR = """Encountered an error:
Compilation Error
  Model 'model.t.broken' (models/broken.sql) depends on a node named 'bsae' which was not found"""


@pytest.mark.parametrize(
    ("sql", "error", "expected"),
    [
        ("{{ config(materialized='view') }}\n\nselect a,\n  b\nform {{ ref('base') }}\n",
         DBT_DATABASE_ERROR, "models/broken.sql, line 5): syntax error at or near"),
        ("select a\nfrom {{ ref('base') }\n", DBT_JINJA_ERROR,
         "models/broken.sql, line 2): unexpected '}'"),
        ("select a\nfrom {{ ref('bsae') }}\n", DBT_REF_ERROR,
         "models/broken.sql, line 2): ref('bsae') names no model"),
    ],
    ids=["database", "jinja", "ref"],
)  # fmt: skip
def test_dbt_errors_name_the_model_and_line(tmp_path, sql, error, expected):
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "broken.sql").write_text(sql)
    text = explain.explain_dbt_error(error, tmp_path)
    assert text and text.startswith("dbt model broken (") and expected in text, text
    assert "fix:" in text
    assert explain.explain_dbt_error("Completed successfully", tmp_path) is None
    # what explain_failure does with dagster-dbt's exception
    assert explain.explain_error("DagsterDbtCliRuntimeError", error).startswith("dbt model broken")


# --- the learner's loop, polished ------------------------------------------------------------


def test_check_verbose_runs_and_shows_tracebacks(tmp_path):
    """`-v` once crashed every phase (pytest rejected --tb=long: the runner disables the
    terminal plugin that owns it); now the traceback comes with each outcome."""
    (tmp_path / PHASE1).write_text("import dagster as dg\nraise RuntimeError('boom')\n")
    out = subprocess.run(
        [sys.executable, "-m", "workbook.cli", "check", "1", "-v", "--exercises-dir", str(tmp_path)],
        capture_output=True, text=True, cwd=REPO_ROOT, timeout=300,
    )  # fmt: skip
    assert out.returncode == 1, out.stderr
    assert (
        "could not run" not in out.stdout + out.stderr
        and f"0/{len(requirements()[1])} requirements pass." in out.stdout
    )
    assert "RuntimeError: boom" in out.stdout and "      | " in out.stdout, out.stdout
    assert "Full tracebacks" not in out.stdout  # -v does not advertise -v


def test_long_values_are_cut_in_every_message():
    value = repr({i: {"city": "Anchorage", "temperature_c": 1.5} for i in range(20000)})
    message = (f'Type check failed for step output "result" - expected type "[Any]". '
               f'Description: Value "{value}" of python type "dict" must be a list.')  # fmt: skip
    text = explain.explain_error("DagsterTypeCheckDidNotPass", message)
    assert text.startswith("the asset returned a dict, but its return annotation says list"), text
    assert len(text) < 400
    # the same value with Dagster's own cut at 500,000 characters: still one line
    cut_by_dagster = message[:500_000] + " (TRUNCATED)"
    assert explain.explain_error("DagsterTypeCheckDidNotPass", cut_by_dagster) == text
    # any other message quoting a value: each line cut, with how much was left out
    other = explain.explain_error("KeyError", "x" * 100_000)
    assert len(other) < 600 and "more characters)" in other
    req = next(iter(requirements()[1].values()))
    lines = render_outcomes([results.Outcome(req, False, "y" * 100_000)])
    assert max(map(len, lines)) < 600


def test_ids_are_shown_and_one_reason_is_not_claimed_above_a_pass():
    lines = render_outcomes(_outcomes(1, {"depends_on_raw_weather_data"}))
    assert (
        "  ✓ cleaned_weather_data depends on raw_weather_data (TODO 1)  [depends_on_raw_weather_data]"
        in lines
    )
    assert any(line.endswith("[drops_unusable_readings]") for line in lines)
    same = [results.Outcome(o.requirement, o.passed, "" if o.passed else "the same cause")
            for o in _outcomes(1, {"depends_on_raw_weather_data"})]  # fmt: skip
    text = "\n".join(render_outcomes(same))
    assert "Every requirement below fails for one reason" not in text
    assert "Every ✗ below fails for one reason:" in text and text.count("the same cause") == 1
    from workbook.learner import watch

    screen = watch.render(watch.State(phase=1, follow=False, outcomes=same), interactive=True)
    assert "✓ cleaned_weather_data depends on raw_weather_data (TODO 1)  [depends_on" in screen


def test_a_file_that_does_not_load_shows_the_hint_that_explains_it(tmp_path):
    from workbook.course.phases import PhaseLoadError, load_phase

    text = (REPO_ROOT / "phase5_automation.py").read_text()
    assert text.count("SUMMARY_FRESHNESS = None") == 1
    (tmp_path / "phase5_automation.py").write_text(
        text.replace("SUMMARY_FRESHNESS = None",
                     "SUMMARY_FRESHNESS = dg.FreshnessPolicy(maximum_lag_minutes=60)")
    )  # fmt: skip
    with pytest.raises(PhaseLoadError) as error:
        load_phase(5, "exercises", tmp_path)
    why = str(error.value)
    assert "FreshnessPolicy() takes no arguments" in why
    lines = render_outcomes([results.Outcome(r, False, why) for r in requirements()[5].values()])
    hint_lines = [line for line in lines if "hint" in line]
    assert len(hint_lines) == 1 and "maximum_lag_minutes is the old API" in hint_lines[0], lines
    assert "[summary_freshness_policy]" in hint_lines[0]


def test_follow_mode_regrades_phase_4_on_a_dbt_save():
    from workbook.learner import watch

    mart = {REPO_ROOT / "dbt_project" / "models" / "marts" / "daily_weather_summary.sql"}
    state = watch.State(phase=5, follow=True)
    assert watch._relevant(state, mart) and state.phase == 4
    fixed = watch.State(phase=5, follow=False)
    assert not watch._relevant(fixed, mart) and fixed.phase == 5
    assert watch._relevant(watch.State(phase=4, follow=False), mart)
    other = watch.State(phase=4, follow=True)
    assert watch._relevant(other, {REPO_ROOT / "phase2_asset_graph.py"}) and other.phase == 2


def test_watch_keys_work_on_windows(monkeypatch):
    import types

    from workbook.learner import keys

    pressed = ["H"]
    fake = types.SimpleNamespace(kbhit=lambda: bool(pressed), getwch=lambda: pressed.pop())
    monkeypatch.setitem(sys.modules, "msvcrt", fake)
    monkeypatch.setattr(keys.os, "name", "nt")
    terminal = keys.Keys()
    assert terminal.read(0.5) == "h" and terminal.read(0.05) is None
    terminal.restore()


def test_a_dbt_parse_error_is_reported_once_with_its_line(tmp_path, capfd):
    import shutil

    from workbook.platform import dbt

    project = tmp_path / "dbt_project"
    shutil.copytree(REPO_ROOT / "dbt_project", project,
                    ignore=shutil.ignore_patterns("target", "logs", "dbt_packages"))  # fmt: skip
    mart = project / "models" / "marts" / "daily_weather_summary.sql"
    mart.write_text("select city\nfrom {{ ref('stg_weather_reading') }}\n")
    with pytest.raises(dbt.DbtProjectError) as error:
        dbt.prepare(project)
    assert str(error.value) == (
        f"dbt model daily_weather_summary ({mart}, line 2): ref('stg_weather_reading') names no model"
    )
    printed = capfd.readouterr()
    assert "stg_weather_reading" not in printed.out + printed.err, "dbt printed it a second time"


LEARNER_TEXTS = [*(REPO_ROOT / f"{name}.py" for name in __import__(
    "workbook.course.phases", fromlist=["PHASES"]).PHASES.values()),
    REPO_ROOT / "README.md", REPO_ROOT / "workbook" / "course" / "requirements.toml",
    REPO_ROOT / "workbook" / "course" / "explain.py", REPO_ROOT / "dbt_project" / "README.md"]  # fmt: skip


def test_texts_name_commands_and_screens_that_exist():
    """dbt by hand is `uv run workbook dbt ...` (plain dbt lacks the connection settings), and
    the UI's words are Dagster 1.13's (tests/e2e/test_browser.py checks them on the real pages)."""
    for path in LEARNER_TEXTS:
        text = path.read_text()
        assert "uv run dbt " not in text, f"{path.name}: use `uv run workbook dbt ...`"
        for stale in ("Overview > Backfills", "Running column", "being skipped"):
            assert stale not in text, f"{path.name} still says {stale!r}"
    assert "`uv run workbook dbt compile`" in explain._DBT_FIX["Database"]
    phase3 = (REPO_ROOT / "phase3_partitions.py").read_text()
    phase5 = (REPO_ROOT / "phase5_automation.py").read_text()
    assert "Runs page, Backfills tab" in phase3 and "Actions > Start 2 automations" in phase5
    assert "Using temporary directory" in (REPO_ROOT / "phase1_basic_assets.py").read_text()
