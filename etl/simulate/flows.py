"""The 18 e-mail flows GIM documents, as scenarios, with the technical descriptors the page lists.

Source: Genesys Info Mart User's Guide, "E-Mail Interactions"
https://docs.genesys.com/Documentation/GIM/latest/User/GIMMMIxnFlow-Email (../shared/seeds/000_*.txt).
Each flow takes a `Scenario`, an id prefix and a time scale, so the same flow can be replayed with other ids,
agents and timings, interleaved with other flows in one run.
`DOCUMENTED` pairs each flow with the descriptors "illustrated" on the page (the multiset of IRF descriptors)
and, where the page says so, how the options change them: data in fixtures/flows/<flow>/documented.yaml, read by
`etl.simulate.documented`.
"""

from __future__ import annotations

from etl.simulate.cast import Cast, Flow, cast_ids, queue_names
from etl.simulate.chat_flows import CHAT_FLOWS
from etl.simulate.documented import Documented, documented
from etl.simulate.open_media_flows import OPEN_MEDIA_FLOWS
from etl.simulate.scenario import OUTBOUND_QUEUE, Scenario, agent, strategy, workbin


def _routed_and_accepted(sc: Scenario, c: Cast, ixn: str, vq: str = "VQ1") -> None:
    sc.inbound(
        ixn,
        c.iq1,
        user_data={
            "subject": "Order 42",
            "from": "customer@example.com",
            "to": "support@example.com",
            # GIM's standard keys (etl.domain.user_data.DEFAULT_KEYS) as a routing strategy attaches them
            "CustomerID": "C000042",
            "CustomerSegment": "Gold",
            "ServiceType": "Billing",
            "ServiceSubType": "Refund",
        },
    )
    sc.wait(5 * c.t).strategy_takes(ixn, c.s1, c.iq1).vq_enter(ixn, vq, c.s1)
    sc.wait(55 * c.t).route(ixn, c.a1, c.s1, vq)
    sc.wait(10 * c.t).accept(ixn, c.a1)
    # the agent records the outcome on the desktop as it opens the e-mail (GIM's BusinessResult KVP)
    sc.attach(ixn, BusinessResult="Resolved")


def routed_and_replies(sc: Scenario, c: Cast) -> None:
    """Strategy routes e-mail to agent, and agent replies."""
    inb, out = c.ix("IN"), c.ix("OUT")
    _routed_and_accepted(sc, c, inb)
    sc.wait(230 * c.t).create(out, agent(c.a1), parent=inb).stop(inb, c.a1)
    sc.wait(420 * c.t).send(out, c.a1)
    sc.wait(2 * c.t).send_out(out)


def invitation_revoked(sc: Scenario, c: Cast) -> None:
    """Agent invited into e-mail interaction, and invitation revoked (returned to the queue)."""
    inb = c.ix("IN")
    sc.inbound(inb, c.iq1)
    sc.wait(5 * c.t).strategy_takes(inb, c.s1, c.iq1).vq_enter(inb, "VQ1", c.s1)
    sc.wait(20 * c.t).route(inb, c.a1, c.s1, "VQ1")
    sc.wait(30 * c.t).revoke(inb, c.a1, back_to=c.iq1)


def autoresponse(sc: Scenario, c: Cast) -> None:
    """E-mail interaction handled by a strategy with autoresponse."""
    inb, out = c.ix("IN"), c.ix("AR")
    sc.inbound(inb, c.iq1)
    sc.wait(4 * c.t).strategy_takes(inb, c.s1, c.iq1)
    sc.wait(2 * c.t).create(out, strategy(c.s1), parent=inb, subtype="OutboundAutoResponse")
    sc.stop(inb, strategy(c.s1))
    sc.wait(1 * c.t).emit("EventPlacedInQueue", out, queue=OUTBOUND_QUEUE, actor=strategy(c.s1))
    sc.wait(3 * c.t).send_out(out)


