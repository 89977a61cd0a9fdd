"""The Airflow baseline's environment and runner.

Airflow lives in its own virtual environment, ``.airflow/venv`` (gitignored), installed from the
same lock file with the ``airflow`` extra: learners who only do the Dagster phases never pay for
it, and it never disturbs the project's ``.venv``.

    uv run workbook airflow install          # once: the venv, and a migrated metadata template
    uv run workbook airflow run --days 7     # the DAG for 7 dates, in a throwaway AIRFLOW_HOME

Each run gets a fresh ``AIRFLOW_HOME`` in a temp directory, with SQLite metadata copied from the
template that ``install`` migrated once (``airflow db migrate`` takes ~10 s; a copy takes ms).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from datetime import date
from pathlib import Path

from workbook.platform.paths import REPO_ROOT

AIRFLOW_DIR = REPO_ROOT / ".airflow"
VENV = AIRFLOW_DIR / "venv"
PYTHON = VENV / "bin" / "python"
TEMPLATE_DB = AIRFLOW_DIR / "template" / "airflow.db"
DAGS = REPO_ROOT / "airflow_baseline"


class BaselineError(RuntimeError):
    """The Airflow environment is missing or a run failed; the message says what to do."""


def installed() -> bool:
    return PYTHON.exists() and TEMPLATE_DB.exists()


def _airflow_env(home: Path, db_file: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}
    env.update(
        AIRFLOW_HOME=str(home),
        AIRFLOW__CORE__DAGS_FOLDER=str(DAGS),
        AIRFLOW__CORE__LOAD_EXAMPLES="False",
        AIRFLOW__DATABASE__SQL_ALCHEMY_CONN=f"sqlite:///{db_file}",
        AIRFLOW__CORE__UNIT_TEST_MODE="False",
        # Offline and quiet: no update checks, no usage data.
        AIRFLOW__CORE__CHECK_FOR_UPDATES="False",
        SCARF_ANALYTICS="false",
        DO_NOT_TRACK="1",
        PYTHONPATH=str(REPO_ROOT),
        PATH=f"{VENV / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}",  # dbt for the dbt DAG
    )
    return env


def install(log=print) -> None:
    """Create ``.airflow/venv`` from the lock file (extra ``airflow``) and migrate a template DB."""
    uv = shutil.which("uv")
    if uv is None:
        raise BaselineError("uv is not on PATH: install it with `pip install uv`")
    AIRFLOW_DIR.mkdir(exist_ok=True)
    req = AIRFLOW_DIR / "requirements.txt"
    env = {**os.environ, "UV_PYTHON_DOWNLOADS": "never"}
    steps = [
        [uv, "export", "--frozen", "--extra", "airflow", "--no-dev", "--no-hashes", "-q",
         "-o", str(req)],
        [uv, "venv", "-q", "--allow-existing", "--python", sys.executable, str(VENV)],
        [uv, "pip", "install", "-q", "--python", str(PYTHON), "--compile-bytecode", "-r", str(req)],
    ]  # fmt: skip
    for cmd in steps:
        log(f"$ {' '.join(Path(c).name if i == 0 else c for i, c in enumerate(cmd))}")
        if subprocess.run(cmd, cwd=REPO_ROOT, env=env).returncode != 0:
            raise BaselineError(f"`{' '.join(cmd)}` failed")
    TEMPLATE_DB.parent.mkdir(parents=True, exist_ok=True)
    TEMPLATE_DB.unlink(missing_ok=True)
    log("$ airflow db migrate   (once, into the template)")
    out = subprocess.run(
        [str(VENV / "bin" / "airflow"), "db", "migrate"],
        env=_airflow_env(TEMPLATE_DB.parent, TEMPLATE_DB), capture_output=True, text=True,
    )  # fmt: skip
    if out.returncode != 0:
        raise BaselineError(f"airflow db migrate failed:\n{out.stderr[-2000:]}")
    log(f"Airflow is installed in {VENV.relative_to(REPO_ROOT)}.")


def run_backfill(start: date, days: int, database_url: str, dag_id: str = "weather_etl") -> dict:
    """Run ``dag_id`` for ``days`` dates from ``start`` in a throwaway AIRFLOW_HOME.

    Returns the timings the runner measured (see ``airflow_baseline/backfill.py``).
    """
    if not installed():
        raise BaselineError(
            "The Airflow baseline is not installed: run `uv run workbook airflow install` "
            "(once; about a minute)."
        )
    with tempfile.TemporaryDirectory(prefix="airflow_home_") as tmp:
        home = Path(tmp)
        db_file = home / "airflow.db"
        shutil.copyfile(TEMPLATE_DB, db_file)
        env = _airflow_env(home, db_file)
        env["WORKBOOK_DATABASE_URL"] = database_url
        out = subprocess.run(
            [str(PYTHON), "-m", "airflow_baseline.backfill", dag_id, start.isoformat(), str(days)],
            cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=900,
        )  # fmt: skip
    lines = [line for line in out.stdout.splitlines() if line.startswith("{")]
    if out.returncode != 0 or not lines:
        raise BaselineError(f"the Airflow backfill failed:\n{(out.stdout + out.stderr)[-3000:]}")
    return json.loads(lines[-1])
