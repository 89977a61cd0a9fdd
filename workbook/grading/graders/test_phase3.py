"""Grader for Phase 3: each test is one requirement (titles and hints: requirements.toml).

Partitions and ranges are materialized in-process (a range through the partition-range tags);
the expected rows are computed in SQL from the seeded source with explicit UTC bounds
(``grading_oracle.py``), while the database session's time zone is America/Chicago.
"""

from __future__ import annotations

from datetime import UTC, timedelta

import broken_phase3 as broken
import dagster as dg
import pytest
from grading_oracle import VALID_ROWS_SQL, aggregates_sql, day, expected, query
from psycopg2 import sql
from recording import (
    QUERIES,
    CrashingPostgres,
    EastOfUtcPostgres,
    RecordingPostgres,
    check_deletes,
    check_reads,
)

from workbook.course.explain import explain_failure
from workbook.course.phases import given
from workbook.grading import learner_tests
from workbook.platform.resources import RESOURCES, PostgresResource

RANGE_START, RANGE_END = "dagster/asset_partition_range_start", "dagster/asset_partition_range_end"
READING_COLUMNS = {
    "station_id", "city", "country", "observed_at", "temperature_c", "humidity_pct",
    "wind_speed_kmh", "pressure_hpa", "precipitation_mm", "condition",
}  # fmt: skip


@pytest.fixture(scope="module")
def phase(phase_module):
    return phase_module(3)


def _window(first: str, last: str) -> dict:
    """Parameters for the oracle: the UTC days first..last (inclusive), as a half-open window."""
    return {"start": day(first), "end": day(last) + timedelta(days=1)}


def _table(name: str) -> list[dict]:
    """The rows of phase3.<name>; none if the table does not exist."""
    if query("select to_regclass(%s) as t", (f"phase3.{name}",))[0]["t"] is None:
        return []
    return query(sql.SQL("select * from {}").format(sql.Identifier("phase3", name)))


def _meta(run, node: str) -> dict:
    events = run.asset_materializations_for_node(node)
    return {k: v.value for k, v in (events[-1].metadata if events else {}).items()}


def _fail_unless_success(run, asset: str) -> None:
    if not run.success:
        pytest.fail(explain_failure(run, asset), pytrace=False)


def _utc(ts) -> str:
    return f"{ts.astimezone(UTC):%Y-%m-%d %H:%M} UTC"


def _describe(rows: list[dict], want: dict) -> str:
    """What is wrong with a day's stored rows compared with the oracle's valid rows."""
    got = [(r["city"], r["observed_at"]) for r in rows]
    extra = sorted(set(got) - set(want))
    lost = sorted(set(want) - set(got))
    parts = [f"expected {len(want)} rows, got {len(got)}"]
    if len(got) != len(set(got)):
        parts.append(f"{len(got) - len(set(got))} are duplicates (replace, do not append)")
    if extra:
        parts.append(f"{len(extra)} should not be there, e.g. {extra[0][0]} at {_utc(extra[0][1])}")
    if lost:
        parts.append(f"{len(lost)} are missing, e.g. {lost[0][0]} at {_utc(lost[0][1])}")
    return "; ".join(parts)


# --- TODO 1 and 2: daily_readings, one partition at a time ----------------------------------------


def _run_daily(phase, instance, key: str, resources: dict) -> dict:
    run = dg.materialize(
        [given(phase, "daily_readings")], partition_key=key, resources=resources,
        raise_on_error=False, instance=instance,
    )  # fmt: skip
    return {"run": run, "rows": _table("daily_readings") if run.success else []}


# Partition 2024-01-05, then 01-06, then 01-05 again, then 01-05 with a crash; each fixture adds
# its runs to the previous one's, so a requirement runs only what it needs. Runs that fail are
# recorded, not raised: each requirement looks only at the runs it needs.


@pytest.fixture(scope="module")
def daily_first(phase, instance):
    """Partition 2024-01-05 on an empty schema, every query recorded."""
    query("drop schema if exists phase3 cascade")  # no stale table can pass
    QUERIES.clear()
    first = _run_daily(
        phase, instance, "2024-01-05", {**RESOURCES, "postgres": RecordingPostgres()}
    )
    return {"first": first, "queries": list(QUERIES)}


