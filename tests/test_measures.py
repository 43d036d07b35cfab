"""IRF measures by whose time it was (customer, consultation, conference), anchor flags, the service objective and
durations on second boundaries; each computed by hand from the events of a documented or hand-written flow."""

from __future__ import annotations

from typing import Any

import polars as pl

from etl.domain.options import GimOptions
from etl.ingest.columns import EVENT_SCHEMA
from etl.ingest.models import validate_event
from etl.ingest.validate import normalize
from etl.simulate.golden import flow_events
from etl.simulate.scenario import Scenario
from etl.transform.api import facts_from_events
from etl.transform.facts import derive_facts

COLS = ["ixn", "resource_nk", "resource_role"]


def _irfs(events: list[dict[str, Any]], options: GimOptions | None = None) -> list[dict[str, Any]]:
    f = facts_from_events(events, options or GimOptions())
    return f.irfs.with_columns(ixn=pl.col("interaction_guid").str.split(":").list.last()).to_dicts()


def test_consultations_are_consult_time_not_customer_time() -> None:
    """consult_blocking by hand: agent1 handles IN (talk 60) and its reply OUT (55 + 100 after pulling it back);
    the consultation CON (agent1 initiates 50 s, agent2 rings 30 and talks 200) and agent2's consult reply CREP
    (60 s) are consult time, never customer time."""
    rows = {(r["ixn"], r["resource_nk"], r["resource_role"]): r for r in _irfs(flow_events("consult_blocking"))}
    con_init = rows[("CON", "Agent:agent1", "InitiatedConsult")]
    con_rcv = rows[("CON", "Agent:agent2", "ReceivedConsult")]
    crep = rows[("CREP", "Agent:agent2", "ReceivedConsult")]
    assert (con_init["cons_init_talk_count"], con_init["cons_init_talk_duration"]) == (1, 50)
    assert (con_rcv["cons_rcv_ring_duration"], con_rcv["cons_rcv_talk_duration"]) == (30, 200)
    assert crep["cons_rcv_talk_duration"] == 60
    for r in (con_init, con_rcv, crep):
        assert r["customer_talk_duration"] == r["customer_ring_duration"] == r["customer_handle_count"] == 0
        assert r["handle_count"] == 1
    customer = [r for k, r in rows.items() if k[0] in ("IN", "OUT")]
    assert sum(r["customer_talk_duration"] for r in customer) == 60 + 55 + 100
    assert all(r["customer_handle_count"] == 1 and r["cons_rcv_talk_duration"] == 0 for r in customer)
    assert all(r["dial_count"] == r["post_cons_xfer_talk_duration"] == 0 for r in rows.values())


def test_a_strategy_that_stops_the_interaction_handles_it_but_not_the_customer() -> None:
    """autoresponse: the strategy's IRFs have HANDLE_COUNT 1 (it sent the auto-response) and CUSTOMER_HANDLE_COUNT 0,
    so RAA's ACCEPTED (CUSTOMER_HANDLE_COUNT > 0) does not count a strategy."""
    rows = _irfs(flow_events("autoresponse"))
    assert [(r["resource_nk"], r["handle_count"], r["customer_handle_count"]) for r in rows] == [
        ("Strategy:Strategy1", 1, 0),
        ("Strategy:Strategy1", 1, 0),
    ]


def _conference() -> list[dict[str, Any]]:
    sc = Scenario(start="2026-03-02T09:00:00.000Z", prefix="cf:")
    sc.inbound("cf:IN", "Inbound")
    sc.wait(5).strategy_takes("cf:IN", "S1", "Inbound").vq_enter("cf:IN", "VQ1", "S1")
    sc.wait(55).route("cf:IN", "agent1", "S1", "VQ1")
    sc.wait(10).accept("cf:IN", "agent1")
    sc.wait(20).invite("cf:IN", "agent1", "agent2", reason="conference")
    sc.wait(15).accept("cf:IN", "agent2", reason="conference")
    sc.wait(40).emit("EventPartyRemoved", "cf:IN", party={"type": "Agent", "id": "agent2"})
    sc.wait(25).stop("cf:IN", "agent1")
    return sc.events


