"""Processing stopped: the results of everybody still on the interaction, and strategies that stop it.

* E-mail flows ("E-mail interaction handled by a strategy with autoresponse", "Multipart e-mail reply with
  unsent reply"): https://docs.genesys.com/Documentation/GIM/latest/User/GIMMMIxnFlow-Email
* IRF population (STOP_ACTION, results): https://docs.genesys.com/Documentation/PSAAS/latest/RPRT/GIMPopIRF
* MSF population: https://docs.genesys.com/Documentation/PSAAS/latest/RPRT/GIMPopMSF
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from etl.domain.descriptors import Reason, Result, Role
from etl.domain.rules.core import _State, register
from etl.domain.rules.mediation import ended_in_mediation, finish_mediation
from etl.domain.rules.online import stopped as online_stopped
from etl.domain.rules.online import strategy_may_handle


def _stopped(st: _State, ev: Mapping[str, Any]) -> None:
    ts, actor = ev["ts_ms"], ev.get("actor_id")
    if st.ixn.end_ms is None:
        st.ixn.end_ms = ts
    outbound_unsent = st.ixn.interaction_type == "Outbound" and (ev.get("reason") or "sent") != "sent"
    result = Result.OUTBOUND_STOPPED if outbound_unsent else Result.COMPLETED
    online_stopped(st, ev)  # an abandoned online interaction: its abandonment facts (etl.domain.rules.online)
    strat = st.strategy
    # Nobody has the interaction when it stops: no one connected, leaving, inviting or holding it in a workbin.
    unattended = not (st.connected or st.leaving or st.invited or st.workbin_holder is not None)
    # [D] the autoresponse rule is about a strategy stopping the interaction itself; a stop by someone else (a media
    # server discarding it) while a strategy holds it leaves the strategy a mediation resource.
    by_strategy = ev.get("actor_type") in (None, "Strategy")
    strategy_handled = False
    if (
        strat is not None
        and by_strategy
        and strategy_may_handle(st, ev)
        and not st.outbound_sent
        and not st.terminated
        and strat.queue_role not in ("outbound", "stop")
    ):
        # [D] autoresponse flow: a strategy that takes the interaction from a queue and stops it is a handling
        # resource (Puller/Completed) and its connected time is talk.
        irf = st.new_irf(ev, "Strategy", strat.strategy_id, Role.PULLER, **st.mediation_kw(strat.since_ms))
        irf.connect_ms = strat.since_ms
        irf.mediation_ms = strat.since_ms - (irf.mediation_start_ms or strat.since_ms)
        st.handled = True
        finish_mediation(st, irf, via_invite=False)
        irf.stop_action = 1
        st.end_irf(irf, ts, Result.COMPLETED)
        st.strategy = None
        strategy_handled = True
    for irf in list(st.connected.values()) + list(st.leaving.values()):
        if irf.party_id == actor:
            irf.stop_action = 1
        st.end_irf(irf, irf.end_ms if irf.party_id in st.leaving else ts, result)
    if st.workbin_holder is not None:
        st.end_irf(st.workbin_holder, ts, result)
    for irf in list(st.invited.values()):
        st.end_irf(irf, ts, Result.REDIRECTED, Reason.UNSPECIFIED)
    # Stopped while waiting in mediation with no one handling it: the IRF is kept on the mediation resource.
    stays = [m for m in st.chain if not m.folded]
    ended_waiting = unattended and not strategy_handled and st.mediation_start is not None
    if ended_waiting and stays and not (st.outbound_sent or st.terminated or st.session.abandonment_done):
        ended_in_mediation(st, ev, ts, stays, Reason.UNSPECIFIED)
    # Stopped while waiting in mediation: the stays end abandoned [I] (GIM's MSF "abandoned in the DN").
    for msf in st.chain:
        if msf.end_ms is None:
            msf.end_ms = ts
        if msf.result == Result.UNSPECIFIED and not msf.folded:
            sent = st.outbound_sent or st.terminated
            msf.result = Result.DIVERTED if sent else Result.ABANDONED


register({"EventProcessingStopped": _stopped})
