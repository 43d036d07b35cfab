"""T-SQL idioms whose DuckDB translation by sqlglot alone answers differently (or fails)."""

from __future__ import annotations

import re

from sqlglot import exp

from etl.bi.sql.common import fn
from etl.bi.sql.errors import refuse
from etl.bi.sql.formats import TSQL_STYLES
from etl.bi.sql.types import INTEGER, NUMERIC, TEMPORAL, TEXT, is_type, unknown

_STRING_TYPES = {exp.DataType.Type.VARCHAR, exp.DataType.Type.NVARCHAR, exp.DataType.Type.CHAR, exp.DataType.Type.NCHAR}


def float_is_double(node: exp.Expression) -> exp.Expression:
    # T-SQL FLOAT without a precision is FLOAT(53), an 8-byte double; sqlglot would render it as DuckDB's 4-byte REAL.
    if isinstance(node, exp.DataType) and node.this == exp.DataType.Type.FLOAT and not node.expressions:
        return exp.DataType.build("DOUBLE")
    return node


def _length(kind: exp.DataType) -> int | None:
    if not kind.expressions:
        return None
    param = kind.expressions[0]
    value = param.this if isinstance(param, exp.DataTypeParam) else param
    return int(value.name) if isinstance(value, exp.Literal) and value.name.isdigit() else None


def _text(value: exp.Expression, kind: exp.DataType, node: exp.Expression, default: int | None) -> exp.Expression:
    """``value`` as T-SQL's (N)(VAR)CHAR(n): cut to n characters (T-SQL truncates silently; DuckDB never does)."""
    n = _length(kind) or default
    if kind.this in (exp.DataType.Type.CHAR, exp.DataType.Type.NCHAR) and n is not None:
        raise refuse("T-SQL conversion to fixed-length CHAR(n) (blank-padded)", node, "use VARCHAR(n)")
    text = exp.cast(value, "VARCHAR")
    return fn("left", text, exp.Literal.number(n)) if n else text


def convert(node: exp.Expression) -> exp.Expression:
    """``CONVERT(type, x[, style])`` and ``CAST(x AS VARCHAR(n))``."""
    if isinstance(node, exp.Convert):
        kind, value, style = node.this, node.expression, node.args.get("style")
    elif isinstance(node, exp.Cast | exp.TryCast) and isinstance(node.to, exp.DataType):
        kind, value, style = node.to, node.this, None
    else:
        return node
    if style is not None:
        if not (isinstance(style, exp.Literal) and style.name.isdigit() and int(style.name) in TSQL_STYLES):
            raise refuse(f"T-SQL CONVERT style {style.sql('tsql')}", node)
        fmt = exp.Literal.string(TSQL_STYLES[int(style.name)])
        if kind.this in _STRING_TYPES:
            if not (is_type(value, TEMPORAL) or unknown(value)):
                raise refuse("T-SQL CONVERT with a style of a value that is not a date", node)
            formatted = fn("strftime", exp.cast(value, "TIMESTAMP"), fmt)
            n = _length(kind)
            return fn("left", formatted, exp.Literal.number(n)) if n else formatted
        if kind.is_type(*exp.DataType.TEMPORAL_TYPES) and is_type(value, TEXT):
            return exp.cast(fn("strptime", value, fmt), kind.copy())
        raise refuse(f"T-SQL CONVERT to {kind.sql('tsql')} with style {style.name}", node)
    if kind.this in _STRING_TYPES:
        if is_type(value, TEMPORAL) and not is_type(value, {exp.DataType.Type.DATE}):
            raise refuse(
                "T-SQL conversion of a DATETIME to text without a style", node, "its default style 0 is 'mon dd yyyy'"
            )
        if isinstance(node, exp.Convert) or _length(kind):
            return _text(value, kind, node, 30 if isinstance(node, exp.Convert) else None)
        return node
    return exp.Cast(this=value, to=kind) if isinstance(node, exp.Convert) else node


def weekday(node: exp.Expression) -> exp.Expression:
    """``DATEPART(weekday, d)`` is 1 for Sunday with SQL Server's default ``@@DATEFIRST = 7``; DuckDB's is 0."""
    if not isinstance(node, exp.Extract):
        return node
    unit = node.name.upper()
    if unit in ("DAYOFWEEK", "DOW", "WEEKDAY", "DW"):
        return exp.paren(exp.Add(this=node, expression=exp.Literal.number(1)), copy=False)
    if unit in ("WEEK", "WK", "WW"):
        raise refuse("T-SQL DATEPART(week, ...)", node, "SQL Server counts weeks from 1 January; use ISO_WEEK")
    return node


def datediff_week(node: exp.Expression) -> exp.Expression:
    unit = node.args.get("unit") if isinstance(node, exp.DateDiff) else None
    if unit is not None and unit.name.upper() in ("WEEK", "WK", "WW"):
        raise refuse("T-SQL DATEDIFF(week, ...)", node, "SQL Server counts Sunday boundaries")
    return node


