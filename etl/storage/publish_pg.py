"""Publish the mart into PostgreSQL: one schema per tenant, one transaction per run, incremental.

GIM itself deploys its Info Mart on PostgreSQL (among others); publishing there gives many concurrent BI readers
MVCC snapshots instead of the serving-copy swap. What a publish does, all inside ONE transaction (readers see the
previous run or this one, never half of it; a failure leaves the previous publish in place):

- tables from ``schema/mart.yaml`` rendered for PostgreSQL (:mod:`etl.storage.ddl`), created when missing, new
  columns added; references are checked set-based before commit (one anti-join per foreign key of a changed table)
  instead of as constraints, as in GIM's own PostgreSQL model, where a foreign key is "a surrogate key reference
  ..., not a formal constraint" (https://docs.genesys.com/Documentation/GIM/8.5.0/PDMPostgre/AboutThisPDM):
  a row-by-row constraint trigger cost 3x the whole COPY here;
- every table's fingerprint (row count + xor of DuckDB row hashes) is kept in ``gim_etl_publish_state``; a table
  whose fingerprint did not change is skipped;
- facts (tables with ``INTERACTION_ID``, or a fact's integer key): the groups (interactions) whose rows changed are
  found from per-group digests kept in ``gim_etl_publish_digest`` (compared per bucket of 64 ids first, so the
  traffic follows the change, not the table size), deleted by id and copied again (psycopg binary COPY);
- dimensions and other keyed tables: merged (``INSERT ... ON CONFLICT DO UPDATE`` of changed rows, keys gone from the
  mart deleted); tables without a key: replaced;
- the RAA-style views of ``schema/views/`` rendered for PostgreSQL (:mod:`etl.storage.pg_sql`), re-created when their
  text changed.
The first publish into an empty schema is a full copy. Concurrent publishers of one schema queue on an advisory lock.

GIM's own PostgreSQL edition: https://docs.genesys.com/Documentation/GIM/8.5.0/PDMPostgre/AboutThisPDM (same tables,
unquoted names that PostgreSQL folds to lower case).
"""

from __future__ import annotations

import hashlib
import re
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import polars as pl
import psycopg
from psycopg import sql as q

from etl.connections import connect
from etl.storage.ddl import Table, create_table, load_schema
from etl.storage.pg_schema import check_references, publish_views

#: What is published: reporting data; the raw event store and key map stay in DuckDB (serving.NOT_SERVED).
PUBLISHED_KINDS = ("fact", "dimension", "operations")
STATE_TABLE = "gim_etl_publish_state"
DIGEST_TABLE = "gim_etl_publish_digest"
#: Groups are compared per bucket of 2**BUCKET_BITS consecutive ids first: new and re-derived interactions
#: cluster at the recent end of the id range, so most buckets compare equal in one row.
BUCKET_BITS = 6
DEFAULT_SCHEMA = "gim"
_BATCH = 20_000
_MASK = 0x7FFFFFFFFFFFFFFF  # DuckDB hashes are UBIGINT; digests are stored as BIGINT


#: GIM's `default-schema` note for PostgreSQL: "use lower case for all schema names"
#: (https://enu.docs.genesys.com/Documentation/GIM/8.5.0/Dep/GIMDBPrivs); we accept plain lower-case names only.
SCHEMA_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")


class PublishTargetError(ValueError):
    """The PostgreSQL target cannot be used (bad DSN, server unreachable, authentication): one line to show."""


@dataclass
class TableResult:
    """What one table's publish did: ``mode`` is skipped | full | groups | merge | replace."""

    name: str
    mode: str
    rows_copied: int = 0
    groups_replaced: int = 0
    #: Which rows' references to check before commit: "" all, a JOIN restricting them (groups), None none.
    check: str | None = field(default="", repr=False)
    #: Whether a merge deleted keys (then every row referencing this table is checked).
    deleted: bool = field(default=False, repr=False)


