"""GIM's online rules, one function call each: a chat its customer abandons, in a queue, in a virtual queue or while
an agent is invited, never makes a strategy or an agent look like it handled it; the same events on an offline
media follow the e-mail rules; `online-media-types` decides which is which.

Sources: GIMMMIxnFlow-Chat (chat flows), Table-INTERACTION_RESOURCE_FACT ("IRF resources include ... mediation
resources in which the IRF ends in mediation"), Table-MEDIATION_SEGMENT_FACT (abandoned in the mediation DN;
distributed then abandoned while alerting), public GIM SQL filtering RESULT_REASON 'AbandonedWhileRinging' /
'AbandonedWhileQueued' (../shared/domain/online_and_agent_states.md §1).
"""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from etl.domain.options import GimOptions
from etl.transform.api import facts_from_events
from tests.test_contract_v11 import AGENT, BOT, CHAT, CUSTOMER, QUEUE, STRATEGY, _ev

CHAT_SERVER = {"type": "MediaServer", "id": "ChatServer"}


def _submitted(ixn: str, media: str = "chat") -> list[dict[str, Any]]:
    return [
        _ev(1, "EventInteractionSubmitted", 0, ixn, media_type=media, interaction_type="Inbound",
            interaction_subtype="InboundNew", actor=CHAT_SERVER, queue=QUEUE),
        _ev(2, "EventPartyAdded", 0, ixn, party=CUSTOMER),
        _ev(3, "EventPlacedInQueue", 0, ixn, queue=QUEUE),
    ]  # fmt: skip


def _in_vq(ixn: str) -> list[dict[str, Any]]:
    return [
        _ev(4, "EventTakenFromQueue", 2, ixn, queue=QUEUE, actor=STRATEGY),
        _ev(5, "EventVirtualQueueEntered", 2, ixn, vq="VQ_Chat", actor=STRATEGY),
    ]


def _abandoned(ixn: str, second: int, vq_open: bool) -> list[dict[str, Any]]:
    left = [_ev(7, "EventVirtualQueueLeft", second, ixn, vq="VQ_Chat", actor=STRATEGY, outcome="abandoned")]
    return [
        _ev(6, "EventPartyRemoved", second, ixn, party=CUSTOMER, reason="abandoned"),
        *(left if vq_open else []),
        _ev(8, "EventProcessingStopped", second, ixn, actor=CHAT_SERVER, reason="abandoned"),
    ]


def vq_abandon(ixn: str = "CH3", media: str = "chat") -> list[dict[str, Any]]:
    """The issue's first case: the customer leaves while a strategy holds the chat in a VQ (38 s)."""
    return _submitted(ixn, media) + _in_vq(ixn) + _abandoned(ixn, 40, vq_open=True)


def ringing_abandon(ixn: str = "CH4") -> list[dict[str, Any]]:
    """The customer leaves 5 s after the strategy invited agent1."""
    routed = [
        _ev(9, "EventAgentInvited", 10, ixn, party=AGENT, actor=STRATEGY, reason="route", vq="VQ_Chat"),
        _ev(10, "EventVirtualQueueLeft", 10, ixn, vq="VQ_Chat", actor=STRATEGY, outcome="routed", target=AGENT),
    ]
    return _submitted(ixn) + _in_vq(ixn) + routed + _abandoned(ixn, 15, vq_open=False)


def _rows(frame) -> list[dict[str, Any]]:
    return list(frame.iter_rows(named=True))


def test_abandoned_in_a_vq_the_irf_is_kept_on_the_vq_and_the_strategy_handles_nothing() -> None:
    facts = facts_from_events(vq_abandon(), GimOptions())
    (irf,) = _rows(facts.irfs)
    assert (irf["resource_nk"], irf["resource_role"], irf["technical_result"], irf["result_reason"]) == (
        "VirtualQueue:VQ_Chat", "Received", "Abandoned", "AbandonedWhileQueued")  # fmt: skip
    assert irf["handle_count"] == 0 and irf["talk_duration"] == 0
    assert irf["mediation_duration"] == 40
    msfs = {m["resource_nk"]: m for m in _rows(facts.msfs)}
    assert {k: (m["technical_result"], m["result_reason"], m["mediation_duration"]) for k, m in msfs.items()} == {
        "InteractionQueue:ChatInbound": ("Abandoned", "AbandonedWhileQueued", 2),
        "VirtualQueue:VQ_Chat": ("Abandoned", "AbandonedWhileQueued", 38),
    }


