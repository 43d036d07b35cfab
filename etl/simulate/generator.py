"""A deterministic contact-centre simulator writing contract event files.

It replays the documented e-mail flows (etl.simulate.flows) with a pool of agents, queues and strategies,
random start times over each day and jittered timings, then splits the events over several files with
realistic disorder (files are cut by arrival time, not by interaction; lines inside a file are shuffled within a
small window; a few events are delivered twice). The same seed gives the same bytes.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from etl.simulate.flows import DOCUMENTED, Cast
from etl.simulate.scenario import Scenario, iso, parse_iso

#: Relative frequency of each documented flow in the simulated traffic (replies dominate, as in real centres).
DEFAULT_MIX: dict[str, float] = {
    "routed_and_replies": 40, "invitation_revoked": 3, "autoresponse": 6, "direct_transfer": 5,
    "direct_transfer_fails": 2, "transfer_through_queue": 5, "transfer_through_queue_fails": 2,
    "transfer_multiple_vqs": 2, "consult_non_blocking": 3, "consult_blocking": 2, "consult_fails": 1,
    "draft_reply": 6, "pull_from_queue": 5, "outbound_new": 8, "multipart_reply": 3, "multipart_unsent": 2,
    "routing_fails_repeatedly": 3,
}


@dataclass
class GeneratorConfig:
    start_date: str = "2026-03-02"
    days: int = 1
    interactions_per_day: int = 300
    agents: int = 40
    queues: int = 4
    seed: int = 7
    files: int = 4
    fmt: str = "ndjson"  # ndjson | ndjson.gz | parquet
    duplicate_rate: float = 0.002
    mix: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_MIX))


def simulate(cfg: GeneratorConfig) -> Iterator[dict[str, Any]]:
    """Yield every event of the simulated days, one flow after another (not yet in arrival order)."""
    rng = random.Random(cfg.seed)
    names = list(cfg.mix)
    weights = [cfg.mix[n] for n in names]
    day0 = parse_iso(f"{cfg.start_date}T00:00:00.000Z")
    for day in range(cfg.days):
        for n in range(cfg.interactions_per_day):
            flow = rng.choices(names, weights)[0]
            a1, a2 = rng.sample(range(cfg.agents), 2)
            q1, q2 = rng.sample(range(max(cfg.queues, 2)), 2)
            # Office hours weighted towards the morning: 07:00 + up to 12h.
            start = day0 + day * 86_400_000 + 7 * 3_600_000 + int(rng.betavariate(2, 3) * 12 * 3_600_000)
            cast = Cast(p=f"d{day}n{n}-", a1=f"agent{a1:03d}", a2=f"agent{a2:03d}", s1=f"Strategy{q1}",
                        s2=f"Strategy{q2}", iq1=f"Inbound{q1}", iq2=f"Inbound{q2}", t=rng.uniform(0.3, 3.0))
            sc = Scenario(start=iso(start), prefix=cast.p, seq=True)
            DOCUMENTED[flow][0](sc, cast)
            for ev in sc.events:
                for key in ("actor", "party"):
                    who = ev.get(key)
                    if who and who.get("type") == "Agent":
                        num = int(who["id"][5:])
                        who.update(first_name=f"First{num:03d}", last_name=f"Last{num:03d}",
                                   employee_id=f"E{num:05d}", place=f"Place{num:03d}")
                yield ev


def arrival_order(events: Sequence[dict[str, Any]], rng: random.Random) -> list[dict[str, Any]]:
    """Sort by time, then shuffle inside small windows: delivery order is close to, but not, event order."""
    ordered = sorted(events, key=lambda e: (e["ts"], e["event_id"]))
    window = 50
    out: list[dict[str, Any]] = []
    for i in range(0, len(ordered), window):
        chunk = ordered[i : i + window]
        rng.shuffle(chunk)
        out.extend(chunk)
    return out


def write_files(cfg: GeneratorConfig, out_dir: Path) -> list[Path]:
    """Write the simulated events over `cfg.files` files in `out_dir`; returns the paths."""
    rng = random.Random(cfg.seed + 1)
    events = arrival_order(list(simulate(cfg)), rng)
    dupes = [dict(e) for e in events if rng.random() < cfg.duplicate_rate]
    for d in dupes:
        events.insert(rng.randrange(len(events) + 1), d)
    out_dir.mkdir(parents=True, exist_ok=True)
    per_file = -(-len(events) // cfg.files)
    paths: list[Path] = []
    for i in range(cfg.files):
        chunk = events[i * per_file : (i + 1) * per_file]
        if not chunk:
            break
        paths.append(_write_chunk(chunk, out_dir, i, cfg.fmt))
    return paths


def _write_chunk(chunk: list[dict[str, Any]], out_dir: Path, i: int, fmt: str) -> Path:
    if fmt == "parquet":
        import polars as pl

        path = out_dir / f"events-{i:03d}.parquet"
        rows = [{**e, "user_data": json.dumps(e["user_data"]) if "user_data" in e else None} for e in chunk]
        pl.DataFrame(rows, infer_schema_length=None).write_parquet(path)
        return path
    text = "".join(json.dumps(e, separators=(",", ":")) + "\n" for e in chunk)
    if fmt == "ndjson.gz":
        import gzip

        path = out_dir / f"events-{i:03d}.jsonl.gz"
        with gzip.open(path, "wt", encoding="utf-8") as fh:
            fh.write(text)
        return path
    path = out_dir / f"events-{i:03d}.jsonl"
    path.write_text(text, encoding="utf-8")
    return path
