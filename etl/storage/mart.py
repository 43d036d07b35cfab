"""The DuckDB mart: schema, stable surrogate keys and the one-transaction load of a run.

DuckDB allows one writer per file, so everything a run writes happens here, on one connection, inside one
transaction: accepted events are appended to STG_EVENTS (idempotent on event_id), the interactions they touch
are re-derived from all their stored events, and their facts are replaced under the same surrogate ids
(CTL_KEY_MAP), which completes facts that were active. A crash before COMMIT leaves the file as it was.
"""

from __future__ import annotations

import json
import logging
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import polars as pl

from etl.bi.views import create_views
from etl.domain.descriptors import CATALOGUE, code
from etl.domain.options import GimOptions
from etl.ingest.columns import EVENT_COLUMNS
from etl.settings import duckdb_memory_limit, runtime
from etl.storage.ddl import duckdb_create_statements, table_columns
from etl.transform.facts import FactFrames

#: GIM earmarks a tentative end for active facts with one far-future DATE_TIME row so that queries need no
#: null test (https://docs.genesys.com/Documentation/GIM/latest/PDMPostgre/Table-DATE_TIME). GIM's row is
#: dated 2025, which is no longer the future; ours is 2099-12-31 00:00 UTC.
ACTIVE_END_TS = 4102358400

Derive = Callable[[pl.DataFrame, GimOptions], FactFrames]

log = logging.getLogger(__name__)


@contextmanager
def _step(what: str) -> Iterator[None]:
    """Log how long a step of the load took (shown in Dagster's run log: dagster.yaml manages `etl` loggers)."""
    t0 = time.perf_counter()
    yield
    log.info("%s: %.1f s", what, time.perf_counter() - t0)


FACT_TABLES = ("INTERACTION_FACT", "INTERACTION_RESOURCE_FACT", "MEDIATION_SEGMENT_FACT")


@dataclass
class LoadResult:
    run_id: str
    events_loaded: int = 0
    events_duplicate: int = 0
    events_quarantined: int = 0
    interactions_rederived: int = 0
    rows: dict[str, int] = field(default_factory=dict)
    audit_key: int = 0


def connect(path: str | Path, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(path), read_only=read_only)
    con.sql("SET enable_progress_bar = false")
    con.sql(f"SET memory_limit = '{duckdb_memory_limit()}'")  # beyond it DuckDB spills; the default is 80% of RAM
    if not read_only:  # the load relies on no row order; keeping it costs memory in big inserts
        con.sql("SET preserve_insertion_order = false")
    return con


