"""Routing: submission, strategies and virtual queues, invitations, parties added and removed.

* E-mail flows ("Strategy routes e-mail to agent, and agent replies", "Agent invited into e-mail interaction, and
  invitation revoked", "Transfer ... through a queue with multiple VQs"):
  https://docs.genesys.com/Documentation/GIM/latest/User/GIMMMIxnFlow-Email
* IRF population: https://docs.genesys.com/Documentation/PSAAS/latest/RPRT/GIMPopIRF
* MSF population (virtual queues): https://docs.genesys.com/Documentation/PSAAS/latest/RPRT/GIMPopMSF

Who invited whom decides between routing and a transfer: the transfer-specific parts are in
`etl.domain.rules.transfers`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from etl.domain.descriptors import Reason, Result, Role
from etl.domain.rules.core import MsfRow, RejectionKind, _State, register, span_ms
from etl.domain.rules.mediation import finish_mediation
from etl.domain.rules.online import abandoned_in_vq, is_session_party, session_party_added, session_party_removed
from etl.domain.rules.transfers import (
    direct_invitation,
    direct_invitation_failed,
    role_for_creator,
    role_for_invitee,
    transfer_accepted,
)

HANDLER_TYPES = frozenset({"Agent", "Place", "Strategy"})


def _submitted(st: _State, ev: Mapping[str, Any]) -> None:
    ixn, ts = st.ixn, ev["ts_ms"]
    ixn.start_ms = ts
    ixn.media_type, ixn.interaction_type = ev.get("media_type"), ev.get("interaction_type")
    ixn.interaction_subtype, ixn.parent_id = ev.get("interaction_subtype"), ev.get("parent_id")
    ixn.thread_id, ixn.tenant = ev.get("thread_id"), ev.get("tenant") or "Resources"
    if ev.get("actor_type") in HANDLER_TYPES:
        # [D] "When actor is an Agent or a Strategy, that actor holds the new interaction from this moment";
        # the creator's IRF is Initiated (replies, new outbound) or InitiatedConsult (consultations).
        irf = st.new_irf(ev, ev["actor_type"], ev["actor_id"], role_for_creator(ixn.interaction_subtype))
        st.connect(irf, ts)
    else:
        st.begin_mediation(ts)


# -- virtual queues ------------------------------------------------------------------------------------


def _properties_changed(st: _State, ev: Mapping[str, Any]) -> None:
    """Attached data changed: no fact rule here (`etl.transform.user_data` takes the values by GIM's propagation
    rules), but like every event it needs its interaction submitted, else it waits and is then quarantined."""


def _vq_entered(st: _State, ev: Mapping[str, Any]) -> None:
    ts = ev["ts_ms"]
    st.begin_mediation(ts)
    msf = MsfRow(
        natural_key=f"{st.ixn.interaction_id}|VirtualQueue:{ev['vq']}|{ev['event_id']}",
        interaction_id=st.ixn.interaction_id,
        kind="VirtualQueue",
        name=ev["vq"],
        start_ms=ts,
        attempt=st.attempt,
    )
    st.vq_stays[ev["vq"]] = msf
    st.msfs.append(msf)
    st.chain.append(msf)


def _vq_left(st: _State, ev: Mapping[str, Any]) -> None:
    msf = st.vq_stays.pop(ev["vq"], None)
    if msf is None:
        st.reject(ev, RejectionKind.VQ_NEVER_ENTERED, f"left virtual queue {ev['vq']!r} it never entered", "vq")
        return
    msf.end_ms, msf.vq_outcome = ev["ts_ms"], ev.get("outcome")
    if msf.vq_outcome == "cleared":
        msf.result = Result.CLEARED
    elif msf.vq_outcome == "abandoned":
        msf.result = Result.ABANDONED
        abandoned_in_vq(st, msf)
    else:
        st.last_vq = msf.name


# -- invitations and parties ---------------------------------------------------------------------------


def _invited(st: _State, ev: Mapping[str, Any]) -> None:
    if is_session_party(ev):
        return  # a bot (or the customer) is never an IRF resource (contract 1.1): it joins the session only
    ts, party = ev["ts_ms"], ev["party_id"]
    if ev.get("party_place"):
        st.place_of[party] = ev["party_place"]
    by_strategy = ev.get("actor_type") == "Strategy"
    role = role_for_invitee(st, ev, by_strategy)
    extra: dict[str, Any]
    if by_strategy:
        # [D] "the routing is complete as soon as the agent is invited": the strategy leaves the interaction,
        # and the mediation (queue + strategy + VQ time) ends here for the invitee's IRF.
        if ev.get("vq"):
            st.last_vq = ev["vq"]
        st.strategy = None
        extra = {"invite_by_strategy": True, **st.mediation_kw(ts)}
    else:
        extra = direct_invitation(st, ev)
    irf = st.new_irf(
        ev,
        ev["party_type"],
        party,
        role,
        invite_ms=ts,
        inviter_id=ev.get("actor_id"),
        invite_reason=ev.get("reason"),
        **extra,
    )
    if by_strategy:
        irf.mediation_chain = list(st.chain)
    st.invited[party] = irf


def _party_added(st: _State, ev: Mapping[str, Any]) -> None:
    if is_session_party(ev):
        session_party_added(st, ev)
        return
    ts, party = ev["ts_ms"], ev["party_id"]
    if ev.get("party_place"):
        st.place_of[party] = ev["party_place"]
    irf = st.invited.pop(party, None)
    if irf is not None:
        st.connect(irf, ts)
        if irf.invite_by_strategy:
            finish_mediation(st, irf, via_invite=True)
        else:
            transfer_accepted(st, irf, ts)
        return
    if party in st.connected or (st.workbin_holder is not None and st.workbin_holder.party_id == party):
        return  # the pull already made it a party (EventTakenFrom* by the same agent)
    # An uninvited join is a pull [I]: the contract reports a pull as EventTakenFrom* + EventPartyAdded.
    st.close_stay(ts)
    irf = st.new_irf(ev, ev.get("party_type") or "Agent", party, Role.PULLER, **st.mediation_kw(ts))
    st.connect(irf, ts)
    finish_mediation(st, irf, via_invite=False)


def _invitation_failed(st: _State, ev: Mapping[str, Any], reason: Reason) -> None:
    if is_session_party(ev):
        return  # a bot's invitation made no IRF (`_invited`)
    ts, party = ev["ts_ms"], ev["party_id"]
    irf = st.invited.get(party)
    if irf is None:
        why = f"{ev['event']} for {party!r} who has no pending invitation"
        st.reject(ev, RejectionKind.NO_PENDING_INVITATION, why, "party.id")
        return
    if irf.invite_by_strategy:
        # [D] "Agent invited into e-mail interaction, and invitation revoked": RoutedTo/Redirected [Revoked];
        # the interaction returns to the queue for re-evaluation (another routing attempt).
        st.end_irf(irf, ts, Result.REDIRECTED, reason)
        st.begin_mediation(irf.mediation_start_ms if irf.mediation_start_ms is not None else ts)
    else:
        direct_invitation_failed(st, irf, ts, reason)


def _party_removed(st: _State, ev: Mapping[str, Any]) -> None:
    if is_session_party(ev):
        session_party_removed(st, ev)
        return
    party, ts = ev["party_id"], ev["ts_ms"]
    if st.workbin_holder is not None and st.workbin_holder.party_id == party:
        return  # parked in its own workbin: the IRF goes on as hold
    irf = st.connected.pop(party, None)
    if irf is not None:
        irf.end_ms = ts  # result decided by what explains the removal (placement, transfer) or Completed
        st.leaving[party] = irf
    elif party in st.invited:
        _invitation_failed(st, ev, Reason.UNSPECIFIED)
    elif not any(i.party_id == party for i in st.irfs) and not (st.strategy and st.strategy.strategy_id == party):
        # A removal of a party that never took part contradicts the history (contract, "Rules for bad input"):
        # GIM writes an IRF per party that was added (https://docs.genesys.com/Documentation/PSAAS/latest/RPRT/GIMPopIRF).
        why = f"EventPartyRemoved for {party!r} who was never added to interaction {st.ixn.interaction_id!r}"
        st.reject(ev, RejectionKind.PARTY_NEVER_ADDED, why, "party.id")


def _hold(st: _State, ev: Mapping[str, Any], on: bool) -> None:
    ts = ev["ts_ms"]
    irf = st.connected.get(ev.get("actor_id") or "")
    if irf is None and len(st.connected) == 1:
        irf = next(iter(st.connected.values()))
    if irf is None:
        return
    if on and irf.hold_since is None:
        irf.hold_since, irf.hold_count = ts, irf.hold_count + 1
    elif not on and irf.hold_since is not None:
        irf.hold_ms += span_ms(irf.hold_since, ts)
        irf.hold_since = None


register(
    {
        "EventInteractionSubmitted": _submitted,
        "EventPropertiesChanged": _properties_changed,
        "EventVirtualQueueEntered": _vq_entered,
        "EventVirtualQueueLeft": _vq_left,
        "EventAgentInvited": _invited,
        "EventPartyAdded": _party_added,
        "EventRejected": lambda st, ev: _invitation_failed(st, ev, Reason.REJECTED),
        "EventRevoked": lambda st, ev: _invitation_failed(st, ev, Reason.REVOKED),
        "EventPartyRemoved": _party_removed,
        "EventHeld": lambda st, ev: _hold(st, ev, on=True),
        "EventResumed": lambda st, ev: _hold(st, ev, on=False),
    }
)
