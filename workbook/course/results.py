"""The learner's results: the one owner of ``.workbook/results.json``.

``workbook check`` and ``watch`` save the last grade of each phase here; ``progress``, ``hint``,
``solution`` and ``reset`` read (or forget) it. The file is written atomically.
"""

from __future__ import annotations

import json
import sys
import time
from dataclasses import dataclass

from workbook.course.requirements import Requirement
from workbook.platform.paths import RESULTS_FILE, shown


@dataclass
class Outcome:
    """The grade of one requirement."""

    requirement: Requirement
    passed: bool
    message: str = ""
    details: str = ""
    seconds: float = 0.0
    score: dict | None = None  # a testing requirement's mutation score: caught, total, not_caught


_warned = False


def _shape_problem(saved: object) -> str:
    """What is wrong with the file's shape, or '' when it is a results file."""
    if not isinstance(saved, dict):
        return "not a JSON object"
    for target, phases in saved.items():
        if not isinstance(phases, dict):
            return f"{target!r} is not an object"
        for phase, result in phases.items():
            if not phase.isdigit() or not isinstance(result, dict):
                return f"{target}.{phase} is not a phase's result"
            reqs = result.get("requirements", {})
            if not isinstance(result.get("when", ""), str) or not isinstance(reqs, dict):
                return f"{target}.{phase} has no 'when' text and 'requirements' object"
            if not all(isinstance(ok, bool) for ok in reqs.values()):
                return f"{target}.{phase}.requirements holds a value that is not true/false"
    return ""


def load_results() -> dict:
    """The saved results: {target: {phase: {"when": ..., "requirements": {id: passed}}}}.

    A file that is not valid JSON or not of this shape counts as no results; that is said once
    per process, on stderr, and the next grade rewrites the file.
    """
    global _warned
    try:
        text = RESULTS_FILE.read_text()
    except OSError:
        return {}
    try:
        saved = json.loads(text)
        problem = _shape_problem(saved)
    except ValueError as exc:
        saved, problem = {}, f"not valid JSON ({exc})"
    if not problem:
        return saved
    if not _warned:
        _warned = True
        print(f"workbook: ignoring {shown(RESULTS_FILE)}: {problem}; "
              "the next grade rewrites it", file=sys.stderr)  # fmt: skip
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
