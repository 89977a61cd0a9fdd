"""The `workbook` command as data engineers expect it: help with examples, "did you mean",
shell completion, and every bad input answered with one line and a non-zero exit, at once.

Also the editor files (.vscode/tasks.json, .devcontainer/devcontainer.json): valid, and every
command they run is a real command.
"""

from __future__ import annotations

import ast
import json
import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from workbook.cli import cli
from workbook.course import results
from workbook.learner import hint
from workbook.platform.paths import REPO_ROOT

COMMANDS = ["check", "watch", "progress", "reset", "solution", "hint", "db", "airflow",
            "compare", "dbt", "stubs"]  # fmt: skip


def workbook(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    """The CLI in a process of its own; a bad input must be answered within 5 s."""
    return subprocess.run(
        [sys.executable, "-m", "workbook.cli", *args],
        capture_output=True, text=True, cwd=REPO_ROOT, timeout=5, env={**os.environ, **(env or {})},
    )  # fmt: skip


def test_help_lists_every_command_with_examples():
    out = workbook("--help")
    assert out.returncode == 0, out.stderr
    assert "Examples:" in out.stdout and "_WORKBOOK_COMPLETE=bash_source" in out.stdout
    listed = [line.split()[0] for line in out.stdout.split("Commands:")[1].splitlines() if line]
    assert listed == COMMANDS
    assert list(cli.commands) == COMMANDS


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help_with_examples(command):
    text = cli.commands[command].help or ""
    assert "Example" in text and f"workbook {command}" in text.replace("uv run ", ""), text


def test_check_help():
    out = workbook("check", "--help")
    assert out.returncode == 0
    assert "Usage: workbook check [OPTIONS] PHASE" in out.stdout
    for option in ("--all", "--solutions", "-v, --verbose", "--report", "--exercises-dir"):
        assert option in out.stdout
    assert "uv run workbook check 1 -v" in out.stdout


def test_a_typo_gets_did_you_mean():
    out = workbook("chek", "1")
    assert out.returncode == 2 and out.stdout == ""
    assert out.stderr.strip().splitlines() == [
        f"workbook: error: no command 'chek'. Did you mean 'check'? Commands: {', '.join(COMMANDS)}"
    ]


def test_shell_completion_completes_commands_and_phases():
    out = workbook(env={"_WORKBOOK_COMPLETE": "bash_complete", "COMP_WORDS": "workbook ch",
                        "COMP_CWORD": "1"})  # fmt: skip
    assert out.returncode == 0 and "plain,check" in out.stdout.splitlines(), out.stdout
    out = workbook(env={"_WORKBOOK_COMPLETE": "bash_complete", "COMP_WORDS": "workbook hint ",
                        "COMP_CWORD": "2"})  # fmt: skip
    assert [line for line in out.stdout.splitlines()] == [f"plain,{p}" for p in range(1, 6)]
    source = workbook(env={"_WORKBOOK_COMPLETE": "bash_source"})
    assert "complete -o nosort -F" in source.stdout and "workbook" in source.stdout


MISSING = "/nonexistent/workbook-exercises"


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["check", "9"], "phase must be one of 1, 2, 3, 4, 5, got '9'"),
        (["check"], "give a phase (1-5) or --all"),
        (["check", "1", "--report", "out.txt"], "--report must end in .xml (JUnit) or .json"),
        (["check", "1", "--exercises-dir", MISSING], f"Directory '{MISSING}' does not exist"),
        (["watch", "--exercises-dir", MISSING], f"Directory '{MISSING}' does not exist"),
        (["reset", "1", "--yes", "--exercises-dir", MISSING], "does not exist"),
        (["solution", "1", "--exercises-dir", MISSING], "does not exist"),
        (["hint", "2", "validate_readings"], "its requirements are: validate_readings_rules, "),
        (["hint", "2", "--todo", "9"], "phase 2 has no TODO 9; its TODOs are: 1, 2, 3, 4, 5"),
        (["hint", "2", "7"], "phase 2 has no TODO 7"),
        (["hint", "1", "--level", "4"], "4 is not in the range 1<=x<=3"),
        (["db", "bogus"], "'bogus' is not one of 'status', 'url', 'psql', 'stop'"),
        (["db", "url", "extra"], "`db url` takes no arguments"),
        (["stubs"], "give --check or --write"),
        (["airflow", "run", "--days", "31"], "31 is not in the range 1<=x<=30"),
        (["compare", "--days", "x"], "'x' is not a valid integer"),
        (["check", "1", "--bogus"], "No such option '--bogus'"),
    ],
)
def test_bad_input_gets_one_line_and_a_non_zero_exit(args, says):
    out = workbook(*args)
    assert out.returncode != 0, out
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and says in lines[0], out.stderr
    assert lines[0].startswith("workbook"), lines
    assert "Traceback" not in out.stdout + out.stderr
    assert not Path(MISSING).exists(), "a missing --exercises-dir must not be created"


