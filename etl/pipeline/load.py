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
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import polars as pl

from etl.connections import connect
from etl.domain.options import GimOptions
from etl.domain.rules import RejectionKind
from etl.ingest.config.staging import StagedConfig, stage_config
from etl.ingest.staging import BATCH_SQL, StagedEvents, stage_events
from etl.pipeline import config_load
from etl.pipeline.agent_load import AgentLoad
from etl.progress import phase
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


@contextmanager
def _step(what: str, shown: bool = False) -> Iterator[None]:
    """Log how long a step of the load took (shown in Dagster's run log: dagster.yaml manages `etl` loggers);
    `shown`: also a phase of the terminal's progress display (etl.progress)."""
    t0 = time.perf_counter()
    if shown:
        with phase(what):
            yield
    else:
        yield
    log.info("%s: %.1f s", what, time.perf_counter() - t0)


def load_run(
    con: duckdb.DuckDBPyConnection,
    staged: StagedEvents,
    options: GimOptions,
    late_window_s: int = 86400,
    config: StagedConfig | None = None,
    max_skew_s: int | None = None,
) -> RunCounts:
    """Load one run's staged events and quarantine into the mart `con` is open on; one transaction.

    Windows are measured on the loader's clock, never on another interaction's events: an event dated more than
    `max_skew_s` (default: the setting GIM_ETL_MAX_CLOCK_SKEW_HOURS) ahead of it is quarantined; an event the
    rules reject for an interaction never submitted waits (stored, no facts) until `late_window_s` have passed
    since its interaction's newest event arrived, then it is quarantined like every other rejection, by the
    first run that sees the window passed."""
    counts = RunCounts(staged.run_id, staged.started, files_read=staged.files_read, events_read=staged.events_read)
    counts.files_skipped = list(staged.files_skipped)
    now_ms = int(datetime.now(UTC).timestamp() * 1000)
    skew_s = runtime().max_clock_skew_hours * 3600 if max_skew_s is None else max_skew_s
    ensure_schema(con)
    with transaction(con):
        counts.audit_key = allocate_one(con, "AUDIT", staged.run_id)
        cfg_counts = config_load.append(con, config, staged.run_id)  # first: this run's facts see it
        replaced = event_store.replace_snapshots(con, BATCH_SQL, staged.batch_params())
        with _step("append new events to STG_EVENTS", shown=True):
            appended = event_store.append_events(
                con, BATCH_SQL, staged.batch_params(), staged.run_id, now_ms + skew_s * 1000
            )
        event_store.touch_run(con, staged.run_id)
        window_start_ms = now_ms - late_window_s * 1000  # events that arrived before it have waited long enough
        event_store.touch_waiting(con, window_start_ms)
        started_ms = int(staged.started.timestamp() * 1000)
        arrivals = event_store.arrivals_ms(con, staged.run_id, started_ms)
        late = _Quarantining(staged.run_id, window_start_ms, arrivals)
        _Rederivation(con, counts, options, late).run()
        # agents who never logged in: their events wait as long as an interaction's (loader's clock)
        agents = AgentLoad(staged.run_id, orphan_before_ms=window_start_ms, arrivals=arrivals)
        agent_moved = _agent_states(con, counts, options, agents)
        event_store.quarantine_file(con, staged.quarantine_path, staged.run_id)
        counts.events_duplicate = appended.duplicates + staged.duplicates
        counts.events_conflict = appended.conflicts + staged.conflicts
        counts.events_quarantined = staged.quarantined + appended.future + late.moved_own + agent_moved
        counts.events_loaded = appended.inserted - late.moved_own - agent_moved
        counts.source_notes = dict(staged.source_notes)
        if replaced.interactions:
            counts.source_notes["conversations replaced by a newer snapshot"] = replaced.interactions
            counts.source_notes["stored events of older snapshots deleted"] = replaced.events
        ensure_calendar(con, [], options, ACTIVE_END_TS)  # days ahead and date-time-tz, also on a quiet run
        audit.write_audit(con, counts, options)
        with _step("configuration dimensions and IRF keys", shown=True):
            config_load.finish(con, staged.run_id, counts.audit_key, cfg_counts)
    return counts


