"""One agent's agent-state events walked in (ts, seq) order: its login sessions per media and, per media, the
moments its summarized state or reason changes; events that fit no session are rejected.

GIM, "Populating agent activity" (https://docs.genesys.com/Documentation/GIM/latest/User/GIMPopAgent) and
Table-SM_RES_SESSION_FACT (https://docs.genesys.com/Documentation/PSAAS/latest/RPRT/Table-SM_RES_SESSION_FACT):
- for multimedia a session is per agent and media type: it starts when the agent adds the media to its login
  session and ends when it removes it [D]; a logout ends every media session (contract 1.1) [D];
- the state of a media is the agent's state for that media (no DNs) [D, Table-SM_RES_STATE_FACT]; a media just
  added is LoggedOnOnly until the first Ready / NotReady [K]; NotReady with work mode AfterCallWork is the
  AfterCallWork state [K];
- do-not-disturb is for all media; with `factor-dnd-into-sm-resource-states` it is a concurrent NotReady state of
  every open media, and DND set before any media was added is not reported [D, option on GIMPopAgent];
- concurrent states are resolved by `sm-resource-state-priority` (default ACW, NOT_READY, BUSY, READY) [D].
Contract 1.1: `EventAgentLogin` with `media_type` also adds that media; agent-state events without `media_type`
apply to every open media of the agent. An `EventMediaAdded` without a login logs the agent in [I].
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from etl.domain.agent_states.catalogue import (
    ACW,
    DND_REASON,
    LOGGED_ON_ONLY,
    NOT_READY,
    PRIORITY_NAMES,
    READY,
    Reason,
    parse_reason,
)
from etl.domain.options import GimOptions

Summary = tuple[str, Reason | None]  # (summarized state, its reason)


@dataclass(frozen=True)
class AgentRejection:
    """An event that fits no login session of its agent (reason text for the quarantine)."""

    event_id: str
    ts_ms: int
    field: str
    reason: str


@dataclass
class _Media:
    start_ms: int
    own: str = LOGGED_ON_ONLY
    reason: Reason | None = None
    changes: list[tuple[int, Summary]] = field(default_factory=list)  # (ts_ms, summary) in order


@dataclass
class MediaSession:
    """One agent x media login session with its change points; `end_ms` None while open."""

    media: str
    start_ms: int
    end_ms: int | None
    changes: list[tuple[int, Summary]]


def state_rank(options: GimOptions) -> dict[str, int]:
    """State -> rank (0 = highest priority) from `sm-resource-state-priority`; LoggedOnOnly ranks last."""
    names = [n.strip().upper() for n in options.sm_resource_state_priority.split(",") if n.strip()]
    unknown = [n for n in names if n not in PRIORITY_NAMES]
    if unknown:
        raise ValueError(f"sm-resource-state-priority: unknown state(s) {unknown}; use {sorted(PRIORITY_NAMES)}")
    listed = list(dict.fromkeys(PRIORITY_NAMES[n] for n in names))
    order = [*listed, *(s for s in PRIORITY_NAMES.values() if s not in listed), LOGGED_ON_ONLY]
    return {s: i for i, s in enumerate(order)}


@dataclass
class AgentWalk:
    """The walk over one agent's events (sorted); `sessions` and `rejected` are its result."""

    agent: str
    options: GimOptions
    rank: dict[str, int]
    logged_in: bool = False
    dnd: bool = False
    open: dict[str, _Media] = field(default_factory=dict)
    sessions: list[MediaSession] = field(default_factory=list)
    rejected: list[AgentRejection] = field(default_factory=list)

    def run(self, events: Sequence[Mapping[str, Any]]) -> AgentWalk:
        for ev in events:
            handler = _HANDLERS.get(ev["event"])
            if handler is not None:
                handler(self, ev)
        return self

    def reject(self, ev: Mapping[str, Any], what: str) -> None:
        media = f" media {ev.get('media_type')!r}" if ev.get("media_type") else ""
        self.rejected.append(
            AgentRejection(
                ev["event_id"], ev["ts_ms"], "actor.id", f"{ev['event']} of agent {self.agent!r}{media} {what}"
            )
        )

    def summary(self, m: _Media) -> Summary:
        candidates: list[Summary] = [(m.own, m.reason)]
        if self.dnd and self.options.factor_dnd_into_sm_resource_states:
            candidates.append((NOT_READY, DND_REASON))
        return min(candidates, key=lambda c: self.rank[c[0]])  # min keeps the first of equal rank: own state

    def mark(self, ts_ms: int, medias: Sequence[str]) -> None:
        for name in medias:
            m = self.open[name]
            s = self.summary(m)
            if not m.changes or m.changes[-1][1] != s:
                m.changes.append((ts_ms, s))

    def targets(self, ev: Mapping[str, Any]) -> list[str] | None:
        """The open media an event applies to; None (and the event rejected) when there is none."""
        media = ev.get("media_type")
        if media is not None and media.lower() in self.open:
            return [media.lower()]
        if media is None and self.open:
            return list(self.open)
        self.reject(ev, "outside any login session of that media" if media else "while no media is logged in")
        return None

    def add_media(self, ts_ms: int, media: str) -> None:
        self.logged_in = True
        if media not in self.open:
            self.open[media] = _Media(ts_ms)
            self.mark(ts_ms, [media])

    def end_media(self, ts_ms: int, media: str) -> None:
        m = self.open.pop(media)
        self.sessions.append(MediaSession(media, m.start_ms, ts_ms, m.changes))

    def close(self) -> list[MediaSession]:
        """Sessions, the still-open ones last with `end_ms` None, in start order."""
        still = [MediaSession(n, m.start_ms, None, m.changes) for n, m in self.open.items()]
        return sorted([*self.sessions, *still], key=lambda s: (s.start_ms, s.media))


