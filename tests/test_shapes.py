"""Templates per interaction shape (etl.transform.shapes) give exactly the facts of deriving each interaction
on its own: on every golden flow under every option setting, on generated traffic and on random operation
sequences. Plus the two guards that make that true by construction: every rule column is in the shape or
positional, and `Ts` refuses what a template cannot express."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal
from test_properties import _walk

from etl.domain.options import GimOptions
from etl.ingest.staging import read_events
from etl.simulate.generator import GeneratorConfig, write_files
from etl.simulate.golden import FLOWS_DIR, OPTION_SETTINGS, setting_name
from etl.transform import facts as facts_module
from etl.transform.facts import derive_facts, sort_events
from etl.transform.shapes import (
    ID_COLUMNS,
    LITERAL_COLUMNS,
    POSITIONAL_COLUMNS,
    UNREAD_COLUMNS,
    NotReplayable,
    Ts,
    find_shapes,
)


def _assert_same_facts(events: pl.DataFrame, options: GimOptions) -> None:
    """Every interaction through a template (shapes of one member included) == every one derived alone."""
    templated = derive_facts(events, options, min_shape_members=1)
    alone = derive_facts(events, options, min_shape_members=None)
    for name in ("interactions", "irfs", "msfs", "resources", "rejected"):
        assert_frame_equal(getattr(templated, name), getattr(alone, name))
    assert templated.interactions.height > 0


def test_every_rule_column_is_in_the_shape_or_positional() -> None:
    parts = [LITERAL_COLUMNS, ID_COLUMNS, POSITIONAL_COLUMNS, UNREAD_COLUMNS]
    assert sorted(c for p in parts for c in p) == sorted(facts_module._RULE_COLUMNS)


@pytest.mark.parametrize("options", OPTION_SETTINGS, ids=setting_name)
def test_templates_match_one_by_one_on_every_golden_flow(options: dict[str, bool]) -> None:
    events = read_events([FLOWS_DIR], run_id="t").events
    _assert_same_facts(events, GimOptions(**options))


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> pl.DataFrame:
    out = tmp_path_factory.mktemp("gen")
    write_files(GeneratorConfig(days=2, interactions_per_day=400, agents=12, queues=3, vqs=5, files=3), out)
    return read_events([out], run_id="t").events


@pytest.mark.parametrize("options", OPTION_SETTINGS[:3], ids=setting_name)
def test_templates_match_one_by_one_on_generated_traffic(generated: pl.DataFrame, options: dict) -> None:
    _assert_same_facts(generated, GimOptions(**options))


def test_generated_traffic_is_mostly_templated(generated: pl.DataFrame) -> None:
    """With the default threshold most interactions of generated traffic share a shape with 11 others."""
    rule_events = generated.filter(~pl.col("event").is_in(list(facts_module.AGENT_STATE_EVENTS)))
    shapes = find_shapes(sort_events(rule_events).select(facts_module._RULE_COLUMNS))
    by_shape = shapes.interactions.group_by("_s1", "_s2", "_n").len()
    templated = by_shape.filter(pl.col("len") >= facts_module.MIN_MEMBERS)["len"].sum()
    assert templated / shapes.interactions.height > 0.8
    assert by_shape.height < shapes.interactions.height / 10


def test_shape_ignores_names_and_times_but_not_who_is_who(tmp_path: Path) -> None:
    from etl.simulate.scenario import Scenario

    def one(agent_a: str, agent_b: str, wait: int) -> pl.DataFrame:
        ixn = f"{agent_a}{agent_b}{wait}"
        sc = Scenario(prefix=ixn)
        sc.inbound(ixn, "Q1").wait(wait).pull_from_queue(ixn, agent_a, "Q1").wait(5)
        sc.invite(ixn, agent_a, agent_b).wait(wait).transfer_accepted(ixn, agent_a, agent_b).wait(3)
        sc.stop(ixn, agent_b)
        return read_events([sc.write_ndjson(tmp_path / f"{ixn}.jsonl")], run_id="t").events

    events = pl.concat([one("a1", "a2", 10), one("b7", "b9", 300), one("a1", "a1", 10)])
    shapes = find_shapes(sort_events(events).select(facts_module._RULE_COLUMNS)).interactions
    keys = shapes.select("interaction_id", "_s1", "_s2").rows_by_key("interaction_id")
    first, renamed, self_transfer = (keys[p] for p in ("a1a210", "b7b9300", "a1a110"))
    assert first == renamed  # other agents, other times: the same shape
    assert first != self_transfer  # the transfer target is the transferring agent: another shape


def test_ts_adds_and_compares_event_times_only() -> None:
    a, b = Ts.event(0, 1_000), Ts.event(1, 4_500)
    span = b - a
    assert span.value == 3_500 and span.terms == {1: 1, 0: -1}
    assert (span + b - b).terms == span.terms
    assert a < b and b >= a and a != b and max(0, a) is a and bool(a)
    with pytest.raises(NotReplayable):
        _ = span > 0  # a duration's sign is not part of the shape
    with pytest.raises(NotReplayable):
        bool(span)
    with pytest.raises(NotReplayable):
        _ = a < 5  # only the sign of an event time (> 0) is in the shape


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(data=st.data(), hold=st.booleans(), ixnq=st.booleans(), wb=st.booleans())
def test_templates_match_one_by_one_on_random_operation_sequences(
    tmp_path_factory: pytest.TempPathFactory, data: st.DataObject, hold: bool, ixnq: bool, wb: bool
) -> None:
    options = GimOptions(populate_workbin_as_hold=hold, populate_mm_ixnqueue_facts=ixnq, populate_mm_workbin_facts=wb)
    path = _walk(data).write_ndjson(tmp_path_factory.mktemp("walk") / "events.jsonl")
    _assert_same_facts(read_events([path], run_id="t").events, options)
