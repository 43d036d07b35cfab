"""The streaming load generator: determinism, file split, counts, disorder and every output format."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import polars as pl
import pytest

from etl.cli import main
from etl.ingest.staging import read_events
from etl.simulate.generator import GeneratorConfig, count_events, simulate, write_files


def _lines(paths: list[Path]) -> list[dict]:
    out = []
    for p in paths:
        if p.name.endswith(".parquet"):
            out.extend(pl.read_parquet(p).to_dicts())
        else:
            opener = gzip.open if p.name.endswith(".gz") else open
            with opener(p, "rt", encoding="utf-8") as fh:
                out.extend(json.loads(line) for line in fh)
    return out


def test_same_seed_same_bytes_other_seed_other_bytes(tmp_path: Path) -> None:
    cfg = GeneratorConfig(days=2, interactions_per_day=60, files=3, seed=11)
    a = write_files(cfg, tmp_path / "a")
    b = write_files(cfg, tmp_path / "b")
    c = write_files(GeneratorConfig(days=2, interactions_per_day=60, files=3, seed=12), tmp_path / "c")
    assert [p.read_bytes() for p in a] == [p.read_bytes() for p in b]
    assert [p.read_bytes() for p in a] != [p.read_bytes() for p in c]


def test_gzip_output_is_deterministic_too(tmp_path: Path) -> None:
    cfg = GeneratorConfig(interactions_per_day=40, files=2, fmt="ndjson.gz")
    a, b = write_files(cfg, tmp_path / "a"), write_files(cfg, tmp_path / "b")
    assert [p.read_bytes() for p in a] == [p.read_bytes() for p in b]


def test_files_split_counts_and_duplicates(tmp_path: Path) -> None:
    cfg = GeneratorConfig(days=2, interactions_per_day=150, files=5, duplicate_rate=0.01)
    paths = write_files(cfg, tmp_path)
    assert [p.name for p in paths] == [f"events-{i:03d}.jsonl" for i in range(5)]
    per_file = [len(_lines([p])) for p in paths]
    expected = count_events(cfg)
    assert sum(per_file) >= expected
    assert len(set(per_file[:-1])) == 1 and per_file[0] == -(-expected // 5)  # cut by count, in arrival order
    events = _lines(paths)
    ids = [e["event_id"] for e in events]
    assert len(set(ids)) == expected  # every simulated event once, plus a few exact duplicates
    dupes = len(ids) - len(set(ids))
    assert 0 < dupes < 0.03 * expected
    first: dict[str, dict] = {}
    for e in events:
        assert first.setdefault(e["event_id"], e) == e
    assert {e["event_id"].split("-")[0][:2] for e in events} == {"d0", "d1"}
    assert len({e["interaction_id"] for e in events}) >= 2 * 150


def test_disorder_is_realistic_but_bounded(tmp_path: Path) -> None:
    cfg = GeneratorConfig(interactions_per_day=200, files=1, duplicate_rate=0)
    events = _lines(write_files(cfg, tmp_path))
    ts = [e["ts"] for e in events]
    assert ts != sorted(ts)  # shuffled inside windows ...
    assert sum(a > b for a, b in zip(ts, ts[1:], strict=False)) > len(ts) // 10
    pos = {e["event_id"]: i for i, e in enumerate(events)}
    in_time_order = [ev["event_id"] for _, _, ev in simulate(cfg)]
    assert max(abs(pos[eid] - i) for i, eid in enumerate(in_time_order)) < 50  # ... of 50 arrivals
    assert in_time_order != [e["event_id"] for e in events]


def test_simulate_streams_in_time_order() -> None:
    cfg = GeneratorConfig(days=3, interactions_per_day=50)
    keys = [(ts, eid) for ts, eid, _ in simulate(cfg)]
    assert keys == sorted(keys) and len(keys) == count_events(cfg)


def test_agents_queues_vqs_and_mix_are_configurable(tmp_path: Path) -> None:
    cfg = GeneratorConfig(
        interactions_per_day=120,
        agents=7,
        queues=3,
        vqs=9,
        files=1,
        mix={"transfer_multiple_vqs": 1, "routed_and_replies": 1},
    )
    events = _lines(write_files(cfg, tmp_path))
    agents = {e[k]["id"] for e in events for k in ("actor", "party") if e.get(k, {}).get("type") == "Agent"}
    assert agents <= {f"agent{i:03d}" for i in range(7)} and len(agents) > 3
    vqs = {e["vq"] for e in events if e.get("vq")}
    assert vqs <= {f"VQ{i}" for i in range(1, 10)} and len(vqs) > 5
    queues = {e["queue"]["name"] for e in events if e.get("queue", {}).get("type") == "InteractionQueue"}
    assert queues - {"Outbound"} <= {f"Inbound{i}" for i in range(3)}
    with pytest.raises(ValueError):
        GeneratorConfig(mix={"no_such_flow": 1})
    with pytest.raises(ValueError):
        GeneratorConfig(vqs=0)


@pytest.mark.parametrize("fmt", ["ndjson", "ndjson.gz", "parquet"])
def test_every_format_reads_back_without_quarantine(tmp_path: Path, fmt: str) -> None:
    cfg = GeneratorConfig(days=2, interactions_per_day=80, files=3, fmt=fmt, vqs=12, duplicate_rate=0.01)
    paths = write_files(cfg, tmp_path)
    assert len(paths) == 3 and not list(tmp_path.glob(".*"))  # no temporary files left behind
    result = read_events([tmp_path], run_id="t")
    assert result.quarantine.height == 0
    assert result.events.height == count_events(cfg)
    assert result.events_read == result.events.height + result.duplicates
    assert result.duplicates > 0


def test_generated_day_derives_without_rejections(tmp_path: Path) -> None:
    from etl.domain.options import GimOptions
    from etl.transform.facts import derive_facts

    write_files(GeneratorConfig(interactions_per_day=150, vqs=20, files=2), tmp_path)
    facts = derive_facts(read_events([tmp_path], run_id="t").events, GimOptions())
    assert facts.rejected.height == 0 and facts.interactions.height >= 150


def test_cli_generate_options(tmp_path: Path) -> None:
    out = tmp_path / "gen"
    assert (
        main(
            [
                "generate",
                "--out",
                str(out),
                "--days",
                "2",
                "--interactions-per-day",
                "30",
                "--vqs",
                "7",
                "--files",
                "2",
                "--format",
                "ndjson.gz",
                "--mix",
                "outbound_new=0",
                "--duplicate-rate",
                "0",
            ]
        )
        == 0
    )
    events = _lines(sorted(out.iterdir()))
    assert len(events) == len({e["event_id"] for e in events})
    assert not any(
        e["interaction_id"].endswith("-OUTB")
        and e["event"] == "EventInteractionSubmitted"
        and e.get("interaction_type") == "Outbound"
        and e.get("interaction_subtype") == "OutboundNew"
        for e in events
    )
    assert main(["generate", "--out", str(out), "--mix", "nonsense=1"]) == 2
