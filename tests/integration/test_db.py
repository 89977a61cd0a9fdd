"""Database access: clear errors, a shared embedded server, and recovery from a stale pid file."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import quote

import pytest

from workbook.platform import db, embedded
from workbook.platform.paths import REPO_ROOT


def test_an_unreachable_server_fails_fast_with_host_and_database_and_no_password(monkeypatch):
    monkeypatch.setenv(db.ENV_VAR, "postgresql://learner:s3cret@127.0.0.1:9/weather")
    started = time.monotonic()
    with pytest.raises(db.DatabaseError) as err:
        with db.connect():
            pass
    assert time.monotonic() - started < 5
    message = str(err.value)
    assert "database 'weather' on host 127.0.0.1:9" in message
    assert "s3cret" not in message and "***" in message


def test_the_cli_reports_an_unreachable_server_in_one_message():
    env = {**os.environ, db.ENV_VAR: "postgresql://u:pw@127.0.0.1:9/weather"}
    out = subprocess.run(
        [sys.executable, "-m", "workbook.cli", "db", "status"],
        capture_output=True,
        text=True,
        env=env,
    )
    assert out.returncode == 1
    assert "Cannot connect to database 'weather'" in out.stderr and "Traceback" not in out.stderr


def test_psql_passes_its_arguments_through(test_database):
    out = subprocess.run(
        [sys.executable, "-m", "workbook.cli", "db", "psql", "-tA", "-c", "select 40 + 2"],
        capture_output=True, text=True,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "42"


def test_url_parts_for_dbt_and_masking():
    parts = db.parse_url("postgresql://postgres:@/workbook?host=/tmp/x&port=5432")
    assert parts == {"host": "/tmp/x", "port": "5432", "user": "postgres", "password": "",
                     "dbname": "workbook"}  # fmt: skip
    assert db.mask("postgresql://a:b@h:1/d") == "postgresql://a:***@h:1/d"


def test_a_stale_pid_file_is_recovered_and_the_server_outlives_its_starter():
    """A pid file naming a live non-postgres process (a reused pid) must not stop the workbook."""
    # Its own temp dir, not tmp_path: the server runs as another user (as root: `pgserver`), so
    # every parent must stay traversable, and pytest prunes its numbered dirs under our feet.
    tmp = tempfile.mkdtemp(prefix="workbook-stale-pid-")
    pgdata = Path(tmp) / "pg"
    env = {**os.environ, "WORKBOOK_PGDATA": str(pgdata)}
    env.pop(db.ENV_VAR, None)
    url_of = [sys.executable, "-m", "workbook.cli", "db", "url"]
    try:
        first = subprocess.run(url_of, capture_output=True, text=True, env=env)
        assert first.returncode == 0, first.stderr
        # The starter has exited; a process that only connects by URL still reaches the server.
        assert db.answers(first.stdout.strip())
        stop = subprocess.run([*url_of[:-1], "stop"], capture_output=True, text=True, env=env)
        assert "stopped" in stop.stdout
        pidfile = pgdata / "postmaster.pid"
        fake = ["1", str(pgdata), "0", "5432", str(pgdata), "", "0 0", "ready"]
        fake[0] = str(os.getpid())  # alive, but not postgres
        pidfile.write_text("\n".join(fake) + "\n")
        again = subprocess.run(url_of, capture_output=True, text=True, env=env)
        assert again.returncode == 0, again.stderr
        assert db.answers(again.stdout.strip())
    finally:
        subprocess.run([*url_of[:-1], "stop"], capture_output=True, env=env)
        shutil.rmtree(tmp, ignore_errors=True)


# --- URLs: one masked line for anything libpq would not accept -----------------------------------

BAD_URLS = [
    "postgresql+psycopg2://u:pw-secret@host:1/x",
    "mysql://u:pw-secret@host/x",
    " postgresql://u:pw-secret@host/x",
    "postgresql://u:pw-secret@[::1/x",
    "postgresql://u:pw-secret@host:99999/x",
    "postgresql://u:pw-secret@host:abc/x",
]


@pytest.mark.parametrize("url", BAD_URLS)
def test_a_malformed_url_is_one_line_without_the_password(url, monkeypatch):
    monkeypatch.setenv(db.ENV_VAR, url)
    with pytest.raises(db.DatabaseError) as caught:
        db.database_url()
    message = str(caught.value)
    assert len(message.splitlines()) == 1 and db.ENV_VAR in message, message
    assert "pw-secret" not in message


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://u:pw-secret@host/x",
        "postgresql://u@host/x?password=pw-secret",
        "postgresql://u:pw@secret@host/x",  # a raw @ in the password
        "host=h user=u password=pw-secret dbname=x",
    ],
)
def test_mask_hides_every_form_of_password(url):
    assert "secret" not in db.mask(url) and "***" in db.mask(url)
    assert "secret" not in db.describe(url)


def test_dbt_env_exports_are_quoted_for_the_shell(monkeypatch, tmp_path):
    """`eval "$(workbook dbt env)"` must not run what a password holds."""
    canary = tmp_path / "ran"
    password = f"a'$(touch {canary})\"`touch {canary}`"
    monkeypatch.setenv(db.ENV_VAR, f"postgresql://u:{quote(password, safe='')}@127.0.0.1:1/x")
    out = subprocess.run(
        [sys.executable, "-m", "workbook.cli", "dbt", "env"], capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr
    shown = subprocess.run(
        ["bash", "-c", out.stdout + '\nprintf %s "$WORKBOOK_PG_PASSWORD"'],
        capture_output=True,
        text=True,
    )
    assert shown.stdout == password and not canary.exists()


# --- every command, every bad URL: one line, a non-zero exit, never the password ----------------

CLI_BAD_URLS = [
    *BAD_URLS,
    "postgresql://u:pw-secret@127.0.0.1:1,127.0.0.2:1/x",  # several hosts
    "postgresql://u@127.0.0.1:1/x?password=pw-secret&connect_timeout=2",
    "postgresql://u:pw@secret@127.0.0.1:1/x",  # a raw @ in the password
    "host=127.0.0.1 port=1 user=u password=pw-secret dbname=x connect_timeout=2",
]
COMMANDS = {
    "db status": ["-m", "workbook.cli", "db", "status"],
    "db psql": ["-m", "workbook.cli", "db", "psql", "-c", "select 1"],
    "generator": ["data/generate_weather.py", "--days", "1"],
}


@pytest.mark.parametrize("url", CLI_BAD_URLS)
@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_gives_one_line_without_the_password(url, command):
    out = subprocess.run(
        [sys.executable, *COMMANDS[command]],
        capture_output=True,
        text=True,
        env={**os.environ, db.ENV_VAR: url},
        cwd=REPO_ROOT,
        timeout=30,
    )
    text = out.stdout + out.stderr
    assert out.returncode != 0 and "Traceback" not in text, text
    lines = 2 if command == "db psql" else 1  # psql's own "cannot connect" adds a hint line
    assert 1 <= len(out.stderr.strip().splitlines()) <= lines, out.stderr
    assert "secret" not in text, text


def test_psql_gets_no_password_on_its_command_line(monkeypatch):
    seen = {}
    monkeypatch.setattr(embedded, "pg_bin", lambda name: name)
    monkeypatch.setattr(subprocess, "call", lambda argv, env=None: seen.update(argv=argv, env=env))
    db.psql(["-c", "select 1"], url="postgresql://u:pw-secret@127.0.0.1:5432/x")
    assert "secret" not in " ".join(seen["argv"]) and seen["env"]["PGPASSWORD"] == "pw-secret"
    assert "dbname=x" in seen["argv"][1] and seen["argv"][2:] == ["-c", "select 1"]


# --- the embedded server: status observes, stop cleans up, a bad WORKBOOK_PGDATA is one line ------


def test_status_does_not_start_and_a_pid_file_of_another_postgres_is_recovered():
    """postmaster.pid naming a live process called postgres, of another data directory."""
    tmp = Path(tempfile.mkdtemp(prefix="workbook-other-pg-"))  # see the stale pid test above
    pgdata = tmp / "pg"
    env = {**os.environ, "WORKBOOK_PGDATA": str(pgdata)}
    env.pop(db.ENV_VAR, None)

    def cli(*args):
        return subprocess.run([sys.executable, "-m", "workbook.cli", *args], capture_output=True,
                              text=True, env=env, timeout=120)  # fmt: skip

    (tmp / "bin").mkdir()
    shutil.copy(shutil.which("sleep"), tmp / "bin" / "postgres")  # its name is exactly postgres
    other = subprocess.Popen([tmp / "bin" / "postgres", "300"], cwd=tmp)
    try:
        assert cli("db", "url").returncode == 0
        assert cli("db", "stop").stdout.strip() == "stopped"
        status = cli("db", "status")
        assert status.returncode == 3 and "not running" in status.stdout
        assert not (pgdata / "postmaster.pid").exists(), "db status started the server"

        fake = [str(other.pid), str(pgdata), "0", "5432", str(pgdata), "", "0 0", "ready"]
        (pgdata / "postmaster.pid").write_text("\n".join(fake) + "\n")
        status = cli("db", "status")
        assert status.returncode == 3 and "is stale" in status.stdout
        stop = cli("db", "stop")
        assert "removed its stale postmaster.pid" in stop.stdout, stop.stdout
        assert not (pgdata / "postmaster.pid").exists()

        (pgdata / "postmaster.pid").write_text("\n".join(fake) + "\n")
        again = cli("db", "url")
        assert again.returncode == 0, again.stderr
        assert db.answers(again.stdout.strip()) and other.poll() is None
    finally:
        cli("db", "stop")
        other.kill()
        other.wait()
        shutil.rmtree(tmp, ignore_errors=True)


@pytest.mark.parametrize("where", ["under a file", "under /proc"])
def test_an_unusable_pgdata_is_one_line(tmp_path, where):
    (tmp_path / "afile").write_text("x")
    pgdata = tmp_path / "afile" / "pg" if where == "under a file" else Path("/proc/no-such/pg")
    env = {**os.environ, "WORKBOOK_PGDATA": str(pgdata)}
    env.pop(db.ENV_VAR, None)
    out = subprocess.run([sys.executable, "-m", "workbook.cli", "db", "url"], capture_output=True,
                         text=True, env=env, timeout=60)  # fmt: skip
    assert out.returncode == 1 and out.stdout == ""
    assert out.stderr.startswith(f"workbook: WORKBOOK_PGDATA={pgdata}: cannot create")
    assert len(out.stderr.strip().splitlines()) == 1 and "Traceback" not in out.stderr


def test_graded_tests_reuse_connections_without_leaking_a_session_setting_or_an_error(
    test_database,
):
    """learner_tests.reused_connections: one connection serves many uses, each reset."""
    from workbook.grading.learner_tests import reused_connections

    with reused_connections():
        with db.connect() as conn, conn.cursor() as cur:
            first = conn
            cur.execute("show timezone")
            default = cur.fetchone()[0]
            cur.execute("set time zone 'Asia/Tokyo'")
        with db.connect() as conn, conn.cursor() as cur:
            assert conn is first  # reused, not reopened
            cur.execute("show timezone")
            assert cur.fetchone()[0] == default != "Asia/Tokyo"
        with pytest.raises(Exception, match="division by zero"):
            with db.connect() as conn, conn.cursor() as cur:
                cur.execute("select 1 / 0")
        assert first.closed  # a connection that saw an error is not handed out again
        with db.connect() as conn, conn.cursor() as cur:
            assert conn is not first
            cur.execute("select 1")
            kept = conn
    assert kept.closed  # every idle connection is closed when grading ends


def test_copy_buffer_round_trips_every_kind_of_value_through_copy(test_database):
    """db.copy_buffer: what COPY reads back equals what was written, escapes included."""
    from datetime import UTC, date, datetime

    rows = [
        ("plain", 1, 2.5, True, date(2024, 1, 5), datetime(2024, 1, 5, 23, 0, tzinfo=UTC)),
        ("tab\there", -3, -0.1, False, None, None),
        ("back\\slash \\N", 0, 1e-07, None, date(9999, 12, 30), None),
        ("new\nline and\rreturn", None, None, True, None, None),
        (None, 2**40, float("inf"), False, None, None),
    ]
    with db.connect() as conn, conn.cursor() as cur:
        cur.execute(
            "create temporary table t (s text, i bigint, f double precision, b boolean,"
            " d date, ts timestamptz)"
        )
        cur.copy_expert("copy t from stdin", db.copy_buffer(rows))
        cur.execute("select * from t")
        assert cur.fetchall() == rows