def string_plus(node: exp.Expression) -> exp.Expression:
    """``'a' + b``: T-SQL concatenates when both sides are strings (NULL if either is NULL, as ``||``)."""
    if not isinstance(node, exp.Add):
        return node
    left, right = node.left, node.right
    ltext, rtext = is_type(left, TEXT), is_type(right, TEXT)
    if ltext and rtext:
        concat = exp.DPipe(this=left, expression=right)
        concat.type = exp.DataType.build("VARCHAR")
        return concat
    if ltext or rtext:
        other = right if ltext else left
        if unknown(other):
            raise refuse("T-SQL '+' of a string and an operand of unknown type", node, other.sql("tsql"))
        if is_type(other, NUMERIC):
            raise refuse("T-SQL '+' of a string and a number", node, "SQL Server converts the string to a number")
    return node


def _like_regex(pattern: str) -> str:
    out, i = ["(?s)"], 0
    while i < len(pattern):
        c = pattern[i]
        if c == "%":
            out.append(".*")
        elif c == "_":
            out.append(".")
        elif c == "[":
            end = pattern.find("]", i + 2)
            if end < 0:
                return ""
            body = pattern[i + 1 : end]
            neg = body.startswith("^")
            body = body[1:] if neg else body
            out.append("[" + ("^" if neg else "") + re.sub(r"([\\\[\]])", r"\\\1", body) + "]")
            i = end
        else:
            out.append(re.escape(c))
        i += 1
    return "".join(out)


def like_brackets(node: exp.Expression) -> exp.Expression:
    """T-SQL LIKE's ``[abc]`` / ``[a-z]`` / ``[^a]`` character classes -> a DuckDB regular expression."""
    if not isinstance(node, exp.Like):
        return node
    pattern = node.expression
    if not isinstance(pattern, exp.Literal) or not pattern.is_string:
        raise refuse("T-SQL LIKE with a computed pattern", node, "its [ ] classes cannot be checked")
    if "[" not in pattern.this:
        return node
    if node.args.get("escape") is not None:
        raise refuse("T-SQL LIKE with [ ] classes and ESCAPE", node)
    regex = _like_regex(pattern.this)
    if not regex:
        raise refuse("T-SQL LIKE with an unclosed '['", node)
    return fn("regexp_full_match", node.this, exp.Literal.string(regex))


def avg_int(node: exp.Expression) -> exp.Expression:
    """T-SQL ``AVG`` of an integer column is an integer (truncated); DuckDB's is a double."""
    if not isinstance(node, exp.Avg):
        return node
    arg = node.this.this if isinstance(node.this, exp.Distinct) else node.this
    if isinstance(node.this, exp.Distinct):
        arg = node.this.expressions[0]
    if is_type(arg, INTEGER):
        return exp.cast(fn("trunc", node.copy()), "BIGINT")
    if unknown(arg):
        raise refuse("T-SQL AVG of an operand of unknown type", node, "integer AVG truncates; CAST it")
    return node


def clocks(node: exp.Expression) -> exp.Expression:
    """``GETDATE()`` is the server's local clock as DATETIME; ``GETUTCDATE()`` the UTC one."""
    if isinstance(node, exp.CurrentTimestamp) and not node.args.get("sysdate"):
        return fn("current_localtimestamp")
    if isinstance(node, exp.Anonymous) and node.name.upper() in ("GETUTCDATE", "SYSUTCDATETIME"):
        return exp.cast(exp.AtTimeZone(this=exp.CurrentTimestamp(), zone=exp.Literal.string("UTC")), "TIMESTAMP")
    return node


def apply_join(node: exp.Expression) -> exp.Expression:
    """``CROSS APPLY (subquery) a`` -> ``CROSS JOIN LATERAL``; ``OUTER APPLY`` -> ``LEFT JOIN LATERAL ... ON TRUE``."""
    if isinstance(node, exp.Lateral) and node.args.get("cross_apply") is not None:
        outer = node.args["cross_apply"] is False
        if isinstance(node.this, exp.Subquery | exp.Select):
            join = node.parent if isinstance(node.parent, exp.Join) else None
            if join is not None:
                join.set("kind", None)
                join.set("side", "LEFT" if outer else None)
                if outer:
                    join.set("on", exp.true())
                else:
                    join.set("kind", "CROSS")
            node.set("cross_apply", None)
        else:
            raise refuse("T-SQL CROSS/OUTER APPLY of a table-valued function", node)
    return node


def top_options(node: exp.Expression) -> exp.Expression:
    opts = node.args.get("limit_options") if isinstance(node, exp.Limit | exp.Fetch) else None
    if opts is not None and (opts.args.get("percent") or opts.args.get("with_ties")):
        raise refuse("T-SQL TOP ... PERCENT / WITH TIES", node)
    return node


TYPED_REWRITES = (convert, string_plus, avg_int)
REWRITES = (float_is_double, weekday, datediff_week, like_brackets, clocks, apply_join, top_options)
