"""Analysts' GIM SQL on the PostgreSQL-published mart (``gim-etl sql --target postgresql://...``).

The same path as on DuckDB, so the same safety rules hold (never a silently different answer): the file is parsed
in its dialect and rewritten to DuckDB meaning by :func:`etl.bi.sql.prepare` (refusals included), then rendered for
PostgreSQL by :mod:`etl.storage.pg_sql`, whose fixes are AST transforms too. Database/schema qualifiers are
stripped by ``prepare``; the tenant's schema is the session's ``search_path``. Statements run in one READ ONLY
transaction, so an analyst's file cannot change the published mart.
"""

from __future__ import annotations

from collections.abc import Mapping

import polars as pl
import sqlglot
from psycopg import sql as q
from sqlglot import exp

from etl.bi.sql.engine import prepare
from etl.storage.pg_sql import to_postgres
from etl.storage.publish_pg import DEFAULT_SCHEMA, connect_target


def postgres_statements(sql: str, dialect: str, params: Mapping[str, str] | None = None) -> list[str]:
    """GIM SQL in `dialect` -> the PostgreSQL statements that run (GimSqlRefused / UnsupportedForPostgres)."""
    return [to_postgres(sqlglot.parse_one(s, read="duckdb")) for s in prepare(sql, dialect, params).statements]


def _names(duckdb_sql: str, got: list[str]) -> list[str]:
    """The result's column names as DuckDB gives them (PostgreSQL folds unquoted aliases to lower case)."""
    tree = sqlglot.parse_one(duckdb_sql, read="duckdb")
    select = tree if isinstance(tree, exp.Select) else tree.find(exp.Select)
    if isinstance(tree, exp.Union) or select is None or any(isinstance(p, exp.Star) for p in select.expressions):
        return got
    names = [p.alias_or_name for p in select.expressions]
    return names if len(names) == len(got) and all(n.lower() == g for n, g in zip(names, got, strict=True)) else got


def run_on_postgres(
    dsn: str, sql: str, dialect: str, params: Mapping[str, str] | None = None, schema: str = DEFAULT_SCHEMA
) -> pl.DataFrame:
    """Run the file on PostgreSQL schema `schema`; the last statement's result as a Polars DataFrame."""
    prepared = prepare(sql, dialect, params)
    statements = [to_postgres(sqlglot.parse_one(s, read="duckdb")) for s in prepared.statements]
    with connect_target(dsn) as pg, pg.transaction():
        pg.execute("SET TRANSACTION READ ONLY")
        pg.execute(q.SQL("SET LOCAL search_path TO {}").format(q.Identifier(schema)))
        for statement in statements[:-1]:
            pg.execute(statement)
        cur = pg.execute(statements[-1])
        if cur.description is None:
            return pl.DataFrame()
        got = [d.name for d in cur.description]
        rows = cur.fetchall()
    names = _names(prepared.statements[-1], got)
    return pl.DataFrame(rows, schema=names, orient="row", infer_schema_length=None)
