"""``workbook watch [N]``: re-grade a phase on every save, with ✓/✗ per requirement.

Why a worker? A cold ``workbook check`` spends most of its time importing dagster and pytest and
warming them up. The watcher starts one *worker* process that pays that once, then grades on
request: before each grade it forgets the learner's module (``forget_loaded``), so the
phase file is imported fresh while dagster, pytest and the graders stay warm. If the worker dies
(a learner's ``os._exit``, a crash), the watcher starts a new one.

Keys (in a terminal): ``h`` next hint for the requirement in focus, ``n`` focus the next failing
requirement, ``r`` re-grade now, ``q`` quit. Without a terminal (CI, an editor's task runner) it
prints the full result after every change and reads no keys.

Without N it follows you: it starts at the first phase that does not pass (from saved results),
moves on when a phase passes, and switches when you save another phase's file.
"""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from workbook.course.markers import DBT_PHASE
from workbook.course.phases import PHASES, forget_loaded
from workbook.course.requirements import requirement, requirements
from workbook.course.results import Outcome, load_results, save_results
from workbook.grading.render import label, matching_hints, render_outcomes, shared_cause
from workbook.learner.keys import Keys, interactive_terminal
from workbook.platform.paths import REPO_ROOT, WATCH_LOG

DEBOUNCE_MS = 200  # editors write a file in several steps; wait for the last one
WATCHED_DBT = (".sql", ".yml", ".yaml", ".csv", ".md")
DBT_GENERATED = {"target", "logs", "dbt_packages"}


# --- the worker: a warm process that grades on request ----------------------------------------


def serve() -> None:
    """Worker main loop: one JSON request per stdin line, one JSON answer per stdout line."""
    answers = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)  # anything else that prints (learner code, dagster) goes to the log, not to us
    import dagster  # noqa: F401 - the import floor, paid once per worker
    import pytest  # noqa: F401

    from workbook.grading.runner import run
    from workbook.grading.warmup import warm_up

    warm_up()  # Dagster's first-run costs, before the learner's first save

    answers.write(json.dumps({"ready": True}) + "\n")
    for line in sys.stdin:
        request = json.loads(line)
        if "ui_steps" in request:
            answers.write(json.dumps(_ui_steps(request["ui_steps"])) + "\n")
            continue
        forget_loaded()  # the learner's file changed: import it again
        requirements.cache_clear()
        started = time.monotonic()
        try:
            outcomes = run(
                request["phase"],
                "exercises",
                exercises_dir=Path(request["dir"]) if request.get("dir") else None,
            )
            answer = {"outcomes": [_to_json(o) for o in outcomes]}
        except BaseException as exc:  # noqa: BLE001 - the watcher shows it and goes on
            answer = {"error": f"the grader could not run: {type(exc).__name__}: {exc}"}
        answer["seconds"] = round(time.monotonic() - started, 3)
        answers.write(json.dumps(answer) + "\n")


def _ui_steps(phase: int) -> dict:
    """The phase's UI steps, [title, done] each, from the learner's Dagster run history."""
    from workbook.learner import checklist

    try:
        return {"ui_steps": [[s.title, ok] for s, ok in checklist.checklist().get(phase, [])]}
    except Exception as exc:  # noqa: BLE001 - a checklist must never stop the grading
        return {"ui_steps": [], "error": f"{type(exc).__name__}: {exc}"}


def _to_json(o: Outcome) -> dict:
    return {"id": o.requirement.id, "passed": o.passed, "message": o.message,
            "details": o.details, "seconds": o.seconds}  # fmt: skip


def _from_json(phase: int, data: dict) -> Outcome:
    req = requirement(phase, data["id"])
    return Outcome(req, data["passed"], data["message"], data["details"], data["seconds"])


