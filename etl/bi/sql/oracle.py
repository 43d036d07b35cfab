"""Oracle idioms whose DuckDB translation by sqlglot alone answers differently (or fails)."""

from __future__ import annotations

from sqlglot import exp
from sqlglot.transforms import eliminate_join_marks

from etl.bi.sql.common import fn
from etl.bi.sql.errors import refuse
from etl.bi.sql.formats import oracle_format
from etl.bi.sql.types import INTEGER, NUMERIC, TEMPORAL, TEXT, is_type, unknown

#: Oracle TRUNC(date, fmt) units -> DuckDB date_trunc parts. D/DY/DAY/WW/W depend on NLS or 1 January: refused.
_TRUNC_UNITS = {
    **dict.fromkeys(("DD", "DDD", "J"), "day"),
    **dict.fromkeys(("MM", "MON", "MONTH", "RM"), "month"),
    **dict.fromkeys(("YYYY", "YEAR", "Y", "YY", "YYY", "SYYYY", "SYEAR"), "year"),
    **dict.fromkeys(("HH", "HH12", "HH24"), "hour"),
    "MI": "minute",
    "Q": "quarter",
    "IW": "week",
}


def join_marks(tree: exp.Expression) -> exp.Expression:
    """``a.x = b.x(+)`` -> ``LEFT JOIN b ON a.x = b.x`` (sqlglot's own transform); marks it cannot place (in an OR,
    across subqueries) stay in the tree and are refused at generation."""
    marked = [c for c in tree.find_all(exp.Column) if c.args.get("join_mark")]
    for col in marked:
        if col.find_ancestor(exp.Or, exp.Select) and isinstance(col.find_ancestor(exp.Or, exp.Select), exp.Or):
            raise refuse("Oracle (+) inside an OR", col, "Oracle rejects it too (ORA-01719)")
    partners: dict[str, set[str]] = {}
    for col in marked:
        cond = col.find_ancestor(exp.Predicate) or col.parent
        others = {c.table for c in cond.find_all(exp.Column) if c.table and not c.args.get("join_mark")}
        partners.setdefault(col.table, set()).update(others)
    for table, others in partners.items():
        if len(others) > 1:
            raise refuse(f"Oracle (+) joining {table} to several tables ({', '.join(sorted(others))})", marked[0])
    if marked:
        tree = eliminate_join_marks(tree)
        for col in tree.find_all(exp.Column):
            if col.args.get("join_mark"):
                raise refuse("Oracle (+) outer join that cannot be made a LEFT JOIN", col)
    return tree


def to_char(node: exp.Expression) -> exp.Expression:
    """``TO_CHAR(date, 'YYYY-MM-DD HH24')`` -> ``strftime``; TO_CHAR of numbers only for integers, unformatted."""
    if not isinstance(node, exp.ToChar):
        return node
    value, fmt = node.this, node.args.get("format")
    for arg in ("nlsparam", "nls_param"):
        if node.args.get(arg) is not None:
            raise refuse("Oracle TO_CHAR with NLS parameters", node)
    if fmt is None:
        if is_type(value, INTEGER) or is_type(value, TEXT):
            return exp.cast(value, "VARCHAR")
        raise refuse("Oracle TO_CHAR of a non-integer or date without a format", node, "Oracle writes 0.5 as '.5'")
    if not isinstance(fmt, exp.Literal) or not fmt.is_string:
        raise refuse("Oracle TO_CHAR with a format that is not a literal", node)
    if is_type(value, NUMERIC):
        raise refuse("Oracle TO_CHAR number format model", node, repr(fmt.this))
    try:
        strftime = oracle_format(fmt.this)
    except ValueError as e:
        raise refuse(f"Oracle TO_CHAR {e}", node, f"in format {fmt.this!r}") from None
    return fn("strftime", exp.cast(value, "TIMESTAMP"), exp.Literal.string(strftime))


def to_date(node: exp.Expression) -> exp.Expression:
    """Oracle TO_DATE keeps the time of day (an Oracle DATE has one); sqlglot casts the result to a DuckDB DATE."""
    if isinstance(node, exp.StrToDate):
        return exp.StrToTime(this=node.this, format=node.args.get("format"))
    return node


