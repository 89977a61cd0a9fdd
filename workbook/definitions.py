"""The code location the UI loads: every phase in one location, each isolated from the others.

Why one location? ``dg dev`` (like ``dagster dev``) starts code locations one after another, so five locations
take several times as long to be ready as one. Why isolated? Learners break their phase files
all the time; a syntax error in Phase 3 must not hide Phases 1, 2, 4 and 5. So each phase is
imported on its own, and a phase that fails to load is replaced by a single ``load_error``
asset in its group, whose description shows the error (and which fails with it if you
materialize it). The terminal running ``dg dev`` logs the same error.

``dg`` (``[tool.dg.project]`` in pyproject.toml) loads this module with no attribute, so it holds
exactly one ``@dg.definitions``: ``defs``. It serves the learner's files, or the reference
solutions with ``WORKBOOK_DEFS=solutions``; ``WORKBOOK_DBT_COMPONENT=1`` adds Phase 4's dbt project
as a ``DbtProjectComponent`` (``workbook/defs/phase4_component/``). ``exercises`` and
``solutions`` are plain functions for ``workspace.yaml`` and ``workspace.solutions.yaml``
(``dagster dev -w ...``, the Compose stack).
"""

from __future__ import annotations

import logging
import os
import traceback
from pathlib import Path

import dagster as dg

from workbook.course.phases import (
    PHASES,
    PhaseLoadError,
    forget_loaded,
    load_phase,
    selected_target,
)
from workbook.platform.bytecode import compile_in_background
from workbook.platform.paths import REPO_ROOT

log = logging.getLogger("workbook")
# A broken phase fails the whole location instead of becoming a load_error asset: for
# `WORKBOOK_STRICT=1 uv run dg check defs` as a gate (exit code 1) before starting the UI.
STRICT_ENV = "WORKBOOK_STRICT"


def _error_defs(group: str, name: str, title: str, error: str) -> dg.Definitions:
    """One asset that shows ``error`` in the UI (and fails with it when materialized)."""

    @dg.asset(
        key=[group, name],
        group_name=group,
        description=f"**{title}**\n\n```\n{error}\n```",
    )
    def error_asset() -> None:
        raise dg.Failure(description=error)

    return dg.Definitions(assets=[error_asset])


def _load_error_defs(phase: int, error: str) -> dg.Definitions:
    title = f"phase{phase} did not load. Fix the file and reload the location."
    return _error_defs(f"phase{phase}", "load_error", title, error)


def _phase_defs(phase: int, target: str, exercises_dir: Path | None) -> dg.Definitions:
    try:
        defs = load_phase(phase, target, exercises_dir).defs
        dg.Definitions.validate_loadable(defs)
        return defs
    except PhaseLoadError as exc:
        error = str(exc)
        log.warning(
            "workbook: %s\n%s", error, "".join(traceback.format_exception(exc.__cause__ or exc))
        )
    except Exception as exc:  # noqa: BLE001 - any learner error becomes a visible load_error
        error = f"{PHASES[phase]}.py: {type(exc).__name__}: {exc}"
        log.warning("workbook: %s\n%s", error, "".join(traceback.format_exception(exc)))
    if os.environ.get(STRICT_ENV, "").strip() == "1":  # e.g. `WORKBOOK_STRICT=1 dg check defs`
        raise PhaseLoadError(error)
    return _load_error_defs(phase, error)