def _login(w: AgentWalk, ev: Mapping[str, Any]) -> None:
    w.logged_in = True
    if ev.get("media_type"):
        w.add_media(ev["ts_ms"], ev["media_type"].lower())


def _media_added(w: AgentWalk, ev: Mapping[str, Any]) -> None:
    w.add_media(ev["ts_ms"], ev["media_type"].lower())


def _media_removed(w: AgentWalk, ev: Mapping[str, Any]) -> None:
    if ev["media_type"].lower() not in w.open:
        w.reject(ev, "outside any login session of that media")
        return
    w.end_media(ev["ts_ms"], ev["media_type"].lower())


def _logout(w: AgentWalk, ev: Mapping[str, Any]) -> None:
    if not w.logged_in:
        w.reject(ev, "without a login before it")
        return
    for media in list(w.open):
        w.end_media(ev["ts_ms"], media)
    w.logged_in, w.dnd = False, False


def _ready(w: AgentWalk, ev: Mapping[str, Any]) -> None:
    targets = w.targets(ev)
    for name in targets or ():
        m = w.open[name]
        m.own, m.reason = READY, parse_reason(ev.get("reason"), None)
    w.mark(ev["ts_ms"], targets or [])


def _not_ready(w: AgentWalk, ev: Mapping[str, Any]) -> None:
    targets = w.targets(ev)
    workmode = ev.get("workmode")
    for name in targets or ():
        m = w.open[name]
        m.own = ACW if workmode == "AfterCallWork" else NOT_READY
        m.reason = parse_reason(ev.get("reason"), workmode or "Unknown")
    w.mark(ev["ts_ms"], targets or [])


def _reason_changed(w: AgentWalk, ev: Mapping[str, Any]) -> None:
    targets = w.targets(ev)
    for name in targets or ():
        m = w.open[name]
        mode = m.reason.workmode if m.reason is not None else ("Unknown" if m.own in (NOT_READY, ACW) else None)
        m.reason = parse_reason(ev.get("reason"), mode)
    w.mark(ev["ts_ms"], targets or [])


def _dnd(on: bool):  # noqa: ANN202
    def handle(w: AgentWalk, ev: Mapping[str, Any]) -> None:
        if not w.logged_in:
            w.reject(ev, "without a login before it")
            return
        w.dnd = on and bool(w.open)  # DND set before any media was added is not reported [D GIMPopAgent]
        w.mark(ev["ts_ms"], list(w.open))

    return handle


_HANDLERS = {
    "EventAgentLogin": _login,
    "EventMediaAdded": _media_added,
    "EventMediaRemoved": _media_removed,
    "EventAgentLogout": _logout,
    "EventReadyForMedia": _ready,
    "EventNotReadyForMedia": _not_ready,
    "EventAgentStateReasonChanged": _reason_changed,
    "EventMediaStateReasonChanged": _reason_changed,
    "EventDoNotDisturbOn": _dnd(True),
    "EventDoNotDisturbOff": _dnd(False),
}
