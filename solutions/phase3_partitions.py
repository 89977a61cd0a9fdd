"""Phase 3: daily partitions, backfills and incremental processing.

Goal
    Process the weather one UTC day at a time. A *partition* is a slice of an asset (here: one
    day) that Dagster tracks on its own: which days exist, which are materialized, which failed.
    A *backfill* materializes a range of partitions. Because each run replaces exactly its own
    day, running a day twice, or re-running a whole month after a bug fix, is always safe. If you
    come from Airflow: there is no ``execution_date`` to reason about and no "clear task
    instances"; the day is data, and you ask Dagster for the days you want.

The graph (every asset is partitioned by ``DAILY``: one partition per UTC day in January 2024)
    ```mermaid
    graph LR
        src[(source.weather_readings)] --> daily_readings --> daily_city_aggregates
        src --> daily_readings_batched
    ```
    phase3/daily_readings          one run per day (the default)   -> table phase3.daily_readings
    phase3/daily_readings_batched  one run for a whole range       -> phase3.daily_readings_batched
    phase3/daily_city_aggregates   day D reads only day D          -> phase3.daily_city_aggregates

    The assets write their tables themselves through the ``postgres`` resource (the Phase 2 IO
    manager replaces a whole table, which is wrong for a partition) and return
    ``dg.MaterializeResult`` with metadata. The validation and aggregation rules are Phase 2's,
    imported from ``workbook/platform/rules.py``.

Why the partitions have an end date
    ``DailyPartitionsDefinition(start_date="2024-01-01", end_date="2024-01-31")`` has 30
    partitions, 2024-01-01 to 2024-01-30: ``end_date`` is exclusive, and it matches the seeded 30
    days. Without it, partitions would run up to today, and "backfill everything" would launch
    hundreds of runs over days that have no data. A live feed would leave it open.

A partition is a half-open UTC window
    ``context.partition_time_window`` is ``(start, end)``: two timezone-aware datetimes, e.g.
    2024-01-05 00:00 UTC and 2024-01-06 00:00 UTC for partition ``"2024-01-05"``. Select
    ``observed_at >= start and observed_at < end``: ``<=`` would take the next day's midnight
    reading too (an off-by-one that double-counts it), and ``observed_at::date = '2024-01-05'``
    uses the database session's time zone, which is not always UTC (the grader's is Chicago).
    Pass ``start`` and ``end`` as query parameters (``%s``), never by formatting them into SQL.

Idempotent, atomic writes
    Re-running a day must leave exactly the same rows, so a run *replaces* its day: delete the
    window's rows and insert the new ones in ONE transaction. ``postgres.replace_rows(schema,
    table, rows, where="observed_at >= %s and observed_at < %s", params=(start, end))`` does
    that. If the run dies between the delete and the insert, the transaction rolls back and the
    previous rows are still there; no reader ever sees a half-written day. Appending instead
    would duplicate rows on every re-run (the primary key makes that fail loudly).

Backfills: one run per partition, or one run for the range
    In the UI, select ``daily_readings``, *Materialize*, pick a range: Dagster launches one run
    per day. Each run is isolated (a bad day fails alone and is retried alone) and runs can go
    in parallel, but each pays a run's start-up cost (a process, imports, resource setup).
    ``daily_readings_batched`` has ``backfill_policy=dg.BackfillPolicy.single_run()``: a backfill
    over any range is ONE run, in which ``context.partition_time_window`` spans the whole range
    (and ``context.partition_key`` raises, since there is no single key). Use it when the work
    is one set-based query; use per-partition runs when days are slow, fail independently, or
    must be retried one by one. Measured here (``uv run python -m benchmarks``, in-process,
    2 cores, idle; docs/benchmarks.md):

    | backfill of 30 days                     | seconds |
    |-----------------------------------------|---------|
    | 30 runs, one per partition              |     6.2 |
    | 1 run, BackfillPolicy.single_run()      |     0.7 |

    Under ``dg dev`` each run is also a new process, so the gap is wider there: a 7-day
    backfill through the UI took about 3 minutes as 7 queued runs, against under a minute as
    one single run, on the same loaded machine.

Where a run executes: the executor, and the run queue
    Under ``dg dev`` every run is a new process that loads the code location. How that
    process runs the steps is the *executor*, a setting of the ``Definitions``:
        dg.Definitions(assets=[...], executor=dg.in_process_executor)
    ``in_process_executor`` runs the steps one after another inside the run's process.
    Dagster's default, the multiprocess executor, starts one more process per step (each
    loads the code location again) and runs independent steps side by side. The workbook sets
    ``in_process_executor`` for its whole location (workbook/definitions.py): its steps take
    a fraction of a second, so a process per step cost ten times the work (Phase 1's
    *Materialize all* took 21-23 s from launch to success that way). Choose multiprocess when
    steps are long and independent (heavy queries or API calls that gain from running in
    parallel), or when a step may crash its process (out of memory) and must not take the
    others down with it.
    How many *runs* go at once is the instance's setting, not the code's: the repository's
    ``dagster.yaml`` queues the runs a backfill launches and starts two at a time
    (``concurrency: runs: max_concurrent_runs``), so 30 days do not start 30 processes at once
    on a laptop.

Incremental processing
    ``daily_city_aggregates`` for day D reads only day D of ``phase3.daily_readings`` (an
    index on ``observed_at`` makes that a range scan), so processing a new day costs the same
    whether history holds a month or five years. A full refresh, like Phase 2's
    ``city_aggregates``, re-reads all of history every time. Measured (one new day: validate it
    and aggregate it; the full refresh re-validates and re-aggregates the whole history):

    | history (days) | source rows | incremental (s) | full refresh (s) |
    |----------------|-------------|-----------------|------------------|
    |             30 |       8,927 |            0.28 |             0.55 |
    |            365 |     108,451 |            0.27 |             3.64 |
    |          1,825 |     541,518 |            0.26 |            17.00 |

    The incremental cost stays flat at about a quarter of a second (mostly Dagster's per-run
    overhead); the full refresh grows with history, 31 times from 30 days to 5 years.

The steps (the grader checks each one on the seeded dataset, in a Chicago session time zone)
    TODO 1  ``replace_readings(postgres, table, start, end)``: fetch the source readings with
            ``start <= observed_at < end`` (parameters!), validate them with
            ``validate_readings``, and replace that window of ``phase3.<table>`` atomically.
            Return ``{"row_count": valid rows, "rejected_<reason>": n for every reason}``.
    TODO 2  ``daily_readings``: call ``replace_readings`` for the partition's window and return
            a ``dg.MaterializeResult`` whose metadata holds ``replace_readings``'s counts.
    TODO 3  ``daily_readings_batched``: give it ``backfill_policy=dg.BackfillPolicy.single_run()``
            and process the whole ``partition_time_window`` in one call; metadata: the counts,
            plus ``days`` (how many partitions the run covered).
    TODO 4  ``daily_city_aggregates``: read the partition's window of ``phase3.daily_readings``,
            aggregate it with ``aggregate_city_days``, and replace that window's days
            (``day >= start.date() and day < end.date()``) in ``phase3.daily_city_aggregates``;
            metadata ``row_count``.

    TODO 5  Test one partition on the database (see "Testing" below).

Testing: one partition, on the real database
    Partitions are about *which rows a run touches*, so this test uses the database (your
    workbook's when you run it by hand; the grader's own test database under ``workbook check``).
    ``dg.materialize([daily_readings], partition_key="2024-01-05", resources=RESOURCES)`` runs
    one day in-process, as a backfill would. Put a marker row just outside each edge of the day
    (``sentinel(...)`` below: 2024-01-04 23:59:59 and 2024-01-06 00:00:00 UTC), run the day,
    and assert that the day holds exactly ``row_count`` rows, all inside its window, and that
    every other day (markers included) is as it was; then run it again and assert that nothing
    changed (idempotent). Remove the markers at the end. In Airflow the same test means a
    ``dag.test(execution_date=...)`` of the whole DAG against a metadata database, and the date
    reaches your code as a templated string.

    Run your tests:  uv run pytest phase3_partitions.py
    ``workbook check 3`` runs them against the reference and 6 broken versions of
    ``daily_readings`` (a window one reading too wide, the day of the session's time zone, an
    append, a whole-table replace, ...): catch at least 5. Keep your test under a few seconds.

Try it
    uv run workbook check 3        grade this file;  uv run workbook hint 3 for hints
    uv run dg dev                  group phase3: the partition bar shows which days exist.
        Select daily_readings > Materialize > a range of 7 days > Launch backfill: 7 runs
        (Runs page, Backfills tab). Run a day again: its row count stays the same.
        Select daily_readings_batched and backfill the same range: 1 run.
    The same from the terminal (each run shows up in the UI's history):
        uv run dg launch --assets phase3/daily_readings --partition 2024-01-14
        uv run dg launch --assets phase3/daily_readings_batched --partition-range 2024-01-14...2024-01-20
    A range is one run over 7 days (the end day is included), so it needs
    ``BackfillPolicy.single_run()`` on every selected asset: daily_readings refuses it.
    uv run workbook db psql -c "select observed_at::date, count(*) from phase3.daily_readings group by 1"
"""

