"""A deterministic contact-centre simulator writing contract event files, streamed with bounded memory.

It replays the documented e-mail, chat and workitem flows (etl.simulate.flows) with a pool of agents, queues,
virtual queues and strategies, random start times over each day and jittered timings, then splits the events over
several files with realistic disorder (files are cut by arrival time, not by interaction; lines inside a file are
shuffled within a small window; a few events are delivered twice, a little later). The same configuration and seed give
the same bytes.

Streaming: each day's interactions are drawn up front (a few numbers each), sorted by start time and replayed
in that order. An event is released to the writer once no interaction still to be replayed can produce an
earlier one (its timestamp is before the next interaction's start), so memory holds only the interactions in
flight, not the day, and 10 M events are written without holding them.
"""

from __future__ import annotations

import gzip
import heapq
import io
import json
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from etl.simulate import config_log
from etl.simulate.agent_days import AgentDays
from etl.simulate.config_log import ConfigLog
from etl.simulate.flows import DOCUMENTED, Cast
from etl.simulate.scenario import Scenario, iso, parse_iso

#: Relative frequency of each documented flow in the simulated traffic (e-mail replies dominate, then chats).
DEFAULT_MIX: dict[str, float] = {
    "routed_and_replies": 40,
    "invitation_revoked": 3,
    "autoresponse": 6,
    "direct_transfer": 5,
    "direct_transfer_fails": 2,
    "transfer_through_queue": 5,
    "transfer_through_queue_fails": 2,
    "transfer_multiple_vqs": 2,
    "consult_non_blocking": 3,
    "consult_blocking": 2,
    "consult_fails": 1,
    "draft_reply": 6,
    "pull_from_queue": 5,
    "outbound_new": 8,
    "multipart_reply": 3,
    "multipart_unsent": 2,
    "routing_fails_repeatedly": 3,
    # chat (etl.simulate.chat_flows): about a third of the traffic, one chat in six abandoned, bots greeting some
    "chat_routed": 22,
    "chat_bot_then_agent": 8,
    "chat_agent_transfer": 4,
    "chat_transfer_through_queue": 2,
    "chat_consult": 2,
    "chat_invitation_revoked": 1,
    "chat_abandoned_in_queue": 3,
    "chat_abandoned_in_vq": 4,
    "chat_abandoned_while_ringing": 2,
    # open media (etl.simulate.open_media_flows): workitems, offline by default
    "workitem_routed": 8,
}

#: Virtual queues the documented flows name (VQ1..VQ5); with more configured they are drawn from the pool.
FLOW_VQS = ("VQ1", "VQ2", "VQ3", "VQ4", "VQ5")

#: Lines inside a window of this many arrivals are shuffled (delivery order close to, but not, event order).
SHUFFLE_WINDOW = 50
#: A duplicate delivery arrives up to this many events after the original.
DUPLICATE_DELAY = 5_000


@dataclass
class GeneratorConfig:
    start_date: str = "2026-03-02"
    days: int = 1
    interactions_per_day: int = 300
    agents: int = 40
    queues: int = 4
    vqs: int = 5
    seed: int = 7
    files: int = 4
    fmt: str = "ndjson"  # ndjson | ndjson.gz | parquet
    duplicate_rate: float = 0.002
    mix: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_MIX))
    routing_targets: bool = False  # `target` on routing invitations, from the configuration log (config_log.py)
    agent_states: bool = False  # also write the agents' days (etl.simulate.agent_days) to agent-states-000.*

    def __post_init__(self) -> None:
        if self.days < 1 or self.interactions_per_day < 1 or self.files < 1:
            raise ValueError("days, interactions_per_day and files must be at least 1")
        if self.agents < 2 or self.queues < 1 or self.vqs < 1:
            raise ValueError("need at least 2 agents, 1 queue and 1 virtual queue")
        if self.fmt not in ("ndjson", "ndjson.gz", "parquet"):
            raise ValueError(f"unknown format {self.fmt!r}")
        unknown = set(self.mix) - set(DOCUMENTED)
        if unknown or not any(w > 0 for w in self.mix.values()):
            raise ValueError(f"mix needs positive weights of documented flows (unknown: {sorted(unknown)})")


