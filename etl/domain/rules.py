"""GIM's multimedia rules: one interaction's events in, its IRF and MSF rows out.

Each rule cites the GIM page it implements. "[D]" = documented there, "[I]" = our inference where the page is
silent (see ../shared/domain/gim.md). The main sources:

* E-mail flows: https://docs.genesys.com/Documentation/GIM/latest/User/GIMMMIxnFlow-Email (seed 000)
* IRF population: https://docs.genesys.com/Documentation/PSAAS/latest/RPRT/GIMPopIRF
* MSF population: https://docs.genesys.com/Documentation/PSAAS/latest/RPRT/GIMPopMSF
* Options: https://enu.docs.genesys.com/Options:Genesys_Info_Mart_ETL:gim-etl-populate:populate-workbin-as-hold

The engine is a small state machine walked once over the interaction's events in (ts, seq) order. It keeps
the rules in one place each: who becomes a handling resource, which role and result an IRF gets, which
stays become MSFs and how unsuccessful routing attempts fold together.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from etl.domain.descriptors import Descriptor, Reason, Result, Role
from etl.domain.options import GimOptions

#: Subtypes of consultation interactions (Interaction Server collaboration). [D] "Agent consults ... before
#: sending reply": the consult's creator is InitiatedConsult, everybody else on it (and the creator of the
#: consult reply) is ReceivedConsult.
CONSULT_INVITE_SUBTYPES = frozenset({"InternalCollaborationInvite", "OutboundCollaborationInvite"})
CONSULT_REPLY_SUBTYPES = frozenset({"InternalCollaborationReply", "InboundCollaborationReply"})

HANDLER_TYPES = frozenset({"Agent", "Place", "Strategy"})


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


@dataclass(slots=True)
class Rejection:
    """An event that contradicts its interaction's history: quarantined, never silently dropped."""

    event_id: str
    reason: str
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
    last_handler: IrfRow | None = None
    last_vq: str | None = None
    place_of: dict[str, str] = field(default_factory=dict)
    last_ts: int = 0
    ordinal: int = 0

    # -- helpers -------------------------------------------------------------------------------------
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
            **kw,
        )
        self.irfs.append(irf)
        return irf

    def end_irf(self, irf: IrfRow, ts: int, result: Result, reason: Reason = Reason.UNSPECIFIED) -> None:
        if irf.hold_since is not None:
            irf.hold_ms += ts - irf.hold_since
            irf.hold_since = None
        irf.end_ms, irf.result, irf.result_reason = ts, result, reason
        for registry in (self.connected, self.invited, self.leaving):
            if registry.get(irf.party_id) is irf:
                del registry[irf.party_id]
        if self.workbin_holder is irf:
            self.workbin_holder = None

    def begin_mediation(self, ts: int) -> None:
        if self.mediation_start is None:
            self.mediation_start, self.queue_ms, self.chain = ts, 0, []

    def mediation_fields(self, ts: int) -> dict[str, Any]:
        """[D] IRF MEDIATION_DURATION is the full mediation time before the resource got the interaction,
        also where no MSF was written (max-msfs-per-irf page)."""
        if self.mediation_start is None:
            return {"mediation_start_ms": None, "mediation_ms": 0, "queue_ms": 0, "last_vq": None}
        queue_ms = self.queue_ms + (ts - self.stay.start_ms if self.stay and self.stay.end_ms is None else 0)
        return {
            "mediation_start_ms": self.mediation_start,
            "mediation_ms": ts - self.mediation_start,
            "queue_ms": queue_ms,
            "last_vq": self.last_vq,
        }

    def connect(self, irf: IrfRow, ts: int) -> None:
        irf.connect_ms = ts
        self.connected[irf.party_id] = irf
        self.handled = True
        self.last_handler = irf

    def close_stay(self, ts: int) -> None:
        if self.stay is not None and self.stay.end_ms is None:
            self.stay.end_ms = ts
            self.queue_ms += ts - self.stay.start_ms

    def fold_attempt(self) -> None:
        """[D] "Routing strategy repeatedly fails to find a target": all unsuccessful attempts to select an
        agent are combined into one mediation (the queue's MSF); only the last attempt keeps its VQ MSF."""
        for msf in self.chain:
            if msf.kind == "VirtualQueue" and msf.attempt == self.attempt:
                msf.folded = True
        self.attempt += 1

    def finish_mediation(self, target: IrfRow, via_invite: bool) -> None:
        """The mediation chain led to `target`; each stay learns its result towards that target."""
        for msf in self.chain:
            if msf.folded:
                continue
            msf.target = target.natural_key
            if msf.end_ms is None:
                msf.end_ms = target.invite_ms if target.invite_ms is not None else target.connect_ms
            if msf.kind == "VirtualQueue":
                if msf.vq_outcome in (None, "routed"):
                    msf.result, msf.result_reason = Result.DIVERTED, Reason.ANSWERED_BY_AGENT
            elif via_invite:
                msf.result, msf.result_reason = Result.DIVERTED, Reason.ANSWERED_BY_AGENT
            else:
                msf.result = Result.PULLED
        target.mediation_chain = list(self.chain)
        self.mediation_start, self.chain, self.queue_ms, self.stay, self.last_vq = None, [], 0, None, None
        self.vq_stays.clear()

    def is_own_workbin(self, irf: IrfRow, ev: Mapping[str, Any]) -> bool:
        """[D] populate-workbin-as-hold: only the handling agent's or place's *own personal* workbin counts."""
        owner_type, owner_id = ev.get("queue_owner_type"), ev.get("queue_owner_id")
        if owner_type == "Agent":
            return owner_id == irf.party_id
        if owner_type == "Place":
            return owner_id is not None and owner_id == self.place_of.get(irf.party_id)
        return False

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


