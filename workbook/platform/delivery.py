"""One daily CSV delivery of Phase 5: what makes a file unusable, and which of its rows are valid.

The inbox around it (which files are ready, where loaded and bad files go) is
``workbook.platform.incoming``; the phase file explains *why* each rule exists.

When is a file *rejected as a whole*? (``read_delivery``; nothing is loaded, the table is untouched)
    - its name is not ``weather_YYYY-MM-DD.csv`` with a real date;
    - it cannot be opened or read (permissions, vanished, a directory);
    - it is larger than ``MAX_FILE_BYTES`` (checked before reading a byte);
    - it is empty, or has a header but no data rows;
    - it is not UTF-8 text, or contains NUL bytes (a binary file), or holds only a byte-order mark;
    - its date is past 9999-12-30 (the day's end would not be representable);
    - its header is not exactly the 12 columns of ``workbook.platform.generate.COLUMNS`` (any order,
      each once);
    - more than ``MAX_BAD_ROW_SHARE`` (10 %) of its data rows are invalid. So many bad rows mean
      a broken delivery, and loading the rest would replace a good day with a fraction of it.

Which rows of a loaded file are *valid*? (``parse_row``) A row is valid when:
    - it has exactly 12 fields;
    - ``station_id``, ``station_name``, ``city``, ``country`` and ``observed_at`` are not empty;
    - ``observed_at`` is an ISO 8601 timestamp with a UTC offset, on the file's day in UTC;
    - ``temperature``, ``humidity_pct``, ``wind_speed_kmh``, ``pressure_hpa`` and
      ``precipitation_mm`` are empty (missing: stored as NULL) or finite decimal numbers;
    - ``temperature_unit`` is ``C`` or ``F``.
    Out-of-range values (999.9 °C) and duplicate deliveries are *valid* here: they are the feed's
    known dirt, kept as delivered in the landing table and cleaned downstream (as in Phase 1).
    A file with some invalid rows (at most 10 %) is loaded with its valid rows only; the invalid
    ones are written to ``rejected/<name>.bad_rows.csv`` with their line number and reason.
"""

from __future__ import annotations

import csv
import hashlib
import io
import math
import os
import re
import stat
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from workbook.platform.generate import COLUMNS
from workbook.platform.rules import day_window

MAX_FILE_BYTES = 50 * 1024 * 1024  # a day of 12 cities is about 30 KB
MAX_BAD_ROW_SHARE = 0.10
FILE_NAME = re.compile(r"weather_(\d{4}-\d{2}-\d{2})\.csv")

NUMERIC = ("temperature", "humidity_pct", "wind_speed_kmh", "pressure_hpa", "precipitation_mm")
REQUIRED = ("station_id", "station_name", "city", "country", "observed_at")
UNITS = ("C", "F")


def _snapshot(path: Path, max_bytes: int = MAX_FILE_BYTES) -> tuple[bytes | None, str]:
    """The bytes of a regular file (None if larger than ``max_bytes``) and their fingerprint.

    Opened without following a symlink; the bytes and the fingerprint come from one open file, so
    they agree even if the file is replaced meanwhile. OSError if it cannot be read.
    """
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    with os.fdopen(os.open(path, flags), "rb") as f:
        st = os.fstat(f.fileno())
        if not stat.S_ISREG(st.st_mode):
            raise IsADirectoryError(21, "not a regular file", str(path))
        data = f.read(max_bytes + 1) if st.st_size <= max_bytes else b""
        st = os.fstat(f.fileno())
    if st.st_size > max_bytes or len(data) > max_bytes:
        return None, f"oversize-{st.st_size}-{st.st_ctime_ns}"
    return data, f"{hashlib.sha256(data).hexdigest()[:16]}-{st.st_ctime_ns}"


def fingerprint_of(path: Path) -> str:
    """The fingerprint of the file now; a placeholder that still changes if it cannot be read."""
    try:
        return _snapshot(path)[1]
    except OSError:
        try:
            st = os.lstat(path)
        except OSError:
            return "gone"
        return f"unreadable-{st.st_size}-{st.st_ctime_ns}"


@dataclass
class BadRow:
    line: int
    reason: str
    raw: list[str]


@dataclass
class Delivery:
    """What ``read_delivery`` made of a file: valid rows, bad rows, or a reason to reject it."""

    name: str
    day: date | None = None
    rows: list[dict[str, Any]] = field(default_factory=list)
    bad_rows: list[BadRow] = field(default_factory=list)
    rejected: str | None = None  # why the whole file is rejected; None if it can be loaded
    fingerprint: str = ""  # of the bytes read (see IncomingFile.fingerprint)

    @property
    def data_rows(self) -> int:
        return len(self.rows) + len(self.bad_rows)


def file_day(name: str) -> date | None:
    match = FILE_NAME.fullmatch(name)
    if not match:
        return None
    try:
        return date.fromisoformat(match.group(1))
    except ValueError:
        return None


