"""The normalized (flattened) event frame: the one interface between ingestion and the fact rules.

Ingestion turns every accepted contract event (../shared/contract/events.md) into one row of this shape;
nested objects (actor, party, queue, target) are flattened to prefixed columns so that DuckDB and Polars
can work on them set-based. Timestamps are integer UTC milliseconds (`ts_ms`) so that ordering and
durations need no time-zone handling.
"""

from __future__ import annotations

import polars as pl

#: Event names of the contract (version 1, then the 1.1 additions; the agent-state events last).
EVENT_NAMES: tuple[str, ...] = (
    "EventInteractionSubmitted",
    "EventPlacedInQueue",
    "EventPlacedInWorkbin",
    "EventTakenFromQueue",
    "EventTakenFromWorkbin",
    "EventVirtualQueueEntered",
    "EventVirtualQueueLeft",
    "EventAgentInvited",
    "EventPartyAdded",
    "EventRejected",
    "EventRevoked",
    "EventPartyRemoved",
    "EventHeld",
    "EventResumed",
    "EventProcessingStopped",
    "EventPropertiesChanged",
    # version 1.1: one message of an online session
    "EventChatMessage",
    "EventAgentLogin",
    "EventAgentLogout",
    "EventNotReadyForMedia",
    "EventReadyForMedia",
    # version 1.1 agent-state events
    "EventMediaAdded",
    "EventMediaRemoved",
    "EventDoNotDisturbOn",
    "EventDoNotDisturbOff",
    "EventAgentStateReasonChanged",
    "EventMediaStateReasonChanged",
)

#: Agent-state events: about an agent, not an interaction (no part of an interaction's history); they become the
#: SM_RES_* facts (etl.transform.agent_states).
AGENT_STATE_EVENTS: frozenset[str] = frozenset(EVENT_NAMES[EVENT_NAMES.index("EventAgentLogin") :])

#: Column name -> Polars dtype of the normalized event frame, in order.
EVENT_SCHEMA: dict[str, pl.DataType] = {
    "event_id": pl.String(),
    "event": pl.String(),
    "ts_ms": pl.Int64(),  # UTC epoch milliseconds
    "seq": pl.Int64(),  # nullable
    "interaction_id": pl.String(),
    "tenant": pl.String(),  # default "Resources"
    # EventInteractionSubmitted attributes
    "media_type": pl.String(),
    "interaction_type": pl.String(),
    "interaction_subtype": pl.String(),
    "parent_id": pl.String(),
    "thread_id": pl.String(),
    # actor {type,id,name,place,first_name,last_name,employee_id}
    "actor_type": pl.String(),
    "actor_id": pl.String(),
    "actor_name": pl.String(),
    "actor_place": pl.String(),
    "actor_first_name": pl.String(),
    "actor_last_name": pl.String(),
    "actor_employee_id": pl.String(),
    # party {type,id,name,place,first_name,last_name,employee_id}
    "party_type": pl.String(),
    "party_id": pl.String(),
    "party_name": pl.String(),
    "party_place": pl.String(),
    "party_first_name": pl.String(),
    "party_last_name": pl.String(),
    "party_employee_id": pl.String(),
    # queue {type,name,role,owner{type,id},workbin_type}
    "queue_type": pl.String(),  # InteractionQueue | Workbin
    "queue_name": pl.String(),
    "queue_role": pl.String(),  # outbound | stop | null
    "queue_owner_type": pl.String(),
    "queue_owner_id": pl.String(),
    "workbin_type": pl.String(),
    # virtual queue events
    "vq": pl.String(),
    "outcome": pl.String(),  # routed | cleared | abandoned
    "target_type": pl.String(),
    "target_id": pl.String(),
    "target_name": pl.String(),  # a routing invitation's target (config.md), or a routed party's name
    "target_expression": pl.String(),  # the skill expression of a Skill routing target
    # misc
    "reason": pl.String(),
    "user_data": pl.String(),  # JSON object text, or null
    # agent-state events (version 1.1): GIM work mode of EventNotReadyForMedia, place of EventMediaAdded/Removed
    "workmode": pl.String(),
    "place": pl.String(),
    # online sessions (version 1.1): EventChatMessage.length, characters
    "message_length": pl.Int64(),
    # lineage
    "source_file": pl.String(),
    "source_line": pl.Int64(),
}

EVENT_COLUMNS: tuple[str, ...] = tuple(EVENT_SCHEMA)

#: Columns that say where an event came from rather than what it says.
LINEAGE_COLUMNS: tuple[str, ...] = ("source_file", "source_line")


def column_of(path: tuple[str, ...]) -> str:
    """Normalized column of a contract field path (queue.workbin_type and a message's length are irregular)."""
    name = "_".join(path)
    return _IRREGULAR.get(name, name)


#: Contract field paths whose column is not their joined path.
_IRREGULAR = {"queue_workbin_type": "workbin_type", "length": "message_length"}