def _last_recorded(chain: list[MsfRow], options: GimOptions) -> str | None:
    recorded = [m for m in chain if msf_is_recorded(m, options)]
    return recorded[-1].natural_key if recorded else None


def msf_is_recorded(msf: MsfRow, options: GimOptions) -> bool:
    """Which stays become MEDIATION_SEGMENT_FACT rows.

    * Interaction queues: only with populate-mm-ixnqueue-facts=true, except that since 8.5.003 GIM always
      writes one for the first interaction queue an inbound interaction enters before first handling [D].
    * Workbins: only with populate-mm-workbin-facts=true [D]; own-workbin hold is no stay at all.
    * Virtual queues: always, for active and completed stays, but folded failed attempts are not [D].
    * Queues whose only purpose is to end processing ("stop" role) are excluded from processing [D].
    """
    if msf.folded or msf.queue_role == "stop":
        return False
    if msf.kind == "VirtualQueue":
        return True
    if msf.kind == "Workbin":
        return options.populate_mm_workbin_facts
    return options.populate_mm_ixnqueue_facts or msf.first_inbound_iq


def _role_for_invitee(st: _State, ev: Mapping[str, Any], by_strategy: bool) -> Role:
    """[D] Roles of invited resources in the e-mail flows:
    RoutedTo (first routing by a strategy), ReceivedTransfer (direct transfer, or routed again after an agent
    already handled the interaction: "Transfer of e-mail from agent to agent through a queue"),
    ReceivedConsult (any resource on a consultation interaction, or a consult/conference invitation)."""
    if st.ixn.interaction_subtype in CONSULT_INVITE_SUBTYPES | CONSULT_REPLY_SUBTYPES:
        return Role.RECEIVED_CONSULT
    if ev.get("reason") in ("consult", "conference"):
        return Role.RECEIVED_CONSULT
    if not by_strategy or st.handled:
        return Role.RECEIVED_TRANSFER
    return Role.ROUTED_TO


def _role_for_creator(subtype: str | None) -> Role:
    if subtype in CONSULT_INVITE_SUBTYPES:
        return Role.INITIATED_CONSULT
    if subtype in CONSULT_REPLY_SUBTYPES:
        return Role.RECEIVED_CONSULT
    return Role.INITIATED


# -- event handlers ------------------------------------------------------------------------------------


