"""Broken versions of Phase 2, for grading the learner's tests (see workbook/grading/learner_tests.py).

Each swaps one of ``validate_readings``, ``aggregate_city_days`` or the blocking check for a
version with one plausible bug, switched on by name. (No ``from __future__ import annotations``:
Dagster reads the check's annotations at definition.)
"""

import datetime
from collections import defaultdict

import dagster as dg

from workbook.grading.learner_tests import Broken
from workbook.platform import rules

SUBJECT = ("validate_readings", "aggregate_city_days", "raw_readings", "validated_readings",
           "city_aggregates", "weather_report", "temperatures_in_plausible_range",
           "one_reading_per_city_hour", "at_most_24_readings_per_day", "defs")  # fmt: skip
THRESHOLD = 8  # of the broken versions below


def validate(rows: list[dict], bug: str) -> tuple[list[dict], dict[str, int]]:
    """Phase 2's validation rules with the bug ``bug``."""
    rejected = dict.fromkeys(rules.REASONS, 0)
    accepted: dict[tuple, dict] = {}
    for row in rows:
        optional = ("humidity_pct", "wind_speed_kmh") if bug == "optional_required" else ()
        reason = None
        if any(row.get(f) is None for f in (*rules.REQUIRED_FIELDS, *optional)):
            reason = "missing_field"
        elif row["temperature_unit"] not in ("C", "F"):
            reason = "unknown_unit"
        else:
            celsius = row["temperature"]
            if row["temperature_unit"] == "F" and bug != "range_before_converting":
                celsius = (celsius - 32) * 5 / 9
            low, high = rules.TEMPERATURE_C
            if bug == "exclusive_bounds":
                low, high = low + 0.01, high - 0.01
            checks = [
                ("temperature_out_of_range", celsius, (low, high)),
                ("humidity_out_of_range", row.get("humidity_pct"), rules.HUMIDITY_PCT),
                ("wind_out_of_range", row.get("wind_speed_kmh"), rules.WIND_SPEED_KMH),
                ("pressure_out_of_range", row["pressure_hpa"], rules.PRESSURE_HPA),
                ("precipitation_out_of_range", row["precipitation_mm"], rules.PRECIPITATION_MM),
            ]
            if bug == "last_rule_first":
                checks.reverse()
            for name, value, (lo, hi) in checks:
                if value is not None and not lo <= value <= hi:
                    reason = name
                    break
            if row["temperature_unit"] == "F" and bug == "range_before_converting":
                celsius = (celsius - 32) * 5 / 9
        key = (row["city"], row["observed_at"])
        if reason is None and key in accepted and bug != "last_copy_wins":
            reason = "duplicate"
        if reason is not None:
            rejected[reason] += 1
            continue
        if key in accepted:  # last_copy_wins
            rejected["duplicate"] += 1
        clean = {c: row.get(c) for c in rules.VALIDATED_COLUMNS}
        clean["temperature_c"] = round(celsius, 1)
        accepted[key] = clean
    return list(accepted.values()), rejected


def aggregate(rows: list[dict], bug: str) -> list[dict]:
    """Phase 2's daily aggregates with the bug ``bug``."""
    groups: dict[tuple, list[dict]] = defaultdict(list)
    for row in rows:
        at = row["observed_at"]
        day = at.date() if bug == "local_day" else at.astimezone(datetime.UTC).date()
        groups[(row["city"], day)].append(row)
    out = []
    for (city, day), group in sorted(groups.items()):
        temps = [r["temperature_c"] for r in group]
        mean = (min(temps) + max(temps)) / 2 if bug == "midrange_mean" else sum(temps) / len(temps)
        out.append({
            "city": city, "day": day, "reading_count": len(group),
            "min_temperature_c": min(temps), "max_temperature_c": max(temps),
            "mean_temperature_c": round(mean, 2),
            "total_precipitation_mm": round(sum(r["precipitation_mm"] for r in group), 1),
        })  # fmt: skip
    return out


def check(reference, bug: str) -> dg.AssetChecksDefinition:
    """The blocking temperature check on the reference's asset, with the bug ``bug``."""

    @dg.asset_check(
        asset=reference["validated_readings"],
        name="temperatures_in_plausible_range",
        blocking=bug != "not_blocking",
    )
    def broken_check(validated_readings: list) -> dg.AssetCheckResult:
        low, high = rules.TEMPERATURE_C
        if bug == "exclusive_bounds":
            low, high = low + 0.01, high - 0.01
        bad = [
            r for r in validated_readings
            if (r.get("temperature_c") is None and bug != "missing_passes")
            or (r.get("temperature_c") is not None and not low <= r["temperature_c"] <= high)
        ]  # fmt: skip
        return dg.AssetCheckResult(passed=not bad, metadata={"out_of_range": len(bad)})

    return broken_check


def _validate(bug: str, description: str) -> Broken:
    return Broken(description, lambda ref: {"validate_readings": lambda rows: validate(rows, bug)})


def _aggregate(bug: str, description: str) -> Broken:
    return Broken(
        description, lambda ref: {"aggregate_city_days": lambda rows: aggregate(rows, bug)}
    )


def _check(bug: str, description: str) -> Broken:
    return Broken(description, lambda ref: {"temperatures_in_plausible_range": check(ref, bug)})


BROKEN = [
    _validate("exclusive_bounds", "validate_readings rejecting -90 °C and 60 °C (the bounds are valid)"),
    _validate("range_before_converting", "validate_readings checking the range before converting °F"),
    _validate("optional_required", "validate_readings rejecting a row without humidity_pct or wind_speed_kmh"),
    _validate("last_copy_wins", "validate_readings keeping the last copy of a duplicate, not the first"),
    _validate("last_rule_first", "validate_readings applying the rules in reverse order"),
    _aggregate("local_day", "aggregate_city_days grouping by the timestamp's local day, not the UTC day"),
    _aggregate("midrange_mean", "aggregate_city_days taking (min + max) / 2 as the mean"),
    _check("not_blocking", "a temperature check that does not block city_aggregates"),
    _check("missing_passes", "a temperature check that lets a missing temperature_c pass"),
    _check("exclusive_bounds", "a temperature check that fails on exactly 60 °C"),
]  # fmt: skip
