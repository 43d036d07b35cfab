"""DDL for the mart, rendered from `schema/mart.yaml` (the one source of truth) for several databases.

Why not hand-written SQL: the same tables must exist in DuckDB (what we run) and be deployable on the
databases GIM users already have (PostgreSQL, Oracle, SQL Server, Snowflake), and hand-kept copies drift.
Why not let sqlglot transpile one DuckDB DDL: it silently emits invalid types (UBIGINT/INT128/STRUCT for
Postgres, VARCHAR as CLOB for Oracle, TIMESTAMP as ROWVERSION for T-SQL ...). So each logical type goes
through an explicit per-dialect TYPE_MAPS entry, sqlglot only assembles the statement (exp.Create /
exp.Schema / exp.ColumnDef) and handles quoting, and tests re-parse the output and check every type
against a per-dialect allow-list.

CLI: `python -m etl.storage.ddl --write` regenerates `schema/generated/<dialect>.sql` (checked in so schema
changes show up as SQL diffs); `--check` exits 1 when those files are stale; `--dialect D` prints one DDL.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Mapping, Sequence
from functools import cache
from pathlib import Path
from typing import Literal

import sqlglot
import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from sqlglot import exp

from schema import SCHEMA_DIR

#: Dialects we render, by sqlglot name.
DIALECTS: tuple[str, ...] = ("duckdb", "postgres", "oracle", "tsql", "snowflake")

SCHEMA_FILE: Path = SCHEMA_DIR / "mart.yaml"
GENERATED_DIR: Path = SCHEMA_DIR / "generated"

_LOGICAL_TYPE = re.compile(
    r"(?P<base>int32|int64|smallint|boolean|timestamp|text)"
    r"|(?P<vbase>varchar)\((?P<n>\d+)\)"
    r"|(?P<dbase>decimal)\((?P<p>\d+),\s*(?P<s>\d+)\)"
)
#: Longest varchar(n): Oracle VARCHAR2 (standard MAX_STRING_SIZE) and T-SQL NVARCHAR(n) both stop at 4000.
MAX_VARCHAR = 4000

#: Logical base type -> type text in the dialect; `{0}`/`{1}` take varchar(n) / decimal(p,s) parameters.
#: Integers keep GIM's widths (Oracle NUMBER(10) keys, NUMBER(19) ids); text is the unbounded string type.
TypeMap = Mapping[str, str]
TYPE_MAPS: dict[str, TypeMap] = {
    "duckdb": {
        "int32": "INTEGER",
        "int64": "BIGINT",
        "smallint": "SMALLINT",
        "boolean": "BOOLEAN",
        "timestamp": "TIMESTAMP",
        "text": "VARCHAR",
        "varchar": "VARCHAR",  # DuckDB ignores VARCHAR lengths
        "decimal": "DECIMAL({0}, {1})",
    },
    "postgres": {
        "int32": "INTEGER",
        "int64": "BIGINT",
        "smallint": "SMALLINT",
        "boolean": "BOOLEAN",
        "timestamp": "TIMESTAMP",
        "text": "TEXT",
        "varchar": "VARCHAR({0})",
        "decimal": "NUMERIC({0}, {1})",
    },
    "oracle": {
        "int32": "NUMBER(10)",
        "int64": "NUMBER(19)",
        "smallint": "NUMBER(5)",
        "boolean": "NUMBER(1)",
        "timestamp": "TIMESTAMP",
        "text": "CLOB",
        "varchar": "VARCHAR2({0})",
        "decimal": "NUMBER({0}, {1})",
    },
    "tsql": {
        "int32": "INT",
        "int64": "BIGINT",
        "smallint": "SMALLINT",
        "boolean": "BIT",
        "timestamp": "DATETIME2",
        "text": "NVARCHAR(MAX)",
        "varchar": "NVARCHAR({0})",
        "decimal": "DECIMAL({0}, {1})",
    },
    "snowflake": {
        "int32": "INT",
        "int64": "BIGINT",
        "smallint": "SMALLINT",
        "boolean": "BOOLEAN",
        "timestamp": "TIMESTAMP_NTZ",
        "text": "VARCHAR",
        "varchar": "VARCHAR({0})",
        "decimal": "NUMBER({0}, {1})",
    },
}

#: Words a dialect reserves that sqlglot does not quote by itself; such identifiers are emitted quoted.
#: Oracle's list (SQL Language Reference, "Oracle SQL Reserved Words") is why GIM's table is RESOURCE_
#: and why our STG_EVENT_QUARANTINE.RAW must be quoted there.
_ORACLE_RESERVED = """
ACCESS ADD ALL ALTER AND ANY AS ASC AUDIT BETWEEN BY CHAR CHECK CLUSTER COLUMN COMMENT COMPRESS CONNECT
CREATE CURRENT DATE DECIMAL DEFAULT DELETE DESC DISTINCT DROP ELSE EXCLUSIVE EXISTS FILE FLOAT FOR FROM
GRANT GROUP HAVING IDENTIFIED IMMEDIATE IN INCREMENT INDEX INITIAL INSERT INTEGER INTERSECT INTO IS
LEVEL LIKE LOCK LONG MAXEXTENTS MINUS MLSLABEL MODE MODIFY NOAUDIT NOCOMPRESS NOT NOWAIT NULL NUMBER OF
OFFLINE ON ONLINE OPTION OR ORDER PCTFREE PRIOR PUBLIC RAW RENAME RESOURCE REVOKE ROW ROWID ROWNUM ROWS
SELECT SESSION SET SHARE SIZE SMALLINT START SUCCESSFUL SYNONYM SYSDATE TABLE THEN TO TRIGGER UID UNION
UNIQUE UPDATE USER VALIDATE VALUES VARCHAR VARCHAR2 VIEW WHENEVER WHERE WITH
"""
_RESERVED: dict[str, frozenset[str]] = {"oracle": frozenset(_ORACLE_RESERVED.split())}

Kind = Literal["fact", "dimension", "operations", "staging", "internal"]


def parse_logical_type(logical: str) -> tuple[str, tuple[int, ...]]:
    """Split a logical type into (base, parameters), rejecting anything outside the portable set."""
    m = _LOGICAL_TYPE.fullmatch(logical.strip())
    if m is None:
        raise ValueError(f"unknown logical type {logical!r}")
    if m["base"]:
        return m["base"], ()
    if m["vbase"]:
        n = int(m["n"])
        if not 1 <= n <= MAX_VARCHAR:
            raise ValueError(f"varchar({n}) outside 1..{MAX_VARCHAR}; use text")
        return "varchar", (n,)
    p, s = int(m["p"]), int(m["s"])
    if not (1 <= p <= 38 and 0 <= s <= p):
        raise ValueError(f"decimal({p},{s}) needs 1 <= p <= 38 and 0 <= s <= p")
    return "decimal", (p, s)


class Column(BaseModel):
    """One column: GIM name, portable logical type, nullability, meaning."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(pattern=r"^[A-Z][A-Z0-9_]*$")
    type: str
    nullable: bool = True
    description: str = Field(min_length=1)

    @field_validator("type")
    @classmethod
    def _valid_type(cls, value: str) -> str:
        parse_logical_type(value)
        return value


