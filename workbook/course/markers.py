"""The solution files are the single source of truth; the learner's stubs are derived from them.

A solution file marks each part the learner writes::

    # >>> solution
    ...reference code...
    # === stub
    # raise NotImplementedError("TODO 3: ...")
    # <<<

The stub keeps everything outside the markers, drops the reference code, and keeps the
``=== stub`` part with its comment prefix removed. SQL files use ``--`` instead of ``#``.
The optional ``=== stub`` part may be empty. The stub lines are indented like the
``>>> solution`` marker, plus whatever follows the comment prefix. The reference as a learner
reads it (``workbook solution``) is the same file without the markers and the stub part.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from workbook.course.phases import PHASES
from workbook.platform.paths import DBT_PROJECT, REPO_ROOT, SOLUTIONS, SOLUTIONS_DBT, shown

DBT_PHASE = 4  # the phase whose learner files include dbt_project/**.sql and .yml stubs


class MarkerError(ValueError):
    pass


@dataclass(frozen=True)
class Pair:
    """A solution file and the learner's file derived from it."""

    solution: Path
    exercise: Path

    def exercise_in(self, root: Path | None) -> Path:
        """Where the learner's copy is in an exercises directory laid out like the repository."""
        return (root or REPO_ROOT) / self.exercise.relative_to(REPO_ROOT)


def pairs() -> list[Pair]:
    """Every solution with markers, and where its stub lives in the repository."""
    found = [Pair(p, REPO_ROOT / p.name) for p in sorted(SOLUTIONS.glob("phase*.py"))]
    if SOLUTIONS_DBT.is_dir():
        for p in sorted([*SOLUTIONS_DBT.rglob("*.sql"), *SOLUTIONS_DBT.rglob("*.yml")]):
            found.append(Pair(p, DBT_PROJECT / p.relative_to(SOLUTIONS_DBT)))
    return found


def phase_files(phase: int) -> list[Pair]:
    """The solution/stub pairs that make up one phase."""
    name = PHASES[phase] + ".py"
    return [
        p for p in pairs()
        if p.exercise.name == name or (phase == DBT_PHASE and p.exercise.suffix in (".sql", ".yml"))
    ]  # fmt: skip


def _regions(text: str, comment: str, name: str) -> Iterator[tuple[str, str, str]]:
    """(part, line, indent of the region) per line; part is outside, solution, stub or marker."""
    c = re.escape(comment)
    begin, middle, end = (
        re.compile(rf"^\s*{c} {m}\s*$") for m in (">>> solution", "=== stub", "<<<")
    )
    state, indent = "outside", ""
    for n, line in enumerate(text.splitlines(keepends=True), 1):
        if begin.match(line):
            if state != "outside":
                raise MarkerError(f"{name}:{n}: '>>> solution' inside another region")
            state, indent = "solution", line[: len(line) - len(line.lstrip())]
        elif middle.match(line):
            if state != "solution":
                raise MarkerError(f"{name}:{n}: '=== stub' outside a solution region")
            state = "stub"
        elif end.match(line):
            if state == "outside":
                raise MarkerError(f"{name}:{n}: '<<<' without '>>> solution'")
            state = "outside"
        else:
            yield state, line, indent
            continue
        yield "marker", line, indent
    if state != "outside":
        raise MarkerError(f"{name}: a solution region is not closed with '<<<'")


def _comment(path: Path) -> str:
    return "--" if path.suffix == ".sql" else "#"


def derive(text: str, comment: str = "#", name: str = "<text>") -> str:
    """The stub for one solution text."""
    c = re.escape(comment)
    out = []
    for part, line, indent in _regions(text, comment, name):
        if part == "outside":
            out.append(line)
        elif part == "stub":
            # Stub lines are indented like the opening marker, whatever a formatter did to them.
            out.append(indent + re.sub(rf"^\s*{c} ?", "", line, count=1))
    return "".join(out)


def derive_file(solution: Path) -> str:
    return derive(solution.read_text(), _comment(solution), shown(solution))


def reference_text(solution: Path) -> str:
    """The solution without the markers and the commented stub code."""
    return "".join(
        line
        for part, line, _ in _regions(solution.read_text(), _comment(solution), shown(solution))
        if part in ("outside", "solution")
    )
