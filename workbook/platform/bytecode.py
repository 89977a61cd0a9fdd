"""Bytecode for the installed packages, compiled once, in the background, when Python will not.

Python caches the bytecode of every module it imports (``__pycache__/*.pyc``), so the second
start of a process is fast. With ``PYTHONDONTWRITEBYTECODE`` set (some machines and images set
it) nothing is cached, and every Dagster process compiles dagster from source when it starts:
``import dagster`` takes about twice as long.

uv can compile at install time (``uv sync --compile-bytecode``; CI and the Dockerfile do), but
``compile-bytecode = true`` in ``[tool.uv]`` makes uv compile the whole environment again on
*every* ``uv run`` (about 1 s each). So the workbook does it itself: when bytecode is not written
and dagster has none, the first workbook process to notice starts one background compile of
the environment's packages, at the lowest CPU priority, and goes on. Every process started after
it finishes starts from bytecode.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import sysconfig
import time
from pathlib import Path

# A compile that started less than this long ago is still running (another process's).
_STALE_AFTER_S = 15 * 60


def needs_compile() -> bool:
    """True when Python writes no bytecode and the environment has none for dagster."""
    if not sys.dont_write_bytecode:
        return False  # Python caches every module as it imports it
    spec = importlib.util.find_spec("dagster")
    if spec is None or spec.origin is None:
        return False
    return not Path(importlib.util.cache_from_source(spec.origin)).exists()


def compile_in_background() -> bool:
    """Start one low-priority compile of site-packages, unless one is running. True if started."""
    if not needs_compile():
        return False
    site = Path(sysconfig.get_paths()["purelib"])
    marker = Path(sys.prefix) / ".workbook-compiling"
    try:
        if time.time() - marker.stat().st_mtime < _STALE_AFTER_S:
            return False
        marker.unlink()
    except FileNotFoundError:
        pass
    try:
        fd = os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
    except OSError:
        return False  # another process got there first (or the venv is read-only)
    os.close(fd)
    script = (
        "import compileall, os, sys\n"
        "try:\n"
        "    if hasattr(os, 'nice'):\n"
        "        os.nice(19)\n"
        "    compileall.compile_dir(sys.argv[1], quiet=2, workers=0)\n"
        "finally:\n"
        "    os.remove(sys.argv[2])\n"
    )
    subprocess.Popen(
        [sys.executable, "-c", script, str(site), str(marker)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # not stopped with the process that started it
    )
    return True
