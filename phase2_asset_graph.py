"""Phase 2: an asset graph, a resource, an IO manager and asset checks.

Goal
    Build a four-asset pipeline from raw readings to a per-city report. You write the business
    rules (validation and daily aggregates) as plain functions and the two middle assets that
    call them; Dagster, a resource and an IO manager do everything else.

The graph
    phase2/raw_readings -> phase2/validated_readings -> phase2/city_aggregates -> phase2/weather_report
                                   ◆ temperatures_in_plausible_range (blocking)
                                   ◆ one_reading_per_city_hour        ◆ at_most_24_readings_per_day

    ```mermaid
    graph LR
        src[(source.weather_readings)] -. postgres resource .-> raw_readings
        raw_readings --> validated_readings --> city_aggregates --> weather_report
        validated_readings --- c1{{temperatures_in_plausible_range<br/>blocking}}
        validated_readings --- c2{{one_reading_per_city_hour}}
        city_aggregates --- c3{{at_most_24_readings_per_day}}
    ```

    ``raw_readings`` and ``weather_report`` are given. Every arrow is a function parameter.

Resources: where the database comes from
    ``raw_readings`` asks for ``postgres: PostgresResource``; it never builds a connection. Dagster
    injects the object registered under ``"postgres"`` in ``Definitions(resources=...)``. The
    grader hands in the same class pointed at its own test database, and your asset code does not
    change. That is the point: configuration and connections live outside business logic.

The IO manager: why the middle assets never mention a table
    ``validated_readings`` *returns* rows and ``city_aggregates`` *receives* them as a parameter.
    Between the two, the IO manager (``PostgresIOManager`` in ``workbook/platform/resources.py``) stores
    the returned rows as the table ``phase2.validated_readings`` and loads them back when a
    downstream asset needs them. So *how* data is stored (a table, COPY, which schema) is
    decided in one place, and *what* the data is in another: switch the IO manager to Parquet
    files or another database and no asset changes. And because the input comes from Postgres,
    not from the memory of the run that produced it, you can re-materialize only
    ``city_aggregates`` tomorrow, after restarting the UI: Dagster loads its input from the table.

Validation rules (TODO 1). Apply them in this order; a row is rejected for the FIRST rule it
fails and counted once, under that reason. Ranges are inclusive at both ends.
    missing_field               station_id, city, observed_at, temperature, temperature_unit,
                                pressure_hpa or precipitation_mm is None. (humidity_pct and
                                wind_speed_kmh may be None: not every station has the sensor.)
    unknown_unit                temperature_unit is neither "C" nor "F"
    temperature_out_of_range    the temperature in °C is outside -90..60. Convert first:
                                (F - 32) * 5 / 9, so 70 °F (21.1 °C) is fine.
    humidity_out_of_range       humidity_pct is present and outside 0..100
    wind_out_of_range           wind_speed_kmh is present and outside 0..400
    pressure_out_of_range       pressure_hpa is outside 870..1085
    precipitation_out_of_range  precipitation_mm is outside 0..300 (mm in the hour)
    duplicate                   the row passes every rule above, but a row with the same
                                (city, observed_at) was already accepted (the first one wins)
    A valid row has the columns VALIDATED_COLUMNS: the source's columns without
    ``station_name``, ``temperature`` and ``temperature_unit``, plus ``temperature_c``, the
    temperature in °C rounded to 1 decimal. The constants are below the imports.

Aggregates (TODO 3). One row per city and UTC day (the day of ``observed_at`` in UTC: the
database hands you timestamps in its session's time zone, so convert, e.g. with
``observed_at.astimezone(UTC).date()``), with the columns:
    city, day (a date), reading_count (valid readings that day), min_temperature_c,
    max_temperature_c, mean_temperature_c (rounded to 2 decimals), total_precipitation_mm
    (rounded to 1 decimal). Every validated row counts once: duplicates were already removed.

Asset checks (TODO 5)
    An asset check is a data-quality test attached to an asset; its result shows next to the
    asset in the UI. A *blocking* check (``blocking=True``) also stops the run: if it fails,
    its step fails, and the assets downstream of the checked one are not materialized in that
    run, so bad data never reaches ``city_aggregates`` and the report. A non-blocking check
    only reports. Try it once TODO 5 is done: make ``validate_readings`` keep glitches,
    Materialize all, and open the run: it is Failed at the check's step, and
    ``city_aggregates`` and ``weather_report`` never started (in the graph they show the failed
    run; their previous materialization, if any, is still the one stored).

The steps (the grader checks each one on the seeded dataset)
    TODO 1  ``validate_readings(rows)``: return ``(valid_rows, rejected)`` where ``rejected`` maps
            each reason above to the number of rows rejected for it.
    TODO 2  The ``validated_readings`` asset: call ``validate_readings`` and report metadata:
            ``row_count`` (valid rows), ``rejected_total``, and ``rejected_<reason>`` for EVERY
            reason, 0 included (numbers, so the UI can plot each one over time).
    TODO 3  ``aggregate_city_days(rows)``: the aggregates above, one dict per city and day.
    TODO 4  The ``city_aggregates`` asset: aggregate its input, ``validated_readings``.
    TODO 5  The blocking check ``temperatures_in_plausible_range`` on ``validated_readings``:
            it passes when every row has a ``temperature_c`` within -90..60 (None fails), and
            reports the number of failing rows as metadata ``out_of_range``.

    The two functions are pure (no Dagster, no database): they are plain Python you could call
    from any orchestrator, and the grader calls them directly with hand-made rows.

    TODO 6  Test the rules and the check, without the database (see "Testing" below).

Testing: pure rules at their boundaries, a check through a run
    The rules are plain functions, so most tests are plain pytest: build a few rows with
    ``reading()`` (below) that sit exactly on the edges the docstring names (60 °C is valid,
    60.1 °C is not; 140 °F is 60 °C; a missing humidity is fine; a duplicate's FIRST copy wins; a
    row that breaks two rules counts once, under the first), and assert the valid rows and the
    counts. For ``aggregate_city_days`` give a timestamp whose UTC day differs from its local one.
    A blocking check is behaviour of a *run*, so test it with one: a stand-in asset with
    ``validated_readings``'s key (and group: Dagster finds ``city_aggregates``'s input by name
    within the group, ``phase2``) that returns bad rows, materialized with the check and
    ``city_aggregates``: ``dg.materialize([...], raise_on_error=False)`` returns the result
    instead of raising, and ``result.get_asset_check_evaluations()`` and
    ``result.events_for_node("phase2__city_aggregates")`` show whether the check failed and
    stopped the downstream asset before it started. In Airflow a data check is a task (or an SQL sensor)
    whose failure you only see by running the DAG against a database; here it is a function.

    Run your tests:  uv run pytest phase2_asset_graph.py
    ``workbook check 2`` runs them against the reference and 10 broken versions of it (a wrong
    boundary, a rule out of order, a local day, a check that does not block, ...): catch at least 8.

Try it
    uv run workbook check 2        grade this file;  uv run workbook hint 2 for hints
    uv run dg check defs           before the UI: imports every phase and builds its graph, and
                                   prints what does not load (a syntax error, a wrong import, a
                                   parameter naming an asset that does not exist) with the file
                                   and line. It exits 0 even then,
                                   because a broken phase becomes a ``phase2/load_error`` asset
                                   so the other phases keep loading; ``WORKBOOK_STRICT=1`` makes
                                   it exit 1 (for CI). It proves the graph loads, not that your
                                   rules are right: that is the grader's job.
    uv run dg dev                  group phase2: Materialize all, then open each asset's metadata
    Restart the UI, select only city_aggregates and materialize it: it loads its input from
    phase2.validated_readings.
    uv run workbook db psql -c 'select * from phase2.city_aggregates order by city, day limit 5'
"""