class Worker:
    """The watcher's handle on the worker process."""

    def __init__(self, log: Path):
        self.log = log
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log, "a") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "workbook.learner.watch", "--worker"],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log,
                text=True, bufsize=1, cwd=REPO_ROOT,
            )  # fmt: skip
        ready = self.proc.stdout.readline()
        if not ready.startswith("{"):
            raise RuntimeError(f"the grading worker did not start; see {self.log}")

    def grade(self, phase: int, exercises_dir: Path | None) -> dict:
        """Grade one phase; restarts a dead worker once."""
        return self.ask({"phase": phase, "dir": str(exercises_dir) if exercises_dir else None})

    def ui_steps(self, phase: int) -> list[tuple[str, bool]]:
        """The phase's UI steps and whether the learner's Dagster did each."""
        return [(title, ok) for title, ok in self.ask({"ui_steps": phase}).get("ui_steps", [])]

    def ask(self, request: dict) -> dict:
        for attempt in (1, 2):
            if self.proc is None or self.proc.poll() is not None:
                self.start()
            try:
                self.proc.stdin.write(json.dumps(request) + "\n")
                self.proc.stdin.flush()
                answer = self.proc.stdout.readline()
            except (BrokenPipeError, OSError):
                answer = ""
            if answer:
                return json.loads(answer)
            self.proc.wait()
            if attempt == 2:
                break
        return {"error": f"the grading worker stopped (exit code {self.proc.returncode}); "
                         f"see {self.log}", "seconds": 0}  # fmt: skip

    def close(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.stdin.close()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


# --- watching files ----------------------------------------------------------------------------


def _watch_thread(path: Path, recursive: bool, wanted, changes: queue.Queue, stop) -> None:
    import watchfiles

    for batch in watchfiles.watch(
        path,
        watch_filter=lambda _change, p: wanted(Path(p)),
        debounce=DEBOUNCE_MS,
        step=50,
        stop_event=stop,
        recursive=recursive,
        raise_interrupt=False,
    ):
        changes.put({Path(p) for _, p in batch})


def start_watching(exercises_dir: Path, changes: queue.Queue, stop) -> list[threading.Thread]:
    """Watch the phase files (not recursively: the repo holds .venv and .pgdata) and dbt_project/
    (recursively, without the files dbt itself writes)."""
    phase_files = {name + ".py" for name in PHASES.values()}
    jobs = [(exercises_dir, False, lambda p: p.name in phase_files)]
    dbt = exercises_dir / "dbt_project"
    if dbt.is_dir():
        jobs.append(
            (dbt, True, lambda p: p.suffix in WATCHED_DBT
             and not DBT_GENERATED & set(p.relative_to(dbt).parts))
        )  # fmt: skip
    threads = [
        threading.Thread(target=_watch_thread, args=(*job, changes, stop), daemon=True)
        for job in jobs
    ]
    for t in threads:
        t.start()
    return threads


# --- the screen ------------------------------------------------------------------------------


@dataclass
class State:
    phase: int
    follow: bool  # no N given: move on to the next phase when this one passes
    outcomes: list[Outcome] = field(default_factory=list)
    error: str = ""
    seconds: float = 0.0
    focus: str | None = None
    hint_level: dict[str, int] = field(default_factory=dict)
    ui_steps: list[tuple[str, bool]] = field(default_factory=list)  # not graded: a checklist
    verbose: bool = False

    @property
    def failing(self) -> list[Outcome]:
        return [o for o in self.outcomes if not o.passed]


def render(state: State, interactive: bool) -> str:
    name = PHASES[state.phase] + ".py"
    lines = [f"Phase {state.phase} ({name})  graded in {state.seconds:.1f} s  "
             f"{time.strftime('%H:%M:%S')}"]  # fmt: skip
    if state.error:
        lines.append(f"  {state.error}")
    if interactive:
        for o in state.outcomes:
            pointer = "›" if o.requirement.id == state.focus else " "
            lines.append(f"{pointer} {label(o)}")
        focused = next((o for o in state.failing if o.requirement.id == state.focus), None)
        if focused:
            lines.append("")
            lines.append(f"  {focused.requirement.title}:")
            lines += [f"    {line}" for line in focused.message.splitlines()[:8]]
            shared = shared_cause(state.outcomes)
            lines += [f"    {line}" for line in matching_hints(state.outcomes, shared)]
            level = state.hint_level.get(focused.requirement.id, 0)
            for n, hint in enumerate(focused.requirement.hints[:level], 1):
                lines.append(f"    hint {n}: {hint}")
    else:
        lines += render_outcomes(state.outcomes, hints=1, verbose=state.verbose)[1:]
    passed = sum(o.passed for o in state.outcomes)
    lines.append(f"  {passed}/{len(state.outcomes)} requirements pass.")
    if state.ui_steps:
        done = sum(ok for _, ok in state.ui_steps)
        lines.append(f"  In the UI ({done}/{len(state.ui_steps)}, not graded; "
                     "`uv run dagster dev`):")  # fmt: skip
        lines += [f"    [{'x' if ok else ' '}] {title}" for title, ok in state.ui_steps]
    if interactive:
        focused_id = state.focus or ""
        level = state.hint_level.get(focused_id, 0)
        reqs = requirements().get(state.phase, {})
        total = len(reqs[focused_id].hints) if focused_id in reqs else 0
        keys = ["n next failing", "r re-grade", "q quit"]
        if state.failing:
            keys.insert(0, f"h hint ({min(level + 1, total)}/{total})" if total else "h hint")
        lines.append("  keys: " + " · ".join(keys) + "   (save the file to re-grade)")
    elif not state.failing and state.outcomes:
        lines.append(f"  Phase {state.phase} passes. `uv run workbook solution {state.phase}` "
                     "compares your file with the reference.")  # fmt: skip
    return "\n".join(lines)


def _first_open_phase(start: int = 1) -> int:
    """The first phase from ``start`` on that does not pass in the saved results."""
    saved = load_results().get("exercises", {})
    for phase in [p for p in PHASES if p >= start]:
        reqs = requirements().get(phase, {})
        done = saved.get(str(phase), {}).get("requirements", {})
        if not reqs or not all(done.get(r) for r in reqs):
            return phase
    return start


# --- the loop --------------------------------------------------------------------------------


def watch(
    phase: int | None,
    exercises_dir: Path | None = None,
    verbose: bool = False,
    max_runs: int | None = None,
) -> int:
    interactive = interactive_terminal() and max_runs is None
    state = State(phase or _first_open_phase(), follow=phase is None, verbose=verbose)
    where = exercises_dir or REPO_ROOT
    print(f"Watching {PHASES[state.phase]}.py (and dbt_project/). Starting the grader "
          "(dagster is imported once)...", flush=True)  # fmt: skip
    worker = Worker(WATCH_LOG)
    changes: queue.Queue = queue.Queue()
    stop = threading.Event()
    threads = start_watching(where, changes, stop)
    runs = 0
    terminal = Keys() if interactive else None
    try:
        pending = True
        while True:
            if pending:
                _grade(worker, state, exercises_dir, interactive)
                runs += 1
                _show(state, interactive)
                if interactive:  # the checklist after the grade: the grade is what you wait for
                    steps = worker.ui_steps(state.phase)
                    if steps != state.ui_steps:
                        state.ui_steps = steps
                        _show(state, interactive)
                pending = False
                if state.follow and state.outcomes and not state.failing:
                    nxt = _first_open_phase(state.phase + 1)
                    if nxt != state.phase and requirements().get(nxt):
                        print(f"\nPhase {state.phase} passes. On to phase {nxt}.", flush=True)
                        state.phase, state.focus = nxt, None
                        pending = True
                        continue
                if max_runs is not None and runs >= max_runs:
                    return 0 if not state.failing else 1
            key = terminal.read(0.1) if terminal else None
            if key == "q":
                return 0 if not state.failing else 1
            if key == "r":
                pending = True
            elif key in ("h", "n") and state.failing:
                _on_key(state, key)
                _show(state, interactive)
            try:
                changed = changes.get(timeout=0 if terminal else 1)
            except queue.Empty:
                continue
            pending = _relevant(state, changed) or pending
    except KeyboardInterrupt:
        return 130
    finally:
        if terminal:
            terminal.restore()
        stop.set()
        worker.close()
        for t in threads:
            t.join(timeout=2)


def _relevant(state: State, changed: set[Path]) -> bool:
    """Whether a batch of saved files changes the phase being graded (following the learner to
    another phase in follow mode: a phase file to its phase, dbt_project/ to Phase 4)."""
    names = {p.name for p in changed}
    if PHASES[state.phase] + ".py" in names:
        return True
    if any(p.suffix != ".py" for p in changed):  # dbt_project/: Phase 4's SQL
        if state.phase == DBT_PHASE:
            return True
        if state.follow:
            state.phase, state.focus = DBT_PHASE, None
            return True
    if state.follow:  # the learner saved another phase's file: follow them there
        for phase, module in PHASES.items():
            if module + ".py" in names and requirements().get(phase):
                state.phase, state.focus = phase, None
                return True
    return False


def _grade(worker: Worker, state: State, exercises_dir: Path | None, interactive: bool) -> None:
    answer = worker.grade(state.phase, exercises_dir)
    if not interactive:  # printed once per grade, so with the checklist in it
        state.ui_steps = worker.ui_steps(state.phase)
    state.error = answer.get("error", "")
    state.seconds = answer.get("seconds", 0.0)
    state.outcomes = [_from_json(state.phase, o) for o in answer.get("outcomes", [])]
    if state.outcomes and exercises_dir is None:
        save_results(state.phase, "exercises", state.outcomes)
    failing = [o.requirement.id for o in state.failing]
    if state.focus not in failing:
        state.focus = failing[0] if failing else None


def _on_key(state: State, key: str) -> None:
    failing = [o.requirement.id for o in state.failing]
    if key == "n":
        i = failing.index(state.focus) if state.focus in failing else -1
        state.focus = failing[(i + 1) % len(failing)]
    elif key == "h" and state.focus:
        total = len(requirements().get(state.phase, {}).get(state.focus, ()).hints or ())
        state.hint_level[state.focus] = min(state.hint_level.get(state.focus, 0) + 1, total)


def _show(state: State, interactive: bool) -> None:
    if interactive:
        sys.stdout.write("\x1b[2J\x1b[H")  # clear the screen, like rustlings
    else:
        print("-" * 72)
    print(render(state, interactive), flush=True)


if __name__ == "__main__":
    if sys.argv[1:] == ["--worker"]:
        serve()