def test_abandoned_while_an_agent_is_invited_is_the_customers_abandonment() -> None:
    facts = facts_from_events(ringing_abandon(), GimOptions())
    (irf,) = _rows(facts.irfs)
    assert (irf["resource_nk"], irf["resource_role"], irf["technical_result"], irf["result_reason"]) == (
        "Agent:agent1", "RoutedTo", "CustomerAbandoned", "AbandonedWhileRinging")  # fmt: skip
    assert (irf["ring_count"], irf["ring_duration"], irf["handle_count"], irf["talk_duration"]) == (1, 5, 0, 0)
    # The stays were distributed to agent1, and their time runs until the customer left while it was alerting.
    msfs = {m["resource_nk"]: m for m in _rows(facts.msfs)}
    assert {k: (m["technical_result"], m["result_reason"], m["mediation_duration"]) for k, m in msfs.items()} == {
        "InteractionQueue:ChatInbound": ("Diverted", "AbandonedWhileRinging", 2),
        "VirtualQueue:VQ_Chat": ("Diverted", "AbandonedWhileRinging", 13),
    }


def test_abandoned_in_the_queue_gets_an_irf_on_the_queue() -> None:
    events = _submitted("CH5") + _abandoned("CH5", 9, vq_open=False)
    (irf,) = _rows(facts_from_events(events, GimOptions()).irfs)
    assert (irf["resource_nk"], irf["technical_result"], irf["result_reason"], irf["handle_count"]) == (
        "InteractionQueue:ChatInbound", "Abandoned", "AbandonedWhileQueued", 0)  # fmt: skip


def test_the_same_events_on_email_follow_the_email_rules() -> None:
    """E-mail has no customer in a session ("Abandonment" applies to synchronous media only, Genesys glossary): the
    removal is ignored. The media server stopped it while the VQ held it, so the IRF is kept on that mediation
    resource without any abandonment reason; had the strategy stopped it itself, the strategy would have handled it
    (autoresponse, seed 000)."""
    (irf,) = _rows(facts_from_events(vq_abandon(media="email"), GimOptions()).irfs)
    assert (irf["resource_nk"], irf["resource_role"], irf["technical_result"], irf["result_reason"]) == (
        "VirtualQueue:VQ_Chat", "Received", "Abandoned", "Unspecified")  # fmt: skip
    by_strategy = [{**e, "actor": STRATEGY} if e["event"] == "EventProcessingStopped" else e
                   for e in vq_abandon(media="email")]  # fmt: skip
    (irf,) = _rows(facts_from_events(by_strategy, GimOptions()).irfs)
    assert (irf["resource_nk"], irf["resource_role"], irf["technical_result"], irf["handle_count"]) == (
        "Strategy:ChatStrategy", "Puller", "Completed", 1)  # fmt: skip


def test_online_media_types_decides_whether_a_workitem_follows_the_chat_rules() -> None:
    offline = _rows(facts_from_events(vq_abandon(media="workitem"), GimOptions()).irfs)
    online = _rows(
        facts_from_events(vq_abandon(media="workitem"), GimOptions(**{"online-media-types": ["chat", "workitem"]})).irfs
    )
    assert [(r["resource_nk"], r["technical_result"], r["result_reason"]) for r in offline] == [
        ("VirtualQueue:VQ_Chat", "Abandoned", "Unspecified")
    ]
    assert [(r["resource_nk"], r["technical_result"], r["result_reason"]) for r in online] == [
        ("VirtualQueue:VQ_Chat", "Abandoned", "AbandonedWhileQueued")
    ]
    # And chat itself is offline once the option leaves it out: no customer abandonment.
    off = _rows(facts_from_events(vq_abandon(), GimOptions(**{"online-media-types": ["sms"]})).irfs)
    assert [(r["technical_result"], r["result_reason"]) for r in off] == [("Abandoned", "Unspecified")]


def test_an_email_discarded_in_its_queue_keeps_its_irf_on_the_queue() -> None:
    """Stopped by the media server while it waited, with nobody on it: the IRF ends in mediation (Table-IRF)."""
    from etl.simulate.scenario import MEDIA_SERVER, Scenario

    sc = Scenario(prefix="x")
    sc.inbound("E1", "Inbound").wait(30).stop("E1", MEDIA_SERVER)
    facts = facts_from_events(sc.events, GimOptions())
    (irf,) = _rows(facts.irfs)
    assert (irf["resource_nk"], irf["resource_role"], irf["technical_result"], irf["mediation_duration"]) == (
        "InteractionQueue:Inbound", "Received", "Abandoned", 30)  # fmt: skip
    (msf,) = _rows(facts.msfs)
    assert (msf["technical_result"], msf["target_ixn_resource_nk"]) == ("Abandoned", irf["natural_key"])


