"""``workbook reset N``: put a phase's stub back, keeping a backup of your file.

The stub is derived from the solution (``workbook.stubs``), exactly as committed. Phase 4's dbt
SQL stubs (``solutions/dbt/`` -> ``dbt_project/``) belong to phase 4 and are reset with it.
Backups go to ``.workbook/backups/<timestamp>/`` with the same relative paths.
"""

from __future__ import annotations

import shutil
import sys
import time
from pathlib import Path

from workbook import grading, stubs
from workbook.db import REPO_ROOT

DBT_PHASE = 4  # the phase whose learner files include dbt_project/**.sql stubs


def phase_files(phase: int) -> list[stubs.Pair]:
    """The solution/stub pairs that make up one phase."""
    name = grading.PHASES[phase] + ".py"
    return [
        p for p in stubs.pairs()
        if p.exercise.name == name or (phase == DBT_PHASE and p.exercise.suffix == ".sql")
    ]  # fmt: skip


def backup_dir() -> Path:
    return grading.RESULTS_FILE.parent / "backups" / time.strftime("%Y%m%d-%H%M%S")


def reset(phase: int, yes: bool = False, exercises_dir: Path | None = None) -> int:
    root = exercises_dir or REPO_ROOT
    changed = []
    for pair in phase_files(phase):
        target = root / pair.exercise.relative_to(REPO_ROOT)
        stub = stubs.derive_file(pair.solution)
        if not target.exists() or target.read_text() != stub:
            changed.append((target, stub))
    if not changed:
        print(f"Phase {phase} is already the untouched stub: nothing to reset.")
        return 0
    backups = backup_dir()
    shown = ", ".join(str(t.relative_to(root)) for t, _ in changed)
    print(f"This replaces {shown} with the stub (your work is lost from there).")
    print(f"A backup goes to {_rel(backups)}/")
    if not yes:
        if not sys.stdin.isatty():
            print("Not a terminal: nothing reset. Re-run with --yes to confirm.")
            return 1
        if input("Reset? [y/N] ").strip().lower() not in ("y", "yes"):
            print("Nothing reset.")
            return 1
    for target, stub in changed:
        if target.exists():
            dest = backups / target.relative_to(root)
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(target, dest)
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(target.name + ".workbook-tmp")
        tmp.write_text(stub)
        tmp.replace(target)
        print(f"reset {target.relative_to(root)}")
    if exercises_dir is None:
        grading.forget_results(phase)
    print(f"Your old files are in {_rel(backups)}/ . Start again: uv run workbook watch {phase}")
    return 0


def _rel(path: Path) -> str:
    return str(path.relative_to(REPO_ROOT)) if path.is_relative_to(REPO_ROOT) else str(path)
