"""The mock weather API: deterministic hourly readings with realistic dirt, loaded with COPY.

Every reading is generated from ``(seed, city, day)`` alone, so a day's rows are the same whatever
range you generate, and re-generating a day replaces it (delete + COPY in one transaction).

Dirt, at these rates per reading (the phases' cleaning and validation rules are written for it):

=====================  =====  ==========================================================
dirt                   rate   what it looks like
=====================  =====  ==========================================================
missing temperature    2 %    ``temperature`` is NULL
missing humidity/wind  1 %    ``humidity_pct`` or ``wind_speed_kmh`` is NULL
Fahrenheit             5 %    ``temperature_unit = 'F'`` and the value in °F
sensor glitch          1 %    one measure far out of range (e.g. 999.9 °C, 0 hPa, 180 %)
duplicate delivery     3 %    the same reading delivered twice, every column identical
=====================  =====  ==========================================================
"""

from __future__ import annotations

import csv
import math
import random
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from psycopg2 import sql

from workbook.platform.rules import day_window

DEFAULT_SEED = 42
DEFAULT_START = date(2024, 1, 1)
DEFAULT_DAYS = 30
SOURCE_TABLE = "source.weather_readings"
SOURCE = sql.Identifier("source", "weather_readings")

RATE_MISSING_TEMPERATURE = 0.02
RATE_MISSING_OTHER = 0.01
RATE_FAHRENHEIT = 0.05
RATE_GLITCH = 0.01
RATE_DUPLICATE = 0.03

COLUMNS = (
    "station_id",
    "station_name",
    "city",
    "country",
    "observed_at",
    "temperature",
    "temperature_unit",
    "humidity_pct",
    "wind_speed_kmh",
    "pressure_hpa",
    "precipitation_mm",
    "condition",
)

CONDITIONS = ("clear", "cloudy", "rain", "snow", "storm", "fog")


@dataclass(frozen=True)
class City:
    name: str
    country: str
    lat: float
    lon: float
    mean_c: float  # annual mean temperature
    season_c: float  # half the difference between the warmest and coldest month
    diurnal_c: float  # half the day/night swing
    humidity: float
    rain_chance: float  # chance that an hour is wet


CITIES: tuple[City, ...] = (
    City("Reykjavik", "IS", 64.15, -21.94, 4.5, 6.0, 2.0, 78, 0.22),
    City("Oslo", "NO", 59.91, 10.75, 6.0, 10.5, 3.5, 72, 0.15),
    City("London", "GB", 51.51, -0.13, 11.5, 6.5, 3.5, 75, 0.16),
    City("Madrid", "ES", 40.42, -3.70, 15.0, 10.0, 7.0, 55, 0.06),
    City("Cairo", "EG", 30.04, 31.24, 22.5, 7.5, 6.5, 50, 0.01),
    City("Nairobi", "KE", -1.29, 36.82, 19.0, 1.5, 6.0, 65, 0.10),
    City("Mumbai", "IN", 19.08, 72.88, 27.5, 2.5, 3.5, 75, 0.12),
    City("Singapore", "SG", 1.35, 103.82, 27.8, 0.8, 3.5, 84, 0.20),
    City("Tokyo", "JP", 35.68, 139.69, 16.0, 10.5, 4.0, 65, 0.12),
    City("Sydney", "AU", -33.87, 151.21, 18.0, -5.5, 4.0, 68, 0.10),
    City("Anchorage", "US", 61.22, -149.90, 2.5, 11.5, 3.5, 70, 0.12),
    City("Phoenix", "US", 33.45, -112.07, 24.0, 10.5, 8.0, 30, 0.02),
)
CITY_NAMES = tuple(c.name for c in CITIES)


def _stations(seed: int) -> dict[str, tuple[str, str]]:
    """Station id and name per city, from Faker seeded with ``seed`` (deterministic)."""
    from faker import Faker  # imported lazily: Faker's import costs ~0.3 s

    fake = Faker()
    fake.seed_instance(seed)
    return {
        c.name: (fake.bothify(f"{c.country}-####"), f"{c.name} {fake.last_name()} Field")
        for c in CITIES
    }


