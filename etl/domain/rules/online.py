"""Online interactions (chat, and any media listed in `online-media-types`): the customer, bots and messages.

* Chat flows: https://docs.genesys.com/Documentation/GIM/latest/User/GIMMMIxnFlow-Chat
* IRF population: https://docs.genesys.com/Documentation/PSAAS/latest/RPRT/GIMPopIRF
* Contract: ../shared/contract/events.md, "Version 1.1 additions"

The `Customer` and `Bot` parties of contract 1.1 take part in the session but are never resources of the
interaction: the contract says neither ever gets an IRF, and GIM's IRF page counts only the resources that
mediate or handle it (queues, strategies, agents, places). Their events are kept here, beside the resources'
state machine (`etl.domain.rules.routing` hands them over), as the session's timeline.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from etl.domain.descriptors import Reason, Result
from etl.domain.rules.core import MsfRow, _State, register
from etl.domain.rules.mediation import ended_in_mediation

#: Parties of an online session that are never IRF resources (contract 1.1: "never a handling resource and never
#: gets an IRF"; "Never an IRF resource").
SESSION_PARTY_TYPES = frozenset({"Customer", "Bot"})


def is_session_party(ev: Mapping[str, Any]) -> bool:
    """The event's party is the customer or a bot, not a resource."""
    return ev.get("party_type") in SESSION_PARTY_TYPES


def is_online(st: _State) -> bool:
    """The interaction's media is online (option `online-media-types`): GIM's chat rules apply, not the e-mail
    ones ("Use the chat interaction flows as a guide to interactions that do involve an online session",
    GIMMMIxnFlow-Chat)."""
    return st.options.is_online(st.ixn.media_type)


def strategy_may_handle(st: _State, ev: Mapping[str, Any]) -> bool:
    """The autoresponse rule (a strategy that stops the interaction handles it) holds unless the Chat Server
    stopped an online interaction its customer abandoned: then the strategy only mediated it (Chat Server's
    `stop-abandoned-interaction`, quoted on https://docs.genesys.com/Documentation/GIM/latest/User/GIMTechDescr)."""
    return not (is_online(st) and (st.session.customer_abandoned or ev.get("reason") == "abandoned"))


def session_party_added(st: _State, ev: Mapping[str, Any]) -> None:
    """The customer or a bot joined the session (contract 1.1 EventPartyAdded with a Customer/Bot party)."""
    ts, party = ev["ts_ms"], ev["party_id"]
    if ev["party_type"] == "Customer":
        if st.session.customer_joined_ms is None:
            st.session.customer_joined_ms = ts
        st.session.customer_left_ms = None
    else:
        st.session.bots.setdefault(party, ts)


def session_party_removed(st: _State, ev: Mapping[str, Any]) -> None:
    """The customer or a bot left. A customer leaving with `reason: "abandoned"`, or before any agent was
    connected, abandoned the interaction (contract 1.1)."""
    ts, party = ev["ts_ms"], ev["party_id"]
    if ev["party_type"] != "Customer":
        _bot_left(st, party, ts)
        return
    st.session.customer_left_ms = ts
    if not is_online(st):
        return  # offline media have no customer in a session: the e-mail rules ignore the removal
    for irf in st.connected.values():
        irf.customer_left_ms = ts  # the customer left first (ANCHOR_FLAGS.CUSTOMER_LEFT_FIRST)
    if ev.get("reason") == "abandoned" or not st.handled:
        st.session.customer_abandoned = True
    abandon(st, ev, ts)


def _bot_left(st: _State, bot: str, ts: int) -> None:
    """[I] A bot's time is neither mediation nor handling (contract 1.1): while a bot alone serves the session
    before anything mediated it, the mediation has not begun; it begins when the bot leaves."""
    st.session.bots.pop(bot, None)
    if st.mediation_start is None or st.connected or st.session.bots:
        return
    # A queue or VQ entered while the bot still served (or at the instant it left: events of one timestamp are
    # not ordered by the contract) starts the mediation from its own entry, never earlier than submission.
    stays = [m.start_ms for m in st.chain] + ([st.stay.start_ms] if st.stay is not None else [])
    st.mediation_start = max(st.mediation_start, min([ts, *stays]))


