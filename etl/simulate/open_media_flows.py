"""Open media (workitems): third-party media types are offline by default, and GIM's e-mail flows are the guide for
offline interactions (https://docs.genesys.com/Documentation/GIM/latest/User/GIMMMIxnFlow-Email; new media types
"are transformed as offline interactions", https://docs.genesys.com/Documentation/PSAAS/latest/RPRT/Table-MEDIA_TYPE).
Listed in `online-media-types`, the same workitem follows the chat rules instead (tests/test_online_rules.py)."""

from __future__ import annotations

from etl.simulate.cast import Cast, Flow
from etl.simulate.scenario import Scenario


def workitem_routed(sc: Scenario, c: Cast) -> None:
    """A workitem (e.g. a back-office task) is routed through VQ1 to agent 1, who works it and completes it."""
    ixn = c.ix("IN")
    sc.inbound(ixn, c.iq1, media="workitem", user_data={"subject": "Address change", "ServiceType": "Support"})
    sc.wait(6 * c.t).strategy_takes(ixn, c.s1, c.iq1).vq_enter(ixn, "VQ1", c.s1)
    sc.wait(90 * c.t).route(ixn, c.a1, c.s1, "VQ1")
    sc.wait(12 * c.t).accept(ixn, c.a1)
    sc.wait(420 * c.t).stop(ixn, c.a1)


#: The open-media flow scripts, by name (also the flow's directory under fixtures/flows/).
OPEN_MEDIA_FLOWS: dict[str, Flow] = {f.__name__: f for f in (workitem_routed,)}
