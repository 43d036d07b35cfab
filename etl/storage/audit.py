"""CTL_AUDIT_LOG: one row per run with its counts, so that `quality.counts_add_up` can prove nothing vanished."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime

import duckdb

from etl.domain.options import GimOptions


@dataclass
class RunCounts:
    """What one load did; the audit row of its run."""

    run_id: str
    started: datetime
    files_read: int = 0
    events_read: int = 0
    events_loaded: int = 0
    events_duplicate: int = 0
    events_quarantined: int = 0
    events_conflict: int = 0
    files_skipped: list[str] = field(default_factory=list)
    interactions_rederived: int = 0
    rows: dict[str, int] = field(default_factory=dict)
    audit_key: int = 0
    run_kind: str = "load"  # load | rederive | event-day (CTL_AUDIT_LOG.RUN_KIND)
    source_notes: dict[str, int] = field(default_factory=dict)  # a source adapter's counted notes


def write_audit(con: duckdb.DuckDBPyConnection, counts: RunCounts, options: GimOptions) -> None:
    """The run's row; OPTIONS and OPTIONS_HASH say under which options the facts it derived were derived."""
    options_json = json.dumps(options.as_gim_dict())
    con.execute(
        "INSERT OR REPLACE INTO CTL_AUDIT_LOG (RUN_ID, AUDIT_KEY, START_TIME, END_TIME, STATUS, FILES_READ,"
        " EVENTS_READ, EVENTS_LOADED, EVENTS_DUPLICATE, EVENTS_QUARANTINED, INTERACTION_FACT_ROWS,"
        " INTERACTION_RESOURCE_FACT_ROWS, MEDIATION_SEGMENT_FACT_ROWS, OPTIONS, USER_DATA_REJECTS,"
        " SM_RES_SESSION_FACT_ROWS, SM_RES_STATE_FACT_ROWS, SM_RES_STATE_REASON_FACT_ROWS, EVENTS_CONFLICT,"
        " FILES_SKIPPED, SKIPPED_FILES, RUN_KIND, INTERACTIONS_REDERIVED, OPTIONS_HASH,"
        " SOURCE_NOTES, CHAT_SESSION_FACT_ROWS)"
        " VALUES (?, ?, ?, ?, 'SUCCEEDED', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            counts.run_id,
            counts.audit_key,
            counts.started.replace(tzinfo=None),
            datetime.now(UTC).replace(tzinfo=None),
            counts.files_read,
            counts.events_read,
            counts.events_loaded,
            counts.events_duplicate,
            counts.events_quarantined,
            counts.rows.get("INTERACTION_FACT", 0),
            counts.rows.get("INTERACTION_RESOURCE_FACT", 0),
            counts.rows.get("MEDIATION_SEGMENT_FACT", 0),
            options_json,
            counts.rows.get("STG_USER_DATA_REJECT", 0),
            counts.rows.get("SM_RES_SESSION_FACT", 0),
            counts.rows.get("SM_RES_STATE_FACT", 0),
            counts.rows.get("SM_RES_STATE_REASON_FACT", 0),
            counts.events_conflict,
            len(counts.files_skipped),
            json.dumps(counts.files_skipped),
            counts.run_kind,
            counts.interactions_rederived,
            hashlib.sha256(json.dumps(options.as_gim_dict(), sort_keys=True).encode()).hexdigest()[:16],
            json.dumps(counts.source_notes, sort_keys=True) if counts.source_notes else None,
            counts.rows.get("CHAT_SESSION_FACT", 0),
        ],
    )
