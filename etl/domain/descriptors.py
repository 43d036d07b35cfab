"""GIM technical descriptors: resource role, role reason, technical result and result reason.

GIM pre-populates TECHNICAL_DESCRIPTOR when the Info Mart is initialised (it does not grow at run time), one row
per valid combination. Labels are GIM's CamelCase values; codes are the upper-case, space-free form.
Documented in https://docs.genesys.com/Documentation/GIM/latest/PDMOra/Table-TECHNICAL_DESCRIPTOR and
https://docs.genesys.com/Documentation/GIM/latest/User/GIMTechDescr; the combinations used by the e-mail flows
come from https://docs.genesys.com/Documentation/GIM/latest/User/GIMMMIxnFlow-Email (../shared/seeds/000_*.txt).
"""

from __future__ import annotations

from enum import StrEnum
from typing import NamedTuple


class Role(StrEnum):
    ROUTED_TO = "RoutedTo"
    INITIATED = "Initiated"
    INITIATED_CONSULT = "InitiatedConsult"
    RECEIVED = "Received"
    RECEIVED_TRANSFER = "ReceivedTransfer"
    RECEIVED_CONSULT = "ReceivedConsult"
    PULLER = "Puller"


class Result(StrEnum):
    COMPLETED = "Completed"
    TRANSFERRED = "Transferred"
    REDIRECTED = "Redirected"
    ABANDONED = "Abandoned"
    OUTBOUND_STOPPED = "OutboundStopped"
    DIVERTED = "Diverted"
    PULLED = "Pulled"
    CLEARED = "Cleared"
    CUSTOMER_ABANDONED = "CustomerAbandoned"  # online: the customer left while this resource was alerting
    UNSPECIFIED = "Unspecified"


class Reason(StrEnum):
    UNSPECIFIED = "Unspecified"
    REVOKED = "Revoked"
    REJECTED = "Rejected"  # [I] not seen in public pages; mirrors Revoked for a declined invitation
    ANSWERED_BY_AGENT = "AnsweredByAgent"
    CANCELED = "Canceled"
    # Online media (etl.domain.rules.online): how the customer's abandonment ended a mediation or an invitation.
    ABANDONED_WHILE_QUEUED = "AbandonedWhileQueued"
    ABANDONED_WHILE_RINGING = "AbandonedWhileRinging"


class Descriptor(NamedTuple):
    role: Role
    result: Result
    result_reason: Reason = Reason.UNSPECIFIED
    role_reason: str = "Unspecified"

    def label(self) -> str:
        """GIM's notation, e.g. ``RoutedTo/Redirected [Revoked]``."""
        base = f"{self.role}/{self.result}"
        return base if self.result_reason == Reason.UNSPECIFIED else f"{base} [{self.result_reason}]"


def code(label: str) -> str:
    """GIM's code form of a label: upper case, no spaces (``ReceivedTransfer`` -> ``RECEIVEDTRANSFER``)."""
    return label.replace(" ", "").upper()


_IRF_ROLES = (
    Role.ROUTED_TO,
    Role.INITIATED,
    Role.INITIATED_CONSULT,
    Role.RECEIVED_TRANSFER,
    Role.RECEIVED_CONSULT,
    Role.PULLER,
)
_IRF_RESULTS = (Result.COMPLETED, Result.TRANSFERRED, Result.OUTBOUND_STOPPED, Result.UNSPECIFIED)
_INVITEE_ROLES = (Role.ROUTED_TO, Role.RECEIVED_TRANSFER, Role.RECEIVED_CONSULT)


def _catalogue() -> tuple[Descriptor, ...]:
    """Every combination this product can write, IRF and MSF. Order fixes TECHNICAL_DESCRIPTOR_KEY (1-based)."""
    rows: list[Descriptor] = [Descriptor(r, res) for r in _IRF_ROLES for res in _IRF_RESULTS]
    # An invitation that never turned into handling (revoked/rejected/withdrawn) ends the invitee's IRF.
    for r in _INVITEE_ROLES:
        for res in (Result.REDIRECTED, Result.ABANDONED):
            rows += [Descriptor(r, res, reason) for reason in (Reason.REVOKED, Reason.REJECTED, Reason.UNSPECIFIED)]
    # Queue stop/cancel: COMPLETED/UNSPECIFIED and COMPLETED/CANCELED on the placing resource's IRF.
    rows += [Descriptor(r, Result.COMPLETED, Reason.CANCELED) for r in _IRF_ROLES]
    # Mediation segments: the queue's role and its result towards the target chosen by routing.
    rows += [
        Descriptor(Role.RECEIVED, Result.DIVERTED, Reason.ANSWERED_BY_AGENT),
        Descriptor(Role.RECEIVED, Result.DIVERTED),
        Descriptor(Role.RECEIVED, Result.PULLED),
        Descriptor(Role.RECEIVED, Result.REDIRECTED),
        Descriptor(Role.RECEIVED, Result.CLEARED),
        Descriptor(Role.RECEIVED, Result.ABANDONED),
        Descriptor(Role.RECEIVED, Result.UNSPECIFIED),
    ]
    # Appended for online media (issue 15), so that no existing key moves. GIMTechDescr's value lists name
    # CustomerAbandoned with AbandonedWhileRinging (an invitee the customer left while it was alerting) and the
    # MSF results Abandoned [AbandonedWhileQueued] (left in the mediation DN) and Diverted [AbandonedWhileRinging]
    # (distributed, then abandoned while the target was alerting); an IRF that ends in mediation is kept on the
    # mediation resource (https://docs.genesys.com/Documentation:PSAAS:RPRT:Table-INTERACTION_RESOURCE_FACT:Public),
    # whose role is Received (the queue's role in GIM's Resource Roles).
    rows += [Descriptor(r, Result.CUSTOMER_ABANDONED, Reason.ABANDONED_WHILE_RINGING) for r in _INVITEE_ROLES]
    rows += [
        Descriptor(Role.RECEIVED, Result.ABANDONED, Reason.ABANDONED_WHILE_QUEUED),
        Descriptor(Role.RECEIVED, Result.DIVERTED, Reason.ABANDONED_WHILE_RINGING),
        Descriptor(Role.RECEIVED, Result.COMPLETED),
    ]
    return tuple(rows)


CATALOGUE: tuple[Descriptor, ...] = _catalogue()
DESCRIPTOR_KEY: dict[Descriptor, int] = {d: i for i, d in enumerate(CATALOGUE, start=1)}


def descriptor_key(d: Descriptor) -> int:
    """Surrogate key of a descriptor; an unknown combination is a bug in the rules, so it raises."""
    try:
        return DESCRIPTOR_KEY[d]
    except KeyError:
        raise ValueError(f"not a valid GIM descriptor combination: {d.label()}") from None
