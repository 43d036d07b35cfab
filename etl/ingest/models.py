"""Pydantic models of the raw event contract (../shared/contract/events.md, version 1.1; every v1 line stays valid).

These models are the single source of truth for "what is a valid event". Ingestion does not run them on
every row (too slow at millions of events); it derives its set-based SQL checks from them via
`field_specs()` and runs the models only on the rows the SQL rejects, to get the precise quarantine reason
(and to rescue any row the SQL was stricter about than the models).

Conventions, chosen so that NDJSON and Parquet (where every absent column is a null) behave alike:
- a JSON `null` is the same as an absent field (so a required field that is null is "missing");
- validation is strict: no number-to-string or string-to-number coercion; unknown extra fields are ignored.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from types import NoneType, UnionType
from typing import Annotated, Any, Literal, Union, get_args, get_origin

import annotated_types as at
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    TypeAdapter,
    ValidationError,
    model_validator,
)
from pydantic.fields import FieldInfo

from etl.ingest import jsontext
from etl.ingest.columns import EVENT_NAMES

#: Exact `ts` shape: ISO-8601, UTC (`Z` or `+00:00`), exactly three fraction digits. ASCII digits only.
TS_REGEX = r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}(Z|\+00:00)"
_TS_RE = re.compile(TS_REGEX)
#: strptime format of the first 23 characters (the part before the UTC designator).
TS_STRPTIME = "%Y-%m-%dT%H:%M:%S.%f"


def load_json(text: str | bytes) -> Any:
    """Strict `json.loads` (`jsontext.loads`: no NaN, no trailing comma, bounded depth) that, like DuckDB's
    parser, keeps the first of duplicate keys and rejects lone surrogates.

    Both rules keep the pydantic path and the SQL path in agreement on the same input text.
    """
    value = jsontext.loads(text if isinstance(text, str) else text.decode(), object_pairs_hook=_first_key_wins)
    json.dumps(value, ensure_ascii=False).encode()  # UnicodeEncodeError (a ValueError) on lone surrogates
    return value


def _first_key_wins(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in pairs:
        out.setdefault(k, v)
    return out


def _parse_ts(value: Any) -> Any:
    """Accept only the contract's timestamp shape; return an aware UTC datetime."""
    if not isinstance(value, str):
        return value  # let strict datetime validation report the wrong type
    if not _TS_RE.fullmatch(value):
        raise ValueError(
            f"malformed timestamp {value!r}: expected ISO-8601 UTC with milliseconds, e.g. 2026-03-02T09:15:04.250Z"
        )
    try:
        return datetime.strptime(value[:23], TS_STRPTIME).replace(tzinfo=UTC)
    except ValueError:
        raise ValueError(f"invalid date or time in timestamp {value!r}") from None


def _parse_user_data(value: Any) -> Any:
    """user_data arrives as an object (NDJSON, Parquet map/struct) or as a JSON string holding an object."""
    if isinstance(value, str):
        try:
            value = load_json(value)
        except ValueError:
            raise ValueError("a string, but not valid JSON") from None
        if not isinstance(value, dict):
            raise ValueError("must be a JSON object (or a JSON string holding one)")
    return value


UtcMillis = Annotated[datetime, BeforeValidator(_parse_ts)]
UserData = Annotated[dict[str, Any], BeforeValidator(_parse_user_data)]
NonEmpty = Annotated[str, StringConstraints(min_length=1)]
Int64 = Annotated[int, Field(ge=-(2**63), le=2**63 - 1)]

#: Version 1.1 adds `Customer` (the contact of an online interaction) and `Bot` (an automated participant): parties
#: that never get an IRF (etl.domain.rules.online).
PartyType = Literal["Agent", "Place", "Strategy", "MediaServer", "System", "Customer", "Bot"]
OwnerType = Literal["Agent", "Place", "AgentGroup", "PlaceGroup"]


class ContractModel(BaseModel):
    """Base: strict types, extra fields ignored, null == absent."""

    model_config = ConfigDict(extra="ignore", strict=True, frozen=True)

    @model_validator(mode="before")
    @classmethod
    def _null_is_absent(cls, data: Any) -> Any:
        return {k: v for k, v in data.items() if v is not None} if isinstance(data, dict) else data


class Party(ContractModel):
    """An actor, party or target: `{"type", "id", "name"?}`; agents may add place and person fields."""

    type: PartyType
    id: NonEmpty
    name: str | None = None
    place: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    employee_id: str | None = None


class Owner(ContractModel):
    """The owner of a workbin."""

    type: OwnerType
    id: NonEmpty


class Queue(ContractModel):
    """An interaction queue or a workbin."""

    type: Literal["InteractionQueue", "Workbin"]
    name: NonEmpty
    role: Literal["outbound", "stop"] | None = None
    owner: Owner | None = None
    workbin_type: str | None = None


class InteractionQueue(Queue):
    """A queue that must be an interaction queue (EventPlacedInQueue / EventTakenFromQueue)."""

    type: Literal["InteractionQueue"]