def _number(text: str) -> float | None:
    if text == "":
        return None
    value = float(text)  # ValueError for 'abc'
    if not math.isfinite(value):
        raise ValueError(f"{text!r} is not a finite number")
    return value


def parse_row(fields: list[str], header: list[str], day: date) -> dict[str, Any]:
    """One valid row as typed values, or ValueError saying why the row is invalid."""
    if len(fields) != len(header):
        raise ValueError(f"{len(fields)} fields, expected {len(header)}")
    raw = {name: value.strip() for name, value in zip(header, fields)}
    empty = [c for c in REQUIRED if not raw[c]]
    if empty:
        raise ValueError(f"{', '.join(empty)} empty")
    try:
        observed_at = datetime.fromisoformat(raw["observed_at"])
    except ValueError:
        raise ValueError(f"observed_at {raw['observed_at']!r} is not a timestamp") from None
    if observed_at.tzinfo is None:
        raise ValueError(f"observed_at {raw['observed_at']!r} has no UTC offset")
    observed_at = observed_at.astimezone(UTC)
    if observed_at.date() != day:
        raise ValueError(f"observed_at {raw['observed_at']} is not on {day} (UTC)")
    row: dict[str, Any] = {c: raw[c] for c in COLUMNS}
    row["observed_at"] = observed_at
    row["condition"] = raw["condition"] or None
    for column in NUMERIC:
        try:
            row[column] = _number(raw[column])
        except ValueError:
            raise ValueError(f"{column} {raw[column]!r} is not a number") from None
    if raw["temperature_unit"] not in UNITS:
        raise ValueError(f"temperature_unit {raw['temperature_unit']!r} is not C or F")
    return row


def read_delivery(path: Path, max_bytes: int = MAX_FILE_BYTES) -> Delivery:
    """Read and validate one file (see the module docstring for the rules). Never raises."""
    delivery = Delivery(path.name)
    try:
        _validate(path, max_bytes, delivery)
    except Exception as exc:  # noqa: BLE001 - a delivery must never crash the loader
        delivery.rejected = f"the file could not be read as CSV: {type(exc).__name__}: {exc}"
    return delivery


def _validate(path: Path, max_bytes: int, delivery: Delivery) -> None:
    try:
        data, delivery.fingerprint = _snapshot(path, max_bytes)
        failure = None
    except OSError as exc:
        data, failure, delivery.fingerprint = None, exc, fingerprint_of(path)
    delivery.day = file_day(path.name)
    if delivery.day is None:
        shown = (
            path.name
            if len(path.name) <= 80
            else f"{path.name[:60]}... ({len(path.name)} characters)"
        )
        delivery.rejected = f"the file name is not weather_YYYY-MM-DD.csv: {shown!r}"
        return
    try:
        day_window(delivery.day)
    except OverflowError:
        delivery.rejected = f"the date {delivery.day} is out of range (the last day is 9999-12-30)"
        return
    if failure is not None:
        reason = failure.strerror or failure
        delivery.rejected = f"the file cannot be read: {type(failure).__name__}: {reason}"
        return
    if data is None:
        delivery.rejected = f"the file is too large: more than {max_bytes:,} bytes"
        return
    if not data.strip():
        delivery.rejected = "the file is empty"
        return
    if not data.removeprefix(b"\xef\xbb\xbf").strip():
        delivery.rejected = "the file is empty (it holds only a byte-order mark)"
        return
    if b"\x00" in data:
        delivery.rejected = "the file is binary, not CSV text (it contains NUL bytes)"
        return
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        delivery.rejected = f"the file is not UTF-8 text (byte {exc.start} is invalid)"
        return
    try:
        records = list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error as exc:
        delivery.rejected = f"the file is not valid CSV: {exc}"
        return
    header = [h.strip() for h in records[0]]
    if sorted(header) != sorted(COLUMNS):
        missing = sorted(set(COLUMNS) - set(header))
        extra = sorted(set(header) - set(COLUMNS))
        delivery.rejected = (
            f"the header is wrong (missing: {', '.join(missing) or 'none'}; "
            f"unexpected: {', '.join(extra) or 'none'}{'; repeated columns' if len(header) != len(set(header)) else ''}); "
            f"expected: {','.join(COLUMNS)}"
        )
        return
    for line, fields in enumerate(records[1:], start=2):
        if not fields or fields == [""]:
            continue  # blank line
        try:
            delivery.rows.append(parse_row(fields, header, delivery.day))
        except (ValueError, OverflowError) as exc:
            delivery.bad_rows.append(BadRow(line, str(exc), fields))
    if not delivery.data_rows:
        delivery.rejected = "the file has a header but no data rows"
    elif len(delivery.bad_rows) > MAX_BAD_ROW_SHARE * delivery.data_rows:
        first = delivery.bad_rows[0]
        delivery.rejected = (
            f"{len(delivery.bad_rows)} of {delivery.data_rows} data rows are invalid (more than "
            f"{MAX_BAD_ROW_SHARE:.0%}); first: line {first.line}: {first.reason}"
        )
