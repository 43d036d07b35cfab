"""Pydantic models of the configuration-log contract (../shared/contract/config.md, version 1): the envelope every
line carries and the fields of each object type. They are the one definition of a valid line; `validate_line`
turns their errors into the quarantine's FIELD and REASON.

The events contract's conventions hold (`etl.ingest.models`): null is the same as absent, strict types, unknown
extra fields ignored. Fields the contract lists without `?` are required on an upsert; a delete needs only the
envelope.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal

from pydantic import Field, ValidationError

from etl.ingest.models import ContractModel, NonEmpty, UtcMillis, _describe

ObjectType = Literal["Person", "AgentGroup", "PlaceGroup", "Place", "Skill", "Script"]
Level = Annotated[int, Field(ge=0, le=2**31 - 1)]


class CfgEnvelope(ContractModel):
    object: ObjectType
    id: NonEmpty
    ts: UtcMillis
    op: Literal["upsert", "delete"] = "upsert"
    tenant: str = "Resources"


class Person(ContractModel):
    first_name: str
    last_name: str
    employee_id: str
    user_name: str
    is_agent: bool = True
    place: NonEmpty | None = None
    agent_groups: list[NonEmpty]
    skills: dict[NonEmpty, Level]


class Group(ContractModel):
    """AgentGroup and PlaceGroup: `members` are Person / Place ids."""

    name: str | None = None
    members: list[NonEmpty] | None = None


class Place(ContractModel):
    name: str | None = None
    place_groups: list[NonEmpty] | None = None


class Skill(ContractModel):
    name: str | None = None


class Script(ContractModel):
    script_type: Literal["InteractionQueue", "Workbin", "VirtualQueue", "RoutingStrategy", "Workflow"]
    media_type: str | None = None


PAYLOAD_MODELS: dict[str, type[ContractModel]] = {
    "Person": Person,
    "AgentGroup": Group,
    "PlaceGroup": Group,
    "Place": Place,
    "Skill": Skill,
    "Script": Script,
}

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ENVELOPE_FIELDS = frozenset(CfgEnvelope.model_fields)


def validate_line(data: Any) -> tuple[dict[str, Any] | None, str | None, str | None]:
    """One decoded line -> (row, None, None) or (None, field, reason). The row: tenant, object, id, ts_ms, op,
    payload (canonical JSON of the object's fields, defaults filled in) and cfg_key (a hash of all of it, so that
    an identical line is recognised as a duplicate however its JSON was written)."""
    if not isinstance(data, dict):
        return None, None, f"not a JSON object (got {type(data).__name__})"
    try:
        env = CfgEnvelope.model_validate(data)
    except ValidationError as exc:
        return _reason(exc)
    payload: dict[str, Any] = {}
    if env.op == "upsert":
        fields = {k: v for k, v in data.items() if k not in _ENVELOPE_FIELDS}
        try:
            payload = PAYLOAD_MODELS[env.object].model_validate(fields).model_dump(mode="json")
        except ValidationError as exc:
            return _reason(exc, prefix=env.object)
    ts_ms = (env.ts - _EPOCH) // timedelta(milliseconds=1)
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    identity = json.dumps([env.tenant, env.object, env.id, ts_ms, env.op, text], ensure_ascii=False)
    row = {
        "cfg_key": hashlib.sha256(identity.encode()).hexdigest()[:32],
        "tenant": env.tenant,
        "object": env.object,
        "id": env.id,
        "ts_ms": ts_ms,
        "op": env.op,
        "payload": text,
    }
    return row, None, None


def _reason(exc: ValidationError, prefix: str | None = None) -> tuple[None, str | None, str]:
    errors = exc.errors(include_url=False)
    described = [_describe({**e, "loc": ("_", *e["loc"])}) for e in errors]
    head = f"{prefix}: " if prefix else ""
    return None, described[0][0], head + "; ".join(text for _, text in described)
