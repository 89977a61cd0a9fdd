"""What every benchmark section shares: a figure (value, floor, goal) and a cold timer."""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from workbook.platform.paths import REPO_ROOT

ROOT = REPO_ROOT
PY = sys.executable
UV = shutil.which("uv") or "uv"


@dataclass
class Figure:
    section: str
    name: str
    value: float
    unit: str
    floor: float | None = None
    floor_name: str = ""
    runs: int = 1
    note: str = ""
    goal: float | None = None  # the target for this wait (same unit), if it has one

    @property
    def met(self) -> str:
        if self.goal is None:
            return ""
        return "yes" if self.value <= self.goal else "**no**"

    @property
    def ratio(self) -> str:
        if not self.floor:
            return ""
        return f"{self.value / self.floor:.2f}×"


def timed(cmd: list[str], runs: int, env: dict | None = None, cwd: Path = ROOT) -> float:
    """Median wall time of ``cmd`` over ``runs`` fresh processes."""
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        subprocess.run(cmd, cwd=cwd, env=env or os.environ.copy(), capture_output=True)
        times.append(time.perf_counter() - t)
    return statistics.median(times)
