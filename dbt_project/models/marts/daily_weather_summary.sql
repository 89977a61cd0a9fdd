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
{% if execute %}
    {{ exceptions.raise_compiler_error("TODO 2: models/marts/daily_weather_summary.sql is not written yet: aggregate stg_weather_readings per city and day") }}
{% endif %}
select * from {{ ref('stg_weather_readings') }}  {#- keeps the edge in the asset graph -#}
