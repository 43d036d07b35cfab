"""Tests for the schema YAML and the DDL rendered from it.

DuckDB DDL is executed; the other dialects have no server here, so their DDL is re-parsed with sqlglot and
every data type is checked against an explicit allow-list, because sqlglot emits invalid types silently.
"""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import pytest
import sqlglot
from sqlglot import exp

from etl.ingest.columns import EVENT_SCHEMA
from etl.storage.ddl import (
    DIALECTS,
    TYPE_MAPS,
    duckdb_create_statements,
    generated_path,
    load_schema,
    parse_logical_type,
    render_ddl,
    table_columns,
)

SCHEMA = load_schema()
CONTRACT = Path(__file__).resolve().parents[2] / "shared" / "contract" / "mart.md"

#: Type text each dialect may contain, as rendered by sqlglot from the re-parsed AST (full match).
ALLOWED_TYPES: dict[str, re.Pattern[str]] = {
    "duckdb": re.compile(r"INT|BIGINT|SMALLINT|BOOLEAN|TIMESTAMP|TEXT|DECIMAL\(\d+, \d+\)"),
    "postgres": re.compile(r"INT|BIGINT|SMALLINT|BOOLEAN|TIMESTAMP|TEXT|VARCHAR\(\d+\)|DECIMAL\(\d+, \d+\)"),
    "oracle": re.compile(r"NUMBER\((1|5|10|19)\)|NUMBER\(\d+, \d+\)|TIMESTAMP|CLOB|VARCHAR2\(\d+\)"),
    "tsql": re.compile(r"INTEGER|BIGINT|SMALLINT|BIT|DATETIME2|NVARCHAR\((\d+|MAX)\)|NUMERIC\(\d+, \d+\)"),
    "snowflake": re.compile(r"INT|BIGINT|SMALLINT|BOOLEAN|TIMESTAMPNTZ|VARCHAR|VARCHAR\(\d+\)|DECIMAL\(\d+, \d+\)"),
}

#: Identifiers that must be quoted because the dialect reserves them (Oracle reserves RAW).
QUOTED: dict[str, set[str]] = {"oracle": {"RAW"}}

#: What DuckDB's information_schema reports for each logical base type.
DUCKDB_TYPES = {
    "int32": "INTEGER",
    "int64": "BIGINT",
    "smallint": "SMALLINT",
    "boolean": "BOOLEAN",
    "timestamp": "TIMESTAMP",
    "text": "VARCHAR",
    "varchar": "VARCHAR",
}

#: Minimum fact columns, copied from the contract (mart.md, "Facts").
MINIMUM_FACT_COLUMNS: dict[str, set[str]] = {
    "INTERACTION_FACT": {
        "INTERACTION_ID",
        "MEDIA_SERVER_IXN_GUID",
        "MEDIA_SERVER_ROOT_IXN_GUID",
        "MEDIA_TYPE_KEY",
        "INTERACTION_TYPE_KEY",
        "START_TS",
        "END_TS",
        "START_DATE_TIME_KEY",
        "END_DATE_TIME_KEY",
        "ACTIVE_FLAG",
    },
    "INTERACTION_RESOURCE_FACT": {
        "INTERACTION_RESOURCE_ID",
        "INTERACTION_ID",
        "RESOURCE_KEY",
        "TECHNICAL_DESCRIPTOR_KEY",
        "MEDIA_TYPE_KEY",
        "INTERACTION_TYPE_KEY",
        "START_TS",
        "END_TS",
        "START_DATE_TIME_KEY",
        "END_DATE_TIME_KEY",
        "INTERACTION_RESOURCE_ORDINAL",
        "MEDIATION_SEGMENT_ID",
        "MEDIATION_RESOURCE_KEY",
        "MEDIATION_DURATION",
        "LAST_VQUEUE_RESOURCE_KEY",
        "RING_COUNT",
        "RING_DURATION",
        "TALK_COUNT",
        "TALK_DURATION",
        "HOLD_COUNT",
        "HOLD_DURATION",
        "AFTER_CALL_WORK_COUNT",
        "AFTER_CALL_WORK_DURATION",
        "HANDLE_COUNT",
        "IRF_ANCHOR",
        "ACTIVE_FLAG",
    },
    "MEDIATION_SEGMENT_FACT": {
        "MEDIATION_SEGMENT_ID",
        "INTERACTION_ID",
        "RESOURCE_KEY",
        "TECHNICAL_DESCRIPTOR_KEY",
        "START_TS",
        "END_TS",
        "START_DATE_TIME_KEY",
        "END_DATE_TIME_KEY",
        "MEDIATION_DURATION",
        "IXN_RESOURCE_ID",
        "TARGET_IXN_RESOURCE_ID",
        "ACTIVE_FLAG",
    },
}


