"""Grade the learner's own tests by mutation: do they pass on the reference, and catch bugs?

Every phase file ends with a testing TODO: ``test_...`` functions the learner writes. The grader

1. takes those functions from the learner's module and runs them, in this process, against the
   *reference* implementation: the names the phase gives (``subject``) are taken from the
   solution module; every other name (the learner's helpers, sample rows) stays the learner's.
   There they must pass, each within ``SLOW_S`` seconds, each must assert something, and, where
   the phase's idiom needs no database, none may connect to one;
2. runs them again against each *broken version*: the reference with a few names swapped for
   wrong implementations (``broken_phaseN.py`` beside the graders). A broken version is caught
   when at least one test fails on it.

The score is the share of broken versions caught; the requirement passes at ``threshold``.
Calling the functions directly, instead of starting pytest again, keeps the whole grade within
a second or two: nothing is imported twice.
"""

from __future__ import annotations

import ast
import inspect
import signal
import tempfile
import textwrap
import threading
import time
import traceback
import types
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg2
import pytest

from workbook.grading.warmup import cache_migration_scripts
from workbook.platform import db

# What a failing test raises besides Exception: pytest.fail() and pytest.skip() in a test.
FAILED = (Exception, pytest.fail.Exception, pytest.skip.Exception)
SLOW_S = 5.0  # "a few seconds": a unit test that takes longer is testing the wrong thing
FIXTURES = ("tmp_path", "monkeypatch")  # the pytest fixtures a learner's test may ask for


@dataclass(frozen=True)
class Broken:
    """A wrong implementation: names of the phase module swapped for wrong objects."""

    description: str  # completes "not caught: ...", e.g. "a version that keeps the last duplicate"
    swap: Callable[[dict[str, Any]], dict[str, Any]]  # the reference's names -> the wrong ones


@dataclass
class Score:
    """The mutation score of the learner's tests; ``problem`` is why they could not be scored."""

    caught: list[str] = field(default_factory=list)
    missed: list[str] = field(default_factory=list)
    problem: str = ""

    @property
    def total(self) -> int:
        return len(self.caught) + len(self.missed)

    def as_dict(self) -> dict:
        return {"caught": len(self.caught), "total": self.total, "not_caught": self.missed}


class DatabaseUsed(RuntimeError):
    pass


class TooSlow(BaseException):  # noqa: N818 - not an Exception, so a test's `except` cannot hide it
    """Raised inside a learner's test that runs past ``SLOW_S``: a hanging test ends, too."""


@contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """Interrupt the block after ``seconds`` (SIGALRM; only in the main thread, where grading
    runs). Python code is interrupted at once; a call blocked inside C ends when it returns."""
    if threading.current_thread() is not threading.main_thread() or not hasattr(
        signal, "setitimer"
    ):
        yield
        return

    def stop(signum, frame):
        raise TooSlow

    previous = signal.signal(signal.SIGALRM, stop)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def learner_tests(module: types.ModuleType) -> list[types.FunctionType]:
    """The ``test_*`` functions the phase file itself defines, in file order."""
    found = [
        f for name, f in vars(module).items()
        if name.startswith("test_") and inspect.isfunction(f) and f.__module__ == module.__name__
    ]  # fmt: skip
    return sorted(found, key=lambda f: f.__code__.co_firstlineno)


def asserts_something(fn: types.FunctionType, module: types.ModuleType) -> bool:
    """An ``assert`` or ``pytest.raises`` in the test, or in a helper of the module it calls."""

    def checks(f) -> tuple[bool, set[str]]:
        try:
            tree = ast.parse(textwrap.dedent(inspect.getsource(f)))
        except (OSError, TypeError, SyntaxError):
            return False, set()
        nodes = list(ast.walk(tree))
        found = any(
            isinstance(n, ast.Assert)
            or (isinstance(n, ast.Attribute) and n.attr in ("raises", "fail"))
            for n in nodes
        )
        return found, {n.id for n in nodes if isinstance(n, ast.Name)}

    found, names = checks(fn)
    helpers = [
        getattr(module, n) for n in names
        if inspect.isfunction(getattr(module, n, None))
        and getattr(module, n).__module__ == module.__name__
    ]  # fmt: skip
    return found or any(checks(h)[0] for h in helpers)


