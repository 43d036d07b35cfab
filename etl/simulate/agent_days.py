"""Agents' days as contract agent-state events, consistent with the interactions the generator made them handle.

`AgentDays.observe` sees every simulated event; per agent and UTC day it keeps when the agent was active (invited,
added, removed, acting), on which media, and where its part in an interaction ended. `AgentDays.events` then writes
each agent's day around that activity: log in 5-20 min before the first interaction, add e-mail, every media the
agent handled that day (chat, workitem) and chat for every other agent even when idle on it, Ready; after-call work
(NotReady on the interaction's media, work mode AfterCallWork, reason Wrap) after each part it ends, until the next
activity or up to a minute; up to two breaks (NotReady AuxWork with a `{key, value}` reason, one of them changing
reason halfway) and, for one agent in four, a few minutes of do-not-disturb, all in the day's longest idle gaps; log
out 5-20 min after the last interaction. On the last day one agent in 17 stays logged in (a session still open).
Deterministic for a seed.
"""

from __future__ import annotations

import bisect
import random
from array import array
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from etl.simulate.scenario import iso, parse_iso

_MIN = 60_000
_REASONS = ("Break", "Lunch", "Meeting", "Training")
_ENDS = ("EventPartyRemoved", "EventProcessingStopped")


@dataclass
class _Day:
    activity: array = field(default_factory=lambda: array("q"))
    ends: dict[int, str] = field(default_factory=dict)  # when a part the agent ended, and its media
    fields: dict[str, str] = field(default_factory=dict)
    media: set[str] = field(default_factory=set)  # the media of the interactions the agent took part in


@dataclass
class AgentDays:
    seed: int
    last_day: int  # day index of the simulation's last day (0-based) for the still-open sessions
    day0_ms: int
    days: dict[tuple[int, str], _Day] = field(default_factory=dict)
    tag: str = ""  # the generated period (seed, start date) in every id: two periods never share one
    media_of: dict[str, str] = field(default_factory=dict)  # interaction -> media, for those not e-mail

    def observe(self, ev: dict[str, Any]) -> None:
        ts = parse_iso(ev["ts"])
        day = (ts - self.day0_ms) // 86_400_000
        if ev["event"] == "EventInteractionSubmitted" and ev.get("media_type", "email") != "email":
            self.media_of[ev["interaction_id"]] = ev["media_type"]
        media = self.media_of.get(ev.get("interaction_id", ""), "email")
        for key in ("actor", "party"):
            who = ev.get(key)
            if who and who.get("type") == "Agent":
                d = self.days.setdefault((day, who["id"]), _Day())
                d.activity.append(ts)
                d.media.add(media)
                d.fields = d.fields or {k: v for k, v in who.items() if k in ("id", "type", "place")}
                if ev["event"] in _ENDS and (key == "party" or ev["event"] == "EventProcessingStopped"):
                    d.ends[ts] = media

    def events(self) -> Iterator[dict[str, Any]]:
        for (day, agent), d in sorted(self.days.items()):
            yield from _AgentDay(self, day, agent, d).events()


@dataclass
class _AgentDay:
    owner: AgentDays
    day: int
    agent: str
    d: _Day
    out: list[dict[str, Any]] = field(default_factory=list)

    def ev(self, name: str, ts: int, **extra: Any) -> None:
        n = len(self.out)
        self.out.append(
            {"event_id": f"as-d{self.day}-{self.owner.tag}{self.agent}-{n}", "event": name, "ts": iso(ts), "seq": n,
             "actor": dict(self.d.fields), **extra}
        )  # fmt: skip

    def events(self) -> list[dict[str, Any]]:
        rng = random.Random(f"gim-etl-agent-days:{self.owner.seed}:{self.day}:{self.agent}")
        num = int("".join(c for c in self.agent if c.isdigit()) or 0)
        act = sorted(set(self.d.activity))
        login, logout = act[0] - rng.randint(5, 20) * _MIN, act[-1] + rng.randint(5, 20) * _MIN
        # e-mail always; chat for every other agent even when idle on it; every media the agent handled
        others = sorted((self.d.media | ({"chat"} if num % 2 == 1 else set())) - {"email"})
        self.ev("EventAgentLogin", login)
        self.ev("EventMediaAdded", login + 1000, media_type="email", place=self.d.fields.get("place"))
        for k, media in enumerate(others):
            self.ev("EventMediaAdded", login + 1500 + 100 * k, media_type=media, place=self.d.fields.get("place"))
        self.ev("EventReadyForMedia", login + 3000)
        pauses = self._pauses(rng, [login + 3000, *act, logout - 2 * _MIN], dnd=num % 4 == 0)
        self._wraps(rng, act, pauses)
        if not (self.day == self.owner.last_day and num % 17 == 16):  # one in 17 stays logged in
            for media in others:
                self.ev("EventMediaRemoved", logout - _MIN, media_type=media)
            self.ev("EventAgentLogout", logout)
        return sorted(self.out, key=lambda e: (e["ts"], e["seq"]))

    def _pauses(self, rng: random.Random, points: list[int], dnd: bool) -> list[tuple[int, int]]:
        """Breaks (and a DND spell) in the longest idle gaps; returns their (start, end)."""
        gaps = sorted(((b - a, a) for a, b in zip(points, points[1:], strict=False) if b - a > 25 * _MIN), reverse=True)
        pauses = []
        for k, (length, start) in enumerate(gaps[: 3 if dnd else 2]):
            s, e = start + 2 * _MIN, start + 2 * _MIN + min(length - 5 * _MIN, rng.randint(8, 30) * _MIN)
            if k == 2:
                self.ev("EventDoNotDisturbOn", s)
                self.ev("EventDoNotDisturbOff", e)
            else:
                reason = {"key": "ReasonCode", "value": rng.choice(_REASONS)}
                self.ev("EventNotReadyForMedia", s, workmode="AuxWork", reason=reason)
                if k == 0:
                    self.ev(
                        "EventAgentStateReasonChanged", (s + e) // 2, reason={"key": "ReasonCode", "value": "Coaching"}
                    )
                self.ev("EventReadyForMedia", e)
            pauses.append((s, e))
        return pauses

    def _wraps(self, rng: random.Random, act: list[int], pauses: list[tuple[int, int]]) -> None:
        """After-call work after each part the agent ended, until its next activity or up to a minute."""
        for end, media in sorted(self.d.ends.items()):
            i = bisect.bisect_right(act, end)
            nxt = act[i] if i < len(act) else None
            stop = end + rng.randint(10, 60) * 1000
            stop = stop if nxt is None else min(stop, nxt - 500)
            if stop - end < 1000 or any(s - _MIN <= end <= e for s, e in pauses):
                continue
            reason = {"key": "ReasonCode", "value": "Wrap"}
            self.ev("EventNotReadyForMedia", end + 1, media_type=media, workmode="AfterCallWork", reason=reason)
            self.ev("EventReadyForMedia", stop, media_type=media)
