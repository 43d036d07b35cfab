"""The state machine's core: one interaction's events in, its IRF and MSF rows out.

The engine is a small state machine walked once over the interaction's events in (ts, seq) order. This module
holds what every GIM topic shares: the rows it produces, the state it walks with, the table of event handlers
and the walk itself. The rules live in one module per topic (see the package docstring), each registering its
handlers (and any end-of-interaction step) with `register`; a new topic needs no edit here.

* IRF population: https://docs.genesys.com/Documentation/PSAAS/latest/RPRT/GIMPopIRF
* MSF population: https://docs.genesys.com/Documentation/PSAAS/latest/RPRT/GIMPopMSF
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from etl.domain.descriptors import Descriptor, Reason, Result, Role
from etl.domain.options import GimOptions


def whole_second(ts: Any) -> Any:
    """`ts` (epoch ms) floored to its second, still in ms. Every duration is a difference of such floored
    timestamps, so that the parts of a fact (mediation = queue + routing point, span = ring + talk + hold) add up
    in whole seconds (GIM's durations are seconds: https://docs.genesys.com/Documentation/PSAAS/latest/RPRT/GIMPopIRF).
    A shape template's time (`etl.transform.shapes.Ts`) floors itself."""
    if isinstance(ts, int):
        return ts - ts % 1000
    return ts.floor_second()


def span_ms(start: Any, end: Any) -> Any:
    """Whole-second length of [start, end] in ms: the difference of the floored timestamps."""
    return whole_second(end) - whole_second(start)


@dataclass(slots=True)
class IrfRow:
    """One resource's part in an interaction (INTERACTION_RESOURCE_FACT before keys are assigned)."""

    natural_key: str
    interaction_id: str
    party_type: str
    party_id: str
    role: Role
    start_ms: int
    ordinal: int
    invite_ms: int | None = None
    connect_ms: int | None = None
    end_ms: int | None = None
    result: Result | None = None
    result_reason: Reason = Reason.UNSPECIFIED
    hold_ms: int = 0
    hold_count: int = 0
    hold_since: int | None = None
    inviter_id: str | None = None
    invite_by_strategy: bool = False
    invite_reason: str | None = None
    received_from: str | None = None  # natural key of the IRF it came from
    last_handler_id: str | None = None  # party id of the previous handling resource
    mediation_start_ms: int | None = None
    mediation_ms: int = 0
    queue_ms: int = 0
    mediation_msf: str | None = None  # natural key of the MSF that led to it
    mediation_chain: list[MsfRow] = field(default_factory=list)  # stays before it; resolved at the end
    last_vq: str | None = None
    stop_action: int = 0
    workbin_hold: str | None = None  # own workbin holding the interaction (populate-workbin-as-hold)
    place: str | None = None  # the party's place when the events name it (IRF.MEDIA_RESOURCE_KEY)
    mediation_end_ms: int | None = None  # an IRF that ends in mediation (on the queue): when the mediation ended
    customer_left_ms: int | None = None  # online: the customer left while this resource was engaged

    @property
    def active(self) -> bool:
        return self.end_ms is None

    @property
    def descriptor(self) -> Descriptor:
        return Descriptor(self.role, self.result or Result.UNSPECIFIED, self.result_reason)


@dataclass(slots=True)
class MsfRow:
    """One stay in an interaction queue, workbin or virtual queue (MEDIATION_SEGMENT_FACT before keys)."""

    natural_key: str
    interaction_id: str
    kind: str  # InteractionQueue | Workbin | VirtualQueue
    name: str
    start_ms: int
    end_ms: int | None = None
    result: Result = Result.UNSPECIFIED
    result_reason: Reason = Reason.UNSPECIFIED
    attempt: int = 0
    queue_role: str | None = None
    first_inbound_iq: bool = False
    placed_by: str | None = None  # natural key of the IRF that put the interaction there
    target: str | None = None  # natural key of the IRF the mediation led to
    vq_outcome: str | None = None
    folded: bool = False  # an unsuccessful routing attempt folded into the queue's stay

    @property
    def active(self) -> bool:
        return self.end_ms is None

    @property
    def descriptor(self) -> Descriptor:
        return Descriptor(Role.RECEIVED, self.result, self.result_reason)


@dataclass(slots=True)
class InteractionRow:
    interaction_id: str
    start_ms: int | None = None
    end_ms: int | None = None
    media_type: str | None = None
    interaction_type: str | None = None
    interaction_subtype: str | None = None
    parent_id: str | None = None
    thread_id: str | None = None
    tenant: str = "Resources"
    last_event_ms: int | None = None  # "as of" time for the durations of active facts
    source_address: str | None = None
    target_address: str | None = None
    subject: str | None = None


class RejectionKind(StrEnum):
    """Why the rules reject an event: one member per rejection they make."""

    NEVER_SUBMITTED = "never_submitted"  # an event of an interaction with no EventInteractionSubmitted (yet)
    SUBMITTED_TWICE = "submitted_twice"
    NO_PENDING_INVITATION = "no_pending_invitation"  # EventRejected/EventRevoked for a party never invited
    VQ_NEVER_ENTERED = "vq_never_entered"  # EventVirtualQueueLeft without EventVirtualQueueEntered
    # Events that contradict their interaction's history (../shared/contract/events.md, "Rules for bad input"):
    BEFORE_SUBMISSION = "before_submission"  # dated before the interaction's own EventInteractionSubmitted
    AFTER_STOP = "after_stop"  # a party, queue or hold after EventProcessingStopped ended the interaction
    PARTY_NEVER_ADDED = "party_never_added"  # EventPartyRemoved for a party that never took part

    @property
    def waits_for_submission(self) -> bool:
        """The event may be fine once a late EventInteractionSubmitted arrives: hold it back for a while."""
        return self is RejectionKind.NEVER_SUBMITTED


@dataclass(slots=True)
class Rejection:
    """An event that contradicts its interaction's history: quarantined, never silently dropped."""

    event_id: str
    kind: RejectionKind
    reason: str  # human-readable, stored in the quarantine
    field: str | None = None


@dataclass(slots=True)
class InteractionFacts:
    interaction: InteractionRow
    irfs: list[IrfRow]
    msfs: list[MsfRow]
    rejected: list[Rejection]


@dataclass(slots=True)
class _Strategy:
    """A routing strategy that took the interaction out of a queue; not a handling resource unless it
    stops the interaction ([D] autoresponse flow: "Strategy 1 is now considered to be a handling resource")."""

    strategy_id: str
    since_ms: int
    queue: str | None
    queue_role: str | None


@dataclass(slots=True)
class _Session:
    """The online session's non-resource parties (contract 1.1 `Customer`, `Bot`): etl.domain.rules.online."""

    customer_joined_ms: int | None = None
    customer_left_ms: int | None = None
    customer_abandoned: bool = False  # the customer left before an agent was connected, or said so
    abandonment_done: bool = False  # the abandonment's facts are written (at the removal or at the stop)
    bots: dict[str, int] = field(default_factory=dict)  # bot id -> since (ms), while in the session
    messages: int = 0


@dataclass
class _State:
    ixn: InteractionRow
    options: GimOptions
    irfs: list[IrfRow] = field(default_factory=list)
    msfs: list[MsfRow] = field(default_factory=list)
    rejected: list[Rejection] = field(default_factory=list)
    connected: dict[str, IrfRow] = field(default_factory=dict)
    invited: dict[str, IrfRow] = field(default_factory=dict)
    leaving: dict[str, IrfRow] = field(default_factory=dict)  # removed at the current ts, result pending
    workbin_holder: IrfRow | None = None
    strategy: _Strategy | None = None
    stay: MsfRow | None = None  # current interaction-queue or workbin stay
    vq_stays: dict[str, MsfRow] = field(default_factory=dict)
    chain: list[MsfRow] = field(default_factory=list)  # stays of the current mediation
    mediation_start: int | None = None
    queue_ms: int = 0
    attempt: int = 0
    handled: bool = False
    first_iq_seen: bool = False
    outbound_sent: bool = False
    terminated: bool = False
    stopped: bool = False  # EventProcessingStopped seen
    last_handler: IrfRow | None = None
    last_vq: str | None = None
    place_of: dict[str, str] = field(default_factory=dict)
    session: _Session = field(default_factory=_Session)
    last_ts: int = 0
    ordinal: int = 0

    # -- helpers -------------------------------------------------------------------------------------
    def reject(self, ev: Mapping[str, Any], kind: RejectionKind, reason: str, fld: str | None) -> None:
        self.rejected.append(Rejection(ev["event_id"], kind, reason, fld))

    def new_irf(self, ev: Mapping[str, Any], party_type: str, party_id: str, role: Role, **kw: Any) -> IrfRow:
        self.ordinal += 1
        irf = IrfRow(
            natural_key=f"{self.ixn.interaction_id}|{party_id}|{ev['event_id']}",
            interaction_id=self.ixn.interaction_id,
            party_type=party_type,
            party_id=party_id,
            role=role,
            start_ms=kw.pop("start_ms", ev["ts_ms"]),
            ordinal=self.ordinal,
            last_handler_id=self.last_handler.party_id if self.last_handler else None,
            place=self.place_of.get(party_id),
            **kw,
        )
        self.irfs.append(irf)
        return irf

    def end_irf(self, irf: IrfRow, ts: int, result: Result, reason: Reason = Reason.UNSPECIFIED) -> None:
        if irf.hold_since is not None:
            irf.hold_ms += span_ms(irf.hold_since, ts)
            irf.hold_since = None
        irf.end_ms, irf.result, irf.result_reason = ts, result, reason
        for registry in (self.connected, self.invited, self.leaving):
            if registry.get(irf.party_id) is irf:
                del registry[irf.party_id]
        if self.workbin_holder is irf:
            self.workbin_holder = None

    def connect(self, irf: IrfRow, ts: int) -> None:
        irf.connect_ms = ts
        self.connected[irf.party_id] = irf
        self.handled = True
        self.last_handler = irf

    def begin_mediation(self, ts: int) -> None:
        if self.mediation_start is None:
            self.mediation_start, self.queue_ms, self.chain = ts, 0, []

    def close_stay(self, ts: int) -> None:
        if self.stay is not None and self.stay.end_ms is None:
            self.stay.end_ms = ts
            self.queue_ms += span_ms(self.stay.start_ms, ts)

    def mediation_kw(self, ts: int) -> dict[str, Any]:
        """The mediation fields of an IRF that gets the interaction at `ts` (its start is the mediation's).

        [D] IRF MEDIATION_DURATION is the full mediation time before the resource got the interaction,
        also where no MSF was written (max-msfs-per-irf page).

        START_TS of a routed IRF is the start of that mediation, not the offer (invitation or pull): an IRF
        summarizes an attempt to "mediate and handle" an interaction
        (https://docs.genesys.com/Documentation/PSAAS/latest/RPRT/GIMPopIRF), and its MEDIATION_DURATION,
        RING_DURATION and TALK_DURATION are parts of its own span only if the span begins where the mediation
        does. The offer is START_TS + MEDIATION_DURATION (RAA's "interval offered"); MEDIATION_START_DATE_TIME_KEY
        then equals START_DATE_TIME_KEY, and is NULL where there was no mediation."""
        if self.mediation_start is None:
            return {"start_ms": ts, "mediation_start_ms": None, "mediation_ms": 0, "queue_ms": 0, "last_vq": None}
        queue_ms = self.queue_ms + (span_ms(self.stay.start_ms, ts) if self.stay and self.stay.end_ms is None else 0)
        return {
            "start_ms": self.mediation_start,
            "mediation_start_ms": self.mediation_start,
            "mediation_ms": ts - self.mediation_start,
            "queue_ms": queue_ms,
            "last_vq": self.last_vq,
        }

    def resolve_leaving(self, ts: int | None = None) -> None:
        """A party removed without an explanation at the same timestamp: it handed the interaction to the
        invitee of its own pending transfer/consult invitation (Transferred), otherwise it completed."""
        for irf in list(self.leaving.values()):
            if ts is not None and irf.end_ms == ts:
                continue
            handed_off = any(
                inv.inviter_id == irf.party_id and not inv.invite_by_strategy
                for inv in self.irfs
                if inv is not irf
                and inv.invite_ms is not None
                and inv.invite_ms <= (irf.end_ms or 0)
                and (inv.end_ms is None or inv.end_ms >= (irf.end_ms or 0))
            )
            end = irf.end_ms if irf.end_ms is not None else self.last_ts
            self.end_irf(irf, end, Result.TRANSFERRED if handed_off else Result.COMPLETED)


# -- the handler table ---------------------------------------------------------------------------------

Handler = Callable[[_State, Mapping[str, Any]], None]
Finisher = Callable[[_State], None]

_HANDLERS: dict[str, Handler] = {}
_FINISHERS: list[Finisher] = []


def register(handlers: Mapping[str, Handler], *finishers: Finisher) -> None:
    """A topic's rules: a handler per event name it explains, and steps run once after the last event."""
    taken = set(handlers) & set(_HANDLERS)
    if taken:
        raise ValueError(f"events already handled by another topic: {sorted(taken)}")
    _HANDLERS.update(handlers)
    _FINISHERS.extend(finishers)


#: Events a removal (EventPartyRemoved) may be explained by at the same timestamp: the leaving party's result
#: waits for them (placed elsewhere: Transferred; its transfer accepted: Transferred).
_EXPLAIN_REMOVAL = frozenset({"EventPlacedInQueue", "EventPlacedInWorkbin", "EventPartyAdded"})

#: Tie-break for events with equal (ts, seq): the order Interaction Server emits them in one transaction.
EVENT_RANK: dict[str, int] = {
    name: i
    for i, name in enumerate(
        [
            "EventInteractionSubmitted",
            "EventPropertiesChanged",
            "EventPlacedInQueue",
            "EventPlacedInWorkbin",
            "EventTakenFromQueue",
            "EventTakenFromWorkbin",
            "EventVirtualQueueEntered",
            "EventAgentInvited",
            "EventVirtualQueueLeft",
            "EventRejected",
            "EventRevoked",
            "EventPartyAdded",
            "EventHeld",
            "EventResumed",
            "EventChatMessage",
            "EventPartyRemoved",
            "EventProcessingStopped",
        ]
    )
}


#: Events that cannot follow EventProcessingStopped: they would start a party, a stay or a hold on an interaction
#: that has ended (an IRF or MSF active forever). GIM: "the interaction is stopped" ends every party's IRF
#: (https://docs.genesys.com/Documentation/PSAAS/latest/RPRT/GIMPopIRF); removals and VQ exits may still trail.
_NOT_AFTER_STOP = frozenset(
    {
        "EventPlacedInQueue",
        "EventPlacedInWorkbin",
        "EventTakenFromQueue",
        "EventTakenFromWorkbin",
        "EventVirtualQueueEntered",
        "EventAgentInvited",
        "EventPartyAdded",
        "EventHeld",
        "EventResumed",
    }
)


def _contradiction(st: _State, ev: Mapping[str, Any], submitted: bool) -> tuple[RejectionKind, str, str] | None:
    """Why `ev` contradicts the history walked so far (../shared/contract/events.md, "Rules for bad input"), if
    it does: (kind, reason, field)."""
    name, ixn = ev["event"], st.ixn.interaction_id
    if st.ixn.start_ms is None and name != "EventInteractionSubmitted":
        if submitted:  # the interaction's submission is there, but later: this event cannot have happened
            return RejectionKind.BEFORE_SUBMISSION, f"{name} dated before interaction {ixn!r} was submitted", "ts"
        return (
            RejectionKind.NEVER_SUBMITTED,
            f"{name} for interaction {ixn!r} that was never submitted",
            "interaction_id",
        )
    if name == "EventInteractionSubmitted" and st.ixn.start_ms is not None:
        return RejectionKind.SUBMITTED_TWICE, f"interaction {ixn!r} submitted twice", "event"
    if st.stopped and name in _NOT_AFTER_STOP:
        return RejectionKind.AFTER_STOP, f"{name} after interaction {ixn!r} was stopped", "event"
    return None


def derive_interaction(
    interaction_id: str, events: Iterable[Mapping[str, Any]], options: GimOptions
) -> InteractionFacts:
    """Walk one interaction's events (already sorted by ts, seq, EVENT_RANK) and derive its facts."""
    st = _State(ixn=InteractionRow(interaction_id), options=options)
    events = list(events)
    submitted = any(ev["event"] == "EventInteractionSubmitted" for ev in events)
    for ev in events:
        name = ev["event"]
        handler = _HANDLERS.get(name)
        if handler is None:
            continue  # agent-state events carry no fact rule
        why = _contradiction(st, ev, submitted)
        if why is not None:
            st.reject(ev, why[0], why[1], why[2])
            continue
        if st.leaving and name not in _EXPLAIN_REMOVAL:
            st.resolve_leaving(ev["ts_ms"])
        st.last_ts = max(st.last_ts, ev["ts_ms"])
        handler(st, ev)
        st.stopped = st.stopped or name == "EventProcessingStopped"
    st.resolve_leaving()
    st.ixn.last_event_ms = st.last_ts
    for finish in _FINISHERS:
        finish(st)
    return InteractionFacts(st.ixn, st.irfs, st.msfs, st.rejected)
