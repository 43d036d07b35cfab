"""Pydantic models of the agent-state events (../shared/contract/events.md, version 1.1 additions).

Agent-state events are about an agent, not an interaction: `interaction_id` is optional (stored when present).
`EventNotReadyForMedia` carries GIM's `workmode` and a reason that is either a plain string or `{"key", "value"}`
(a not-ready reason code as an agent desktop attaches it); both arrive in the one `reason` column, the object as
its canonical JSON text (`{"key":K,"value":V}`), which `etl.domain.agent_states.reasons.parse_reason` reads back.
The fast SQL path accepts string reasons only, so an object reason is validated (and rescued) by these models.

Imported by `etl.ingest.models` (which registers these models); `etl/ingest/__init__.py` imports `models` first
so that importing this module on its own works too.
"""

from __future__ import annotations

import json
import re
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator

from etl.ingest.models import Envelope, NonEmpty, Party

#: GIM's work modes (RESOURCE_STATE_REASON.WORKMODE), as the contract lists them.
Workmode = Literal["Unknown", "AuxWork", "AfterCallWork", "Manual", "Auto", "LegalGuard"]


def parse_reason(value: Any) -> Any:
    """A plain string stays as it is; `{"key": K, "value": V}` (V a string or null) becomes its canonical JSON text,
    the text DuckDB's `json_object` writes (etl.ingest.fast_sql gives the same text)."""
    if isinstance(value, dict):
        key, val = value.get("key"), value.get("value")
        if set(value) - {"key", "value"} or not isinstance(key, str) or not key:
            raise ValueError('a reason object must be {"key": non-empty string, "value": string}')
        if val is not None and not isinstance(val, str):
            raise ValueError("a reason's value must be a string")
        text = json.dumps({"key": key, "value": val}, separators=(",", ":"), ensure_ascii=False)
        return _UNICODE_ESCAPE.sub(lambda m: m.group(1) + "\\u" + m.group(2).upper(), text)
    return value


#: A \uXXXX escape (not an escaped backslash followed by "u"): DuckDB writes its hex digits in upper case.
_UNICODE_ESCAPE = re.compile(r"(?<!\\)((?:\\\\)*)\\u([0-9a-f]{4})")


#: `reason` of an agent-state event: a string, or an object given as its JSON text.
AgentReason = Annotated[str, BeforeValidator(parse_reason)]


class _AgentEvent(Envelope):
    """Agent-state envelope: `interaction_id` optional."""

    interaction_id: NonEmpty | None = None  # type: ignore[assignment]
    actor: Party


class EventAgentLogin(_AgentEvent):
    event: Literal["EventAgentLogin"]
    media_type: str | None = None
    reason: AgentReason | None = None


class EventAgentLogout(_AgentEvent):
    event: Literal["EventAgentLogout"]
    media_type: str | None = None
    reason: AgentReason | None = None


class EventNotReadyForMedia(_AgentEvent):
    event: Literal["EventNotReadyForMedia"]
    media_type: str | None = None
    workmode: Workmode | None = None
    reason: AgentReason | None = None


class EventReadyForMedia(_AgentEvent):
    event: Literal["EventReadyForMedia"]
    media_type: str | None = None
    reason: AgentReason | None = None


class EventMediaAdded(_AgentEvent):
    event: Literal["EventMediaAdded"]
    media_type: NonEmpty
    place: str | None = None


class EventMediaRemoved(_AgentEvent):
    event: Literal["EventMediaRemoved"]
    media_type: NonEmpty
    place: str | None = None


class EventDoNotDisturbOn(_AgentEvent):
    event: Literal["EventDoNotDisturbOn"]


class EventDoNotDisturbOff(_AgentEvent):
    event: Literal["EventDoNotDisturbOff"]


class EventAgentStateReasonChanged(_AgentEvent):
    event: Literal["EventAgentStateReasonChanged"]
    media_type: str | None = None
    reason: AgentReason


class EventMediaStateReasonChanged(_AgentEvent):
    event: Literal["EventMediaStateReasonChanged"]
    media_type: str | None = None
    reason: AgentReason


#: Version 1 agent-state models (in contract order) and the version 1.1 additions.
AGENT_MODELS_V1: tuple[type[Envelope], ...] = (
    EventAgentLogin,
    EventAgentLogout,
    EventNotReadyForMedia,
    EventReadyForMedia,
)
AGENT_MODELS_V11: tuple[type[Envelope], ...] = (
    EventMediaAdded,
    EventMediaRemoved,
    EventDoNotDisturbOn,
    EventDoNotDisturbOff,
    EventAgentStateReasonChanged,
    EventMediaStateReasonChanged,
)
