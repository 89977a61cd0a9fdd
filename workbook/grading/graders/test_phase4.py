"""Grader for Phase 4: each test is one requirement (titles and hints: requirements.toml).

One run materializes partitions 2024-01-14..15 through the whole chain (Python -> dbt -> dbt ->
Python), as a backfill does (see ``phase4_runs.py``); values are checked on 2024-01-14 against
values computed independently, in SQL, from the seeded source table. If the learner's
``@dbt_assets`` body fails before dbt even runs (TODO 1 not done), the SQL is still graded
through a minimal body of the grader's own, so each TODO gets its own message.
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta
from decimal import Decimal

import broken_phase4 as broken
import dagster as dg
import pytest
from grading_oracle import PHASE4_SUMMARY_SQL
from phase4_runs import (
    DAY,
    LAST,
    NEIGHBOURS,
    PARTITION,
    RANGE,
    dbt_ran,
    graders_dbt_assets,
    materialize,
    materialized,
    reset_tables,
    why,
)
from recording import DBT_ARGS, recording_dbt_args

from workbook.course.phases import load_phase
from workbook.grading import dbt_unit_tests, learner_tests
from workbook.platform import db
from workbook.platform import dbt as wdbt

HEAT_C, FROST_C, STORM_KMH = 30.0, 0.0, 40.0
COLUMNS = ("city", "country", "observed_date", "reading_count", "avg_temperature_c",
           "min_temperature_c", "max_temperature_c", "max_wind_speed_kmh",
           "total_precipitation_mm")  # fmt: skip
MART = dg.AssetKey(["phase4", "daily_weather_summary"])
STAGING = dg.AssetKey(["phase4", "stg_weather_readings"])


@pytest.fixture(scope="module")
def phase(phase_module):
    return phase_module(4)


@pytest.fixture(scope="module")
def expected() -> dict[str, dict]:
    start = f"{DAY.isoformat()}T00:00:00+00:00"
    end = f"{(DAY + timedelta(days=1)).isoformat()}T00:00:00+00:00"
    with db.connect() as conn, conn.cursor() as cur:
        cur.execute(PHASE4_SUMMARY_SQL, {"start": start, "end": end})
        names = [d.name for d in cur.description]
        return {r[0]: dict(zip(names, r)) for r in cur.fetchall()}


@pytest.fixture(scope="module")
def runs(phase):
    """The learner's run, and (only if their @dbt_assets body never reached dbt) the grader's."""
    try:
        project_dir = phase.DBT_PROJECT.project_dir
        parts = (phase.raw_weather_readings, phase.weather_dbt_models, phase.weather_alerts)
    except AttributeError as exc:
        pytest.fail(f"phase4_dbt_assets.py: {exc}", pytrace=False)
    wdbt.prepare(project_dir)  # the SQL may have changed since the module was imported
    reset_tables()
    DBT_ARGS.clear()
    with recording_dbt_args(phase.defs.resources["dbt"]):
        learner = materialize(phase, parts[1])
    sql_run = learner
    if not learner.success and not dbt_ran(learner, "weather_dbt_models"):
        reset_tables()
        sql_run = materialize(phase, graders_dbt_assets(phase))
    return {"learner": learner, "sql": sql_run, "project_dir": project_dir}


@pytest.fixture(scope="module")
def mart(runs) -> list[dict]:
    """The mart's rows after the run, or a failure that says why there are none."""
    run, project_dir = runs["sql"], runs["project_dir"]
    if not run.success and not materialized(run, MART):
        pytest.fail(why(run, project_dir, "dbt_models"), pytrace=False)
    with db.connect() as conn, conn.cursor() as cur:
        cur.execute("select * from phase4.daily_weather_summary")
        names = [d.name for d in cur.description]
        rows = [dict(zip(names, r)) for r in cur.fetchall()]
    missing = [c for c in COLUMNS if c not in names]
    if missing:
        pytest.fail(f"daily_weather_summary has no column(s) {missing} (it has {names})",
                    pytrace=False)  # fmt: skip
    return rows


def _day_rows(mart) -> list[dict]:
    return [r for r in mart if r["observed_date"] == DAY]


# --- the requirements ---------------------------------------------------------------------


