"""``workbook stubs --check|--write``: keep the committed stubs equal to the derived ones.

How a stub is derived from its solution is the course's rule (``workbook.course.markers``).
"""

from __future__ import annotations

from pathlib import Path

from workbook.course.markers import Pair, derive_file, pairs


def write_stubs(target_dir: Path | None = None) -> list[Path]:
    """Write every derived stub (into the repo, or mirrored under ``target_dir``)."""
    written = []
    for pair in pairs():
        dest = pair.exercise_in(target_dir)
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
