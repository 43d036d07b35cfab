"""GIM's chat flows and the online behaviour its IRF/MSF pages document, as scenarios (contract 1.1 events).

Sources:
* User's Guide, "Chat Interactions" https://docs.genesys.com/Documentation/GIM/latest/User/GIMMMIxnFlow-Chat: the
  three flows it illustrates (delivered and handled, invitation revoked, agent-to-agent transfer) — `chat_routed`,
  `chat_invitation_revoked`, `chat_agent_transfer`; "use the chat interaction flows as a guide to interactions that
  do involve an online session".
* Abandonment: Table-MEDIATION_SEGMENT_FACT (a segment ends abandoned in the mediation DN, or distributed including
  the time until the customer abandons while the target is alerting) and Table-INTERACTION_RESOURCE_FACT (IRF
  resources include the mediation resources in which the IRF ends in mediation) — `chat_abandoned_*`.
* Transfers through a queue and consultations follow the e-mail page's grammar (GIMMMIxnFlow-Email) on an online
  session; bots are contract 1.1 parties that never get an IRF (../shared/contract/events.md).

Each flow's expectations are hand-written in fixtures/flows/<flow>/documented.yaml, like the e-mail flows'.
"""

from __future__ import annotations

from etl.simulate.cast import Cast, Flow
from etl.simulate.scenario import CHAT_SERVER, Scenario, agent, bot, customer, queue

BOT = "GreeterBot"


def _chat_arrives(sc: Scenario, c: Cast, ixn: str) -> None:
    sc.chat_inbound(
        ixn,
        c.iq1,
        c.contact,
        user_data={"subject": "Where is my order?", "CustomerID": "C000042", "ServiceType": "Orders"},
    )
    sc.wait(3 * c.t).message(ixn, customer(c.contact), 24)


def _delivered(sc: Scenario, c: Cast, ixn: str, vq: str = "VQ1") -> None:
    """A strategy routes the chat through `vq` to agent 1, who accepts and greets the customer."""
    sc.wait(2 * c.t).strategy_takes(ixn, c.s1, c.iq1).vq_enter(ixn, vq, c.s1)
    sc.wait(25 * c.t).route(ixn, c.a1, c.s1, vq)
    sc.wait(4 * c.t).accept(ixn, c.a1)
    sc.wait(5 * c.t).message(ixn, agent(c.a1), 40)


def _conversation(sc: Scenario, c: Cast, ixn: str, who: str, turns: int = 2) -> None:
    for _ in range(turns):
        sc.wait(20 * c.t).message(ixn, customer(c.contact), 60)
        sc.wait(15 * c.t).message(ixn, agent(who), 120)


def chat_routed(sc: Scenario, c: Cast) -> None:
    """Strategy delivers chat to agent, and agent replies (the agent ends the session)."""
    ixn = c.ix("IN")
    _chat_arrives(sc, c, ixn)
    _delivered(sc, c, ixn)
    _conversation(sc, c, ixn, c.a1)
    sc.wait(10 * c.t).stop(ixn, c.a1)


def chat_invitation_revoked(sc: Scenario, c: Cast) -> None:
    """Agent invited into chat and invitation revoked: the chat returns to the interaction queue, where other
    targets can be evaluated (it is still waiting there when the flow ends)."""
    ixn = c.ix("IN")
    _chat_arrives(sc, c, ixn)
    sc.wait(2 * c.t).strategy_takes(ixn, c.s1, c.iq1).vq_enter(ixn, "VQ1", c.s1)
    sc.wait(20 * c.t).route(ixn, c.a1, c.s1, "VQ1")
    sc.wait(30 * c.t).revoke(ixn, c.a1, back_to=c.iq1)


def chat_agent_transfer(sc: Scenario, c: Cast) -> None:
    """Agent transfers chat to another agent; the customer leaves first, then agent 2 closes the session."""
    ixn = c.ix("IN")
    _chat_arrives(sc, c, ixn)
    _delivered(sc, c, ixn)
    _conversation(sc, c, ixn, c.a1, turns=1)
    sc.wait(10 * c.t).invite(ixn, c.a1, c.a2, "transfer")
    sc.wait(8 * c.t).transfer_accepted(ixn, c.a1, c.a2)
    sc.wait(3 * c.t).message(ixn, agent(c.a2), 50)
    _conversation(sc, c, ixn, c.a2)
    sc.wait(12 * c.t).customer_leaves(ixn, c.contact)
    sc.wait(4 * c.t).stop(ixn, c.a2)


def chat_transfer_through_queue(sc: Scenario, c: Cast) -> None:
    """Agent 1 places the chat in a second queue; a strategy routes it through VQ2 to agent 2."""
    ixn = c.ix("IN")
    _chat_arrives(sc, c, ixn)
    _delivered(sc, c, ixn)
    _conversation(sc, c, ixn, c.a1, turns=1)
    sc.wait(10 * c.t).place_in_queue(ixn, c.a1, c.iq2)
    sc.wait(3 * c.t).strategy_takes(ixn, c.s2, c.iq2).vq_enter(ixn, "VQ2", c.s2)
    sc.wait(18 * c.t).route(ixn, c.a2, c.s2, "VQ2")
    sc.wait(5 * c.t).accept(ixn, c.a2)
    _conversation(sc, c, ixn, c.a2, turns=1)
    sc.wait(10 * c.t).stop(ixn, c.a2)


