"""GIM's agent-state labels: RESOURCE_STATE (fixed rows, pre-populated like TECHNICAL_DESCRIPTOR) and the shape of a
RESOURCE_STATE_REASON row.

RESOURCE_STATE: "state type (media-neutral) and state name (media-specific) with codes"
(https://docs.genesys.com/Documentation/GIM/8.5.0/PDMPostgre/Table-RESOURCE_STATE). Multimedia has no DNs, so the
media-specific name is the type's own name [I]. Names as public GIM SQL uses them: Ready, NotReady, Busy,
AfterCallWork, LoggedOnOnly [C, ../shared/domain/online_and_agent_states.md §3.1].

RESOURCE_STATE_REASON: REASON_TYPE(_CODE), HARDWARE_REASON, SOFTWARE_REASON_KEY/VALUE, WORKMODE(_CODE)
(https://docs.genesys.com/Documentation/GIM/latest/PDMPostgre/Table-RESOURCE_STATE_REASON). A `{key, value}` reason
is a software reason (an agent desktop's key-value pair); a plain string is the hardware reason code [I: ICON's
G_AGENT_STATE_RC keeps a hardware/software flag]; do-not-disturb factored into NotReady has its own reason type
DoNotDisturb [I]; a not-ready state without a reason has work mode only (type Unknown) [I].
"""

from __future__ import annotations

import json
from dataclasses import dataclass

READY, NOT_READY, BUSY, ACW, LOGGED_ON_ONLY = "Ready", "NotReady", "Busy", "AfterCallWork", "LoggedOnOnly"

#: RESOURCE_STATE_KEY -> state name (STATE_TYPE = STATE_NAME for multimedia); 0 is GIM's "unknown" row.
RESOURCE_STATES: dict[int, str] = {0: "Unknown", 1: READY, 2: NOT_READY, 3: BUSY, 4: ACW, 5: LOGGED_ON_ONLY}
STATE_KEY: dict[str, int] = {name: key for key, name in RESOURCE_STATES.items()}

#: sm-resource-state-priority's names (https://docs.genesys.com/Documentation/GIM/latest/User/GIMPopAgent).
PRIORITY_NAMES: dict[str, str] = {"ACW": ACW, "NOT_READY": NOT_READY, "BUSY": BUSY, "READY": READY}

#: GIM's work modes, as the contract lists them (EventNotReadyForMedia.workmode).
WORKMODES = ("Unknown", "AuxWork", "AfterCallWork", "Manual", "Auto", "LegalGuard")


def code(label: str | None) -> str | None:
    """GIM's code of a label: upper case, no spaces."""
    return None if label is None else label.upper().replace(" ", "")


@dataclass(frozen=True, order=True)
class Reason:
    """One RESOURCE_STATE_REASON row's content (its natural key)."""

    reason_type: str  # SoftwareReason | HardwareReason | DoNotDisturb | Unknown
    hardware_reason: str | None = None
    software_key: str | None = None
    software_value: str | None = None
    workmode: str = "Unknown"

    @property
    def natural_key(self) -> str:
        parts = (self.reason_type, self.hardware_reason, self.software_key, self.software_value, self.workmode)
        return json.dumps(parts, separators=(",", ":"))


DND_REASON = Reason("DoNotDisturb")


def parse_reason(text: str | None, workmode: str | None) -> Reason | None:
    """The stored `reason` column (plain text, or `{"key","value"}` JSON text, etl.ingest.agent_models) and work
    mode of an event as a Reason; None when the event carries neither."""
    if text is None and workmode is None:
        return None
    mode = workmode or "Unknown"
    if text is None:
        return Reason("Unknown", workmode=mode)
    if text.startswith("{"):
        try:
            obj = json.loads(text)
        except ValueError:
            obj = None
        if isinstance(obj, dict) and isinstance(obj.get("key"), str):
            value = obj.get("value")
            return Reason("SoftwareReason", None, obj["key"], None if value is None else str(value), mode)
    return Reason("HardwareReason", hardware_reason=text, workmode=mode)
