"""A run's load into the mart, in one transaction: the run's staged events are appended to STG_EVENTS, every
interaction they touch is re-derived from all of its stored events with GIM's rules (`etl.transform`), and its
facts replace the previous ones under the same surrogate ids, which completes facts that were active.

The touched interactions are cut, by a hash of their id, into slices of about `derive_batch_events` stored events,
each read, derived and written on its own: the rules' Python objects never exist for more than one slice, and the
result does not depend on the slicing (ids are stable, thread roots are set once at the end).
"""

from __future__ import annotations

import logging
import tempfile
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import polars as pl

from etl.connections import connect
from etl.domain.options import GimOptions
from etl.domain.rules import RejectionKind
from etl.ingest.staging import StagedEvents, stage_events
from etl.settings import runtime
from etl.storage import audit, event_store
from etl.storage.anchors import set_first_replies
from etl.storage.audit import RunCounts
from etl.storage.bootstrap import ensure_schema
from etl.storage.calendar import ensure_calendar
from etl.storage.fact_rows import ACTIVE_END_TS
from etl.storage.fact_stage import FactStage, fact_stage_dir
from etl.storage.fact_writer import FACT_TABLES, write_facts
from etl.storage.keys import allocate_one
from etl.storage.roots import set_roots
from etl.storage.writes import transaction
from etl.transform.facts import derive_facts

log = logging.getLogger(__name__)

_QUARANTINE_COLUMNS = ("SOURCE_FILE", "SOURCE_LINE", "FIELD", "RAW", "REASON", "EVENT_ID")


@contextmanager
def _step(what: str) -> Iterator[None]:
    """Log how long a step of the load took (shown in Dagster's run log: dagster.yaml manages `etl` loggers)."""
    t0 = time.perf_counter()
    yield
    log.info("%s: %.1f s", what, time.perf_counter() - t0)


def load_run(
    con: duckdb.DuckDBPyConnection, staged: StagedEvents, options: GimOptions, late_window_s: int = 86400
) -> RunCounts:
    """Load one run's staged events and quarantine into the mart `con` is open on; one transaction.

    An event the rules reject for an interaction never submitted waits (stored, no facts) until it is
    `late_window_s` older than the newest stored event; then it is quarantined like every other rejection."""
    counts = RunCounts(staged.run_id, staged.started, files_read=staged.files_read, events_read=staged.events_read)
    ensure_schema(con)
    with transaction(con):
        counts.audit_key = allocate_one(con, "AUDIT", staged.run_id)
        with _step("append new events to STG_EVENTS"):
            batch_rows, inserted = event_store.append_events(con, staged.batch_query(), staged.run_id)
        event_store.touch_run(con, staged.run_id)
        horizon = event_store.newest_event_ms(con)
        late = _Quarantining(staged.run_id, horizon - late_window_s * 1000)
        moved = _Rederivation(con, counts, options, late).run()
        ingest_rejects = pl.read_parquet(staged.quarantine_path)
        event_store.quarantine(con, ingest_rejects.select(_QUARANTINE_COLUMNS), staged.run_id)
        counts.events_duplicate = batch_rows - inserted + staged.duplicates
        counts.events_quarantined = ingest_rejects.height + moved
        counts.events_loaded = inserted - moved
        ensure_calendar(con, [], options, ACTIVE_END_TS)  # days ahead and date-time-tz, also on a quiet run
        audit.write_audit(con, counts, options)
    return counts


def rederive_window(
    con: duckdb.DuckDBPyConnection, run_id: str, start_ms: int, end_ms: int, options: GimOptions
) -> RunCounts:
    """Re-derive, from the stored events, every interaction with an event in [start_ms, end_ms): the event-time
    partition behind daily schedules and backfills (e.g. after an option change). One transaction."""
    counts = RunCounts(run_id, datetime.now(UTC))
    ensure_schema(con)
    with transaction(con):
        counts.audit_key = allocate_one(con, "AUDIT", run_id)
        event_store.touch_window(con, start_ms, end_ms)
        _Rederivation(con, counts, options, late=None).run()
        ensure_calendar(con, [], options, ACTIVE_END_TS)
        audit.write_audit(con, counts, options)
    return counts


