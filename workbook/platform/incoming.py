"""Daily CSV deliveries for Phase 5: which files are ready, which rows are valid, where bad ones go.

The weather API drops one file per day into an *incoming* directory (``uv run python
data/generate_weather.py --days 1 --to-csv data/incoming``). This module is the plumbing the
Phase 5 sensor and loader share; the phase file explains *why* each rule exists.

Where
    incoming   ``$WORKBOOK_INCOMING_DIR``, default ``data/incoming/``
    rejected   the ``rejected/`` directory next to it (``data/rejected/``): bad files, each with a
               ``<name>.reason.txt``, and ``<name>.bad_rows.csv`` for the rows dropped from a
               partly bad file.

When is a file *ready*? (``ready_files``)
    A regular file whose name does not start with ``.`` and does not end with ``.part`` (the
    generator writes ``.weather_....csv.part`` and renames it when complete), and whose last
    change is at least ``settle_seconds`` old (``$WORKBOOK_INCOMING_SETTLE_SECONDS``, default 5).
    A file that is still growing keeps getting a fresh modification time, so it is not ready until
    its writer has been quiet for a while. Listing or stat errors never raise: the file is simply
    not ready on this tick.

When is a file *rejected as a whole*? (``read_delivery``; nothing is loaded, the table is untouched)
    - its name is not ``weather_YYYY-MM-DD.csv`` with a real date;
    - it cannot be opened or read (permissions, vanished, a directory);
    - it is larger than ``MAX_FILE_BYTES`` (checked before reading a byte);
    - it is empty, or has a header but no data rows;
    - it is not UTF-8 text, or contains NUL bytes (a binary file);
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
import io
import math
import os
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from workbook.platform.generate import COLUMNS
from workbook.platform.paths import REPO_ROOT

INCOMING_ENV = "WORKBOOK_INCOMING_DIR"
SETTLE_ENV = "WORKBOOK_INCOMING_SETTLE_SECONDS"
DEFAULT_INCOMING = REPO_ROOT / "data" / "incoming"
DEFAULT_SETTLE_SECONDS = 5.0
MAX_FILE_BYTES = 50 * 1024 * 1024  # a day of 12 cities is about 30 KB
MAX_BAD_ROW_SHARE = 0.10
FILE_NAME = re.compile(r"weather_(\d{4}-\d{2}-\d{2})\.csv")

NUMERIC = ("temperature", "humidity_pct", "wind_speed_kmh", "pressure_hpa", "precipitation_mm")
REQUIRED = ("station_id", "station_name", "city", "country", "observed_at")
UNITS = ("C", "F")


def incoming_dir() -> Path:
    """The directory the sensor watches (``$WORKBOOK_INCOMING_DIR`` or ``data/incoming``)."""
    configured = os.environ.get(INCOMING_ENV, "").strip()
    return Path(configured).expanduser().resolve() if configured else DEFAULT_INCOMING


def rejected_dir(incoming: Path | None = None) -> Path:
    """Where bad files go: ``rejected/`` next to the incoming directory."""
    return (incoming or incoming_dir()).parent / "rejected"


def settle_seconds() -> float:
    try:
        return max(0.0, float(os.environ.get(SETTLE_ENV, DEFAULT_SETTLE_SECONDS)))
    except ValueError:
        return DEFAULT_SETTLE_SECONDS


@dataclass(frozen=True)
class IncomingFile:
    """A complete file in the incoming directory, as one ``stat`` saw it."""

    name: str
    path: str
    size: int
    mtime_ns: int

    @property
    def fingerprint(self) -> str:
        """Size and modification time: changes whenever the file is delivered again."""
        return f"{self.size}-{self.mtime_ns}"


def is_temporary(name: str) -> bool:
    """In-flight or hidden files: ``.weather_2024-01-01.csv.part``, ``.DS_Store``, ``x.part``."""
    return name.startswith(".") or name.endswith((".part", ".tmp", "~"))


def ready_files(
    directory: Path | None = None, now: float | None = None, settle: float | None = None
) -> list[IncomingFile]:
    """The files in ``directory`` that are complete deliveries, oldest first. Never raises."""
    directory = directory or incoming_dir()
    now = datetime.now(UTC).timestamp() if now is None else now
    settle = settle_seconds() if settle is None else settle
    found: list[IncomingFile] = []
    try:
        entries = list(os.scandir(directory))
    except OSError:  # missing or unreadable directory: nothing is ready
        return []
    for entry in entries:
        if is_temporary(entry.name):
            continue
        try:
            if not entry.is_file(follow_symlinks=False):
                continue  # directories, FIFOs, sockets, symlinks: never a delivery
            st = entry.stat(follow_symlinks=False)
        except OSError:  # vanished between listing and stat
            continue
        if now - st.st_mtime < settle:
            continue  # still being written (or just finished): look again next tick
        found.append(IncomingFile(entry.name, os.path.abspath(entry.path), st.st_size,
                                  st.st_mtime_ns))  # fmt: skip
    return sorted(found, key=lambda f: (f.mtime_ns, f.name))


def fingerprint_of(path: Path) -> str | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return f"{st.st_size}-{st.st_mtime_ns}"


# --- reading and validating a delivery -------------------------------------------------------


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
    delivery.day = file_day(path.name)
    if delivery.day is None:
        delivery.rejected = f"the file name is not weather_YYYY-MM-DD.csv: {path.name!r}"
        return delivery
    try:
        size = path.stat().st_size
        if size > max_bytes:
            delivery.rejected = f"the file is too large: {size:,} bytes (limit {max_bytes:,})"
            return delivery
        with path.open("rb") as f:
            data = f.read(max_bytes + 1)
    except OSError as exc:
        delivery.rejected = f"the file cannot be read: {type(exc).__name__}: {exc.strerror or exc}"
        return delivery
    if len(data) > max_bytes:  # it grew after the stat
        delivery.rejected = f"the file is too large: more than {max_bytes:,} bytes"
        return delivery
    if not data.strip():
        delivery.rejected = "the file is empty"
        return delivery
    if b"\x00" in data:
        delivery.rejected = "the file is binary, not CSV text (it contains NUL bytes)"
        return delivery
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        delivery.rejected = f"the file is not UTF-8 text (byte {exc.start} is invalid)"
        return delivery
    try:
        records = list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error as exc:
        delivery.rejected = f"the file is not valid CSV: {exc}"
        return delivery
    header = [h.strip() for h in records[0]]
    if sorted(header) != sorted(COLUMNS):
        missing = sorted(set(COLUMNS) - set(header))
        extra = sorted(set(header) - set(COLUMNS))
        delivery.rejected = (
            f"the header is wrong (missing: {', '.join(missing) or 'none'}; "
            f"unexpected: {', '.join(extra) or 'none'}{'; repeated columns' if len(header) != len(set(header)) else ''}); "
            f"expected: {','.join(COLUMNS)}"
        )
        return delivery
    for line, fields in enumerate(records[1:], start=2):
        if not fields or fields == [""]:
            continue  # blank line
        try:
            delivery.rows.append(parse_row(fields, header, delivery.day))
        except ValueError as exc:
            delivery.bad_rows.append(BadRow(line, str(exc), fields))
    if not delivery.data_rows:
        delivery.rejected = "the file has a header but no data rows"
    elif len(delivery.bad_rows) > MAX_BAD_ROW_SHARE * delivery.data_rows:
        first = delivery.bad_rows[0]
        delivery.rejected = (
            f"{len(delivery.bad_rows)} of {delivery.data_rows} data rows are invalid (more than "
            f"{MAX_BAD_ROW_SHARE:.0%}); first: line {first.line}: {first.reason}"
        )
    return delivery


# --- quarantine ------------------------------------------------------------------------------


def _free_name(directory: Path, name: str) -> Path:
    """``directory/name``, or ``name.1``, ``name.2``... if a file of that name is already there."""
    target = directory / name
    n = 0
    while target.exists() or target.with_name(target.name + ".reason.txt").exists():
        n += 1
        target = directory / f"{name}.{n}"
    return target


def reject_file(path: Path, reason: str, rejected: Path | None = None) -> Path:
    """Move a bad file to the rejected directory and write ``<name>.reason.txt`` next to it.

    Returns where the file went. If the file cannot be moved (it vanished, or the directory is
    read-only), the reason file is still written, and the error is part of it.
    """
    rejected = rejected or rejected_dir(path.parent)
    rejected.mkdir(parents=True, exist_ok=True)
    target = _free_name(rejected, path.name)
    note = ""
    try:
        os.replace(path, target)
    except OSError as exc:
        note = f"\n(the file could not be moved here: {type(exc).__name__}: {exc})"
    when = datetime.now(UTC).isoformat(timespec="seconds")
    target.with_name(target.name + ".reason.txt").write_text(
        f"{path.name} was rejected at {when}:\n{reason}{note}\n"
    )
    return target


def write_bad_rows(path: Path, bad_rows: list[BadRow], rejected: Path | None = None) -> Path:
    """Write the invalid rows of a partly bad file to ``rejected/<name>.bad_rows.csv``."""
    rejected = rejected or rejected_dir(path.parent)
    rejected.mkdir(parents=True, exist_ok=True)
    target = rejected / f"{path.name}.bad_rows.csv"
    with target.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["line", "reason", "fields"])
        for bad in bad_rows:
            writer.writerow([bad.line, bad.reason, ",".join(bad.raw)])
    return target
