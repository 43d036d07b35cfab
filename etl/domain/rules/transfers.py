"""Transfers and consultations: the roles of creators and invitees, and how a direct transfer or consult ends.

* E-mail flows ("Agent transfers e-mail directly to another agent", "... fails", "Transfer of e-mail from agent
  to agent through a queue", "Agent consults to another agent before sending reply", "Agent unsuccessfully
  consults"): https://docs.genesys.com/Documentation/GIM/latest/User/GIMMMIxnFlow-Email
* IRF population (roles): https://docs.genesys.com/Documentation/PSAAS/latest/RPRT/GIMPopIRF

The events are handled in `etl.domain.rules.routing`; these are the transfer-specific parts of its rules.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from etl.domain.descriptors import Reason, Result, Role
from etl.domain.rules.core import IrfRow, _State

#: Subtypes of consultation interactions (Interaction Server collaboration). [D] "Agent consults ... before
#: sending reply": the consult's creator is InitiatedConsult, everybody else on it (and the creator of the
#: consult reply) is ReceivedConsult.
CONSULT_INVITE_SUBTYPES = frozenset({"InternalCollaborationInvite", "OutboundCollaborationInvite"})
CONSULT_REPLY_SUBTYPES = frozenset({"InternalCollaborationReply", "InboundCollaborationReply"})


def role_for_invitee(st: _State, ev: Mapping[str, Any], by_strategy: bool) -> Role:
    """[D] Roles of invited resources in the e-mail flows:
    RoutedTo (first routing by a strategy), ReceivedTransfer (direct transfer, or routed again after an agent
    already handled the interaction: "Transfer of e-mail from agent to agent through a queue"),
    ReceivedConsult (any resource on a consultation interaction, or a consult/conference invitation)."""
    if st.ixn.interaction_subtype in CONSULT_INVITE_SUBTYPES | CONSULT_REPLY_SUBTYPES:
        return Role.RECEIVED_CONSULT
    if ev.get("reason") in ("consult", "conference"):
        return Role.RECEIVED_CONSULT
    if not by_strategy or st.handled:
        return Role.RECEIVED_TRANSFER
    return Role.ROUTED_TO


def role_for_creator(subtype: str | None) -> Role:
    """[D] The creator of a consultation is InitiatedConsult, of a consult reply ReceivedConsult, of anything
    else (replies, new outbound) Initiated."""
    if subtype in CONSULT_INVITE_SUBTYPES:
        return Role.INITIATED_CONSULT
    if subtype in CONSULT_REPLY_SUBTYPES:
        return Role.RECEIVED_CONSULT
    return Role.INITIATED


def direct_invitation(st: _State, ev: Mapping[str, Any]) -> dict[str, Any]:
    """[D] "Agent transfers e-mail directly to another agent": the inviting agent stays until the target
    accepts; the invitee's IRF starts with the invitation (ring) and comes from the inviter's IRF."""
    source = st.connected.get(ev.get("actor_id") or "")
    return {"received_from": source.natural_key if source else None}


def transfer_accepted(st: _State, invitee: IrfRow, ts: int) -> None:
    """[D] "In the case of a transfer, the transfer does not occur until the target agent accepts."."""
    if invitee.invite_reason != "transfer":
        return
    source = st.connected.get(invitee.inviter_id or "") or st.leaving.get(invitee.inviter_id or "")
    if source is not None:
        st.end_irf(source, ts, Result.TRANSFERRED)


def direct_invitation_failed(st: _State, invitee: IrfRow, ts: int, reason: Reason) -> None:
    """[D] "Agent's attempt to transfer e-mail directly to another agent fails" and "Agent unsuccessfully
    consults": ReceivedTransfer/Abandoned [Revoked], ReceivedConsult/Abandoned [Revoked]."""
    st.end_irf(invitee, ts, Result.ABANDONED, reason)