def disallowed_types(ddl: str, dialect: str) -> list[str]:
    """Types in the re-parsed DDL that the dialect's allow-list does not contain."""
    statements = sqlglot.parse(ddl, read=dialect)
    found = (dt.sql(dialect=dialect) for stmt in statements if stmt for dt in stmt.find_all(exp.DataType))
    return sorted({t for t in found if not ALLOWED_TYPES[dialect].fullmatch(t)})


def contract_columns() -> dict[str, set[str]]:
    """Upper-case names the contract lists per table: bullets opening with a table name, (...) dropped."""
    text = CONTRACT.read_text(encoding="utf-8").split("## Command line")[0]
    out: dict[str, set[str]] = {}
    for bullet in re.split(r"\n- ", text)[1:]:
        body = re.sub(r"\([^)]*\)", "", bullet.split("\n\n")[0])
        names = re.findall(r"`([A-Z][A-Z0-9_]*)`", body)
        if names:
            out[names[0]] = set(names[1:])
    return out


# --- YAML ---------------------------------------------------------------------------------------------------


def test_tables_in_contract_order() -> None:
    assert [t.name for t in SCHEMA.tables] == [
        "INTERACTION_FACT",
        "INTERACTION_RESOURCE_FACT",
        "MEDIATION_SEGMENT_FACT",
        "TECHNICAL_DESCRIPTOR",
        "RESOURCE_",
        "MEDIA_TYPE",
        "INTERACTION_TYPE",
        "DATE_TIME",
        "TENANT",
        "IRF_USER_DATA_GEN_1",
        "CHAT_SESSION_FACT",
        "IRF_USER_DATA_CUST_1",
        "IRF_USER_DATA_KEYS",
        "INTERACTION_DESCRIPTOR",
        "USER_DATA_CUST_DIM_1",
        "CHAT_SESSION_DIM",
        "ANCHOR_FLAGS",
        "STG_USER_DATA_REJECT",
        "SM_RES_SESSION_FACT",
        "SM_RES_STATE_FACT",
        "SM_RES_STATE_REASON_FACT",
        "RESOURCE_STATE",
        "RESOURCE_STATE_REASON",
        "STG_EVENT_QUARANTINE",
        "CTL_AUDIT_LOG",
        "STG_EVENTS",
        "CTL_KEY_MAP",
        # configuration (contract config.md)
        "GROUP_",
        "RESOURCE_GROUP_FACT_",
        "RESOURCE_GROUP_COMBINATION",
        "SKILL",
        "RESOURCE_SKILL_FACT_",
        "REQUESTED_SKILL",
        "ROUTING_TARGET",
        "PLACE",
        "PLACE_GROUP_FACT_",
        "STG_CFG_OBJECTS",
    ]


@pytest.mark.parametrize("table", sorted(MINIMUM_FACT_COLUMNS))
def test_fact_tables_have_contract_minimum(table: str) -> None:
    assert MINIMUM_FACT_COLUMNS[table] <= set(table_columns(table))


@pytest.mark.skipif(not CONTRACT.exists(), reason="contract mart.md not available")
def test_every_table_has_contract_columns() -> None:
    listed = contract_columns()
    for table, minimum in MINIMUM_FACT_COLUMNS.items():
        assert listed[table] == minimum, f"{table}: contract changed; update MINIMUM_FACT_COLUMNS"
    for table, columns in listed.items():
        assert columns <= set(table_columns(table)), table


def test_stg_events_mirrors_event_schema() -> None:
    table = SCHEMA.table("STG_EVENTS")
    assert table_columns("STG_EVENTS") == [c.upper() for c in EVENT_SCHEMA] + ["RUN_ID"]
    for name, dtype in EVENT_SCHEMA.items():
        expected = "int64" if dtype.is_integer() else ("text" if name == "user_data" else "varchar(1024)")
        assert table.column(name.upper()).type == expected, name
    # no index on the event store (its size grows with every event ever loaded); uniqueness of EVENT_ID comes
    # from the load's anti-join, tested by re-running input in test_cli
    assert table.primary_key == ()


def test_logical_types_are_portable() -> None:
    assert parse_logical_type("varchar(50)") == ("varchar", (50,))
    assert parse_logical_type("decimal(18, 3)") == ("decimal", (18, 3))
    for bad in ("uint64", "varchar", "varchar(5000)", "decimal(3,4)", "json", "timestamptz"):
        with pytest.raises(ValueError):
            parse_logical_type(bad)


# --- DuckDB -------------------------------------------------------------------------------------------------


