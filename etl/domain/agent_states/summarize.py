"""An agent's media sessions as GIM's summarized rows: SM_RES_SESSION_FACT, SM_RES_STATE_FACT and
SM_RES_STATE_REASON_FACT content, in whole seconds, with GIM's caps.

- SM_RES_STATE_FACT: one row per contiguous summarized state of an agent for a media type, active while it lasts
  (https://docs.genesys.com/Documentation/GIM/latest/PDMPostgre/Table-SM_RES_STATE_FACT) [D]; times are whole
  seconds and several states within one second are ordered by key [D, SM_RES_STATE_FACT page]: a state shorter than
  a second is kept with TOTAL_DURATION 0, and new keys are given in time order (natural keys sort by start, in
  milliseconds). A row first derived by a later run (a late event) gets a later key; (START_TS, END_TS) orders
  the rows of one agent and media in any case.
- SM_RES_STATE_REASON_FACT: one row per contiguous reason and work mode within a state
  (https://docs.genesys.com/Documentation/PSAAS/latest/RPRT/Table-SM_RES_STATE_REASON_FACT) [D]; the reason of the
  state that won the priority [D, same page].
- `max-state-duration` (14400 s): a state that has not changed for that long is ended there; the time after it
  until the next change is not reported [K, GIMPopAgent]. `max-session-duration-in-hours`: likewise for sessions,
  and a session's states end with it [K]. An open session or state older than its cap at the horizon (the newest
  stored event) is ended at the cap, so the result depends on the stored events only, never on how runs split.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from etl.domain.agent_states.catalogue import Reason
from etl.domain.agent_states.timeline import MediaSession, Summary
from etl.domain.options import GimOptions


@dataclass(frozen=True)
class Span:
    """A row's time span: ms bounds, `end_ms` None while active."""

    start_ms: int
    end_ms: int | None

    @property
    def start_s(self) -> int:
        return self.start_ms // 1000

    @property
    def end_s(self) -> int | None:
        return None if self.end_ms is None else self.end_ms // 1000


@dataclass(frozen=True)
class SessionRow:
    key: str
    media: str
    span: Span


@dataclass(frozen=True)
class StateRow:
    key: str
    session_key: str
    media: str
    state: str
    span: Span


@dataclass(frozen=True)
class ReasonRow:
    key: str
    state_key: str
    media: str
    reason: Reason
    span: Span


@dataclass
class AgentRows:
    sessions: list[SessionRow]
    states: list[StateRow]
    reasons: list[ReasonRow]
    _same_ms: dict[str, int] = field(default_factory=dict)

    def key(self, parent: str, start_ms: int) -> str:
        """A row's natural key: its parent's, its start, and a counter of its parent's rows starting in the same
        millisecond. A row keeps its key (and id) when a late event adds rows elsewhere; keys sort in time order."""
        stem = f"{parent}|{start_ms:014d}|"
        n = self._same_ms[stem] = self._same_ms.get(stem, -1) + 1
        return f"{stem}{n:03d}"


def _capped(start: int, end: int | None, cap_ms: int, horizon_ms: int) -> int | None:
    """End of a span from `start` capped at `start + cap_ms` (None: still active at the horizon)."""
    limit = start + cap_ms
    if end is None:
        return limit if horizon_ms >= limit else None
    return min(end, limit)


def summarize(agent_key: str, sessions: list[MediaSession], options: GimOptions, horizon_ms: int) -> AgentRows:
    """Rows of one agent (`agent_key` = tenant|agent, the prefix of every natural key)."""
    out = AgentRows([], [], [])
    for s in sessions:
        end = _capped(s.start_ms, s.end_ms, options.max_session_duration_in_hours * 3_600_000, horizon_ms)
        skey = f"{agent_key}|{s.media}|{s.start_ms:014d}"
        out.sessions.append(SessionRow(skey, s.media, Span(s.start_ms, end)))
        changes = [(t, summ) for t, summ in s.changes if end is None or t < end or t == s.start_ms]
        _states(out, skey, s.media, changes, end, options, horizon_ms)
    return out


def _states(
    out: AgentRows,
    skey: str,
    media: str,
    changes: list[tuple[int, Summary]],
    session_end: int | None,
    options: GimOptions,
    horizon_ms: int,
) -> None:
    """State rows (consecutive change points of one state) and their reason rows."""
    groups: list[list[tuple[int, Summary]]] = []
    for point in changes:
        if groups and groups[-1][-1][1][0] == point[1][0]:
            groups[-1].append(point)
        else:
            groups.append([point])
    for i, group in enumerate(groups):
        start = group[0][0]
        nxt = groups[i + 1][0][0] if i + 1 < len(groups) else session_end
        end = _capped(start, nxt, options.max_state_duration * 1000, horizon_ms)
        if session_end is not None and end is not None:
            end = min(end, session_end)
        key = out.key(skey, start)
        out.states.append(StateRow(key, skey, media, group[0][1][0], Span(start, end)))
        _reasons(out, key, media, group, end)


def _reasons(out: AgentRows, state_key: str, media: str, group: list[tuple[int, Summary]], end: int | None) -> None:
    points = [(t, r) for t, (_, r) in group if end is None or t < end or t == group[0][0]]
    merged: list[tuple[int, Reason | None]] = []
    for t, r in points:
        if not merged or merged[-1][1] != r:
            merged.append((t, r))
    for j, (t, r) in enumerate(merged):
        if r is None:
            continue
        r_end = merged[j + 1][0] if j + 1 < len(merged) else end
        key = out.key(state_key, t)
        out.reasons.append(ReasonRow(key, state_key, media, r, Span(t, r_end)))
