"""Phase 3 benchmark: how backfills and incremental processing scale, on the seeded data.

    uv run python -m benchmarks.partitions                     # the full benchmark (~ minutes)
    uv run python -m benchmarks.partitions --histories 30 365  # a quicker subset

1. A 30-day backfill of the reference ``daily_readings``: 30 in-process runs, one per partition,
   against one run of ``daily_readings_batched`` (``BackfillPolicy.single_run()``).
2. The cost of one new day (2024-01-30) as history grows (30, 365, 1,825 days):
   incrementally (``daily_readings`` + ``daily_city_aggregates`` for that one partition) against a
   full refresh (re-validate and re-aggregate the whole history, in one run).

Everything runs through ``dagster.materialize`` in this process, so each figure includes
Dagster's per-run overhead, but not the process start-up that ``dagster dev`` adds to every run.
It uses its own database, ``workbook_bench``, on the workbook's server, and never touches the
learner's data or the tests'. ``run()`` returns the measured rows for other harnesses.
"""

import argparse
import os
import statistics
import time
import warnings
from datetime import date, timedelta

BENCH_DB = "workbook_bench"
QUIET = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}  # no per-event DEBUG lines
NEW_DAY = date(2024, 1, 30)  # the last partition of Phase 3
BACKFILL_DAYS = 30


def use_bench_database() -> str:
    """Point this process at ``workbook_bench`` (created on the workbook's server if missing)."""
    from workbook.platform import db

    url = db.sibling_database(BENCH_DB)
    os.environ[db.ENV_VAR] = url
    return url


def _reset(days: int, first: date) -> int:
    """Fresh source data for ``days`` days from ``first``, and no phase3 tables."""
    from workbook.platform import db, generate

    with db.connect() as conn, conn.cursor() as cur:
        cur.execute("drop schema if exists phase3 cascade")
        cur.execute("drop schema if exists source cascade")
    return generate.load(days=days, start=first)


def _timed(fn) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def _check(result) -> None:
    if not result.success:
        raise RuntimeError("a benchmark run failed; see the log above")


def measure_backfill(days: int = BACKFILL_DAYS) -> list[dict]:
    """Seconds for a ``days``-day backfill: one run per partition versus one single run."""
    import dagster as dg

    from workbook.course.phases import load_phase

    p3 = load_phase(3, "solutions")
    from workbook.platform.resources import RESOURCES

    _reset(days, date(2024, 1, 1))
    keys = p3.DAILY.get_partition_keys()[:days]
    # Warm up: the first materialize in a process pays one-off costs (about 2 s).
    _check(
        dg.materialize(
            [p3.daily_readings], partition_key=keys[0], resources=RESOURCES, run_config=QUIET
        )
    )

    def per_partition():
        for key in keys:
            _check(
                dg.materialize(
                    [p3.daily_readings], partition_key=key, resources=RESOURCES, run_config=QUIET
                )
            )

    def single_run():
        tags = {"dagster/asset_partition_range_start": keys[0],
                "dagster/asset_partition_range_end": keys[-1]}  # fmt: skip
        _check(
            dg.materialize(
                [p3.daily_readings_batched], resources=RESOURCES, tags=tags, run_config=QUIET
            )
        )

    return [
        {"benchmark": f"backfill {days} days", "variant": f"{days} runs, one per partition",
         "seconds": _timed(per_partition)},
        {"benchmark": f"backfill {days} days", "variant": "1 run, BackfillPolicy.single_run()",
         "seconds": _timed(single_run)},
    ]  # fmt: skip


def _full_refresh_asset(first: date, end: date):
    """A non-partitioned asset that rebuilds phase3's readings and aggregates from scratch."""
    import dagster as dg

    from workbook.course.phases import load_phase

    p3 = load_phase(3, "solutions")
    from workbook.platform.rules import day_window

    @dg.asset(key_prefix="bench", name="full_refresh")
    def full_refresh(postgres: p3.PostgresResource) -> dg.MaterializeResult:
        p3.ensure_tables(postgres)
        start, stop = day_window(first)[0], day_window(end)[0]
        counts = p3.replace_readings(postgres, "daily_readings", start, stop)
        rows = postgres.fetch(
            "select city, observed_at, temperature_c, precipitation_mm from phase3.daily_readings"
        )
        aggregates = p3.aggregate_city_days(rows)
        postgres.replace_rows("phase3", "daily_city_aggregates", aggregates, where="true")
        return dg.MaterializeResult(metadata={"row_count": counts["row_count"]})

    return full_refresh


def measure_incremental(histories=(30, 365, 1825), repeats: int = 3) -> list[dict]:
    """Seconds to process one new day, incrementally and by full refresh, per history size."""
    import dagster as dg

    from workbook.course.phases import load_phase

    p3 = load_phase(3, "solutions")
    from workbook.platform.resources import RESOURCES

    rows = []
    end = NEW_DAY + timedelta(days=1)
    for history in histories:
        first = end - timedelta(days=history)
        source_rows = _reset(history, first)
        full = _full_refresh_asset(first, end)
        _check(
            dg.materialize([full], resources=RESOURCES, run_config=QUIET)
        )  # builds the history, warms up

        def incremental():
            _check(dg.materialize([p3.daily_readings, p3.daily_city_aggregates],
                                  partition_key=NEW_DAY.isoformat(), resources=RESOURCES, run_config=QUIET))  # fmt: skip

        def refresh(asset=full):
            _check(dg.materialize([asset], resources=RESOURCES, run_config=QUIET))

        inc = [_timed(incremental) for _ in range(repeats)]
        ref = [_timed(refresh) for _ in range(repeats if history < 1000 else 1)]
        rows.append({"history_days": history, "source_rows": source_rows,
                     "incremental_s": statistics.median(inc),
                     "full_refresh_s": statistics.median(ref)})  # fmt: skip
        print(f"  history {history:>5} days: incremental {rows[-1]['incremental_s']:.2f} s, "
              f"full refresh {rows[-1]['full_refresh_s']:.2f} s", flush=True)  # fmt: skip
    return rows


def run(histories=(30, 365, 1825), repeats: int = 3) -> dict[str, list[dict]]:
    """Both measurements, on the benchmark database. The figures are wall-clock seconds."""
    use_bench_database()
    warnings.filterwarnings("ignore")  # BackfillPolicy's BetaWarning, once per run
    return {"backfill": measure_backfill(), "incremental": measure_incremental(histories, repeats)}


def format_tables(result: dict[str, list[dict]]) -> str:
    lines = ["| backfill of 30 days | seconds |", "|---|---|"]
    lines += [f"| {r['variant']} | {r['seconds']:.1f} |" for r in result["backfill"]]
    lines += ["", "| history (days) | source rows | incremental (s) | full refresh (s) |",
              "|---|---|---|---|"]  # fmt: skip
    lines += [
        f"| {r['history_days']:,} | {r['source_rows']:,} | {r['incremental_s']:.2f} "
        f"| {r['full_refresh_s']:.2f} |"
        for r in result["incremental"]
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--histories", type=int, nargs="+", default=[30, 365, 1825])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    print(format_tables(run(args.histories, args.repeats)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
