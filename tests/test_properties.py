"""Property tests: random valid sequences of the agent operations of seeds 001/003 (accept, reject, reply,
transfer, place in queue or workbin, pull, send, cancel, stop, hold) always yield facts with valid descriptor
combinations, non-negative durations that fit inside each IRF's span, one anchor per interaction, and MSFs
whose targets exist."""

from __future__ import annotations

import tempfile
from pathlib import Path

import polars as pl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from etl.domain.descriptors import DESCRIPTOR_KEY, Role
from etl.domain.options import GimOptions
from etl.ingest.staging import read_events
from etl.simulate.scenario import OUTBOUND_QUEUE, Scenario, agent, strategy, workbin
from etl.transform.facts import derive_facts

AGENTS = ["a1", "a2", "a3"]
QUEUES = ["Q1", "Q2"]


def _walk(data: st.DataObject) -> Scenario:
    """Build one inbound e-mail's life from random, always-valid operations."""
    sc = Scenario(prefix="p")
    draw = data.draw
    wait = lambda: sc.wait(draw(st.integers(0, 900)))  # noqa: E731
    ixn, state, who, where = "IN", "queue", "", "Q1"
    sc.inbound(ixn, "Q1")
    children = 0
    for _ in range(draw(st.integers(1, 14))):
        wait()
        if state == "queue":
            op = draw(st.sampled_from(["route", "route_vq", "pull", "autoresponse", "fail_attempt"]))
            strat = draw(st.sampled_from(["S1", "S2"]))
            if op == "pull":
                who = draw(st.sampled_from(AGENTS))
                sc.pull_from_queue(ixn, who, where)
                state = "agent"
                continue
            sc.strategy_takes(ixn, strat, where)
            if op == "fail_attempt":
                sc.vq_enter(ixn, "VQ9", strat).wait(draw(st.integers(0, 60)))
                sc.vq_leave(ixn, "VQ9", strat, "cleared").strategy_requeues(ixn, strat, where)
            elif op == "autoresponse":
                children += 1
                child = f"AR{children}"
                sc.create(child, strategy(strat), parent=ixn, subtype="OutboundAutoResponse").stop(ixn, strategy(strat))
                sc.emit("EventPlacedInQueue", child, queue=OUTBOUND_QUEUE, actor=strategy(strat))
                sc.wait(1).send_out(child)
                state = "done"
            else:
                who = draw(st.sampled_from(AGENTS))
                vq = "VQ1" if op == "route_vq" else None
                if vq:
                    sc.vq_enter(ixn, vq, strat)
                sc.wait(draw(st.integers(0, 60))).route(ixn, who, strat, vq)
                state = "invited"
        elif state == "invited":
            op = draw(st.sampled_from(["accept", "accept", "revoke", "reject"]))
            if op == "accept":
                sc.accept(ixn, who)
                state = "agent"
            else:
                (sc.revoke if op == "revoke" else sc.reject)(ixn, who, back_to=where)
                state = "queue"
        elif state == "agent":
            op = draw(
                st.sampled_from(
                    ["reply", "stop", "requeue", "own_workbin", "other_workbin", "transfer", "failed_transfer", "hold"]
                )
            )
            if op == "reply":
                children += 1
                child = f"OUT{children}"
                sc.create(child, agent(who), parent=ixn)
                if draw(st.booleans()):
                    sc.stop(ixn, who)
                    state = "done"
                sc.wait(draw(st.integers(0, 600)))
                if draw(st.booleans()):
                    sc.send(child, who).wait(2).send_out(child)
                else:
                    sc.stop(child, who, reason="cancelled")
            elif op == "stop":
                sc.stop(ixn, who)
                state = "done"
            elif op == "requeue":
                where = draw(st.sampled_from(QUEUES))
                sc.place_in_queue(ixn, who, where)
                state = "queue"
            elif op in ("own_workbin", "other_workbin"):
                owner = who if op == "own_workbin" else draw(st.sampled_from([a for a in AGENTS if a != who]))
                wb = workbin("Draft" if owner == who else "Shared", owner)
                sc.place_in_workbin(ixn, who, wb).wait(draw(st.integers(1, 3600)))
                who = draw(st.sampled_from([owner, *AGENTS]))
                sc.pull_from_workbin(ixn, who, wb)
            elif op in ("transfer", "failed_transfer"):
                to = draw(st.sampled_from([a for a in AGENTS if a != who]))
                sc.invite(ixn, who, to).wait(draw(st.integers(0, 120)))
                if op == "transfer":
                    sc.transfer_accepted(ixn, who, to)
                    who = to
                else:
                    sc.revoke(ixn, to, back_to=None)
            else:
                sc.hold(ixn, who).wait(draw(st.integers(0, 300))).resume(ixn, who)
        else:
            break
    return sc


def _facts(sc: Scenario, options: GimOptions):
    with tempfile.TemporaryDirectory() as tmp:
        path = sc.write_ndjson(Path(tmp) / "events.jsonl")
        batch = read_events([path], run_id="prop")
    assert batch.quarantine.height == 0, batch.quarantine.rows()
    return derive_facts(batch.events, options)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), hold=st.booleans(), ixnq=st.booleans(), wb=st.booleans())
def test_random_operation_sequences_yield_consistent_facts(
    data: st.DataObject, hold: bool, ixnq: bool, wb: bool
) -> None:
    options = GimOptions(populate_workbin_as_hold=hold, populate_mm_ixnqueue_facts=ixnq, populate_mm_workbin_facts=wb)
    facts = _facts(_walk(data), options)
    assert facts.rejected.height == 0, facts.rejected.rows()
    irf, msf = facts.irfs, facts.msfs
    valid_keys = set(DESCRIPTOR_KEY.values())
    assert set(irf["technical_descriptor_key"].to_list()) <= valid_keys
    assert set(msf["technical_descriptor_key"].to_list()) <= valid_keys
    assert Role.RECEIVED.value not in irf["resource_role"].to_list()  # IRFs carry handling roles only
    for row in irf.iter_rows(named=True):
        durations = [
            row[c]
            for c in (
                "mediation_duration",
                "queue_duration",
                "routing_point_duration",
                "ring_duration",
                "talk_duration",
                "hold_duration",
            )
        ]
        assert min(durations) >= 0, row
        if row["end_ts"] is not None:
            span = row["end_ts"] - row["start_ts"]
            assert (
                row["mediation_duration"] + row["ring_duration"] + row["talk_duration"] + row["hold_duration"] <= span
            ), row
            assert row["queue_duration"] + row["routing_point_duration"] == row["mediation_duration"], row
    # exactly one anchor per interaction that has IRFs
    anchors = irf.group_by("interaction_guid").agg(pl.col("irf_anchor").sum())
    assert anchors["irf_anchor"].to_list() == [1] * anchors.height
    # every MSF target and every IRF mediation link resolves
    irf_keys = set(irf["natural_key"].to_list())
    assert set(msf["target_ixn_resource_nk"].drop_nulls().to_list()) <= irf_keys
    assert set(msf["ixn_resource_nk"].drop_nulls().to_list()) <= irf_keys
    assert set(irf["mediation_msf_nk"].drop_nulls().to_list()) <= set(msf["natural_key"].to_list())
    assert (msf["mediation_duration"] >= 0).all()
