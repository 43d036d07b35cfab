"""Run analysts' GIM SQL (T-SQL, Oracle, PostgreSQL, ...) on the DuckDB mart.

The mart keeps GIM's table and column names, so a GIM report query needs only two things to run here: sqlglot's
dialect translation to DuckDB, and the removal of the database / schema qualifiers analysts write in front of GIM
tables (``INFOMART.dbo.INTERACTION_RESOURCE_FACT``, ``GIM.RESOURCE_``, ``"gim"."date_time"``). The qualifiers are
removed on the parsed AST (``exp.Table`` nodes), never by text substitution, so strings, aliases and column
references that happen to look alike are left alone.
"""

from __future__ import annotations

import duckdb
import polars as pl
import sqlglot
from sqlglot import exp

DIALECTS = {"tsql", "oracle", "postgres", "duckdb", "snowflake", "mysql", "ansi"}
_ALIASES = {
    "mssql": "tsql",
    "sqlserver": "tsql",
    "t-sql": "tsql",
    "postgresql": "postgres",
    "pg": "postgres",
    "ansi": "",
}


def _dialect(dialect: str) -> str:
    d = dialect.strip().lower()
    d = _ALIASES.get(d, d)
    if d and d not in DIALECTS:
        raise ValueError(f"unsupported GIM SQL dialect {dialect!r}; use one of {sorted(DIALECTS - {'ansi'})}")
    return d


def _strip_qualifiers(node: exp.Expression) -> exp.Expression:
    # Only exp.Table nodes (FROM / JOIN / INSERT targets): column references, aliases and literals are untouched.
    if isinstance(node, exp.Table) and node.args.get("this") is not None:
        node.set("db", None)
        node.set("catalog", None)
    return node


def _tsql_float_is_double(node: exp.Expression) -> exp.Expression:
    # T-SQL FLOAT without a precision is FLOAT(53), an 8-byte double; sqlglot would render it as DuckDB's 4-byte REAL.
    if isinstance(node, exp.DataType) and node.this == exp.DataType.Type.FLOAT and not node.expressions:
        return exp.DataType.build("DOUBLE")
    return node


def parse_gim_sql(sql: str, dialect: str) -> list[exp.Expression]:
    """Parse ``sql`` (one or more statements) and strip database/schema prefixes from every table reference."""
    read = _dialect(dialect)
    trees = [t for t in sqlglot.parse(sql, read=read or None) if t is not None]
    out = []
    for tree in trees:
        tree = tree.transform(_strip_qualifiers)
        if read == "tsql":
            tree = tree.transform(_tsql_float_is_double)
        out.append(tree)
    return out


def transpile_gim_sql(sql: str, dialect: str) -> str:
    """GIM SQL in ``dialect`` -> DuckDB SQL for the mart (statements joined by ``;\\n``)."""
    return ";\n".join(t.sql(dialect="duckdb") for t in parse_gim_sql(sql, dialect))


def run_gim_sql(con: duckdb.DuckDBPyConnection, sql: str, dialect: str) -> pl.DataFrame:
    """Transpile ``sql`` and run it on ``con``; the result of the last statement as a Polars DataFrame."""
    statements = [t.sql(dialect="duckdb") for t in parse_gim_sql(sql, dialect)]
    if not statements:
        raise ValueError("no SQL statement given")
    for stmt in statements[:-1]:
        con.execute(stmt)
    return con.sql(statements[-1]).pl()


def dialect_of(filename: str) -> str:
    """The dialect a ``fixtures/gim_sql`` file is written in, from its name (``agent_handle.tsql.sql``)."""
    parts = filename.lower().split(".")
    for part in reversed(parts[:-1]):
        if _ALIASES.get(part, part) in DIALECTS:
            return _ALIASES.get(part, part)
    raise ValueError(f"{filename}: no dialect in the file name (expected NAME.<dialect>.sql)")