def readings_for_day(city: City, day: date, seed: int, station: tuple[str, str]) -> list[tuple]:
    """All readings one city's station delivers for one UTC day, dirt included."""
    rng = random.Random(f"{seed}:{city.name}:{day.isoformat()}")
    doy = day.timetuple().tm_yday
    # Warmest around day 200 in the north; season_c is negative in the southern hemisphere.
    seasonal = city.mean_c + city.season_c * math.cos(2 * math.pi * (doy - 200) / 365)
    wet_day = rng.random() < city.rain_chance * 3
    day_offset = rng.gauss(0, 2.0)
    rows: list[tuple] = []
    for hour in range(24):
        ts = datetime(day.year, day.month, day.day, hour, tzinfo=UTC)
        solar_hour = (hour + city.lon / 15) % 24  # local solar time: warmest around 15:00
        temp = (
            seasonal + day_offset + city.diurnal_c * math.cos(2 * math.pi * (solar_hour - 15) / 24)
        )
        temp += rng.gauss(0, 0.6)
        raining = wet_day and rng.random() < 0.5
        precip = round(rng.expovariate(1 / 1.8), 1) if raining else 0.0
        humidity = min(100.0, max(5.0, city.humidity + (15 if raining else 0) + rng.gauss(0, 6)))
        wind = max(0.0, rng.gauss(14, 7) + (15 if raining and rng.random() < 0.2 else 0))
        pressure = rng.gauss(1013, 7) - (8 if raining else 0)
        if raining:
            condition = "snow" if temp < 0.5 else ("storm" if wind > 40 else "rain")
        else:
            condition = rng.choices(("clear", "cloudy", "fog"), (0.55, 0.4, 0.05))[0]
        row = {
            "temperature": round(temp, 1),
            "temperature_unit": "C",
            "humidity_pct": round(humidity, 1),
            "wind_speed_kmh": round(wind, 1),
            "pressure_hpa": round(pressure, 1),
            "precipitation_mm": precip,
        }
        # Dirt. Each draw is made for every reading so the rates stay independent.
        d_missing_t, d_missing_o, d_fahr, d_glitch, d_dup = (rng.random() for _ in range(5))
        if d_fahr < RATE_FAHRENHEIT:
            row["temperature"] = round(row["temperature"] * 9 / 5 + 32, 1)
            row["temperature_unit"] = "F"
        if d_glitch < RATE_GLITCH:
            measure, value = rng.choice(
                (("temperature", 999.9), ("temperature", -999.9), ("pressure_hpa", 0.0),
                 ("humidity_pct", 180.0), ("wind_speed_kmh", 999.0))
            )  # fmt: skip
            row[measure] = value
            if measure == "temperature":
                row["temperature_unit"] = "C"
        if d_missing_t < RATE_MISSING_TEMPERATURE:
            row["temperature"] = None
        if d_missing_o < RATE_MISSING_OTHER:
            row[rng.choice(("humidity_pct", "wind_speed_kmh"))] = None
        record = (
            station[0],
            station[1],
            city.name,
            city.country,
            ts,
            row["temperature"],
            row["temperature_unit"],
            row["humidity_pct"],
            row["wind_speed_kmh"],
            row["pressure_hpa"],
            row["precipitation_mm"],
            condition,
        )
        rows.append(record)
        if d_dup < RATE_DUPLICATE:
            rows.append(record)
    return rows


LAST_DAY = date.max - timedelta(days=1)  # 9999-12-30: the last day whose end is a date


def check_range(start: date, days: int) -> None:
    """ValueError (one line) unless ``days`` days from ``start`` all end within the calendar.

    Checked before anything is written, so a bad range writes nothing at all.
    """
    if days < 1 or start > LAST_DAY or days > (LAST_DAY - start).days + 1:
        raise ValueError(
            f"{days} day(s) from {start} run past {LAST_DAY}, the last day the workbook can store"
        )


def generate(
    days: int = DEFAULT_DAYS,
    start: date = DEFAULT_START,
    seed: int = DEFAULT_SEED,
    cities: Iterable[str] | None = None,
) -> Iterator[tuple[date, list[tuple]]]:
    """Yield ``(day, rows)`` for each day, every selected city's readings together."""
    check_range(start, days)
    chosen = [c for c in CITIES if cities is None or c.name in set(cities)]
    stations = _stations(seed)
    for offset in range(days):
        day = start + timedelta(days=offset)
        rows: list[tuple] = []
        for city in chosen:
            rows.extend(readings_for_day(city, day, seed, stations[city.name]))
        yield day, rows