def test_dbt_assets_run_dbt_build(phase, runs):
    run = runs["learner"]
    if not materialized(run, STAGING):
        message = why(run, runs["project_dir"], "weather_dbt_models")
        if "range of partitions" in message:
            message += (f" The grader runs {RANGE} in one run, as a backfill does: the window is"
                        " context.partition_time_window, whatever the number of days")  # fmt: skip
        pytest.fail(message, pytrace=False)
    events = [e for e in run.get_asset_materialization_events() if e.asset_key == STAGING]
    partitions = {e.partition for e in events}
    assert partitions == {PARTITION, LAST.isoformat()}, (
        f"stg_weather_readings was materialized for partition(s) {sorted(map(str, partitions))},"
        f" expected {RANGE}: pass context=context to dbt.cli(...)"
    )
    window = {"min_date": f"{PARTITION}T00:00:00+00:00",
              "max_date": f"{LAST + timedelta(days=1)}T00:00:00+00:00"}  # fmt: skip
    for args in DBT_ARGS:
        got = json.loads(wdbt.vars_arg(args) or "{}")
        assert all(_same_instant(got.get(k), v) for k, v in window.items()), (
            f"the run for {RANGE} ran dbt with --vars {json.dumps(got)}, expected this run's "
            f"window {json.dumps(window)}: context.partition_time_window's start and end, as ISO "
            "timestamps with their UTC offset (.isoformat())"
        )
    assert run.get_asset_check_evaluations(), (
        "dbt ran, but no dbt test was reported as an asset check: run `build` (models and"
        " tests), not `run`, and yield from the invocation's .stream()"
    )


def _same_instant(value, want: str) -> bool:
    try:
        got = datetime.fromisoformat(str(value))
    except ValueError:
        return False
    return got.tzinfo is not None and got == datetime.fromisoformat(want)


def test_dbt_tests_pass_as_checks(phase, runs, mart):
    manifest = json.loads(phase.DBT_PROJECT.manifest_path.read_text())
    tests = {n["name"] for n in manifest["nodes"].values() if n["resource_type"] == "test"}
    evaluations = {e.check_name: e for e in runs["sql"].get_asset_check_evaluations()}
    missing = sorted(tests - set(evaluations))
    assert not missing, f"{len(missing)} dbt test(s) did not run as asset checks, e.g. {missing[0]}"
    failed = sorted(name for name, e in evaluations.items() if not e.passed)
    assert not failed, f"{len(failed)} dbt test(s) failed: {', '.join(failed[:3])}"


def test_one_row_per_city_and_day(mart, expected):
    day = _day_rows(mart)
    keys = [r["city"] for r in day]
    extra = len(keys) - len(set(keys))
    assert extra == 0, (
        f"{extra} extra row(s) for {DAY}: the grain is one row per (city, observed_date)"
    )
    # A day cut in the session's time zone shows as rows dated the day before the run's window,
    # each holding a few hours (a model that ignores the window writes whole days there instead).
    cut = [r for r in mart if r["observed_date"] == NEIGHBOURS[0] and r["city"] in expected
           and (r["reading_count"] or 0) < expected[r["city"]]["reading_count"]]  # fmt: skip
    assert not cut, (
        f"{len(cut)} row(s) are dated {NEIGHBOURS[0]}, the day before the run's window, e.g. "
        f"{cut[0]['city']} with {cut[0]['reading_count']} readings: observed_date must be the UTC"
        " day (staging's observed_date). date_trunc() and ::date use the session's time zone"
    )
    missing = sorted(set(expected) - set(keys))
    assert not missing, (
        f"no row for {DAY} for {len(missing)} cities, e.g. {missing[0]}. observed_date is the"
        " UTC day of the reading (staging's observed_date)"
        + (f"; rows exist for {sorted({str(r['observed_date']) for r in mart})}" if mart else "")
    )


def _close(got, want, tolerance=0.011) -> bool:
    if got is None or want is None:
        return got is None and want is None
    return abs(float(got) - float(want)) <= tolerance