@dataclass(frozen=True, slots=True)
class _Draw:
    """Everything random about one interaction, drawn before it is replayed."""

    start_ms: int
    n: int
    flow: str
    a1: int
    a2: int
    q1: int
    q2: int
    t: float
    vqs: tuple[int, ...]


def _day_flows(cfg: GeneratorConfig, day: int) -> list[str]:
    """The flow of each of the day's interactions (own random stream: counting events needs only this)."""
    rng = random.Random(f"gim-etl-generator:{cfg.seed}:{day}:flows")
    names = [n for n, w in cfg.mix.items() if w > 0]
    return rng.choices(names, [cfg.mix[n] for n in names], k=cfg.interactions_per_day)


def _day_draws(cfg: GeneratorConfig, day: int, day0: int) -> list[_Draw]:
    """The day's interactions in start order; a pure function of (seed, day) so days can be redrawn."""
    rng = random.Random(f"gim-etl-generator:{cfg.seed}:{day}")
    nq = max(cfg.queues, 2)
    draws = []
    for n, flow in enumerate(_day_flows(cfg, day)):
        a1, a2 = rng.sample(range(cfg.agents), 2)
        q1, q2 = rng.sample(range(nq), 2)
        # Office hours weighted towards the morning: 07:00 + up to 12h.
        start = day0 + day * 86_400_000 + 7 * 3_600_000 + int(rng.betavariate(2, 3) * 12 * 3_600_000)
        t = rng.uniform(0.3, 3.0)
        # The flows need up to five distinct VQs; with fewer configured, names repeat round-robin.
        if cfg.vqs >= len(FLOW_VQS):
            vqs = tuple(rng.sample(range(cfg.vqs), len(FLOW_VQS)))
        else:
            off = rng.randrange(cfg.vqs)
            vqs = tuple((off + k) % cfg.vqs for k in range(len(FLOW_VQS)))
        draws.append(_Draw(start, n, flow, a1, a2, q1, q2, t, vqs))
    draws.sort(key=lambda d: (d.start_ms, d.n))
    return draws


_AGENT_CACHE: dict[int, dict[str, str]] = {}


def _agent_fields(num: int) -> dict[str, str]:
    got = _AGENT_CACHE.get(num)
    if got is None:
        got = _AGENT_CACHE[num] = {
            "first_name": f"First{num:03d}",
            "last_name": f"Last{num:03d}",
            "employee_id": f"E{num:05d}",
            "place": f"Place{num:03d}",
        }
    return got


def _replay(d: _Draw, day: int, period: str = "", targets: ConfigLog | None = None) -> list[dict[str, Any]]:
    """One interaction's events (a documented flow with the drawn cast). `period` (seed and start date) is in
    every interaction and event id, so two generated periods never share an id: loading one on top of another
    (or on top of the sample) adds its events instead of making them duplicates or conflicts."""
    cast = Cast(
        p=f"d{day}n{d.n}-{period}",
        a1=f"agent{d.a1:03d}",
        a2=f"agent{d.a2:03d}",
        s1=f"Strategy{d.q1}",
        s2=f"Strategy{d.q2}",
        iq1=f"Inbound{d.q1}",
        iq2=f"Inbound{d.q2}",
        t=d.t,
    )
    sc = Scenario(start=iso(d.start_ms), prefix=cast.p, seq=True)
    DOCUMENTED[d.flow][0](sc, cast)
    vq_names = {f: f"VQ{v + 1}" for f, v in zip(FLOW_VQS, d.vqs, strict=True)}
    for ev in sc.events:
        for key in ("actor", "party"):
            who = ev.get(key)
            if who and who.get("type") == "Agent":
                who.update(_agent_fields(int(who["id"][5:])))
        vq = ev.get("vq")
        if vq is not None:
            ev["vq"] = vq_names.get(vq, vq)
        if targets is not None and ev["event"] == "EventAgentInvited" and ev.get("reason") == "route":
            ev["target"] = targets.target_for(ev)
    return _with_user_data(sc.events, random.Random(f"gim-etl-generator:{day}:{d.n}:{d.start_ms}:user-data"))