def direct_transfer(sc: Scenario, c: Cast) -> None:
    """Agent transfers e-mail directly to another agent."""
    inb, out = c.ix("IN"), c.ix("OUT")
    _routed_and_accepted(sc, c, inb)
    sc.wait(60 * c.t).invite(inb, c.a1, c.a2, "transfer")
    sc.wait(15 * c.t).transfer_accepted(inb, c.a1, c.a2)
    sc.wait(300 * c.t).create(out, agent(c.a2), parent=inb).stop(inb, c.a2)
    sc.wait(200 * c.t).send(out, c.a2)
    sc.wait(2 * c.t).send_out(out)


def direct_transfer_fails(sc: Scenario, c: Cast) -> None:
    """Agent's attempt to transfer e-mail (the reply) directly to another agent fails."""
    inb, out = c.ix("IN"), c.ix("OUT")
    _routed_and_accepted(sc, c, inb)
    sc.wait(60 * c.t).create(out, agent(c.a1), parent=inb).stop(inb, c.a1)
    sc.wait(100 * c.t).invite(out, c.a1, c.a2, "transfer")
    sc.wait(30 * c.t).revoke(out, c.a2, back_to=None)
    sc.wait(120 * c.t).send(out, c.a1)
    sc.wait(2 * c.t).send_out(out)


def transfer_through_queue(sc: Scenario, c: Cast) -> None:
    """Transfer of e-mail from agent to agent through a queue."""
    inb, out = c.ix("IN"), c.ix("OUT")
    _routed_and_accepted(sc, c, inb)
    sc.wait(90 * c.t).place_in_queue(inb, c.a1, c.iq2)
    sc.wait(10 * c.t).strategy_takes(inb, c.s2, c.iq2)
    sc.wait(20 * c.t).route(inb, c.a2, c.s2)
    sc.wait(8 * c.t).accept(inb, c.a2)
    sc.wait(240 * c.t).create(out, agent(c.a2), parent=inb).stop(inb, c.a2)
    sc.wait(100 * c.t).send(out, c.a2)
    sc.wait(2 * c.t).send_out(out)


def transfer_through_queue_fails(sc: Scenario, c: Cast) -> None:
    """Unsuccessful transfer (of the reply) from agent to agent through a queue."""
    inb, out = c.ix("IN"), c.ix("OUT")
    _routed_and_accepted(sc, c, inb)
    sc.wait(60 * c.t).create(out, agent(c.a1), parent=inb).stop(inb, c.a1)
    sc.wait(100 * c.t).place_in_queue(out, c.a1, c.iq2)
    sc.wait(10 * c.t).strategy_takes(out, c.s2, c.iq2)
    sc.wait(5 * c.t).route(out, c.a2, c.s2)
    sc.wait(30 * c.t).revoke(out, c.a2, back_to=c.iq2)


def transfer_multiple_vqs(sc: Scenario, c: Cast) -> None:
    """Transfer from agent to agent through a queue with multiple VQs (parallel VQ1-3, sequential VQ4-6)."""
    inb = c.ix("IN")
    sc.inbound(inb, c.iq1)
    sc.wait(3 * c.t).strategy_takes(inb, c.s1, c.iq1)
    for vq in ("VQ1", "VQ2", "VQ3"):
        sc.vq_enter(inb, vq, c.s1)
    sc.wait(40 * c.t).route(inb, c.a1, c.s1, "VQ1")
    sc.vq_leave(inb, "VQ2", c.s1, "cleared").vq_leave(inb, "VQ3", c.s1, "cleared")
    sc.wait(6 * c.t).accept(inb, c.a1)
    sc.wait(120 * c.t).place_in_queue(inb, c.a1, c.iq2)
    sc.wait(4 * c.t).strategy_takes(inb, c.s2, c.iq2).vq_enter(inb, "VQ4", c.s2)
    sc.wait(30 * c.t).vq_leave(inb, "VQ4", c.s2, "cleared").vq_enter(inb, "VQ5", c.s2)
    sc.wait(25 * c.t).route(inb, c.a2, c.s2, "VQ5")
    sc.wait(7 * c.t).accept(inb, c.a2)


