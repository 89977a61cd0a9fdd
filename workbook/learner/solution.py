"""``workbook solution N``: the reference, as a diff against your file (rustlings' rule).

It shows only once your phase passes (per the saved results of ``workbook check``/``watch``),
or with ``--force``. Reading the reference too early robs you of the exercise.
"""

from __future__ import annotations

import difflib
import sys
from pathlib import Path

from workbook.course.markers import phase_files, reference_text
from workbook.course.requirements import requirements
from workbook.course.results import phase_results
from workbook.platform.paths import shown


def passes(phase: int) -> tuple[bool, str]:
    reqs = requirements().get(phase, {})
    saved = phase_results(phase)
    if not saved:
        return False, f"phase {phase} has not been graded yet: run `uv run workbook check {phase}`"
    done = sum(bool(saved.get(r)) for r in reqs)
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
    color = sys.stdout.isatty()
    for pair in phase_files(phase):
        mine = pair.exercise_in(exercises_dir)
        ours = mine.read_text().splitlines(keepends=True) if mine.exists() else []
        diff = list(
            difflib.unified_diff(
                ours,
                reference_text(pair.solution).splitlines(keepends=True),
                fromfile=f"{shown(pair.exercise)} (yours)",
                tofile=f"{shown(pair.solution)} (reference)",
            )
        )
        if not diff:
            print(f"{shown(pair.exercise)} is the reference, line for line.")
        for line in diff:
            line = line if line.endswith("\n") else line + "\n"
            if color and line[:1] in "+-@" and not line.startswith(("+++", "---")):
                code = {"+": "32", "-": "31", "@": "36"}[line[0]]
                line = f"\x1b[{code}m{line.rstrip()}\x1b[0m\n"
            sys.stdout.write(line)
    print(f"\nLines with - are yours, + the reference's. The full file: "
          f"{shown(phase_files(phase)[0].solution)}")  # fmt: skip
    return 0
