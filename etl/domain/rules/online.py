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

from etl.domain.rules.core import _State, register

#: Parties of an online session that are never IRF resources (contract 1.1: "never a handling resource and never
#: gets an IRF"; "Never an IRF resource").
SESSION_PARTY_TYPES = frozenset({"Customer", "Bot"})


def is_session_party(ev: Mapping[str, Any]) -> bool:
    """The event's party is the customer or a bot, not a resource."""
    return ev.get("party_type") in SESSION_PARTY_TYPES


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
    if ev["party_type"] == "Customer":
        st.session.customer_left_ms = ts
        if ev.get("reason") == "abandoned" or not st.handled:
            st.session.customer_abandoned = True
    else:
        st.session.bots.pop(party, None)


def _chat_message(st: _State, ev: Mapping[str, Any]) -> None:
    """A message of the session: no IRF/MSF rule (CHAT_SESSION_FACT counts them), but like every interaction
    event it needs its interaction submitted, else it waits and is then quarantined."""
    st.session.messages += 1


register({"EventChatMessage": _chat_message})
