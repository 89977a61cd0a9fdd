"""Phase 5's bad-file suite: malformed deliveries never crash the sensor or a run, never lose or
duplicate good rows, and each lands in rejected/ with its reason.

It drives the reference sensor with ``build_sensor_context`` and runs every request it emits with
``materialize`` (in-process, against the test database), tick after tick, as the daemon would.
The file rules themselves are documented in ``workbook/platform/incoming.py``.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

import dagster as dg
import pytest

from workbook.course.phases import load_phase
from workbook.platform import db, generate, incoming
from workbook.platform.resources import RESOURCES


def _age(path: Path, seconds: float = 60) -> None:
    then = time.time() - seconds
    os.utime(path, (then, then))


def _good(day: date, tmp: Path) -> str:
    (path,) = generate.write_csv(tmp / f"gen-{day}", days=1, start=day)
    return path.read_text()


def _rows(text: str) -> int:
    return len(text.splitlines()) - 1


def _map_data_lines(text: str, fn: Callable[[int, str], str]) -> str:
    header, *lines = text.splitlines()
    return "\n".join([header, *(fn(i, line) for i, line in enumerate(lines))]) + "\n"


def _set_field(line: str, column: str, value: str) -> str:
    fields = line.split(",")
    fields[generate.COLUMNS.index(column)] = value
    return ",".join(fields)


# (file name, what is wrong with it, how to make it from a good file of its day, its reason)
BAD_CASES: list[tuple[str, str, Callable[[str], bytes | str | None], str]] = [
    ("weather_2024-02-01.csv", "wrong header (a column renamed)",
     lambda t: t.replace("temperature,", "temp,", 1), "header is wrong"),
    ("weather_2024-02-02.csv", "a column missing everywhere",
     lambda t: "\n".join(line.rsplit(",", 1)[0] for line in t.splitlines()) + "\n",
     "missing: condition"),
    ("weather_2024-02-03.csv", "an extra column",
     lambda t: "\n".join(line + ",x" for line in t.splitlines()) + "\n", "unexpected: "),
    ("weather_2024-02-04.csv", "semicolons instead of commas",
     lambda t: t.replace(",", ";"), "header is wrong"),
    ("weather_2024-02-05.csv", "empty (0 bytes)", lambda t: "", "the file is empty"),
    ("weather_2024-02-06.csv", "only whitespace", lambda t: "\n  \n\n", "the file is empty"),
    ("weather_2024-02-07.csv", "header only", lambda t: t.splitlines()[0] + "\n", "no data rows"),
    ("weather_2024-02-08.csv", "binary (a PNG)",
     lambda t: b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + os.urandom(2000), "binary"),
    ("weather_2024-02-09.csv", "Latin-1, not UTF-8",
     lambda t: t.replace("Oslo", "Øslo").encode("latin-1"), "not UTF-8"),
    ("weather_2024-02-10.csv", "huge (over the 50 MB limit)", None, "too large"),
    ("weather_2024-02-11.csv", "unreadable (permission denied)", lambda t: t, "cannot be read"),
    ("weather_2024-02-12.csv", "non-numeric temperatures in every row",
     lambda t: _map_data_lines(t, lambda i, s: _set_field(s, "temperature", "warm")),
     "data rows are invalid"),
    ("weather_2024-02-13.csv", "rows of another day (the 14th)", None, "is not on 2024-02-13"),
    ("weather_2024-02-15.csv", "timestamps without a UTC offset",
     lambda t: t.replace("+00:00", ""), "has no UTC offset"),
    ("weather_2024-02-16.csv", "an unterminated quote swallows the rest",
     lambda t: _map_data_lines(t, lambda i, s: s.replace("IS-", '"IS-', 1) if i == 4 else s),
     "data rows are invalid"),
    ("weather_2024-02-17.csv", "NaN and infinity as values",
     lambda t: _map_data_lines(t, lambda i, s: _set_field(s, "pressure_hpa", "nan" if i % 2 else "inf")),
     "data rows are invalid"),
    ("weather_2024-02-18.csv", "unknown temperature unit (K) in every row",
     lambda t: _map_data_lines(t, lambda i, s: _set_field(s, "temperature_unit", "K")),
     "data rows are invalid"),
    ("weather_2024-02-30.csv", "a date that does not exist", lambda t: t, "file name"),
    ("readings.csv", "a name that is not weather_YYYY-MM-DD.csv", lambda t: t, "file name"),
    ("weather_2024-01-01.csv", "a broken re-delivery of a day already loaded",
     lambda t: _map_data_lines(t, lambda i, s: _set_field(s, "humidity_pct", "n/a")),
     "data rows are invalid"),
]  # fmt: skip


@pytest.fixture(scope="module")
def phase():
    return load_phase(5, "solutions")


def _table_counts() -> dict[str, int]:
    with db.connect() as conn, conn.cursor() as cur:
        cur.execute("select to_regclass('phase5.incoming_readings')")
        if cur.fetchone()[0] is None:
            return {}
        cur.execute("select source_file, count(*) from phase5.incoming_readings group by 1")
        return dict(cur.fetchall())


def test_bad_files_are_rejected_and_good_rows_kept(phase, tmp_path, monkeypatch, capsys):
    folder = tmp_path / "incoming"
    folder.mkdir()
    rejected = tmp_path / "rejected"
    monkeypatch.setenv(incoming.INCOMING_ENV, str(folder))
    monkeypatch.setenv(incoming.SETTLE_ENV, "5")
    with db.connect() as conn, conn.cursor() as cur:
        cur.execute("drop schema if exists phase5 cascade")

    instance = dg.DagsterInstance.ephemeral()
    cursor: list[str | None] = [None]

    def tick() -> list[dg.RunRequest]:
        data = phase.incoming_file_sensor.evaluate_tick(dg.build_sensor_context(cursor=cursor[0]))
        cursor[0] = data.cursor
        return list(data.run_requests or [])

    def run_all(requests) -> None:
        for request in requests:
            result = dg.materialize([phase.incoming_readings], run_config=request.run_config,
                                    resources=RESOURCES, instance=instance, raise_on_error=False)  # fmt: skip
            assert result.success, f"the run for {request.run_key} failed"

    # Round 1: two good days.
    good = {d: _good(d, tmp_path) for d in (date(2024, 1, 1), date(2024, 1, 2))}
    for d, text in good.items():
        (folder / f"weather_{d}.csv").write_text(text)
        _age(folder / f"weather_{d}.csv")
    run_all(tick())
    first = _table_counts()
    assert first == {f"weather_{d}.csv": _rows(t) for d, t in good.items()}

    # Round 2: every kind of bad file, partly bad files, re-deliveries, files in flight.
    base = _good(date(2024, 2, 1), tmp_path)  # any day: cases below re-date it
    unreadable = folder / "weather_2024-02-11.csv"
    for name, _what, make, _reason in BAD_CASES:
        path = folder / name
        day = incoming.file_day(name)
        text = base.replace("2024-02-01", str(day)) if day else base
        if name == "weather_2024-02-10.csv":
            with path.open("wb") as f:  # sparse: 50 MB + 1 byte without writing them
                f.truncate(incoming.MAX_FILE_BYTES + 1)
        elif name == "weather_2024-02-13.csv":
            path.write_text(base.replace("2024-02-01", "2024-02-14"))
        else:
            content = make(text)
            if isinstance(content, bytes):
                path.write_bytes(content)
            else:
                path.write_text(content)
        _age(path)
    if os.geteuid() == 0:  # root reads anything: simulate EACCES where the loader opens files
        real_open = os.open

        def guarded_open(path, *args, **kwargs):
            if Path(path) == unreadable:
                raise PermissionError(13, "Permission denied", str(path))
            return real_open(path, *args, **kwargs)

        monkeypatch.setattr(os, "open", guarded_open)
    else:
        unreadable.chmod(0)

    partly = _good(date(2024, 3, 1), tmp_path)
    partly_bad = _map_data_lines(
        partly, lambda i, s: _set_field(s, "humidity_pct", "??") if i in (3, 50, 200) else s
    )
    (folder / "weather_2024-03-01.csv").write_text(partly_bad)
    truncated = _good(date(2024, 3, 2), tmp_path)
    (folder / "weather_2024-03-02.csv").write_text(truncated[: len(truncated) - 40])
    writing_full = _good(date(2024, 3, 3), tmp_path)
    writing = folder / "weather_2024-03-03.csv"
    writing.write_text(writing_full[: len(writing_full) // 2])  # its writer is still at work
    (folder / ".weather_2024-03-04.csv.part").write_text(writing_full)
    (folder / ".DS_Store").write_bytes(b"\x00\x00\x00\x01Bud1")
    (folder / "weather_2024-01-02.csv").write_text(good[date(2024, 1, 2)])  # same day again
    vanishing = folder / "weather_2024-03-05.csv"
    vanishing.write_text(_good(date(2024, 3, 5), tmp_path))
    for p in folder.iterdir():
        if p != writing:
            _age(p, 30)

    requests = tick()
    requested = sorted(Path(r.run_config["ops"]["phase5__incoming_readings"]["config"]["path"]).name
                       for r in requests)  # fmt: skip
    expected = sorted(
        [name for name, *_ in BAD_CASES]
        + ["weather_2024-03-01.csv", "weather_2024-03-02.csv", "weather_2024-01-02.csv"]
        + [vanishing.name]
    )
    assert requested == expected, "in-flight files must wait; every complete file is requested"
    vanishing.unlink()  # deleted by someone between the sensor's tick and the run
    run_all(requests)

    # The writer finishes; the sensor keeps ticking and picks the file up once it has settled.
    writing.write_text(writing_full)
    assert tick() == [], "a file that was just written to is not read yet"
    _age(writing, 30)
    run_all(tick())
    assert tick() == [], "nothing is requested twice"

    counts = _table_counts()
    want = {
        "weather_2024-01-01.csv": _rows(
            good[date(2024, 1, 1)]
        ),  # the broken re-delivery lost nothing
        "weather_2024-01-02.csv": _rows(
            good[date(2024, 1, 2)]
        ),  # re-delivered: replaced, not doubled
        "weather_2024-03-01.csv": _rows(partly) - 3,  # the 3 invalid rows are dropped
        "weather_2024-03-02.csv": _rows(truncated) - 1,  # the cut last row is dropped
        "weather_2024-03-03.csv": _rows(writing_full),  # loaded once complete
    }
    assert counts == want

    bad_rows = (rejected / "weather_2024-03-01.csv.bad_rows.csv").read_text().splitlines()
    assert len(bad_rows) == 4 and all(
        "humidity_pct '??' is not a number" in r for r in bad_rows[1:]
    )
    assert (rejected / "weather_2024-03-02.csv.bad_rows.csv").exists()

    table = ["| file | what is wrong | outcome |", "|---|---|---|"]
    for name, what, _make, reason in BAD_CASES:
        note = rejected / f"{name}.reason.txt"
        assert (rejected / name).exists(), f"{name} ({what}) was not moved to rejected/"
        assert not (folder / name).exists(), f"{name} ({what}) is still in incoming/"
        assert reason in note.read_text(), f"{name} ({what}): {note.read_text()!r}"
        table.append(f"| {name} | {what} | rejected: {note.read_text().splitlines()[1][:90]} |")
    for name in (".weather_2024-03-04.csv.part", ".DS_Store"):
        assert (folder / name).exists(), f"{name} must be left alone"
    with capsys.disabled():
        if os.environ.get("WORKBOOK_SHOW_BAD_FILES"):
            print("\n" + "\n".join(table))


@pytest.mark.parametrize(("bad", "loaded"), [(0, 100), (1, 99), (10, 90), (11, None)])
def test_partly_bad_file_rule(tmp_path, bad, loaded):
    """Valid rows are loaded while at most 10 % of the data rows are invalid; above, none are."""
    header, *lines = _good(date(2024, 5, 1), tmp_path).splitlines()
    lines = [_set_field(s, "wind_speed_kmh", "fast") if i < bad else s
             for i, s in enumerate(lines[:100])]  # fmt: skip
    path = tmp_path / "weather_2024-05-01.csv"
    path.write_text("\n".join([header, *lines]) + "\n")
    delivery = incoming.read_delivery(path)
    if loaded is None:
        assert delivery.rejected and f"{bad} of 100 data rows are invalid" in delivery.rejected
    else:
        assert delivery.rejected is None and len(delivery.rows) == loaded
        assert [b.line for b in delivery.bad_rows] == list(range(2, 2 + bad))