def ensure_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Create missing tables and the pre-populated rows GIM ships (descriptors, tenant, active sentinel)."""
    for stmt in duckdb_create_statements():
        con.sql(stmt)
    rows = [
        (
            key,
            d.role.value,
            code(d.role.value),
            d.role_reason,
            code(d.role_reason),
            d.result.value,
            code(d.result.value),
            d.result_reason.value,
            code(d.result_reason.value),
        )
        for key, d in enumerate(CATALOGUE, start=1)
    ]
    con.executemany(
        "INSERT INTO TECHNICAL_DESCRIPTOR (TECHNICAL_DESCRIPTOR_KEY, RESOURCE_ROLE, RESOURCE_ROLE_CODE, ROLE_REASON,"
        " ROLE_REASON_CODE, TECHNICAL_RESULT, TECHNICAL_RESULT_CODE, RESULT_REASON, RESULT_REASON_CODE,"
        " CREATE_AUDIT_KEY, UPDATE_AUDIT_KEY) SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?, -1, -1"
        " WHERE NOT EXISTS (SELECT 1 FROM TECHNICAL_DESCRIPTOR WHERE TECHNICAL_DESCRIPTOR_KEY = ?)",
        [(*r, r[0]) for r in rows],
    )
    # GIM's "no value" resource: LAST_VQUEUE_RESOURCE_KEY and friends point here instead of being null.
    con.sql(
        "INSERT INTO RESOURCE_ (RESOURCE_KEY, TENANT_KEY, RESOURCE_NAME, RESOURCE_TYPE, RESOURCE_TYPE_CODE,"
        " RESOURCE_SUBTYPE, CREATE_AUDIT_KEY, UPDATE_AUDIT_KEY) SELECT -1, -1, 'NONE', 'NONE', 'NONE', 'NONE', -1, -1"
        " WHERE NOT EXISTS (SELECT 1 FROM RESOURCE_ WHERE RESOURCE_KEY = -1)"
    )
    _insert_date_times(con, [ACTIVE_END_TS])
    create_views(con)  # RAA-style aggregates (schema/views/*.sql), editable SQL


def _insert_date_times(con: duckdb.DuckDBPyConnection, keys: list[int]) -> None:
    if not keys:
        return
    con.register("_dt_keys", pl.DataFrame({"k": keys}, schema={"k": pl.Int64}))
    con.sql(
        """
        INSERT INTO DATE_TIME
        SELECT k, t, strftime(t, '%Y'), strftime(t, '%Y-%m'), strftime(t, '%Y-%m-%d'), strftime(t, '%Y-%m-%d %H'),
               strftime(t, '%Y-%m-%d %H:%M'), year(t), month(t), day(t), hour(t), minute(t)
        FROM (SELECT DISTINCT k, make_timestamp(k * 1000000) AS t FROM _dt_keys) n
        WHERE NOT EXISTS (SELECT 1 FROM DATE_TIME d WHERE d.DATE_TIME_KEY = n.k)
        """
    )
    con.unregister("_dt_keys")


def _allocate(con: duckdb.DuckDBPyConnection, kind: str, natural_keys: pl.Series) -> pl.DataFrame:
    """Stable surrogate ids: a natural key keeps the id it got the first time it was seen; new keys get the
    next ids of their kind, in key order. Only the candidate keys are probed, so a slice's cost does not grow
    with the whole map."""
    con.register("_nk", pl.DataFrame({"nk": natural_keys.unique().drop_nulls()}))
    known = con.sql(
        "SELECT _nk.nk, m.ID AS id FROM _nk LEFT JOIN CTL_KEY_MAP m ON m.KIND = ? AND m.NATURAL_KEY = _nk.nk",
        params=[kind],
    ).pl()
    con.unregister("_nk")
    new = known.filter(pl.col("id").is_null()).sort("nk")
    if new.height:
        first = _next_id(con, kind)
        new = new.with_columns(id=pl.int_range(first, first + new.height, dtype=pl.Int64))
        con.register("_new", new.with_columns(kind=pl.lit(kind)))
        con.sql("INSERT INTO CTL_KEY_MAP (KIND, NATURAL_KEY, ID) SELECT kind, nk, id FROM _new")
        con.unregister("_new")
    return pl.concat([known.filter(pl.col("id").is_not_null()), new], how="vertical_relaxed")


def _next_id(con: duckdb.DuckDBPyConnection, kind: str) -> int:
    """The id the next new natural key of `kind` will get."""
    return con.execute("SELECT coalesce(max(ID), 0) + 1 FROM CTL_KEY_MAP WHERE KIND = ?", [kind]).fetchall()[0][0]


def _keyed(con: duckdb.DuckDBPyConnection, frame: pl.DataFrame, column: str, kind: str, out: str) -> pl.DataFrame:
    ids = _allocate(con, kind, frame[column])
    return frame.join(ids.rename({"nk": column, "id": out}), on=column, how="left")


def _dt_key(col: str) -> pl.Expr:
    return (pl.col(col) // 900 * 900).cast(pl.Int64)


class _FactStage:
    """Fact rows of every slice, staged as Parquet and inserted once per table when the slices are done.

    DuckDB writes a bulk insert of many rows straight to the database file, while the many small inserts of
    slice-wise loading would stay in transaction memory until COMMIT (about 1 GB at 10 M events)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.tables: list[str] = []

    def replace(self, con: duckdb.DuckDBPyConnection, table: str, frame: pl.DataFrame, ixn_ids: pl.Series) -> None:
        """Delete the rows of the re-derived interactions now and stage their new rows; ids are stable, so this
        is an in-place update. `ixn_ids`: those that may have rows already (seen by earlier loads)."""
        if ixn_ids.len():
            con.register("_ids", pl.DataFrame({"id": ixn_ids}))
            con.sql(f"DELETE FROM {table} WHERE INTERACTION_ID IN (SELECT id FROM _ids)")
            con.unregister("_ids")
        if frame.height:
            frame.select(table_columns(table)).write_parquet(self.directory / f"{table}-{len(self.tables):06d}.parquet")
            self.tables.append(table)

    def insert(self, con: duckdb.DuckDBPyConnection) -> None:
        for table in dict.fromkeys(self.tables):
            cols = ", ".join(table_columns(table))
            files = str(self.directory / f"{table}-*.parquet").replace("'", "''")
            con.sql(f"INSERT INTO {table} ({cols}) SELECT {cols} FROM read_parquet('{files}')")