def _consult(sc: Scenario, c: Cast, out: str, blocking: bool) -> None:
    con, rep = c.ix("CON"), c.ix("CREP")
    sc.wait(30 * c.t).create(con, agent(c.a1), parent=out, itype="Internal", subtype="InternalCollaborationInvite")
    sc.wait(20 * c.t).invite(con, c.a1, c.a2, "transfer")
    if blocking:
        sc.wait(5 * c.t).place_in_workbin(out, c.a1, workbin("Draft", c.a1))
    sc.wait(25 * c.t).transfer_accepted(con, c.a1, c.a2)
    sc.wait(200 * c.t).create(rep, agent(c.a2), parent=con, itype="Internal", subtype="InternalCollaborationReply")
    sc.stop(con, c.a2)
    sc.wait(60 * c.t).place_in_workbin(rep, c.a2, workbin("Collaboration", c.a1, workbin_type="Collaboration"))
    if blocking:
        sc.wait(40 * c.t).pull_from_workbin(out, c.a1, workbin("Draft", c.a1))


def consult_non_blocking(sc: Scenario, c: Cast) -> None:
    """Agent consults to another agent before sending reply — non-blocking."""
    inb, out = c.ix("IN"), c.ix("OUT")
    _routed_and_accepted(sc, c, inb)
    sc.wait(60 * c.t).create(out, agent(c.a1), parent=inb).stop(inb, c.a1)
    _consult(sc, c, out, blocking=False)
    sc.wait(100 * c.t).send(out, c.a1)
    sc.wait(2 * c.t).send_out(out)


def consult_blocking(sc: Scenario, c: Cast) -> None:
    """Agent consults to another agent before sending reply — blocking (reply parked in Draft workbin)."""
    inb, out = c.ix("IN"), c.ix("OUT")
    _routed_and_accepted(sc, c, inb)
    sc.wait(60 * c.t).create(out, agent(c.a1), parent=inb).stop(inb, c.a1)
    _consult(sc, c, out, blocking=True)
    sc.wait(100 * c.t).send(out, c.a1)
    sc.wait(2 * c.t).send_out(out)


def consult_fails(sc: Scenario, c: Cast) -> None:
    """Agent unsuccessfully consults to another agent before sending reply."""
    inb, out, con = c.ix("IN"), c.ix("OUT"), c.ix("CON")
    _routed_and_accepted(sc, c, inb)
    sc.wait(60 * c.t).create(out, agent(c.a1), parent=inb).stop(inb, c.a1)
    sc.wait(30 * c.t).create(con, agent(c.a1), parent=out, itype="Internal", subtype="InternalCollaborationInvite")
    sc.wait(20 * c.t).invite(con, c.a1, c.a2, "transfer").leave(con, c.a1)
    sc.wait(30 * c.t).revoke(con, c.a2, back_to=None)
    sc.stop(con, {"type": "System", "id": "InteractionServer"}, reason="revoked")
    sc.wait(100 * c.t).send(out, c.a1)
    sc.wait(2 * c.t).send_out(out)


def draft_reply(sc: Scenario, c: Cast) -> None:
    """Agent saves draft reply before sending: mediation (hold=false) or hold (hold=true) — same events."""
    inb, out = c.ix("IN"), c.ix("OUT")
    _routed_and_accepted(sc, c, inb)
    sc.wait(60 * c.t).create(out, agent(c.a1), parent=inb).stop(inb, c.a1)
    sc.wait(120 * c.t).place_in_workbin(out, c.a1, workbin("Draft", c.a1))
    sc.wait(3600 * c.t).pull_from_workbin(out, c.a1, workbin("Draft", c.a1))
    sc.wait(90 * c.t).send(out, c.a1)
    sc.wait(2 * c.t).send_out(out)


def pull_from_queue(sc: Scenario, c: Cast) -> None:
    """Agent pulls e-mail from an Interaction Queue or Workbin, then places it into another queue."""
    inb = c.ix("IN")
    sc.inbound(inb, c.iq1)
    sc.wait(600 * c.t).pull_from_queue(inb, c.a1, c.iq1)
    sc.wait(180 * c.t).place_in_queue(inb, c.a1, c.iq2)


