"""A file of GIM SQL -> the statements to run: ``GO`` batches, ``USE``, session ``SET``\\s and variables.

T-SQL ``DECLARE @d DATE = '2026-03-02'`` / ``SET @d = ...`` are evaluated by substitution: every later ``@d`` is
replaced by the value expression (cast to the declared type). ``--param NAME=VALUE`` gives ``@NAME`` (T-SQL) or
``:NAME`` (Oracle, PostgreSQL) its value and wins over a ``DECLARE`` default or ``SET`` in the file.
"""

from __future__ import annotations

import re

import sqlglot
from sqlglot import exp
from sqlglot.dialects.tsql import TSQL
from sqlglot.errors import ParseError
from sqlglot.tokens import TokenType

from etl.bi.sql.errors import GimSqlRefused, line_of, refuse

Tokenizer = TSQL.Tokenizer
_GO = re.compile(r"^[ \t]*GO(?:[ \t]+(\d+))?[ \t]*;?[ \t]*$", re.IGNORECASE | re.MULTILINE)
#: T-SQL session settings that do not change a read-only query's answer on the mart.
_HARMLESS_SET = {"NOCOUNT", "ANSI_NULLS", "ANSI_WARNINGS", "QUOTED_IDENTIFIER", "ARITHABORT", "XACT_ABORT"}


def split_go(sql: str) -> str:
    """T-SQL ``GO`` batch separators (a line of its own) -> ``;``; ``GO n`` (run n times) is refused."""
    for m in _GO.finditer(sql):
        if m.group(1) and int(m.group(1)) != 1:
            raise GimSqlRefused(f"T-SQL GO {m.group(1)} (repeat batch)", sql.count("\n", 0, m.start()) + 1)
    return _GO.sub(";", sql)


_STARTS = {TokenType.DECLARE, TokenType.SET, TokenType.USE}


def split_tsql(sql: str) -> str:
    """T-SQL needs no ``;`` between statements; sqlglot does. Insert one before a ``DECLARE``/``SET``/``USE`` at
    parenthesis depth 0 (not the ``SET`` of an ``UPDATE``), and before the statement that follows one of those."""
    tokens = Tokenizer().tokenize(sql) if sql.strip() else []
    cuts: list[int] = []
    depth, first, prev = 0, None, None
    for tok in tokens:
        kind = tok.token_type
        if kind == TokenType.L_PAREN:
            depth += 1
        elif kind == TokenType.R_PAREN:
            depth -= 1
        if kind == TokenType.SEMICOLON:
            first = None
        elif depth == 0 and first is not None and prev != TokenType.SEMICOLON:
            starts = kind in _STARTS and not (kind == TokenType.SET and first == TokenType.UPDATE)
            after = first in _STARTS and kind in (TokenType.SELECT, TokenType.WITH, TokenType.INSERT, TokenType.UPDATE)
            if starts or after:
                cuts.append(tok.start)
                first = kind
        elif first is None:
            first = kind
        prev = kind
    for pos in reversed(cuts):
        sql = sql[:pos] + ";" + sql[pos:]
    return sql


def parse_statements(sql: str, read: str) -> list[exp.Expression]:
    """sqlglot's statements of ``sql``; a parse error becomes a refusal with sqlglot's line."""
    if read == "tsql":
        sql = split_tsql(split_go(sql))
    try:
        trees = sqlglot.parse(sql, read=read or None)
    except ParseError as e:
        first = e.errors[0] if e.errors else {}
        detail = str(first.get("description", e))
        raise GimSqlRefused("SQL that sqlglot cannot parse", first.get("line"), detail) from None
    return [t for t in trees if t is not None]


def literal_for(value: str) -> exp.Expression:
    """A ``--param`` value as a SQL literal: a number when it reads as one, else a string."""
    if re.fullmatch(r"-?\d+", value):
        return exp.Literal.number(int(value))
    if re.fullmatch(r"-?\d+\.\d*", value):
        return exp.Literal.number(value)
    return exp.Literal.string(value)


