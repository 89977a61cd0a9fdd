"""Phase 1: your first assets.

Goal
    Turn raw weather readings into a clean table, as two Dagster *assets*. An asset is a piece of
    data you want to exist (a table, a file, a model), plus the function that produces it. You
    declare what depends on what; Dagster works out the order.

The graph
    phase1/raw_weather_data  -->  phase1/cleaned_weather_data

    ``raw_weather_data`` is given: it extracts every reading from ``source.weather_readings`` (our
    stand-in for a weather API). You write ``cleaned_weather_data``.

The steps (the grader checks each one on the seeded dataset)
    TODO 1  Declare the dependency: give ``cleaned_weather_data`` a parameter named
            ``raw_weather_data``. Naming an upstream asset as a parameter *is* the edge in the
            graph: Dagster materializes the raw asset first and passes its rows in.
    TODO 2  Drop unusable readings: a reading is unusable when its ``temperature`` is missing
            (None), or when its temperature in °C is outside -90 to 60 (a sensor glitch).
            Convert before you compare: 70 °F is a fine 21.1 °C.
    TODO 3  Normalize units: every temperature in °C, in a ``temperature_c`` column, rounded to
            1 decimal. Readings with ``temperature_unit == "F"`` are converted: (F - 32) * 5 / 9.
            Drop the ``temperature`` and ``temperature_unit`` columns.
    TODO 4  Drop duplicates: the API sometimes delivers a reading twice. Keep one row per
            (``city``, ``observed_at``).
    TODO 5  Report what you did as materialization metadata: ``row_count`` (rows kept),
            ``dropped_unusable``, ``dropped_duplicates`` and a ``preview`` (a Markdown table of
            the first rows). It shows up in the UI next to every materialization.

    Keep every other column as it is. Rows are plain dicts; the order of rows does not matter.

    TODO 6  Test your asset, without the database (see "Testing" below): write ``test_``
            functions at the end of this file.

Testing: resources are what make assets testable
    An asset is a Python function, so a unit test calls it: ``cleaned_weather_data(
    dg.build_asset_context(), rows)`` on a handful of hand-written rows (``reading()`` below
    builds one) that hold the cases the rules are about: a °F reading, a glitch, a missing
    temperature, a duplicate. Then ``dg.materialize([raw_weather_data, cleaned_weather_data],
    resources={"postgres": ...})`` runs both assets as Dagster would, in this process, with a
    ``postgres`` that serves your rows instead of the database: any object with a ``fetch``
    method does (``RowsInMemory`` below is one). ``result.output_for_node(
    "phase1__cleaned_weather_data")`` is what the asset returned;
    ``result.asset_materializations_for_node(...)`` holds its metadata.
    In Airflow a TaskFlow function can be called the same way, but a task finds its database
    through a hook and a connection id, so a test mocks ``PostgresHook`` or needs a real
    connection; running tasks as Airflow would (``dag.test()``) took 17 s here for two tasks.

    Run your tests:  uv run pytest phase1_basic_assets.py
    ``workbook check 1`` runs them against the reference implementation (they must pass, with no
    database) and against 11 broken versions of it: your tests must catch at least 9 of them.

Try it
    uv run workbook check 1        grade this file (✓/✗ per rule, with hints)
    uv run workbook hint 1         hints, from a nudge to a near-answer
    uv run dg dev                  open http://localhost:3000, find group phase1, Materialize all
                                   (its log says "Using temporary directory ... will be removed":
                                   that is Dagster's scratch space; your run history is kept in
                                   .dagster_home/, as the workbook's dagster.yaml says)
    uv run dg launch --assets phase1/raw_weather_data,phase1/cleaned_weather_data
                                   the same from the terminal, no UI: one run of both assets,
                                   recorded in the UI's run history like a click
    uv run workbook db psql -c 'select count(*) from phase1.cleaned_weather_data'

Where does the table come from? Each asset's return value is stored by an *IO manager* as a
table named after the asset key (``phase1/cleaned_weather_data`` -> ``phase1.cleaned_weather_data``).
Phase 2 explains IO managers; here you only return rows.
"""

from datetime import UTC, datetime
from typing import Any

import dagster as dg

from workbook.platform.resources import RESOURCES, PostgresResource

Row = dict[str, Any]
Rows = list  # of Row dicts. Not list[Row]: Dagster type-checks annotations value by value at
# run time, which for a list of dicts costs seconds. A plain `list` is checked in microseconds.

# Plausible temperatures on Earth, in °C. Anything outside is a glitch (see TODO 2).
MIN_TEMPERATURE_C = -90.0
MAX_TEMPERATURE_C = 60.0


@dg.asset(key_prefix="phase1", group_name="phase1")
def raw_weather_data(postgres: PostgresResource) -> Rows:
    """Every reading from the weather API (``source.weather_readings``), as delivered: dirty."""
    return postgres.fetch(
        """
        select station_id, city, country, observed_at, temperature, temperature_unit,
               humidity_pct, wind_speed_kmh, pressure_hpa, precipitation_mm, condition
        from source.weather_readings
        order by city, observed_at
        """
    )