def abandon(st: _State, ev: Mapping[str, Any], ts: int) -> None:
    """The customer left an online interaction before it reached a handler (or while invitations were pending).

    * Alerting invitees: [C] GIM reports the customer's abandonment, not a redirection: CustomerAbandoned
      [AbandonedWhileRinging] (public GIM SQL filters RESULT_REASON in ('AbandonedWhileRinging', ...)); the
      stays that led to a routed invitee were distributed, their MSF "including the time ... to be abandoned
      while alerting at the target resource": Diverted [AbandonedWhileRinging]
      (https://docs.genesys.com/Documentation:PSAAS:RPRT:Table-MEDIATION_SEGMENT_FACT:Public).
    * Still in mediation (a queue or a VQ): the MSFs are "abandoned in the mediation DN", Abandoned
      [AbandonedWhileQueued], and the IRF is kept on the mediation resource where it ended ("IRF resources
      include ... mediation resources in which the IRF ends in mediation (such as queues, routing points)",
      https://docs.genesys.com/Documentation:PSAAS:RPRT:Table-INTERACTION_RESOURCE_FACT:Public): the VQ when it
      ended in a VQ, never the strategy that held it there.
    """
    invited = list(st.invited.values())
    for irf in invited:
        st.end_irf(irf, ts, Result.CUSTOMER_ABANDONED, Reason.ABANDONED_WHILE_RINGING)
    if not st.session.customer_abandoned or st.session.abandonment_done:
        return
    st.session.abandonment_done = True
    st.strategy = None
    routed = [irf for irf in invited if irf.invite_by_strategy]
    stays = [m for m in st.chain if not m.folded]
    if routed:
        target = routed[-1]
        for msf in stays:
            msf.target = target.natural_key
            if msf.end_ms is None or msf.kind == "VirtualQueue":
                msf.end_ms = ts
            msf.result, msf.result_reason = Result.DIVERTED, Reason.ABANDONED_WHILE_RINGING
        target.mediation_chain = list(st.chain)
    elif stays and not st.connected and st.mediation_start is not None:
        ended_in_mediation(st, ev, ts, stays, Reason.ABANDONED_WHILE_QUEUED)
    else:
        return
    st.close_stay(ts)
    st.mediation_start, st.chain, st.queue_ms, st.stay = None, [], 0, None


def abandoned_in_vq(st: _State, msf: MsfRow) -> None:
    """EventVirtualQueueLeft with outcome abandoned: for online media GIM's MSF result reason is
    AbandonedWhileQueued (public GIM SQL reads VQ MSFs with that reason; see `abandon`)."""
    if is_online(st):
        msf.result_reason = Reason.ABANDONED_WHILE_QUEUED


def stopped(st: _State, ev: Mapping[str, Any]) -> None:
    """EventProcessingStopped of an online interaction: `reason: "abandoned"` is the Chat Server stopping a
    session no agent ever joined (contract 1.1); its facts are the customer's abandonment."""
    if not is_online(st):
        return
    if ev.get("reason") == "abandoned" and not st.connected:
        st.session.customer_abandoned = True
    if st.session.customer_abandoned:
        abandon(st, ev, st.session.customer_left_ms if st.session.customer_left_ms is not None else ev["ts_ms"])


def _chat_message(st: _State, ev: Mapping[str, Any]) -> None:
    """A message of the session: no IRF/MSF rule (CHAT_SESSION_FACT counts them), but like every interaction
    event it needs its interaction submitted, else it waits and is then quarantined."""
    st.session.messages += 1


register({"EventChatMessage": _chat_message})
