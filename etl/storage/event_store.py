"""STG_EVENTS, the store of every accepted event, from which interactions are re-derived; and the quarantine.

Appending is idempotent on event_id (a repeated delivery is a counted duplicate), set-based in DuckDB, so a batch
may be bigger than memory. The interactions a load must re-derive are collected in the temp table `_touched`
(i = INTERACTION_ID, n = stored events) and read back in slices.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import duckdb
import polars as pl

from etl.ingest.columns import EVENT_COLUMNS
from etl.ingest.files import input_path, read_lines
from etl.ingest.repeats import payload_struct, raw_json
from etl.storage.writes import registered

_STORED = ", ".join(f"{c.upper()} AS {c}" for c in EVENT_COLUMNS)


@dataclass
class Appended:
    """What `append_events` did with a batch: rows in it, rows inserted, stored ids repeated with the same
    payload (duplicates), and the rows it quarantined (other payload than the stored event: conflicts; dated too
    far ahead of the loader's clock: future)."""

    batch_rows: int
    inserted: int
    duplicates: int
    conflicts: int
    future: int


def append_events(
    con: duckdb.DuckDBPyConnection, batch_sql: str, batch_params: dict[str, str], run_id: str, future_after_ms: int
) -> Appended:
    """Append the events of `batch_sql` (a FROM item with named parameters `batch_params`, each event_id at most
    once) whose event_id is not stored yet.

    An event dated after `future_after_ms` (the loader's clock plus the allowed skew) is quarantined, so a
    clock far ahead can never make other events look late; a stored event_id with another payload is a
    conflict, quarantined with both locations (the stored copy stays: it was loaded before the conflict was
    known)."""
    params = {**batch_params, "limit": future_after_ms}
    batch = f"{batch_sql} b"
    batch_rows = con.execute(f"SELECT count(*) FROM {batch}", batch_params).fetchall()[0][0]
    future = _quarantine_select(
        con,
        f"SELECT source_file, source_line, 'ts', {raw_json('b')}::VARCHAR,"
        " 'event dated ' || strftime(make_timestamp(b.ts_ms * 1000), '%Y-%m-%dT%H:%M:%S.%gZ') ||"
        " ' is further ahead of the loader''s clock than GIM_ETL_MAX_CLOCK_SKEW_HOURS allows', b.event_id"
        f" FROM {batch} WHERE b.ts_ms > $limit",
        params,
        run_id,
    )
    conflicts = _quarantine_select(
        con,
        f"SELECT b.source_file, b.source_line, 'event_id', {raw_json('b')}::VARCHAR,"
        " 'conflicting event_id: the same id with a different payload is stored from ' || s.SOURCE_FILE || ':'"
        " || s.SOURCE_LINE || ' (that copy was loaded by an earlier run; this one is not)', b.event_id"
        f" FROM {batch} JOIN STG_EVENTS s ON s.EVENT_ID = b.event_id WHERE b.ts_ms <= $limit AND"
        f" {payload_struct('b')} IS DISTINCT FROM {payload_struct('s', upper=True)}",
        params,
        run_id,
    )
    stg_cols = ", ".join(c.upper() for c in EVENT_COLUMNS)
    inserted = con.execute(
        f"INSERT INTO STG_EVENTS ({stg_cols}, RUN_ID) SELECT {', '.join('b.' + c for c in EVENT_COLUMNS)}, $run"
        f" FROM {batch} WHERE b.ts_ms <= $limit AND b.event_id NOT IN (SELECT EVENT_ID FROM STG_EVENTS)",
        {**params, "run": run_id},
    ).fetchall()[0][0]
    duplicates = batch_rows - inserted - conflicts - future
    return Appended(batch_rows, inserted, duplicates, conflicts, future)


def _quarantine_select(con: duckdb.DuckDBPyConnection, select: str, params: dict, run_id: str) -> int:
    """Quarantine the rows of `select` (SOURCE_FILE, SOURCE_LINE, FIELD, RAW, REASON, EVENT_ID); returns how
    many rows it selected (rows already quarantined by an earlier run of the same input are not added again)."""
    con.execute(f"CREATE OR REPLACE TEMP TABLE _q AS {select}", params)
    try:
        n = con.execute("SELECT count(*) FROM _q").fetchall()[0][0]
        if n:
            _insert_new_quarantine(con, "SELECT * FROM _q", [], run_id)
    finally:
        con.execute("DROP TABLE _q")
    return n


_QUARANTINE_KEY = "(SOURCE_FILE, SOURCE_LINE, REASON, coalesce(RAW, ''))"


def _insert_new_quarantine(con: duckdb.DuckDBPyConnection, select: str, params: list, run_id: str) -> None:
    """Insert quarantine rows (SOURCE_FILE, SOURCE_LINE, FIELD, RAW, REASON, EVENT_ID in this order) that are not
    in STG_EVENT_QUARANTINE yet: re-running the same input never appends the same rows again."""
    con.execute(
        "INSERT INTO STG_EVENT_QUARANTINE (SOURCE_FILE, SOURCE_LINE, FIELD, RAW, REASON, EVENT_ID, RUN_ID,"
        f" QUARANTINED_AT) SELECT DISTINCT ON {_QUARANTINE_KEY} q.*, ?, ? FROM ({select})"
        " q(SOURCE_FILE, SOURCE_LINE, FIELD, RAW, REASON, EVENT_ID)"
        f" WHERE {_QUARANTINE_KEY} NOT IN (SELECT {_QUARANTINE_KEY} FROM STG_EVENT_QUARANTINE)",
        [run_id, datetime.now(UTC).replace(tzinfo=None), *params],
    )


def newest_event_ms(con: duckdb.DuckDBPyConnection) -> int:
    """The newest stored event time: the agent-state rules' "now" for capping open rows (deterministic on a
    re-run; events beyond the loader's clock skew never reach STG_EVENTS)."""
    return con.execute("SELECT max(TS_MS) FROM STG_EVENTS").fetchall()[0][0] or 0


def quarantine_file(con: duckdb.DuckDBPyConnection, path: str, run_id: str) -> None:
    """Quarantine the rows of a staged quarantine Parquet file, streamed by DuckDB (never all in memory)."""
    _insert_new_quarantine(
        con, "SELECT SOURCE_FILE, SOURCE_LINE, FIELD, RAW, REASON, EVENT_ID FROM read_parquet(?)", [path], run_id
    )


def quarantine(con: duckdb.DuckDBPyConnection, rows: pl.DataFrame, run_id: str) -> None:
    """STG_EVENT_QUARANTINE rows (SOURCE_FILE, SOURCE_LINE, FIELD, RAW, REASON, EVENT_ID) of `run_id`, from a
    small frame (configuration and agent-state rejections); the same rows are never appended twice."""
    if rows.height == 0:
        return
    cols = ("SOURCE_FILE", "SOURCE_LINE", "FIELD", "RAW", "REASON", "EVENT_ID")
    with registered(con, _qrows=rows.select(cols)):
        _insert_new_quarantine(con, f"SELECT {', '.join(cols)} FROM _qrows", [], run_id)


def quarantine_stored(con: duckdb.DuckDBPyConnection, rejected: pl.DataFrame, run_id: str) -> None:
    """Move stored events the rules rejected (`event_id`, `field`, `reason`) to the quarantine, with their
    location and their raw text: the line as read from its file while the file is there, else the event as
    stored (its normalized JSON); then out of STG_EVENTS."""
    with registered(con, _rej=rejected.select("event_id", "field", "reason")):
        found = con.sql(
            f"SELECT s.SOURCE_FILE, s.SOURCE_LINE, r.field, {raw_json('s', upper=True)}::VARCHAR AS RAW, r.reason,"
            " s.EVENT_ID FROM STG_EVENTS s JOIN _rej r ON r.event_id = s.EVENT_ID"
        ).pl()
        con.execute("DELETE FROM STG_EVENTS WHERE EVENT_ID IN (SELECT event_id FROM _rej)")
    found = found.with_columns(RAW=_source_text(found))
    with registered(con, _found=found):
        _insert_new_quarantine(con, "SELECT * FROM _found", [], run_id)


def _source_text(found: pl.DataFrame) -> pl.Series:
    """The lines as read from their files where they still hold the same event, else the stored text."""
    raw = dict(zip(zip(found["SOURCE_FILE"], found["SOURCE_LINE"], strict=True), found["RAW"], strict=True))
    for name, group in found.group_by("SOURCE_FILE"):
        lines = read_lines(input_path(str(name[0])), set(group["SOURCE_LINE"]))
        for line_no, event_id in zip(group["SOURCE_LINE"], group["EVENT_ID"], strict=True):
            text = lines.get(line_no)
            if text is not None and f'"{event_id}"' in text:  # (the file may have been rewritten since)
                raw[(name[0], line_no)] = text
    return pl.Series("RAW", [raw[k] for k in zip(found["SOURCE_FILE"], found["SOURCE_LINE"], strict=True)], pl.String)


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


#: Events that are not part of an interaction's history (they never wait for a submission).
_NOT_HISTORY = (
    "('EventPropertiesChanged', 'EventAgentLogin', 'EventAgentLogout', 'EventNotReadyForMedia', 'EventReadyForMedia')"
)


def arrivals_ms(con: duckdb.DuckDBPyConnection, run_id: str, started_ms: int) -> dict[str, int]:
    """When each run stored its events, on the loader's clock (CTL_AUDIT_LOG.START_TIME; `run_id`, the run now
    loading, started at `started_ms`)."""
    rows = con.execute("SELECT RUN_ID, epoch_ms(START_TIME) FROM CTL_AUDIT_LOG").fetchall()
    return {**{r: int(t) for r, t in rows}, run_id: started_ms}


def touch_waiting(con: duckdb.DuckDBPyConnection, arrived_before_ms: int) -> None:
    """Add to `_touched` every stored interaction still without a submission whose newest event arrived (loader's
    clock) before `arrived_before_ms`: its window has passed, whichever run notices."""
    con.execute(
        "INSERT INTO _touched SELECT s.INTERACTION_ID, count(*) FROM STG_EVENTS s"
        " LEFT JOIN CTL_AUDIT_LOG a ON a.RUN_ID = s.RUN_ID"
        " WHERE s.INTERACTION_ID NOT IN (SELECT i FROM _touched) GROUP BY ALL"
        " HAVING NOT bool_or(s.EVENT = 'EventInteractionSubmitted')"
        f" AND bool_or(s.EVENT NOT IN {_NOT_HISTORY})"
        " AND max(coalesce(epoch_ms(a.START_TIME), 9223372036854775807)) < ?",
        [arrived_before_ms],
    )


@dataclass
class Replaced:
    """What `replace_snapshots` did: interactions whose stored snapshot a newer one replaced, events deleted."""

    interactions: int = 0
    events: int = 0


def replace_snapshots(
    con: duckdb.DuckDBPyConnection, batch_sql: str, batch_params: dict[str, str], prefix: str = "gc:"
) -> Replaced:
    """A source that re-sends whole records (Genesys Cloud detail jobs return a conversation again while it is
    active) replaces what it sent before: for every interaction of the batch whose events (ids starting with
    `prefix`) differ from the stored ones, and whose newest event is not older than the stored newest, delete the
    stored events; the append then stores the new snapshot and the load re-derives the interaction. The same
    snapshot again is left alone: its events are counted duplicates."""
    digest = f"bit_xor(hash(event_id, {payload_struct()}))"
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _snap AS WITH"
        f" b AS (SELECT interaction_id AS i, count(*) AS n, {digest} AS h, max(ts_ms) AS t FROM {batch_sql} x"
        "   WHERE starts_with(event_id, $prefix) GROUP BY ALL),"
        " s AS (SELECT interaction_id AS i, count(*) AS n,"
        f"   {digest} AS h, max(ts_ms) AS t FROM (SELECT {_STORED} FROM STG_EVENTS"
        "   WHERE starts_with(EVENT_ID, $prefix) AND INTERACTION_ID IN (SELECT i FROM b)) GROUP BY ALL)"
        " SELECT b.i FROM b JOIN s USING (i) WHERE (b.n <> s.n OR b.h <> s.h) AND b.t >= s.t",
        {**batch_params, "prefix": prefix},
    )
    try:
        interactions = con.execute("SELECT count(*) FROM _snap").fetchall()[0][0]
        deleted = 0
        if interactions:
            deleted = con.execute(
                "DELETE FROM STG_EVENTS WHERE starts_with(EVENT_ID, ?) AND INTERACTION_ID IN (SELECT i FROM _snap)",
                [prefix],
            ).fetchall()[0][0]
    finally:
        con.execute("DROP TABLE _snap")
    return Replaced(interactions, deleted)
