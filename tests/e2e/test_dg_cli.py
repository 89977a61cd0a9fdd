"""The `dg` commands the README and the phase texts show, run as a learner runs them.

Each runs this environment's ``dg`` in a subprocess, against the seeded test database and a
temporary DAGSTER_HOME (telemetry off, run history in the temp dir: the learner's .dagster_home/
is never touched):

* ``dg check defs`` on the repository exits 0 and prints no Supersession or Deprecation warning;
* ``dg launch --assets phase1/raw_weather_data`` succeeds;
* a phase with a syntax error hides no other phase under ``dg list defs``: run on a copy of the
  project whose Phase 3 is broken (PYTHONPATH makes that copy's ``workbook`` the one imported).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from workbook.platform.paths import DBT_PROJECT, REPO_ROOT, SOLUTIONS

DG = str(Path(sys.executable).with_name("dg"))
pytestmark = pytest.mark.skipif(not Path(DG).exists(), reason="dagster-dg-cli is not installed")


@pytest.fixture
def dg_env(tmp_path, test_database):
    home = tmp_path / "dagster_home"
    home.mkdir()
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    env = {**os.environ, "DAGSTER_HOME": str(home), "WORKBOOK_DATABASE_URL": test_database}
    env.pop("WORKBOOK_DEFS", None)
    env.pop("WORKBOOK_DBT_COMPONENT", None)
    return env


def _dg(args: list[str], env: dict, cwd: Path = REPO_ROOT) -> subprocess.CompletedProcess:
    return subprocess.run([DG, *args], cwd=cwd, env=env, capture_output=True, text=True)


def test_dg_check_defs_passes_without_supersession_or_deprecation_warnings(dg_env):
    out = _dg(["check", "defs"], dg_env)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "All definitions loaded successfully." in out.stdout + out.stderr
    for warning in ("SupersessionWarning", "DeprecationWarning"):
        assert warning not in out.stdout + out.stderr


def test_dg_launch_materializes_phase1s_first_asset(dg_env):
    out = _dg(["launch", "--assets", "phase1/raw_weather_data"], dg_env)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    assert "RUN_SUCCESS" in out.stdout + out.stderr


def test_a_syntax_error_hides_no_other_phase_under_dg_list_defs(tmp_path, dg_env):
    project = tmp_path / "project"
    project.mkdir()
    for name in ("pyproject.toml", "dagster.yaml", *(p.name for p in REPO_ROOT.glob("phase*.py"))):
        shutil.copyfile(REPO_ROOT / name, project / name)
    skip = shutil.ignore_patterns("__pycache__", "target", "logs", ".local_defs_state")
    for folder in (REPO_ROOT / "workbook", SOLUTIONS, DBT_PROJECT):
        shutil.copytree(folder, project / folder.name, ignore=skip)
    with (project / "phase3_partitions.py").open("a") as f:
        f.write("\ndef broken(:\n")
    env = {**dg_env, "PYTHONPATH": str(project)}

    out = _dg(["list", "defs", "--json", "--target-path", str(project)], env, cwd=project)

    assert out.returncode == 0, out.stderr[-3000:]
    keys = {a["asset_key"] for a in json.loads(out.stdout)["assets"]}
    assert "phase3/load_error" in keys
    assert not any(k.startswith("phase3/") and k != "phase3/load_error" for k in keys)
    for phase in (1, 2, 4, 5):
        assert any(k.startswith(f"phase{phase}/") and "load_error" not in k for k in keys), phase
    assert "phase3_partitions.py, line" in out.stderr
