"""Landing: copy a window of the weather source into the table dbt's source reads (Phase 4).

Plain Python on the ``postgres`` resource, so Phase 4's ``raw_weather_readings`` asset and the
Airflow baseline's dbt DAG land their days the same way.
"""

from __future__ import annotations

from datetime import datetime

from workbook.platform.resources import PostgresResource

LANDING_TABLE = "phase4.raw_weather_readings"


def land_readings(postgres: PostgresResource, start: datetime, end: datetime) -> int:
    """Replace [start, end) of phase4.raw_weather_readings with the source's rows, atomically."""
    with postgres.connection() as conn, conn.cursor() as cur:
        cur.execute("create schema if not exists phase4")
        cur.execute(
            "create table if not exists phase4.raw_weather_readings"
            " (like source.weather_readings including defaults)"
        )
        cur.execute(
            "delete from phase4.raw_weather_readings where observed_at >= %s and observed_at < %s",
            (start, end),
        )
        cur.execute(
            "insert into phase4.raw_weather_readings select * from source.weather_readings"
            " where observed_at >= %s and observed_at < %s",
            (start, end),
        )
        return cur.rowcount
