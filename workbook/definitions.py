"""The code location the UI loads: every phase in one location, each isolated from the others.

Why one location? ``dagster dev`` starts code locations one after another, so five locations
take several times as long to be ready as one. Why isolated? Learners break their phase files
all the time; a syntax error in Phase 3 must not hide Phases 1, 2, 4 and 5. So each phase is
imported on its own, and a phase that fails to load is replaced by a single ``load_error``
asset in its group, whose description shows the error (and which fails with it if you
materialize it). The terminal running ``dagster dev`` logs the same error.
"""

from __future__ import annotations

import logging
import traceback
from pathlib import Path

import dagster as dg

from workbook.course.phases import PHASES, PhaseLoadError, forget_loaded, load_phase

log = logging.getLogger("workbook")


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
    return _load_error_defs(phase, error)


def build(target: str = "exercises", exercises_dir: Path | None = None) -> dg.Definitions:
    """Merge every phase's ``defs``: the learner's files, or the reference ``solutions``."""
    database_error = _seed()
    forget_loaded()  # a reload of the location imports the files as they are now
    parts = {phase: _phase_defs(phase, target, exercises_dir) for phase in PHASES}
    if database_error:
        title = "The database is not reachable: every asset will fail until this is fixed."
        parts[0] = _error_defs("workbook", "database_error", title, database_error)
    merged = dg.Definitions.merge(*parts.values())
    try:
        dg.Definitions.validate_loadable(merged)
        return merged
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
    return merged


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


@dg.definitions
def exercises() -> dg.Definitions:
    """The learner's phase files (workspace.yaml)."""
    return build("exercises")


@dg.definitions
def solutions() -> dg.Definitions:
    """The reference solutions (workspace.solutions.yaml, for instructors)."""
    return build("solutions")