def build(target: str = "exercises", exercises_dir: Path | None = None) -> dg.Definitions:
    """Merge every phase's ``defs``: the learner's files, or the reference ``solutions``."""
    compile_in_background()  # PYTHONDONTWRITEBYTECODE set: the next processes start faster
    database_error = _seed()
    forget_loaded()  # a reload of the location imports the files as they are now
    parts = {phase: _phase_defs(phase, target, exercises_dir) for phase in PHASES}
    if database_error:
        title = "The database is not reachable: every asset will fail until this is fixed."
        parts[0] = _error_defs("workbook", "database_error", title, database_error)
    merged = dg.Definitions.merge(*parts.values())
    try:
        dg.Definitions.validate_loadable(merged)
        return _with_default_executor(merged)
    except Exception:  # noqa: BLE001 - two phases clash (e.g. the same asset key twice)
        pass
    merged = dg.Definitions()
    for phase, defs in parts.items():
        candidate = dg.Definitions.merge(merged, defs)
        try:
            dg.Definitions.validate_loadable(candidate)
        except Exception as exc:  # noqa: BLE001
            error = f"phase{phase} clashes with an earlier phase: {exc}"
            log.warning("workbook: %s", error)
            candidate = dg.Definitions.merge(merged, _load_error_defs(phase, error))
        merged = candidate
    return _with_default_executor(merged)


def _with_default_executor(defs: dg.Definitions) -> dg.Definitions:
    """Runs from the UI execute every step in the run's own process (Phase 3 explains why).

    Dagster's default, the multiprocess executor, starts one more process per step, and each
    loads this whole location again: for the workbook's small steps that cost ten times the work.
    A phase that sets its own ``executor`` keeps it.
    """
    if defs.executor is not None:
        return defs
    return dg.Definitions.merge(defs, dg.Definitions(executor=dg.in_process_executor))


def _seed() -> str:
    """Seed the default dataset on first start; a database problem is shown, not fatal.

    Returns the problem in one line (password masked), or "" when the database is fine.
    """
    from workbook.platform.db import DatabaseError, mask
    from workbook.platform.generate import ensure_seeded

    try:
        ensure_seeded(log=log.warning)
    except DatabaseError as exc:
        log.warning("workbook: the database is not reachable, assets will fail: %s", exc)
        return str(exc)
    except Exception as exc:  # noqa: BLE001 - e.g. a role that may not create the source table
        error = mask(f"{type(exc).__name__}: {exc}".strip().splitlines()[0])
        log.warning("workbook: the database could not be seeded: %s", error)
        return error
    return ""


COMPONENT_ENV = "WORKBOOK_DBT_COMPONENT"


def with_components(merged: dg.Definitions) -> dg.Definitions:
    """``merged`` plus dg's defs folder (``workbook/defs/``: Phase 4 as a DbtProjectComponent,
    keys under ``phase4_component/``), isolated like a phase: if it fails to load, a
    ``phase4_component/load_error`` asset shows why."""
    try:
        candidate = dg.Definitions.merge(
            merged, dg.load_from_defs_folder(path_within_project=REPO_ROOT)
        )
        dg.Definitions.validate_loadable(candidate)
        return candidate
    except Exception as exc:  # noqa: BLE001 - shown as a load_error asset, like a broken phase
        error = f"workbook/defs/phase4_component did not load: {type(exc).__name__}: {exc}"
        log.warning("workbook: %s\n%s", error, "".join(traceback.format_exception(exc)))
        title = "The DbtProjectComponent variant of Phase 4 did not load."
        return dg.Definitions.merge(
            merged, _error_defs("phase4_component", "load_error", title, error)
        )


@dg.definitions
def defs() -> dg.Definitions:
    """The code location of ``dg dev``, ``dg check defs``, ``dg list defs`` and ``dg launch``.

    ``WORKBOOK_DEFS=solutions`` serves the reference solutions instead of your files;
    ``WORKBOOK_DBT_COMPONENT=1`` adds the DbtProjectComponent variant of Phase 4.
    """
    merged = build(selected_target())
    if os.environ.get(COMPONENT_ENV, "").strip() == "1":
        merged = with_components(merged)
    return merged


def exercises() -> dg.Definitions:
    """The learner's phase files (workspace.yaml)."""
    return build("exercises")


def solutions() -> dg.Definitions:
    """The reference solutions (workspace.solutions.yaml, for instructors)."""
    return build("solutions")