import datetime
from collections import defaultdict
from typing import Any

import dagster as dg

from workbook.platform.resources import RESOURCES, PostgresResource

# The rules' constants (the docstring above states them in words). Ranges are inclusive.
REQUIRED_FIELDS = ("station_id", "city", "observed_at", "temperature", "temperature_unit",
                   "pressure_hpa", "precipitation_mm")  # fmt: skip
TEMPERATURE_C = (-90.0, 60.0)  # compared in °C, after converting °F
HUMIDITY_PCT = (0.0, 100.0)  # when present
WIND_SPEED_KMH = (0.0, 400.0)  # when present
PRESSURE_HPA = (870.0, 1085.0)
PRECIPITATION_MM = (0.0, 300.0)
# The rejection reasons, in the order the rules apply.
REASONS = ("missing_field", "unknown_unit", "temperature_out_of_range", "humidity_out_of_range",
           "wind_out_of_range", "pressure_out_of_range", "precipitation_out_of_range",
           "duplicate")  # fmt: skip
# The columns of a valid row.
VALIDATED_COLUMNS = ("station_id", "city", "country", "observed_at", "temperature_c",
                     "humidity_pct", "wind_speed_kmh", "pressure_hpa", "precipitation_mm",
                     "condition")  # fmt: skip
UTC = datetime.UTC  # observed_at.astimezone(UTC) is the same instant, expressed in UTC

Row = dict[str, Any]
Rows = list  # of Row dicts; a plain `list` keeps Dagster's run-time type check cheap (Phase 1)


# --- the business rules: plain functions -------------------------------------------------------


def validate_readings(rows: list[Row]) -> tuple[list[Row], dict[str, int]]:
    """TODO 1: the valid rows (VALIDATED_COLUMNS) and the number of rejected rows per reason."""
    raise NotImplementedError("TODO 1: validate_readings (see the rules in the docstring)")


def aggregate_city_days(rows: list[Row]) -> list[Row]:
    """TODO 3: one dict per (city, UTC day) of validated rows."""
    raise NotImplementedError("TODO 3: aggregate_city_days (see Aggregates in the docstring)")


# --- the assets ----------------------------------------------------------------------------------


