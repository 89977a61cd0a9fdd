"""The mock weather API: deterministic, dirty at the documented rates, and safe to re-run."""

from __future__ import annotations

import csv
import runpy
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


# --- bad input: one line, a non-zero exit, nothing half-written -------------------------------


@pytest.mark.parametrize("args", [["--start", "9999-12-30", "--days", "5"],
                                  ["--start", "9999-12-31", "--days", "1"]])  # fmt: skip
@pytest.mark.parametrize("to_csv", [False, True])
def test_a_range_past_the_calendar_is_one_line_and_writes_nothing(tmp_path, args, to_csv):
    target = tmp_path / "csv"
    out = subprocess.run(
        [sys.executable, str(SCRIPT), *args, *(["--to-csv", str(target)] if to_csv else [])],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert out.returncode == 2 and "Traceback" not in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1 and "9999-12-30" in out.stderr, out.stderr
    assert not target.exists()


@pytest.mark.parametrize("where", ["a file", "under a file", "under /proc", "empty"])
def test_to_csv_that_cannot_be_written_is_one_line(tmp_path, where):
    (tmp_path / "afile").write_text("x")
    target = {"a file": str(tmp_path / "afile"), "under a file": str(tmp_path / "afile" / "d"),
              "under /proc": "/proc/no-such-dir", "empty": ""}[where]  # fmt: skip
    out = subprocess.run([sys.executable, str(SCRIPT), "--days", "1", "--to-csv", target],
                         capture_output=True, text=True, cwd=tmp_path, timeout=60)  # fmt: skip
    assert out.returncode in (1, 2) and "Traceback" not in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1, out.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["afile"], "something was written"


def test_an_interrupted_csv_run_leaves_complete_files_only(tmp_path, monkeypatch):
    real = generate.readings_for_day

    def interrupted_on_the_third_day(city, day, *args):
        if day == date(2024, 1, 3):
            raise KeyboardInterrupt
        return real(city, day, *args)

    monkeypatch.setattr(generate, "readings_for_day", interrupted_on_the_third_day)
    with pytest.raises(KeyboardInterrupt):
        generate.write_csv(tmp_path, days=5, start=date(2024, 1, 1))
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["weather_2024-01-01.csv", "weather_2024-01-02.csv"]


@pytest.mark.parametrize("to_csv", [False, True])
def test_ctrl_c_is_one_line_and_exit_130(tmp_path, monkeypatch, capsys, to_csv):
    script = runpy.run_path(str(SCRIPT))  # its main(), not run as __main__

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(generate, "write_csv" if to_csv else "load", interrupted)
    argv = ["--days", "1", *(["--to-csv", str(tmp_path)] if to_csv else [])]
    assert script["main"](argv) == 130
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "interrupted" in err, err