def _submitted(st: _State, ev: Mapping[str, Any]) -> None:
    ixn, ts = st.ixn, ev["ts_ms"]
    ixn.start_ms = ts
    ixn.media_type, ixn.interaction_type = ev.get("media_type"), ev.get("interaction_type")
    ixn.interaction_subtype, ixn.parent_id = ev.get("interaction_subtype"), ev.get("parent_id")
    ixn.thread_id, ixn.tenant = ev.get("thread_id"), ev.get("tenant") or "Resources"
    if ev.get("actor_type") in HANDLER_TYPES:
        # [D] "When actor is an Agent or a Strategy, that actor holds the new interaction from this moment";
        # the creator's IRF is Initiated (replies, new outbound) or InitiatedConsult (consultations).
        irf = st.new_irf(ev, ev["actor_type"], ev["actor_id"], _role_for_creator(ixn.interaction_subtype))
        st.connect(irf, ts)
    else:
        st.begin_mediation(ts)


def _placed(st: _State, ev: Mapping[str, Any], workbin: bool) -> None:
    ts, actor = ev["ts_ms"], ev.get("actor_id")
    role = ev.get("queue_role")
    placer = st.connected.get(actor) or st.leaving.get(actor) if actor else None
    if placer is not None:
        if workbin and st.options.populate_workbin_as_hold and st.is_own_workbin(placer, ev):
            # [D] populate-workbin-as-hold: the time is hold on the placing resource's IRF, not mediation.
            placer.hold_since, placer.hold_count = ts, placer.hold_count + 1
            placer.workbin_hold = ev.get("queue_name")
            st.connected.pop(placer.party_id, None)
            st.leaving.pop(placer.party_id, None)
            st.workbin_holder = placer
            return
        if role == "outbound":
            # [D] "Strategy routes e-mail to agent, and agent replies": the agent that puts its reply into the
            # outbound queue has completed it (Initiated/Completed); sending is not handling.
            st.end_irf(placer, ts, Result.COMPLETED)
        elif role == "stop":
            # [D] stop-ixn-queues: COMPLETED/UNSPECIFIED on the placing resource's IRF, interaction terminated.
            st.end_irf(placer, ts, Result.COMPLETED)
        else:
            # [D] "Agent pulls e-mail from an Interaction Queue or Workbin": placing it elsewhere is a transfer.
            st.end_irf(placer, ts, Result.TRANSFERRED)
    if role == "outbound":
        st.outbound_sent = True
    if role == "stop":
        st.terminated = True
    returned_by_server = actor is None
    if st.strategy is not None and (actor is None or actor == st.strategy.strategy_id):
        same_queue = st.strategy.queue == ev.get("queue_name")
        st.strategy = None
        if same_queue:
            returned_by_server = True
    if returned_by_server and st.stay is not None and st.stay.name == ev.get("queue_name"):
        # Back in the queue it was taken from after an unsuccessful attempt: one mediation, one MSF [D].
        st.fold_attempt()
        st.queue_ms -= (st.stay.end_ms or ts) - st.stay.start_ms
        st.stay.end_ms = None
        return
    st.begin_mediation(ts)
    kind = "Workbin" if workbin else "InteractionQueue"
    first_iq = not workbin and not st.first_iq_seen and not st.handled and st.ixn.interaction_type == "Inbound"
    if not workbin:
        st.first_iq_seen = True
    st.stay = MsfRow(
        natural_key=f"{st.ixn.interaction_id}|{kind}:{ev.get('queue_name')}|{ev['event_id']}",
        interaction_id=st.ixn.interaction_id,
        kind=kind,
        name=ev.get("queue_name") or "",
        start_ms=ts,
        attempt=st.attempt,
        queue_role=role,
        first_inbound_iq=first_iq,
        placed_by=placer.natural_key if placer else (st.last_handler.natural_key if st.last_handler else None),
    )
    st.msfs.append(st.stay)
    st.chain.append(st.stay)