def rederive_window(
    con: duckdb.DuckDBPyConnection,
    run_id: str,
    start_ms: int,
    end_ms: int,
    options: GimOptions,
    kind: str = "rederive",
) -> RunCounts:
    """Re-derive, from the stored events, every interaction with an event in [start_ms, end_ms): the event-time
    partition behind daily schedules and backfills (e.g. after an option change). One transaction; `kind` is the
    audit row's RUN_KIND (`rederive` from the CLI, `event-day` from the partitioned job)."""
    counts = RunCounts(run_id, datetime.now(UTC), run_kind=kind)
    ensure_schema(con)
    with transaction(con):
        counts.audit_key = allocate_one(con, "AUDIT", run_id)
        event_store.touch_window(con, start_ms, end_ms)
        _Rederivation(con, counts, options, late=None).run()
        ensure_calendar(con, [], options, ACTIVE_END_TS)
        _agent_states(con, counts, options, AgentLoad(start_ms=start_ms, end_ms=end_ms))
        audit.write_audit(con, counts, options)
        config_load.finish(con, run_id, counts.audit_key, config_load.ConfigCounts())
    return counts


def _agent_states(con: duckdb.DuckDBPyConnection, counts: RunCounts, options: GimOptions, load: AgentLoad) -> int:
    """The SM_RES_* facts of the agents the load touched (etl.pipeline.agent_load); returns events quarantined."""
    with _step("agent states", shown=True):
        rows, moved = load.run(con, options, counts.audit_key)
    counts.rows.update(rows)
    return moved


@dataclass
class _Quarantining:
    """Which rejected stored events a load moves to the quarantine: every rejection but those waiting for their
    interaction's submission whose window has not passed yet (the interaction's newest event arrived at or after
    `waiting_since_ms` on the loader's clock). `arrivals` maps each run to the time it stored its events.

    Events stored by earlier runs can be moved too (their window passed, or a late event contradicts them); the
    audit counts only this run's own (`moved_own`) against this run's input."""

    run_id: str
    waiting_since_ms: int
    arrivals: dict[str, int]
    moved_own: int = 0

    def select(self, rejected: pl.DataFrame, stored: pl.DataFrame) -> pl.DataFrame:
        arrived = pl.col("run_id").replace_strict(self.arrivals, default=None, return_dtype=pl.Int64)
        newest = stored.group_by("interaction_id").agg(arrived.max().alias("_arrived"))
        rejected = rejected.join(
            stored.select("event_id", "interaction_id", "ts_ms", "source_file", "source_line", "run_id"),
            on="event_id",
        ).join(newest, on="interaction_id", how="left")
        waits = (pl.col("kind") == RejectionKind.NEVER_SUBMITTED.value) & (
            pl.col("_arrived").is_null() | (pl.col("_arrived") >= self.waiting_since_ms)
        )
        chosen = rejected.filter(~waits)
        self.moved_own += chosen.filter(pl.col("run_id") == self.run_id).height
        return chosen


@dataclass
class _Rederivation:
    """Re-derive the interactions in `_touched` slice by slice and stage their facts; `late` is None when no
    event is to be quarantined (a re-derivation of stored events)."""

    con: duckdb.DuckDBPyConnection
    counts: RunCounts
    options: GimOptions
    late: _Quarantining | None
    links: list[pl.DataFrame] = field(default_factory=list)
    advance: Callable[[int], None] = lambda n: None  # the progress display's, while slices run

    def run(self) -> int:
        """Returns how many stored events moved to the quarantine."""
        total = event_store.touched_events(self.con)
        slices = max(1, -(-total // runtime().derive_batch_events))
        self.counts.rows = dict.fromkeys(FACT_TABLES, 0)
        with fact_stage_dir(self.con) as tmp:
            stage = FactStage(Path(tmp))
            with phase("derive facts", total=total, unit="events") as self.advance:
                moved = sum(self._slice(part, slices, stage) for part in range(slices))
            with _step("insert staged facts", shown=True):
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
        self.advance(stored.height)
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
        event_store.quarantine_stored(self.con, rejected, self.late.run_id)  # type: ignore[union-attr]
        return rejected.height


def load_files(
    paths: Sequence[str | Path],
    db: str | Path,
    options: GimOptions,
    run_id: str | None = None,
    cfg: Sequence[str | Path] = (),
    late_window_s: int = 86400,
) -> RunCounts:
    """Stage event files (and configuration files `cfg`) and load them into the mart file `db`, without Dagster,
    checks or serving copy (the golden fixtures' writer; Dagster's assets call the same steps)."""
    run_id = run_id or uuid.uuid4().hex
    with tempfile.TemporaryDirectory(prefix="gim-stage-") as tmp:
        staged = stage_events(paths, run_id, Path(tmp))
        config = stage_config(cfg, run_id, Path(tmp)) if cfg else None
        con = connect(db)
        try:
            return load_run(con, staged, options, late_window_s, config=config)
        finally:
            con.close()
