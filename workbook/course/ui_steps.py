"""The UI steps of each phase: what the lesson asks you to do in the Dagster UI.

They are a checklist, not graded requirements: ``workbook progress`` and ``workbook watch`` mark
a step done when the learner's local Dagster instance (``.dagster_home/``, the UI's run history)
holds a successful run that did it (``workbook/learner/checklist.py`` reads it). Classroom
reports and CI never depend on them.

A step is done by one successful run that materialized at least ``assets`` (exactly them, with
``only``), and, when set, covered at least ``days`` daily partitions (a backfill's runs together,
or one single-run backfill), or carries one of ``tags`` (e.g. a run launched by a sensor or by
declarative automation).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class UiStep:
    phase: int
    id: str
    title: str
    assets: frozenset[str] = frozenset()  # asset keys as "phase1/raw_weather_data"
    only: bool = False  # the run materialized exactly ``assets``, nothing else
    days: int = 0  # at least this many daily partitions (1: one day's partition)
    backfill: bool = False  # the days were launched as one backfill
    tags: tuple[tuple[str, str | None], ...] = ()  # any of these (tag, value or None for any)


def _keys(phase: int, *names: str) -> frozenset[str]:
    return frozenset(f"phase{phase}/{n}" for n in names)


UI_STEPS: tuple[UiStep, ...] = (
    UiStep(
        1,
        "materialize_both",
        "materialize raw_weather_data and cleaned_weather_data (group phase1: Materialize all)",
        assets=_keys(1, "raw_weather_data", "cleaned_weather_data"),
    ),  # fmt: skip
    UiStep(
        2,
        "materialize_all",
        "materialize the whole phase2 group (Materialize all)",
        assets=_keys(2, "raw_readings", "validated_readings", "city_aggregates", "weather_report"),
    ),  # fmt: skip
    UiStep(
        2,
        "city_aggregates_alone",
        "re-materialize only city_aggregates: it loads its input from Postgres",
        assets=_keys(2, "city_aggregates"),
        only=True,
    ),  # fmt: skip
    UiStep(
        3,
        "backfill_three_days",
        "launch a backfill of daily_readings over 3 days or more "
        "(Materialize > a date range > Launch backfill)",
        assets=_keys(3, "daily_readings"),
        days=3,
        backfill=True,
    ),  # fmt: skip
    UiStep(
        4,
        "chain_for_one_day",
        "materialize the whole phase4 chain for one day (pick a partition, Materialize all)",
        assets=_keys(
            4,
            "raw_weather_readings",
            "stg_weather_readings",
            "daily_weather_summary",
            "weather_alerts",
        ),
        days=1,
    ),  # fmt: skip
    UiStep(
        5,
        "sensor_loads_a_file",
        "turn on phase5_incoming_file_sensor and deliver a file: the sensor launches its run",
        tags=(("dagster/sensor_name", "phase5_incoming_file_sensor"),),
    ),  # fmt: skip
    UiStep(
        5,
        "automation_updates_summary",
        "turn on phase5_automation_sensor: it updates "
        "daily_summary after a new file, with no click",
        assets=_keys(5, "daily_summary"),
        tags=(("dagster/from_automation_condition", None), ("dagster/auto_materialize", None)),
    ),  # fmt: skip
)


def ui_steps(phase: int | None = None) -> list[UiStep]:
    """The UI steps of one phase (or of all), in the lesson's order."""
    return [s for s in UI_STEPS if phase is None or s.phase == phase]
