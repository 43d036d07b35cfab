"""The same documented flows with other ids, agents, timings and file splits, interleaved in one run,
give the same descriptors (issue: rules must not depend on names, clock or delivery order)."""

from __future__ import annotations

import json
import random
from collections import Counter
from pathlib import Path

import pytest
from conftest import IRF_DESCRIPTORS, label, query, run_cli

from etl.simulate.documented import expectation
from etl.simulate.flows import DOCUMENTED, Cast, cast_ids
from etl.simulate.scenario import Scenario, iso, parse_iso


def _variants(seed: int) -> tuple[list[dict], dict[str, tuple[str, Cast]]]:
    rng = random.Random(seed)
    events: list[dict] = []
    instances: dict[str, tuple[str, Cast]] = {}
    base = parse_iso("2026-05-04T08:00:00.000Z")
    for n, flow in enumerate(list(DOCUMENTED) * 2):
        a1, a2 = rng.sample(range(100), 2)
        cast = Cast(
            p=f"v{n}-",
            a1=f"A{a1}",
            a2=f"B{a2}",
            s1=f"S{rng.randrange(5)}",
            s2=f"T{rng.randrange(5)}",
            iq1=f"IQ{rng.randrange(3)}",
            iq2=f"XQ{rng.randrange(3)}",
            t=rng.uniform(0.2, 5.0),
        )
        sc = Scenario(start=iso(base + rng.randrange(3_600_000)), prefix=cast.p, seq=rng.random() < 0.5)
        DOCUMENTED[flow][0](sc, cast)
        events += sc.events
        instances[cast.p] = (flow, cast)
    return events, instances


@pytest.mark.parametrize("seed", [1, 2])
def test_variants_interleaved_over_files_give_documented_descriptors(tmp_path: Path, seed: int) -> None:
    events, instances = _variants(seed)
    rng = random.Random(seed)
    rng.shuffle(events)  # delivery order has nothing to do with event order
    files = [tmp_path / f"part-{i}.jsonl" for i in range(3)]
    for i, path in enumerate(files):
        path.write_text("".join(json.dumps(e) + "\n" for e in events[i::3]))
    db = tmp_path / "mart.duckdb"
    assert run_cli("--events", *map(str, files), "--db", str(db)) == 0
    rows = query(db, IRF_DESCRIPTORS)
    for prefix, (flow, cast) in instances.items():
        names = {v: k for k, v in cast_ids(cast).items()}
        got = Counter(
            (ixn.removeprefix(prefix), names.get(res, res), label(role, result, reason))
            for ixn, res, role, result, reason in rows.rows()
            if ixn.startswith(prefix)
        )
        assert got == Counter(expectation(flow, {}).irf), (flow, prefix)
