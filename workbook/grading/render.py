"""How a grade reads in the terminal: ✓/✗ per requirement with its id, a diagnosis and hints."""

from __future__ import annotations

import sys
from contextlib import contextmanager

from workbook.course.explain import cut
from workbook.course.results import Outcome


def label(o: Outcome) -> str:
    """'✗ title (TODO 2)  [id]': the id is what `workbook hint N ID` takes."""
    return f"{'✓' if o.passed else '✗'} {o.requirement.title}  [{o.requirement.id}]"


def shared_cause(outcomes: list[Outcome]) -> str:
    """The one message every failing requirement has (the file does not load, the database is
    down), or '' when the failures have their own reasons."""
    failing = [o for o in outcomes if not o.passed]
    messages = {o.message for o in failing}
    return failing[0].message if len(failing) > 1 and len(messages) == 1 else ""


def matching_hints(outcomes: list[Outcome], cause: str, hints: int = 1) -> list[str]:
    """The hints of the requirements that explain this very cause (requirements.toml's
    ``load_errors``), e.g. the new FreshnessPolicy API under the old API's TypeError."""
    lines = []
    for o in outcomes:
        if not o.passed and o.requirement.explains(cause):
            lines += [f"hint [{o.requirement.id}]: {h}" for h in o.requirement.hints[:hints]]
    return lines


def render_outcomes(outcomes: list[Outcome], hints: int = 1, verbose: bool = False) -> list[str]:
    """✓/✗ per requirement, each failure with its diagnosis and ``hints`` hints.

    When every failure has the same cause, the cause is printed once, above the list, with the
    hints that explain it, instead of once per requirement.
    """
    shared = shared_cause(outcomes)
    lines = [""]
    if shared:
        some_pass = any(o.passed for o in outcomes)
        lines.append(
            "  Every ✗ below fails for one reason:"
            if some_pass
            else "  Every requirement below fails for one reason:"
        )
        lines += [f"    {line}" for line in shared.splitlines()[:6]]
        lines += [f"    {line}" for line in matching_hints(outcomes, shared, max(hints, 1))]
    for o in outcomes:
        lines.append(f"  {label(o)}")
        if o.score:
            lines.append(
                f"      your tests caught {o.score['caught']} of {o.score['total']} broken versions"
            )
        if o.passed:
            continue
        if not shared:
            lines += [f"      {line}" for line in cut(o.message).splitlines()[:4]]
        lines += [f"      hint: {h}" for h in o.requirement.hints[: 0 if shared else hints]]
        if verbose and o.details.strip() and o.details.strip() != o.message.strip():
            lines += [f"      | {line}" for line in o.details.splitlines()]
    return lines


@contextmanager
def progress_line(what: str):
    """A transient status line on a terminal (which requirement is being checked); else nothing."""
    if not (sys.stdout.isatty() and sys.stderr.isatty()):
        yield None
        return
    from rich.console import Console

    console = Console(stderr=True)
    width = max(console.width - 4, 20)  # one line: the spinner redraws it in place
    with console.status(f"{what}: loading dagster and the grader...") as status:
        yield lambda step: status.update(f"{what}: {step}"[:width])
