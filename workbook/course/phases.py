"""The course's phases, where their files are, and the one loader that imports them for grading.

A phase is graded as the learner's file (``exercises``, at the repository root or in an
``--exercises-dir``) or as the reference (``solutions``). Only this loader imports a module of
``solutions/``; nothing else in the workbook does.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path
from types import ModuleType

from workbook.platform.paths import REPO_ROOT, SOLUTIONS, shown

PHASES = {
    1: "phase1_basic_assets",
    2: "phase2_asset_graph",
    3: "phase3_partitions",
    4: "phase4_dbt_assets",
    5: "phase5_automation",
}
TARGETS = ("solutions", "exercises")
# Which target the UI and the `dg` commands serve: `WORKBOOK_DEFS=solutions uv run dg dev`.
DEFS_ENV = "WORKBOOK_DEFS"


class PhaseLoadError(Exception):
    """The module under test does not import. The message says where and why."""


def selected_target() -> str:
    """The target ``WORKBOOK_DEFS`` names: ``exercises`` (the default) or ``solutions``."""
    choice = os.environ.get(DEFS_ENV, "").strip().lower() or "exercises"
    if choice not in TARGETS:
        raise ValueError(f"{DEFS_ENV} must be exercises or solutions, not {choice!r}")
    return choice


def phase_path(phase: int, target: str, exercises_dir: Path | None = None) -> Path:
    name = PHASES[phase] + ".py"
    if target == "solutions":
        return SOLUTIONS / name
    return (exercises_dir or REPO_ROOT) / name


_loaded: dict[Path, ModuleType] = {}


def load_phase(phase: int, target: str, exercises_dir: Path | None = None) -> ModuleType:
    """Import the phase module under test from its file (once per process and path)."""
    path = phase_path(phase, target, exercises_dir).resolve()
    if path in _loaded:
        return _loaded[path]
    name = f"_graded_{target}_{PHASES[phase]}_{len(_loaded)}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or not path.exists():
        raise PhaseLoadError(f"{shown(path)} is missing")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses and pydantic resolve types through sys.modules
    try:
        spec.loader.exec_module(module)  # type: ignore[union-attr]
    except Exception as exc:
        from workbook.course.explain import explain_load_error  # imports dbt's helpers: lazily

        del sys.modules[name]
        raise PhaseLoadError(explain_load_error(exc, path)) from exc
    _loaded[path] = module
    return module


def forget_loaded() -> None:
    """Forget every loaded phase module, so the next ``load_phase`` re-imports from disk.

    The watch worker calls this before each re-grade: the learner's file has changed, while
    dagster, pytest and the workbook stay imported (that is what makes a re-grade fast).
    """
    import linecache

    for path in list(_loaded):
        sys.modules.pop(_loaded.pop(path).__name__, None)
    for name in [n for n in sys.modules if n.startswith("_graded_")]:
        del sys.modules[name]
    linecache.checkcache()  # tracebacks must show the file as it is now


def given(module: ModuleType, name: str):
    """A grader's access to a name the phase file must keep; a clear failure when it is gone."""
    import pytest

    try:
        return getattr(module, name)
    except AttributeError:
        file = Path(module.__file__ or "the phase file").name
        pytest.fail(f"{file} has no {name}: keep the given names", pytrace=False)
