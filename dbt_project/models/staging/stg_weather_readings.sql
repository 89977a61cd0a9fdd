-- Staging: one row per delivered reading (duplicates included: deduplicating is a modelling
-- decision, made in the mart). Staging conventions: clear names, explicit types, one unit.
with source as (
    select * from {{ source('landing', 'raw_weather_readings') }}
),

renamed as (
    select
        station_id,
        city,
        country,
        observed_at,
        -- The UTC day, whatever the session's time zone: days are UTC days everywhere.
        (observed_at at time zone 'UTC')::date as observed_date,
        temperature::numeric as reported_temperature,
        temperature_unit as reported_unit,
        -- One unit: °C, 2 decimals. Values outside the plausible range are glitches: null.
        case
            when temperature is null then null
            when temperature_unit = 'F' then round(((temperature::numeric - 32) * 5 / 9), 2)
            else round(temperature::numeric, 2)
        end as temperature_c_unchecked,
        case when {{ plausible('humidity_pct') }} then humidity_pct::numeric end as humidity_pct,
        case when {{ plausible('wind_speed_kmh') }} then wind_speed_kmh::numeric end
            as wind_speed_kmh,
        case when {{ plausible('pressure_hpa') }} then pressure_hpa::numeric end as pressure_hpa,
        precipitation_mm::numeric as precipitation_mm,
        condition
    from source
)

select
    station_id,
    city,
    country,
    observed_at,
    observed_date,
    reported_temperature,
    reported_unit,
    case when {{ plausible('temperature_c_unchecked', 'temperature_c') }}
        then temperature_c_unchecked end as temperature_c,
    humidity_pct,
    wind_speed_kmh,
    pressure_hpa,
    precipitation_mm,
    condition
from renamed
