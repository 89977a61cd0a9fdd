"""Daily CSV deliveries for Phase 5: which files are ready, which rows are valid, where bad ones go.

The weather API drops one file per day into an *incoming* directory (``uv run python
data/generate_weather.py --days 1 --to-csv data/incoming``). This module is the plumbing the
Phase 5 sensor and loader share; the phase file explains *why* each rule exists.

Where
    incoming   ``$WORKBOOK_INCOMING_DIR``, default ``data/incoming/``. Only files directly in it
               are ever read or moved (``delivery_path``): a run config naming anything else (a
               path outside, ``..``, a symlink, a directory) is refused and nothing is touched.
    processed  the ``processed/`` directory next to it (``data/processed/``): every loaded file
               moves there, so the inbox (and the sensor's cursor) holds only files in flight.
    rejected   the ``rejected/`` directory next to it (``data/rejected/``): bad files, each with a
               ``<name>.reason.txt``, and ``<name>.bad_rows.csv`` for the rows dropped from a
               partly bad file. If ``rejected/`` (or ``processed/``) cannot be used (it is a
               file, a dangling link, read-only), the hidden ``.rejected/`` (``.processed/``)
               inside the inbox is used instead; a name too long to take a suffix is shortened
               and made unique with a hash. Moving aside never raises.

When is a file *ready*? (``ready_files``)
    A regular file whose name does not start with ``.`` and does not end with ``.part`` (the
    generator writes ``.weather_....csv.part`` and renames it when complete), and whose last
    change is at least ``settle_seconds`` old (``$WORKBOOK_INCOMING_SETTLE_SECONDS``, default 5).
    A file that is still growing keeps getting a fresh modification time, so it is not ready until
    its writer has been quiet for a while. The older of its modification and status-change times
    counts, so a sender's clock (a modification time in the future) cannot hold a file back.
    Listing or stat errors never raise: the file is simply not ready on this tick.

What identifies one delivery? (``IncomingFile.fingerprint``)
    A hash of the file's bytes plus its status-change time: a correction with the same size and
    modification time (``cp -p``, ``rsync -t``) has new bytes, and the same bytes delivered again
    later (after another version of the day) are a new delivery. The loader compares it with the
    hash of the bytes it actually read, so a file changed after the sensor saw it is not loaded.

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

import contextlib
import csv
import hashlib
import io
import json
import math
import os
import re
import stat
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from workbook.platform.generate import COLUMNS
from workbook.platform.paths import REPO_ROOT
from workbook.platform.rules import day_window

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


class Refused(ValueError):
    """A run was asked to load something that is not a file directly in the inbox."""


def delivery_path(config_path: str, inbox: Path | None = None) -> Path:
    """The file ``config_path`` names, if it is a regular file directly in the inbox.

    A relative path is taken inside the inbox. Refused (nothing read or moved): anything outside
    the inbox (``..`` included), a symlink, a directory or a device. FileNotFoundError if the
    file is gone.
    """
    inbox = Path(os.path.realpath(inbox or incoming_dir()))
    path = Path(os.path.abspath(inbox / Path(config_path).expanduser()))  # '..' without following
    if Path(os.path.realpath(path.parent)) != inbox:
        raise Refused(f"{config_path} is not a file directly in the inbox {inbox} ({INCOMING_ENV})")
    path = inbox / path.name
    if not stat.S_ISREG(os.lstat(path).st_mode):
        raise Refused(f"{path.name} is not a regular file (a symlink, directory or device)")
    return path


def load_cursor(raw: str | None) -> dict[str, str]:
    """The sensor's cursor as ``{file name: fingerprint}``; empty when missing or unreadable.

    Starting again is safe: run keys stop Dagster from loading a delivery twice.
    """
    try:
        cursor = json.loads(raw) if raw else {}
    except ValueError:
        return {}
    if not isinstance(cursor, dict):
        return {}
    return {k: v for k, v in cursor.items() if isinstance(k, str) and isinstance(v, str)}


def settle_seconds() -> float:
    """``$WORKBOOK_INCOMING_SETTLE_SECONDS`` within 0 to 3600 s; the default if not a number."""
    try:
        value = float(os.environ.get(SETTLE_ENV, DEFAULT_SETTLE_SECONDS))
    except ValueError:
        return DEFAULT_SETTLE_SECONDS
    return min(max(value, 0.0), 3600.0) if math.isfinite(value) else DEFAULT_SETTLE_SECONDS


def inbox_problem(inbox: Path | None = None) -> str | None:
    """Why the incoming directory cannot receive files (missing, not a directory); else None."""
    inbox = inbox or incoming_dir()
    if not inbox.is_dir():
        what = "is not a directory" if inbox.exists() else "does not exist"
        return f"the incoming directory {inbox} {what} (set {INCOMING_ENV})"
    return None


@dataclass(frozen=True)
class IncomingFile:
    """A complete file in the incoming directory, as the sensor saw it."""

    name: str
    path: str
    size: int
    mtime_ns: int
    fingerprint: str  # hash of the bytes and status-change time: new for every new delivery


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
        if now - min(st.st_mtime, st.st_ctime) < settle:
            continue  # still being written (or just finished): look again next tick
        path = os.path.abspath(entry.path)
        found.append(IncomingFile(entry.name, path, st.st_size, st.st_mtime_ns,
                                  fingerprint_of(Path(path))))  # fmt: skip
    return sorted(found, key=lambda f: (f.mtime_ns, f.name))


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


# --- moving files aside: processed/ and rejected/ -----------------------------------------------


def _safe_name(name: str) -> str:
    """``name``, or a shortened unique form that still takes ``.bad_rows.csv`` within 255 bytes."""
    if len(os.fsencode(name)) <= 200:
        return name
    digest = hashlib.sha256(os.fsencode(name)).hexdigest()[:12]
    short = name[:120]
    while len(os.fsencode(short)) > 120:
        short = short[:-1]
    return f"{short}~{digest}"


def _free_name(directory: Path, name: str) -> Path:
    """``directory/name``, or ``name.1``, ``name.2``... if a file of that name is already there."""
    target = directory / name
    n = 0
    while os.path.lexists(target) or os.path.lexists(f"{target}.reason.txt"):
        n += 1
        target = directory / f"{name}.{n}"
    return target


def _aside_dirs(inbox: Path, folder: str) -> list[Path]:
    """``folder/`` next to the inbox, then the hidden ``.folder/`` inside it (never read)."""
    return [inbox.parent / folder, inbox / f".{folder}"]


def _usable(directory: Path) -> bool:
    try:
        directory.mkdir(exist_ok=True)
    except OSError:
        pass
    return directory.is_dir()


def move_aside(path: Path, folder: str, note: str | None = None, inbox: Path | None = None):
    """Move a file of the inbox to ``folder/`` (``processed`` or ``rejected``) next to it.

    With a ``note``, ``<name>.reason.txt`` is written next to the moved file. Falls back to the
    hidden ``.folder/`` inside the inbox when ``folder/`` cannot be used. Returns where the file
    went, or None if it could not be moved anywhere (it then stays where it is). Never raises.
    """
    inbox = inbox or incoming_dir()
    for directory in _aside_dirs(inbox, folder):
        if not _usable(directory):
            continue
        target = _free_name(directory, _safe_name(path.name))
        try:
            os.replace(path, target)
        except OSError:
            continue
        if note is not None:
            when = datetime.now(UTC).isoformat(timespec="seconds")
            with contextlib.suppress(OSError):
                Path(f"{target}.reason.txt").write_text(
                    f"{path.name} was rejected at {when}:\n{note}\n"
                )
        return target
    return None


def quarantine(path: Path, reason: str, inbox: Path | None = None) -> Path | None:
    """Move a bad file to ``rejected/`` with ``<name>.reason.txt``; see ``move_aside``."""
    return move_aside(path, "rejected", reason, inbox)


def archive(path: Path, inbox: Path | None = None) -> Path | None:
    """Move a loaded file to ``processed/``; see ``move_aside``."""
    return move_aside(path, "processed", None, inbox)


def write_bad_rows(path: Path, bad_rows: list[BadRow], inbox: Path | None = None) -> Path | None:
    """Write the invalid rows of a partly bad file to ``rejected/<name>.bad_rows.csv``.

    Returns the file written, or None if no rejected directory could take it. Never raises.
    """
    for directory in _aside_dirs(inbox or incoming_dir(), "rejected"):
        target = directory / f"{_safe_name(path.name)}.bad_rows.csv"
        try:
            if not _usable(directory):
                continue
            with target.open("w", newline="") as f:
                writer = csv.writer(f)
                writer.writerow(["line", "reason", "fields"])
                for bad in bad_rows:
                    writer.writerow([bad.line, bad.reason, ",".join(bad.raw)])
        except OSError:
            continue
        return target
    return None