@dataclass
class PublishResult:
    schema: str
    tables: list[TableResult] = field(default_factory=list)
    views: int = 0
    seconds: float = 0.0

    @property
    def rows_copied(self) -> int:
        return sum(t.rows_copied for t in self.tables)


def check_schema(schema: str) -> str:
    """`schema` if it is a plain lower-case PostgreSQL name, else PublishTargetError."""
    if not SCHEMA_NAME.fullmatch(schema):
        raise PublishTargetError(f"--pg-schema {schema!r}: use a lower-case name of letters, digits and _")
    return schema


def connect_target(dsn: str) -> psycopg.Connection:
    """A psycopg connection to `dsn`, or PublishTargetError with the server's or libpq's first line."""
    if not dsn.startswith(("postgresql://", "postgres://")):
        raise PublishTargetError(f"--publish {dsn!r}: expected a postgresql://USER@HOST:PORT/DB URL")
    try:
        return psycopg.connect(dsn, connect_timeout=10)
    except psycopg.Error as e:
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise PublishTargetError(f"PostgreSQL target {_redacted(dsn)}: {first}") from None


def _redacted(dsn: str) -> str:
    """The DSN without its password, for messages."""
    head, at, tail = dsn.rpartition("@")
    if not at or ":" not in head.split("//", 1)[-1]:
        return dsn
    scheme, _, user = head.partition("//")
    return f"{scheme}//{user.split(':', 1)[0]}:***@{tail}"


def published_tables(duck: duckdb.DuckDBPyConnection) -> list[Table]:
    """The schema's reporting tables that exist in the mart, in creation order."""
    have = {
        n for (n,) in duck.execute("SELECT table_name FROM duckdb_tables() WHERE database_name = 'mart'").fetchall()
    }
    return [t for t in load_schema().tables if t.kind in PUBLISHED_KINDS and t.name in have]


def group_column(table: Table) -> str | None:
    """The integer, non-null column facts are replaced by: INTERACTION_ID, else a fact's one-column key."""
    for name in (
        "INTERACTION_ID",
        *(table.primary_key if table.kind == "fact" and len(table.primary_key) == 1 else ()),
    ):
        try:
            col = table.column(name)
        except KeyError:
            continue
        if col.type == "int64" and not col.nullable and table.kind != "dimension":
            return name
    return None


def publish_postgres(mart_db: str | Path, dsn: str, schema: str = DEFAULT_SCHEMA) -> PublishResult:
    """Publish `mart_db` into PostgreSQL schema `schema` of `dsn` in one transaction (see the module docstring)."""
    check_schema(schema)
    started = time.perf_counter()
    duck = connect()
    try:
        duck.execute("ATTACH ? AS mart (READ_ONLY)", [str(mart_db)])
        with connect_target(dsn) as pg:
            result = _publish(duck, pg, schema)
    finally:
        duck.close()
    result.seconds = time.perf_counter() - started
    return result


def _publish(duck: duckdb.DuckDBPyConnection, pg: psycopg.Connection, schema: str) -> PublishResult:
    result = PublishResult(schema)
    tables = published_tables(duck)
    with pg.transaction():
        pg.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [f"gim-etl publish {schema}"])
        pg.execute(q.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(q.Identifier(schema)))
        pg.execute(q.SQL("SET LOCAL search_path TO {}").format(q.Identifier(schema)))
        _ensure_state(pg)
        everything = [t for t in load_schema().tables if t.kind in PUBLISHED_KINDS]  # the views read them all
        _ensure_tables(pg, everything)
        state = dict(pg.execute(f"SELECT table_name, fingerprint FROM {STATE_TABLE}").fetchall())
        for table in tables:
            fingerprint = _fingerprint(duck, table)
            if state.get(table.name) == fingerprint:
                result.tables.append(TableResult(table.name, "skipped"))
                continue
            result.tables.append(_publish_table(duck, pg, table, first=table.name not in state))
            pg.execute(
                f"INSERT INTO {STATE_TABLE} (table_name, fingerprint, published_at) VALUES (%s, %s, now())"
                " ON CONFLICT (table_name) DO UPDATE SET fingerprint = EXCLUDED.fingerprint, published_at = now()",
                [table.name, fingerprint],
            )
        check_references(pg, result.tables)
        result.views = publish_views(pg, state.get("<views>"), STATE_TABLE)
    return result


