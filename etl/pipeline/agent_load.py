"""The agent-state part of a load, inside the load's transaction: re-derive every agent the run touched from all
of its stored agent-state events, replace its SM_RES_* rows, and quarantine the events that fit no login session
once they are older than the late-arrival window.

Late and out-of-order delivery: an agent's facts are always re-derived from its whole stored history, so a state
left open by one run is completed (same id, `CTL_KEY_MAP`) by the run that brings its end, and an event delivered
before its login waits (stored, no facts) for up to the late window. Agents whose every event still waits (they
never logged in) are re-examined by every run, so their events reach the quarantine even if nothing else of
theirs arrives. Then after-call work is set on the IRFs (etl.storage.irf_acw: the rule and its GIM page).
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import polars as pl

from etl.domain.options import GimOptions
from etl.ingest.columns import AGENT_STATE_EVENTS
from etl.storage import event_store
from etl.storage.agent_writer import SM_TABLES, write_agent_facts
from etl.storage.irf_acw import apply_irf_acw
from etl.storage.writes import registered
from etl.transform.agent_states import AGENT_COLUMNS, derive_agent_states

_EVENTS = ", ".join(f"'{e}'" for e in sorted(AGENT_STATE_EVENTS))
_COLUMNS = ", ".join(f"s.{c.upper()} AS {c}" for c in (*AGENT_COLUMNS, "source_file", "source_line", "run_id"))


@dataclass(frozen=True)
class AgentLoad:
    """Which agents a load re-derives: those with an event stored by `run_id`, or with an event in
    [`start_ms`, `end_ms`) (a re-derivation); `orphan_before_ms` None: nothing is quarantined."""

    run_id: str | None = None
    start_ms: int | None = None
    end_ms: int | None = None
    orphan_before_ms: int | None = None
    #: when each run stored its events (loader's clock): the window runs from an event's arrival, never from
    #: event times (issue 18: no window depends on another clock); a run missing here counts as long arrived
    arrivals: dict[str, int] | None = None

    def _touched(self) -> tuple[str, list[object]]:
        if self.run_id is not None:
            where, params = "RUN_ID = ?", [self.run_id]
        else:
            where, params = "TS_MS >= ? AND TS_MS < ?", [self.start_ms, self.end_ms]
        never = (
            " UNION SELECT coalesce(TENANT, 'Resources'), ACTOR_ID FROM STG_EVENTS s WHERE EVENT IN (" + _EVENTS + ")"
            " AND NOT EXISTS (SELECT 1 FROM RESOURCE_ r WHERE r.RESOURCE_NAME = s.ACTOR_ID"
            " AND r.RESOURCE_KEY IN (SELECT RESOURCE_KEY FROM SM_RES_SESSION_FACT))"
        )
        sql = (
            f"SELECT DISTINCT coalesce(TENANT, 'Resources') AS tenant, ACTOR_ID AS agent FROM STG_EVENTS"
            f" WHERE EVENT IN ({_EVENTS}) AND ACTOR_ID IS NOT NULL AND {where}"
        )
        return sql + (never if self.orphan_before_ms is not None else ""), params

    def run(self, con: duckdb.DuckDBPyConnection, options: GimOptions, audit_key: int) -> tuple[dict[str, int], int]:
        """Rows written per SM_RES_* table, and how many stored events moved to the quarantine."""
        sql, params = self._touched()
        agents = con.sql(sql, params=params).pl()
        if agents.height == 0:
            apply_irf_acw(con, audit_key, agents)  # the IRFs this load rewrote keep their agents' ACW
            return dict.fromkeys(SM_TABLES, 0), 0
        with registered(con, _agents=agents):
            events = con.sql(
                f"SELECT {_COLUMNS} FROM STG_EVENTS s JOIN _agents a ON a.agent = s.ACTOR_ID"
                f" AND a.tenant = coalesce(s.TENANT, 'Resources') WHERE s.EVENT IN ({_EVENTS})"
            ).pl()
        facts = derive_agent_states(events, options, event_store.newest_event_ms(con))
        moved = self._quarantine(con, facts.rejected, events)
        rows = write_agent_facts(con, facts, audit_key)
        apply_irf_acw(con, audit_key, agents)
        return rows, moved

    def _quarantine(self, con: duckdb.DuckDBPyConnection, rejected: pl.DataFrame, events: pl.DataFrame) -> int:
        if self.orphan_before_ms is None or rejected.height == 0:
            return 0
        located = rejected.join(events.select("event_id", "source_file", "source_line", "run_id"), on="event_id")
        arrived = pl.col("run_id").replace_strict(self.arrivals or {}, default=0, return_dtype=pl.Int64)
        due = located.filter(arrived < self.orphan_before_ms)
        if due.height == 0:
            return 0
        prefix = "agent-state event outside any login session after the late-arrival window: "
        rejected_rows = due.select("event_id", "field", reason=pl.lit(prefix) + pl.col("reason"))
        event_store.quarantine_stored(con, rejected_rows, self.run_id or "rederive")  # with its raw text
        return due.height