def _taken(st: _State, ev: Mapping[str, Any], workbin: bool) -> None:
    ts, actor_type, actor = ev["ts_ms"], ev.get("actor_type"), ev.get("actor_id")
    holder = st.workbin_holder
    if workbin and holder is not None:
        # [D] hold "ends when any resource takes it out" of the own workbin.
        holder.hold_ms += ts - (holder.hold_since or ts)
        holder.hold_since, holder.workbin_hold, st.workbin_holder = None, None, None
        if actor == holder.party_id:
            st.connected[holder.party_id] = holder
            return
        st.end_irf(holder, ts, Result.TRANSFERRED)
    st.close_stay(ts)
    if actor_type == "Strategy":
        st.strategy = _Strategy(actor, ts, ev.get("queue_name"), ev.get("queue_role"))
        return
    if actor_type in ("Agent", "Place") and actor not in st.connected:
        # [D] an agent taking the interaction from a queue or workbin is a pull: role Puller.
        irf = st.new_irf(ev, actor_type, actor, Role.PULLER, **_mediation_kw(st, ts))
        st.connect(irf, ts)
        st.finish_mediation(irf, via_invite=False)


def _mediation_kw(st: _State, ts: int) -> dict[str, Any]:
    med = st.mediation_fields(ts)
    start = med["mediation_start_ms"] if med["mediation_start_ms"] is not None else ts
    return {
        "start_ms": start,
        "mediation_start_ms": med["mediation_start_ms"],
        "mediation_ms": med["mediation_ms"],
        "queue_ms": med["queue_ms"],
        "last_vq": med["last_vq"],
    }


def _vq_entered(st: _State, ev: Mapping[str, Any]) -> None:
    ts = ev["ts_ms"]
    st.begin_mediation(ts)
    msf = MsfRow(
        natural_key=f"{st.ixn.interaction_id}|VirtualQueue:{ev['vq']}|{ev['event_id']}",
        interaction_id=st.ixn.interaction_id,
        kind="VirtualQueue",
        name=ev["vq"],
        start_ms=ts,
        attempt=st.attempt,
    )
    st.vq_stays[ev["vq"]] = msf
    st.msfs.append(msf)
    st.chain.append(msf)


def _vq_left(st: _State, ev: Mapping[str, Any]) -> None:
    msf = st.vq_stays.pop(ev["vq"], None)
    if msf is None:
        st.rejected.append(Rejection(ev["event_id"], f"left virtual queue {ev['vq']!r} it never entered", "vq"))
        return
    msf.end_ms, msf.vq_outcome = ev["ts_ms"], ev.get("outcome")
    if msf.vq_outcome == "cleared":
        msf.result = Result.CLEARED
    elif msf.vq_outcome == "abandoned":
        msf.result = Result.ABANDONED
    else:
        st.last_vq = msf.name


def _invited(st: _State, ev: Mapping[str, Any]) -> None:
    ts, party = ev["ts_ms"], ev["party_id"]
    if ev.get("party_place"):
        st.place_of[party] = ev["party_place"]
    by_strategy = ev.get("actor_type") == "Strategy"
    role = _role_for_invitee(st, ev, by_strategy)
    extra: dict[str, Any]
    if by_strategy:
        # [D] "the routing is complete as soon as the agent is invited": the strategy leaves the interaction,
        # and the mediation (queue + strategy + VQ time) ends here for the invitee's IRF.
        if ev.get("vq"):
            st.last_vq = ev["vq"]
        st.strategy = None
        extra = {"invite_by_strategy": True, **_mediation_kw(st, ts)}
    else:
        # [D] "Agent transfers e-mail directly to another agent": the inviting agent stays until the target
        # accepts; the invitee's IRF starts with the invitation (ring).
        source = st.connected.get(ev.get("actor_id") or "")
        extra = {"received_from": source.natural_key if source else None}
    irf = st.new_irf(
        ev,
        ev["party_type"],
        party,
        role,
        invite_ms=ts,
        inviter_id=ev.get("actor_id"),
        invite_reason=ev.get("reason"),
        **extra,
    )
    if by_strategy:
        irf.mediation_chain = list(st.chain)
    st.invited[party] = irf


