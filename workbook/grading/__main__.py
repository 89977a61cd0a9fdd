"""``python -m workbook.grading PHASE DIR[::REQ,REQ] ...``: grade several exercise directories.

Grades the exercise files in each DIR (only the requirements REQ, when given) and prints one JSON
line of outcomes per DIR. One process grades them all, so the import and warm-up cost is paid
once (the self-test uses this).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from workbook.grading.runner import run

phase_arg, *dirs = sys.argv[1:]
for d in dirs:
    path, _, reqs = d.partition("::")
    found = run(int(phase_arg), "exercises", exercises_dir=Path(path),
                only=reqs.split(",") if reqs else None)  # fmt: skip
    print(json.dumps([{"id": o.requirement.id, "passed": o.passed, "message": o.message}
                      for o in found]), flush=True)  # fmt: skip