def test_duckdb_ddl_creates_every_table_and_column() -> None:
    con = duckdb.connect()
    for stmt in duckdb_create_statements() * 2:  # twice: IF NOT EXISTS makes it idempotent
        con.execute(stmt)
    actual = {
        (t, c): (dtype, nullable == "YES")
        for t, c, dtype, nullable in con.execute(
            "SELECT table_name, column_name, data_type, is_nullable FROM information_schema.columns"
        ).fetchall()
    }
    expected = {}
    for table in SCHEMA.tables:
        for col in table.columns:
            base, params = parse_logical_type(col.type)
            dtype = f"DECIMAL({params[0]},{params[1]})" if base == "decimal" else DUCKDB_TYPES[base]
            expected[(table.name, col.name)] = (dtype, col.nullable)
    assert actual == expected
    pks = {
        t: tuple(cols)
        for t, cols in con.execute(
            "SELECT table_name, constraint_column_names FROM duckdb_constraints() WHERE constraint_type = 'PRIMARY KEY'"
        ).fetchall()
    }
    assert pks == {t.name: t.primary_key for t in SCHEMA.tables if t.primary_key}


def test_duckdb_column_order_matches_yaml() -> None:
    con = duckdb.connect()
    for stmt in duckdb_create_statements():
        con.execute(stmt)
    for table in SCHEMA.tables:
        cols = [r[0] for r in con.execute(f"SELECT * FROM {table.name} LIMIT 0").description]
        assert cols == table_columns(table.name)


# --- every dialect ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("dialect", DIALECTS)
def test_ddl_reparses_with_only_allowed_types(dialect: str) -> None:
    ddl = render_ddl(dialect)
    statements = sqlglot.parse(ddl, read=dialect)
    creates = [s for s in statements if isinstance(s, exp.Create)]
    assert len(creates) == len(SCHEMA.tables)
    fks = sum(len(t.foreign_keys) for t in SCHEMA.tables) if dialect != "duckdb" else 0
    assert len(statements) == len(creates) + fks
    assert all(isinstance(s, exp.Alter) for s in statements[len(creates) :])
    assert disallowed_types(ddl, dialect) == []


@pytest.mark.parametrize("dialect", DIALECTS)
def test_identifiers_are_gim_names(dialect: str) -> None:
    creates = [s for s in sqlglot.parse(render_ddl(dialect), read=dialect) if isinstance(s, exp.Create)]
    for stmt, table in zip(creates, SCHEMA.tables, strict=True):
        assert isinstance(stmt, exp.Create)
        schema = stmt.this
        assert schema.this.name == table.name
        defs = [c for c in schema.expressions if isinstance(c, exp.ColumnDef)]
        assert [c.name for c in defs] == table_columns(table.name)
        pk = [e for e in schema.expressions if isinstance(e, exp.PrimaryKey)]
        assert [i.name for p in pk for i in p.expressions] == list(table.primary_key)
        not_null = {c.name for c in defs if c.find(exp.NotNullColumnConstraint)}
        assert not_null == {c.name for c in table.columns if not c.nullable}
        for ident in stmt.find_all(exp.Identifier):
            assert re.fullmatch(r"[A-Z][A-Z0-9_]*", ident.name), ident.name
            assert ident.quoted == (ident.name in QUOTED.get(dialect, set())), (dialect, ident.name)


@pytest.mark.parametrize(
    ("dialect", "base", "bad", "emitted"),
    [
        ("postgres", "int64", "HUGEINT", "INT128"),  # sqlglot passes DuckDB's HUGEINT through as INT128
        ("postgres", "text", "STRUCT<a INT>", "STRUCT<a INT>"),
        ("oracle", "text", "TEXT", None),  # sqlglot maps it to CLOB: allowed, so this one must pass
        ("oracle", "timestamp", "DATETIME", "DATETIME"),  # Oracle has no DATETIME
        ("oracle", "varchar", "VARCHAR(MAX)", "VARCHAR2(MAX)"),
        ("tsql", "timestamp", "TIMESTAMP", "ROWVERSION"),  # T-SQL TIMESTAMP is a row version, not a time
        ("tsql", "text", "JSON", "JSON"),
        ("snowflake", "int64", "INT128", "INT128"),
        ("duckdb", "int64", "UBIGINT", "UBIGINT"),
    ],
)
def test_allow_list_catches_bad_type_map(dialect: str, base: str, bad: str, emitted: str | None) -> None:
    bad_map = {**TYPE_MAPS[dialect], base: bad}
    found = disallowed_types(render_ddl(dialect, type_map=bad_map), dialect)
    assert found == ([emitted] if emitted else [])


