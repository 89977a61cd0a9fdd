"""Every path the workbook uses, in one place.

The repository's layout is fixed by the course: the five phase files at the top, ``solutions/``,
``dbt_project/``, ``data/``. Everything the workbook writes for itself goes under ``.workbook/``
(results, backups, dbt overlays), ``.pgdata/`` (the embedded server) or ``.dagster_home/`` (the
UI's run history); all three are gitignored.
"""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]

# The course's own files.
SOLUTIONS = REPO_ROOT / "solutions"
SOLUTIONS_DBT = SOLUTIONS / "dbt"
DBT_PROJECT = REPO_ROOT / "dbt_project"
DATA = REPO_ROOT / "data"
DOCS = REPO_ROOT / "docs"
AIRFLOW_DAGS = REPO_ROOT / "airflow_baseline"
GRADERS = REPO_ROOT / "workbook" / "grading" / "graders"
REQUIREMENTS_FILE = REPO_ROOT / "workbook" / "course" / "requirements.toml"

# What the workbook writes (gitignored).
STATE = REPO_ROOT / ".workbook"
RESULTS_FILE = STATE / "results.json"
BACKUPS = STATE / "backups"
DBT_OVERLAYS = STATE / "dbt"
WATCH_LOG = STATE / "watch-worker.log"
AIRFLOW_HOME = REPO_ROOT / ".airflow"
# The UI's run history (the root dagster.yaml keeps it here; `workbook progress` reads it).
DAGSTER_HOME = REPO_ROOT / ".dagster_home"
DEFAULT_INCOMING = DATA / "incoming"
# The embedded server's data directory.
PGDATA = Path(os.environ.get("WORKBOOK_PGDATA") or REPO_ROOT / ".pgdata")


def shown(path: Path | str) -> str:
    """A path as a learner should read it: relative to the repository when inside it."""
    path = Path(path)
    return str(path.relative_to(REPO_ROOT)) if path.is_relative_to(REPO_ROOT) else str(path)
