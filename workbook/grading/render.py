"""How a grade reads in the terminal: ✓/✗ per requirement, a diagnosis and hints."""

from __future__ import annotations

from workbook.course.results import Outcome


def render_outcomes(outcomes: list[Outcome], hints: int = 1, verbose: bool = False) -> list[str]:
    """✓/✗ per requirement, each failure with its diagnosis and ``hints`` hints.

    When every failure has the same cause (the file does not load, the database is down), the
    cause is printed once, above the list, instead of once per requirement.
    """
    failing = [o for o in outcomes if not o.passed]
    shared = (
        failing[0].message if len(failing) > 1 and len({o.message for o in failing}) == 1 else ""
    )
    lines = [""]
    if shared:
        lines = ["", "  Every requirement below fails for one reason:"]
        lines += [f"    {line}" for line in shared.splitlines()[:6]]
    for o in outcomes:
        lines.append(f"  {'✓' if o.passed else '✗'} {o.requirement.title}")
        if o.score:
            lines.append(
                f"      your tests caught {o.score['caught']} of {o.score['total']} broken versions"
            )
        if o.passed:
            continue
        if not shared:
            lines += [f"      {line}" for line in o.message.splitlines()[:4]]
        lines += [f"      hint: {h}" for h in o.requirement.hints[: 0 if shared else hints]]
        if verbose and o.details:
            lines.append(o.details)
    return lines
