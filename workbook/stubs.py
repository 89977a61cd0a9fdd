"""Derive the learner's stubs from the reference solutions (the single source of truth).

A solution file marks each part the learner writes::

    # >>> solution
    ...reference code...
    # === stub
    # raise NotImplementedError("TODO 3: ...")
    # <<<

The stub keeps everything outside the markers, drops the reference code, and keeps the
``=== stub`` part with its comment prefix removed. SQL files use ``--`` instead of ``#``.
The optional ``=== stub`` part may be empty. The stub lines are indented like the
``>>> solution`` marker, plus whatever follows the comment prefix.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from workbook.db import REPO_ROOT

SOLUTIONS = REPO_ROOT / "solutions"


@dataclass(frozen=True)
class Pair:
    """A solution file and the learner's file derived from it."""

    solution: Path
    exercise: Path


def pairs() -> list[Pair]:
    """Every solution with markers, and where its stub lives in the repository."""
    found = [Pair(p, REPO_ROOT / p.name) for p in sorted(SOLUTIONS.glob("phase*.py"))]
    dbt = SOLUTIONS / "dbt"
    if dbt.is_dir():
        for p in sorted(dbt.rglob("*.sql")):
            found.append(Pair(p, REPO_ROOT / "dbt_project" / p.relative_to(dbt)))
    return found


class MarkerError(ValueError):
    pass


def derive(text: str, comment: str = "#", name: str = "<text>") -> str:
    """The stub for one solution text."""
    c = re.escape(comment)
    begin, middle, end = (
        re.compile(rf"^\s*{c} {m}\s*$") for m in (">>> solution", "=== stub", "<<<")
    )
    out: list[str] = []
    state, indent = "outside", ""
    for n, line in enumerate(text.splitlines(keepends=True), 1):
        if begin.match(line):
            if state != "outside":
                raise MarkerError(f"{name}:{n}: '>>> solution' inside another region")
            state = "solution"
            indent = line[: len(line) - len(line.lstrip())]
        elif middle.match(line):
            if state != "solution":
                raise MarkerError(f"{name}:{n}: '=== stub' outside a solution region")
            state = "stub"
        elif end.match(line):
            if state == "outside":
                raise MarkerError(f"{name}:{n}: '<<<' without '>>> solution'")
            state = "outside"
        elif state == "outside":
            out.append(line)
        elif state == "stub":
            # Stub lines are indented like the opening marker, whatever a formatter did to them.
            out.append(indent + re.sub(rf"^\s*{c} ?", "", line, count=1))
    if state != "outside":
        raise MarkerError(f"{name}: a solution region is not closed with '<<<'")
    return "".join(out)


def derive_file(solution: Path) -> str:
    comment = "--" if solution.suffix == ".sql" else "#"
    return derive(solution.read_text(), comment, str(solution.relative_to(REPO_ROOT)))


def write_stubs(target_dir: Path | None = None) -> list[Path]:
    """Write every derived stub (into the repo, or mirrored under ``target_dir``)."""
    written = []
    for pair in pairs():
        dest = pair.exercise
        if target_dir is not None:
            dest = target_dir / pair.exercise.relative_to(REPO_ROOT)
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_text(derive_file(pair.solution))
        written.append(dest)
    return written


def out_of_sync() -> list[Pair]:
    """Pairs whose committed stub differs from the derived one."""
    return [
        p for p in pairs()
        if not p.exercise.exists() or p.exercise.read_text() != derive_file(p.solution)
    ]  # fmt: skip