@dg.asset(key_prefix="phase2", group_name="phase2")
def raw_readings(postgres: PostgresResource) -> Rows:
    """Every reading from the weather API (``source.weather_readings``), as delivered: dirty.

    ``postgres`` is injected by Dagster from ``Definitions(resources=...)``.
    """
    return postgres.fetch(
        """
        select station_id, station_name, city, country, observed_at, temperature,
               temperature_unit, humidity_pct, wind_speed_kmh, pressure_hpa, precipitation_mm,
               condition
        from source.weather_readings
        order by city, observed_at
        """
    )


@dg.asset(key_prefix="phase2", group_name="phase2")
def validated_readings(context: dg.AssetExecutionContext, raw_readings: Rows) -> Rows:
    """Readings that pass every validation rule, in °C, one per city and hour."""
    # TODO 2: validate, then report row_count, rejected_total and rejected_<reason> per reason.
    raise NotImplementedError("TODO 2: validated_readings (call validate_readings, add metadata)")


@dg.asset(key_prefix="phase2", group_name="phase2")
def city_aggregates(validated_readings: Rows) -> Rows:
    """Daily temperature and precipitation per city (UTC days)."""
    # TODO 4: aggregate the validated readings. The IO manager loads them from Postgres.
    raise NotImplementedError("TODO 4: city_aggregates (aggregate validated_readings)")


@dg.asset(key_prefix="phase2", group_name="phase2")
def weather_report(city_aggregates: Rows) -> Rows:
    """One line per city over the whole period: the table a dashboard reads."""
    by_city: dict[str, list[Row]] = defaultdict(list)
    for row in city_aggregates:
        by_city[row["city"]].append(row)
    report = []
    for city, days in sorted(by_city.items()):
        wettest = max(days, key=lambda d: (d["total_precipitation_mm"], d["day"]))
        report.append(
            {
                "city": city,
                "days": len(days),
                "coldest_c": min(d["min_temperature_c"] for d in days),
                "warmest_c": max(d["max_temperature_c"] for d in days),
                "mean_of_daily_means_c": round(
                    sum(d["mean_temperature_c"] for d in days) / len(days), 2
                ),
                "total_precipitation_mm": round(sum(d["total_precipitation_mm"] for d in days), 1),
                "wettest_day": wettest["day"],
            }
        )
    return report


# --- asset checks ------------------------------------------------------------------------------


# TODO 5: make this check blocking, and implement it.
@dg.asset_check(asset=validated_readings)
def temperatures_in_plausible_range(validated_readings: Rows) -> dg.AssetCheckResult:
    """Every validated temperature_c is present and within -90..60 °C."""
    raise NotImplementedError("TODO 5: temperatures_in_plausible_range (a blocking check)")


@dg.asset_check(asset=validated_readings)
def one_reading_per_city_hour(validated_readings: Rows) -> dg.AssetCheckResult:
    """No (city, observed_at) appears twice. Non-blocking: a failure is reported, not enforced."""
    keys = [(r["city"], r["observed_at"]) for r in validated_readings]
    return dg.AssetCheckResult(
        passed=len(keys) == len(set(keys)), metadata={"duplicates": len(keys) - len(set(keys))}
    )


@dg.asset_check(asset=city_aggregates)
def at_most_24_readings_per_day(city_aggregates: Rows) -> dg.AssetCheckResult:
    """Hourly readings: a city cannot have more than 24 in a UTC day."""
    over = [r for r in city_aggregates if r["reading_count"] > 24]
    return dg.AssetCheckResult(
        passed=not over,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={"city_days_over_24": len(over)},
    )


defs = dg.Definitions(
    assets=[raw_readings, validated_readings, city_aggregates, weather_report],
    asset_checks=[temperatures_in_plausible_range, one_reading_per_city_hour,
                  at_most_24_readings_per_day],
    resources=RESOURCES,
)  # fmt: skip


# --- TODO 6: your tests (run them: uv run pytest phase2_asset_graph.py) -------------------------


def reading(city: str = "Oslo", hour: int = 12, **changes) -> Row:
    """A valid raw reading on 2024-01-05 at ``hour`` UTC, with ``changes`` applied."""
    row = {
        "station_id": "ST-1", "station_name": "Central", "city": city, "country": "XX",
        "observed_at": datetime.datetime(2024, 1, 5, hour, tzinfo=UTC), "temperature": 10.0,
        "temperature_unit": "C", "humidity_pct": 50.0, "wind_speed_kmh": 10.0,
        "pressure_hpa": 1013.0, "precipitation_mm": 0.0, "condition": "clear",
    }  # fmt: skip
    return {**row, **changes}


def test_validate_readings_at_the_boundaries():
    raise NotImplementedError("TODO 6: validate_readings on rows at the edges of every rule")


def test_aggregate_city_days_by_utc_day():
    raise NotImplementedError("TODO 6: aggregate_city_days across a UTC midnight")


def test_blocking_check_stops_the_run():
    raise NotImplementedError("TODO 6: materialize bad rows with the check, raise_on_error=False")