@pytest.fixture(scope="module")
def daily(phase, instance, daily_first):
    """Then 2024-01-06, then 2024-01-05 again."""
    out = dict(daily_first)
    out["next"] = _run_daily(phase, instance, "2024-01-06", RESOURCES)
    out["again"] = _run_daily(phase, instance, "2024-01-05", RESOURCES)
    return out


@pytest.fixture(scope="module")
def daily_crash(phase, instance, daily):
    """Then 2024-01-05 once more, with a crash while the rows are written."""
    out = dict(daily)
    crash = _run_daily(phase, instance, "2024-01-05", {**RESOURCES, "postgres": CrashingPostgres()})
    crash["rows"] = _table("daily_readings") if out["again"]["run"].success else []
    out["crash"] = crash
    return out


def _check_queries(queries: list, reads: str, writes: str, what: str, todo: str) -> None:
    """The recorded queries of partition 2024-01-05's run: ``reads`` read only the day's rows, and
    both the read and the delete of ``writes`` take the window as parameters."""
    window_rows = query(
        sql.SQL("select count(*) as n from {} where observed_at >= %(start)s and observed_at < "
                "%(end)s").format(sql.Identifier(*reads.split("."))),
        _window("2024-01-05", "2024-01-05"),
    )[0]["n"]  # fmt: skip
    QUERIES[:] = queries
    check_reads(reads, window_rows, what, todo)
    check_deletes(writes, todo)


def _succeeded(steps: dict, *names: str, asset: str) -> None:
    for name in names:
        _fail_unless_success(steps[name]["run"], asset)


def test_daily_readings_one_utc_day(daily_first):
    daily = daily_first
    _succeeded(daily, "first", asset="daily_readings")
    rows = daily["first"]["rows"]
    assert rows and set(rows[0]) == READING_COLUMNS, (
        f"phase3.daily_readings must have the columns {sorted(READING_COLUMNS)}, "
        f"got {sorted(rows[0]) if rows else 'no rows'}"
    )
    want = expected(_window("2024-01-05", "2024-01-05"))["valid"]
    keys = [(r["city"], r["observed_at"]) for r in rows]
    hint = ""
    outside = {ts for _, ts in keys if not day("2024-01-05") <= ts < day("2024-01-06")}
    if outside and outside <= {day("2024-01-06")}:
        hint = " The next day's 00:00 reading is in: the window's end is exclusive (< end)."
    elif outside:
        first = min(outside)
        hint = (
            f" Rows from outside the UTC day are in (e.g. {first.astimezone(UTC):%Y-%m-%d %H:%M}"
            " UTC): the day "
            "was cut in the session's time zone; compare observed_at with the aware timestamps "
            "of partition_time_window, not with dates."
        )
    assert len(keys) == len(want) and set(keys) == set(want), (
        f"partition 2024-01-05: {_describe(rows, want)}.{hint}"
    )
    wrong = [
        r for r in rows if abs(r["temperature_c"] - want[(r["city"], r["observed_at"])]) > 0.051
    ]
    assert not wrong, (
        f"{len(wrong)} temperature_c values differ from validate_readings', e.g. {wrong[0]}"
    )
    _check_queries(daily["queries"], "source.weather_readings", "phase3.daily_readings",
                   "the partition's UTC day", "TODO 1")  # fmt: skip


def test_daily_readings_metadata(daily_first):
    daily = daily_first
    _succeeded(daily, "first", asset="daily_readings")
    meta = _meta(daily["first"]["run"], "phase3__daily_readings")
    oracle = expected(_window("2024-01-05", "2024-01-05"))
    want = {"row_count": len(oracle["valid"])}
    want |= {f"rejected_{reason}": n for reason, n in oracle["counts"].items()}
    for name, value in want.items():
        assert name in meta, f"metadata {name!r} is missing (found: {sorted(meta) or 'none'})"
        assert meta[name] == value, (
            f"partition 2024-01-05: metadata {name!r} is {meta[name]!r}, expected {value}"
        )