def _ensure_state(pg: psycopg.Connection) -> None:
    pg.execute(
        f"CREATE TABLE IF NOT EXISTS {STATE_TABLE} (table_name TEXT PRIMARY KEY, fingerprint TEXT NOT NULL,"
        " published_at TIMESTAMPTZ NOT NULL)"
    )
    pg.execute(
        f"CREATE TABLE IF NOT EXISTS {DIGEST_TABLE} (table_name TEXT NOT NULL, group_key BIGINT NOT NULL,"
        " digest BIGINT NOT NULL, row_count BIGINT NOT NULL, PRIMARY KEY (table_name, group_key))"
    )


def _pg_columns(pg: psycopg.Connection) -> dict[str, dict[str, int]]:
    """table -> column -> type oid, of the current schema (names as PostgreSQL folded them: lower case)."""
    rows = pg.execute(
        "SELECT c.relname, a.attname, a.atttypid FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid"
        " WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind = 'r' AND a.attnum > 0"
        " AND NOT a.attisdropped ORDER BY c.relname, a.attnum"
    ).fetchall()
    out: dict[str, dict[str, int]] = {}
    for table, column, oid in rows:
        out.setdefault(table, {})[column] = oid
    return out


def _ensure_tables(pg: psycopg.Connection, tables: Sequence[Table]) -> set[str]:
    """Create missing tables and add columns a newer schema/mart.yaml has; returns the tables created."""
    existing = _pg_columns(pg)
    created = set()
    for table in tables:
        have = existing.get(table.name.lower())
        if have is None:
            pg.execute(create_table(table, "postgres", if_not_exists=True).sql(dialect="postgres"))
            created.add(table.name)
            continue
        for col in table.columns:
            if col.name.lower() not in have:
                kind = create_table(table, "postgres").this.expressions[table.columns.index(col)].args["kind"]
                pg.execute(f"ALTER TABLE {table.name} ADD COLUMN {col.name} {kind.sql(dialect='postgres')}")
    return created


def _fingerprint(duck: duckdb.DuckDBPyConnection, table: Table) -> str:
    """Row count, xor of the row hashes and the column list: equal fingerprints mean equal tables."""
    cols = ", ".join(f'"{c.name}"' for c in table.columns)
    n, x = duck.execute(
        f'SELECT count(*), coalesce(bit_xor(hash(ROW({cols}))), 0) FROM mart."{table.name}"'
    ).fetchall()[0]
    return f"{n}:{x}:{hashlib.sha1(cols.encode()).hexdigest()[:12]}"


def _publish_table(duck: duckdb.DuckDBPyConnection, pg: psycopg.Connection, table: Table, first: bool) -> TableResult:
    group = group_column(table)
    if group is not None:
        return _publish_groups(duck, pg, table, group, first)
    if first or not table.primary_key:
        pg.execute(f"DELETE FROM {table.name}")
        return TableResult(table.name, "full" if first else "replace", _copy(duck, pg, table, table.name))
    return _merge(duck, pg, table)


def _copy(duck: duckdb.DuckDBPyConnection, pg: psycopg.Connection, table: Table, target: str, where: str = "") -> int:
    """Binary COPY of the mart table's rows (optionally filtered by `where`) into PostgreSQL table `target`."""
    cols = [c.name for c in table.columns]
    types = _pg_columns(pg)[target.lower()] if not target.startswith("_") else _temp_types(pg, target)
    oids = [types[c.lower()] for c in cols]
    quoted = ", ".join(f'"{c}"' for c in cols)
    cur = duck.execute(f'SELECT {quoted} FROM mart."{table.name}" t {where}')
    n = 0
    with pg.cursor().copy(f"COPY {target} ({', '.join(cols)}) FROM STDIN (FORMAT BINARY)") as copy:
        copy.set_types(oids)
        for rows in _batches(cur):
            for row in rows:
                copy.write_row(row)
            n += len(rows)
    return n


