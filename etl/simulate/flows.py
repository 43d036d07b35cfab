"""The 18 e-mail flows GIM documents, as scenarios, with the technical descriptors the page lists.

Source: Genesys Info Mart User's Guide, "E-Mail Interactions"
https://docs.genesys.com/Documentation/GIM/latest/User/GIMMMIxnFlow-Email (../shared/seeds/000_*.txt).
Each flow takes a `Scenario`, an id prefix and a time scale, so the same flow can be replayed with other ids,
agents and timings, interleaved with other flows in one run.
`DOCUMENTED` holds, per flow, the descriptors "illustrated" on the page (the multiset of IRF descriptors) and,
where the page says so, how the options change them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from etl.simulate.scenario import OUTBOUND_QUEUE, Scenario, agent, queue, strategy, workbin


@dataclass(frozen=True)
class Cast:
    """Ids used by a flow run; vary them to prove the rules do not depend on names."""

    p: str = ""  # interaction id prefix
    a1: str = "agent1"
    a2: str = "agent2"
    s1: str = "Strategy1"
    s2: str = "Strategy2"
    iq1: str = "Inbound"
    iq2: str = "Queue2"
    t: float = 1.0  # time scale

    def ix(self, name: str) -> str:
        return f"{self.p}{name}"


def _routed_and_accepted(sc: Scenario, c: Cast, ixn: str, vq: str = "VQ1") -> None:
    sc.inbound(
        ixn, c.iq1, user_data={"subject": "Order 42", "from": "customer@example.com", "to": "support@example.com"}
    )
    sc.wait(5 * c.t).strategy_takes(ixn, c.s1, c.iq1).vq_enter(ixn, vq, c.s1)
    sc.wait(55 * c.t).route(ixn, c.a1, c.s1, vq)
    sc.wait(10 * c.t).accept(ixn, c.a1)


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


@dataclass(frozen=True)
class Documented:
    """What the documentation page says a flow produces.

    `irf`: the IRF descriptors illustrated, as a sorted multiset of (interaction, resource, label) with the
    interaction's suffix and the cast role ("a1", "a2", "s1"). `msf`: the MSF resources written, as a sorted
    multiset of (interaction, resource name) — our reading of the diagrams, see the docstring of each flow.
    `when`: the option values for which the expectation holds (others are listed as separate entries).
    """

    irf: tuple[tuple[str, str, str], ...]
    msf: tuple[tuple[str, str], ...] = ()
    when: tuple[tuple[str, bool], ...] = ()


Flow = Callable[[Scenario, Cast], None]

_RC = ("IN", "a1", "RoutedTo/Completed")

DOCUMENTED: dict[str, tuple[Flow, list[Documented]]] = {
    "routed_and_replies": (
        routed_and_replies,
        [
            Documented((_RC, ("OUT", "a1", "Initiated/Completed")), (("IN", "Inbound"), ("IN", "VQ1"))),
            Documented(
                (_RC, ("OUT", "a1", "Initiated/Completed")),
                (("IN", "Inbound"), ("IN", "VQ1"), ("OUT", "Outbound")),
                (("populate-mm-ixnqueue-facts", True),),
            ),
        ],
    ),
    "invitation_revoked": (
        invitation_revoked,
        [
            Documented((("IN", "a1", "RoutedTo/Redirected [Revoked]"),), (("IN", "Inbound"),)),
        ],
    ),
    "autoresponse": (
        autoresponse,
        [
            Documented((("IN", "s1", "Puller/Completed"), ("AR", "s1", "Initiated/Completed")), (("IN", "Inbound"),)),
        ],
    ),
    "direct_transfer": (
        direct_transfer,
        [
            Documented(
                (
                    ("IN", "a1", "RoutedTo/Transferred"),
                    ("IN", "a2", "ReceivedTransfer/Completed"),
                    ("OUT", "a2", "Initiated/Completed"),
                ),
                (("IN", "Inbound"), ("IN", "VQ1")),
            ),
        ],
    ),
    "direct_transfer_fails": (
        direct_transfer_fails,
        [
            Documented(
                (_RC, ("OUT", "a1", "Initiated/Completed"), ("OUT", "a2", "ReceivedTransfer/Abandoned [Revoked]")),
                (("IN", "Inbound"), ("IN", "VQ1")),
            ),
        ],
    ),
    "transfer_through_queue": (
        transfer_through_queue,
        [
            Documented(
                (
                    ("IN", "a1", "RoutedTo/Transferred"),
                    ("IN", "a2", "ReceivedTransfer/Completed"),
                    ("OUT", "a2", "Initiated/Completed"),
                ),
                (("IN", "Inbound"), ("IN", "VQ1")),
            ),
            Documented(
                (
                    ("IN", "a1", "RoutedTo/Transferred"),
                    ("IN", "a2", "ReceivedTransfer/Completed"),
                    ("OUT", "a2", "Initiated/Completed"),
                ),
                (("IN", "Inbound"), ("IN", "Queue2"), ("IN", "VQ1"), ("OUT", "Outbound")),
                (("populate-mm-ixnqueue-facts", True),),
            ),
        ],
    ),
    "transfer_through_queue_fails": (
        transfer_through_queue_fails,
        [
            Documented(
                (_RC, ("OUT", "a1", "Initiated/Transferred"), ("OUT", "a2", "ReceivedTransfer/Redirected [Revoked]")),
                (("IN", "Inbound"), ("IN", "VQ1")),
            ),
        ],
    ),
    "transfer_multiple_vqs": (
        transfer_multiple_vqs,
        [
            # [D] "there is no MSF for VQ6"; VQ1-VQ5 each have one. IRF2's result depends on later activity.
            Documented(
                (("IN", "a1", "RoutedTo/Transferred"), ("IN", "a2", "ReceivedTransfer/Unspecified")),
                (("IN", "Inbound"), ("IN", "VQ1"), ("IN", "VQ2"), ("IN", "VQ3"), ("IN", "VQ4"), ("IN", "VQ5")),
            ),
        ],
    ),
    "consult_non_blocking": (
        consult_non_blocking,
        [
            Documented(
                (
                    _RC,
                    ("CON", "a1", "InitiatedConsult/Transferred"),
                    ("CON", "a2", "ReceivedConsult/Completed"),
                    ("CREP", "a2", "ReceivedConsult/Transferred"),
                    ("OUT", "a1", "Initiated/Completed"),
                ),
                (("IN", "Inbound"), ("IN", "VQ1")),
            ),
        ],
    ),
    "consult_blocking": (
        consult_blocking,
        [
            Documented(
                (
                    _RC,
                    ("CON", "a1", "InitiatedConsult/Transferred"),
                    ("CON", "a2", "ReceivedConsult/Completed"),
                    ("CREP", "a2", "ReceivedConsult/Transferred"),
                    ("OUT", "a1", "Initiated/Transferred"),
                    ("OUT", "a1", "Puller/Completed"),
                ),
                (("IN", "Inbound"), ("IN", "VQ1")),
            ),
            # The page's diagram (MSF3 Draft, MSF4 Collaboration) shows the workbin MSFs.
            Documented(
                (
                    _RC,
                    ("CON", "a1", "InitiatedConsult/Transferred"),
                    ("CON", "a2", "ReceivedConsult/Completed"),
                    ("CREP", "a2", "ReceivedConsult/Transferred"),
                    ("OUT", "a1", "Initiated/Transferred"),
                    ("OUT", "a1", "Puller/Completed"),
                ),
                (("CREP", "Collaboration"), ("IN", "Inbound"), ("IN", "VQ1"), ("OUT", "Draft")),
                (("populate-mm-workbin-facts", True),),
            ),
            # [D] "Agent saves draft reply before sending (hold)": own-workbin time is hold, not mediation.
            Documented(
                (
                    _RC,
                    ("CON", "a1", "InitiatedConsult/Transferred"),
                    ("CON", "a2", "ReceivedConsult/Completed"),
                    ("CREP", "a2", "ReceivedConsult/Transferred"),
                    ("OUT", "a1", "Initiated/Completed"),
                ),
                (("IN", "Inbound"), ("IN", "VQ1")),
                (("populate-workbin-as-hold", True),),
            ),
        ],
    ),
    "consult_fails": (
        consult_fails,
        [
            Documented(
                (
                    _RC,
                    ("CON", "a1", "InitiatedConsult/Transferred"),
                    ("CON", "a2", "ReceivedConsult/Abandoned [Revoked]"),
                    ("OUT", "a1", "Initiated/Completed"),
                ),
                (("IN", "Inbound"), ("IN", "VQ1")),
            ),
        ],
    ),
    "draft_reply": (
        draft_reply,
        [
            Documented(
                (_RC, ("OUT", "a1", "Initiated/Transferred"), ("OUT", "a1", "Puller/Completed")),
                (("IN", "Inbound"), ("IN", "VQ1")),
            ),
            Documented(
                (_RC, ("OUT", "a1", "Initiated/Transferred"), ("OUT", "a1", "Puller/Completed")),
                (("IN", "Inbound"), ("IN", "VQ1"), ("OUT", "Draft")),
                (("populate-mm-workbin-facts", True),),
            ),
            Documented(
                (_RC, ("OUT", "a1", "Initiated/Completed")),
                (("IN", "Inbound"), ("IN", "VQ1")),
                (("populate-workbin-as-hold", True),),
            ),
            Documented(
                (_RC, ("OUT", "a1", "Initiated/Completed")),
                (("IN", "Inbound"), ("IN", "VQ1")),
                (("populate-workbin-as-hold", True), ("populate-mm-workbin-facts", True)),
            ),
        ],
    ),
    "pull_from_queue": (
        pull_from_queue,
        [
            Documented((("IN", "a1", "Puller/Transferred"),), (("IN", "Inbound"),)),
            Documented(
                (("IN", "a1", "Puller/Transferred"),),
                (("IN", "Inbound"), ("IN", "Queue2")),
                (("populate-mm-ixnqueue-facts", True),),
            ),
        ],
    ),
    "outbound_new": (
        outbound_new,
        [
            Documented((("NEW", "a1", "Initiated/Completed"),)),
        ],
    ),
    "multipart_reply": (
        multipart_reply,
        [
            Documented(
                (
                    _RC,
                    ("OUTA", "a1", "Initiated/Transferred"),
                    ("OUTA", "a2", "ReceivedTransfer/Completed"),
                    ("OUTB", "a1", "Initiated/Completed"),
                ),
                (("IN", "Inbound"), ("IN", "VQ1")),
            ),
        ],
    ),
    "multipart_unsent": (
        multipart_unsent,
        [
            Documented(
                (
                    _RC,
                    ("OUTA", "a1", "Initiated/Transferred"),
                    ("OUTA", "a2", "ReceivedTransfer/OutboundStopped"),
                    ("OUTB", "a1", "Initiated/Completed"),
                ),
                (("IN", "Inbound"), ("IN", "VQ1")),
            ),
        ],
    ),
    "routing_fails_repeatedly": (
        routing_fails_repeatedly,
        [
            # [D] "combined into one mediation (MSF1 for Interaction Queue 1), except for the last attempt (MSF2 VQ1)".
            Documented((("IN", "a1", "RoutedTo/Unspecified"),), (("IN", "Inbound"), ("IN", "VQ1"))),
        ],
    ),
}

OPTION_NAMES = ("populate-workbin-as-hold", "populate-mm-ixnqueue-facts", "populate-mm-workbin-facts")


def expectation(flow: str, options: dict[str, bool]) -> Documented:
    """The documented expectation that applies under `options` (the most specific matching entry)."""
    best: Documented | None = None
    for doc in DOCUMENTED[flow][1]:
        if all(options.get(k, False) == v for k, v in doc.when) and (best is None or len(doc.when) > len(best.when)):
            best = doc
    assert best is not None
    return best


def cast_ids(c: Cast) -> dict[str, str]:
    return {"a1": c.a1, "a2": c.a2, "s1": c.s1, "s2": c.s2}


def queue_names(c: Cast) -> dict[str, str]:
    return {"Inbound": c.iq1, "Queue2": c.iq2}


__all__ = ["DOCUMENTED", "OPTION_NAMES", "Cast", "Documented", "expectation", "queue", "cast_ids"]
