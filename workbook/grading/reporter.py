"""The pytest plugin behind ``workbook check``: one outcome per graded requirement."""

from __future__ import annotations

import time
from collections.abc import Callable

from workbook.course.explain import cut, explain_exception
from workbook.course.requirements import Requirement, requirement
from workbook.course.results import Outcome

# pytest's own outcome exceptions: a grader's verdict, not an error to explain.
OUTCOMES = ("Failed", "Skipped", "XFailed", "Exit")


class Reporter:
    """A pytest plugin that collects one outcome per requirement."""

    def __init__(self, phase: int, progress: Callable[[str], None] | None = None):
        self.phase = phase
        self.outcomes: dict[str, Outcome] = {}
        self.started = time.monotonic()
        self.progress = progress  # told what is being checked (workbook check on a terminal)
        self.total = 0

    def pytest_collection_finish(self, session) -> None:
        self.total = len(session.items)

    def pytest_runtest_logstart(self, nodeid: str, location) -> None:
        if self.progress:
            done = len(self.outcomes)
            self.progress(f"{done + 1}/{self.total or '?'} {self._requirement(nodeid).title}")

    def _requirement(self, nodeid: str) -> Requirement:
        rid = nodeid.rsplit("::", 1)[-1].removeprefix("test_").split("[")[0]
        return requirement(self.phase, rid)

    def pytest_runtest_logreport(self, report) -> None:
        if report.when == "call" or (report.when == "setup" and not report.passed):
            req = self._requirement(report.nodeid)
            score = dict(report.user_properties).get("score")  # set by the testing requirements
            if report.passed:
                self.outcomes[req.id] = Outcome(req, True, seconds=report.duration, score=score)
            else:
                message = ""
                if hasattr(report.longrepr, "reprcrash") and report.longrepr.reprcrash:
                    message = report.longrepr.reprcrash.message
                else:
                    message = str(report.longrepr).strip().splitlines()[-1]
                message = message.removeprefix("Failed: ").removeprefix("AssertionError: ")
                message = message.split("\nassert ")[0]
                # A grader's message can quote the learner's values: cut, like every message.
                details = cut(str(report.longrepr), width=1000, lines=400)
                self.outcomes[req.id] = Outcome(
                    req, False, cut(message), details, report.duration, score
                )

    def pytest_exception_interact(self, node, call, report) -> None:
        """An exception other than a failed assertion escaped the grader: explain it."""
        exc = call.excinfo.value if call.excinfo else None
        if exc is None or isinstance(exc, AssertionError) or type(exc).__name__ in OUTCOMES:
            return
        req = self._requirement(report.nodeid)
        if req.id in self.outcomes and not self.outcomes[req.id].passed:
            self.outcomes[req.id].message = explain_exception(exc)