def _party_added(st: _State, ev: Mapping[str, Any]) -> None:
    ts, party = ev["ts_ms"], ev["party_id"]
    if ev.get("party_place"):
        st.place_of[party] = ev["party_place"]
    irf = st.invited.pop(party, None)
    if irf is not None:
        st.connect(irf, ts)
        if irf.invite_by_strategy:
            st.finish_mediation(irf, via_invite=True)
        elif irf.invite_reason == "transfer":
            # [D] "In the case of a transfer, the transfer does not occur until the target agent accepts."
            source = st.connected.get(irf.inviter_id or "") or st.leaving.get(irf.inviter_id or "")
            if source is not None:
                st.end_irf(source, ts, Result.TRANSFERRED)
        return
    if party in st.connected or (st.workbin_holder is not None and st.workbin_holder.party_id == party):
        return  # the pull already made it a party (EventTakenFrom* by the same agent)
    # An uninvited join is a pull [I]: the contract reports a pull as EventTakenFrom* + EventPartyAdded.
    st.close_stay(ts)
    irf = st.new_irf(ev, ev.get("party_type") or "Agent", party, Role.PULLER, **_mediation_kw(st, ts))
    st.connect(irf, ts)
    st.finish_mediation(irf, via_invite=False)


def _invitation_failed(st: _State, ev: Mapping[str, Any], reason: Reason) -> None:
    ts, party = ev["ts_ms"], ev["party_id"]
    irf = st.invited.get(party)
    if irf is None:
        st.rejected.append(
            Rejection(ev["event_id"], f"{ev['event']} for {party!r} who has no pending invitation", "party.id")
        )
        return
    if irf.invite_by_strategy:
        # [D] "Agent invited into e-mail interaction, and invitation revoked": RoutedTo/Redirected [Revoked];
        # the interaction returns to the queue for re-evaluation (another routing attempt).
        st.end_irf(irf, ts, Result.REDIRECTED, reason)
        st.begin_mediation(irf.mediation_start_ms if irf.mediation_start_ms is not None else ts)
    else:
        # [D] "Agent's attempt to transfer e-mail directly to another agent fails" and "Agent unsuccessfully
        # consults": ReceivedTransfer/Abandoned [Revoked], ReceivedConsult/Abandoned [Revoked].
        st.end_irf(irf, ts, Result.ABANDONED, reason)


def _party_removed(st: _State, ev: Mapping[str, Any]) -> None:
    party, ts = ev["party_id"], ev["ts_ms"]
    if st.workbin_holder is not None and st.workbin_holder.party_id == party:
        return  # parked in its own workbin: the IRF goes on as hold
    irf = st.connected.pop(party, None)
    if irf is not None:
        irf.end_ms = ts  # result decided by what explains the removal (placement, transfer) or Completed
        st.leaving[party] = irf
    elif party in st.invited:
        _invitation_failed(st, ev, Reason.UNSPECIFIED)


def _hold(st: _State, ev: Mapping[str, Any], on: bool) -> None:
    ts = ev["ts_ms"]
    irf = st.connected.get(ev.get("actor_id") or "")
    if irf is None and len(st.connected) == 1:
        irf = next(iter(st.connected.values()))
    if irf is None:
        return
    if on and irf.hold_since is None:
        irf.hold_since, irf.hold_count = ts, irf.hold_count + 1
    elif not on and irf.hold_since is not None:
        irf.hold_ms += ts - irf.hold_since
        irf.hold_since = None