def load_run(
    con: duckdb.DuckDBPyConnection,
    *,
    run_id: str,
    events: pl.DataFrame | str,
    quarantine: pl.DataFrame,
    options: GimOptions,
    derive: Derive,
    started: datetime,
    files_read: int,
    events_read: int,
    batch_duplicates: int,
    late_window_s: int = 86400,
) -> LoadResult:
    """Load one run's validated events and quarantine into the mart, in a single transaction. `events` is a
    frame or a DuckDB query over staged files (`etl.ingest.reader.batch_query`), each event_id at most once."""
    result = LoadResult(run_id)
    ensure_schema(con)
    con.sql("BEGIN TRANSACTION")
    try:
        _load(con, result, run_id, events, quarantine, options, derive, late_window_s)
        result.events_duplicate += batch_duplicates
        _audit(con, result, started, files_read, events_read, options)
        con.sql("COMMIT")
    except BaseException:
        con.sql("ROLLBACK")
        raise
    return result


def rederive_window(
    con: duckdb.DuckDBPyConnection, *, run_id: str, start_ms: int, end_ms: int, options: GimOptions, derive: Derive
) -> LoadResult:
    """Re-derive, from the stored events, every interaction with an event in [start_ms, end_ms): the event-time
    partition behind daily schedules and backfills (e.g. after an option change). One transaction."""
    result = LoadResult(run_id)
    ensure_schema(con)
    started = datetime.now(UTC)
    con.sql("BEGIN TRANSACTION")
    try:
        result.audit_key = int(_allocate(con, "AUDIT", pl.Series([run_id]))["id"][0])
        con.sql(
            "CREATE OR REPLACE TEMP TABLE _touched AS SELECT INTERACTION_ID AS i, count(*) AS n FROM STG_EVENTS"
            " WHERE INTERACTION_ID IN (SELECT INTERACTION_ID FROM STG_EVENTS WHERE TS_MS >= ? AND TS_MS < ?)"
            " GROUP BY ALL",
            params=[start_ms, end_ms],
        )
        _rederive_touched(con, result, options, derive, late_window_s=None)
        _audit(con, result, started, 0, 0, options)
        con.sql("COMMIT")
    except BaseException:
        con.sql("ROLLBACK")
        raise
    return result


def _load(con, result, run_id, events, quarantine, options, derive, late_window_s) -> None:  # noqa: ANN001
    result.audit_key = int(_allocate(con, "AUDIT", pl.Series([run_id]))["id"][0])
    # 1. Idempotent append, set-based in DuckDB (the batch may be bigger than memory): an event_id already
    #    stored is a duplicate delivery.
    if isinstance(events, pl.DataFrame):
        con.register("_batch", events)
    else:
        con.sql(f"CREATE OR REPLACE TEMP VIEW _batch AS {events}")
    stg_cols = ", ".join(c.upper() for c in EVENT_COLUMNS)
    with _step("append new events to STG_EVENTS"):
        batch_rows = con.sql("SELECT count(*) FROM _batch").fetchall()[0][0]
        inserted = con.execute(
            f"INSERT INTO STG_EVENTS ({stg_cols}, RUN_ID) SELECT {', '.join(EVENT_COLUMNS)}, ? FROM _batch"
            " WHERE event_id NOT IN (SELECT EVENT_ID FROM STG_EVENTS)",
            [run_id],
        ).fetchall()[0][0]
    if isinstance(events, pl.DataFrame):
        con.unregister("_batch")
    else:
        con.sql("DROP VIEW _batch")
    result.events_duplicate = batch_rows - inserted
    # 2. Re-derive every interaction the new events touch, from all of its stored events.
    con.sql(
        "CREATE OR REPLACE TEMP TABLE _touched AS SELECT INTERACTION_ID AS i, count(*) AS n FROM STG_EVENTS"
        " WHERE INTERACTION_ID IN (SELECT INTERACTION_ID FROM STG_EVENTS WHERE RUN_ID = ?) GROUP BY ALL",
        params=[run_id],
    )
    batch_rejected = _rederive_touched(con, result, options, derive, late_window_s, run_id=run_id)
    _quarantine(con, quarantine.select("SOURCE_FILE", "SOURCE_LINE", "FIELD", "RAW", "REASON", "EVENT_ID"), run_id)
    result.events_quarantined = quarantine.height + batch_rejected
    result.events_loaded = inserted - batch_rejected