CREATE_SOURCE_SQL = sql.SQL("""
create schema if not exists source;
create table if not exists {source} (
    station_id text not null,
    station_name text not null,
    city text not null,
    country text not null,
    observed_at timestamptz not null,
    temperature double precision,
    temperature_unit text not null,
    humidity_pct double precision,
    wind_speed_kmh double precision,
    pressure_hpa double precision,
    precipitation_mm double precision,
    condition text not null
);
create index if not exists weather_readings_observed_at on {source} (observed_at);
""").format(source=SOURCE)


def copy_sql(table: sql.Composable = SOURCE) -> sql.Composed:
    """``copy <table> (<COLUMNS>) from stdin``, composed (identifiers quoted, never formatted)."""
    columns = sql.SQL(", ").join(map(sql.Identifier, COLUMNS))
    return sql.SQL("copy {} ({}) from stdin").format(table, columns)


def load(
    days: int = DEFAULT_DAYS,
    start: date = DEFAULT_START,
    seed: int = DEFAULT_SEED,
    cities: Iterable[str] | None = None,
    url: str | None = None,
    progress: bool = False,
) -> int:
    """Generate and load into ``source.weather_readings``; returns the number of rows loaded.

    The generated days (for the selected cities) are replaced in one transaction, so a re-run
    never duplicates rows and an interrupted run leaves the previous data in place.
    """
    from workbook.platform.db import connect, copy_buffer

    check_range(start, days)
    city_list = list(cities) if cities is not None else list(CITY_NAMES)
    total = 0
    with connect(url) as conn, conn.cursor() as cur:
        # One loader at a time: two concurrent replaces could otherwise both insert.
        cur.execute("select pg_advisory_xact_lock(hashtext(%s))", (SOURCE_TABLE,))
        cur.execute(CREATE_SOURCE_SQL)
        cur.execute(
            sql.SQL(
                "delete from {} where observed_at >= %s and observed_at < %s and city = any(%s)"
            ).format(SOURCE),
            (*day_window(start, days), city_list),
        )
        batch: list[tuple] = []
        for i, (_, rows) in enumerate(generate(days, start, seed, city_list), 1):
            batch.extend(rows)
            if len(batch) >= 50_000 or i == days:
                cur.copy_expert(copy_sql().as_string(cur), copy_buffer(batch))
                total += len(batch)
                batch = []
                if progress:
                    print(f"  {i}/{days} days, {total:,} readings", file=sys.stderr)
    return total


def write_csv(
    directory: Path,
    days: int = DEFAULT_DAYS,
    start: date = DEFAULT_START,
    seed: int = DEFAULT_SEED,
    cities: Iterable[str] | None = None,
) -> list[Path]:
    """Write one CSV per day (``weather_YYYY-MM-DD.csv``) for the sensor phase.

    Each file is written under a temporary name and renamed, so a watcher never sees half a file;
    if writing fails or is interrupted, the temporary file is removed (the complete ones stay).
    """
    check_range(start, days)
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for day, rows in generate(days, start, seed, cities):
        path = directory / f"weather_{day.isoformat()}.csv"
        tmp = directory / f".{path.name}.part"
        try:
            with tmp.open("w", newline="") as f:
                writer = csv.writer(f)
                writer.writerow(COLUMNS)
                for r in rows:
                    writer.writerow(["" if v is None else v.isoformat() if isinstance(v, datetime)
                                     else v for v in r])  # fmt: skip
            tmp.replace(path)
        except BaseException:  # Ctrl-C included: never leave half a file behind
            tmp.unlink(missing_ok=True)
            raise
        written.append(path)
    return written


def source_row_count(url: str | None = None) -> int:
    """Rows in the source table; 0 when it does not exist yet."""
    from workbook.platform.db import connect

    with connect(url) as conn, conn.cursor() as cur:
        cur.execute("select to_regclass(%s)", (SOURCE_TABLE,))
        if cur.fetchone()[0] is None:
            return 0
        cur.execute(sql.SQL("select count(*) from {}").format(SOURCE))
        return cur.fetchone()[0]


def ensure_seeded(log=print) -> None:
    """Seed the default dataset when the source table is empty (called when the UI starts)."""
    if source_row_count() == 0:
        n = load()
        log(
            f"workbook: the source table was empty, so it was seeded with {n:,} readings "
            f"({DEFAULT_DAYS} days from {DEFAULT_START}, seed {DEFAULT_SEED})."
        )