def test_hint_takes_an_id_or_a_todo(capsys):
    assert hint.show(2, None, 1, 1) == 0
    out = capsys.readouterr().out
    assert "[validate_readings_rules]" in out and "  1. " in out and "  2. " not in out
    assert hint.choose(2, "1", None) == hint.choose(2, None, 1)
    assert [r.id for r in hint.choose(3, None, 2)] == ["daily_readings_one_utc_day",
                                                       "daily_readings_metadata"]  # fmt: skip
    with pytest.raises(hint.HintError, match="its requirements are: depends_on_raw_weather"):
        hint.choose(1, "nope", None)


@pytest.mark.parametrize(
    "content",
    ["[1, 2]", "{not json", '{"exercises": {"1": {"when": 5, "requirements": {}}}}',
     '{"exercises": {"1": {"requirements": {"x": "yes"}}}}', '{"exercises": []}'],
)  # fmt: skip
def test_results_file_of_the_wrong_shape_counts_as_none(tmp_path, monkeypatch, capsys, content):
    bad = tmp_path / "results.json"
    bad.write_text(content)
    monkeypatch.setattr(results, "RESULTS_FILE", bad)
    monkeypatch.setattr(results, "_warned", False)
    assert results.load_results() == {} and results.phase_results(1) == {}
    assert results.load_results() == {}
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "ignoring" in err[0] and "the next grade rewrites it" in err[0], err
    from workbook.learner import progress

    assert progress.progress()[0].graded == ""  # progress reads it as "never graded"


def test_the_generator_does_not_import_the_learner_tool():
    tree = ast.parse((REPO_ROOT / "data" / "generate_weather.py").read_text())
    imported = {
        node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module
    } | {a.name for node in ast.walk(tree) if isinstance(node, ast.Import) for a in node.names}
    assert not {m for m in imported if m.startswith("workbook.") and
                not m.startswith("workbook.platform")}, imported  # fmt: skip


# --- the editor files --------------------------------------------------------------------------


def _commands(text: str) -> list[list[str]]:
    """Each `uv run ...` command in a shell command line, split like a shell would."""
    found = []
    for part in text.split("&&"):
        words = shlex.split(part)
        if words[:2] == ["uv", "run"]:
            found.append(words[2:])
    return found


def _real(argv: list[str]) -> bool:
    """A workbook command the CLI has, or a program the locked environment installs."""
    if argv[0] == "workbook":
        return argv[1] in cli.commands
    return (Path(sys.executable).parent / argv[0]).exists()


def test_vscode_tasks_run_real_commands():
    tasks = json.loads((REPO_ROOT / ".vscode" / "tasks.json").read_text())["tasks"]
    labels = {t["label"]: t for t in tasks}
    commands = [argv for t in tasks for argv in _commands(t["command"])]
    assert commands and all(_real(argv) for argv in commands), commands
    assert any(argv[:2] == ["workbook", "watch"] for argv in commands), "a task watches"
    ui = [t for t in tasks if any(a[1:2] == ["dev"] for a in _commands(t["command"]))]
    assert ui and ui[0]["isBackground"], f"a background task starts the UI: {labels}"


def test_devcontainer_installs_the_locked_environment():
    config = json.loads((REPO_ROOT / ".devcontainer" / "devcontainer.json").read_text())
    assert "uv sync --locked" in config["postCreateCommand"]
    assert 3000 in config["forwardPorts"], "the Dagster UI's port"
    assert "3.11" in config["image"], "the project's Python"