#: Attached data a contact centre's e-mail routing sets (GIM's standard keys plus two deployment-specific ones).
_SERVICES = {
    "Billing": ("Invoice", "Refund", "PaymentPlan"),
    "Sales": ("NewOrder", "Upgrade"),
    "Support": ("Outage", "HowTo", "Returns"),
}
_SEGMENTS = ("Gold", "Silver", "Bronze", "Bronze")
_RESULTS = ("Resolved", "Resolved", "Resolved", "Escalated", "FollowUp", "NoAction")
_LANGUAGES = ("en", "en", "en", "de", "fr", "es")


def _with_user_data(events: list[dict[str, Any]], rng: random.Random) -> list[dict[str, Any]]:
    """Inbound interactions get customer and service KVPs on submission and, when their last event happens, an
    EventPropertiesChanged with the business result, satisfaction and (sometimes) revenue the agent recorded. One
    Revenue value in 200 is a typo ("n/a"), which the mart counts in STG_USER_DATA_REJECT instead of storing."""
    out: list[dict[str, Any]] = []
    last: dict[str, dict[str, Any]] = {}
    for ev in events:
        if ev["event"] == "EventInteractionSubmitted" and ev.get("interaction_type") == "Inbound":
            service = rng.choice(sorted(_SERVICES))
            ev["user_data"] = {
                **ev.get("user_data", {}),
                "CustomerID": f"C{rng.randrange(1_000_000):06d}",
                "CustomerSegment": rng.choice(_SEGMENTS),
                "ServiceType": service,
                "ServiceSubType": rng.choice(_SERVICES[service]),
                "Language": rng.choice(_LANGUAGES),
                "OrderNumber": f"ORD-{rng.randrange(10**8):08d}",
            }
            last[ev["interaction_id"]] = ev
        elif ev["interaction_id"] in last:
            last[ev["interaction_id"]] = ev
        out.append(ev)
    for ixn, ev in last.items():
        revenue: Any = round(rng.uniform(0, 500), 2) if rng.random() < 0.3 else None
        if rng.random() < 0.005:
            revenue = "n/a"
        data = {"BusinessResult": rng.choice(_RESULTS), "Satisfaction": rng.randint(1, 5)}
        if revenue is not None:
            data["Revenue"] = revenue
        changed = {k: ev[k] for k in ("ts", "seq") if k in ev}
        out.append(
            {
                "event_id": f"{ev['event_id']}-ud",
                "event": "EventPropertiesChanged",
                **changed,
                "interaction_id": ixn,
                "user_data": data,
            }
        )
    return out


def configuration(cfg: GeneratorConfig) -> ConfigLog:
    """The configuration log of the simulated contact centre (agents, groups, skills, mid-day changes)."""
    return config_log.build(cfg.agents, cfg.queues, cfg.vqs, cfg.days, cfg.start_date, cfg.seed, _agent_fields)


def period_tag(cfg: GeneratorConfig) -> str:
    """The part of every id that names the generated period: ``20260302s7-`` for start date 2026-03-02, seed 7."""
    return f"{cfg.start_date.replace('-', '')}s{cfg.seed}-"


def simulate(cfg: GeneratorConfig) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """Yield (ts, event_id, event) for every simulated event, in (ts, event_id) order, streamed."""
    day0 = parse_iso(f"{cfg.start_date}T00:00:00.000Z")
    # heap of events not yet released, keyed by the contract timestamp text (fixed width: sorts as time)
    pending: list[tuple[str, str, dict[str, Any]]] = []
    targets = configuration(cfg) if cfg.routing_targets else None
    for day in range(cfg.days):
        for d in _day_draws(cfg, day, day0):
            start = iso(d.start_ms)
            while pending and pending[0][0] < start:  # nothing still to come can be earlier
                yield heapq.heappop(pending)
            for ev in _replay(d, day, period_tag(cfg), targets):
                heapq.heappush(pending, (ev["ts"], ev["event_id"], ev))
    while pending:
        yield heapq.heappop(pending)


def count_events(cfg: GeneratorConfig) -> int:
    """Events `simulate` will yield (duplicates not included), without replaying every interaction."""
    sizes = {flow: len(_replay(_Draw(0, 0, flow, 0, 1, 0, 1, 1.0, (0, 1, 2, 3, 4)), 0)) for flow in cfg.mix}
    return sum(sizes[flow] for day in range(cfg.days) for flow in _day_flows(cfg, day))