from datetime import UTC, datetime  # noqa: F401 - TODO 5 uses UTC

import dagster as dg

from workbook.platform import rules
from workbook.platform.resources import RESOURCES, PostgresResource

# Phase 2's rules, from workbook/platform/rules.py (so a bug left in your Phase 2 cannot break Phase 3).
validate_readings = rules.validate_readings  # rows -> (valid rows, {reason: rejected count})
aggregate_city_days = rules.aggregate_city_days  # valid rows -> one dict per (city, UTC day)
REASONS = rules.REASONS  # every rejection reason, in the order the rules apply

SCHEMA = "phase3"

# One partition per UTC day, 2024-01-01 .. 2024-01-30 (end_date is exclusive).
DAILY = dg.DailyPartitionsDefinition(start_date="2024-01-01", end_date="2024-01-31")

# The tables, with types and keys declared up front. The primary keys make an "append instead of
# replace" bug fail loudly, and lead with the time column, so reading or deleting one day is a
# range scan of the index, not a scan of all history.
TABLES_SQL = """
create schema if not exists phase3;
create table if not exists phase3.daily_readings (
    station_id text not null, city text not null, country text,
    observed_at timestamptz not null, temperature_c double precision not null,
    humidity_pct double precision, wind_speed_kmh double precision,
    pressure_hpa double precision not null, precipitation_mm double precision not null,
    condition text,
    primary key (observed_at, city)
);
create table if not exists phase3.daily_readings_batched (like phase3.daily_readings including all);
create table if not exists phase3.daily_city_aggregates (
    city text not null, day date not null, reading_count bigint not null,
    min_temperature_c double precision not null, max_temperature_c double precision not null,
    mean_temperature_c double precision not null,
    total_precipitation_mm double precision not null,
    primary key (day, city)
);
"""


