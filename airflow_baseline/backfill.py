"""Run a baseline DAG for a range of dates with ``dag.test()``, and print the timings as JSON.

    python -m airflow_baseline.backfill weather_etl 2024-01-01 7

``dag.test()`` is Airflow's in-process runner: one DAG run per logical date, every task in this
process, no scheduler. It is what a developer uses locally, and the fairest match for Dagster's
in-process ``materialize()``. A scheduler-driven backfill adds the scheduler's polling on top.
"""

from __future__ import annotations

import importlib
import json
import sys
import time
from datetime import UTC, datetime, timedelta

MODULES = {"weather_etl": "airflow_baseline.weather_dag", "weather_dbt": "airflow_baseline.dbt_dag"}


def main(dag_id: str, start: str, days: int) -> dict:
    t0 = time.perf_counter()
    module = importlib.import_module(MODULES[dag_id])
    dag = next(v for v in vars(module).values() if getattr(v, "dag_id", None) == dag_id)
    t_import = time.perf_counter() - t0
    first = datetime.fromisoformat(start).replace(tzinfo=UTC)
    per_run = []
    for i in range(days):
        t = time.perf_counter()
        run = dag.test(logical_date=first + timedelta(days=i))
        if str(run.state) != "success" and getattr(run.state, "value", None) != "success":
            raise SystemExit(f"run for {(first + timedelta(days=i)).date()} ended {run.state}")
        per_run.append(time.perf_counter() - t)
    return {
        "dag_id": dag_id,
        "tasks": sorted(t.task_id for t in dag.tasks),
        "edges": sum(len(t.downstream_task_ids) for t in dag.tasks),  # all wired by hand
        "days": days,
        "import_s": t_import,
        "runs_s": per_run,
        "total_s": time.perf_counter() - t0,
    }


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1], sys.argv[2], int(sys.argv[3]))))