def outbound_new(sc: Scenario, c: Cast) -> None:
    """Agent sends outbound e-mail (not a reply)."""
    out = c.ix("NEW")
    sc.create(out, agent(c.a1), itype="Outbound", subtype="OutboundNew")
    sc.wait(300 * c.t).send(out, c.a1)
    sc.wait(2 * c.t).send_out(out)


def _two_replies(sc: Scenario, c: Cast, first_sent: bool) -> None:
    inb, out1, out2 = c.ix("IN"), c.ix("OUTA"), c.ix("OUTB")
    _routed_and_accepted(sc, c, inb)
    sc.wait(60 * c.t).create(out1, agent(c.a1), parent=inb)
    sc.wait(30 * c.t).invite(out1, c.a1, c.a2, "transfer")
    sc.wait(20 * c.t).transfer_accepted(out1, c.a1, c.a2)
    sc.wait(40 * c.t).create(out2, agent(c.a1), parent=inb).stop(inb, c.a1)
    sc.wait(60 * c.t).send(out2, c.a1)
    sc.wait(2 * c.t).send_out(out2)
    if first_sent:
        sc.wait(300 * c.t).send(out1, c.a2)
        sc.wait(2 * c.t).send_out(out1)
    else:
        sc.wait(300 * c.t).stop(out1, c.a2, reason="cancelled")


def multipart_reply(sc: Scenario, c: Cast) -> None:
    """Multipart reply: one reply transferred to Agent 2, one sent by Agent 1."""
    _two_replies(sc, c, first_sent=True)


def multipart_unsent(sc: Scenario, c: Cast) -> None:
    """Multipart e-mail reply with unsent reply (OutboundStopped)."""
    _two_replies(sc, c, first_sent=False)


def routing_fails_repeatedly(sc: Scenario, c: Cast) -> None:
    """Routing strategy repeatedly fails to find a target, then routes to Agent 1."""
    inb = c.ix("IN")
    sc.inbound(inb, c.iq1)
    for _ in range(3):
        sc.wait(5 * c.t).strategy_takes(inb, c.s1, c.iq1).vq_enter(inb, "VQ1", c.s1)
        sc.wait(60 * c.t).vq_leave(inb, "VQ1", c.s1, "cleared").strategy_requeues(inb, c.s1, c.iq1)
    sc.wait(5 * c.t).strategy_takes(inb, c.s1, c.iq1).vq_enter(inb, "VQ1", c.s1)
    sc.wait(30 * c.t).route(inb, c.a1, c.s1, "VQ1")
    sc.wait(5 * c.t).accept(inb, c.a1)


#: The flow scripts, by name: the name is also the flow's directory under fixtures/flows/.
FLOWS: dict[str, Flow] = {
    f.__name__: f
    for f in (
        routed_and_replies,
        invitation_revoked,
        autoresponse,
        direct_transfer,
        direct_transfer_fails,
        transfer_through_queue,
        transfer_through_queue_fails,
        transfer_multiple_vqs,
        consult_non_blocking,
        consult_blocking,
        consult_fails,
        draft_reply,
        pull_from_queue,
        outbound_new,
        multipart_reply,
        multipart_unsent,
        routing_fails_repeatedly,
    )
}

#: Per flow, its script and what the documentation says it produces (fixtures/flows/<flow>/documented.yaml).
#: The e-mail flows, GIM's chat flows (etl.simulate.chat_flows) and open media (etl.simulate.open_media_flows).
DOCUMENTED: dict[str, tuple[Flow, tuple[Documented, ...]]] = {
    name: (f, documented(name)) for name, f in {**FLOWS, **CHAT_FLOWS, **OPEN_MEDIA_FLOWS}.items()
}


__all__ = ["CHAT_FLOWS", "OPEN_MEDIA_FLOWS", "DOCUMENTED", "FLOWS", "Cast", "Flow", "cast_ids", "queue_names"]