def ensure_tables(postgres: PostgresResource) -> None:
    """Create phase3's tables once. The lock keeps parallel backfill runs from racing on DDL."""
    with postgres.connection() as conn, conn.cursor() as cur:
        cur.execute("select pg_advisory_xact_lock(hashtext('workbook.phase3.ddl'))")
        cur.execute(TABLES_SQL)


def replace_readings(
    postgres: PostgresResource, table: str, start: datetime, end: datetime
) -> dict[str, int]:
    """TODO 1: validate the readings observed in [start, end) and replace that window of
    ``phase3.<table>`` with them, atomically. Returns row_count and rejected_<reason> counts."""
    # >>> solution
    raw = postgres.fetch(
        """
        select station_id, station_name, city, country, observed_at, temperature,
               temperature_unit, humidity_pct, wind_speed_kmh, pressure_hpa, precipitation_mm,
               condition
        from source.weather_readings
        where observed_at >= %s and observed_at < %s
        """,
        (start, end),
    )
    valid, rejected = validate_readings(raw)
    postgres.replace_rows(
        SCHEMA, table, valid, where="observed_at >= %s and observed_at < %s", params=(start, end)
    )
    return {"row_count": len(valid), **{f"rejected_{r}": rejected[r] for r in REASONS}}
    # === stub
    # raise NotImplementedError("TODO 1: replace_readings (select the window, validate, replace)")
    # <<<


@dg.asset(key_prefix="phase3", group_name="phase3", partitions_def=DAILY)
def daily_readings(
    context: dg.AssetExecutionContext, postgres: PostgresResource
) -> dg.MaterializeResult:
    """The validated readings of one UTC day. One run per partition in a backfill."""
    ensure_tables(postgres)
    # TODO 2: replace the partition's window; report the counts as metadata.
    # >>> solution
    start, end = context.partition_time_window
    counts = replace_readings(postgres, "daily_readings", start, end)
    return dg.MaterializeResult(metadata=counts)
    # === stub
    # raise NotImplementedError("TODO 2: daily_readings (replace the partition's window)")
    # <<<


