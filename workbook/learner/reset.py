"""``workbook reset N``: put a phase's stub back, keeping a backup of your file.

The stub is derived from the solution (``workbook.course.markers``), exactly as committed. Phase 4's dbt
SQL stubs (``solutions/dbt/`` -> ``dbt_project/``) belong to phase 4 and are reset with it.
Backups go to ``.workbook/backups/<timestamp>/`` with the same relative paths.
"""

from __future__ import annotations

import shutil
import sys
import time
from pathlib import Path

from workbook.course.markers import derive_file, phase_files
from workbook.course.results import forget_results
from workbook.platform.paths import BACKUPS, REPO_ROOT, shown


def backup_dir() -> Path:
    return BACKUPS / time.strftime("%Y%m%d-%H%M%S")


def reset(phase: int, yes: bool = False, exercises_dir: Path | None = None) -> int:
    root = exercises_dir or REPO_ROOT
    changed = []
    for pair in phase_files(phase):
        target = pair.exercise_in(exercises_dir)
        stub = derive_file(pair.solution)
        if not target.exists() or target.read_text() != stub:
            changed.append((target, stub))
    if not changed:
        print(f"Phase {phase} is already the untouched stub: nothing to reset.")
        return 0
    backups = backup_dir()
    names = ", ".join(str(t.relative_to(root)) for t, _ in changed)
    print(f"This replaces {names} with the stub (your work is lost from there).")
    print(f"A backup goes to {shown(backups)}/")
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
        forget_results(phase)
    print(f"Your old files are in {shown(backups)}/ . Start again: uv run workbook watch {phase}")
    return 0