def test_summary_values_correct(mart, expected):
    day = {r["city"]: r for r in _day_rows(mart)}
    assert day, f"daily_weather_summary has no rows for {DAY}"
    for city, want in expected.items():
        got = day.get(city)
        if got is None:
            continue  # test_one_row_per_city_and_day reports it
        if got["reading_count"] != want["reading_count"]:
            more = got["reading_count"] == want["delivered"] != want["reading_count"]
            pytest.fail(
                f"{city} {DAY}: reading_count is {got['reading_count']}, expected"
                f" {want['reading_count']}"
                + (" (you counted duplicate deliveries: count each reading once)" if more else ""),
                pytrace=False,
            )
        # Exact, except that a float average may round a half-cent tie the other way.
        if not _close(got["avg_temperature_c"], want["avg_c"], 0.01 + 1e-9):
            hint = ""
            if want["fahrenheit"] and _close(
                got["avg_temperature_c"], want["avg_as_delivered"], 0.05
            ):
                hint = " (that is the average of the values as delivered: use temperature_c, in °C)"
            pytest.fail(
                f"{city} {DAY}: avg_temperature_c is {got['avg_temperature_c']}, expected"
                f" {want['avg_c']}{hint}",
                pytrace=False,
            )
        value = got["avg_temperature_c"]
        if value is not None and Decimal(str(value)) != round(Decimal(str(value)), 2):
            pytest.fail(
                f"{city} {DAY}: avg_temperature_c is {value}, not rounded to 2 decimals:"
                f" round() the average (expected {want['avg_c']})",
                pytrace=False,
            )
        for column, key in (("min_temperature_c", "min_c"), ("max_temperature_c", "max_c"),
                            ("max_wind_speed_kmh", "max_wind"),
                            ("total_precipitation_mm", "precipitation")):  # fmt: skip
            assert _close(got[column], want[key], 1e-6), (
                f"{city} {DAY}: {column} is {got[column]}, expected {want[key]:.2f}"
            )


GIVEN_CONFIG = {
    "materialized": "incremental",
    "incremental_strategy": "delete+insert",
    "unique_key": ["city", "observed_date"],
}


def test_only_the_partition_window(phase, runs, request):
    manifest = json.loads(phase.DBT_PROJECT.manifest_path.read_text())
    node = next((n for n in manifest["nodes"].values()
                 if n["resource_type"] == "model" and n["name"] == "daily_weather_summary"), None)  # fmt: skip
    config = (node or {}).get("config", {})
    for key, value in GIVEN_CONFIG.items():
        got = config.get(key)
        assert got == value or (key == "unique_key" and got == tuple(value)), (
            f"daily_weather_summary's config has {key}={got!r}, the given config block says "
            f"{value!r}: keep it, or a run rebuilds the whole table and wipes every other day's "
            "rows"
        )
    code = re.sub(r"\{#.*?#\}|--[^\n]*", " ", (node or {}).get("raw_code", ""), flags=re.S)
    assert not re.search(r"\{\{\s*this\s*\}\}", code), (
        "daily_weather_summary filters on {{ this }} (a high-water mark such as observed_date > "
        "(select max(observed_date) from {{ this }})): a backfill or a re-run of any day before "
        "the newest would then write nothing. The window [var('min_date'), var('max_date')) is "
        "the only filter; delete+insert replaces its days"
    )
    full = [args for args in DBT_ARGS if {"--full-refresh", "-f"} & set(args)]
    assert not full, (
        f"weather_dbt_models runs dbt with {' '.join(full[0])!r}: --full-refresh rebuilds the "
        "incremental model from scratch, wiping every other day's rows. Run `build` for the "
        "partition's window only"
    )
    mart = request.getfixturevalue("mart")  # only now: the checks above need no rows
    others = sorted({str(r["observed_date"]) for r in mart} - {str(DAY), str(LAST)})
    assert not others, (
        f"the run for {RANGE} wrote rows for {', '.join(others)} (the landing table also holds"
        " those days): read only the readings in [var('min_date'), var('max_date'))"
    )
    last = {r["city"] for r in mart if r["observed_date"] == LAST}
    assert last, (
        f"the run for {RANGE} (two days in one run, as a backfill runs them) wrote no rows for "
        f"{LAST}: read every reading in [var('min_date'), var('max_date')), not one day"
    )


def _expected_alerts(expected) -> set[tuple]:
    out = set()
    for city, e in expected.items():
        if e["max_c"] is not None and round(e["max_c"], 2) >= HEAT_C:
            out.add((city, DAY, "heat"))
        if e["min_c"] is not None and round(e["min_c"], 2) <= FROST_C:
            out.add((city, DAY, "frost"))
        if e["max_wind"] is not None and e["max_wind"] >= STORM_KMH:
            out.add((city, DAY, "storm"))
    return out


