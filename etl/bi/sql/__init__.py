"""Analysts' GIM SQL (T-SQL, Oracle, PostgreSQL) on the DuckDB mart: rewritten to the same meaning, or refused.

``prepare(sql, dialect, params)`` -> :class:`Prepared` (the DuckDB statements); ``run(con, sql, dialect, params)``
-> the last statement's result as a Polars DataFrame. A query that DuckDB would answer differently and that we
cannot rewrite raises :class:`GimSqlRefused` naming the construct and its line.
"""

from __future__ import annotations

from collections.abc import Mapping

import duckdb
import polars as pl

from etl.bi.sql.engine import DIALECTS, Prepared, normalize_dialect, parse_only, prepare
from etl.bi.sql.errors import GimSqlRefused

__all__ = ["DIALECTS", "GimSqlRefused", "Prepared", "normalize_dialect", "parse_only", "prepare", "run"]


def run(
    con: duckdb.DuckDBPyConnection, sql: str, dialect: str, params: Mapping[str, str] | None = None
) -> pl.DataFrame:
    """Prepare ``sql`` and run it on ``con``; the result of the last statement."""
    prepared = prepare(sql, dialect, params)
    for stmt in prepared.statements[:-1]:
        rel = con.sql(stmt)
        if rel is not None:
            rel.fetchall()
    return con.sql(prepared.statements[-1]).pl()
