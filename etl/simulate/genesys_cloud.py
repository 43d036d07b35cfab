"""Synthetic Genesys Cloud conversation-detail records, the shape of a details job's results pages, for scale:
`gim-etl generate --format genesys-cloud` and `bench/benchmark.py --genesys-cloud-day N`.

Each conversation follows the patterns of the real samples (fixtures/genesys_cloud): a customer session, an acd
session (tAcd ends when the agent answers), agent sessions alert → interact (→ hold → interact) → wrapup, with
some alerts not answered (tNotResponding: the next agent is alerted), some abandons in queue (tAbandon) and some
blind transfers to a second agent. Metrics are emitted as Genesys does (tAlert, tTalk, tHeld, tAcw, tAcd,
tAbandon, tNotResponding, nTransferred), so the output can be checked against our facts like the samples.
Deterministic for a seed.
"""

from __future__ import annotations

import gzip
import json
import random
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class GcConfig:
    start_date: str = "2026-03-02"
    days: int = 1
    conversations_per_day: int = 300
    agents: int = 40
    queues: int = 4
    files: int = 4  # pages (files) the conversations are spread over
    seed: int = 7
    gzip: bool = False


def _iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


class _Gen:
    def __init__(self, cfg: GcConfig) -> None:
        self.cfg, self.rng = cfg, random.Random(cfg.seed)
        self.agents = [str(uuid.UUID(int=self.rng.getrandbits(128), version=4)) for _ in range(cfg.agents)]
        self.queues = [str(uuid.UUID(int=self.rng.getrandbits(128), version=4)) for _ in range(cfg.queues)]

    def uid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def seg(self, kind: str, start: int, end: int, **extra: Any) -> dict[str, Any]:
        return {"segmentStart": _iso(start), "segmentEnd": _iso(end), "segmentType": kind, **extra}

    def session(self, media: str, segs: list[dict], metrics: dict[str, int], end: int) -> dict[str, Any]:
        return {"sessionId": self.uid(), "mediaType": media, "direction": "inbound", "segments": segs,
                "metrics": [{"name": k, "value": v, "emitDate": _iso(end)} for k, v in metrics.items()]}  # fmt: skip

    def agent_session(self, media: str, queue: str, t: int, answered: bool) -> tuple[dict, int, int, bool]:
        """An agent alerted at `t`; returns (participant, when it answered or stopped alerting, when the handling
        ended, transferred)."""
        rng, q = self.rng, {"queueId": queue}
        alert = rng.randint(2_000, 15_000)
        agent = rng.choice([a for a in self.agents if a not in self.busy] or self.agents)
        self.busy.add(agent)  # (one agent is alerted once per conversation: ids key the IRFs)
        if not answered:
            segs = [self.seg("alert", t, t + alert, disconnectType="client", **q)]
            sess = self.session(media, segs, {"tAlert": alert, "tNotResponding": alert}, t + alert)
            part = {"participantId": self.uid(), "userId": agent, "purpose": "agent", "sessions": [sess]}
            return part, t + alert, t + alert, False
        talk, held = rng.randint(30_000, 600_000), rng.choice([0, 0, 0, rng.randint(5_000, 60_000)])
        start = t + alert
        segs = [self.seg("alert", t, start, **q)]
        segs.append(self.seg("interact", start, start + talk // 2, **q))
        if held:
            segs.append(self.seg("hold", start + talk // 2, start + talk // 2 + held, **q))
        end = start + talk + held
        transferred = rng.random() < 0.08
        segs.append(self.seg("interact", start + talk // 2 + held, end, disconnectType="transfer" if transferred
                             else rng.choice(["client", "peer"]), **q))  # fmt: skip
        acw = rng.randint(0, 60_000)
        segs.append(self.seg("wrapup", end, end + acw, wrapUpCode=f"code-{rng.randint(1, 9)}", **q))
        metrics = {"tAlert": alert, "tAnswered": 0, "tTalk": talk, "tHeld": held, "tAcw": acw,
                   "tHandle": talk + held + acw, "nTransferred": int(transferred)}  # fmt: skip
        metrics = {k: v for k, v in metrics.items() if v or k == "tTalk"}
        sess = self.session(media, segs, metrics, end + acw)
        part = {"participantId": self.uid(), "userId": agent, "purpose": "agent", "sessions": [sess]}
        return part, start, end, transferred

    def conversation(self, day_start: int) -> dict[str, Any]:
        rng = self.rng
        self.busy: set[str] = set()
        media = rng.choices(["voice", "chat", "message", "email", "callback"], [5, 2, 2, 1, 1])[0]
        t0 = day_start + rng.randint(7 * 3600_000, 19 * 3600_000)
        queue = rng.choice(self.queues)
        participants: list[dict[str, Any]] = []
        queued = t0 + 300  # the acd session starts a few ms after the customer's
        t = queued + rng.randint(50, 500)  # the first alert
        if rng.random() < 0.07:  # abandoned in queue
            wait = rng.randint(5_000, 120_000)
            segs = [self.seg("interact", queued, queued + wait, queueId=queue, disconnectType="peer")]
            acd = self.session(media, segs, {"nOffered": 1, "tAcd": wait, "tAbandon": wait}, queued + wait)
            end = queued + wait
        else:
            while rng.random() < 0.1:  # not responding: the next agent is alerted
                part, t, _, _ = self.agent_session(media, queue, t, answered=False)
                participants.append(part)
            part, answer, end, transferred = self.agent_session(media, queue, t, answered=True)
            participants.append(part)
            segs = [self.seg("interact", queued, answer, queueId=queue, disconnectType="transfer")]
            acd = self.session(media, segs, {"nOffered": 1, "tAcd": answer - queued}, answer)
            if transferred:  # blind transfer to a second agent
                second, _, end, _ = self.agent_session(media, queue, end, answered=True)
                second["sessions"][0]["segments"][-2]["disconnectType"] = "peer"
                participants.append(second)
        if media == "message":
            acd["messageType"] = "webmessaging"
        customer = self.session(media, [self.seg("interact", t0, end, disconnectType="peer")], {}, end)
        wrap_end = max((max(_ms(g["segmentEnd"]) for s in p["sessions"] for g in s["segments"]) for p in participants),
                       default=end)  # fmt: skip
        return {
            "conversationId": self.uid(),
            "conversationStart": _iso(t0),
            "conversationEnd": _iso(max(end, wrap_end)),
            "originatingDirection": "inbound",
            "divisionIds": ["synthetic-division"],
            "participants": [
                {"participantId": self.uid(), "participantName": "Customer", "purpose": "customer",
                 "sessions": [customer]},
                {"participantId": self.uid(), "participantName": "Queue", "purpose": "acd", "sessions": [acd]},
                *participants,
            ],
        }  # fmt: skip


def _ms(text: str) -> int:
    return int(datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC).timestamp() * 1000)


def write_conversations(cfg: GcConfig, out_dir: Path) -> list[Path]:
    """Write `cfg.days` × `cfg.conversations_per_day` conversations as details-job result pages (one JSON
    document per file, `conversations` + `cursor`); returns the paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    gen = _Gen(cfg)
    day0 = datetime.fromisoformat(cfg.start_date).replace(tzinfo=UTC)
    convs = [
        gen.conversation(int((day0 + timedelta(days=d)).timestamp() * 1000))
        for d in range(cfg.days)
        for _ in range(cfg.conversations_per_day)
    ]
    convs.sort(key=lambda c: c["conversationStart"])
    per_file = max(1, -(-len(convs) // cfg.files))
    paths: list[Path] = []
    for i in range(0, max(len(convs), 1), per_file):
        page = {"conversations": convs[i : i + per_file], "cursor": f"page-{i // per_file + 1}"}
        name = f"gc-conversations-{i // per_file:04d}.json" + (".gz" if cfg.gzip else "")
        path = out_dir / name
        text = json.dumps(page, separators=(",", ":"))
        path.write_bytes(gzip.compress(text.encode()) if cfg.gzip else text.encode())
        paths.append(path)
    return paths
