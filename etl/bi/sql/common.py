"""Rewrites shared by the dialects: qualifiers, integer division, date +/- number, format strings."""

from __future__ import annotations

from sqlglot import exp

from etl.bi.sql.errors import refuse
from etl.bi.sql.formats import strftime_leftover
from etl.bi.sql.types import INTEGER, NUMERIC, TEMPORAL, TEXT, is_type, unknown

NAMES = {"tsql": "T-SQL", "oracle": "Oracle", "postgres": "PostgreSQL", "duckdb": "DuckDB"}


def strip_qualifiers(node: exp.Expression) -> exp.Expression:
    # Only exp.Table nodes (FROM / JOIN / INSERT targets): column references, aliases and literals are untouched.
    if isinstance(node, exp.Table) and node.args.get("this") is not None:
        node.set("db", None)
        node.set("catalog", None)
    return node


def fn(name: str, *args: exp.Expression) -> exp.Expression:
    """A DuckDB function call rendered as written (sqlglot does not re-map anonymous functions)."""
    return exp.Anonymous(this=name, expressions=list(args))


def check_formats(tree: exp.Expression, read: str) -> None:
    """sqlglot maps FORMAT / TO_DATE / TO_CHAR / STR_TO_DATE format strings at parse time and keeps the tokens
    it does not know as literal text: any letter left outside a ``%`` directive is such a token."""
    for node in tree.find_all(exp.TimeToStr, exp.StrToTime, exp.StrToDate):
        fmt = node.args.get("format")
        if node.args.get("culture") is not None:
            raise refuse(f"{NAMES[read]} FORMAT with a culture", node)
        if fmt is None:
            continue
        if not isinstance(fmt, exp.Literal):
            raise refuse(f"{NAMES[read]} date format that is not a literal", node)
        left = strftime_leftover(fmt.this)
        if left:
            raise refuse(f"{NAMES[read]} date format element {left!r}", node, f"in format {fmt.this!r}")


def typed_division(node: exp.Expression, read: str) -> exp.Expression:
    """T-SQL and PostgreSQL divide integers by integers in integers (truncating toward zero, as DuckDB's ``//``
    does); DuckDB's ``/`` always gives a double. Unknown operand types are refused rather than guessed."""
    if not isinstance(node, exp.Div):
        return node
    left, right = node.left, node.right
    if is_type(left, INTEGER) and is_type(right, INTEGER):
        return exp.IntDiv(this=left, expression=right)
    if unknown(left) or unknown(right):
        side = left if unknown(left) else right
        raise refuse(
            f"{NAMES[read]} division by '/' of an operand of unknown type",
            node,
            f"{side.sql(read)!r}: integer or decimal division? CAST it to INT or DECIMAL/FLOAT",
        )
    node.set("typed", False)
    return node


def _days(n: exp.Expression, read: str) -> exp.Expression:
    """``n`` days as a DuckDB INTERVAL (whole seconds for Oracle DATE, microseconds for T-SQL DATETIME)."""
    if is_type(n, INTEGER):
        return fn("to_days", exp.cast(n, "BIGINT"))
    if read == "oracle":
        seconds = exp.Round(this=exp.Mul(this=exp.paren(n, copy=False), expression=exp.Literal.number(86400)))
        return fn("to_seconds", exp.cast(seconds, "BIGINT"))
    micros = exp.Round(this=exp.Mul(this=exp.paren(n, copy=False), expression=exp.Literal.number(86400000000)))
    return fn("to_microseconds", exp.cast(micros, "BIGINT"))


def date_arithmetic(node: exp.Expression, read: str) -> exp.Expression:
    """Oracle ``DATE +/- n`` and T-SQL ``DATETIME +/- n`` add days (fractions too); Oracle ``DATE - DATE`` is a
    number of days. DuckDB has no such operators on timestamps."""
    if not isinstance(node, exp.Add | exp.Sub):
        return node
    left, right = node.left, node.right
    if isinstance(node, exp.Add) and is_type(right, TEMPORAL) and is_type(left, NUMERIC):
        left, right = right, left
    if not is_type(left, TEMPORAL):
        return node
    if is_type(right, NUMERIC):
        ts = exp.cast(left, "TIMESTAMP")
        cls = exp.Add if isinstance(node, exp.Add) else exp.Sub
        return exp.paren(cls(this=ts, expression=_days(right, read)), copy=False)
    if isinstance(node, exp.Sub) and is_type(right, TEMPORAL):
        if read != "oracle":
            raise refuse(f"{NAMES[read]} subtraction of two dates", node, "use DATEDIFF")
        secs = exp.Sub(
            this=fn("epoch", exp.cast(left, "TIMESTAMP")), expression=fn("epoch", exp.cast(right, "TIMESTAMP"))
        )
        return exp.paren(exp.Div(this=exp.paren(secs), expression=exp.Literal.number("86400.0")), copy=False)
    if is_type(right, TEXT) or unknown(right):
        raise refuse(f"{NAMES[read]} date arithmetic with an operand of unknown type", node, right.sql(read))
    return node


def remove_dual(node: exp.Expression) -> exp.Expression:
    """Oracle ``SELECT ... FROM dual``: DuckDB selects without a FROM."""
    if isinstance(node, exp.Select):
        frm = node.args.get("from_")
        src = frm.this if frm is not None else None
        if isinstance(src, exp.Table) and src.name.upper() == "DUAL" and not node.args.get("joins"):
            node.set("from_", None)
    return node
