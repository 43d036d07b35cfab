"""GIM's multimedia rules: one interaction's events in, its IRF and MSF rows out.

Each rule cites the GIM page it implements. "[D]" = documented there, "[I]" = our inference where the page is
silent (see ../shared/domain/gim.md). The main sources:

* E-mail flows: https://docs.genesys.com/Documentation/GIM/latest/User/GIMMMIxnFlow-Email (seed 000)
* IRF population: https://docs.genesys.com/Documentation/PSAAS/latest/RPRT/GIMPopIRF
* MSF population: https://docs.genesys.com/Documentation/PSAAS/latest/RPRT/GIMPopMSF
* Options: https://enu.docs.genesys.com/Options:Genesys_Info_Mart_ETL:gim-etl-populate:populate-workbin-as-hold

`core` holds the state machine (rows, state, handler table, `derive_interaction`); each topic module registers
the handlers of the events it explains:

* `routing`: submission, strategies, virtual queues, invitations, parties added and removed, hold;
* `transfers`: roles of creators and invitees, direct transfers and consultations;
* `workbins`: interaction queues and workbins, placed and taken, own workbin as hold, stop queues;
* `mediation`: which stays become MSFs, the end of a mediation, folding of failed routing attempts;
* `stopping`: processing stopped and the results it gives;
* `online`: the customer, bots and messages of online (chat) sessions.

A new topic is a new module calling `core.register` and one import below.
"""

from etl.domain.rules import (  # noqa: F401  (register handlers)
    mediation,
    online,
    routing,
    stopping,
    transfers,
    workbins,
)
from etl.domain.rules.core import (
    EVENT_RANK,
    InteractionFacts,
    InteractionRow,
    IrfRow,
    MsfRow,
    Rejection,
    RejectionKind,
    derive_interaction,
)
from etl.domain.rules.mediation import msf_is_recorded

__all__ = [
    "EVENT_RANK",
    "InteractionFacts",
    "InteractionRow",
    "IrfRow",
    "MsfRow",
    "Rejection",
    "RejectionKind",
    "derive_interaction",
    "msf_is_recorded",
]