def _temp_types(pg: psycopg.Connection, target: str) -> dict[str, int]:
    rows = pg.execute(
        "SELECT a.attname, a.atttypid FROM pg_attribute a WHERE a.attrelid = %s::regclass AND a.attnum > 0",
        [target],
    ).fetchall()
    return dict(rows)


def _batches(cur: duckdb.DuckDBPyConnection) -> Iterator[list[tuple]]:
    while rows := cur.fetchmany(_BATCH):
        yield rows


def _merge(duck: duckdb.DuckDBPyConnection, pg: psycopg.Connection, table: Table) -> TableResult:
    """Upsert the changed rows of a keyed table and delete the keys the mart no longer has."""
    stage = f"_stage_{table.name.lower()}"
    pg.execute(f"CREATE TEMP TABLE {stage} (LIKE {table.name}) ON COMMIT DROP")
    n = _copy(duck, pg, table, stage)
    cols = [c.name for c in table.columns]
    key = ", ".join(table.primary_key)
    values = [c for c in cols if c not in table.primary_key]
    update = ", ".join(f"{c} = EXCLUDED.{c}" for c in values)
    differs = " OR ".join(f"t.{c} IS DISTINCT FROM EXCLUDED.{c}" for c in values)
    action = f"DO UPDATE SET {update} WHERE {differs}" if values else "DO NOTHING"
    pg.execute(
        f"INSERT INTO {table.name} AS t ({', '.join(cols)}) SELECT {', '.join(cols)} FROM {stage}"
        f" ON CONFLICT ({key}) {action}"
    )
    match = " AND ".join(f"s.{k} = t.{k}" for k in table.primary_key)
    gone = pg.execute(f"DELETE FROM {table.name} t WHERE NOT EXISTS (SELECT 1 FROM {stage} s WHERE {match})")
    pg.execute(f"DROP TABLE {stage}")
    return TableResult(table.name, "merge", n, deleted=gone.rowcount > 0)


def _publish_groups(
    duck: duckdb.DuckDBPyConnection, pg: psycopg.Connection, table: Table, group: str, first: bool
) -> TableResult:
    """Replace the groups (interactions) whose rows differ from what was published: delete by id, then COPY."""
    cols = ", ".join(f'"{c.name}"' for c in table.columns)
    duck.execute(
        f'CREATE OR REPLACE TEMP TABLE _digest AS SELECT "{group}" AS g,'
        f" CAST(bit_xor(hash(ROW({cols}))) & {_MASK} AS BIGINT) AS d, count(*) AS n"
        f' FROM mart."{table.name}" GROUP BY ALL'
    )
    if first:
        pg.execute(f"DELETE FROM {table.name}")
        pg.execute(f"DELETE FROM {DIGEST_TABLE} WHERE table_name = %s", [table.name])
        duck.execute("CREATE OR REPLACE TEMP TABLE _changed AS SELECT g FROM _digest")
        copied = _copy(duck, pg, table, table.name)
        _copy_digests(duck, pg, table.name)
        return TableResult(table.name, "full", copied, _count(duck, "_changed"))
    _changed_groups(duck, pg, table.name)
    changed = _count(duck, "_changed")
    if not changed:
        return TableResult(table.name, "groups", check=None)
    changed_pg = f"_changed_{table.name.lower()}"  # kept to the commit: the reference check reads it
    pg.execute(f"CREATE TEMP TABLE {changed_pg} (g BIGINT PRIMARY KEY) ON COMMIT DROP")
    with pg.cursor().copy(f"COPY {changed_pg} (g) FROM STDIN (FORMAT BINARY)") as copy:
        copy.set_types(["int8"])
        for rows in _batches(duck.execute("SELECT g FROM _changed")):
            for row in rows:
                copy.write_row(row)
    pg.execute(f"ANALYZE {changed_pg}")
    pg.execute(f"DELETE FROM {table.name} t USING {changed_pg} c WHERE t.{group} = c.g")
    pg.execute(
        f"DELETE FROM {DIGEST_TABLE} t USING {changed_pg} c WHERE t.table_name = %s AND t.group_key = c.g",
        [table.name],
    )
    copied = _copy(duck, pg, table, table.name, f'WHERE "{group}" IN (SELECT g FROM _changed)')
    _copy_digests(duck, pg, table.name)
    check = f"JOIN {changed_pg} g ON g.g = c.{group}"
    return TableResult(table.name, "groups", copied, changed, check=check)


