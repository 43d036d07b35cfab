"""Agent-state events in, SM_RES_* fact frames out (natural keys, epoch seconds; no database).

The events are cut per agent with Polars (`partition_by` tenant and agent); each agent's events go through GIM's
rules once (`etl.domain.agent_states.derive_agent`, a walk in time order: summarized states depend on everything
before them, so this is the one sequential step) and the rows come back as three frames built column-wise.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from etl.domain.agent_states import AgentRejection, Span, derive_agent
from etl.domain.options import GimOptions
from etl.ingest.columns import AGENT_STATE_EVENTS

#: Event-frame columns the agent-state rules read.
AGENT_COLUMNS = ("event_id", "event", "ts_ms", "seq", "tenant", "actor_id", "media_type", "workmode", "reason")

_SPAN = {"start_ms": pl.Int64, "end_ms": pl.Int64}
_WHO = {"tenant": pl.String, "agent": pl.String, "media": pl.String, "natural_key": pl.String}
SESSION_SCHEMA = {**_WHO, **_SPAN}
STATE_SCHEMA = {**_WHO, "session_nk": pl.String, "state": pl.String, **_SPAN}
REASON_SCHEMA = {
    **_WHO,
    "state_nk": pl.String,
    "state": pl.String,
    "reason_nk": pl.String,
    "reason_type": pl.String,
    "hardware_reason": pl.String,
    "software_key": pl.String,
    "software_value": pl.String,
    "workmode": pl.String,
    **_SPAN,
}
REJECTED_SCHEMA = {"event_id": pl.String, "ts_ms": pl.Int64, "field": pl.String, "reason": pl.String}


@dataclass(frozen=True)
class AgentStateFrames:
    sessions: pl.DataFrame
    states: pl.DataFrame
    reasons: pl.DataFrame
    rejected: pl.DataFrame
    agents: pl.DataFrame  # tenant, agent: every agent whose events were derived


def _span(span: Span) -> tuple[int, int | None]:
    return span.start_ms, span.end_ms


def derive_agent_states(events: pl.DataFrame, options: GimOptions, horizon_ms: int) -> AgentStateFrames:
    """Facts of every agent with events in `events` (an event frame; other events are ignored). Each agent's
    events must all be there: an agent's states are re-derived from its whole history."""
    ev = events.filter(pl.col("event").is_in(list(AGENT_STATE_EVENTS)) & pl.col("actor_id").is_not_null())
    ev = ev.select(AGENT_COLUMNS).with_columns(pl.col("tenant").fill_null("Resources"))
    sessions, states, reasons, rejected = [], [], [], []
    agents = []
    for (tenant, agent), part in ev.partition_by("tenant", "actor_id", as_dict=True, maintain_order=True).items():
        facts = derive_agent(str(tenant), str(agent), part.to_dicts(), options, horizon_ms)
        agents.append((tenant, agent))
        who = (tenant, agent)
        sessions += [(*who, s.media, s.key, *_span(s.span)) for s in facts.rows.sessions]
        states += [(*who, s.media, s.key, s.session_key, s.state, *_span(s.span)) for s in facts.rows.states]
        state_of = {s.key: s.state for s in facts.rows.states}
        reasons += [
            (*who, r.media, r.key, r.state_key, state_of[r.state_key], r.reason.natural_key, r.reason.reason_type,
             r.reason.hardware_reason, r.reason.software_key, r.reason.software_value, r.reason.workmode,
             *_span(r.span))
            for r in facts.rows.reasons
        ]  # fmt: skip
        rejected += [_rejected(r) for r in facts.rejected]
    return AgentStateFrames(
        sessions=pl.DataFrame(sessions, schema=SESSION_SCHEMA, orient="row"),
        states=pl.DataFrame(states, schema=STATE_SCHEMA, orient="row"),
        reasons=pl.DataFrame(reasons, schema=REASON_SCHEMA, orient="row"),
        rejected=pl.DataFrame(rejected, schema=REJECTED_SCHEMA, orient="row"),
        agents=pl.DataFrame(agents, schema={"tenant": pl.String, "agent": pl.String}, orient="row"),
    )


def _rejected(r: AgentRejection) -> tuple[str, int, str, str]:
    return r.event_id, r.ts_ms, r.field, r.reason