class Workbin(Queue):
    """A queue that must be a workbin (EventPlacedInWorkbin / EventTakenFromWorkbin)."""

    type: Literal["Workbin"]


class Envelope(ContractModel):
    """Fields every event carries."""

    event_id: NonEmpty
    event: str
    ts: UtcMillis
    seq: Int64 | None = None
    interaction_id: NonEmpty
    tenant: str = "Resources"


class EventInteractionSubmitted(Envelope):
    event: Literal["EventInteractionSubmitted"]
    media_type: NonEmpty
    interaction_type: Literal["Inbound", "Outbound", "Internal"]
    interaction_subtype: NonEmpty
    parent_id: str | None = None
    thread_id: str | None = None
    queue: Queue | None = None
    actor: Party | None = None
    user_data: UserData | None = None


class EventPlacedInQueue(Envelope):
    event: Literal["EventPlacedInQueue"]
    queue: InteractionQueue
    actor: Party | None = None


class EventPlacedInWorkbin(Envelope):
    event: Literal["EventPlacedInWorkbin"]
    queue: Workbin
    actor: Party | None = None


class EventTakenFromQueue(Envelope):
    event: Literal["EventTakenFromQueue"]
    queue: InteractionQueue
    actor: Party


class EventTakenFromWorkbin(Envelope):
    event: Literal["EventTakenFromWorkbin"]
    queue: Workbin
    actor: Party


class EventVirtualQueueEntered(Envelope):
    event: Literal["EventVirtualQueueEntered"]
    vq: NonEmpty
    actor: Party


class EventVirtualQueueLeft(Envelope):
    event: Literal["EventVirtualQueueLeft"]
    vq: NonEmpty
    actor: Party
    outcome: Literal["routed", "cleared", "abandoned"]
    target: Party | None = None


class RoutingTarget(ContractModel):
    """What a routing strategy was asked to route to (../shared/contract/config.md, "Routing targets"): GIM's
    ROUTING_TARGET. `expression` is the skill expression of a Skill target."""

    type: Literal["Agent", "AgentGroup", "PlaceGroup", "Skill", "Place"]
    name: NonEmpty
    expression: str | None = None


class EventAgentInvited(Envelope):
    event: Literal["EventAgentInvited"]
    party: Party
    actor: Party
    reason: Literal["route", "transfer", "consult", "conference"]
    vq: str | None = None
    target: RoutingTarget | None = None


class EventPartyAdded(Envelope):
    event: Literal["EventPartyAdded"]
    party: Party
    reason: str | None = None


class EventRejected(Envelope):
    event: Literal["EventRejected"]
    party: Party


class EventRevoked(Envelope):
    event: Literal["EventRevoked"]
    party: Party


class EventPartyRemoved(Envelope):
    event: Literal["EventPartyRemoved"]
    party: Party
    reason: str | None = None


class EventHeld(Envelope):
    event: Literal["EventHeld"]
    actor: Party | None = None


class EventResumed(Envelope):
    event: Literal["EventResumed"]
    actor: Party | None = None


class EventProcessingStopped(Envelope):
    event: Literal["EventProcessingStopped"]
    actor: Party | None = None
    reason: str | None = None


class EventPropertiesChanged(Envelope):
    event: Literal["EventPropertiesChanged"]
    user_data: UserData


class EventChatMessage(Envelope):
    """Version 1.1: one message of an online session; `party` wrote it (Customer, Agent, Bot or System), `length`
    is its size in characters (the text is not part of the contract). Stored as STG_EVENTS.MESSAGE_LENGTH."""

    event: Literal["EventChatMessage"]
    party: Party
    length: Annotated[int, Field(ge=0, le=2**63 - 1)] | None = None


# Agent-state events (v1 and the v1.1 additions) live in their own module; `etl/ingest/__init__.py` imports this
# module first, so the import below sees the classes above.
from etl.ingest.agent_models import AGENT_MODELS_V1, AGENT_MODELS_V11, parse_reason  # noqa: E402

#: Event name -> model, in contract order.
EVENT_MODELS: dict[str, type[Envelope]] = {
    m.model_fields["event"].annotation.__args__[0]: m  # type: ignore[union-attr]
    for m in (
        EventInteractionSubmitted,
        EventPlacedInQueue,
        EventPlacedInWorkbin,
        EventTakenFromQueue,
        EventTakenFromWorkbin,
        EventVirtualQueueEntered,
        EventVirtualQueueLeft,
        EventAgentInvited,
        EventPartyAdded,
        EventRejected,
        EventRevoked,
        EventPartyRemoved,
        EventHeld,
        EventResumed,
        EventProcessingStopped,
        EventPropertiesChanged,
        EventChatMessage,
        *AGENT_MODELS_V1,
        *AGENT_MODELS_V11,
    )
}
assert tuple(EVENT_MODELS) == EVENT_NAMES, "models and etl.ingest.columns.EVENT_NAMES disagree"

Event = Annotated[Union[tuple(EVENT_MODELS.values())], Field(discriminator="event")]  # noqa: UP007
EVENT_ADAPTER: TypeAdapter[Envelope] = TypeAdapter(Event)