def _count(duck: duckdb.DuckDBPyConnection, temp: str) -> int:
    return duck.execute(f"SELECT count(*) FROM {temp}").fetchall()[0][0]


def _copy_digests(duck: duckdb.DuckDBPyConnection, pg: psycopg.Connection, name: str) -> None:
    """The digests of the groups in `_changed` that the mart has (gone groups just lose theirs)."""
    cur = duck.execute("SELECT ?, g, d, n FROM _digest WHERE g IN (SELECT g FROM _changed)", [name])
    with pg.cursor().copy(
        f"COPY {DIGEST_TABLE} (table_name, group_key, digest, row_count) FROM STDIN (FORMAT BINARY)"
    ) as copy:
        copy.set_types(["text", "int8", "int8", "int8"])
        for rows in _batches(cur):
            for row in rows:
                copy.write_row(row)


def _changed_groups(duck: duckdb.DuckDBPyConnection, pg: psycopg.Connection, name: str) -> None:
    """`_changed` (DuckDB temp) := groups whose digest or row count differs from PostgreSQL's, or that exist on
    one side only; buckets are compared first so that only changed buckets' digests cross the wire."""
    shift = BUCKET_BITS
    theirs = pg.execute(
        f"SELECT group_key >> {shift}, bit_xor(digest), sum(row_count)::BIGINT FROM {DIGEST_TABLE}"
        " WHERE table_name = %s GROUP BY 1",
        [name],
    ).fetchall()
    duck.register("_pg_buckets", pl.DataFrame(theirs, schema=["b", "d", "n"], orient="row"))
    buckets = [
        b
        for (b,) in duck.execute(
            f"SELECT coalesce(m.b, p.b) FROM (SELECT g >> {shift} AS b, bit_xor(d) AS d, sum(n) AS n FROM _digest"
            " GROUP BY ALL) m FULL JOIN _pg_buckets p ON m.b = p.b WHERE m.d IS DISTINCT FROM p.d"
            " OR m.n IS DISTINCT FROM p.n"
        ).fetchall()
    ]
    duck.unregister("_pg_buckets")
    rows = (
        pg.execute(
            f"SELECT group_key, digest, row_count FROM {DIGEST_TABLE} WHERE table_name = %s"
            f" AND group_key >> {shift} = ANY(%s)",
            [name, buckets],
        ).fetchall()
        if buckets
        else []
    )
    duck.register("_pg_groups", pl.DataFrame(rows, schema={"g": pl.Int64, "d": pl.Int64, "n": pl.Int64}, orient="row"))
    duck.register("_buckets", pl.DataFrame({"b": buckets}, schema={"b": pl.Int64}))
    duck.execute(
        "CREATE OR REPLACE TEMP TABLE _changed AS SELECT coalesce(m.g, p.g) AS g"
        f" FROM (SELECT * FROM _digest WHERE g >> {shift} IN (SELECT b FROM _buckets)) m"
        " FULL JOIN _pg_groups p ON m.g = p.g WHERE m.d IS DISTINCT FROM p.d OR m.n IS DISTINCT FROM p.n"
    )
    duck.unregister("_pg_groups")
    duck.unregister("_buckets")