@pytest.mark.parametrize("dialect", DIALECTS)
def test_checked_in_ddl_is_fresh(dialect: str) -> None:
    path = generated_path(dialect)
    assert path.exists(), f"run `python -m etl.storage.ddl --write` to create {path}"
    assert path.read_text(encoding="utf-8") == render_ddl(dialect), f"stale {path}: run --write"


def test_a_mart_of_an_older_schema_gains_the_new_columns(tmp_path: Path) -> None:
    """A mart created before a column was added to schema/mart.yaml gets it (nullable) at the next load."""
    from etl.connections import connect
    from etl.storage.bootstrap import ensure_schema

    con = connect(tmp_path / "old.duckdb")
    ensure_schema(con)
    con.execute("ALTER TABLE CTL_AUDIT_LOG DROP COLUMN OPTIONS")
    con.execute("ALTER TABLE INTERACTION_FACT DROP COLUMN SUBJECT")
    ensure_schema(con)
    cols = {(t, c) for t, c in con.execute("SELECT table_name, column_name FROM duckdb_columns()").fetchall()}
    assert {("CTL_AUDIT_LOG", "OPTIONS"), ("INTERACTION_FACT", "SUBJECT")} <= cols
    con.close()


@pytest.mark.parametrize("dialect", [d for d in DIALECTS if d != "duckdb"])
def test_foreign_keys_reference_primary_keys(dialect: str) -> None:
    """Every declared reference is an ALTER TABLE ... FOREIGN KEY to the referenced table's primary key, with a
    constraint name Oracle accepts (30 characters at most); BI tools infer the joins from them."""
    alters = [s for s in sqlglot.parse(render_ddl(dialect), read=dialect) if isinstance(s, exp.Alter)]
    text = [a.sql(dialect=dialect) for a in alters]
    assert any("FOREIGN KEY (INTERACTION_RESOURCE_ID) REFERENCES INTERACTION_RESOURCE_FACT" in t for t in text)
    assert any("FOREIGN KEY (INTERACTION_DESCRIPTOR_KEY) REFERENCES INTERACTION_DESCRIPTOR" in t for t in text)
    for a in alters:
        name = a.find(exp.Constraint)
        assert name is not None and len(name.name) <= 30, a.sql()
    pks = {t.name: tuple(t.primary_key) for t in SCHEMA.tables}
    for t in SCHEMA.tables:
        for fk in t.foreign_keys:
            assert pks[fk.references] == fk.ref_columns


def test_a_foreign_key_must_reference_a_primary_key() -> None:
    from etl.storage.ddl import MartSchema

    doc = SCHEMA.model_dump()
    doc["tables"][1]["foreign_keys"] = [
        {"columns": ["RESOURCE_KEY"], "references": "RESOURCE_", "ref_columns": ["RESOURCE_NAME"]}
    ]
    with pytest.raises(ValueError, match="primary key"):
        MartSchema.model_validate(doc)


def test_serving_copy_declares_the_primary_keys(tmp_path: Path) -> None:
    """BI tools infer joins from declared keys (SQLAlchemy's get_pk_constraint, get_foreign_keys): the serving
    copy has the primary and the foreign keys."""
    from etl.domain.options import GimOptions
    from etl.pipeline.load import load_files
    from etl.storage.serving import publish

    db = tmp_path / "m.duckdb"
    load_files([Path(__file__).resolve().parents[1] / "fixtures" / "flows" / "direct_transfer"], db, GimOptions())
    served = publish(db)
    con = duckdb.connect(str(served), read_only=True)
    pks = dict(
        con.sql(
            "SELECT table_name, constraint_column_names FROM duckdb_constraints() WHERE constraint_type = 'PRIMARY KEY'"
        ).fetchall()
    )
    fks = con.sql(
        "SELECT table_name, constraint_column_names, referenced_table FROM duckdb_constraints()"
        " WHERE constraint_type = 'FOREIGN KEY'"
    ).fetchall()
    con.close()
    assert ("IRF_USER_DATA_KEYS", ["INTERACTION_RESOURCE_ID"], "INTERACTION_RESOURCE_FACT") in fks
    assert ("INTERACTION_RESOURCE_FACT", ["RESOURCE_KEY"], "RESOURCE_") in fks
    assert len(fks) == sum(len(t.foreign_keys) for t in SCHEMA.tables)
    assert pks["INTERACTION_RESOURCE_FACT"] == ["INTERACTION_RESOURCE_ID"]
    assert pks["IRF_USER_DATA_KEYS"] == ["INTERACTION_RESOURCE_ID"]
    assert pks["DATE_TIME"] == ["DATE_TIME_KEY"]
    assert {t.name for t in SCHEMA.tables if t.primary_key and t.kind not in ("staging", "internal")} <= set(pks)