# ----------------------------------------------------------------------------------------------------------
# Errors as quarantine reasons


def validate_event(data: Any) -> tuple[Envelope | None, str | None, str | None]:
    """Validate one decoded event. Returns (model, None, None) or (None, field path, human reason)."""
    if not isinstance(data, dict):
        return None, None, f"not a JSON object (got {type(data).__name__})"
    try:
        return EVENT_ADAPTER.validate_python(data), None, None
    except ValidationError as exc:
        errors = exc.errors(include_url=False)
    first = errors[0]
    if first["type"] == "union_tag_not_found":
        return None, "event", "required field 'event' is missing"
    if first["type"] == "union_tag_invalid":
        return None, "event", f"unknown event name {first['ctx']['tag']!r}"
    described = [_describe(e) for e in errors]
    return None, described[0][0], f"{first['loc'][0]}: " + "; ".join(text for _, text in described)


def _describe(err: Any) -> tuple[str, str]:
    """(field path, message) of one pydantic error; loc[0] is the union tag (the event name), so skip it."""
    path = ".".join(str(p) for p in err["loc"][1:])
    if err["type"] == "missing":
        return path, f"required field '{path}' is missing"
    msg = err["msg"].removeprefix("Value error, ")
    got = "" if err["type"] == "value_error" else f" (got {_short(err.get('input'))})"
    return path, f"{path}: {msg}{got}"


def _short(value: Any, limit: int = 80) -> str:
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= limit else text[: limit - 3] + "..."


# ----------------------------------------------------------------------------------------------------------
# Check specification derived from the models (drives the SQL fast path, etl.ingest.fast_sql)

Kind = Literal["str", "enum", "int", "ts", "user_data", "object", "reason"]  # reason: string or {key, value}


@dataclass(frozen=True)
class FieldSpec:
    """One field of one event model, flattened: what the SQL must check for it."""

    path: tuple[str, ...]
    kind: Kind
    required: bool  # required when its parent object is present
    non_empty: bool = False
    values: tuple[str, ...] = ()  # allowed values of an enum
    bounds: tuple[int, int] | None = None  # inclusive bounds of an int


def field_specs(model: type[BaseModel], prefix: tuple[str, ...] = ()) -> list[FieldSpec]:
    """Flatten a model's fields (recursively, parents before children) into check specifications.

    Raises TypeError for an annotation it does not understand, so that a model change cannot silently make
    the SQL checks weaker than the models.
    """
    specs: list[FieldSpec] = []
    for name, info in model.model_fields.items():
        path = (*prefix, name)
        base, meta = _unwrap(info.annotation)
        meta = [*meta, *info.metadata]
        required = info.is_required()
        if isinstance(base, type) and issubclass(base, BaseModel):
            specs.append(FieldSpec(path, "object", required))
            specs.extend(field_specs(base, path))
        elif get_origin(base) is Literal:
            specs.append(FieldSpec(path, "enum", required, values=tuple(get_args(base))))
        elif any(isinstance(m, BeforeValidator) and m.func is _parse_ts for m in meta):
            specs.append(FieldSpec(path, "ts", required))
        elif any(isinstance(m, BeforeValidator) and m.func is _parse_user_data for m in meta):
            specs.append(FieldSpec(path, "user_data", required))
        elif any(isinstance(m, BeforeValidator) and m.func is parse_reason for m in meta):
            specs.append(FieldSpec(path, "reason", required))
        elif base is str:
            non_empty = any(getattr(m, "min_length", 0) for m in meta)
            specs.append(FieldSpec(path, "str", required, non_empty=non_empty))
        elif base is int:
            lo = next((m.ge for m in meta if isinstance(m, at.Ge)), None)
            hi = next((m.le for m in meta if isinstance(m, at.Le)), None)
            if lo is None or hi is None:
                raise TypeError(f"{model.__name__}.{name}: int fields need explicit ge/le bounds")
            specs.append(FieldSpec(path, "int", required, bounds=(int(lo), int(hi))))  # type: ignore[call-overload]
        else:
            raise TypeError(f"{model.__name__}.{name}: unsupported annotation {info.annotation!r}")
    return specs


def _unwrap(tp: Any) -> tuple[Any, list[Any]]:
    """Strip `X | None` and `Annotated[X, ...]`; return X and the Annotated metadata."""
    meta: list[Any] = []
    while True:
        origin = get_origin(tp)
        if origin in (Union, UnionType):
            args = [a for a in get_args(tp) if a is not NoneType]
            if len(args) != 1:
                raise TypeError(f"unsupported union {tp!r}")
            tp = args[0]
        elif origin is Annotated:
            tp, *extra = get_args(tp)
            for m in extra:  # Field(...) inside Annotated arrives as a FieldInfo holding its constraints
                meta.extend(m.metadata if isinstance(m, FieldInfo) else [m])
        else:
            return tp, meta


#: Event name -> its flattened field specifications.
EVENT_SPECS: dict[str, list[FieldSpec]] = {name: field_specs(model) for name, model in EVENT_MODELS.items()}
