"""Interaction queues and workbins: placed in, taken from, and the own workbin as hold.

* E-mail flows ("Agent pulls e-mail from an Interaction Queue or Workbin", "Agent saves draft reply before
  sending", "Strategy routes e-mail to agent, and agent replies"):
  https://docs.genesys.com/Documentation/GIM/latest/User/GIMMMIxnFlow-Email
* Options: https://enu.docs.genesys.com/Options:Genesys_Info_Mart_ETL:gim-etl-populate:populate-workbin-as-hold
  and stop-ixn-queues (queues whose role is "stop")
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from etl.domain.descriptors import Result, Role
from etl.domain.rules.core import IrfRow, MsfRow, _State, _Strategy, register, span_ms
from etl.domain.rules.mediation import finish_mediation, fold_attempt


def is_own_workbin(st: _State, irf: IrfRow, ev: Mapping[str, Any]) -> bool:
    """[D] populate-workbin-as-hold: only the handling agent's or place's *own personal* workbin counts."""
    owner_type, owner_id = ev.get("queue_owner_type"), ev.get("queue_owner_id")
    if owner_type == "Agent":
        return owner_id == irf.party_id
    if owner_type == "Place":
        return owner_id is not None and owner_id == st.place_of.get(irf.party_id)
    return False


def _placed(st: _State, ev: Mapping[str, Any], workbin: bool) -> None:
    ts, actor = ev["ts_ms"], ev.get("actor_id")
    role = ev.get("queue_role")
    placer = st.connected.get(actor) or st.leaving.get(actor) if actor else None
    if placer is not None:
        if workbin and st.options.populate_workbin_as_hold and is_own_workbin(st, placer, ev):
            # [D] populate-workbin-as-hold: the time is hold on the placing resource's IRF, not mediation.
            placer.hold_since, placer.hold_count = ts, placer.hold_count + 1
            placer.workbin_hold = ev.get("queue_name")
            st.connected.pop(placer.party_id, None)
            st.leaving.pop(placer.party_id, None)
            st.workbin_holder = placer
            return
        _placer_leaves(st, placer, role, ts)
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
        fold_attempt(st)
        st.queue_ms -= span_ms(st.stay.start_ms, st.stay.end_ms or ts)
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


def _placer_leaves(st: _State, placer: IrfRow, role: str | None, ts: int) -> None:
    """The result of the resource that puts the interaction into a queue or (another's) workbin."""
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


def _taken(st: _State, ev: Mapping[str, Any], workbin: bool) -> None:
    ts, actor_type, actor = ev["ts_ms"], ev.get("actor_type"), ev.get("actor_id")
    holder = st.workbin_holder
    if workbin and holder is not None:
        # [D] hold "ends when any resource takes it out" of the own workbin.
        holder.hold_ms += span_ms(holder.hold_since or ts, ts)
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
        irf = st.new_irf(ev, actor_type, actor, Role.PULLER, **st.mediation_kw(ts))
        st.connect(irf, ts)
        finish_mediation(st, irf, via_invite=False)


def _terminated(st: _State) -> None:
    """[D] stop-ixn-queues: placed into a "stop" queue, the interaction ends (at its last event)."""
    if st.terminated and st.ixn.end_ms is None:
        st.ixn.end_ms = st.last_ts


register(
    {
        "EventPlacedInQueue": lambda st, ev: _placed(st, ev, workbin=False),
        "EventPlacedInWorkbin": lambda st, ev: _placed(st, ev, workbin=True),
        "EventTakenFromQueue": lambda st, ev: _taken(st, ev, workbin=False),
        "EventTakenFromWorkbin": lambda st, ev: _taken(st, ev, workbin=True),
    },
    _terminated,
)
