"""A validated conversation record → `Conv`, the mapping's input: timestamps in UTC ms, segments of each session in
time order and without overlap, ids unique, every repair *counted* by its reason (the run's SOURCE_NOTES).

Real detail records overlap by milliseconds (a wrap-up starts 151 ms before the last interact segment ends; see
../shared/domain/genesys_cloud.md §4.2 tHandle) and hand-edited exports reuse ids and drop digits from dates. A
conversation is quarantined (`Unusable`) only when no repair can give it a meaning: no conversationId, or a
timestamp that is no timestamp at all.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from etl.ingest.genesys_cloud.models import Conversation, Metric
from etl.ingest.genesys_cloud.timestamps import MalformedTimestamp, parse_ms


class Unusable(ValueError):
    """A conversation that cannot be mapped; `field` says which input field is wrong."""

    def __init__(self, fld: str, reason: str) -> None:
        super().__init__(reason)
        self.field, self.reason = fld, reason


@dataclass(slots=True)
class Seg:
    index: int  # position in the session's `segments` as read (the event id's segment index: stable over snapshots)
    kind: str  # segmentType
    start: int
    end: int | None  # None while the segment goes on
    queue_id: str | None = None
    disconnect: str | None = None
    wrapup_code: str | None = None
    wrapup_note: str | None = None
    conference: bool = False


@dataclass(slots=True)
class Sess:
    id: str
    media: str
    message_type: str | None
    direction: str | None
    provider: str | None
    segments: list[Seg]
    metrics: dict[str, float] = field(default_factory=dict)  # name -> sum of values

    @property
    def start(self) -> int:
        return self.segments[0].start

    @property
    def end(self) -> int | None:
        return self.segments[-1].end


@dataclass(slots=True)
class Part:
    id: str
    purpose: str
    name: str | None
    user_id: str | None
    sessions: list[Sess]


@dataclass(slots=True)
class Conv:
    id: str
    start: int
    end: int | None
    direction: str | None
    division: str | None
    participants: list[Part]
    notes: Counter[str] = field(default_factory=Counter)


def _ms(text: str | None, fld: str, notes: Counter[str]) -> int:
    try:
        value, note = parse_ms(text)
    except MalformedTimestamp as exc:
        raise Unusable(fld, str(exc)) from None
    if note:
        notes[note] += 1
    return value


def _metrics(metrics: list[Metric]) -> dict[str, float]:
    out: dict[str, float] = {}
    for m in metrics:
        if isinstance(m.value, int | float):
            out[m.name] = out.get(m.name, 0) + m.value
    return out


def normalise(rec: Conversation, notes: Counter[str] | None = None) -> Conv:
    """The repaired conversation (its `notes` count every repair), or Unusable."""
    notes = Counter() if notes is None else notes
    if not rec.conversationId:
        raise Unusable("conversationId", "conversation without a conversationId")
    seen_ids: set[str] = {rec.conversationId}
    parts: list[Part] = []
    for pi, p in enumerate(rec.participants):
        pid = p.participantId or f"participant{pi}"
        if not p.participantId:
            notes["participant without participantId: numbered"] += 1
        sessions: list[Sess] = []
        for si, s in enumerate(p.sessions):
            sid = s.sessionId or f"{pid}-session{si}"
            if not s.sessionId:
                notes["session without sessionId: numbered"] += 1
            if sid in seen_ids:
                notes["id reused by another session or the conversation: made unique"] += 1
                sid = f"{sid}#{pi}.{si}"
            seen_ids.add(sid)
            if any(g.segmentStart is None for g in s.segments):
                notes["segment without segmentStart: dropped"] += 1
            segs = [
                Seg(
                    index=gi,
                    kind=g.segmentType or "unknown",
                    start=_ms(g.segmentStart, "segmentStart", notes),
                    end=None if g.segmentEnd is None else _ms(g.segmentEnd, "segmentEnd", notes),
                    queue_id=g.queueId,
                    disconnect=g.disconnectType,
                    wrapup_code=g.wrapUpCode,
                    wrapup_note=g.wrapUpNote,
                    conference=bool(g.conference),
                )
                for gi, g in enumerate(s.segments)
                if g.segmentStart is not None
            ]
            if not segs:
                notes["session without segments: ignored"] += 1
                continue
            _order(segs, notes)
            sessions.append(
                Sess(sid, s.mediaType or "unknown", s.messageType, s.direction, s.provider, segs, _metrics(s.metrics))
            )
        if sessions:
            parts.append(Part(pid, p.purpose or "unknown", p.participantName, p.userId, sessions))
    starts = [s.start for p in parts for s in p.sessions]
    if rec.conversationStart is None:
        if not starts:
            raise Unusable("conversationStart", "conversation without conversationStart and without segments")
        notes["conversation without conversationStart: its first segment's start"] += 1
        start = min(starts)
    else:
        start = _ms(rec.conversationStart, "conversationStart", notes)
    if starts and min(starts) < start:
        notes["segment before conversationStart: conversation start moved"] += 1
        start = min(starts)
    if not parts:
        raise Unusable("participants", "conversation without any session with segments")
    end = None if rec.conversationEnd is None else _ms(rec.conversationEnd, "conversationEnd", notes)
    ends = [g.end for p in parts for s in p.sessions for g in s.segments]
    if end is None and all(e is not None for e in ends):
        # Detail records omit conversationEnd only while a segment goes on; without one the record was cut.
        notes["conversationEnd missing although every segment ended: its last segment's end"] += 1
        end = max(e for e in ends if e is not None)
    division = rec.divisionIds[0] if rec.divisionIds else None
    return Conv(rec.conversationId, start, end, rec.originatingDirection, division, parts, notes)


def _order(segs: list[Seg], notes: Counter[str]) -> None:
    """Segments of a session in start order; a segment that ends after the next one starts ends there (the next
    one is what the agent went on to do); an end before its start is set to the start."""
    if any(a.start > b.start for a, b in zip(segs, segs[1:], strict=False)):
        notes["segments out of order: sorted by segmentStart"] += 1
        segs.sort(key=lambda g: (g.start, g.index))
    for g in segs:
        if g.end is not None and g.end < g.start:
            notes["segment ending before it starts: end set to its start"] += 1
            g.end = g.start
    for a, b in zip(segs, segs[1:], strict=False):
        if a.end is None or a.end > b.start:
            notes[f"overlapping segments ({a.kind} into {b.kind}): cut at the next segment's start"] += 1
            a.end = b.start