class Variables:
    """T-SQL variables and bind parameters of one file, substituted into each statement in order."""

    def __init__(self, read: str, params: dict[str, str]) -> None:
        self.read = read
        self.params = {k.lstrip("@:").lower(): v for k, v in params.items()}
        self.values: dict[str, exp.Expression | None] = {}
        self.kinds: dict[str, exp.DataType] = {}

    def _value(self, name: str, node: exp.Expression) -> exp.Expression:
        key = name.lower()
        if key in self.params:
            value = literal_for(self.params[key])
            kind = self.kinds.get(key)
            return exp.cast(value, kind.copy()) if kind is not None else value
        if key in self.values and self.values[key] is not None:
            return self.values[key].copy()  # type: ignore[union-attr]
        sigil = "@" if self.read == "tsql" else ":"
        detail = "give it with --param" if key not in self.values else "DECLAREd without a value; give it with --param"
        raise GimSqlRefused(f"parameter {sigil}{name} without a value", line_of(node), detail)

    def substitute(self, tree: exp.Expression) -> exp.Expression:
        def sub(node: exp.Expression) -> exp.Expression:
            if isinstance(node, exp.Parameter) and self.read == "tsql":
                if node.name.startswith("@"):
                    raise refuse(f"T-SQL system variable @@{node.name.lstrip('@')}", node)
                return self._value(node.name, node)
            if isinstance(node, exp.Placeholder) and node.name and self.read != "tsql":
                return self._value(node.name, node)
            if isinstance(node, exp.Placeholder):
                raise refuse("positional bind parameter ?", node, "name it (:NAME) and give it with --param")
            return node

        return tree.transform(sub)

    def declare(self, tree: exp.Declare) -> None:
        for item in tree.expressions:
            default = item.args.get("default")
            kind = item.args.get("kind")
            if not isinstance(kind, exp.DataType):
                raise refuse("T-SQL DECLARE of a table variable or cursor", item)
            names = item.this if isinstance(item.this, list) else [item.this]
            for var in names:
                key = var.name.lower()
                self.kinds[key] = kind
                value = self.substitute(default) if isinstance(default, exp.Expression) else None
                self.values[key] = exp.cast(value, kind.copy()) if value is not None else None

    def assign(self, tree: exp.Set) -> bool:
        """Apply a T-SQL ``SET``; False when it is not a variable assignment or a harmless session option."""
        for item in tree.expressions:
            eq = item.this
            if isinstance(eq, exp.EQ) and isinstance(eq.this, exp.Parameter):
                key = eq.this.name.lower()
                if key not in self.kinds:
                    raise refuse(f"T-SQL SET of undeclared variable @{eq.this.name}", eq)
                value = self.substitute(eq.expression)
                self.values[key] = exp.cast(value, self.kinds[key].copy())
                continue
            name = (eq.this.name if isinstance(eq, exp.EQ) else item.name).upper()
            if name == "DATEFIRST" or name.startswith("DATE"):
                raise refuse(f"T-SQL SET {name}", item, "we assume @@DATEFIRST = 7 and the mart's ISO dates")
            if name not in _HARMLESS_SET and "ISOLATION" not in item.sql().upper():
                raise refuse(f"T-SQL SET {name}", item)
        return True


def statements(sql: str, read: str, params: dict[str, str]) -> list[exp.Expression]:
    """The statements of ``sql`` to run, with ``USE``, variable declarations and session options consumed."""
    variables = Variables(read, params)
    out = []
    for tree in parse_statements(sql, read):
        if isinstance(tree, exp.Use):
            continue  # the mart is one database: USE INFOMART; selects it already
        if read == "tsql" and isinstance(tree, exp.Declare):
            variables.declare(tree)
            continue
        if read == "tsql" and isinstance(tree, exp.Set):
            variables.assign(tree)
            continue
        if isinstance(tree, exp.Command):
            raise refuse(f"statement {tree.name.upper()} that sqlglot does not parse", tree)
        out.append(variables.substitute(tree))
    return out
