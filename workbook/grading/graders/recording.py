"""Resources that watch the learner's code: every query recorded, or every write crashing.

The graders use them where the text says *how* (read only the window, values as parameters,
read the upstream table) and to prove a partition write is atomic.
"""

from __future__ import annotations

import re
from contextlib import contextmanager

import psycopg2.extensions
from psycopg2 import sql

from workbook.platform.resources import PostgresResource

_COMMENT = re.compile(r"--[^\n]*|/\*.*?\*/", re.S)


def _text(cursor, query) -> str:
    """A query's SQL as one line of text, comments removed."""
    text = query.as_string(cursor) if isinstance(query, sql.Composable) else query
    text = text.decode() if isinstance(text, bytes) else str(text)
    return " ".join(_COMMENT.sub(" ", text).split())


class _CrashOnInsert(psycopg2.extensions.cursor):
    """A cursor that fails when rows are written, as if the run were killed at that moment."""

    def _crash_on_insert(self, query) -> None:
        if _text(self, query).lower().startswith("insert"):
            raise psycopg2.OperationalError("simulated crash while inserting (grader)")

    def execute(self, query, vars=None):
        self._crash_on_insert(query)
        return super().execute(query, vars)

    def executemany(self, query, vars_list):  # psycopg2 runs it in C, not through execute()
        self._crash_on_insert(query)
        return super().executemany(query, vars_list)

    def copy_expert(self, *args, **kwargs):
        raise psycopg2.OperationalError("simulated crash while copying rows (grader)")

    def copy_from(self, *args, **kwargs):
        raise psycopg2.OperationalError("simulated crash while copying rows (grader)")


class CrashingPostgres(PostgresResource):
    """The workbook's resource, except that every row write crashes."""

    @contextmanager
    def connection(self):
        with super().connection() as conn:
            conn.cursor_factory = _CrashOnInsert
            yield conn


class EastOfUtcPostgres(PostgresResource):
    """The workbook's resource, its sessions in Asia/Tokyo (the graders' default is Chicago).

    A date compared with a timestamp is read as midnight in the session's time zone: west of UTC
    that can still select the right day, east of it it does not.
    """

    @contextmanager
    def connection(self):
        with super().connection() as conn:
            with conn.cursor() as cur:
                cur.execute("set time zone 'Asia/Tokyo'")
            yield conn


# Every query the recording resource saw: (SQL text, parameters, rows it returned or touched).
QUERIES: list[tuple[str, object, int]] = []


class _Recording(psycopg2.extensions.cursor):
    """A cursor that records each query, its parameters and its row count (QUERIES)."""

    def execute(self, query, vars=None):
        try:
            return super().execute(query, vars)
        finally:
            QUERIES.append((_text(self, query), vars, self.rowcount))

    def executemany(self, query, vars_list):
        vars_list = list(vars_list)
        try:
            return super().executemany(query, vars_list)
        finally:
            QUERIES.append((_text(self, query), vars_list, self.rowcount))


class RecordingPostgres(PostgresResource):
    """The workbook's resource, recording every query it runs (to grade *how* data is read)."""

    @contextmanager
    def connection(self):
        with super().connection() as conn:
            conn.cursor_factory = _Recording
            yield conn


def _names(table: str) -> str:
    """A pattern for ``schema.table`` as SQL may spell it: quoted or not, any case."""
    return r"\s*\.\s*".join(rf'"?{re.escape(part)}"?' for part in table.split(".")) + r"(?![\w\"])"


def _reads(table: str) -> list[tuple[str, object, int]]:
    """The recorded SELECTs that read ``table``."""
    pattern = re.compile(rf"\bfrom\s+{_names(table)}", re.I)
    return [(t, v, n) for t, v, n in QUERIES
            if pattern.search(t) and t.lower().lstrip("( ").startswith(("select", "with"))]  # fmt: skip


def _deletes(table: str) -> list[str]:
    """The recorded DELETEs of ``table`` (replace_rows runs one before its insert)."""
    pattern = re.compile(rf"^delete\s+from\s+{_names(table)}", re.I)
    return [t for t, _, _ in QUERIES if pattern.search(t)]


LITERAL_DAY = re.compile(r"'?\d{4}-\d{2}-\d{2}[ T\d:.+-]*'?")


def check_deletes(table: str, todo: str) -> None:
    """The recorded deletes of ``table``: the window as parameters, not written into the SQL."""
    for text in _deletes(table):
        literal = LITERAL_DAY.search(text)
        assert not literal, (
            f"{todo}: the statement that deletes the window of {table} has it written into its "
            f"text ({literal.group(0).strip()!r}): pass values as parameters, never format them "
            'into SQL: replace_rows(..., where="... >= %s and ... < %s", params=(start, end))'
        )


def check_reads(table: str, window_rows: int, what: str, todo: str) -> None:
    """The recorded reads of ``table``: values as parameters, and only the window's rows."""
    reads = _reads(table)
    assert reads, (
        f"{todo}: no query read {table} through the postgres resource: use postgres.fetch(...)"
    )
    for text, _params, count in reads:
        literal = LITERAL_DAY.search(text)
        assert not literal, (
            f"{todo}: the query that reads {table} has the window written into its text "
            f"({literal.group(0).strip()!r}): pass values as parameters, never format them into "
            'SQL: postgres.fetch("... where observed_at >= %s and observed_at < %s", (start, end))'
        )
        assert count <= window_rows, (
            f"{todo}: a query read {count} rows of {table}, but {what} holds {window_rows}: read "
            "only the window, in SQL (where observed_at >= %s and observed_at < %s), not "
            "everything and then filter in Python"
        )


# The arguments of every dbt command the learner's code ran (a --full-refresh wipes other days).
DBT_ARGS: list[list[str]] = []


@contextmanager
def recording_dbt_args(resource):
    """Record the arguments of every ``cli`` call of ``resource``'s class (DBT_ARGS)."""
    cls = type(resource)
    original = cls.cli

    def cli(self, args, *rest, **kwargs):
        DBT_ARGS.append([str(a) for a in args])
        return original(self, args, *rest, **kwargs)

    cls.cli = cli
    try:
        yield
    finally:
        cls.cli = original