def _stopped(st: _State, ev: Mapping[str, Any]) -> None:
    ts, actor = ev["ts_ms"], ev.get("actor_id")
    if st.ixn.end_ms is None:
        st.ixn.end_ms = ts
    outbound_unsent = st.ixn.interaction_type == "Outbound" and (ev.get("reason") or "sent") != "sent"
    result = Result.OUTBOUND_STOPPED if outbound_unsent else Result.COMPLETED
    strat = st.strategy
    if (
        strat is not None
        and not st.outbound_sent
        and not st.terminated
        and strat.queue_role not in ("outbound", "stop")
    ):
        # [D] autoresponse flow: a strategy that takes the interaction from a queue and stops it is a handling
        # resource (Puller/Completed) and its connected time is talk.
        irf = st.new_irf(ev, "Strategy", strat.strategy_id, Role.PULLER, **_mediation_kw(st, strat.since_ms))
        irf.connect_ms = strat.since_ms
        irf.mediation_ms = strat.since_ms - (irf.mediation_start_ms or strat.since_ms)
        st.handled = True
        st.finish_mediation(irf, via_invite=False)
        irf.stop_action = 1
        st.end_irf(irf, ts, Result.COMPLETED)
        st.strategy = None
    for irf in list(st.connected.values()) + list(st.leaving.values()):
        if irf.party_id == actor:
            irf.stop_action = 1
        st.end_irf(irf, irf.end_ms if irf.party_id in st.leaving else ts, result)
    if st.workbin_holder is not None:
        st.end_irf(st.workbin_holder, ts, result)
    for irf in list(st.invited.values()):
        st.end_irf(irf, ts, Result.REDIRECTED, Reason.UNSPECIFIED)
    # Stopped while waiting in mediation: the stays end abandoned [I] (GIM's MSF "abandoned in the DN").
    for msf in st.chain:
        if msf.end_ms is None:
            msf.end_ms = ts
        if msf.result == Result.UNSPECIFIED and not msf.folded:
            sent = st.outbound_sent or st.terminated
            msf.result = Result.DIVERTED if sent else Result.ABANDONED


_HANDLERS = {
    "EventInteractionSubmitted": _submitted,
    "EventPlacedInQueue": lambda st, ev: _placed(st, ev, workbin=False),
    "EventPlacedInWorkbin": lambda st, ev: _placed(st, ev, workbin=True),
    "EventTakenFromQueue": lambda st, ev: _taken(st, ev, workbin=False),
    "EventTakenFromWorkbin": lambda st, ev: _taken(st, ev, workbin=True),
    "EventVirtualQueueEntered": _vq_entered,
    "EventVirtualQueueLeft": _vq_left,
    "EventAgentInvited": _invited,
    "EventPartyAdded": _party_added,
    "EventRejected": lambda st, ev: _invitation_failed(st, ev, Reason.REJECTED),
    "EventRevoked": lambda st, ev: _invitation_failed(st, ev, Reason.REVOKED),
    "EventPartyRemoved": _party_removed,
    "EventHeld": lambda st, ev: _hold(st, ev, on=True),
    "EventResumed": lambda st, ev: _hold(st, ev, on=False),
    "EventProcessingStopped": _stopped,
}

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
            "EventPartyRemoved",
            "EventProcessingStopped",
        ]
    )
}


def derive_interaction(
    interaction_id: str, events: Iterable[Mapping[str, Any]], options: GimOptions
) -> InteractionFacts:
    """Walk one interaction's events (already sorted by ts, seq, EVENT_RANK) and derive its facts."""
    st = _State(ixn=InteractionRow(interaction_id), options=options)
    for ev in events:
        name = ev["event"]
        handler = _HANDLERS.get(name)
        if handler is None:
            continue  # EventPropertiesChanged and agent-state events carry no fact rule
        if st.ixn.start_ms is None and name != "EventInteractionSubmitted":
            st.rejected.append(
                Rejection(
                    ev["event_id"],
                    f"{name} for interaction {interaction_id!r} that was never submitted",
                    "interaction_id",
                )
            )
            continue
        if name == "EventInteractionSubmitted" and st.ixn.start_ms is not None:
            st.rejected.append(Rejection(ev["event_id"], f"interaction {interaction_id!r} submitted twice", "event"))
            continue
        if st.leaving and name not in ("EventPlacedInQueue", "EventPlacedInWorkbin", "EventPartyAdded"):
            st.resolve_leaving(ev["ts_ms"])
        st.last_ts = max(st.last_ts, ev["ts_ms"])
        handler(st, ev)
    st.resolve_leaving()
    st.ixn.last_event_ms = st.last_ts
    recorded = [m for m in st.msfs if msf_is_recorded(m, options)]
    for irf in st.irfs:
        irf.mediation_msf = _last_recorded(irf.mediation_chain, options)
    if st.terminated and st.ixn.end_ms is None:
        st.ixn.end_ms = st.last_ts
    return InteractionFacts(st.ixn, st.irfs, recorded, st.rejected)
