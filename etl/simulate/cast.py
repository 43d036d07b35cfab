"""Who plays a documented flow: the ids and time scale a flow script is run with (etl.simulate.flows for e-mail,
etl.simulate.chat_flows for chat). Varying them proves the rules depend on neither names nor the clock."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from etl.simulate.scenario import Scenario


@dataclass(frozen=True)
class Cast:
    """Ids used by a flow run; vary them to prove the rules do not depend on names."""

    p: str = ""  # interaction id prefix
    a1: str = "agent1"
    a2: str = "agent2"
    s1: str = "Strategy1"
    s2: str = "Strategy2"
    iq1: str = "Inbound"
    iq2: str = "Queue2"
    t: float = 1.0  # time scale

    def ix(self, name: str) -> str:
        return f"{self.p}{name}"

    @property
    def contact(self) -> str:
        """The customer of an online flow (one per interaction prefix)."""
        return f"{self.p}contact"


#: A flow script: appends one documented flow's events to the scenario, played by the cast.
Flow = Callable[[Scenario, Cast], None]


def cast_ids(c: Cast) -> dict[str, str]:
    """Cast role (as documented.yaml names it) -> resource name, for the IRF resources a flow can have: agents,
    strategies and, where a chat ends in mediation, the interaction queues."""
    return {"a1": c.a1, "a2": c.a2, "s1": c.s1, "s2": c.s2, "iq1": c.iq1, "iq2": c.iq2}


def queue_names(c: Cast) -> dict[str, str]:
    return {"Inbound": c.iq1, "Queue2": c.iq2}
