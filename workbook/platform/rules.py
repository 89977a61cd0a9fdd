"""The weather business rules of Phase 2, as plain functions: no Dagster, no database.

Phase 2 has you write ``validate_readings`` and ``aggregate_city_days`` yourself, with its own copy
of the constants (kept equal to these by tests/unit/test_rule_copies.py); the Phase 2 grader
refuses these functions as Phase 2's answer. Phase 3 and the Airflow baseline import them from
here, so a bug left in your Phase 2 cannot break Phase 3. The rules are documented in Phase 2's
docstring; the constants below are the ranges every other copy (dbt vars, Phase 5) is read from.

Keeping business rules in pure functions is deliberate: they are trivial to unit-test, and any
orchestrator (Dagster here, an Airflow task, a notebook) can call them.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from typing import Any

Row = dict[str, Any]

# Fields a reading must have. humidity_pct and wind_speed_kmh may be missing (None): some
# stations have no such sensor. A value that is present must be plausible.
REQUIRED_FIELDS = (
    "station_id",
    "city",
    "observed_at",
    "temperature",
    "temperature_unit",
    "pressure_hpa",
    "precipitation_mm",
)

# Plausible ranges, inclusive at both ends. Temperature is compared in °C, after converting °F.
TEMPERATURE_C = (-90.0, 60.0)  # the coldest and hottest temperatures ever measured, rounded out
HUMIDITY_PCT = (0.0, 100.0)
WIND_SPEED_KMH = (0.0, 400.0)  # the strongest gust ever measured was 408 km/h
PRESSURE_HPA = (870.0, 1085.0)  # sea-level records: 870 hPa (typhoon Tip), 1084.8 hPa
PRECIPITATION_MM = (0.0, 300.0)  # per hourly reading; the record hour is about 305 mm

# The rules in the order they are applied. A row is rejected for the FIRST rule it fails and
# counted once, under that reason.
REASONS = (
    "missing_field",  # a REQUIRED_FIELDS value is None
    "unknown_unit",  # temperature_unit is neither "C" nor "F"
    "temperature_out_of_range",
    "humidity_out_of_range",  # only when humidity_pct is present
    "wind_out_of_range",  # only when wind_speed_kmh is present
    "pressure_out_of_range",
    "precipitation_out_of_range",
    "duplicate",  # a valid row whose (city, observed_at) was already accepted
)

# The columns of a validated row, in order.
VALIDATED_COLUMNS = (
    "station_id",
    "city",
    "country",
    "observed_at",
    "temperature_c",
    "humidity_pct",
    "wind_speed_kmh",
    "pressure_hpa",
    "precipitation_mm",
    "condition",
)


def to_celsius(value: float, unit: str) -> float:
    """A temperature in °C (unrounded)."""
    return (value - 32) * 5 / 9 if unit == "F" else value


def _within(value: float | None, bounds: tuple[float, float]) -> bool:
    return value is None or bounds[0] <= value <= bounds[1]


def rejection_reason(row: Row) -> str | None:
    """The first rule (of REASONS, except duplicate) that ``row`` fails, or None."""
    if any(row.get(f) is None for f in REQUIRED_FIELDS):
        return "missing_field"
    if row["temperature_unit"] not in ("C", "F"):
        return "unknown_unit"
    if not _within(to_celsius(row["temperature"], row["temperature_unit"]), TEMPERATURE_C):
        return "temperature_out_of_range"
    if not _within(row.get("humidity_pct"), HUMIDITY_PCT):
        return "humidity_out_of_range"
    if not _within(row.get("wind_speed_kmh"), WIND_SPEED_KMH):
        return "wind_out_of_range"
    if not _within(row["pressure_hpa"], PRESSURE_HPA):
        return "pressure_out_of_range"
    if not _within(row["precipitation_mm"], PRECIPITATION_MM):
        return "precipitation_out_of_range"
    return None


def validate_readings(rows: list[Row]) -> tuple[list[Row], dict[str, int]]:
    """Valid rows (in input order, VALIDATED_COLUMNS) and the rejected count for every reason."""
    rejected = dict.fromkeys(REASONS, 0)
    valid: list[Row] = []
    seen: set[tuple] = set()
    for row in rows:
        reason = rejection_reason(row)
        if reason is None and (row["city"], row["observed_at"]) in seen:
            reason = "duplicate"
        if reason is not None:
            rejected[reason] += 1
            continue
        seen.add((row["city"], row["observed_at"]))
        out = {c: row.get(c) for c in VALIDATED_COLUMNS}
        out["temperature_c"] = round(to_celsius(row["temperature"], row["temperature_unit"]), 1)
        valid.append(out)
    return valid, rejected


def utc_day(observed_at: datetime) -> date:
    """The UTC calendar day of an aware timestamp, whatever time zone it is expressed in."""
    return observed_at.astimezone(UTC).date()


def day_window(day: date | datetime, days: int = 1) -> tuple[datetime, datetime]:
    """[start, end) of ``days`` UTC days from ``day``: a date, or an aware moment of that day.

    Days are UTC days everywhere in the workbook (partitions, files, aggregates); the end is
    excluded, so consecutive windows never share a row.
    """
    if isinstance(day, datetime):
        day = utc_day(day)
    start = datetime(day.year, day.month, day.day, tzinfo=UTC)
    return start, start + timedelta(days=days)


def aggregate_city_days(rows: list[Row]) -> list[Row]:
    """One row per (city, UTC day) of validated readings, sorted by city and day."""
    groups: dict[tuple, list[Row]] = defaultdict(list)
    for row in rows:
        groups[(row["city"], utc_day(row["observed_at"]))].append(row)
    out = []
    for (city, day), group in sorted(groups.items()):
        temps = [r["temperature_c"] for r in group]
        out.append(
            {
                "city": city,
                "day": day,
                "reading_count": len(group),
                "min_temperature_c": min(temps),
                "max_temperature_c": max(temps),
                "mean_temperature_c": round(sum(temps) / len(temps), 2),
                "total_precipitation_mm": round(sum(r["precipitation_mm"] for r in group), 1),
            }
        )
    return out
