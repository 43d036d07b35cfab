"""The schema-level parts of a PostgreSQL publish (etl.storage.publish_pg): the reference check before commit and
the RAA-style views rendered for PostgreSQL."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Protocol

import psycopg

from etl.storage.ddl import load_schema
from etl.storage.pg_sql import duckdb_to_postgres
from etl.storage.views import view_files


class PublishReferenceError(ValueError):
    """A published row references a dimension row that is not there (the publish is rolled back)."""


class TableResult(Protocol):
    """What check_references reads of a table's publish (publish_pg.TableResult)."""

    name: str
    mode: str
    check: str | None
    deleted: bool


def check_references(pg: psycopg.Connection, results: Sequence[TableResult]) -> None:
    """The references of the rows written by this publish resolve, and so do all references to a table that lost
    keys; else PublishReferenceError and the transaction rolls back (the DuckDB mart's blocking
    `references_resolve` check makes this a last guard, so it must cost little: written rows only)."""
    by_name = {r.name: r for r in results}
    keys: dict[str, set[str]] = {}
    for table in load_schema().tables:
        for fk in table.foreign_keys:
            keys.setdefault(table.name, set()).update(fk.columns)
            keys.setdefault(fk.references, set()).update(fk.ref_columns)
    for name in sorted({r.name for r in results if r.mode == "full"} & set(keys)):
        # a table filled in this transaction has no statistics yet; its key columns' are enough (all: 10x slower)
        pg.execute(f"ANALYZE {name} ({', '.join(sorted(keys[name]))})")
    for table in load_schema().tables:
        for fk in table.foreign_keys:
            mine, parent = by_name.get(table.name), by_name.get(fk.references)
            if mine is None or parent is None:
                continue
            if parent.deleted:  # the parent lost keys: every row that references it
                scope: str | None = ""
            elif mine.mode == "skipped":
                continue
            else:
                scope = mine.check
            if scope is None:
                continue
            match = " AND ".join(f"p.{r} = c.{k}" for k, r in zip(fk.columns, fk.ref_columns, strict=True))
            present = " AND ".join(f"c.{k} IS NOT NULL" for k in fk.columns)
            row = pg.execute(
                f"SELECT {', '.join(f'c.{k}' for k in fk.columns)} FROM {table.name} c {scope} WHERE {present}"
                f" AND NOT EXISTS (SELECT 1 FROM {fk.references} p WHERE {match}) LIMIT 1"
            ).fetchone()
            if row is not None:
                raise PublishReferenceError(
                    f"{table.name}.{', '.join(fk.columns)} = {row} has no row in {fk.references}: nothing published"
                )


def view_statements() -> list[tuple[str, str]]:
    """(view name, PostgreSQL CREATE VIEW) for every view of schema/views, in creation order."""
    out = []
    for path in view_files():
        sql = duckdb_to_postgres(path.read_text(encoding="utf-8")).replace("CREATE OR REPLACE VIEW", "CREATE VIEW", 1)
        out.append((path.stem.split("_", 1)[1], sql))
    return out


def publish_views(pg: psycopg.Connection, previous: str | None, state_table: str) -> int:
    """(Re-)create the views when their rendered text changed since the last publish; returns how many exist."""
    views = view_statements()
    fingerprint = hashlib.sha1("\n".join(s for _, s in views).encode()).hexdigest()
    if fingerprint == previous:
        return len(views)
    for name, _ in reversed(views):
        pg.execute(f"DROP VIEW IF EXISTS {name} CASCADE")
    for _, statement in views:
        pg.execute(statement)
    pg.execute(
        f"INSERT INTO {state_table} (table_name, fingerprint, published_at) VALUES ('<views>', %s, now())"
        " ON CONFLICT (table_name) DO UPDATE SET fingerprint = EXCLUDED.fingerprint, published_at = now()",
        [fingerprint],
    )
    return len(views)
