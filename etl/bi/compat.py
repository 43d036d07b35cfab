"""Run analysts' GIM SQL (T-SQL, Oracle, PostgreSQL, ...) on the DuckDB mart.

The mart keeps GIM's table and column names, so a GIM report query needs: sqlglot's dialect translation to DuckDB,
the removal of the database / schema qualifiers analysts write in front of GIM tables
(``INFOMART.dbo.INTERACTION_RESOURCE_FACT``, ``GIM.RESOURCE_``, ``"gim"."date_time"``), and the rewrites of
:mod:`etl.bi.sql` for the idioms where sqlglot alone would answer differently. All of it works on the parsed AST,
never by text substitution; what cannot be rewritten with the same meaning raises :class:`GimSqlRefused`.
"""

from __future__ import annotations

from collections.abc import Mapping

import duckdb
import polars as pl
from sqlglot import exp

from etl.bi.sql import DIALECTS, GimSqlRefused, parse_only, prepare, run
from etl.bi.sql.engine import ALIASES

__all__ = ["DIALECTS", "GimSqlRefused", "dialect_of", "parse_gim_sql", "run_gim_sql", "transpile_gim_sql"]


def parse_gim_sql(sql: str, dialect: str) -> list[exp.Expression]:
    """Parse ``sql`` (one or more statements) and strip database/schema prefixes from every table reference."""
    return parse_only(sql, dialect)


def transpile_gim_sql(sql: str, dialect: str, params: Mapping[str, str] | None = None) -> str:
    """GIM SQL in ``dialect`` -> DuckDB SQL for the mart (statements joined by ``;\\n``); may raise GimSqlRefused."""
    return prepare(sql, dialect, params).sql


def run_gim_sql(
    con: duckdb.DuckDBPyConnection, sql: str, dialect: str, params: Mapping[str, str] | None = None
) -> pl.DataFrame:
    """Rewrite ``sql`` and run it on ``con``; the result of the last statement as a Polars DataFrame."""
    return run(con, sql, dialect, params)


def dialect_of(filename: str) -> str:
    """The dialect a ``fixtures/gim_sql`` file is written in, from its name (``agent_handle.tsql.sql``)."""
    parts = filename.lower().split(".")
    for part in reversed(parts[:-1]):
        if ALIASES.get(part, part) in DIALECTS:
            return ALIASES.get(part, part)
    raise ValueError(f"{filename}: no dialect in the file name (expected NAME.<dialect>.sql)")
