"""``workbook hint N [REQUIREMENT] [--todo T]``: the hints of a phase's requirements.

Without a requirement it hints every requirement that failed in the last grade. A requirement is
named by its id (shown in ``check`` and ``watch`` output, in brackets) or by the TODO it grades
(``--todo 1``, or a bare number: ``hint 2 1``). An id or TODO the phase does not have is an
error that lists the valid ones.
"""

from __future__ import annotations

import re

from workbook.course.requirements import Requirement, requirements
from workbook.course.results import phase_results


class HintError(ValueError):
    """A requirement or TODO the phase does not have; the message lists the valid ones."""


def todos(req: Requirement) -> set[int]:
    """The TODO numbers a requirement grades, from its title: '(TODO 1, 2)' -> {1, 2}."""
    found = re.search(r"\(TODO ([\d, TODO]+)\)", req.title)
    return {int(n) for n in re.findall(r"\d+", found.group(1))} if found else set()


def choose(phase: int, requirement: str | None, todo: int | None) -> list[Requirement]:
    """The requirements to hint, in the course's order."""
    reqs = requirements().get(phase, {})
    if requirement and requirement.isdigit() and todo is None:
        requirement, todo = None, int(requirement)
    if requirement is not None:
        if requirement not in reqs:
            raise HintError(
                f"phase {phase} has no requirement {requirement!r}; "
                f"its requirements are: {', '.join(reqs) or '(none yet)'}"
            )
        return [reqs[requirement]]
    if todo is not None:
        chosen = [r for r in reqs.values() if todo in todos(r)]
        if not chosen:
            valid = sorted(set().union(*(todos(r) for r in reqs.values())))
            raise HintError(
                f"phase {phase} has no TODO {todo}; its TODOs are: "
                f"{', '.join(map(str, valid)) or '(none yet)'}"
            )
        return chosen
    passed = {rid for rid, ok in phase_results(phase).items() if ok}
    return [r for r in reqs.values() if r.id not in passed]


def show(phase: int, requirement: str | None, todo: int | None, level: int) -> int:
    chosen = choose(phase, requirement, todo)
    if not chosen:
        print(f"No failing requirement to hint for phase {phase} in your last grade. "
              f"Re-grade: uv run workbook check {phase}")  # fmt: skip
        return 0
    for req in chosen:
        print(f"{req.title}  [{req.id}]")
        for n, hint in enumerate(req.hints[:level], 1):
            print(f"  {n}. {hint}")
    return 0