class ForeignKey(BaseModel):
    """A reference to another table's primary key. Declared in the other dialects' DDL (BI tools infer joins from
    them); not in the DuckDB mart, where an enforced key would make replacing a re-derived interaction's rows a
    matter of statement order and a missing dimension row a failed load instead of a failed check."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    columns: tuple[str, ...] = Field(min_length=1)
    references: str
    ref_columns: tuple[str, ...] = Field(min_length=1)


class Table(BaseModel):
    """One table; primary-key columns must be declared non-nullable so the YAML reads as the DDL does."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(pattern=r"^[A-Z][A-Z0-9_]*$")
    kind: Kind
    description: str = Field(min_length=1)
    columns: tuple[Column, ...] = Field(min_length=1)
    primary_key: tuple[str, ...] = ()
    foreign_keys: tuple[ForeignKey, ...] = ()

    @model_validator(mode="after")
    def _consistent(self) -> Table:
        names = [c.name for c in self.columns]
        if len(set(names)) != len(names):
            raise ValueError(f"{self.name}: duplicate column names")
        by_name = {c.name: c for c in self.columns}
        for key in self.primary_key:
            if key not in by_name:
                raise ValueError(f"{self.name}: primary key column {key} does not exist")
            if by_name[key].nullable:
                raise ValueError(f"{self.name}: primary key column {key} must be nullable: false")
        for fk in self.foreign_keys:
            missing = [c for c in fk.columns if c not in by_name]
            if missing or len(fk.columns) != len(fk.ref_columns):
                raise ValueError(f"{self.name}: foreign key {fk.columns} -> {fk.references}: bad columns")
        return self

    def column(self, name: str) -> Column:
        """The column called `name` (KeyError if absent)."""
        for col in self.columns:
            if col.name == name:
                return col
        raise KeyError(f"{self.name}.{name}")


