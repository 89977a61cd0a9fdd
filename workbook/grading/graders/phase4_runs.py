"""Phase 4's graded run: the days it covers, the chain it materializes, and why a step failed.

The run covers partitions 2024-01-14..15 in one run, as a backfill does (@dbt_assets backfills
in a single run by default); the landing table already holds the day before and the day after.
"""

from __future__ import annotations

import json
from datetime import date, timedelta

import dagster as dg
from dagster_dbt import DbtCliResource, dbt_assets

from workbook.course.explain import explain_failure
from workbook.platform import db
from workbook.platform import dbt as wdbt
from workbook.platform.resources import RESOURCES

PARTITION = "2024-01-14"
DAY = date(2024, 1, 14)
LAST = DAY + timedelta(days=1)  # the run covers DAY and LAST
RANGE = f"{PARTITION}..{LAST}"
NEIGHBOURS = (DAY - timedelta(days=1), LAST + timedelta(days=1))


def reset_tables() -> None:
    """A clean phase4 schema whose landing table already holds the two neighbouring days."""
    with db.connect() as conn, conn.cursor() as cur:
        cur.execute("drop schema if exists phase4 cascade")  # no stale table can pass
        cur.execute("create schema phase4")
        cur.execute(
            "create table phase4.raw_weather_readings as select * from source.weather_readings"
            " where (observed_at at time zone 'UTC')::date = any(%s)",
            (list(NEIGHBOURS),),
        )


def dbt_ran(run, step: str) -> bool:
    """Did the step fail inside dbt (True), or before dbt ran (False)?"""
    for event in run.all_events:
        if event.is_step_failure and step in (event.step_key or ""):
            err = event.step_failure_data.error
            while err is not None:
                if err.cls_name.startswith("DagsterDbt"):
                    return True
                err = err.cause
    return False


def graders_dbt_assets(phase):
    """A minimal @dbt_assets body (the solution of TODO 1), to grade the SQL on its own."""

    @dbt_assets(
        manifest=phase.DBT_PROJECT.manifest_path,
        project=phase.DBT_PROJECT,
        dagster_dbt_translator=phase.WorkbookTranslator(),
        partitions_def=phase.DAILY,
        name="graders_dbt_models",
    )
    def graders_dbt_models(context, dbt: DbtCliResource):
        window = context.partition_time_window
        dbt_vars = {"min_date": window.start.isoformat(), "max_date": window.end.isoformat()}
        yield from dbt.cli(["build", "--vars", json.dumps(dbt_vars)], context=context).stream()

    return graders_dbt_models


def materialize(phase, dbt_assets_def):
    return dg.materialize(
        [phase.raw_weather_readings, dbt_assets_def, phase.weather_alerts],
        resources={**RESOURCES, "dbt": phase.defs.resources["dbt"]},
        tags={
            "dagster/asset_partition_range_start": PARTITION,
            "dagster/asset_partition_range_end": LAST.isoformat(),
        },
        raise_on_error=False,
    )


def why(run, project_dir, step: str) -> str:
    """The failure of ``step`` in words: dbt errors name the model, file and line."""
    for event in run.all_events:
        if event.is_step_failure and step in (event.step_key or ""):
            err = event.step_failure_data.error
            text = ""
            while err is not None:
                text += "\n" + err.message
                err = err.cause
            explained = wdbt.explain(text, project_dir)
            if explained:
                return explained
    return explain_failure(run, step)


def materialized(run, key: dg.AssetKey) -> bool:
    return any(e.asset_key == key for e in run.get_asset_materialization_events())