def test_rerun_replaces_partition(daily):
    _succeeded(daily, "first", "next", "again", asset="daily_readings")
    want = expected(_window("2024-01-05", "2024-01-06"))["valid"]
    for step, label in (("next", "after 2024-01-06"), ("again", "after re-running 2024-01-05")):
        rows = daily[step]["rows"]
        keys = [(r["city"], r["observed_at"]) for r in rows]
        assert len(keys) == len(want) and set(keys) == set(want), (
            f"{label}, the table should hold exactly the valid rows of both days: "
            f"{_describe(rows, want)}. Delete only the partition's window, then insert."
        )


def test_partition_write_is_atomic(daily_crash):
    daily = daily_crash
    _succeeded(daily, "first", "next", "again", asset="daily_readings")
    crash = daily["crash"]
    assert not crash["run"].success, (
        "the grader's simulated crash during the insert was not triggered: write the rows "
        "through the postgres resource (postgres.replace_rows or postgres.connection())"
    )
    before = sorted((r["city"], r["observed_at"]) for r in daily["again"]["rows"])
    after = sorted((r["city"], r["observed_at"]) for r in crash["rows"])
    assert before == after, (
        f"a run that crashed while inserting changed the table ({len(before)} rows before, "
        f"{len(after)} after): delete and insert in ONE transaction (postgres.replace_rows)"
    )


# --- TODO 3: daily_readings_batched, a whole range in one run -------------------------------------


@pytest.fixture(scope="module")
def batched(phase, instance):
    asset = given(phase, "daily_readings_batched")
    query("drop table if exists phase3.daily_readings_batched")
    out = {}
    for step, (first, last) in (("range", ("2024-01-03", "2024-01-09")),
                                ("again", ("2024-01-05", "2024-01-06"))):  # fmt: skip
        run = dg.materialize(
            [asset], resources=RESOURCES, tags={RANGE_START: first, RANGE_END: last},
            raise_on_error=False, instance=instance,
        )  # fmt: skip
        out[step] = {"run": run, "rows": _table("daily_readings_batched") if run.success else []}
    return out


def test_single_run_backfill(phase, batched):
    policy = given(phase, "daily_readings_batched").backfill_policy
    assert policy is not None and policy.max_partitions_per_run is None, (
        f"daily_readings_batched needs backfill_policy=dg.BackfillPolicy.single_run(), has {policy}"
    )
    _succeeded(batched, "range", "again", asset="daily_readings_batched")
    want = expected(_window("2024-01-03", "2024-01-09"))["valid"]
    for step, label in (("range", "range 2024-01-03..09"), ("again", "then 2024-01-05..06 again")):
        rows = batched[step]["rows"]
        keys = [(r["city"], r["observed_at"]) for r in rows]
        assert len(keys) == len(want) and set(keys) == set(want), (
            f"{label} in one run: {_describe(rows, want)}. Use the whole partition_time_window."
        )
    meta = _meta(batched["range"]["run"], "phase3__daily_readings_batched")
    assert meta.get("days") == 7, (
        f"metadata 'days' must be 7 for a 7-day range, got {meta.get('days')}"
    )
    assert meta.get("row_count") == len(want), (
        f"metadata 'row_count' must be {len(want)} for the range, got {meta.get('row_count')}"
    )
    counts = expected(_window("2024-01-03", "2024-01-09"))["counts"]
    for reason, n in counts.items():
        name = f"rejected_{reason}"
        assert meta.get(name) == n, (
            f"metadata {name!r} must be {n} for the range 2024-01-03..09, got "
            f"{meta.get(name, 'nothing')!r}: report the same counts as daily_readings"
        )


# --- TODO 4: daily_city_aggregates, incremental ---------------------------------------------------

AGGREGATES_SQL = aggregates_sql(
    "phase3.daily_readings", "observed_at >= %(start)s and observed_at < %(end)s"
)
AGG_FIELDS = ("reading_count", "min_temperature_c", "max_temperature_c", "mean_temperature_c",
              "total_precipitation_mm")  # fmt: skip


