"""Broken versions of Phase 1, for grading the learner's tests (see workbook/grading/learner_tests.py).

Each is ``cleaned_weather_data`` with one plausible bug, switched on by name in ``clean``. (No
``from __future__ import annotations`` here: Dagster reads the assets' annotations at definition.)
"""

import dagster as dg

from workbook.grading.learner_tests import Broken

SUBJECT = ("raw_weather_data", "cleaned_weather_data", "defs", "MIN_TEMPERATURE_C",
           "MAX_TEMPERATURE_C")  # fmt: skip
THRESHOLD = 9  # of the broken versions below


def clean(raw: list[dict], bug: str) -> tuple[list[dict], dict]:
    """Phase 1's rules with the bug ``bug``: (rows kept, metadata)."""
    usable = []
    for row in raw:
        if row["temperature"] is None and bug != "missing_is_zero":
            continue
        celsius = row["temperature"] or 0.0
        if row["temperature_unit"] == "F" and bug != "no_fahrenheit":
            celsius = (celsius - 32) * 5 / 9
        if bug == "range_before_converting":
            celsius_checked = row["temperature"] or 0.0
        else:
            celsius_checked = celsius
        low, high = (-90.0, 60.0) if bug != "exclusive_range" else (-89.99, 59.99)
        if not low <= celsius_checked <= high and bug != "keeps_glitches":
            continue
        dropped = () if bug == "keeps_unit_columns" else ("temperature", "temperature_unit")
        out = {k: v for k, v in row.items() if k not in dropped}
        out["temperature_c"] = celsius if bug == "no_rounding" else round(celsius, 1)
        usable.append(out)
    kept: dict[tuple, dict] = {}
    for row in usable:
        key = (row["city"], row["observed_at"]) if bug != "dedupe_by_city" else row["city"]
        if bug == "keeps_duplicates":
            key = id(row)
        kept.setdefault(key, row)
    rows = list(kept.values())
    dropped_duplicates = len(usable) - len(rows) if bug != "no_duplicate_count" else 0
    metadata = {
        "row_count": len(rows),
        "dropped_unusable": len(raw)
        - len(usable)
        + (len(usable) - len(rows) if bug == "unusable_counts_duplicates" else 0),
        "dropped_duplicates": dropped_duplicates,
        "preview": dg.MetadataValue.md("\n".join(str(r) for r in rows[:5])),
    }
    return rows, metadata


def cleaned_asset(bug: str) -> dg.AssetsDefinition:
    @dg.asset(key_prefix="phase1", group_name="phase1", name="cleaned_weather_data")
    def cleaned_weather_data(context: dg.AssetExecutionContext, raw_weather_data: list) -> list:
        rows, metadata = clean(raw_weather_data, bug)
        context.add_output_metadata(metadata)
        return rows

    return cleaned_weather_data


def _broken(bug: str, description: str) -> Broken:
    return Broken(description, lambda ref: {"cleaned_weather_data": cleaned_asset(bug)})


BROKEN = [
    _broken("no_fahrenheit", "a version that keeps °F values as they are"),
    _broken("range_before_converting", "a version that checks the range before converting °F"),
    _broken("keeps_glitches", "a version that keeps sensor glitches"),
    _broken("missing_is_zero", "a version that reads a missing temperature as 0 °C"),
    _broken("exclusive_range", "a version that drops -90 °C and 60 °C (the bounds are valid)"),
    _broken("no_rounding", "a version that does not round to 1 decimal"),
    _broken("keeps_duplicates", "a version that keeps duplicate deliveries"),
    _broken("dedupe_by_city", "a version that keeps one reading per city, not per city and hour"),
    _broken("no_duplicate_count", "a version that reports dropped_duplicates as 0"),
    _broken(
        "keeps_unit_columns", "a version that keeps the temperature and temperature_unit columns"
    ),
    _broken(
        "unusable_counts_duplicates", "a version whose dropped_unusable also counts duplicates"
    ),
]
