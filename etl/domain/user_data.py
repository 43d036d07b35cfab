"""GIM's user-data mapping: which attached-data key (KVP) goes to which column of which user-data table, with
which type, length, default and propagation rule; and the rule that says which value an IRF gets.

GIM keeps the mapping in CTL_UD_TO_UDE_MAPPING (key name, table, column, default value, propagation rule)
(https://docs.genesys.com/Documentation/GIM/latest/PDMPostgre/Table-CTL_UD_TO_UDE_MAPPING); we keep it as the typed
``[user-data]`` section of the TOML config. The tables are GIM's: IRF_USER_DATA_GEN_1 (predefined high-cardinality
KVPs, https://docs.genesys.com/Documentation/GIM/latest/PDMOra/Table-IRF_USER_DATA_GEN_1), IRF_USER_DATA_CUST_1
(deployment-specific, CUSTOM_DATA_1..16, https://docs.genesys.com/Documentation/GIM/latest/PDMOra/Table-IRF_USER_DATA_CUST_1),
and the low-cardinality dimensions behind IRF_USER_DATA_KEYS: INTERACTION_DESCRIPTOR (predefined) and
USER_DATA_CUST_DIM_1 (DIM_ATTRIBUTE_1..5, https://docs.genesys.com/Documentation/GIM/Current/PDMPostgre/Table-USER_DATA_CUST_DIM_1).

Propagation rules implemented (CTL_UD_TO_UDE_MAPPING page):
* ``CALL`` (default): "the latest KVP value that is associated with the call" — for an IRF, the value as of the
  moment the interaction leaves the resource (its end; for an active IRF, its latest event);
* ``IRF_INITIAL``: the value as of the start of the IRF.
Values come from ``user_data`` on EventInteractionSubmitted and EventPropertiesChanged, merged in event order, a
null value deleting the key (events contract).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

GEN_TABLE = "IRF_USER_DATA_GEN_1"
CUST_TABLE = "IRF_USER_DATA_CUST_1"
DESCRIPTOR_TABLE = "INTERACTION_DESCRIPTOR"
CUST_DIM_TABLE = "USER_DATA_CUST_DIM_1"

#: Every column a KVP may be mapped to, per table, with its storage type and width (as schema/mart.yaml has them;
#: tests/test_user_data.py checks they agree). Number columns are DECIMAL(18,2).
TARGETS: dict[str, dict[str, tuple[Literal["string", "number"], int]]] = {
    GEN_TABLE: {
        "CASE_ID": ("string", 1024),
        "CUSTOMER_ID": ("string", 1024),
        "SERVICE_OBJECTIVE": ("string", 1024),
        "GSW_CALL_TYPE": ("string", 1024),
        "GVP_SESSION_ID": ("string", 1024),
        "REVENUE": ("number", 18),
        "SATISFACTION": ("number", 18),
    },
    CUST_TABLE: {f"CUSTOM_DATA_{i}": ("string", 1024) for i in range(1, 17)},
    DESCRIPTOR_TABLE: {
        c: ("string", 255) for c in ("CUSTOMER_SEGMENT", "SERVICE_TYPE", "SERVICE_SUBTYPE", "BUSINESS_RESULT")
    },
    CUST_DIM_TABLE: {f"DIM_ATTRIBUTE_{i}": ("string", 255) for i in range(1, 6)},
}
#: Tables whose rows are dimension rows reached through IRF_USER_DATA_KEYS (one row per combination of values).
DIMENSION_TABLES = (DESCRIPTOR_TABLE, CUST_DIM_TABLE)

Propagation = Literal["CALL", "IRF_INITIAL"]


class KeyMapping(BaseModel):
    """One KVP -> one column (a row of GIM's CTL_UD_TO_UDE_MAPPING)."""

    model_config = ConfigDict(populate_by_name=True, frozen=True, extra="forbid")

    key: str = Field(min_length=1, description="The attached-data key, as the events carry it (case-sensitive).")
    table: str = Field(description="Target table: " + ", ".join(TARGETS))
    column: str = Field(description="Target column of that table.")
    type: Literal["string", "number"] = Field("string", description="string, or number (decimal).")
    max_length: int | None = Field(
        None, alias="max-length", ge=1, description="Longest string kept; default the column's width."
    )
    default: str | float | None = Field(None, description="Stored when the key is absent or its value is bad.")
    propagation: Propagation = Field("CALL", description="Which value an IRF gets: CALL or IRF_INITIAL.")

    @model_validator(mode="after")
    def _target_exists(self) -> KeyMapping:
        columns = TARGETS.get(self.table)
        if columns is None or self.column not in columns:
            raise ValueError(f"{self.key}: no user-data column {self.table}.{self.column}")
        kind, width = columns[self.column]
        if self.type != kind:
            raise ValueError(f"{self.key}: {self.table}.{self.column} holds {kind} values, not {self.type}")
        if self.max_length is not None and kind == "string" and self.max_length > width:
            raise ValueError(f"{self.key}: max-length {self.max_length} exceeds {self.table}.{self.column} ({width})")
        return self

    @property
    def target(self) -> str:
        return f"{self.table}.{self.column}"

    @property
    def width(self) -> int:
        return self.max_length or TARGETS[self.table][self.column][1]


#: GIM's standard keys (the predefined KVPs of IRF_USER_DATA_GEN_1 and INTERACTION_DESCRIPTOR).
DEFAULT_KEYS: tuple[KeyMapping, ...] = (
    KeyMapping(key="CaseID", table=GEN_TABLE, column="CASE_ID"),
    KeyMapping(key="CustomerID", table=GEN_TABLE, column="CUSTOMER_ID"),
    KeyMapping(key="ServiceObjective", table=GEN_TABLE, column="SERVICE_OBJECTIVE"),
    KeyMapping(key="GSW_CALL_TYPE", table=GEN_TABLE, column="GSW_CALL_TYPE"),
    KeyMapping(key="GVP_SESSION_ID", table=GEN_TABLE, column="GVP_SESSION_ID"),
    KeyMapping(key="Revenue", table=GEN_TABLE, column="REVENUE", type="number"),
    KeyMapping(key="Satisfaction", table=GEN_TABLE, column="SATISFACTION", type="number"),
    KeyMapping(key="CustomerSegment", table=DESCRIPTOR_TABLE, column="CUSTOMER_SEGMENT"),
    KeyMapping(key="ServiceType", table=DESCRIPTOR_TABLE, column="SERVICE_TYPE"),
    KeyMapping(key="ServiceSubType", table=DESCRIPTOR_TABLE, column="SERVICE_SUBTYPE"),
    KeyMapping(key="BusinessResult", table=DESCRIPTOR_TABLE, column="BUSINESS_RESULT"),
)


class UserDataMapping(BaseModel):
    """The ``[user-data]`` section: ``defaults`` (GIM's standard keys, on unless false) plus ``keys``; a key of
    ``keys`` mapped to a column a default maps replaces that default."""

    model_config = ConfigDict(populate_by_name=True, frozen=True, extra="forbid")

    defaults: bool = Field(True, description="Map GIM's standard keys (CustomerID, ServiceType, ...).")
    keys: tuple[KeyMapping, ...] = Field((), description="Deployment-specific mappings.")

    @model_validator(mode="after")
    def _one_key_per_column(self) -> UserDataMapping:
        targets = [k.target for k in self.keys]
        if len(set(targets)) != len(targets):
            raise ValueError("[user-data]: a column is mapped twice")
        return self

    @property
    def mappings(self) -> tuple[KeyMapping, ...]:
        mine = {k.target for k in self.keys}
        base = tuple(k for k in DEFAULT_KEYS if k.target not in mine) if self.defaults else ()
        return base + self.keys


def merged_updates(updates: Iterable[tuple[int, str | None]], as_of_ms: int) -> dict[str, Any]:
    """Attached data as of `as_of_ms`: the events' user_data objects (time, JSON text) merged in order, a null
    value deleting its key; malformed text is skipped (ingestion already quarantines it)."""
    data: dict[str, Any] = {}
    for ts, text in updates:
        if ts > as_of_ms:
            break
        if not text:
            continue
        try:
            update = json.loads(text)
        except ValueError:
            continue
        if isinstance(update, dict):
            for k, v in update.items():
                if v is None:
                    data.pop(k, None)
                else:
                    data[k] = v
    return data


def coerce(mapping: KeyMapping, value: Any) -> tuple[Any, str | None]:
    """The value to store for `mapping` and, when the value is bad, why (the default is stored instead)."""
    if value is None:
        return _default(mapping), None
    if mapping.type == "number":
        if isinstance(value, bool):
            return _default(mapping), f"expected a number, got {json.dumps(value)}"
        try:
            number = Decimal(str(value).strip())
        except InvalidOperation:
            return _default(mapping), f"expected a number, got {json.dumps(value)[:200]}"
        if not number.is_finite() or abs(number) >= Decimal(10) ** 16:
            return _default(mapping), f"number {value} outside DECIMAL(18,2)"
        return float(number.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)), None
    if isinstance(value, dict | list):
        return _default(mapping), "expected a string, got a JSON " + ("object" if isinstance(value, dict) else "array")
    text = value if isinstance(value, str) else json.dumps(value)
    if len(text) > mapping.width:
        return _default(mapping), f"{len(text)} characters, longer than {mapping.width}"
    return text, None


def _default(mapping: KeyMapping) -> Any:
    if mapping.default is None:
        return None
    return float(mapping.default) if mapping.type == "number" else str(mapping.default)