@pytest.fixture(scope="module")
def aggregates(phase, instance):
    """Seed phase3.daily_readings for Jan 4-6 with the grader's own valid rows, then aggregate."""
    asset = given(phase, "daily_city_aggregates")
    query("drop schema if exists phase3 cascade")
    given(phase, "ensure_tables")(PostgresResource())
    columns = sql.SQL(", ").join(map(sql.Identifier, sorted(READING_COLUMNS)))
    query(
        sql.SQL("insert into phase3.daily_readings ({c}) select {c} from (").format(c=columns)
        + sql.SQL(VALID_ROWS_SQL) + sql.SQL(") v"),
        _window("2024-01-04", "2024-01-06"),
    )  # fmt: skip
    # The grader's own rows differ from what the source would give (an hour missing, other
    # temperatures), so aggregating the source instead of daily_readings shows.
    query(SEED_CHANGES_SQL)
    out = {}
    # The first run is recorded; the re-run's database session is east of UTC (see
    # EastOfUtcPostgres), where comparing the day column with timestamps misses the day.
    resources = {"first": {**RESOURCES, "postgres": RecordingPostgres()}, "next": RESOURCES,
                 "again": {**RESOURCES, "postgres": EastOfUtcPostgres()}}  # fmt: skip
    for step, key in (("first", "2024-01-05"), ("next", "2024-01-06"), ("again", "2024-01-05")):
        QUERIES.clear()
        run = dg.materialize(
            [asset], partition_key=key, resources=resources[step], raise_on_error=False,
            instance=instance,
        )  # fmt: skip
        if step == "again" and not run.success:  # the session's zone, or a mistake of its own?
            in_chicago = dg.materialize([asset], partition_key=key, resources=RESOURCES,
                                        raise_on_error=False, instance=instance)  # fmt: skip
            if in_chicago.success:
                pytest.fail(
                    f"{explain_failure(run, 'daily_city_aggregates')}\nThat was the re-run of "
                    "2024-01-05 with the database session in Asia/Tokyo (it works in Chicago): "
                    "compare day (a date) with dates (start.date(), end.date()), not with "
                    "timestamps; Postgres reads a date as midnight in the session's time zone",
                    pytrace=False,
                )
            run = in_chicago
        _fail_unless_success(run, "daily_city_aggregates")
        out[step] = _table("daily_city_aggregates")
        if step == "first":
            out["queries"] = list(QUERIES)
            out["meta"] = _meta(run, "phase3__daily_city_aggregates")
    return out


SEED_CHANGES_SQL = """
delete from phase3.daily_readings where extract(hour from observed_at at time zone 'UTC') = 3;
update phase3.daily_readings set temperature_c = temperature_c + 2
where extract(hour from observed_at at time zone 'UTC') = 12;
"""


def test_incremental_daily_aggregates(aggregates):
    for step, last, label in (("first", "2024-01-05", "partition 2024-01-05"),
                              ("next", "2024-01-06", "then 2024-01-06"),
                              ("again", "2024-01-06", "then 2024-01-05 again")):  # fmt: skip
        rows = aggregates[step]
        want = {
            (r["city"], r["day"]): r for r in query(AGGREGATES_SQL, _window("2024-01-05", last))
        }
        got = [(r["city"], r["day"]) for r in rows]
        assert len(got) == len(want) and set(got) == set(want), (
            f"{label}: expected {len(want)} rows (one per city and UTC day, only the partitions "
            f"run), got {len(got)}; e.g. unexpected {sorted(set(got) - set(want))[:2]}, missing "
            f"{sorted(set(want) - set(got))[:2]}. Read and replace only the partition's window."
        )
        for r in rows:
            w = want[(r["city"], r["day"])]
            for field in AGG_FIELDS:
                tolerance = 0.01 + 1e-9 if field == "mean_temperature_c" else 1e-6
                assert abs(float(r[field]) - float(w[field])) <= tolerance, (
                    f"{label}: {r['city']} {r['day']} {field} is {r[field]}, expected {w[field]} "
                    "(aggregate the rows of phase3.daily_readings: the grader wrote its own "
                    "there, which differ from the source)"
                )
    first = aggregates["first"]
    meta = aggregates["meta"]
    assert meta.get("row_count") == len(first), (
        f"partition 2024-01-05: metadata 'row_count' must be the number of aggregate rows "
        f"written ({len(first)}), got {meta.get('row_count', 'nothing')!r}"
    )
    _check_queries(aggregates["queries"], "phase3.daily_readings", "phase3.daily_city_aggregates",
                   "the partition's day", "TODO 4")  # fmt: skip


def test_tests_catch_broken_versions(phase, record_property):
    learner_tests.grade(phase, 3, broken, "TODO 5", record_property, database=True)