def arrival_order(cfg: GeneratorConfig) -> Iterator[dict[str, Any]]:
    """Events in delivery order: shuffled within small windows, a few delivered twice a little later."""
    rng = random.Random(cfg.seed + 1)
    window: list[dict[str, Any]] = []
    late: list[tuple[int, int, dict[str, Any]]] = []  # (due position, tiebreak, duplicate)
    emitted = 0

    def flush() -> Iterator[dict[str, Any]]:
        nonlocal emitted
        rng.shuffle(window)
        for ev in window:
            while late and late[0][0] <= emitted:
                emitted += 1
                yield heapq.heappop(late)[2]
            emitted += 1
            yield ev
            if rng.random() < cfg.duplicate_rate:
                heapq.heappush(late, (emitted + rng.randrange(1, DUPLICATE_DELAY), emitted, ev))
        window.clear()

    for _, _, ev in simulate(cfg):
        window.append(ev)
        if len(window) == SHUFFLE_WINDOW:
            yield from flush()
    yield from flush()
    while late:
        yield heapq.heappop(late)[2]


def write_files(cfg: GeneratorConfig, out_dir: Path) -> list[Path]:
    """Write the simulated events over `cfg.files` files in `out_dir` (cut in arrival order); returns the paths.

    Every file but the last gets ceil(events / files) lines; the last one also takes the duplicates.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    per_file = max(1, -(-count_events(cfg) // cfg.files))
    paths: list[Path] = []
    writer: _Writer | None = None
    in_file = 0
    days = (
        AgentDays(cfg.seed, cfg.days - 1, parse_iso(f"{cfg.start_date}T00:00:00.000Z"), tag=period_tag(cfg))
        if cfg.agent_states
        else None
    )
    for ev in arrival_order(cfg):
        if days is not None:
            days.observe(ev)
        if writer is None or (in_file >= per_file and len(paths) < cfg.files):
            if writer is not None:
                writer.close()
            writer = _Writer(out_dir, len(paths), cfg.fmt)
            paths.append(writer.path)
            in_file = 0
        writer.write(ev)
        in_file += 1
    if writer is not None:
        writer.close()
    if days is not None:
        agents = _Writer(out_dir, 0, cfg.fmt, stem="agent-states")
        for ev in days.events():
            agents.write(ev)
        agents.close()
        paths.append(agents.path)
    return paths


_encode = json.JSONEncoder(separators=(",", ":")).encode


class _Writer:
    """One output file. Parquet goes through a temporary NDJSON file that Polars streams into Parquet."""

    def __init__(self, out_dir: Path, i: int, fmt: str, stem: str = "events") -> None:
        self.fmt = fmt
        self.tmp: Path | None = None
        self.fh: TextIO
        if fmt == "parquet":
            self.path = out_dir / f"{stem}-{i:03d}.parquet"
            self.tmp = out_dir / f".{stem}-{i:03d}.parquet.jsonl"
            self.fh = open(self.tmp, "w", encoding="utf-8")  # noqa: SIM115
        elif fmt == "ndjson.gz":
            self.path = out_dir / f"{stem}-{i:03d}.jsonl.gz"
            # mtime=0: the same seed gives the same bytes, also for gzip
            self.fh = io.TextIOWrapper(gzip.GzipFile(self.path, "wb", compresslevel=6, mtime=0), encoding="utf-8")
        else:
            self.path = out_dir / f"{stem}-{i:03d}.jsonl"
            self.fh = open(self.path, "w", encoding="utf-8")  # noqa: SIM115
        self.buf: list[str] = []

    def write(self, ev: dict[str, Any]) -> None:
        if self.fmt == "parquet" and "user_data" in ev:  # Parquet carries attached data as JSON text
            ev = {**ev, "user_data": json.dumps(ev["user_data"])}
        self.buf.append(_encode(ev))
        if len(self.buf) >= 10_000:
            self._flush()

    def _flush(self) -> None:
        if self.buf:
            self.fh.write("\n".join(self.buf) + "\n")
            self.buf.clear()

    def close(self) -> None:
        self._flush()
        self.fh.close()
        if self.tmp is not None:
            import polars as pl

            pl.scan_ndjson(self.tmp, infer_schema_length=None).sink_parquet(self.path)
            self.tmp.unlink()
