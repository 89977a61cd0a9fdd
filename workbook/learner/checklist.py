"""The UI-steps checklist: which of the lesson's UI steps the learner's own Dagster did.

``uv run dagster dev`` from the repository root keeps its run history where the root
``dagster.yaml`` says (``.dagster_home/``), or in ``$DAGSTER_HOME`` when that is set. This reads
the successful runs there with Dagster's own instance API (each run's asset selection, its
partition and backfill tags, the sensor or automation that launched it) and marks each step of
``workbook/course/ui_steps.py`` done or not. It only reads: an instance that does not exist yet
is an empty checklist, and nothing is created. Not graded; nothing else depends on it.
"""

from __future__ import annotations

import os
from collections import defaultdict
from datetime import date
from pathlib import Path

from workbook.course.ui_steps import UiStep, ui_steps
from workbook.platform.paths import DAGSTER_HOME

MAX_RUNS = 2000  # the newest runs are enough to tell what a learner did


def instance_home() -> Path:
    """Where the UI's records are: $DAGSTER_HOME, else the repository's .dagster_home/."""
    return Path(os.environ["DAGSTER_HOME"]) if os.environ.get("DAGSTER_HOME") else DAGSTER_HOME


def open_instance(home: Path):
    """A DagsterInstance on ``home``, laid out as the root dagster.yaml lays out .dagster_home/
    (SQLite storage in ``home/storage``), or as ``home/dagster.yaml`` says when there is one."""
    from dagster import DagsterInstance
    from dagster._core.instance.ref import InstanceRef

    if (home / "dagster.yaml").exists():
        return DagsterInstance.from_ref(InstanceRef.from_dir(str(home)))
    layout = {
        "storage": {"sqlite": {"base_dir": str(home / "storage")}},
        "local_artifact_storage": {
            "module": "dagster._core.storage.root",
            "class": "LocalArtifactStorage",
            "config": {"base_dir": str(home)},
        },
        "telemetry": {"enabled": False},
    }
    return DagsterInstance.from_ref(InstanceRef.from_dir(str(home), overrides=layout))


def _has_records(home: Path) -> bool:
    return any((home / "storage").glob("**/*.db")) or (home / "dagster.yaml").exists()


def _days(tags: dict[str, str]) -> set[str]:
    """The daily partitions a run covered: its partition, or its single-run range."""
    if "dagster/partition" in tags:
        return {tags["dagster/partition"]}
    start = tags.get("dagster/asset_partition_range_start")
    end = tags.get("dagster/asset_partition_range_end")
    if not (start and end):
        return set()
    try:
        first, last = date.fromisoformat(start[:10]), date.fromisoformat(end[:10])
    except ValueError:
        return {start, end}
    return {date.fromordinal(d).isoformat() for d in range(first.toordinal(), last.toordinal() + 1)}


def _assets(instance, run) -> set[str]:
    """The asset keys a run materialized (its selection, or its events for a job's run)."""
    if run.asset_selection:
        return {"/".join(k.path) for k in run.asset_selection}
    from dagster import DagsterEventType

    records = instance.get_records_for_run(
        run.run_id, of_type=DagsterEventType.ASSET_MATERIALIZATION
    ).records
    return {"/".join(r.event_log_entry.dagster_event.asset_key.path) for r in records}


def _matches(step: UiStep, assets: set[str], tags: dict[str, str]) -> bool:
    if not step.assets <= assets or (step.only and assets != step.assets):
        return False
    return not step.tags or any(
        t in tags and (v is None or tags[t] == v) for t, v in step.tags
    )  # fmt: skip


def done_steps(instance, steps: list[UiStep] | None = None) -> set[tuple[int, str]]:
    """(phase, step id) of every step that a successful run in ``instance`` did."""
    from dagster import DagsterRunStatus, RunsFilter

    steps = ui_steps() if steps is None else steps
    runs = instance.get_runs(RunsFilter(statuses=[DagsterRunStatus.SUCCESS]), limit=MAX_RUNS)
    done: set[tuple[int, str]] = set()
    backfills: dict[tuple[str, str], set[str]] = defaultdict(set)  # (step, backfill) -> days
    for run in runs:
        tags = dict(run.tags)
        assets = _assets(instance, run)
        for step in steps:
            if (step.phase, step.id) in done or not _matches(step, assets, tags):
                continue
            days = _days(tags)
            if step.backfill:
                group = tags.get("dagster/backfill") or (run.run_id if len(days) > 1 else "")
                if group:
                    backfills[(step.id, group)] |= days
                    if len(backfills[(step.id, group)]) >= step.days:
                        done.add((step.phase, step.id))
            elif len(days) >= step.days:
                done.add((step.phase, step.id))
    return done


def checklist(home: Path | None = None) -> dict[int, list[tuple[UiStep, bool]]]:
    """Every phase's UI steps with done or not, from the instance at ``home``."""
    home = instance_home() if home is None else home
    done: set[tuple[int, str]] = set()
    if _has_records(home):
        with open_instance(home) as instance:
            done = done_steps(instance)
    out: dict[int, list[tuple[UiStep, bool]]] = defaultdict(list)
    for step in ui_steps():
        out[step.phase].append((step, (step.phase, step.id) in done))
    return dict(out)


def lines(steps: list[tuple[UiStep, bool]]) -> list[str]:
    """'[x] materialize ...' per step, for progress and watch."""
    return [f"[{'x' if ok else ' '}] {step.title}" for step, ok in steps]