# TODO 3: a backfill of this asset must be ONE run for the whole range.
# >>> solution
@dg.asset(
    key_prefix="phase3",
    group_name="phase3",
    partitions_def=DAILY,
    backfill_policy=dg.BackfillPolicy.single_run(),
)
def daily_readings_batched(
    context: dg.AssetExecutionContext, postgres: PostgresResource
) -> dg.MaterializeResult:
    """The same rows as daily_readings; a backfill processes its whole range in one pass."""
    ensure_tables(postgres)
    start, end = context.partition_time_window  # the whole range on a range run
    counts = replace_readings(postgres, "daily_readings_batched", start, end)
    return dg.MaterializeResult(metadata={"days": len(context.partition_keys), **counts})
    # === stub
    # @dg.asset(key_prefix="phase3", group_name="phase3", partitions_def=DAILY)
    # def daily_readings_batched(
    #     context: dg.AssetExecutionContext, postgres: PostgresResource
    # ) -> dg.MaterializeResult:
    #     """The same rows as daily_readings; a backfill processes its whole range in one pass."""
    #     ensure_tables(postgres)
    #     raise NotImplementedError("TODO 3: daily_readings_batched (single-run backfill)")
    # <<<


@dg.asset(key_prefix="phase3", group_name="phase3", partitions_def=DAILY, deps=[daily_readings])
def daily_city_aggregates(
    context: dg.AssetExecutionContext, postgres: PostgresResource
) -> dg.MaterializeResult:
    """Daily aggregates per city. Day D depends on day D of daily_readings, and reads only it."""
    ensure_tables(postgres)
    # TODO 4: aggregate the partition's window of phase3.daily_readings; replace its days.
    # >>> solution
    start, end = context.partition_time_window
    rows = postgres.fetch(
        """
        select city, observed_at, temperature_c, precipitation_mm
        from phase3.daily_readings
        where observed_at >= %s and observed_at < %s
        """,
        (start, end),
    )
    aggregates = aggregate_city_days(rows)
    postgres.replace_rows(
        SCHEMA,
        "daily_city_aggregates",
        aggregates,
        where="day >= %s and day < %s",
        params=(start.date(), end.date()),
    )
    return dg.MaterializeResult(metadata={"row_count": len(aggregates)})
    # === stub
    # raise NotImplementedError("TODO 4: daily_city_aggregates (aggregate the partition's day)")
    # <<<


defs = dg.Definitions(
    assets=[daily_readings, daily_readings_batched, daily_city_aggregates], resources=RESOURCES
)


# --- TODO 5: your tests (run them: uv run pytest phase3_partitions.py) --------------------------


def sentinel(postgres: PostgresResource, observed_at: datetime, remove: bool = False) -> None:
    """Insert (or remove) a marker reading of the city 'Sentinel' in phase3.daily_readings."""
    ensure_tables(postgres)
    with postgres.connection() as conn, conn.cursor() as cur:
        if remove:
            cur.execute("delete from phase3.daily_readings where city = 'Sentinel'")
            return
        cur.execute(
            "insert into phase3.daily_readings (station_id, city, observed_at, temperature_c,"
            " pressure_hpa, precipitation_mm) values ('S-0', 'Sentinel', %s, 0, 1000, 0)",
            (observed_at,),
        )


def rows_per_day(postgres: PostgresResource) -> dict:
    """{(UTC day, city is Sentinel): (rows, sum of temperature_c)} of phase3.daily_readings."""
    rows = postgres.fetch(
        """
        select (observed_at at time zone 'UTC')::date as day, city = 'Sentinel' as marker,
               count(*) as n, round(sum(temperature_c)::numeric, 1) as total
        from phase3.daily_readings group by 1, 2
        """
    )
    return {(r["day"], r["marker"]): (r["n"], r["total"]) for r in rows}


# >>> solution
def test_one_partition_touches_only_its_day():
    postgres = RESOURCES["postgres"]
    day = datetime(2024, 1, 5).date()
    sentinel(postgres, datetime(2024, 1, 4, 23, 59, 59, tzinfo=UTC))
    sentinel(postgres, datetime(2024, 1, 6, tzinfo=UTC))
    try:
        before = rows_per_day(postgres)
        result = dg.materialize([daily_readings], partition_key="2024-01-05", resources=RESOURCES)
        assert result.success
        [event] = result.asset_materializations_for_node("phase3__daily_readings")
        after = rows_per_day(postgres)
        assert after[(day, False)][0] == event.metadata["row_count"].value > 0
        others = {k: v for k, v in after.items() if k != (day, False)}
        assert others == {k: v for k, v in before.items() if k != (day, False)}

        again = dg.materialize([daily_readings], partition_key="2024-01-05", resources=RESOURCES)
        assert again.success
        assert rows_per_day(postgres) == after  # idempotent: the same rows, not twice as many
    finally:
        sentinel(postgres, day, remove=True)


# === stub
# def test_one_partition_touches_only_its_day():
#     raise NotImplementedError("TODO 5: materialize partition 2024-01-05 and check every day")
# <<<
