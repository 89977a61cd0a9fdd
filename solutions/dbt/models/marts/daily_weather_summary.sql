-- The mart: one row per city and UTC day, built one day (one Dagster partition) at a time.
-- Columns (the grader checks each one, see phase4_dbt_assets.py for the full story):
--   city, country, observed_date       the grain: one row per (city, observed_date)
--   reading_count                      distinct hourly readings (a duplicate delivery counts once)
--   avg_temperature_c                  average of temperature_c, rounded to 2 decimals
--   min_temperature_c, max_temperature_c, max_wind_speed_kmh, total_precipitation_mm
-- Nulls (missing values, glitches staging has nulled) are ignored by the aggregates.

-- Incremental, one day at a time: every run (the first one too) computes only the rows of the
-- window Dagster passes (--vars min_date/max_date); dbt then deletes the rows with the same
-- (city, observed_date) and inserts the new ones. Re-running a day is safe, other days stay.
{{
    config(
        materialized='incremental',
        unique_key=['city', 'observed_date'],
        incremental_strategy='delete+insert',
        on_schema_change='fail',
    )
}}

-- TODO 2: aggregate stg_weather_readings per city and day (columns above), counting a duplicate
--         delivery once.
-- TODO 3: on every run, read only the readings in the window [var('min_date'), var('max_date')):
--         timestamps with their UTC offset, the end excluded.
-- >>> solution
with readings as (
    -- A duplicate delivery is an identical row: `distinct` keeps one of each.
    select distinct
        city,
        country,
        observed_date,
        observed_at,
        temperature_c,
        wind_speed_kmh,
        precipitation_mm
    from {{ ref('stg_weather_readings') }}
    -- The partition window, as timestamps with their UTC offset: right in any session time zone.
    where observed_at >= '{{ var("min_date") }}'::timestamptz
      and observed_at < '{{ var("max_date") }}'::timestamptz
)

select
    city,
    country,
    observed_date,
    count(*) as reading_count,
    round(avg(temperature_c), 2) as avg_temperature_c,
    min(temperature_c) as min_temperature_c,
    max(temperature_c) as max_temperature_c,
    max(wind_speed_kmh) as max_wind_speed_kmh,
    sum(precipitation_mm) as total_precipitation_mm
from readings
group by city, country, observed_date
{#- In this solution file, the learner's stub below is a Jinja comment (it ends at its last line).
-- === stub
-- {% if execute %}
--     {{ exceptions.raise_compiler_error("TODO 2: models/marts/daily_weather_summary.sql is not written yet: aggregate stg_weather_readings per city and day") }}
-- {% endif %}
-- select * from {{ ref('stg_weather_readings') }}  {#- keeps the edge in the asset graph -#}
-- <<<