# TODO 1: declare the dependency on raw_weather_data through a parameter.
@dg.asset(key_prefix="phase1", group_name="phase1")
# >>> solution
def cleaned_weather_data(context: dg.AssetExecutionContext, raw_weather_data: Rows) -> Rows:
    # === stub
    # def cleaned_weather_data(context: dg.AssetExecutionContext) -> Rows:
    # <<<
    """Readings fit for analysis: usable, in °C, one per city and hour."""
    # TODO 2: drop unusable readings (missing temperature, or outside -90..60 °C once in °C).
    # TODO 3: convert °F to °C into a `temperature_c` column, rounded to 1 decimal.
    # >>> solution
    usable: list[Row] = []
    for row in raw_weather_data:
        if row["temperature"] is None:
            continue
        celsius = row["temperature"]
        if row["temperature_unit"] == "F":
            celsius = (celsius - 32) * 5 / 9
        if not MIN_TEMPERATURE_C <= celsius <= MAX_TEMPERATURE_C:
            continue
        clean = {k: v for k, v in row.items() if k not in ("temperature", "temperature_unit")}
        clean["temperature_c"] = round(celsius, 1)
        usable.append(clean)
    # === stub
    # raise NotImplementedError("TODO 2 and TODO 3: drop unusable readings, convert to °C")
    # <<<

    # TODO 4: keep one row per (city, observed_at).
    # >>> solution
    seen: set[tuple] = set()
    cleaned: list[Row] = []
    for row in usable:
        key = (row["city"], row["observed_at"])
        if key not in seen:
            seen.add(key)
            cleaned.append(row)
    # === stub
    # raise NotImplementedError("TODO 4: keep one row per (city, observed_at)")
    # <<<

    # TODO 5: report row_count, dropped_unusable, dropped_duplicates and a Markdown preview.
    # >>> solution
    preview = cleaned[:5]
    header = list(preview[0]) if preview else []
    table = "\n".join(
        ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        + ["| " + " | ".join(str(r[c]) for c in header) + " |" for r in preview]
    )
    context.add_output_metadata(
        {
            "row_count": len(cleaned),
            "dropped_unusable": len(raw_weather_data) - len(usable),
            "dropped_duplicates": len(usable) - len(cleaned),
            "preview": dg.MetadataValue.md(table),
        }
    )
    return cleaned
    # === stub
    # raise NotImplementedError("TODO 5: add row_count, dropped_* and preview metadata")
    # <<<


# The Definitions object is what Dagster loads: the assets, and the resources they ask for.
defs = dg.Definitions(assets=[raw_weather_data, cleaned_weather_data], resources=RESOURCES)


# --- TODO 6: your tests (run them: uv run pytest phase1_basic_assets.py) -----------------------


def reading(city: str, hour: int, temperature: float | None, unit: str = "C") -> Row:
    """A raw reading as the weather API delivers it, on 2024-01-05 at ``hour`` UTC."""
    return {
        "station_id": f"ST-{city[:3].upper()}", "city": city, "country": "XX",
        "observed_at": datetime(2024, 1, 5, hour, tzinfo=UTC), "temperature": temperature,
        "temperature_unit": unit, "humidity_pct": 50.0, "wind_speed_kmh": 10.0,
        "pressure_hpa": 1013.0, "precipitation_mm": 0.0, "condition": "clear",
    }  # fmt: skip


class RowsInMemory:
    """A stand-in for the ``postgres`` resource: ``fetch`` serves the rows it was given."""

    def __init__(self, rows: list[Row]):
        self.rows = rows

    def fetch(self, query: str, params=None) -> list[Row]:
        return self.rows


# >>> solution
SAMPLE = [
    reading("Oslo", 0, 10.0),
    reading("Oslo", 0, 10.0),  # a duplicate delivery
    reading("Oslo", 1, 70.0, "F"),  # 21.1 °C: fine, although 70 > 60
    reading("Oslo", 2, 140.0, "F"),  # 60.0 °C: the upper bound, kept
    reading("Oslo", 3, None),  # missing
    reading("Oslo", 4, 75.0),  # a glitch
    reading("Lima", 0, -90.0),  # the lower bound, kept
    reading("Lima", 1, -12.345),
]


def test_cleaned_weather_data_on_handwritten_rows():
    rows = cleaned_weather_data(dg.build_asset_context(), SAMPLE)
    by_key = {(r["city"], r["observed_at"].hour): r for r in rows}
    assert len(rows) == len(by_key) == 5, rows
    assert {k: r["temperature_c"] for k, r in by_key.items()} == {
        ("Oslo", 0): 10.0, ("Oslo", 1): 21.1, ("Oslo", 2): 60.0,
        ("Lima", 0): -90.0, ("Lima", 1): -12.3,
    }  # fmt: skip
    assert "temperature" not in rows[0] and "temperature_unit" not in rows[0]
    assert rows[0]["humidity_pct"] == 50.0  # every other column kept


def test_materialize_with_rows_instead_of_the_database():
    result = dg.materialize(
        [raw_weather_data, cleaned_weather_data], resources={"postgres": RowsInMemory(SAMPLE)}
    )
    assert result.success
    assert len(result.output_for_node("phase1__cleaned_weather_data")) == 5
    [event] = result.asset_materializations_for_node("phase1__cleaned_weather_data")
    metadata = {name: value.value for name, value in event.metadata.items()}
    assert metadata["row_count"] == 5
    assert metadata["dropped_unusable"] == 2
    assert metadata["dropped_duplicates"] == 1
    assert "Oslo" in metadata["preview"]


# === stub
# def test_cleaned_weather_data_on_handwritten_rows():
#     raise NotImplementedError("TODO 6: call cleaned_weather_data on hand-written rows")
#
#
# def test_materialize_with_rows_instead_of_the_database():
#     raise NotImplementedError("TODO 6: dg.materialize both assets with RowsInMemory(rows)")
# <<<
