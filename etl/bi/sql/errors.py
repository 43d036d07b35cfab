"""The one way a GIM SQL file is turned down: :class:`GimSqlRefused`, naming the construct and its line."""

from __future__ import annotations

from sqlglot import exp


class GimSqlRefused(ValueError):
    """A query we will not run because DuckDB would answer it differently (or not at all).

    ``construct`` names the T-SQL / Oracle / PostgreSQL feature (``"Oracle ROWNUM inside a subquery"``), ``line``
    is its 1-based line in the analyst's file (None when sqlglot kept no position for it)."""

    def __init__(self, construct: str, line: int | None = None, detail: str = "") -> None:
        self.construct = construct
        self.line = line
        self.detail = detail
        where = f" (line {line})" if line else ""
        super().__init__(f"refused: {construct}{where}" + (f": {detail}" if detail else ""))


def line_of(node: exp.Expression | None) -> int | None:
    """The line of ``node``: sqlglot keeps positions on identifiers, so the first one in the node, else in the
    nearest enclosing expression that has one."""
    while node is not None:
        for sub in node.walk():
            line = sub.meta.get("line") if sub.meta else None
            if line:
                return int(line)
        node = node.parent
    return None


def refuse(construct: str, node: exp.Expression | None = None, detail: str = "") -> GimSqlRefused:
    """A :class:`GimSqlRefused` for ``construct`` at ``node``'s line (raise it)."""
    return GimSqlRefused(construct, line_of(node), detail)
