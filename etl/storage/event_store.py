"""STG_EVENTS, the store of every accepted event, from which interactions are re-derived; and the quarantine.

Appending is idempotent on event_id (a repeated delivery is a counted duplicate), set-based in DuckDB, so a batch
may be bigger than memory. The interactions a load must re-derive are collected in the temp table `_touched`
(i = INTERACTION_ID, n = stored events) and read back in slices.
"""

from __future__ import annotations

from datetime import UTC, datetime

import duckdb
import polars as pl

from etl.ingest.columns import EVENT_COLUMNS
from etl.storage.writes import insert_rows, run_with

_STORED = ", ".join(f"{c.upper()} AS {c}" for c in EVENT_COLUMNS)


def append_events(con: duckdb.DuckDBPyConnection, batch_sql: str, run_id: str) -> tuple[int, int]:
    """Append the events of `batch_sql` (a query, each event_id at most once) whose event_id is not stored yet.
    Returns (rows in the batch, rows inserted)."""
    con.execute(f"CREATE OR REPLACE TEMP VIEW _batch AS {batch_sql}")
    try:
        batch_rows = con.execute("SELECT count(*) FROM _batch").fetchall()[0][0]
        stg_cols = ", ".join(c.upper() for c in EVENT_COLUMNS)
        inserted = con.execute(
            f"INSERT INTO STG_EVENTS ({stg_cols}, RUN_ID) SELECT {', '.join(EVENT_COLUMNS)}, ? FROM _batch"
            " WHERE event_id NOT IN (SELECT EVENT_ID FROM STG_EVENTS)",
            [run_id],
        ).fetchall()[0][0]
    finally:
        con.execute("DROP VIEW _batch")
    return batch_rows, inserted


def touch_run(con: duckdb.DuckDBPyConnection, run_id: str) -> None:
    """`_touched` := every interaction with an event stored by `run_id`."""
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _touched AS SELECT INTERACTION_ID AS i, count(*) AS n FROM STG_EVENTS"
        " WHERE INTERACTION_ID IN (SELECT INTERACTION_ID FROM STG_EVENTS WHERE RUN_ID = ?) GROUP BY ALL",
        [run_id],
    )


def touch_window(con: duckdb.DuckDBPyConnection, start_ms: int, end_ms: int) -> None:
    """`_touched` := every interaction with an event in [start_ms, end_ms)."""
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _touched AS SELECT INTERACTION_ID AS i, count(*) AS n FROM STG_EVENTS"
        " WHERE INTERACTION_ID IN (SELECT INTERACTION_ID FROM STG_EVENTS WHERE TS_MS >= ? AND TS_MS < ?)"
        " GROUP BY ALL",
        [start_ms, end_ms],
    )


def touched_events(con: duckdb.DuckDBPyConnection) -> int:
    return con.execute("SELECT coalesce(sum(n), 0) FROM _touched").fetchall()[0][0]


def untouch(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("DROP TABLE _touched")


def read_slice(con: duckdb.DuckDBPyConnection, part: int, slices: int) -> pl.DataFrame:
    """The stored events of the touched interactions in slice `part` of `slices` (cut by a hash of the id)."""
    return con.sql(
        f"SELECT {_STORED}, RUN_ID AS run_id FROM STG_EVENTS WHERE INTERACTION_ID IN"
        " (SELECT i FROM _touched WHERE hash(i) % ? = ?)",
        params=[slices, part],
    ).pl()


def newest_event_ms(con: duckdb.DuckDBPyConnection) -> int:
    return con.execute("SELECT max(TS_MS) FROM STG_EVENTS").fetchall()[0][0] or 0


def remove_events(con: duckdb.DuckDBPyConnection, event_ids: pl.Series) -> None:
    run_with(
        con,
        "DELETE FROM STG_EVENTS WHERE EVENT_ID IN (SELECT event_id FROM _rej)",
        _rej=pl.DataFrame({"event_id": event_ids}),
    )


def quarantine(con: duckdb.DuckDBPyConnection, rows: pl.DataFrame, run_id: str) -> None:
    """STG_EVENT_QUARANTINE rows (SOURCE_FILE, SOURCE_LINE, FIELD, RAW, REASON, EVENT_ID) of `run_id`."""
    rows = rows.with_columns(RUN_ID=pl.lit(run_id), QUARANTINED_AT=pl.lit(datetime.now(UTC).replace(tzinfo=None)))
    insert_rows(con, "STG_EVENT_QUARANTINE", rows)
