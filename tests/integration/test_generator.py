"""The mock weather API: deterministic, dirty at the documented rates, and safe to re-run."""

from __future__ import annotations

import csv
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta

import pytest

from workbook.platform import db, generate
from workbook.platform.paths import REPO_ROOT

SCRIPT = REPO_ROOT / "data" / "generate_weather.py"


def _rows(seed: int, days: int = 3, start: date = generate.DEFAULT_START):
    return [r for _, rows in generate.generate(days, start, seed) for r in rows]


def test_same_seed_same_rows_and_a_day_does_not_depend_on_the_range():
    assert _rows(7) == _rows(7)
    assert _rows(7) != _rows(8)
    third_day = generate.DEFAULT_START + timedelta(days=2)
    assert [r for r in _rows(7) if r[4].date() == third_day] == _rows(7, 1, third_day)


def test_dirt_comes_at_the_documented_rates():
    rows = _rows(generate.DEFAULT_SEED, days=60)
    n = len(rows)
    distinct = len({(r[2], r[4]) for r in rows})
    assert len(generate.CITIES) >= 10
    assert distinct == 60 * 24 * len(generate.CITIES)  # every city reports every hour
    assert 0.02 <= (n - distinct) / distinct <= 0.04  # duplicates ~3 %
    assert 0.015 <= sum(r[5] is None for r in rows) / n <= 0.025  # missing temperature ~2 %
    assert 0.04 <= sum(r[6] == "F" for r in rows) / n <= 0.06  # Fahrenheit ~5 %
    glitch = sum(r[5] is not None and abs(r[5]) > 500 for r in rows) / n
    assert 0.001 <= glitch <= 0.01  # temperature glitches: a share of the 1 % glitches


def test_reloading_the_same_days_replaces_them(test_database):
    start = date(2031, 5, 1)  # far from the seeded range, so the graders' data is untouched
    since = datetime(2031, 5, 1, tzinfo=UTC)
    first = generate.load(days=2, start=start, url=test_database)
    again = generate.load(days=2, start=start, url=test_database)
    with db.connect(test_database) as conn, conn.cursor() as cur:
        cur.execute(
            "select count(*) from source.weather_readings where observed_at >= %s", (since,)
        )
        assert cur.fetchone()[0] == first == again
        cur.execute("delete from source.weather_readings where observed_at >= %s", (since,))


@pytest.mark.parametrize(
    "args, reason",
    [
        (["--days", "0"], "--days must be between 1 and"),
        (["--days", "abc"], "--days must be a whole number"),
        (["--cities", "Atlantis"], "unknown city Atlantis"),
        (["--start", "2024-13-01"], "--start must be a date"),
    ],
)
def test_bad_arguments_exit_with_one_line(args, reason):
    out = subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True)
    assert out.returncode == 2
    assert reason in out.stderr and len(out.stderr.strip().splitlines()) == 1, out.stderr


def test_to_csv_writes_one_complete_file_per_day(tmp_path):
    out = subprocess.run(
        [sys.executable, str(SCRIPT), "--days", "2", "--to-csv", str(tmp_path)],
        capture_output=True, text=True,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    files = sorted(p.name for p in tmp_path.iterdir())
    assert files == ["weather_2024-01-01.csv", "weather_2024-01-02.csv"]
    with (tmp_path / files[0]).open() as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == list(generate.COLUMNS)
    assert len({(r["city"], r["observed_at"]) for r in rows}) == 24 * len(generate.CITIES)
