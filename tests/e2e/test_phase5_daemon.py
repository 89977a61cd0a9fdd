"""Phase 5 smoke test with the real ``dagster-daemon``: a dropped CSV flows to the daily summary.

It starts ``dagster-daemon run`` (no webserver: nothing here needs the UI) in its own process
group, against a temporary DAGSTER_HOME and the test database, serving
``tests/e2e/phase5_daemon/definitions.py`` (the reference Phase 5 with its sensors RUNNING). It drops
one generated CSV into a temporary incoming directory and waits, within a deadline, until:

1. the file sensor launched a run of ``phase5_ingest_job`` for the file, and it succeeded;
2. that run loaded the file's rows into ``phase5.incoming_readings``;
3. the automation sensor launched a run that materialized ``phase5/daily_summary`` (eager).

Then it stops the process group it started (the daemon, its code server and run workers), and
nothing else.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import dagster as dg
import pytest
from psycopg2 import sql

from workbook.platform import db, generate, incoming
from workbook.platform.paths import REPO_ROOT

# It stops what it started by process group, which needs POSIX.
pytestmark = pytest.mark.skipif(os.name != "posix", reason="uses process groups (POSIX only)")
DEADLINE_S = 150
DAY = date(2024, 4, 1)
SUMMARY = dg.AssetKey(["phase5", "daily_summary"])
# Launch runs as soon as they are requested (the default queue waits for its next pass, ~5-10 s).
INSTANCE_YAML = """\
telemetry:
  enabled: false
run_coordinator:
  module: dagster._core.run_coordinator
  class: DefaultRunCoordinator
"""


def _stop_group(proc: subprocess.Popen) -> None:
    """SIGTERM the process group we started, then SIGKILL whatever is left after 15 s."""
    for sig, wait in ((signal.SIGTERM, 15), (signal.SIGKILL, 5)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        end = time.monotonic() + wait
        while time.monotonic() < end:
            proc.poll()
            try:
                os.killpg(proc.pid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.2)


def _count(schema: str, table: str, column: str, value: object) -> int | None:
    """Rows of schema.table whose column equals value; None if the table does not exist."""
    ident = sql.Identifier(schema, table)
    with db.connect() as conn, conn.cursor() as cur:
        cur.execute("select to_regclass(%s)", (ident.as_string(cur),))
        if cur.fetchone()[0] is None:
            return None
        query = sql.SQL("select count(*) from {} where {} = %s")
        cur.execute(query.format(ident, sql.Identifier(column)), (value,))
        return cur.fetchone()[0]


def test_daemon_loads_a_dropped_file_and_updates_the_summary(tmp_path, test_database, monkeypatch):
    home = tmp_path / "dagster_home"
    home.mkdir()
    (home / "dagster.yaml").write_text(INSTANCE_YAML)
    folder = tmp_path / "incoming"
    folder.mkdir()
    with db.connect() as conn, conn.cursor() as cur:
        cur.execute("drop schema if exists phase5 cascade")

    env = {
        **os.environ,
        "DAGSTER_HOME": str(home),
        db.ENV_VAR: test_database,
        incoming.INCOMING_ENV: str(folder),
        incoming.SETTLE_ENV: "1",
    }
    # Create the instance's storage here, before the daemon starts: two processes creating the
    # same fresh SQLite storage at once race on its schema stamp (alembic), and the daemon dies.
    monkeypatch.setenv("DAGSTER_HOME", str(home))  # this process reads the daemon's instance
    instance = dg.DagsterInstance.get()
    instance.get_runs(limit=1)  # touch each storage (runs, events, schedules) so it is created
    instance.get_latest_materialization_event(SUMMARY)
    instance.all_instigator_state()
    log = (tmp_path / "daemon.log").open("w")
    daemon = Path(sys.executable).parent / "dagster-daemon"
    started = time.monotonic()
    proc = subprocess.Popen(
        [str(daemon), "run", "-f", "tests/e2e/phase5_daemon/definitions.py",
         "--working-directory", str(REPO_ROOT)],
        cwd=REPO_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    seen: dict[str, object] = {}
    try:
        (path,) = generate.write_csv(folder, days=1, start=DAY)
        expected_rows = len(path.read_text().splitlines()) - 1
        while time.monotonic() - started < DEADLINE_S:
            assert proc.poll() is None, "dagster-daemon exited; see its log below"
            runs = instance.get_runs()
            seen["runs"] = [(r.job_name, r.status.value, r.tags.get("dagster/sensor_name"))
                            for r in runs]  # fmt: skip
            ingest = [r for r in runs
                      if r.tags.get("dagster/sensor_name") == "phase5_incoming_file_sensor"]  # fmt: skip
            summary = instance.get_latest_materialization_event(SUMMARY)
            if ingest and summary is not None:
                seen["ingest"], seen["summary"] = ingest, summary
                break
            time.sleep(1)
        elapsed = time.monotonic() - started
    finally:
        _stop_group(proc)
        log.close()
        instance.dispose()
    tail = "\n".join((tmp_path / "daemon.log").read_text().splitlines()[-40:])
    if "summary" not in seen:
        pytest.fail(f"within {DEADLINE_S} s the data did not reach daily_summary; runs: "
                    f"{seen.get('runs')}\n--- daemon log ---\n{tail}")  # fmt: skip

    (ingest,) = seen["ingest"]
    assert ingest.job_name == "phase5_ingest_job" and ingest.status == dg.DagsterRunStatus.SUCCESS
    assert ingest.tags.get("dagster/run_key", "").startswith(path.name)
    loaded = _count("phase5", "incoming_readings", "source_file", path.name)
    assert loaded == expected_rows, (
        f"the run loaded {loaded} rows of {path.name}, expected {expected_rows}"
    )
    with dg.DagsterInstance.get() as reader:
        summary_run = reader.get_run_by_id(seen["summary"].run_id)
    assert summary_run.tags.get("dagster/from_automation_condition") == "true", summary_run.tags
    assert summary_run.tags.get("dagster/sensor_name") == "phase5_automation_sensor"
    days = _count("phase5", "daily_summary", "day", DAY)
    assert days == len(generate.CITIES), f"daily_summary has {days} rows for {DAY}"
    print(f"\nphase5 daemon smoke test: file to daily_summary in {elapsed:.1f} s "
          f"(including daemon start-up)")  # fmt: skip
