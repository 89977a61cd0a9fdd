"""The weather ETL as an Airflow 3 DAG (TaskFlow API): extract >> validate >> aggregate >> load.

It is the task-first twin of Phases 2 and 3. It reads the same source table, applies the very
same rules (``validate_readings`` and ``aggregate_city_days`` from ``workbook/platform/rules.py``, which
Phase 3 uses too) and writes its own schema, ``airflow_baseline``. Compare:

* Airflow schedules *tasks* for a date; what data they produce is a convention in the code.
  Dagster declares the *tables* (assets) and their partitions; the tasks are derived.
* Here every edge is wired by hand (the call chain at the bottom). In Dagster, an asset names
  its upstream as a parameter.
* A backfill here is "run the DAG for each date"; in Dagster it is "materialize these
  partitions", per partition or in one run (Phase 3).

Run it with ``uv run workbook airflow run --days 7`` (a throwaway AIRFLOW_HOME, SQLite metadata).
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from airflow.sdk import dag, task

SCHEMA = "airflow_baseline"
TABLE = "city_aggregates"


@dag(
    dag_id="weather_etl",
    schedule="@daily",
    start_date=datetime(2024, 1, 1, tzinfo=UTC),
    catchup=True,  # one run per day since start_date: Airflow's backfill model
    max_active_runs=1,
    tags=["workbook"],
)
def weather_etl():
    @task
    def extract(logical_date=None) -> list[dict]:
        """The readings of the run's UTC day."""
        from workbook.platform.resources import postgres

        rows = postgres.fetch(
            "select * from source.weather_readings where observed_at >= %s and observed_at < %s",
            day_window(logical_date),
        )
        # XCom stores JSON: timestamps travel as ISO strings and are parsed back in `validate`.
        return [{**r, "observed_at": r["observed_at"].isoformat()} for r in rows]

    @task
    def validate(rows: list[dict]) -> list[dict]:
        from workbook.platform.rules import validate_readings

        parsed = [{**r, "observed_at": datetime.fromisoformat(r["observed_at"])} for r in rows]
        valid, rejected = validate_readings(parsed)
        print(f"rejected by reason: {rejected}")
        return [{**r, "observed_at": r["observed_at"].isoformat()} for r in valid]

    @task
    def aggregate(rows: list[dict]) -> list[dict]:
        from workbook.platform.rules import aggregate_city_days

        parsed = [{**r, "observed_at": datetime.fromisoformat(r["observed_at"])} for r in rows]
        return [_jsonable(r) for r in aggregate_city_days(parsed)]

    @task
    def load(rows: list[dict], logical_date=None) -> int:
        """Replace the day's rows (delete + insert in one transaction): re-runs never duplicate."""
        from workbook.platform.resources import postgres

        day = day_window(logical_date)[0].date()
        typed = [{**r, "day": date.fromisoformat(r["day"])} for r in rows]
        return postgres.replace_rows(SCHEMA, TABLE, typed, where="day = %s", params=(day,))

    # The wiring, by hand: in Airflow the dependency graph is something you write down.
    load(aggregate(validate(extract())))


def day_window(logical_date: datetime) -> tuple[datetime, datetime]:
    """The UTC day a run processes: the day of its logical date.

    This is a convention the DAG author must pick and keep. With a cron string, Airflow 3 uses
    a CronTriggerTimetable, whose data interval is empty (start == end == logical date); with
    Airflow 2's interval timetable the run for day D had logical date D but started after D
    ended. In Dagster the partition key *is* the day, so there is nothing to pick.
    """
    from workbook.platform.rules import day_window as utc_day_window

    return utc_day_window(logical_date)


def _jsonable(row: dict) -> dict:
    return {k: v.isoformat() if hasattr(v, "isoformat") else v for k, v in row.items()}


weather_etl_dag = weather_etl()
