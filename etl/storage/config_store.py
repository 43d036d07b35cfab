"""STG_CFG_OBJECTS, the store of every accepted configuration version (../shared/contract/config.md), from which
each load rebuilds the configuration dimensions. Appending is idempotent on CFG_KEY (an identical line is a
counted duplicate); a different version of an object at an instant the store already holds is quarantined."""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import polars as pl

from etl.domain.config import Version
from etl.ingest.models import load_json
from etl.storage import event_store
from etl.storage.writes import registered


@dataclass
class ConfigCounts:
    """The CFG_* counts of a run's CTL_AUDIT_LOG row. Invariant: read == loaded + duplicate + quarantined."""

    files_read: int = 0
    read: int = 0
    loaded: int = 0
    duplicate: int = 0
    quarantined: int = 0


def append_versions(
    con: duckdb.DuckDBPyConnection, staged: pl.DataFrame, ingest_rejects: pl.DataFrame, run_id: str
) -> tuple[int, int]:
    """Append staged versions (CFG_SCHEMA) not stored yet; quarantine `ingest_rejects` and the versions that
    conflict with a stored one. Returns (inserted, duplicates of stored versions)."""
    with registered(con, _cfg=staged):
        known = con.sql("SELECT cfg_key FROM _cfg WHERE cfg_key IN (SELECT CFG_KEY FROM STG_CFG_OBJECTS)").pl()
        conflicts = con.sql(
            "SELECT c.* FROM _cfg c JOIN STG_CFG_OBJECTS s ON s.TENANT = c.tenant AND s.OBJECT = c.object"
            " AND s.ID = c.id AND s.TS_MS = c.ts_ms AND s.CFG_KEY <> c.cfg_key"
        ).pl()
    fresh = staged.filter(~pl.col("cfg_key").is_in(known["cfg_key"]) & ~pl.col("cfg_key").is_in(conflicts["cfg_key"]))
    if fresh.height:
        with registered(con, _new=fresh):
            con.execute(
                "INSERT INTO STG_CFG_OBJECTS (CFG_KEY, TENANT, OBJECT, ID, TS_MS, OP, PAYLOAD, SOURCE_FILE,"
                " SOURCE_LINE, RUN_ID) SELECT cfg_key, tenant, object, id, ts_ms, op, payload, source_file,"
                " source_line, ? FROM _new",
                [run_id],
            )
    rows = conflicts.select(
        SOURCE_FILE="source_file",
        SOURCE_LINE="source_line",
        FIELD=pl.lit("ts"),
        RAW="payload",
        REASON=pl.format(
            "configuration: a different version of {} '{}' at the same ts is already stored", "object", "id"
        ),
        EVENT_ID=pl.lit(None, pl.String),
    )
    event_store.quarantine(con, pl.concat([ingest_rejects.drop("RUN_ID"), rows], how="vertical_relaxed"), run_id)
    return fresh.height, known.height


def has_versions(con: duckdb.DuckDBPyConnection) -> bool:
    return bool(con.execute("SELECT count(*) FROM (SELECT 1 FROM STG_CFG_OBJECTS LIMIT 1)").fetchall()[0][0])


def read_versions(con: duckdb.DuckDBPyConnection) -> list[Version]:
    """Every stored version, in (object, id, ts) order, times in seconds."""
    rows = con.execute(
        "SELECT TENANT, OBJECT, ID, TS_MS, OP, PAYLOAD FROM STG_CFG_OBJECTS ORDER BY TENANT, OBJECT, ID, TS_MS"
    ).fetchall()
    return [Version(t, o, i, ts // 1000, op, load_json(p) if p else {}) for t, o, i, ts, op, p in rows]
