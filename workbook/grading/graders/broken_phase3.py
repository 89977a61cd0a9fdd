"""Broken versions of Phase 3, for grading the learner's tests (see workbook/grading/learner_tests.py).

Each is ``daily_readings`` with one plausible bug in how it picks and replaces its day. (No
``from __future__ import annotations``: Dagster reads the asset's annotations at definition.)
"""

from datetime import timedelta

import dagster as dg

from workbook.grading.learner_tests import Broken
from workbook.platform import db, rules
from workbook.platform.resources import PostgresResource

SUBJECT = ("daily_readings", "daily_readings_batched", "daily_city_aggregates", "replace_readings",
           "ensure_tables", "DAILY", "defs")  # fmt: skip
THRESHOLD = 5  # of the broken versions below

SELECT = """
select station_id, station_name, city, country, observed_at, temperature, temperature_unit,
       humidity_pct, wind_speed_kmh, pressure_hpa, precipitation_mm, condition
from source.weather_readings
"""
WINDOW = "observed_at >= %s and observed_at < %s"
WINDOWS = {
    "inclusive_end": "observed_at >= %s and observed_at <= %s",
    "session_day": "observed_at::date >= %s::date and observed_at::date < %s::date",
}


def reset() -> None:
    """Every run of the learner's tests starts from no phase3 tables (the grader's database)."""
    with db.connect() as conn, conn.cursor() as cur:
        cur.execute("drop schema if exists phase3 cascade")


def daily_readings_asset(ref: dict, bug: str) -> dg.AssetsDefinition:
    @dg.asset(key_prefix="phase3", group_name="phase3", partitions_def=ref["DAILY"],
              name="daily_readings")  # fmt: skip
    def daily_readings(
        context: dg.AssetExecutionContext, postgres: PostgresResource
    ) -> dg.MaterializeResult:
        ref["ensure_tables"](postgres)
        start, end = context.partition_time_window
        if bug == "day_early":
            start -= timedelta(days=1)
        raw = postgres.fetch(f"{SELECT} where {WINDOWS.get(bug, WINDOW)}", (start, end))
        valid, rejected = rules.validate_readings(raw)
        if bug == "appends":
            postgres.replace_rows("phase3", "daily_readings", valid, where="false")
        elif bug == "whole_table":
            postgres.replace_rows("phase3", "daily_readings", valid)
        else:
            postgres.replace_rows("phase3", "daily_readings", valid, where=WINDOW,
                                  params=(start, end))  # fmt: skip
        count = len(raw) if bug == "counts_raw_rows" else len(valid)
        return dg.MaterializeResult(metadata={"row_count": count})

    return daily_readings


def _broken(bug: str, description: str) -> Broken:
    return Broken(description, lambda ref: {"daily_readings": daily_readings_asset(ref, bug)})


BROKEN = [
    _broken("inclusive_end", "a window that also reads the next day's midnight reading"),
    _broken("session_day", "days of the session's time zone instead of UTC days"),
    _broken("appends", "a run that appends instead of replacing its day"),
    _broken("whole_table", "a run that replaces the whole table"),
    _broken("day_early", "a window that starts a day early"),
    _broken("counts_raw_rows", "row_count metadata that counts the rows before validation"),
]