def _rederive_touched(
    con: duckdb.DuckDBPyConnection,
    result: LoadResult,
    options: GimOptions,
    derive: Derive,
    late_window_s: int | None,
    run_id: str = "",
) -> int:
    """Re-derive the interactions in temp table `_touched` (i, n = stored events) and replace their facts.

    The interactions are cut, by a hash of their id, into slices of about `derive_batch_events` stored events,
    each read, derived and written on its own: the rules' Python objects never exist for more than one slice,
    and the result does not depend on the slicing (ids are stable, roots are set once at the end).
    Events of this run (`RUN_ID = run_id`) that the rules reject move from the store to the quarantine; an
    event of an interaction never submitted waits `late_window_s` after the newest event seen. Returns how many
    moved."""
    total = con.sql("SELECT coalesce(sum(n), 0) FROM _touched").fetchall()[0][0]
    slices = max(1, -(-total // runtime().derive_batch_events))
    links: list[pl.DataFrame] = []
    result.rows = dict.fromkeys(FACT_TABLES, 0)
    with _fact_stage_dir(con) as tmp:
        stage = _FactStage(Path(tmp))
        moved = _derive_slices(con, result, options, derive, late_window_s, run_id, slices, stage, links)
        with _step("insert staged facts"):
            stage.insert(con)
    with _step("thread roots"):
        _set_roots(con, pl.concat(links, how="vertical_relaxed"))
    con.sql("DROP TABLE _touched")
    return moved


def _fact_stage_dir(con: duckdb.DuckDBPyConnection) -> tempfile.TemporaryDirectory[str]:
    """A temporary directory beside the mart file (staged facts stay on its disk), after deleting the ones a
    killed load of this mart left behind: this connection holds the mart's only write lock, so none is in use."""
    path = con.execute("SELECT path FROM duckdb_databases() WHERE database_name = current_database()").fetchall()
    if not (path and path[0][0]):  # an in-memory database
        return tempfile.TemporaryDirectory(prefix=".gim-facts-")
    mart_file = Path(path[0][0])
    prefix = f".{mart_file.name}.facts-"
    for stale in mart_file.parent.glob(f"{prefix}*"):
        shutil.rmtree(stale, ignore_errors=True)
    return tempfile.TemporaryDirectory(prefix=prefix, dir=mart_file.parent)


def _derive_slices(
    con: duckdb.DuckDBPyConnection,
    result: LoadResult,
    options: GimOptions,
    derive: Derive,
    late_window_s: int | None,
    run_id: str,
    slices: int,
    stage: _FactStage,
    links: list[pl.DataFrame],
) -> int:
    horizon = con.execute("SELECT max(TS_MS) FROM STG_EVENTS").fetchall()[0][0] or 0
    columns = ", ".join(f"{c.upper()} AS {c}" for c in EVENT_COLUMNS)
    moved = 0
    for part in range(slices):
        with _step(f"slice {part + 1}/{slices}: read stored events"):
            stored = con.sql(
                f"SELECT {columns}, RUN_ID AS run_id FROM STG_EVENTS WHERE INTERACTION_ID IN"
                " (SELECT i FROM _touched WHERE hash(i) % ? = ?)",
                params=[slices, part],
            ).pl()
        with _step(f"slice {part + 1}/{slices}: derive facts of {stored.height} events"):
            facts = derive(stored, options)
        result.interactions_rederived += facts.interactions.height
        if late_window_s is not None and facts.rejected.height:
            moved += _move_rejected(con, facts.rejected, stored, run_id, horizon - late_window_s * 1000)
        del stored
        with _step(f"slice {part + 1}/{slices}: write facts"):
            for table, n in _write_facts(con, facts, result.audit_key, stage).items():
                result.rows[table] += n
        thread_links = facts.interactions.select("interaction_guid", "parent_guid", "thread_guid").filter(
            pl.col("parent_guid").is_not_null() | pl.col("thread_guid").is_not_null()
        )
        # Facts' strings may be views into the slice's event buffers (ids are copied, not rebuilt): keep a copy
        # of their own, or every slice's events would stay in memory until the end of the load.
        links.append(pl.from_arrow(thread_links.to_arrow(compat_level=pl.CompatLevel.oldest())))
    return moved


def _move_rejected(
    con: duckdb.DuckDBPyConnection, rejected: pl.DataFrame, stored: pl.DataFrame, run_id: str, orphan_before: int
) -> int:
    """Quarantine this run's events that the rules reject, and take them out of the store."""
    rejected = rejected.join(
        stored.filter(pl.col("run_id") == run_id).select("event_id", "ts_ms", "source_file", "source_line"),
        on="event_id",
    )
    never_submitted = rejected["reason"].str.contains("never submitted")
    rejected = rejected.filter(~never_submitted | (pl.col("ts_ms") < orphan_before))
    if not rejected.height:
        return 0
    _quarantine(
        con,
        rejected.select(
            SOURCE_FILE="source_file",
            SOURCE_LINE="source_line",
            FIELD="field",
            RAW=pl.lit(None, pl.String),
            REASON="reason",
            EVENT_ID="event_id",
        ),
        run_id,
    )
    con.register("_rej", rejected.select("event_id"))
    con.sql("DELETE FROM STG_EVENTS WHERE EVENT_ID IN (SELECT event_id FROM _rej)")
    con.unregister("_rej")
    return rejected.height


def _quarantine(con: duckdb.DuckDBPyConnection, rows: pl.DataFrame, run_id: str) -> None:
    if rows.height == 0:
        return
    rows = rows.with_columns(RUN_ID=pl.lit(run_id), QUARANTINED_AT=pl.lit(datetime.now(UTC).replace(tzinfo=None)))
    cols = table_columns("STG_EVENT_QUARANTINE")
    con.register("_q", rows.select(cols))
    con.sql(f"INSERT INTO STG_EVENT_QUARANTINE ({', '.join(cols)}) SELECT {', '.join(cols)} FROM _q")
    con.unregister("_q")


def _media_name(media: str) -> str:
    return {"email": "Email", "chat": "Chat", "sms": "SMS", "voice": "Voice"}.get(media.lower(), media.title())


def _dimension_keys(con: duckdb.DuckDBPyConnection, ixns: pl.DataFrame, audit_key: int) -> pl.DataFrame:
    """MEDIA_TYPE, INTERACTION_TYPE and TENANT keys; new values are added as GIM does for new MM subtypes."""
    ixns = ixns.with_columns(
        media_nk=pl.col("media_type").fill_null("unknown").str.to_lowercase(),
        itype_nk=pl.col("interaction_type").fill_null("Unknown") + "|" + pl.col("interaction_subtype").fill_null(""),
    )
    ixns = _keyed(con, ixns, "media_nk", "MEDIA_TYPE", "MEDIA_TYPE_KEY")
    ixns = _keyed(con, ixns, "itype_nk", "INTERACTION_TYPE", "INTERACTION_TYPE_KEY")
    ixns = _keyed(con, ixns, "tenant", "TENANT", "TENANT_KEY")
    media = (
        ixns.select("MEDIA_TYPE_KEY", "media_nk")
        .unique()
        .with_columns(MEDIA_NAME=pl.col("media_nk").map_elements(_media_name, return_dtype=pl.String))
    )
    con.register(
        "_m",
        media.with_columns(
            MEDIA_NAME_CODE=pl.col("MEDIA_NAME").str.to_uppercase(),
            IS_ONLINE=(pl.col("media_nk") == "chat").cast(pl.Int16),
        ),
    )
    con.sql(
        "INSERT INTO MEDIA_TYPE SELECT MEDIA_TYPE_KEY, MEDIA_NAME, MEDIA_NAME_CODE, IS_ONLINE, ?, ? FROM _m"
        " WHERE MEDIA_TYPE_KEY NOT IN (SELECT MEDIA_TYPE_KEY FROM MEDIA_TYPE)",
        params=[audit_key, audit_key],
    )
    types = ixns.select("INTERACTION_TYPE_KEY", "interaction_type", "interaction_subtype").unique(
        "INTERACTION_TYPE_KEY"
    )
    con.register("_t", types)
    con.sql(
        "INSERT INTO INTERACTION_TYPE SELECT INTERACTION_TYPE_KEY, coalesce(interaction_type, 'Unknown'),"
        " upper(coalesce(interaction_type, 'Unknown')), coalesce(interaction_subtype, 'Unknown'),"
        " upper(coalesce(interaction_subtype, 'Unknown')), 0, ?, ? FROM _t"
        " WHERE INTERACTION_TYPE_KEY NOT IN (SELECT INTERACTION_TYPE_KEY FROM INTERACTION_TYPE)",
        params=[audit_key, audit_key],
    )
    con.register("_tn", ixns.select("TENANT_KEY", "tenant").unique("TENANT_KEY"))
    con.sql(
        "INSERT INTO TENANT SELECT TENANT_KEY, tenant FROM _tn WHERE TENANT_KEY NOT IN (SELECT TENANT_KEY FROM TENANT)"
    )
    for name in ("_m", "_t", "_tn"):
        con.unregister(name)
    return ixns


def _resources(con: duckdb.DuckDBPyConnection, resources: pl.DataFrame, audit_key: int) -> pl.DataFrame:
    res = _keyed(con, resources, "resource_nk", "RESOURCE", "RESOURCE_KEY")
    res = _keyed(con, res, "tenant", "TENANT", "TENANT_KEY")
    con.register("_r", res)
    con.sql(
        """
        INSERT OR REPLACE INTO RESOURCE_ (RESOURCE_KEY, TENANT_KEY, RESOURCE_NAME, RESOURCE_TYPE, RESOURCE_TYPE_CODE,
            RESOURCE_SUBTYPE, AGENT_FIRST_NAME, AGENT_LAST_NAME, EMPLOYEE_ID, EXTERNAL_RESOURCE_ID,
            CREATE_AUDIT_KEY, UPDATE_AUDIT_KEY)
        SELECT r.RESOURCE_KEY, r.TENANT_KEY, r.resource_name, r.resource_type, r.resource_type_code,
            r.resource_subtype, coalesce(r.first_name, o.AGENT_FIRST_NAME), coalesce(r.last_name, o.AGENT_LAST_NAME),
            coalesce(r.employee_id, o.EMPLOYEE_ID), r.resource_name, coalesce(o.CREATE_AUDIT_KEY, ?), ?
        FROM _r r LEFT JOIN RESOURCE_ o ON o.RESOURCE_KEY = r.RESOURCE_KEY
        """,
        params=[audit_key, audit_key],
    )
    con.unregister("_r")
    return res.select("resource_nk", "RESOURCE_KEY")


def _write_facts(
    con: duckdb.DuckDBPyConnection, facts: FactFrames, audit_key: int, stage: _FactStage
) -> dict[str, int]:
    if facts.interactions.height == 0:
        return dict.fromkeys(FACT_TABLES, 0)
    res_keys = _resources(con, facts.resources, audit_key)
    ixns = _dimension_keys(con, facts.interactions, audit_key)
    first_new_ixn = _next_id(con, "IXN")
    ixns = _keyed(con, ixns, "interaction_guid", "IXN", "INTERACTION_ID")
    ixn_dims = ixns.select("interaction_guid", "INTERACTION_ID", "TENANT_KEY", "MEDIA_TYPE_KEY", "INTERACTION_TYPE_KEY")
    irfs = _keyed(con, facts.irfs, "natural_key", "IRF", "INTERACTION_RESOURCE_ID")
    msfs = _keyed(con, facts.msfs, "natural_key", "MSF", "MEDIATION_SEGMENT_ID")

    def res(frame: pl.DataFrame, col: str, out: str) -> pl.DataFrame:
        return frame.join(res_keys.rename({"resource_nk": col, "RESOURCE_KEY": out}), on=col, how="left")

    irf_ids = irfs.select(nk="natural_key", id="INTERACTION_RESOURCE_ID", sdt=_dt_key("start_ts"))
    msf_ids = msfs.select(nk="natural_key", id="MEDIATION_SEGMENT_ID", res_nk="resource_nk")
    irfs = (
        res(
            res(
                res(irfs.join(ixn_dims, on="interaction_guid"), "resource_nk", "RESOURCE_KEY"),
                "last_vq_nk",
                "LAST_VQUEUE_RESOURCE_KEY",
            ),
            "last_handler_nk",
            "LAST_INTERACTION_RESOURCE",
        )
        .join(
            irf_ids.select(received_from_nk="nk", RECEIVED_FROM_IXN_RESOURCE_ID="id"), on="received_from_nk", how="left"
        )
        .join(
            msf_ids.select(mediation_msf_nk="nk", MEDIATION_SEGMENT_ID="id", med_res_nk="res_nk"),
            on="mediation_msf_nk",
            how="left",
        )
    )
    irfs = res(irfs, "med_res_nk", "MEDIATION_RESOURCE_KEY")
    end_ts = pl.when(pl.col("active_flag") == 1).then(ACTIVE_END_TS).otherwise(pl.col("end_ts"))
    irf_out = irfs.with_columns(
        START_TS="start_ts",
        END_TS=end_ts,
        START_DATE_TIME_KEY=_dt_key("start_ts"),
        TECHNICAL_DESCRIPTOR_KEY="technical_descriptor_key",
        INTERACTION_RESOURCE_ORDINAL="ordinal",
        MEDIATION_START_DATE_TIME_KEY=_dt_key("mediation_start_ts"),
        MEDIATION_DURATION="mediation_duration",
        QUEUE_DURATION="queue_duration",
        ROUTING_POINT_DURATION="routing_point_duration",
        RING_COUNT="ring_count",
        RING_DURATION="ring_duration",
        TALK_COUNT="talk_count",
        TALK_DURATION="talk_duration",
        HOLD_COUNT="hold_count",
        HOLD_DURATION="hold_duration",
        AFTER_CALL_WORK_COUNT=pl.lit(0, pl.Int32),
        AFTER_CALL_WORK_DURATION=pl.lit(0, pl.Int32),
        HANDLE_COUNT="handle_count",
        STOP_ACTION="stop_action",
        IRF_ANCHOR="irf_anchor",
        IRF_ANCHOR_TS=pl.when(pl.col("irf_anchor") == 1).then(pl.col("start_ts")),
        ACTIVE_FLAG="active_flag",
        CREATE_AUDIT_KEY=pl.lit(audit_key),
        UPDATE_AUDIT_KEY=pl.lit(audit_key),
        LAST_VQUEUE_RESOURCE_KEY=pl.col("LAST_VQUEUE_RESOURCE_KEY").fill_null(-1),
        MEDIATION_RESOURCE_KEY=pl.col("MEDIATION_RESOURCE_KEY").fill_null(-1),
        LAST_INTERACTION_RESOURCE=pl.col("LAST_INTERACTION_RESOURCE").fill_null(-1),
    ).with_columns(END_DATE_TIME_KEY=_dt_key("END_TS"))
    msfs = res(msfs.join(ixn_dims, on="interaction_guid"), "resource_nk", "RESOURCE_KEY")
    msfs = msfs.join(
        irf_ids.select(ixn_resource_nk="nk", IXN_RESOURCE_ID="id", IXN_RESOURCE_SDT_KEY="sdt"),
        on="ixn_resource_nk",
        how="left",
    )
    msfs = msfs.join(
        irf_ids.select(target_ixn_resource_nk="nk", TARGET_IXN_RESOURCE_ID="id", TARGET_IXN_RESOURCE_SDT_KEY="sdt"),
        on="target_ixn_resource_nk",
        how="left",
    )
    msf_out = msfs.with_columns(
        START_TS="start_ts",
        END_TS=pl.when(pl.col("active_flag") == 1).then(ACTIVE_END_TS).otherwise(pl.col("end_ts")),
        START_DATE_TIME_KEY=_dt_key("start_ts"),
        TECHNICAL_DESCRIPTOR_KEY="technical_descriptor_key",
        MEDIATION_DURATION="mediation_duration",
        MEDIA_SERVER_IXN_GUID="interaction_guid",
        ACTIVE_FLAG="active_flag",
        CREATE_AUDIT_KEY=pl.lit(audit_key),
        UPDATE_AUDIT_KEY=pl.lit(audit_key),
    ).with_columns(END_DATE_TIME_KEY=_dt_key("END_TS"))
    anchors = irf_out.filter(pl.col("IRF_ANCHOR") == 1).select(
        "INTERACTION_ID", ANCHOR_ID="INTERACTION_RESOURCE_ID", ANCHOR_SDT_KEY="START_DATE_TIME_KEY"
    )
    ixn_out = (
        ixns.join(anchors, on="INTERACTION_ID", how="left")
        .with_columns(
            # the thread, else the interaction itself; `_set_roots` then follows parent links across slices
            MEDIA_SERVER_ROOT_IXN_GUID=pl.coalesce("thread_guid", "interaction_guid"),
            MEDIA_SERVER_IXN_GUID="interaction_guid",
            MEDIA_SERVER_PARENT_IXN_GUID="parent_guid",
            SOURCE_ADDRESS="source_address",
            TARGET_ADDRESS="target_address",
            SUBJECT="subject",
            STATUS=pl.lit(0, pl.Int16),
            START_TS="start_ts",
            END_TS=pl.when(pl.col("active_flag") == 1).then(ACTIVE_END_TS).otherwise(pl.col("end_ts")),
            START_DATE_TIME_KEY=_dt_key("start_ts"),
            ACTIVE_FLAG="active_flag",
            CREATE_AUDIT_KEY=pl.lit(audit_key),
            UPDATE_AUDIT_KEY=pl.lit(audit_key),
        )
        .with_columns(END_DATE_TIME_KEY=_dt_key("END_TS"))
    )
    ids = ixns["INTERACTION_ID"].filter(ixns["INTERACTION_ID"] < first_new_ixn)  # new ids have no rows yet
    stage.replace(con, "INTERACTION_FACT", ixn_out, ids)
    stage.replace(con, "INTERACTION_RESOURCE_FACT", irf_out, ids)
    stage.replace(con, "MEDIATION_SEGMENT_FACT", msf_out, ids)
    keys = pl.concat(
        [
            f.select(k).to_series().rename("k")
            for f in (irf_out, msf_out, ixn_out)
            for k in ("START_DATE_TIME_KEY", "END_DATE_TIME_KEY")
        ]
        + [irf_out["MEDIATION_START_DATE_TIME_KEY"].drop_nulls().rename("k")]
    )
    _insert_date_times(con, keys.unique().to_list())
    return {
        "INTERACTION_FACT": ixn_out.height,
        "INTERACTION_RESOURCE_FACT": irf_out.height,
        "MEDIATION_SEGMENT_FACT": msf_out.height,
    }


def _set_roots(con: duckdb.DuckDBPyConnection, links: pl.DataFrame) -> None:
    """MEDIA_SERVER_ROOT_IXN_GUID: the thread id when given, else the parent's root, else the interaction itself.

    `links` holds the re-derived interactions that have a parent or a thread (the others already carry their own
    id). Parents outside it were written either by this run without links, or by earlier runs: their stored
    roots are read from the mart."""
    if not links.height:
        return
    con.register("_parents", links.select("parent_guid").drop_nulls().unique())
    stored = con.sql(
        "SELECT MEDIA_SERVER_IXN_GUID AS g, MEDIA_SERVER_ROOT_IXN_GUID AS r FROM INTERACTION_FACT"
        " WHERE MEDIA_SERVER_IXN_GUID IN (SELECT parent_guid FROM _parents)"
    ).pl()
    con.unregister("_parents")
    known: dict[str, str] = dict(zip(stored["g"].to_list(), stored["r"].to_list(), strict=True))
    guids = links["interaction_guid"].to_list()
    parent = dict(zip(guids, links["parent_guid"].to_list(), strict=True))
    thread = dict(zip(guids, links["thread_guid"].to_list(), strict=True))

    def root(guid: str) -> str:
        cur = guid
        for _ in range(100):  # a parent cycle in bad input must not hang the run
            if thread.get(cur):
                return thread[cur]  # type: ignore[return-value]
            if cur not in parent:  # no link of its own: its stored root, else itself
                return known.get(cur, cur)
            if parent[cur] is None:
                return cur
            cur = parent[cur]  # type: ignore[assignment]
        return cur

    roots = pl.DataFrame({"g": guids, "r": [root(g) for g in guids]})
    con.register("_roots", roots)
    con.sql(
        "UPDATE INTERACTION_FACT f SET MEDIA_SERVER_ROOT_IXN_GUID = _roots.r FROM _roots"
        " WHERE f.MEDIA_SERVER_IXN_GUID = _roots.g AND f.MEDIA_SERVER_ROOT_IXN_GUID IS DISTINCT FROM _roots.r"
    )
    con.unregister("_roots")


def _audit(
    con: duckdb.DuckDBPyConnection,
    result: LoadResult,
    started: datetime,
    files_read: int,
    events_read: int,
    options: GimOptions,
) -> None:
    con.sql(
        "INSERT OR REPLACE INTO CTL_AUDIT_LOG (RUN_ID, AUDIT_KEY, START_TIME, END_TIME, STATUS, FILES_READ,"
        " EVENTS_READ, EVENTS_LOADED, EVENTS_DUPLICATE, EVENTS_QUARANTINED, INTERACTION_FACT_ROWS,"
        " INTERACTION_RESOURCE_FACT_ROWS, MEDIATION_SEGMENT_FACT_ROWS, OPTIONS)"
        " VALUES (?, ?, ?, ?, 'SUCCEEDED', ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        params=[
            result.run_id,
            result.audit_key,
            started.replace(tzinfo=None),
            datetime.now(UTC).replace(tzinfo=None),
            files_read,
            events_read,
            result.events_loaded,
            result.events_duplicate,
            result.events_quarantined,
            result.rows.get("INTERACTION_FACT", 0),
            result.rows.get("INTERACTION_RESOURCE_FACT", 0),
            result.rows.get("MEDIATION_SEGMENT_FACT", 0),
            json.dumps(options.as_gim_dict()),
        ],
    )