def trunc(node: exp.Expression) -> exp.Expression:
    """``TRUNC(date[, fmt])`` -> ``date_trunc``; ``TRUNC(number)`` stays."""
    if isinstance(node, exp.Anonymous) and node.name.upper() == "TRUNC" and len(node.expressions) == 1:
        (value,) = node.expressions
        if is_type(value, TEMPORAL):
            return fn("date_trunc", exp.Literal.string("day"), exp.cast(value, "TIMESTAMP"))
        if unknown(value):
            raise refuse("Oracle TRUNC of an operand of unknown type", node, "date or number?")
        return node
    if isinstance(node, exp.DateTrunc):
        unit = node.args.get("unit")
        name = unit.name.upper() if unit is not None else "DD"
        if name not in _TRUNC_UNITS:
            raise refuse(f"Oracle TRUNC(date, '{name}')", node)
        return fn("date_trunc", exp.Literal.string(_TRUNC_UNITS[name]), exp.cast(node.this, "TIMESTAMP"))
    return node


def sysdate(node: exp.Expression) -> exp.Expression:
    """``SYSDATE`` is the server's local clock, to the second."""
    if isinstance(node, exp.CurrentTimestamp) and node.args.get("sysdate"):
        return fn("date_trunc", exp.Literal.string("second"), fn("current_localtimestamp"))
    return node


def concat(node: exp.Expression) -> exp.Expression:
    """Oracle ``a || b`` treats NULL as '' (and '' is NULL): ``NULLIF(concat(a, b), '')``."""
    if not isinstance(node, exp.DPipe):
        return node
    parts: list[exp.Expression] = []

    def flatten(e: exp.Expression) -> None:
        if isinstance(e, exp.DPipe):
            flatten(e.this)
            flatten(e.expression)
        else:
            parts.append(e.unnest() if isinstance(e, exp.Paren) and not isinstance(e.unnest(), exp.DPipe) else e)

    flatten(node)
    return exp.Nullif(this=fn("concat", *parts), expression=exp.Literal.string(""))


def _is_rownum(e: exp.Expression) -> bool:
    return isinstance(e, exp.Column) and not e.table and e.name.upper() == "ROWNUM"


def _rownum_limit(cond: exp.Expression) -> int | None:
    """n for ``ROWNUM <= n`` / ``ROWNUM < n`` / ``ROWNUM = 1`` (either side), else None."""
    if not isinstance(cond, exp.LTE | exp.LT | exp.GTE | exp.GT | exp.EQ):
        return None
    left, right = cond.left, cond.right
    flipped = {exp.GTE: exp.LTE, exp.GT: exp.LT, exp.LTE: exp.GTE, exp.LT: exp.GT, exp.EQ: exp.EQ}
    op = type(cond)
    if _is_rownum(right) and not _is_rownum(left):
        left, right, op = right, left, flipped[op]
    if not (_is_rownum(left) and isinstance(right, exp.Literal) and right.is_int):
        return None
    n = int(right.name)
    if op is exp.LTE:
        return max(n, 0)
    if op is exp.LT:
        return max(n - 1, 0)
    if op is exp.EQ and n == 1:
        return 1
    return None


def rownum(tree: exp.Expression) -> exp.Expression:
    """``WHERE ROWNUM <= n`` of a plain query block (no ORDER BY, GROUP BY, DISTINCT, aggregate: ROWNUM is
    numbered before those) -> ``LIMIT n``; any other use is refused."""
    for col in list(tree.find_all(exp.Column)):
        if not _is_rownum(col) or col.parent is None:
            continue
        select = col.find_ancestor(exp.Select)
        cond = col.parent
        where = select.args.get("where") if select is not None else None
        conjuncts = list(where.this.flatten()) if where is not None and isinstance(where.this, exp.And) else []
        if where is not None and not conjuncts:
            conjuncts = [where.this]
        n = _rownum_limit(cond) if any(c is cond for c in conjuncts) else None
        if n is None:
            raise refuse("Oracle ROWNUM other than a top-level WHERE ROWNUM <= n", col)
        blocking = [k for k in ("group", "having", "order", "distinct", "limit", "qualify") if select.args.get(k)]
        if blocking or any(e.find(exp.AggFunc, exp.Window) for e in select.expressions):
            what = blocking[0].upper() if blocking else "an aggregate"
            raise refuse(f"Oracle ROWNUM with {what} in the same query block", col, "ROWNUM is numbered first")
        rest = [c for c in conjuncts if c is not cond]
        select.set("where", exp.Where(this=exp.and_(*rest)) if rest else None)
        select.set("limit", exp.Limit(expression=exp.Literal.number(n)))
    return tree


TYPED_REWRITES = (to_char, trunc)
REWRITES = (to_date, sysdate, concat)