def namespace(learner: types.ModuleType, names: dict[str, Any]) -> dict[str, Any]:
    """The learner's module namespace with ``names`` swapped in, and its functions rebound to it.

    Rebinding the learner's functions (tests and helpers) makes every global they read come from
    the new namespace: a test that calls ``cleaned_weather_data`` calls the swapped-in one.
    """
    ns = dict(vars(learner))
    ns.update(names)
    for name, value in vars(learner).items():
        if name not in names and inspect.isfunction(value) and value.__module__ == learner.__name__:
            fn = types.FunctionType(
                value.__code__, ns, value.__name__, value.__defaults__, value.__closure__
            )
            fn.__kwdefaults__ = value.__kwdefaults__
            ns[name] = fn
    return ns


@contextmanager
def database_guard(allowed: bool) -> Iterator[list[str]]:
    """Make every connection attempt fail (and be recorded) unless the phase's idiom allows it."""
    touched: list[str] = []
    if allowed:
        yield touched
        return

    def refuse(*args, **kwargs):
        touched.append("connect")
        raise DatabaseUsed("this test connected to the database")

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(db, "connect", refuse)
        mp.setattr(psycopg2, "connect", refuse)
        yield touched


@contextmanager
def reused_connections() -> Iterator[None]:
    """Let ``db.connect`` reuse idle connections while the learner's tests run.

    A Phase 3 grade opens about 90 connections (every resource call opens one), 5 ms each, a
    quarter of its time. Each use is still its own transaction, and a returned connection is
    reset to the session defaults (``RESET ALL``), so no setting leaks from one use to the next;
    a connection that saw an error is closed, not reused.
    """
    idle: dict[str, list] = {}

    @contextmanager
    def connect(url: str | None = None):
        key = url or db.database_url()
        conn = idle[key].pop() if idle.get(key) else db.open_connection(key)
        try:
            with conn:  # commits, or rolls back on error, as db.connect does
                yield conn
            conn.reset()
        except BaseException:
            conn.close()
            raise
        idle.setdefault(key, []).append(conn)

    try:
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(db, "connect", connect)
            yield
    finally:
        for conns in idle.values():
            for conn in conns:
                conn.close()


@contextmanager
def one_implicit_instance() -> Iterator[None]:
    """Let every ``materialize``/``build_asset_context`` called without an ``instance`` share one.

    Each would otherwise create (and migrate) in-memory storages of its own. An instance the
    test creates itself (``dg.DagsterInstance.ephemeral()``) stays its own. This patches
    Dagster's internal helper where it is used; if it moves, grading is only slower.
    """
    import dagster as dg
    from dagster._core.execution import api, execute_in_process

    with dg.DagsterInstance.ephemeral() as shared, pytest.MonkeyPatch.context() as mp:
        original = api.ephemeral_instance_if_missing

        @contextmanager
        def if_missing(instance=None):
            yield instance or shared

        for module in (api, execute_in_process):
            if getattr(module, "ephemeral_instance_if_missing", None) is original:
                mp.setattr(module, "ephemeral_instance_if_missing", if_missing)
        yield


def call(fn: types.FunctionType) -> None:
    """Call one test with the fixtures it asks for (fresh ones for every call)."""
    params = list(inspect.signature(fn).parameters)
    unknown = [p for p in params if p not in FIXTURES]
    if unknown:
        raise TypeError(
            f"{fn.__name__} asks for {', '.join(unknown)}; "
            f"a test here may only take {' and '.join(FIXTURES)}"
        )
    with ExitStack() as stack:
        given = {}
        if "tmp_path" in params:
            given["tmp_path"] = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        if "monkeypatch" in params:
            given["monkeypatch"] = stack.enter_context(pytest.MonkeyPatch.context())
        fn(**given)


def first_line(exc: BaseException, file: str) -> str:
    """The error in one line, with the line of the learner's file where it happened."""
    text = str(exc).strip().splitlines()
    what = f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__
    if text and not isinstance(exc, AssertionError):
        return what
    mine = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename == file]
    return f"{what} (line {mine[-1].lineno}: {mine[-1].line})" if mine else what


