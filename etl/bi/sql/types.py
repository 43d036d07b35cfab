"""Types of a query's expressions, from the mart's declared column types (``schema/mart.yaml``).

Integer division, string ``+`` and date arithmetic mean different things depending on the operands' types, so the
rewrites need them. sqlglot's ``qualify`` + ``annotate_types`` run on a copy of the tree (qualify renames and
aliases, which must not leak into the SQL we run); the types found are copied back to the original nodes by an id
kept in each node's ``meta``.
"""

from __future__ import annotations

from functools import cache

from sqlglot import exp
from sqlglot.errors import OptimizeError, SqlglotError
from sqlglot.optimizer.annotate_types import annotate_types
from sqlglot.optimizer.qualify import qualify

from etl.storage.ddl import column_type, load_schema

_ID = "gim_node"

INTEGER = exp.DataType.INTEGER_TYPES
TEMPORAL = exp.DataType.TEMPORAL_TYPES
TEXT = exp.DataType.TEXT_TYPES
NUMERIC = exp.DataType.NUMERIC_TYPES


@cache
def mart_schema() -> dict[str, dict[str, str]]:
    """``{TABLE: {COLUMN: duckdb type}}`` of every mart table."""
    return {
        t.name: {c.name: column_type(c.type, "duckdb").sql("duckdb") for c in t.columns} for t in load_schema().tables
    }


def annotate(tree: exp.Expression) -> exp.Expression:
    """Set ``.type`` on the nodes of ``tree`` (in place); UNKNOWN where the type cannot be known."""
    nodes = list(tree.walk())
    for i, node in enumerate(nodes):
        node.meta[_ID] = i
    work = tree.copy()
    schema = mart_schema()
    try:
        work = qualify(
            work,
            schema=schema,
            dialect="duckdb",
            validate_qualify_columns=False,
            identify=False,
            quote_identifiers=False,
            expand_stars=False,
        )
    except (OptimizeError, SqlglotError):
        work = tree.copy()
    try:
        annotate_types(work, schema=schema, dialect="duckdb")
    except SqlglotError:
        return tree
    for node in work.walk():
        i = node.meta.get(_ID) if node.meta else None
        if i is not None and node.type is not None and i < len(nodes) and type(nodes[i]) is type(node):
            nodes[i].type = node.type.copy()
    for node in nodes:
        node.meta.pop(_ID, None)
    return tree


def is_type(node: exp.Expression, types: set) -> bool:
    return node.type is not None and node.type.this in types


def unknown(node: exp.Expression) -> bool:
    return node.type is None or node.type.this in (exp.DataType.Type.UNKNOWN, exp.DataType.Type.NULL)