def test_a_bot_then_an_agent_the_customer_leaving_first() -> None:
    """The bot's five seconds are neither mediation nor handling, the bot gets no IRF, and the agent's IRF records
    that the customer left before the agent stopped (ANCHOR_FLAGS.CUSTOMER_LEFT_FIRST)."""
    facts = facts_from_events(CHAT, GimOptions())
    (irf,) = _rows(facts.irfs)
    assert (irf["resource_nk"], irf["resource_role"], irf["technical_result"], irf["handle_count"]) == (
        "Agent:agent1", "RoutedTo", "Completed", 1)  # fmt: skip
    assert irf["customer_left_ts"] is not None and irf["end_ts"] > irf["customer_left_ts"]
    # Mediation runs from the queue the chat entered as the bot left (6 s) to the invitation (10 s), not from 0 s.
    assert (irf["mediation_duration"], irf["queue_duration"], irf["ring_duration"]) == (4, 1, 2)
    assert not any(r["resource_nk"].startswith(("Bot:", "Customer:")) for r in _rows(facts.irfs))


# -- property: a chat abandoned anywhere is never handled ---------------------------------------------------------

STAGES = ("queue", "vq", "invited")


@st.composite
def abandoned_chats(draw: st.DrawFn) -> list[dict[str, Any]]:
    ixn = "P1"
    stage = draw(st.sampled_from(STAGES))
    bot = draw(st.booleans())
    leave = draw(st.integers(min_value=12, max_value=59))
    events = _submitted(ixn)
    if bot:
        events[1:1] = [_ev(40, "EventPartyAdded", 0, ixn, party=BOT), _ev(41, "EventPartyRemoved", 1, ixn, party=BOT)]
    if stage in ("vq", "invited"):
        events += _in_vq(ixn)
    if stage == "invited":
        events += [
            _ev(9, "EventAgentInvited", 10, ixn, party=AGENT, actor=STRATEGY, reason="route", vq="VQ_Chat"),
            _ev(10, "EventVirtualQueueLeft", 10, ixn, vq="VQ_Chat", actor=STRATEGY, outcome="routed", target=AGENT),
        ]  # fmt: skip
    explicit = draw(st.booleans())  # "reason: abandoned", or any removal before an agent was connected
    removal = _ev(6, "EventPartyRemoved", leave, ixn, party=CUSTOMER, **({"reason": "abandoned"} if explicit else {}))
    events.append(removal)
    if stage == "vq":
        events.append(_ev(7, "EventVirtualQueueLeft", leave, ixn, vq="VQ_Chat", actor=STRATEGY, outcome="abandoned"))
    events.append(_ev(8, "EventProcessingStopped", leave, ixn, actor=CHAT_SERVER, reason="abandoned"))
    return events


@settings(max_examples=60, deadline=None)
@given(abandoned_chats())
def test_a_chat_abandoned_anywhere_is_never_handled(events: list[dict[str, Any]]) -> None:
    facts = facts_from_events(events, GimOptions())
    irfs = _rows(facts.irfs)
    assert len(irfs) == 1
    (irf,) = irfs
    assert irf["handle_count"] == 0 and irf["talk_duration"] == 0
    assert not irf["resource_nk"].startswith(("Strategy:", "Bot:", "Customer:"))
    assert (irf["technical_result"], irf["result_reason"]) in {
        ("Abandoned", "AbandonedWhileQueued"), ("CustomerAbandoned", "AbandonedWhileRinging")}  # fmt: skip
    for msf in _rows(facts.msfs):
        assert msf["technical_result"] in ("Abandoned", "Diverted"), msf
        assert msf["mediation_duration"] >= 0


# -- property: random chat lives (contract 1.1 customer, bot and message events) ---------------------------------

CHAT_AGENTS = ["c1", "c2", "c3"]