def score(
    learner: types.ModuleType,
    reference: types.ModuleType,
    subject: tuple[str, ...],
    broken: list[Broken],
    database: bool = False,
    todo: str = "the testing TODO",
    reset: Callable[[], None] = lambda: None,
) -> Score:
    """Run the learner's tests against the reference, then against every broken version.

    ``reset`` runs before each round (the reference's, then each broken version's): a phase
    whose tests use the database starts each round from the same tables.
    """
    file = Path(learner.__file__ or "the phase file").name
    tests = learner_tests(learner)
    if not tests:
        return Score(problem=f"{file} has no test_ function yet: {todo}")
    cache_migration_scripts()  # every materialize would re-read alembic's scripts (warmup.py)
    with one_implicit_instance(), reused_connections():
        return _score(tests, learner, reference, subject, broken, database, todo, reset)


def _score(tests, learner, reference, subject, broken, database, todo, reset) -> Score:
    given = {name: getattr(reference, name) for name in subject}
    ns = namespace(learner, given)
    reset()
    for fn in tests:
        test = ns[fn.__name__]
        started = time.monotonic()
        with database_guard(database) as touched:
            try:
                with time_limit(SLOW_S):
                    call(test)
            except TooSlow:
                return Score(problem=f"{fn.__name__} was stopped after {SLOW_S:g} s: test a "
                                     "handful of rows, and make sure nothing waits forever")  # fmt: skip
            except FAILED as exc:
                if touched:
                    return Score(problem=f"{fn.__name__} connects to the database: {todo} needs "
                                         "none; hand the asset a resource that serves rows")  # fmt: skip
                return Score(problem=f"{fn.__name__} fails on the reference implementation: "
                                     f"{first_line(exc, learner.__file__)}")  # fmt: skip
        took = time.monotonic() - started
        if took > SLOW_S:
            return Score(problem=f"{fn.__name__} took {took:.1f} s (more than {SLOW_S:g} s): "
                                 "test a handful of rows, not the whole dataset")  # fmt: skip
    mute = [f.__name__ for f in tests if not asserts_something(f, learner)]
    if mute:
        verb = "asserts" if len(mute) == 1 else "assert"
        return Score(problem=f"{', '.join(mute)} {verb} nothing: a test must check a result")
    result = Score()
    for b in broken:
        ns = namespace(learner, {**given, **b.swap(dict(given))})
        reset()
        caught = False
        for fn in tests:
            with database_guard(database):
                try:
                    with time_limit(SLOW_S):
                        call(ns[fn.__name__])
                except (TooSlow, *FAILED):  # a failing (or hanging) test is a caught bug
                    caught = True
                    break
        (result.caught if caught else result.missed).append(b.description)
    return result


def verdict(s: Score, threshold: int) -> str:
    """'' when the score reaches ``threshold`` broken versions caught, else what to fix."""
    if s.problem:
        return s.problem
    if len(s.caught) >= threshold:
        return ""
    missed = "; ".join(s.missed)
    return (
        f"your tests caught {len(s.caught)} of {s.total} broken versions (at least {threshold} "
        f"needed); not caught: {missed}"
    )


def grade(
    learner: types.ModuleType,
    phase: int,
    broken: types.ModuleType,
    todo: str,
    record_property: Callable[[str, object], None],
    database: bool = False,
) -> None:
    """The testing requirement of a phase: fails with what to fix, records the score."""
    from workbook.course.phases import load_phase

    reference = load_phase(phase, "solutions")
    s = score(learner, reference, broken.SUBJECT, broken.BROKEN, database, todo,
              getattr(broken, "reset", lambda: None))  # fmt: skip
    report(s, broken.THRESHOLD, record_property)


def report(s: Score, threshold: int, record_property: Callable[[str, object], None]) -> None:
    """Record the score for the reports; fail the requirement below ``threshold``."""
    if not s.problem:
        record_property("score", s.as_dict())
    problem = verdict(s, threshold)
    if problem:
        pytest.fail(problem, pytrace=False)
