"""The graded requirements of every phase: title (naming its TODO), hints, points.

They live in ``requirements.toml`` beside this module; each is one test ``test_<id>`` of the
phase's grader in ``workbook/grading/graders/``.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import cache

from workbook.platform.paths import REQUIREMENTS_FILE


@dataclass(frozen=True)
class Requirement:
    phase: int
    id: str
    title: str
    hints: tuple[str, ...]
    points: int = 1  # for classroom reports; `points = N` in requirements.toml overrides
    # Regular expressions: when the phase file does not load and the error matches one, this
    # requirement's hints explain that very mistake (e.g. an API that changed), so they are
    # shown under the error (`load_errors = [...]` in requirements.toml).
    load_errors: tuple[str, ...] = ()

    def explains(self, load_error: str) -> bool:
        return any(re.search(pattern, load_error) for pattern in self.load_errors)


@cache
def requirements() -> dict[int, dict[str, Requirement]]:
    """Every graded requirement, by phase and id, from requirements.toml."""
    data = tomllib.loads(REQUIREMENTS_FILE.read_text())
    out: dict[int, dict[str, Requirement]] = {}
    for phase_key, reqs in data.items():
        phase = int(phase_key.removeprefix("phase"))
        out[phase] = {
            rid: Requirement(
                phase,
                rid,
                r["title"],
                tuple(r.get("hints", ())),
                int(r.get("points", 1)),
                tuple(r.get("load_errors", ())),
            )
            for rid, r in reqs.items()
        }
    return out


def requirement(phase: int, rid: str) -> Requirement:
    """A known requirement, or a placeholder for a test that requirements.toml does not list."""
    return requirements().get(phase, {}).get(rid) or Requirement(
        phase, rid, rid.replace("_", " "), ()
    )
