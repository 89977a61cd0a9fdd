"""The dbt variant of the baseline: land the day's readings, then `dbt build` as one Bash task.

This is how dbt usually runs under Airflow, and the point of the comparison: to the
orchestrator the whole dbt project is ONE task. It cannot show the models, their lineage or
their tests, and it cannot run or retry one model. Phase 4 loads the same project into Dagster,
where every model is an asset and every dbt test an asset check.

It builds the reference project (``solutions/dbt`` laid over ``dbt_project/``, as
``workbook check 4 --solutions`` does), so it works before you have written Phase 4.

    uv run workbook airflow run --dag weather_dbt --days 3
"""

from __future__ import annotations

import json
import shlex
from datetime import UTC, datetime

from airflow.providers.standard.operators.bash import BashOperator
from airflow.sdk import dag, task

from airflow_baseline.weather_dag import day_window


@dag(
    dag_id="weather_dbt",
    schedule="@daily",
    start_date=datetime(2024, 1, 1, tzinfo=UTC),
    catchup=True,
    max_active_runs=1,
    tags=["workbook"],
)
def weather_dbt():
    from workbook.platform import dbt as workbook_dbt
    from workbook.platform.paths import SOLUTIONS

    project = workbook_dbt.project_dir_for(SOLUTIONS / "phase4_dbt_assets.py")
    workbook_dbt.prepare(project)

    @task
    def land(logical_date=None) -> int:
        """Copy the day's readings into the table dbt's source reads (phase4.raw_weather_readings)."""
        from workbook.platform.landing import land_readings  # Phase 4's own landing step
        from workbook.platform.resources import postgres

        return land_readings(postgres, *day_window(logical_date))

    window = json.dumps({"min_date": "{{ logical_date.replace(hour=0, minute=0, second=0) }}",
                         "max_date": "{{ (logical_date.replace(hour=0, minute=0, second=0)"
                                     " + macros.timedelta(days=1)) }}"})  # fmt: skip
    dbt_build = BashOperator(
        task_id="dbt_build",
        bash_command=f"dbt build --project-dir {shlex.quote(str(project))}"
        f" --profiles-dir {shlex.quote(str(project))} --vars {shlex.quote(window)}",
        env=workbook_dbt.env(),  # the WORKBOOK_PG_* variables profiles.yml reads
        append_env=True,
    )

    land() >> dbt_build  # the only edge: Airflow cannot see the models inside dbt_build


weather_dbt_dag = weather_dbt()