class MartSchema(BaseModel):
    """The whole mart: contract version plus tables in creation order."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    version: int
    tables: tuple[Table, ...]

    @model_validator(mode="after")
    def _unique(self) -> MartSchema:
        names = [t.name for t in self.tables]
        if len(set(names)) != len(names):
            raise ValueError("duplicate table names")
        by_name = {t.name: t for t in self.tables}
        for t in self.tables:
            for fk in t.foreign_keys:
                target = by_name.get(fk.references)
                if target is None or tuple(target.primary_key) != fk.ref_columns:
                    raise ValueError(f"{t.name}: foreign key must reference {fk.references}'s primary key")
        return self

    def table(self, name: str) -> Table:
        """The table called `name` (KeyError if absent)."""
        for table in self.tables:
            if table.name == name:
                return table
        raise KeyError(name)


@cache
def load_schema(path: Path = SCHEMA_FILE) -> MartSchema:
    """Parse and validate the schema YAML (cached: it is read-only at run time)."""
    return MartSchema.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))


def tables_of_kind(*kinds: Kind) -> tuple[str, ...]:
    """Names of the tables of these kinds, in creation order (the table groups Dagster and publishing use)."""
    return tuple(t.name for t in load_schema().tables if t.kind in kinds)


def table_columns(name: str) -> list[str]:
    """Column names of table `name` in DDL order, e.g. for explicit INSERT column lists."""
    return [c.name for c in load_schema().table(name).columns]


def column_type(logical: str, dialect: str, type_map: TypeMap | None = None) -> exp.DataType:
    """The dialect's data type for a logical type, taken from the type map (never from sqlglot's defaults)."""
    base, params = parse_logical_type(logical)
    template = (type_map if type_map is not None else TYPE_MAPS[dialect])[base]
    return exp.DataType.build(template.format(*params), dialect=dialect)


def _ident(name: str, dialect: str) -> exp.Identifier:
    return exp.to_identifier(name, quoted=name in _RESERVED.get(dialect, frozenset()))


def create_table(
    table: Table, dialect: str, *, type_map: TypeMap | None = None, if_not_exists: bool = False
) -> exp.Create:
    """CREATE TABLE for one table as a sqlglot AST (NOT NULL per column, PRIMARY KEY as table constraint)."""
    defs: list[exp.Expression] = [
        exp.ColumnDef(
            this=_ident(col.name, dialect),
            kind=column_type(col.type, dialect, type_map),
            constraints=[] if col.nullable else [exp.ColumnConstraint(kind=exp.NotNullColumnConstraint())],
        )
        for col in table.columns
    ]
    if table.primary_key:
        defs.append(exp.PrimaryKey(expressions=[_ident(k, dialect) for k in table.primary_key]))
    target = exp.Table(this=_ident(table.name, dialect))
    return exp.Create(this=exp.Schema(this=target, expressions=defs), kind="TABLE", exists=if_not_exists)


def render_ddl(dialect: str, type_map: TypeMap | None = None) -> str:
    """The whole mart's DDL for `dialect` as one script (plain CREATE TABLE: IF NOT EXISTS isn't portable)."""
    if dialect not in TYPE_MAPS and type_map is None:
        raise ValueError(f"unsupported dialect {dialect!r}; choose one of {', '.join(DIALECTS)}")
    schema = load_schema()
    header = (
        f"-- GIM mart schema v{schema.version} for {dialect}.\n"
        "-- Generated from schema/mart.yaml by `python -m etl.storage.ddl --write`; do not edit.\n\n"
    )
    statements = [create_table(t, dialect, type_map=type_map).sql(dialect=dialect, pretty=True) for t in schema.tables]
    if dialect != "duckdb":
        statements += [fk.sql(dialect=dialect) for fk in foreign_key_statements(dialect)]
    return header + ";\n\n".join(statements) + ";\n"


def foreign_key_statements(dialect: str) -> list[exp.Expression]:
    """ALTER TABLE ... ADD CONSTRAINT FK_<n> FOREIGN KEY for every declared reference (after all CREATE TABLEs,
    so that creation order does not matter). Names stay under Oracle's 30 characters."""
    out = []
    for t in load_schema().tables:
        for i, fk in enumerate(t.foreign_keys, start=1):
            name = f"FK_{t.name[:22]}_{i}"

            def ids(cols: tuple[str, ...]) -> str:
                return ", ".join(_ident(c, dialect).sql(dialect=dialect) for c in cols)

            table, ref = (
                _ident(t.name, dialect).sql(dialect=dialect),
                _ident(fk.references, dialect).sql(dialect=dialect),
            )
            text = (
                f"ALTER TABLE {table} ADD CONSTRAINT {name} FOREIGN KEY ({ids(fk.columns)})"
                f" REFERENCES {ref} ({ids(fk.ref_columns)})"
            )
            out.append(sqlglot.parse_one(text, read=dialect))
    return out