@dataclass(frozen=True)
class _Quarantining:
    """Which rejected events a load moves from the store to the quarantine: only its own run's, and those
    waiting for their interaction's submission only once they are older than `orphan_before_ms`."""

    run_id: str
    orphan_before_ms: int

    def select(self, rejected: pl.DataFrame, stored: pl.DataFrame) -> pl.DataFrame:
        rejected = rejected.join(
            stored.filter(pl.col("run_id") == self.run_id).select("event_id", "ts_ms", "source_file", "source_line"),
            on="event_id",
        )
        waits = pl.col("kind") == RejectionKind.NEVER_SUBMITTED.value
        return rejected.filter(~waits | (pl.col("ts_ms") < self.orphan_before_ms))


@dataclass
class _Rederivation:
    """Re-derive the interactions in `_touched` slice by slice and stage their facts; `late` is None when no
    event is to be quarantined (a re-derivation of stored events)."""

    con: duckdb.DuckDBPyConnection
    counts: RunCounts
    options: GimOptions
    late: _Quarantining | None
    links: list[pl.DataFrame] = field(default_factory=list)

    def run(self) -> int:
        """Returns how many stored events moved to the quarantine."""
        total = event_store.touched_events(self.con)
        slices = max(1, -(-total // runtime().derive_batch_events))
        self.counts.rows = dict.fromkeys(FACT_TABLES, 0)
        with fact_stage_dir(self.con) as tmp:
            stage = FactStage(Path(tmp))
            moved = sum(self._slice(part, slices, stage) for part in range(slices))
            with _step("insert staged facts"):
                stage.insert(self.con)
        links = pl.concat(self.links, how="vertical_relaxed")
        with _step("thread roots"):
            set_roots(self.con, links)
        with _step("first replies"):
            set_first_replies(self.con, links)
        event_store.untouch(self.con)
        return moved

    def _slice(self, part: int, slices: int, stage: FactStage) -> int:
        name = f"slice {part + 1}/{slices}"
        with _step(f"{name}: read stored events"):
            stored = event_store.read_slice(self.con, part, slices)
        with _step(f"{name}: derive facts of {stored.height} events"):
            facts = derive_facts(stored, self.options)
        self.counts.interactions_rederived += facts.interactions.height
        moved = 0
        if self.late is not None and facts.rejected.height:
            moved = self._quarantine(self.late.select(facts.rejected, stored))
        del stored
        with _step(f"{name}: write facts"):
            for table, n in write_facts(self.con, facts, self.counts.audit_key, stage, self.options).items():
                self.counts.rows[table] = self.counts.rows.get(table, 0) + n
        links = facts.interactions.select("interaction_guid", "parent_guid", "thread_guid").filter(
            pl.col("parent_guid").is_not_null() | pl.col("thread_guid").is_not_null()
        )
        # Facts' strings may be views into the slice's event buffers (ids are copied, not rebuilt): keep a copy
        # of their own, or every slice's events would stay in memory until the end of the load.
        self.links.append(pl.from_arrow(links.to_arrow(compat_level=pl.CompatLevel.oldest())))
        return moved

    def _quarantine(self, rejected: pl.DataFrame) -> int:
        if not rejected.height:
            return 0
        rows = rejected.select(
            SOURCE_FILE="source_file",
            SOURCE_LINE="source_line",
            FIELD="field",
            RAW=pl.lit(None, pl.String),
            REASON="reason",
            EVENT_ID="event_id",
        )
        event_store.quarantine(self.con, rows, self.late.run_id)  # type: ignore[union-attr]
        event_store.remove_events(self.con, rejected["event_id"])
        return rejected.height


def load_files(
    paths: Sequence[str | Path], db: str | Path, options: GimOptions, run_id: str | None = None
) -> RunCounts:
    """Stage event files and load them into the mart file `db`, without Dagster, checks or serving copy (the
    golden fixtures' writer; Dagster's assets call the same two steps)."""
    run_id = run_id or uuid.uuid4().hex
    with tempfile.TemporaryDirectory(prefix="gim-stage-") as tmp:
        staged = stage_events(paths, run_id, Path(tmp))
        con = connect(db)
        try:
            return load_run(con, staged, options)
        finally:
            con.close()
