"""GIM SQL -> DuckDB SQL: parse, rewrite per dialect on the AST, generate, or refuse with the construct named."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass

from sqlglot import exp
from sqlglot.errors import ErrorLevel, UnsupportedError

from etl.bi.sql import common, oracle, tsql
from etl.bi.sql.errors import GimSqlRefused, line_of
from etl.bi.sql.script import parse_statements, statements
from etl.bi.sql.types import annotate

DIALECTS = {"tsql", "oracle", "postgres", "duckdb", "snowflake", "mysql", "ansi"}
ALIASES = {
    "mssql": "tsql",
    "sqlserver": "tsql",
    "t-sql": "tsql",
    "postgresql": "postgres",
    "pg": "postgres",
    "ansi": "",
}
Rewrite = Callable[[exp.Expression], exp.Expression]


def normalize_dialect(dialect: str) -> str:
    d = dialect.strip().lower()
    d = ALIASES.get(d, d)
    if d and d not in DIALECTS:
        raise ValueError(f"unsupported GIM SQL dialect {dialect!r}; use one of {sorted(DIALECTS - {'ansi'})}")
    return d


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


@contextmanager
def sqlglot_warnings() -> Iterator[list[str]]:
    """sqlglot's logged warnings (what it dropped or approximated) while the block runs."""
    handler = _Collect()
    logger = logging.getLogger("sqlglot")
    logger.addHandler(handler)
    try:
        yield handler.messages
    finally:
        logger.removeHandler(handler)


def postorder(tree: exp.Expression, fun: Rewrite) -> exp.Expression:
    """Apply ``fun`` to every node, children before parents, so a rewrite sees rewritten (and typed) operands.
    (sqlglot's ``transform`` is pre-order and does not descend into a node it replaced.)"""
    for node in reversed(list(tree.dfs())):
        parent, key, index = node.parent, node.arg_key, node.index
        new = fun(node)
        if new is node:
            continue
        if new.type is None and node.type is not None:
            new.type = node.type
        if parent is None:
            tree = new
        else:
            parent.set(key, new, index)
    return tree


def _apply(tree: exp.Expression, rewrites: tuple[Rewrite, ...]) -> exp.Expression:
    for rewrite in rewrites:
        tree = postorder(tree, rewrite)
    return tree


def rewrite(tree: exp.Expression, read: str) -> exp.Expression:
    """One parsed statement -> the DuckDB-meaning AST (in place where possible)."""
    tree = tree.transform(common.strip_qualifiers, copy=False)
    if read == "oracle":
        tree = oracle.join_marks(tree)
        tree = oracle.rownum(tree)
        tree = tree.transform(common.remove_dual, copy=False)
    if read in ("tsql", "oracle", "postgres"):
        common.check_formats(tree, read)
        annotate(tree)
    if read in ("tsql", "postgres"):
        tree = postorder(tree, lambda n: common.typed_division(n, read))
    if read == "tsql":
        tree = _apply(tree, tsql.TYPED_REWRITES)
    if read == "oracle":
        tree = _apply(tree, oracle.TYPED_REWRITES)
    if read in ("tsql", "oracle"):
        tree = postorder(tree, lambda n: common.date_arithmetic(n, read))
    if read == "tsql":
        tree = _apply(tree, tsql.REWRITES)
    if read == "oracle":
        tree = _apply(tree, oracle.REWRITES)
    return tree


def generate(tree: exp.Expression, read: str) -> str:
    """DuckDB SQL of a rewritten tree; sqlglot's unsupported constructs and warnings are refusals."""
    with sqlglot_warnings() as warnings:
        try:
            sql = tree.sql(dialect="duckdb", unsupported_level=ErrorLevel.RAISE)
        except UnsupportedError as e:
            message = str(e).strip().splitlines()[0]
            construct = f"{common.NAMES.get(read, read)} construct DuckDB lacks"
            raise GimSqlRefused(construct, line_of(tree), message) from None
    if warnings:
        raise GimSqlRefused("a construct sqlglot could not translate", line_of(tree), warnings[0])
    return sql


@dataclass(frozen=True)
class Prepared:
    """A file's statements as the DuckDB SQL that will run (the last one's result is the answer)."""

    dialect: str
    statements: tuple[str, ...]

    @property
    def sql(self) -> str:
        return ";\n".join(self.statements)


def prepare(sql: str, dialect: str, params: Mapping[str, str] | None = None) -> Prepared:
    """GIM SQL in ``dialect`` -> :class:`Prepared` DuckDB statements, or :class:`GimSqlRefused`."""
    read = normalize_dialect(dialect)
    with sqlglot_warnings() as warnings:
        trees = statements(sql, read, dict(params or {}))
        if warnings:
            raise GimSqlRefused("a construct sqlglot could not parse", None, warnings[0])
    out = tuple(generate(rewrite(t, read), read) for t in trees)
    if not out:
        raise GimSqlRefused("a file without any SQL statement")
    return Prepared(read, out)


def parse_only(sql: str, dialect: str) -> list[exp.Expression]:
    """The statements with database/schema prefixes stripped (and T-SQL FLOAT as DOUBLE); no other rewrite."""
    read = normalize_dialect(dialect)
    out = []
    for tree in parse_statements(sql, read):
        tree = tree.transform(common.strip_qualifiers)
        if read == "tsql":
            tree = tree.transform(tsql.float_is_double)
        out.append(tree)
    return out
