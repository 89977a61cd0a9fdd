"""The two Dagster resources every phase shares: a Postgres resource and a Postgres IO manager.

Phase 2 explains them; read this file then. In short:

* ``PostgresResource`` is how an asset *talks* to the database (queries, atomic replaces). Assets
  ask for it by parameter name and Dagster injects it, so a test or another environment can hand
  in a different one without touching the asset.
* ``PostgresIOManager`` is how an asset's *return value* is stored and loaded. An asset returns a
  list of rows (dicts); the IO manager writes them to the table ``<prefix>.<name>`` named by the
  asset key (``phase1/cleaned_weather_data`` -> ``phase1.cleaned_weather_data``) and reads them
  back for downstream assets. The asset's code never mentions a table.

Both read the connection from the workbook's one setting (``WORKBOOK_DATABASE_URL`` or the
embedded server) unless ``url`` is given.
"""

from __future__ import annotations

from contextlib import contextmanager
from datetime import date, datetime
from typing import Any

import dagster as dg
from psycopg2 import sql

from workbook.platform import db

PG_TYPES = {bool: "boolean", int: "bigint", float: "double precision", str: "text",
            datetime: "timestamptz", date: "date"}  # fmt: skip


def rows_as_dicts(cur) -> list[dict[str, Any]]:
    """The cursor's rows as dicts: 0.06 s for 9k rows, where RealDictCursor took 0.17-0.26 s."""
    columns = [d.name for d in cur.description]
    return [dict(zip(columns, row)) for row in cur.fetchall()]


def table_for(key: dg.AssetKey) -> tuple[str, str]:
    """(schema, table) for an asset key: the prefix is the schema, the name the table."""
    *prefix, name = key.path
    return ("_".join(prefix) or "public"), name


def copy_rows(cur, ident: sql.Composable, columns: list[str], rows: list[dict[str, Any]]) -> None:
    """Insert ``rows`` with COPY: 3x faster than INSERT ... VALUES for Phase 2's 9k rows."""
    buf = db.copy_buffer([r[c] for c in columns] for r in rows)
    statement = sql.SQL("copy {} ({}) from stdin").format(
        ident, sql.SQL(", ").join(map(sql.Identifier, columns))
    )
    cur.copy_expert(statement.as_string(cur), buf)


def column_types(rows: list[dict[str, Any]]) -> dict[str, str]:
    """Postgres column types from the first non-null value of each column."""
    types: dict[str, str] = {}
    for column in rows[0]:
        value = next((r[column] for r in rows if r[column] is not None), None)
        types[column] = PG_TYPES.get(type(value), "text")
    return types


class PostgresResource(dg.ConfigurableResource):
    """A connection to the workbook's PostgreSQL."""

    url: str = ""  # empty: WORKBOOK_DATABASE_URL, or the embedded server

    @contextmanager
    def connection(self):
        """One transaction: committed when the block ends, rolled back if it raises."""
        with db.connect(self.url or None) as conn:
            yield conn

    def fetch(self, query: str, params: Any = None) -> list[dict[str, Any]]:
        """Run a query and return its rows as dicts. Pass values as ``params``, never in SQL."""
        with self.connection() as conn, conn.cursor() as cur:
            cur.execute(query, params)
            return rows_as_dicts(cur)

    def replace_rows(
        self,
        schema: str,
        table: str,
        rows: list[dict[str, Any]],
        where: str | None = None,
        params: Any = None,
    ) -> int:
        """Atomically replace rows of ``schema.table`` with ``rows``.

        Without ``where`` the whole table is replaced (dropped and re-created with the rows'
        columns). With ``where`` (a SQL condition with ``%s`` placeholders filled from ``params``)
        only the matching rows are deleted before the insert: that is how a partition is
        replaced. Both happen in one transaction, so a failure leaves the previous rows intact.
        Rows are written with COPY; every row must have the first row's keys.
        """
        ident = sql.Identifier(schema, table)
        with self.connection() as conn, conn.cursor() as cur:
            cur.execute(sql.SQL("create schema if not exists {}").format(sql.Identifier(schema)))
            if where is None:
                cur.execute(sql.SQL("drop table if exists {}").format(ident))
            if rows:
                cols = column_types(rows)
                cur.execute(
                    sql.SQL("create table if not exists {} ({})").format(
                        ident,
                        sql.SQL(", ").join(
                            sql.SQL("{} {}").format(sql.Identifier(c), sql.SQL(t))
                            for c, t in cols.items()
                        ),
                    )
                )
            if where is not None:
                cur.execute(
                    "select to_regclass(%s)", (sql.Identifier(schema, table).as_string(cur),)
                )
                if cur.fetchone()[0] is not None:
                    cur.execute(sql.SQL("delete from {} where ").format(ident) + sql.SQL(where),
                                params)  # fmt: skip
            if rows:
                copy_rows(cur, ident, list(rows[0]), rows)
        return len(rows)


class PostgresIOManager(dg.ConfigurableIOManager):
    """Stores an asset's rows as the table named by its key, and loads them back."""

    url: str = ""  # empty: WORKBOOK_DATABASE_URL, or the embedded server

    def _pg(self) -> PostgresResource:
        return PostgresResource(url=self.url)

    def handle_output(self, context: dg.OutputContext, obj: list[dict[str, Any]] | None) -> None:
        if obj is None:  # the asset wrote its own table (see Phase 3)
            return
        schema, table = table_for(context.asset_key)
        self._pg().replace_rows(schema, table, obj)
        context.add_output_metadata({"table": f"{schema}.{table}", "stored_rows": len(obj)})

    def load_input(self, context: dg.InputContext) -> list[dict[str, Any]]:
        schema, table = table_for(context.asset_key)
        query = sql.SQL("select * from {}").format(sql.Identifier(schema, table))
        with self._pg().connection() as conn, conn.cursor() as cur:
            cur.execute("select to_regclass(%s)", (sql.Identifier(schema, table).as_string(cur),))
            if cur.fetchone()[0] is None:
                raise dg.Failure(
                    f"Table {schema}.{table} does not exist yet: materialize "
                    f"{context.asset_key.to_user_string()} first."
                )
            cur.execute(query)
            return rows_as_dicts(cur)


# One instance of each, shared by every phase: Dagster merges the phases into one code location,
# and identical resource objects under the same key merge cleanly.
postgres = PostgresResource()
io_manager = PostgresIOManager()
RESOURCES = {"postgres": postgres, "io_manager": io_manager}
