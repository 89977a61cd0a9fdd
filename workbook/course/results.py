"""The learner's results: the one owner of ``.workbook/results.json``.

``workbook check`` and ``watch`` save the last grade of each phase here; ``progress``, ``hint``,
``solution`` and ``reset`` read (or forget) it. The file is written atomically.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass

from workbook.course.requirements import Requirement
from workbook.platform.paths import RESULTS_FILE


@dataclass
class Outcome:
    """The grade of one requirement."""

    requirement: Requirement
    passed: bool
    message: str = ""
    details: str = ""
    seconds: float = 0.0
    score: dict | None = None  # a testing requirement's mutation score: caught, total, not_caught


def load_results() -> dict:
    """The saved results: {target: {phase: {"when": ..., "requirements": {id: passed}}}}."""
    try:
        return json.loads(RESULTS_FILE.read_text())
    except (OSError, ValueError):
        return {}


def phase_results(phase: int, target: str = "exercises") -> dict[str, bool]:
    """{requirement id: passed} from the last grade of a phase ({} if never graded)."""
    return load_results().get(target, {}).get(str(phase), {}).get("requirements", {})


def _write(saved: dict) -> None:
    RESULTS_FILE.parent.mkdir(parents=True, exist_ok=True)
    tmp = RESULTS_FILE.with_name(RESULTS_FILE.name + ".tmp")
    tmp.write_text(json.dumps(saved, indent=2))
    tmp.replace(RESULTS_FILE)


def save_results(phase: int, target: str, outcomes: list[Outcome]) -> None:
    """Remember the last grade of each phase, for `workbook progress`."""
    saved = load_results()
    saved.setdefault(target, {})[str(phase)] = {
        "when": time.strftime("%Y-%m-%d %H:%M:%S"),
        "requirements": {o.requirement.id: o.passed for o in outcomes},
    }
    _write(saved)


def forget_results(phase: int, target: str = "exercises") -> None:
    """Drop a phase's saved results (after ``workbook reset``)."""
    saved = load_results()
    if saved.get(target, {}).pop(str(phase), None) is not None:
        _write(saved)
