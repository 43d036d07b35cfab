"""Mediation: which stays become MSFs, how a mediation ends, and how failed routing attempts fold together.

* MSF population: https://docs.genesys.com/Documentation/PSAAS/latest/RPRT/GIMPopMSF
* E-mail flows ("Routing strategy repeatedly fails to find a target"):
  https://docs.genesys.com/Documentation/GIM/latest/User/GIMMMIxnFlow-Email
* Options: https://enu.docs.genesys.com/Options:Genesys_Info_Mart_ETL:gim-etl-populate:populate-mm-ixnqueue-facts,
  populate-mm-workbin-facts
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from etl.domain.descriptors import Reason, Result, Role
from etl.domain.options import GimOptions
from etl.domain.rules.core import IrfRow, MsfRow, _State, register


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


def fold_attempt(st: _State) -> None:
    """[D] "Routing strategy repeatedly fails to find a target": all unsuccessful attempts to select an
    agent are combined into one mediation (the queue's MSF); only the last attempt keeps its VQ MSF."""
    for msf in st.chain:
        if msf.kind == "VirtualQueue" and msf.attempt == st.attempt:
            msf.folded = True
    st.attempt += 1


def finish_mediation(st: _State, target: IrfRow, via_invite: bool) -> None:
    """The mediation chain led to `target`; each stay learns its result towards that target."""
    for msf in st.chain:
        if msf.folded:
            continue
        msf.target = target.natural_key
        if msf.end_ms is None:
            msf.end_ms = target.invite_ms if target.invite_ms is not None else target.connect_ms
        if msf.kind == "VirtualQueue":
            if msf.vq_outcome in (None, "routed"):
                msf.result, msf.result_reason = Result.DIVERTED, Reason.ANSWERED_BY_AGENT
                # [D] GIMPopMSF: a stay that ends by distribution "includes the time until the target answers":
                # the VQ MSF ends when the invited agent accepts, not when the strategy leaves the VQ at the
                # invitation (https://docs.genesys.com/Documentation/PSAAS/latest/RPRT/GIMPopMSF).
                if via_invite and target.connect_ms is not None:
                    msf.end_ms = target.connect_ms
        elif via_invite:
            msf.result, msf.result_reason = Result.DIVERTED, Reason.ANSWERED_BY_AGENT
        else:
            msf.result = Result.PULLED
    target.mediation_chain = list(st.chain)
    st.mediation_start, st.chain, st.queue_ms, st.stay, st.last_vq = None, [], 0, None, None
    st.vq_stays.clear()


def ended_in_mediation(st: _State, ev: Mapping[str, Any], ts: int, stays: list[MsfRow], reason: Reason) -> None:
    """The interaction ended while a queue or VQ held it and no resource handled it: its IRF is kept on that
    mediation resource ("IRF resources include ... mediation resources in which the IRF ends in mediation (such as
    queues, routing points)", https://docs.genesys.com/Documentation:PSAAS:RPRT:Table-INTERACTION_RESOURCE_FACT:Public)
    with the stays' result: Received/Abandoned, [AbandonedWhileQueued] when an online customer left. The resource is
    an open VQ stay, else the last stay; never a stop or outbound queue (they end processing, GIMMultimedia)."""
    open_vqs = [m for m in st.vq_stays.values() if m.end_ms is None]
    where = open_vqs[-1] if open_vqs else stays[-1]
    if where.queue_role in ("stop", "outbound"):
        return
    irf = st.new_irf(ev, where.kind, where.name, Role.RECEIVED, **st.mediation_kw(ts))
    irf.mediation_end_ms = ts
    irf.mediation_chain = list(st.chain)
    for msf in stays:
        if msf.end_ms is None:
            msf.end_ms = ts
        if msf.result in (Result.UNSPECIFIED, Result.ABANDONED):
            msf.result, msf.result_reason = Result.ABANDONED, reason
        msf.target = irf.natural_key
    st.end_irf(irf, ts, Result.ABANDONED, reason)


def _record(st: _State) -> None:
    """After the last event: keep the recorded stays, and link each IRF to the last recorded stay before it."""
    options = st.options
    st.msfs = [m for m in st.msfs if msf_is_recorded(m, options)]
    for irf in st.irfs:
        recorded = [m for m in irf.mediation_chain if msf_is_recorded(m, options)]
        irf.mediation_msf = recorded[-1].natural_key if recorded else None


register({}, _record)