def duckdb_create_statements() -> list[str]:
    """Idempotent DuckDB CREATE TABLE IF NOT EXISTS statements, one per table, for the storage layer."""
    return [create_table(t, "duckdb", if_not_exists=True).sql(dialect="duckdb") for t in load_schema().tables]


def duckdb_missing_columns(existing: Mapping[str, set[str]]) -> list[str]:
    """ALTER TABLE statements that add the columns `schema/mart.yaml` has and a mart created by an older version
    lacks (`existing`: table -> its column names, upper case). Added columns are nullable: rows written before
    have no value for them, which the next re-derivation of those facts fills."""
    statements = []
    for table in load_schema().tables:
        have = existing.get(table.name)
        if have is None:
            continue
        for col in table.columns:
            if col.name.upper() not in have:
                kind = column_type(col.type, "duckdb").sql(dialect="duckdb")
                statements.append(f'ALTER TABLE "{table.name}" ADD COLUMN "{col.name}" {kind}')
    return statements


def generated_path(dialect: str) -> Path:
    """Where the checked-in DDL for `dialect` lives."""
    return GENERATED_DIR / f"{dialect}.sql"


def write_generated() -> list[Path]:
    """(Re)write every dialect's DDL file; returns the paths written."""
    GENERATED_DIR.mkdir(parents=True, exist_ok=True)
    paths = []
    for dialect in DIALECTS:
        path = generated_path(dialect)
        path.write_text(render_ddl(dialect), encoding="utf-8")
        paths.append(path)
    return paths


def stale_generated() -> list[Path]:
    """Checked-in DDL files that differ from a fresh render (missing files count as stale)."""
    return [
        generated_path(d)
        for d in DIALECTS
        if not generated_path(d).exists() or generated_path(d).read_text(encoding="utf-8") != render_ddl(d)
    ]


def main(argv: Sequence[str] | None = None) -> int:
    """CLI entry point; see the module docstring."""
    parser = argparse.ArgumentParser(
        prog="python -m etl.storage.ddl", description="Render the mart DDL from schema/mart.yaml."
    )
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--write", action="store_true", help="regenerate schema/generated/<dialect>.sql")
    group.add_argument("--check", action="store_true", help="exit 1 if schema/generated is stale")
    group.add_argument("--dialect", choices=DIALECTS, help="print the DDL for one dialect")
    args = parser.parse_args(argv)
    if args.write:
        for path in write_generated():
            print(path)
        return 0
    if args.check:
        stale = stale_generated()
        for path in stale:
            print(f"stale: {path}", file=sys.stderr)
        return 1 if stale else 0
    sys.stdout.write(render_ddl(args.dialect))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
