"""Phase 5's sensor as the grader drives it: deliveries made by hand (a re-delivery of the same
size and mtime), one tick, the cursor TODO 2 keeps, and what a run key is built with."""

from __future__ import annotations

import ast
import inspect
import json
import os
import re
import textwrap
import time
from datetime import date
from pathlib import Path

import dagster as dg
import pytest

from workbook.platform import generate, incoming

OP = "phase5__incoming_readings"  # the op the sensor's run requests configure


def _age(path: Path, seconds: float = 60) -> None:
    """Make a file look complete: last written `seconds` ago."""
    then = time.time() - seconds
    os.utime(path, (then, then))


def deliver(folder: Path, day: date, age: float = 60) -> Path:
    """Write one day's file as the generator does, and let it settle."""
    (path,) = generate.write_csv(folder, days=1, start=day, cities=["Oslo", "Cairo"])
    _age(path, age)
    return path


def redeliver(path: Path) -> None:
    """Deliver the same day again with other content (as a corrected file would be)."""
    text = path.read_text()
    path.write_text(text + text.splitlines()[-1] + "\n")
    _age(path, 30)


def redeliver_same_size(path: Path) -> None:
    """Deliver the same day again with one digit changed and the old mtime kept (``cp -p`` and
    ``rsync -t`` keep it): a new fingerprint, the same size, the same mtime."""
    st = path.stat()
    data = path.read_bytes()
    last = list(re.finditer(rb"\d", data))[-1]
    digit = b"1" if last.group(0) != b"1" else b"2"
    path.write_bytes(data[: last.start()] + digit + data[last.end() :])
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))


def _cursor_state(folder: Path) -> dict[str, str]:
    """What TODO 2's cursor holds: {name: fingerprint} of the complete files in the folder now."""
    return {f.name: f.fingerprint for f in incoming.ready_files(folder)}


def check_cursor(cursor: str | None, folder: Path, when: str) -> None:
    """The cursor is the documented JSON: {file name: file.fingerprint} of the files there now."""
    want = _cursor_state(folder)
    try:
        got = json.loads(cursor) if cursor else None
    except (TypeError, ValueError):
        got = cursor
    assert got == want, (
        f"TODO 2: {when} the cursor is {str(cursor)[:160]!r}, expected the JSON of "
        f"{{file name: file.fingerprint}} for the files there now, e.g. {json.dumps(want)[:120]}"
    )


def tick(phase, cursor: str | None, todo: str):
    """Evaluate the sensor once: (run requests, new cursor). Fails naming `todo` if it breaks."""
    try:
        sensor = phase.incoming_file_sensor
    except AttributeError as exc:
        pytest.fail(f"{todo}: phase5_automation.py: {exc}", pytrace=False)
    try:
        data = sensor.evaluate_tick(dg.build_sensor_context(cursor=cursor))
    except Exception as exc:  # noqa: BLE001 - the learner's error, reported in one line
        cause = exc
        while cause.__cause__ is not None:
            cause = cause.__cause__
        raised = f"the sensor raised {type(cause).__name__}: {cause}"
        other = str(cause).split(":")[0]
        if other.startswith("TODO") and other != todo:
            pytest.fail(f"{todo} needs {other} first: {raised}", pytrace=False)
        pytest.fail(f"{todo}: {raised}", pytrace=False)
    return list(data.run_requests or []), data.cursor


def requested_path(request: dg.RunRequest) -> str | None:
    """The file a run request asks incoming_readings to load."""
    try:
        return request.run_config["ops"][OP]["config"]["path"]
    except (KeyError, TypeError):
        return None


def names(requests) -> list[str]:
    return sorted(Path(requested_path(r) or "?").name for r in requests)


def run_keys(requests) -> dict[str, str | None]:
    """{file name: run_key} of a tick's run requests."""
    return {Path(requested_path(r) or "?").name: r.run_key for r in requests}


def builtin_calls(fn, names: tuple[str, ...]) -> list[str]:
    """Which of the built-ins ``names`` the function calls (read from its source)."""
    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(fn)))
    except (OSError, TypeError, SyntaxError):
        return []
    return [n.func.id for n in ast.walk(tree)
            if isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id in names]  # fmt: skip
