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
        -- One unit: °C, 2 decimals. Values outside -90..60 °C are sensor glitches: null.
        case
            when temperature is null then null
            when temperature_unit = 'F' then round(((temperature::numeric - 32) * 5 / 9), 2)
            else round(temperature::numeric, 2)
        end as temperature_c_unchecked,
        case when humidity_pct between 0 and 100 then humidity_pct::numeric end as humidity_pct,
        case when wind_speed_kmh between 0 and 400 then wind_speed_kmh::numeric end
            as wind_speed_kmh,
        case when pressure_hpa between 850 and 1100 then pressure_hpa::numeric end as pressure_hpa,
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
    case when temperature_c_unchecked between -90 and 60 then temperature_c_unchecked end
        as temperature_c,
    humidity_pct,
    wind_speed_kmh,
    pressure_hpa,
    precipitation_mm,
    condition
from renamed
