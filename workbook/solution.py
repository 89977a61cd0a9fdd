"""``workbook solution N``: the reference, as a diff against your file (rustlings' rule).

It shows only once your phase passes (per the saved results of ``workbook check``/``watch``),
or with ``--force``. Reading the reference too early robs you of the exercise.
"""

from __future__ import annotations

import difflib
import re
import sys
from pathlib import Path

from workbook import grading
from workbook.db import REPO_ROOT
from workbook.reset import phase_files


def reference_text(solution: Path) -> str:
    """The solution without the stub markers and the commented stub code."""
    c = re.escape("--" if solution.suffix == ".sql" else "#")
    begin, middle, end = (
        re.compile(rf"^\s*{c} {m}\s*$") for m in (">>> solution", "=== stub", "<<<")
    )
    out, in_stub = [], False
    for line in solution.read_text().splitlines(keepends=True):
        if begin.match(line) or end.match(line):
            in_stub = False
        elif middle.match(line):
            in_stub = True
        elif not in_stub:
            out.append(line)
    return "".join(out)


def passes(phase: int) -> tuple[bool, str]:
    reqs = grading.requirements().get(phase, {})
    saved = grading.load_results().get("exercises", {}).get(str(phase))
    if not saved:
        return False, f"phase {phase} has not been graded yet: run `uv run workbook check {phase}`"
    done = sum(bool(saved["requirements"].get(r)) for r in reqs)
    if not reqs or done < len(reqs):
        return False, f"phase {phase} does not pass yet ({done}/{len(reqs)} in your last check)"
    return True, ""


def show(phase: int, force: bool = False, exercises_dir: Path | None = None) -> int:
    ok, why = passes(phase)
    if not ok and not force:
        print(f"Not yet: {why}.")
        print(f"Keep going: `uv run workbook hint {phase}` nudges you, step by step. "
              "To see the reference anyway: --force.")  # fmt: skip
        return 1
    root = exercises_dir or REPO_ROOT
    color = sys.stdout.isatty()
    for pair in phase_files(phase):
        mine = root / pair.exercise.relative_to(REPO_ROOT)
        ours = mine.read_text().splitlines(keepends=True) if mine.exists() else []
        diff = list(
            difflib.unified_diff(
                ours,
                reference_text(pair.solution).splitlines(keepends=True),
                fromfile=f"{pair.exercise.relative_to(REPO_ROOT)} (yours)",
                tofile=f"{pair.solution.relative_to(REPO_ROOT)} (reference)",
            )
        )
        if not diff:
            print(f"{pair.exercise.relative_to(REPO_ROOT)} is the reference, line for line.")
        for line in diff:
            line = line if line.endswith("\n") else line + "\n"
            if color and line[:1] in "+-@" and not line.startswith(("+++", "---")):
                code = {"+": "32", "-": "31", "@": "36"}[line[0]]
                line = f"\x1b[{code}m{line.rstrip()}\x1b[0m\n"
            sys.stdout.write(line)
    print(f"\nLines with - are yours, + the reference's. The full file: "
          f"{phase_files(phase)[0].solution.relative_to(REPO_ROOT)}")  # fmt: skip
    return 0
