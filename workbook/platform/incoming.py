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

What is in one file, and which of its rows are valid: ``workbook.platform.delivery``.
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import json
import math
import os
import stat
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

# The rules of one file, part of this module's API (the phase imports them from here).
from workbook.platform.delivery import (  # noqa: F401
    FILE_NAME,
    MAX_BAD_ROW_SHARE,
    MAX_FILE_BYTES,
    BadRow,
    Delivery,
    file_day,
    fingerprint_of,
    parse_row,
    read_delivery,
)
from workbook.platform.paths import DEFAULT_INCOMING

INCOMING_ENV = "WORKBOOK_INCOMING_DIR"
SETTLE_ENV = "WORKBOOK_INCOMING_SETTLE_SECONDS"
DEFAULT_SETTLE_SECONDS = 5.0


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
