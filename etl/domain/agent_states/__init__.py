"""GIM's agent-state rules: one agent's agent-state events in, its SM_RES_SESSION_FACT, SM_RES_STATE_FACT and
SM_RES_STATE_REASON_FACT rows out, plus the events that fit no login session. No I/O, no frames.

`timeline` walks the events (sessions per media, state priority, DND); `summarize` turns the walk into rows in
whole seconds with GIM's caps; `catalogue` holds RESOURCE_STATE and RESOURCE_STATE_REASON labels. The GIM pages
each rule implements are cited next to it (main one: "Populating agent activity",
https://docs.genesys.com/Documentation/GIM/latest/User/GIMPopAgent).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from etl.domain.agent_states.catalogue import RESOURCE_STATES, STATE_KEY, Reason, code, parse_reason
from etl.domain.agent_states.summarize import AgentRows, ReasonRow, SessionRow, Span, StateRow, summarize
from etl.domain.agent_states.timeline import AgentRejection, AgentWalk, state_rank
from etl.domain.options import GimOptions

__all__ = [
    "RESOURCE_STATES",
    "STATE_KEY",
    "AgentFacts",
    "AgentRejection",
    "AgentRows",
    "Reason",
    "ReasonRow",
    "SessionRow",
    "Span",
    "StateRow",
    "code",
    "derive_agent",
    "parse_reason",
]


@dataclass
class AgentFacts:
    rows: AgentRows
    rejected: list[AgentRejection]


def derive_agent(
    tenant: str, agent: str, events: Sequence[Mapping[str, Any]], options: GimOptions, horizon_ms: int
) -> AgentFacts:
    """One agent's facts from its agent-state events (any order: sorted here by ts, seq, event_id).

    Events are mappings with the event frame's columns (`event`, `event_id`, `ts_ms`, `seq`, `media_type`,
    `workmode`, `reason`); `horizon_ms` is the newest stored event's time (open rows past their cap end there)."""
    ordered = sorted(events, key=lambda e: (e["ts_ms"], e.get("seq") is None, e.get("seq") or 0, e["event_id"]))
    walk = AgentWalk(agent, options, state_rank(options)).run(ordered)
    return AgentFacts(summarize(f"{tenant}|{agent}", walk.close(), options, horizon_ms), walk.rejected)