def chat_consult(sc: Scenario, c: Cast) -> None:
    """Agent 1 consults agent 2 on the same chat (an invitation with reason consult); agent 2 joins, advises and
    leaves, agent 1 keeps the customer and closes the session."""
    ixn = c.ix("IN")
    _chat_arrives(sc, c, ixn)
    _delivered(sc, c, ixn)
    _conversation(sc, c, ixn, c.a1, turns=1)
    sc.wait(10 * c.t).invite(ixn, c.a1, c.a2, "consult")
    sc.wait(6 * c.t).accept(ixn, c.a2, reason="consult")
    sc.wait(30 * c.t).message(ixn, agent(c.a2), 80)
    sc.wait(20 * c.t).leave(ixn, c.a2)
    _conversation(sc, c, ixn, c.a1, turns=1)
    sc.wait(10 * c.t).stop(ixn, c.a1)


def chat_conference(sc: Scenario, c: Cast) -> None:
    """Agent 1 conferences agent 2 into the chat (an invitation with reason conference); both write to the customer
    until agent 2 leaves; agent 1 closes the session."""
    ixn = c.ix("IN")
    _chat_arrives(sc, c, ixn)
    _delivered(sc, c, ixn)
    _conversation(sc, c, ixn, c.a1, turns=1)
    sc.wait(10 * c.t).invite(ixn, c.a1, c.a2, "conference")
    sc.wait(7 * c.t).accept(ixn, c.a2, reason="conference")
    sc.wait(12 * c.t).message(ixn, agent(c.a2), 90)
    _conversation(sc, c, ixn, c.a2, turns=1)
    sc.wait(10 * c.t).leave(ixn, c.a2)
    _conversation(sc, c, ixn, c.a1, turns=1)
    sc.wait(10 * c.t).stop(ixn, c.a1)


def chat_abandoned_in_queue(sc: Scenario, c: Cast) -> None:
    """The customer leaves while the chat waits in the interaction queue; the Chat Server stops it."""
    ixn = c.ix("IN")
    _chat_arrives(sc, c, ixn)
    sc.wait(40 * c.t).customer_abandons(ixn, c.contact)


def chat_abandoned_in_vq(sc: Scenario, c: Cast) -> None:
    """The customer leaves while a strategy holds the chat in a virtual queue (the issue's first case)."""
    ixn = c.ix("IN")
    _chat_arrives(sc, c, ixn)
    sc.wait(2 * c.t).strategy_takes(ixn, c.s1, c.iq1).vq_enter(ixn, "VQ1", c.s1)
    sc.wait(70 * c.t).customer_abandons(ixn, c.contact, vq="VQ1", strat=c.s1)


def chat_abandoned_while_ringing(sc: Scenario, c: Cast) -> None:
    """The customer leaves while agent 1 is invited (alerting)."""
    ixn = c.ix("IN")
    _chat_arrives(sc, c, ixn)
    sc.wait(2 * c.t).strategy_takes(ixn, c.s1, c.iq1).vq_enter(ixn, "VQ1", c.s1)
    sc.wait(25 * c.t).route(ixn, c.a1, c.s1, "VQ1")
    sc.wait(9 * c.t).customer_abandons(ixn, c.contact)


def chat_bot_then_agent(sc: Scenario, c: Cast) -> None:
    """A bot greets the customer before the chat is queued; a strategy then routes it to agent 1. The bot gets no
    IRF and its time is neither mediation nor handling (contract 1.1)."""
    ixn, q = c.ix("IN"), queue(c.iq1)
    user_data = {"subject": "Billing question", "CustomerID": "C000043", "ServiceType": "Billing"}
    sc.chat_submitted(ixn, c.iq1, c.contact, user_data=user_data)
    sc.wait(1 * c.t).bot_joins(ixn, BOT).message(ixn, bot(BOT), 35)
    sc.wait(8 * c.t).message(ixn, customer(c.contact), 30)
    sc.wait(4 * c.t).message(ixn, bot(BOT), 45)
    sc.wait(10 * c.t).bot_leaves(ixn, BOT)
    sc.emit("EventPlacedInQueue", ixn, queue=q, actor=CHAT_SERVER)
    _delivered(sc, c, ixn)
    _conversation(sc, c, ixn, c.a1, turns=1)
    sc.wait(10 * c.t).customer_leaves(ixn, c.contact)
    sc.wait(5 * c.t).stop(ixn, c.a1)


#: The chat flow scripts, by name (also the flow's directory under fixtures/flows/).
CHAT_FLOWS: dict[str, Flow] = {
    f.__name__: f
    for f in (
        chat_routed,
        chat_invitation_revoked,
        chat_agent_transfer,
        chat_transfer_through_queue,
        chat_consult,
        chat_conference,
        chat_abandoned_in_queue,
        chat_abandoned_in_vq,
        chat_abandoned_while_ringing,
        chat_bot_then_agent,
    )
}
