"""GIM's rules one call from a test: every documented flow under every option setting, events straight into
`etl.transform.api.facts_from_events` (no CLI, no mart), compared with the documented expectations
(fixtures/flows/<flow>/documented.yaml). tests/test_flows.py checks the same through the public entry point."""

from __future__ import annotations

from collections import Counter

import polars as pl
import pytest

from etl.domain.options import GimOptions
from etl.domain.rules import RejectionKind
from etl.simulate.documented import irf_expectation, msf_expectation
from etl.simulate.flows import DOCUMENTED, Cast, cast_ids, queue_names
from etl.simulate.golden import OPTION_SETTINGS, flow_events, setting_name
from etl.transform.api import facts_from_events


def _name(resource_nk: str) -> str:
    return resource_nk.split(":", 1)[1]


@pytest.mark.parametrize("options", OPTION_SETTINGS, ids=setting_name)
@pytest.mark.parametrize("flow", list(DOCUMENTED))
def test_flow_gives_documented_descriptors(flow: str, options: dict[str, bool]) -> None:
    facts = facts_from_events(flow_events(flow), GimOptions.model_validate(options))
    prefix = f"{flow}:"
    roles = {v: k for k, v in cast_ids(Cast(p=prefix)).items()}
    irfs = Counter(
        (
            r["interaction_guid"].removeprefix(prefix),
            roles.get(_name(r["resource_nk"]), _name(r["resource_nk"])),
            f"{r['resource_role']}/{r['technical_result']}"
            + ("" if r["result_reason"] == "Unspecified" else f" [{r['result_reason']}]"),
        )
        for r in facts.irfs.iter_rows(named=True)
    )
    doc = irf_expectation(flow, options)
    assert irfs == Counter(doc.irf), doc.cite
    documented_msfs = msf_expectation(flow, options)
    if documented_msfs is not None:
        queues = {v: k for k, v in queue_names(Cast()).items()}
        msfs = Counter(
            (r["interaction_guid"].removeprefix(prefix), queues.get(_name(r["resource_nk"]), _name(r["resource_nk"])))
            for r in facts.msfs.iter_rows(named=True)
        )
        assert msfs == Counter(documented_msfs.msf), documented_msfs.cite
    assert facts.rejected.height == 0


def test_every_flow_is_documented_with_citations() -> None:
    for flow in DOCUMENTED:
        entries = DOCUMENTED[flow][1]
        assert entries and all(d.cite.startswith("https://docs.genesys.com/") for d in entries), flow
        assert any(not d.when for d in entries), f"{flow}: no entry for the default options"


def test_rejections_are_typed() -> None:
    events = [e for e in flow_events("direct_transfer") if e["event"] != "EventInteractionSubmitted"]
    events += flow_events("outbound_new")
    submitted = next(e for e in events if e["event"] == "EventInteractionSubmitted")
    events.append({**submitted, "event_id": "again"})
    facts = facts_from_events(events, GimOptions())
    kinds = Counter(facts.rejected.get_column("kind").to_list())
    assert set(kinds) == {RejectionKind.NEVER_SUBMITTED, RejectionKind.SUBMITTED_TWICE}
    assert kinds[RejectionKind.SUBMITTED_TWICE] == 1
    never = facts.rejected.filter(pl.col("kind") == RejectionKind.NEVER_SUBMITTED)
    assert never.height == len(events) - len(flow_events("outbound_new")) - 1
    assert never["reason"].str.contains("never submitted").all()
    assert {k for k in RejectionKind if k.waits_for_submission} == {RejectionKind.NEVER_SUBMITTED}


def test_invalid_event_is_named() -> None:
    events = flow_events("outbound_new")
    broken = {**events[1], "ts": "yesterday"}
    with pytest.raises(ValueError, match=f"event_id={broken['event_id']!r}"):
        facts_from_events([events[0], broken], GimOptions())