def test_a_conference_is_joined_and_counted_on_its_initiator() -> None:
    rows = {r["resource_nk"]: r for r in _irfs(_conference())}
    joiner, initiator = rows["Agent:agent2"], rows["Agent:agent1"]
    assert (joiner["conf_join_ring_duration"], joiner["conf_join_talk_count"], joiner["conf_join_talk_duration"]) == (
        15,
        1,
        40,
    )
    assert joiner["cons_rcv_talk_duration"] == joiner["customer_talk_duration"] == 0
    assert initiator["conference_initiated_count"] == 1 and joiner["conference_initiated_count"] == 0
    # both engaged from agent2's accept (09:01:45) until agent2 leaves (09:02:25)
    assert (initiator["conf_init_talk_count"], initiator["conf_init_talk_duration"]) == (1, 40)
    assert joiner["conf_init_talk_duration"] == 0
    assert initiator["customer_talk_duration"] == 20 + 15 + 40 + 25


def test_anchor_flags_first_engagement_and_first_reply() -> None:
    """multipart_reply: agent1 replies twice to IN (OUTA, then OUTB); agent2 takes OUTA over. FIRST_ENGAGE (bit 1)
    is on each agent's first engaged IRF of an interaction, FIRST_REPLY (bit 2) on each agent's first reply to IN."""
    rows = [(r["ixn"], r["resource_nk"], r["anchor_flags_key"]) for r in _irfs(flow_events("multipart_reply"))]
    assert rows == [
        ("IN", "Agent:agent1", 1),
        ("OUTA", "Agent:agent1", 3),
        ("OUTA", "Agent:agent2", 3),
        ("OUTB", "Agent:agent1", 1),
    ]


def test_met_service_objective() -> None:
    """routed_and_replies: IN reaches agent1 after 60 s of mediation and 10 s of ringing (70 s)."""
    flags = {
        so: [
            r["met_service_objective_flag"]
            for r in _irfs(flow_events("routed_and_replies"), GimOptions.load(None, [f"service-objective={so}"]))
            if r["ixn"] == "IN"
        ]
        for so in (0, 69, 70)
    }
    assert flags == {0: [0], 69: [0], 70: [1]}


def _ms_flow() -> list[dict[str, Any]]:
    """Mediation with millisecond times: queued 09:00:00.900, taken by the strategy at 09:00:05.100 and routed at
    once, accepted 09:00:15.600, held 09:00:20.700-09:00:21.300 and 09:00:30.400-09:00:30.900, stopped 09:00:40.200."""
    sc = Scenario(start="2026-03-02T09:00:00.900Z", prefix="ms:")
    sc.inbound("ms:IN", "Inbound")
    sc.wait(4.2).strategy_takes("ms:IN", "S1", "Inbound")
    sc.route("ms:IN", "agent1", "S1")
    sc.wait(10.5).accept("ms:IN", "agent1")
    for start, length in ((5.1, 0.6), (9.1, 0.5)):
        sc.wait(start).emit("EventHeld", "ms:IN", actor={"type": "Agent", "id": "agent1"})
        sc.wait(length).emit("EventResumed", "ms:IN", actor={"type": "Agent", "id": "agent1"})
    sc.wait(9.3).stop("ms:IN", "agent1")
    return sc.events


def _derived(events: list[dict[str, Any]], min_members: int | None) -> dict[str, Any]:
    rows = [{**normalize(validate_event(e)[0]), "source_file": "t", "source_line": i} for i, e in enumerate(events)]
    facts = derive_facts(
        pl.DataFrame(rows, schema=EVENT_SCHEMA, orient="row"), GimOptions(), min_shape_members=min_members
    )
    (irf,) = facts.irfs.to_dicts()
    return irf


def test_every_duration_is_a_difference_of_whole_second_timestamps() -> None:
    """By hand, on second boundaries: mediation 5 - 0 = 5 s, all of it in the queue (queue 0 -> 5), so no routing-point
    time; ring 5 -> 15 = 10 s; hold (20 -> 21) + (30 -> 30) = 1 s; talk 15 -> 40 = 25 s minus 1 s of hold = 24 s. The
    parts add up to the span 0 -> 40. Summing milliseconds first (4.2 s queue -> 4) used to show 1 s of routing point
    time where no strategy held the interaction. Both the one-by-one path and a shape's template agree."""
    for min_members in (None, 1):
        irf = _derived(_ms_flow(), min_members)
        assert irf["mediation_duration"] == irf["queue_duration"] == 5, min_members
        assert irf["routing_point_duration"] == 0
        assert (irf["ring_duration"], irf["hold_count"], irf["hold_duration"], irf["talk_duration"]) == (10, 2, 1, 24)
        assert irf["end_ts"] - irf["start_ts"] == sum(
            irf[k] for k in ("mediation_duration", "ring_duration", "hold_duration", "talk_duration")
        )
