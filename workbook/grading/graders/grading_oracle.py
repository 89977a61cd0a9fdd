"""Phase 2's validation rules written again in SQL: the graders' independent oracle.

Each source reading in the window gets the reason of the first rule it fails (ranges inclusive),
then a valid reading whose (city, observed_at) repeats an earlier valid one is a duplicate.
Parameters: ``start`` and ``end`` (timestamptz, half-open; '-infinity' and 'infinity' for all).
"""

from __future__ import annotations

from datetime import UTC, datetime

from workbook.platform import db
from workbook.platform.resources import rows_as_dicts

ALL_TIME = {"start": "-infinity", "end": "infinity"}

REASONS = (
    "missing_field", "unknown_unit", "temperature_out_of_range", "humidity_out_of_range",
    "wind_out_of_range", "pressure_out_of_range", "precipitation_out_of_range", "duplicate",
)  # fmt: skip

VALIDATION_SQL = """
with r as (
    select *, case when temperature_unit = 'F' then (temperature - 32) * 5 / 9
                   else temperature end as celsius
    from source.weather_readings
    where observed_at >= %(start)s and observed_at < %(end)s
), checked as (
    select *, case
        when station_id is null or city is null or observed_at is null or temperature is null
             or temperature_unit is null or pressure_hpa is null or precipitation_mm is null
            then 'missing_field'
        when temperature_unit not in ('C', 'F') then 'unknown_unit'
        when celsius not between -90 and 60 then 'temperature_out_of_range'
        when humidity_pct not between 0 and 100 then 'humidity_out_of_range'
        when wind_speed_kmh not between 0 and 400 then 'wind_out_of_range'
        when pressure_hpa not between 870 and 1085 then 'pressure_out_of_range'
        when precipitation_mm not between 0 and 300 then 'precipitation_out_of_range'
    end as reason
    from r
), ranked as (
    select *, row_number() over (partition by city, observed_at, reason is null) as copy
    from checked
)
select *, case when reason is null and copy > 1 then 'duplicate' else reason end as final_reason
from ranked
"""

# The valid rows as a validated table would hold them (temperature_c rounded to 1 decimal).
VALID_ROWS_SQL = f"""
select station_id, city, country, observed_at,
       round(celsius::numeric, 1)::float8 as temperature_c, humidity_pct, wind_speed_kmh,
       pressure_hpa, precipitation_mm, condition
from ({VALIDATION_SQL}) o
where final_reason is null
"""


def aggregates_sql(table: str, where: str = "true") -> str:
    """The daily aggregates rules in SQL, over validated rows of ``table`` matching ``where``."""
    return f"""
select city, (observed_at at time zone 'UTC')::date as day, count(*) as reading_count,
       min(temperature_c) as min_temperature_c, max(temperature_c) as max_temperature_c,
       round(avg(temperature_c::numeric), 2)::float8 as mean_temperature_c,
       round(sum(precipitation_mm::numeric), 1)::float8 as total_precipitation_mm
from {table}
where {where}
group by 1, 2
"""


def query(sql: str, params=None) -> list[dict]:
    with db.connect() as conn, conn.cursor() as cur:
        cur.execute(sql, params)
        return rows_as_dicts(cur) if cur.description else []


def expected(params=None) -> dict:
    """``counts`` (rejected rows by reason) and ``valid`` ({(city, observed_at): temperature_c})."""
    counts = dict.fromkeys(REASONS, 0)
    valid = {}
    for r in query(VALIDATION_SQL, params or ALL_TIME):
        if r["final_reason"]:
            counts[r["final_reason"]] += 1
        else:
            valid[(r["city"], r["observed_at"])] = round(float(r["celsius"]), 1)
    return {"counts": counts, "valid": valid}


def day(text: str) -> datetime:
    """Midnight UTC of a 'YYYY-MM-DD' day."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


# The day's summary, straight from the source: one reading per (city, hour) however often it
# was delivered, °F converted (to 2 decimals, as staging holds it), glitches (outside -90..60 °C,
# wind outside 0..400) ignored. avg_c is what the text defines: the average of the values
# staging holds, rounded to 2 decimals, so it is compared exactly.
PHASE4_SUMMARY_SQL = """
with readings as (
    select distinct city, country, observed_at, temperature_unit,
           round(case when temperature_unit = 'F' then (temperature::numeric - 32) * 5 / 9
                      else temperature::numeric end, 2) as celsius,
           temperature, wind_speed_kmh, precipitation_mm
    from source.weather_readings
    where observed_at >= %(start)s and observed_at < %(end)s
)
select city, country, count(*) as reading_count,
       round(avg(celsius) filter (where celsius between -90 and 60), 2) as avg_c,
       count(*) filter (where temperature_unit = 'F') as fahrenheit,
       min(celsius) filter (where celsius between -90 and 60) as min_c,
       max(celsius) filter (where celsius between -90 and 60) as max_c,
       max(wind_speed_kmh) filter (where wind_speed_kmh between 0 and 400) as max_wind,
       sum(precipitation_mm) as precipitation,
       avg(temperature) filter (where temperature between -90 and 140) as avg_as_delivered,
       (select count(*) from source.weather_readings s
        where s.city = readings.city and s.observed_at >= %(start)s and s.observed_at < %(end)s)
        as delivered
from readings
group by city, country
order by city
"""