def _chat_walk(draw: st.DrawFn) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """One chat's life from random, always-valid operations: a bot may greet first, messages flow whenever someone
    is in the session, and the customer may leave at any moment. Returns the events and what the walk knows."""
    from etl.simulate.scenario import Scenario, agent, bot, customer

    sc = Scenario(prefix="w")
    ixn, contact, q = "CHW", "contact-w", "ChatQ"
    wait = lambda: sc.wait(draw(st.integers(0, 120)))  # noqa: E731
    sc.chat_inbound(ixn, q, contact)
    if draw(st.booleans()):
        sc.bot_joins(ixn, "bot").wait(2).message(ixn, bot("bot")).wait(draw(st.integers(0, 30))).bot_leaves(ixn, "bot")
    state, who, connected_once = "queue", "", False
    for _ in range(draw(st.integers(1, 10))):
        wait()
        if draw(st.booleans()):
            sc.message(ixn, customer(contact))
        if state == "queue":
            op = draw(st.sampled_from(["route", "route_vq", "abandon"]))
            if op == "abandon":  # an agent who had it before a requeue did handle it
                sc.customer_abandons(ixn, contact)
                return sc.events, {"abandoned": not connected_once, "ended": True}
            sc.strategy_takes(ixn, "S", q)
            vq = "VQc" if op == "route_vq" else None
            if vq:
                sc.vq_enter(ixn, vq, "S")
            who = draw(st.sampled_from(CHAT_AGENTS))
            sc.wait(draw(st.integers(0, 60))).route(ixn, who, "S", vq)
            state = "invited"
        elif state == "invited":
            op = draw(st.sampled_from(["accept", "accept", "revoke", "abandon"]))
            if op == "accept":
                sc.accept(ixn, who)
                state, connected_once = "agent", True
            elif op == "revoke":
                sc.revoke(ixn, who, back_to=q)
                state = "queue"
            else:
                sc.customer_abandons(ixn, contact)
                return sc.events, {"abandoned": not connected_once, "ended": True}
        else:
            op = draw(st.sampled_from(["talk", "talk", "transfer", "hold", "requeue", "customer_leaves", "stop"]))
            if op == "talk":
                sc.message(ixn, agent(who))
            elif op == "transfer":
                to = draw(st.sampled_from([a for a in CHAT_AGENTS if a != who]))
                sc.invite(ixn, who, to).wait(draw(st.integers(1, 30))).transfer_accepted(ixn, who, to)
                who = to
            elif op == "hold":
                sc.hold(ixn, who).wait(draw(st.integers(1, 60))).resume(ixn, who)
            elif op == "requeue":
                sc.place_in_queue(ixn, who, q)
                state = "queue"
            else:
                if op == "customer_leaves":
                    sc.customer_leaves(ixn, contact).wait(draw(st.integers(0, 30)))
                sc.stop(ixn, who)
                return sc.events, {"abandoned": False, "ended": True}
    return sc.events, {"abandoned": False, "ended": False}


@settings(max_examples=120, deadline=None)
@given(st.data())
def test_random_chat_lives_keep_the_online_invariants(data: st.DataObject) -> None:
    events, known = _chat_walk(data.draw)
    facts = facts_from_events(events, GimOptions())
    assert facts.rejected.height == 0, facts.rejected.rows()
    irfs = _rows(facts.irfs)
    assert all(not r["resource_nk"].startswith(("Strategy:", "Bot:", "Customer:")) for r in irfs)
    for r in irfs:
        assert min(r["mediation_duration"], r["ring_duration"], r["talk_duration"], r["hold_duration"]) >= 0, r
        assert 0 <= r["customer_talk_duration"] <= r["talk_duration"], r
        if r["end_ts"] is not None:
            assert r["mediation_duration"] + r["ring_duration"] + r["talk_duration"] + r["hold_duration"] <= (
                r["end_ts"] - r["start_ts"]
            ), r
    if known["abandoned"]:
        assert all(r["handle_count"] == 0 for r in irfs), irfs
        assert sum(r["technical_result"] in ("Abandoned", "CustomerAbandoned") for r in irfs) >= 1
    assert sum(r["irf_anchor"] for r in irfs) == (1 if irfs else 0)
    sessions = facts.chat_sessions.to_dicts()
    assert len(sessions) == (1 if known["ended"] else 0)
    for s in sessions:
        written = [e["party"]["type"] for e in events if e["event"] == "EventChatMessage"]
        assert (s["MSG_FROM_CUSTOMERS_COUNT"], s["MSG_FROM_AGENTS_COUNT"]) == (
            written.count("Customer"),
            written.count("Agent"),
        )
        agents = [r for r in irfs if r["resource_nk"].startswith("Agent:")]
        assert s["HANDLE_COUNT"] == sum(r["customer_handle_count"] for r in agents)
        assert (s["UNTIL_FIRST_AGENT_DURATION"] is None) == (not any(r["talk_count"] for r in agents))
