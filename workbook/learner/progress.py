"""``workbook progress``: where you are, from the saved results (nothing is re-run).

Every ``workbook check N`` and every re-grade in ``workbook watch`` saves its result in
``.workbook/results.json``; this reads it. Below the grades comes the checklist of each phase's
UI steps, read from your local Dagster's run history (``workbook/learner/checklist.py``).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from workbook.course.phases import PHASES, phase_path
from workbook.course.requirements import Requirement, requirements
from workbook.course.results import load_results


@dataclass
class PhaseProgress:
    phase: int
    file: str
    passed: int
    total: int
    graded: str  # when, or "" if never
    stale: bool  # the file changed after the last grade
    next_up: Requirement | None  # the first requirement that does not pass

    @property
    def done(self) -> bool:
        return self.total > 0 and self.passed == self.total and not self.stale


def progress() -> list[PhaseProgress]:
    saved = load_results().get("exercises", {})
    rows = []
    for phase in PHASES:
        reqs = requirements().get(phase, {})
        result = saved.get(str(phase), {})
        passed_ids = {rid for rid, ok in result.get("requirements", {}).items() if ok}
        path = phase_path(phase, "exercises")
        stale = False
        if result.get("when") and path.exists():
            graded_at = time.mktime(time.strptime(result["when"], "%Y-%m-%d %H:%M:%S"))
            stale = path.stat().st_mtime > graded_at + 1
        rows.append(
            PhaseProgress(
                phase=phase,
                file=path.name,
                passed=len(passed_ids & set(reqs)),
                total=len(reqs),
                graded=result.get("when", ""),
                stale=stale,
                next_up=next((r for rid, r in reqs.items() if rid not in passed_ids), None),
            )
        )
    return rows


def show_ui_steps() -> None:
    from workbook.learner import checklist
    from workbook.platform.paths import shown

    try:
        steps = checklist.checklist()
    except Exception as exc:  # noqa: BLE001 - a checklist never stops `progress`
        print(f"\nUI steps: the run history in {shown(checklist.instance_home())}/ could not be "
              f"read ({type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''})")  # fmt: skip
        return
    done = sum(ok for phase in steps.values() for _, ok in phase)
    total = sum(len(phase) for phase in steps.values())
    print()
    print(f"UI steps: {done}/{total} done (from the run history in "
          f"{shown(checklist.instance_home())}/; a checklist, not graded)")  # fmt: skip
    for phase, phase_steps in steps.items():
        for line in checklist.lines(phase_steps):
            print(f"  {phase}  {line}")


def show() -> int:
    rows = progress()
    width = max(len(r.file) for r in rows)
    print(f"{'Phase':<6} {'File':<{width}}  {'Passed':>7}  Last graded")
    for r in rows:
        if r.total == 0:
            print(f"{r.phase:<6} {r.file:<{width}}  {'-':>7}  (no graded requirements yet)")
            continue
        score = f"{r.passed}/{r.total}" if r.graded else f"-/{r.total}"
        mark = "✓" if r.done else " "
        when = r.graded or "never"
        if r.stale:
            when += " (file changed since)"
        print(f"{r.phase:<6} {r.file:<{width}}  {score:>7} {mark} {when}")
    show_ui_steps()
    current = next((r for r in rows if r.total and not r.done), None)
    print()
    if current is None:
        print(
            "Every phase passes. Well done! Compare with the reference: uv run workbook solution N"
        )
    elif not current.graded or current.stale:
        print(f"Next: grade phase {current.phase}: uv run workbook watch {current.phase}")
    else:
        req = current.next_up
        print(f"Next: phase {current.phase}, {req.title}")
        print(f"      uv run workbook hint {current.phase} {req.id}   (or: uv run workbook watch)")
    return 0
