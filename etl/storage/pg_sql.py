"""DuckDB SQL -> PostgreSQL SQL of the same meaning, through sqlglot's AST.

Used for the RAA-style views of ``schema/views/`` (published into PostgreSQL) and for analysts' GIM SQL once
:mod:`etl.bi.sql` has rewritten it to DuckDB meaning (``gim-etl sql --target postgresql://...``): DuckDB is the
pivot, so the safety rules live in one place. sqlglot's duckdb -> postgres generator leaves constructs that
PostgreSQL 15 rejects or answers differently; each fix below is an AST transform:

- ``ROUND(double, n)``: PostgreSQL has ``round(numeric, int)`` only, so the argument is cast to NUMERIC and the
  result back to DOUBLE PRECISION (DuckDB's result type).
- ``GROUP BY ALL`` (PostgreSQL 15 lacks it): the non-aggregate projections, by position.
- ``unnest(generate_series(a, b, s))``: DuckDB's list-valued generate_series; PostgreSQL's is already a set.
- quoted identifiers: the mart's DDL is unquoted upper case, which PostgreSQL folds to lower case, so a quoted
  ``"INTERACTION_FACT"`` would name nothing; identifiers are emitted unquoted (folded) except reserved words.
- anything sqlglot reports as unsupported raises :class:`UnsupportedForPostgres` (never a silent change).
"""

from __future__ import annotations

import sqlglot
from sqlglot import exp
from sqlglot.errors import ErrorLevel, UnsupportedError


class UnsupportedForPostgres(ValueError):
    """DuckDB SQL that has no PostgreSQL rendering with the same meaning."""


def _round(node: exp.Expression) -> exp.Expression:
    if isinstance(node, exp.Round) and node.args.get("decimals") is not None:
        arg = node.this
        if not (isinstance(arg, exp.Cast) and arg.to.is_type(exp.DataType.Type.DECIMAL)):
            node.set("this", exp.cast(arg, exp.DataType.build("NUMERIC")))
            return exp.cast(node, exp.DataType.build("DOUBLE PRECISION"))
    return node


def _group_by_all(node: exp.Expression) -> exp.Expression:
    if isinstance(node, exp.Select):
        group = node.args.get("group")
        if group is not None and group.args.get("all"):
            keys = [
                exp.Literal.number(i)
                for i, projection in enumerate(node.expressions, start=1)
                if not projection.find(exp.AggFunc) and not projection.find(exp.Window)
            ]
            if keys:
                node.set("group", exp.Group(expressions=keys))
            else:
                node.set("group", None)
    return node


def _unnest_series(node: exp.Expression) -> exp.Expression:
    if isinstance(node, exp.Explode | exp.Unnest):
        inner = node.this if isinstance(node, exp.Explode) else (node.expressions or [None])[0]
        if isinstance(inner, exp.GenerateSeries) and not inner.args.get("is_end_exclusive"):
            return exp.Anonymous(
                this="generate_series",
                expressions=[a for a in (inner.args.get("start"), inner.args.get("end"), inner.args.get("step")) if a],
            )
    return node


def _fold_identifiers(node: exp.Expression) -> exp.Expression:
    if isinstance(node, exp.Identifier) and node.quoted and node.this.upper() == node.this:
        node.set("quoted", False)
    return node


def to_postgres(tree: exp.Expression) -> str:
    """A parsed DuckDB statement as PostgreSQL SQL (see the module docstring); the tree is copied, not changed."""
    tree = tree.copy()
    for fix in (_unnest_series, _group_by_all, _round, _fold_identifiers):
        tree = tree.transform(fix, copy=False)
    try:
        return tree.sql(dialect="postgres", unsupported_level=ErrorLevel.RAISE)
    except UnsupportedError as e:
        raise UnsupportedForPostgres(str(e).strip().splitlines()[0]) from None


def duckdb_to_postgres(sql: str) -> str:
    """One DuckDB statement's text as PostgreSQL SQL."""
    return to_postgres(sqlglot.parse_one(sql, read="duckdb"))