def test_alerts_derived(phase, request, expected):
    rows = [
        {"city": city, "country": e["country"], "observed_date": DAY,
         "reading_count": e["reading_count"],
         "avg_temperature_c": None if e["avg_c"] is None else round(e["avg_c"], 2),
         "min_temperature_c": None if e["min_c"] is None else round(e["min_c"], 2),
         "max_temperature_c": None if e["max_c"] is None else round(e["max_c"], 2),
         "max_wind_speed_kmh": None if e["max_wind"] is None else Decimal(str(e["max_wind"])),
         "total_precipitation_mm": e["precipitation"]}
        for city, e in expected.items()
    ]  # fmt: skip
    # Two made-up cities: one with nulls (no alert), one exactly at every threshold (3 alerts).
    rows.append({**rows[0], "city": "Nowhere", "max_temperature_c": None,
                 "min_temperature_c": None, "max_wind_speed_kmh": None})  # fmt: skip
    rows.append({**rows[0], "city": "Edgetown", "max_temperature_c": Decimal("30.00"),
                 "min_temperature_c": Decimal("0.00"), "max_wind_speed_kmh": Decimal("40.0")})  # fmt: skip
    edge = {("Edgetown", DAY, kind) for kind in ("heat", "frost", "storm")}
    try:
        alerts = phase.derive_alerts(rows)
    except NotImplementedError as exc:
        pytest.fail(str(exc), pytrace=False)
    keys = {"city", "observed_date", "alert", "value", "threshold"}
    odd = next((a for a in alerts if not isinstance(a, dict) or set(a) != keys), None)
    assert odd is None, (
        f"each alert is a dict with exactly the keys {sorted(keys)}; got "
        f"{sorted(odd) if isinstance(odd, dict) else repr(odd)[:80]}"
    )
    by_city = {r["city"]: r for r in rows}
    columns = {"heat": ("max_temperature_c", HEAT_C), "frost": ("min_temperature_c", FROST_C),
               "storm": ("max_wind_speed_kmh", STORM_KMH)}  # fmt: skip
    for a in alerts:
        column, threshold = columns.get(a["alert"], (None, None))
        row = by_city.get(a["city"])
        if column is None or row is None or row[column] is None:
            continue  # reported below as an unexpected alert
        for field, want_value, what in (("value", float(row[column]), f"the row's {column}"),
                                        ("threshold", threshold, "the threshold it crossed")):  # fmt: skip
            got_value = a[field]
            ok = isinstance(got_value, int | float | Decimal) and not isinstance(got_value, bool)
            assert ok and abs(float(got_value) - want_value) < 1e-9, (
                f"the {a['alert']} alert of {a['city']}: {field} is {got_value!r}, expected "
                f"{want_value} ({what})"
            )
    got = {(a["city"], a["observed_date"], a["alert"]) for a in alerts}
    want = _expected_alerts(expected)
    missing, unexpected = sorted((want | edge) - got)[:3], sorted(got - want - edge)[:3]
    handmade = {"Nowhere", "Edgetown"} & {city for city, *_ in missing + unexpected}
    assert got == want | edge, (
        f"derive_alerts is wrong: missing {missing or 'none'}, unexpected {unexpected or 'none'}"
        " (heat: max >= 30 °C, frost: min <= 0 °C, storm: max wind >= 40 km/h, nothing for a"
        " null)"
        + (
            "\nNowhere and Edgetown are rows the grader adds by hand, not in your data: Nowhere"
            " has only nulls (no alert), Edgetown sits exactly on every threshold (3 alerts)"
            if handmade
            else ""
        )
    )
    runs = request.getfixturevalue("runs")  # only now: the rules above need no dbt run
    run = runs["learner"]
    if not materialized(run, dg.AssetKey(["phase4", "weather_alerts"])):
        pytest.fail(why(runs["sql"], runs["project_dir"], "weather_alerts"), pytrace=False)
    with db.connect() as conn, conn.cursor() as cur:
        cur.execute("select to_regclass('phase4.weather_alerts')")
        stored: set[tuple] = set()
        if cur.fetchone()[0] is not None:
            cur.execute("select city, observed_date, alert from phase4.weather_alerts"
                        " where observed_date = %s", (DAY,))  # fmt: skip
            stored = set(cur.fetchall())
    assert stored == want, (
        f"phase4.weather_alerts holds {len(stored)} alerts for {DAY}, expected {len(want)}"
    )


def test_tests_catch_broken_versions(phase, record_property):
    learner_tests.grade(phase, 4, broken, "TODO 5", record_property)


def test_dbt_unit_tests_catch_broken_sql(phase, request, record_property):
    mine = wdbt.project_dir_for(phase.__file__)
    if dbt_unit_tests.learner_unit_tests(mine):
        request.getfixturevalue("runs")  # builds the staging view whose columns dbt looks up
    reference = wdbt.project_dir_for(load_phase(4, "solutions").__file__)
    score = dbt_unit_tests.score(mine, reference, broken.BROKEN_SQL, "TODO 5")
    learner_tests.report(score, broken.SQL_THRESHOLD, record_property)
