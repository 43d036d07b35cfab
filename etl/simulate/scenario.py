"""Agent and strategy operations written as contract events (../shared/contract/events.md).

The operations mirror the agent desktop operations of the Web Services API (seeds 001/003: Accept, Reject,
Reply, Forward, Transfer, PlaceInQueue, PlaceInWorkbin, Send, CancelReply, StopProcessing, pull) and the
routing strategy's moves. Each operation appends the events Interaction Server reports for it, in the order
of the Genesys Events and Models Reference (e.g. "Place in queue": EventPlacedInQueue then EventPartyRemoved).
Golden fixtures, property tests, the sample day and the load generator are all written with it, so the event
grammar the rules assume lives in one place.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def iso(ts_ms: int) -> str:
    """Contract timestamp: ISO-8601 UTC with milliseconds."""
    dt = EPOCH + timedelta(milliseconds=ts_ms)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ts_ms % 1000:03d}Z"


def parse_iso(text: str) -> int:
    dt = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return int((dt - EPOCH).total_seconds() * 1000)


def agent(agent_id: str, **extra: Any) -> dict[str, Any]:
    return {"type": "Agent", "id": agent_id, **extra}


def strategy(strategy_id: str) -> dict[str, Any]:
    return {"type": "Strategy", "id": strategy_id}


def queue(name: str, role: str | None = None) -> dict[str, Any]:
    q: dict[str, Any] = {"type": "InteractionQueue", "name": name}
    if role:
        q["role"] = role
    return q


def workbin(name: str, owner_id: str, owner_type: str = "Agent", workbin_type: str = "Draft") -> dict[str, Any]:
    return {
        "type": "Workbin",
        "name": name,
        "owner": {"type": owner_type, "id": owner_id},
        "workbin_type": workbin_type,
    }


MEDIA_SERVER = {"type": "MediaServer", "id": "EmailServer"}
CHAT_SERVER = {"type": "MediaServer", "id": "ChatServer"}


def customer(contact_id: str, name: str | None = None) -> dict[str, Any]:
    """The contact of an online session (contract 1.1 `Customer` party: never a resource)."""
    return {"type": "Customer", "id": contact_id, **({"name": name} if name else {})}


def bot(bot_id: str) -> dict[str, Any]:
    """An automated participant (contract 1.1 `Bot` party: never a resource)."""
    return {"type": "Bot", "id": bot_id}


OUTBOUND_QUEUE = queue("Outbound", role="outbound")


@dataclass
class Scenario:
    """A clock plus an event list. Every operation advances nothing by itself: call `wait` between steps."""

    start: str = "2026-03-02T09:00:00.000Z"
    prefix: str = ""
    events: list[dict[str, Any]] = field(default_factory=list)
    now_ms: int = 0
    _n: int = 0
    seq: bool = True

    def __post_init__(self) -> None:
        if not self.now_ms:
            self.now_ms = parse_iso(self.start)

    # -- clock and emission --------------------------------------------------------------------------
    def wait(self, seconds: float) -> Scenario:
        self.now_ms += int(seconds * 1000)
        return self

    def emit(self, event: str, ixn: str, **fields: Any) -> dict[str, Any]:
        self._n += 1
        ev: dict[str, Any] = {"event_id": f"{self.prefix}e{self._n}", "event": event, "ts": iso(self.now_ms)}
        if self.seq:
            ev["seq"] = self._n
        ev["interaction_id"] = ixn
        ev.update({k: v for k, v in fields.items() if v is not None})
        self.events.append(ev)
        return ev

    # -- interactions arriving or being created ------------------------------------------------------
    def inbound(
        self, ixn: str, q: str = "Inbound", subtype: str = "InboundNew", media: str = "email", **attrs: Any
    ) -> Scenario:
        """A media server submits a new inbound interaction into an interaction queue."""
        qd = queue(q)
        self.emit(
            "EventInteractionSubmitted",
            ixn,
            media_type=media,
            interaction_type="Inbound",
            interaction_subtype=subtype,
            actor=MEDIA_SERVER,
            queue=qd,
            **attrs,
        )
        self.emit("EventPlacedInQueue", ixn, queue=qd, actor=MEDIA_SERVER)
        return self

    def create(
        self,
        ixn: str,
        by: dict[str, Any],
        parent: str | None = None,
        itype: str = "Outbound",
        subtype: str = "OutboundReply",
        media: str = "email",
        **attrs: Any,
    ) -> Scenario:
        """An agent or strategy creates an interaction (Reply, ReplyAll, Forward, CreateEmail, consult)."""
        self.emit(
            "EventInteractionSubmitted",
            ixn,
            media_type=media,
            interaction_type=itype,
            interaction_subtype=subtype,
            parent_id=parent,
            actor=by,
            **attrs,
        )
        return self

    # -- routing strategy ----------------------------------------------------------------------------
    def strategy_takes(self, ixn: str, strat: str, q: str = "Inbound", role: str | None = None) -> Scenario:
        self.emit("EventTakenFromQueue", ixn, queue=queue(q, role), actor=strategy(strat))
        return self

    def vq_enter(self, ixn: str, vq: str, strat: str) -> Scenario:
        self.emit("EventVirtualQueueEntered", ixn, vq=vq, actor=strategy(strat))
        return self

    def vq_leave(self, ixn: str, vq: str, strat: str, outcome: str = "routed", target: str | None = None) -> Scenario:
        self.emit(
            "EventVirtualQueueLeft",
            ixn,
            vq=vq,
            actor=strategy(strat),
            outcome=outcome,
            target=agent(target) if target else None,
        )
        return self

    def route(self, ixn: str, to: str, strat: str, vq: str | None = None) -> Scenario:
        """The strategy invites the agent; routing is complete at the invitation (GIM e-mail flows)."""
        self.emit("EventAgentInvited", ixn, party=agent(to), actor=strategy(strat), reason="route", vq=vq)
        if vq:
            self.vq_leave(ixn, vq, strat, "routed", to)
        return self

    def strategy_requeues(self, ixn: str, strat: str, q: str = "Inbound") -> Scenario:
        self.emit("EventPlacedInQueue", ixn, queue=queue(q), actor=strategy(strat))
        return self

    def send_out(self, ixn: str, strat: str = "OutboundStrategy", q: dict[str, Any] | None = None) -> Scenario:
        """The outbound strategy takes the e-mail from the outbound queue and sends it out."""
        qd = q or OUTBOUND_QUEUE
        self.emit("EventTakenFromQueue", ixn, queue=qd, actor=strategy(strat))
        self.wait(1)
        self.emit("EventProcessingStopped", ixn, actor=strategy(strat), reason="sent")
        return self

    # -- agent desktop operations --------------------------------------------------------------------
    def attach(self, ixn: str, **user_data: Any) -> Scenario:
        """The desktop (or a strategy) changes attached data: EventPropertiesChanged (a None value deletes)."""
        self.emit("EventPropertiesChanged", ixn, user_data=user_data)
        return self

    def accept(self, ixn: str, who: str, reason: str = "route") -> Scenario:
        self.emit("EventPartyAdded", ixn, party=agent(who), reason=reason)
        return self

    def reject(self, ixn: str, who: str, back_to: str | None = "Inbound") -> Scenario:
        self.emit("EventRejected", ixn, party=agent(who))
        if back_to:
            self.emit("EventPlacedInQueue", ixn, queue=queue(back_to))
        return self

    def revoke(self, ixn: str, who: str, back_to: str | None = "Inbound") -> Scenario:
        """The invitation times out (delivering-timeout); a routed interaction returns to its queue."""
        self.emit("EventRevoked", ixn, party=agent(who))
        if back_to:
            self.emit("EventPlacedInQueue", ixn, queue=queue(back_to))
        return self

    def invite(self, ixn: str, frm: str, to: str, reason: str = "transfer") -> Scenario:
        """Transfer/consult directly to another agent: the inviter stays until the target accepts."""
        self.emit("EventAgentInvited", ixn, party=agent(to), actor=agent(frm), reason=reason)
        return self

    def transfer_accepted(self, ixn: str, frm: str, to: str) -> Scenario:
        self.emit("EventPartyAdded", ixn, party=agent(to), reason="transfer")
        self.emit("EventPartyRemoved", ixn, party=agent(frm), reason="transfer")
        return self

    def leave(self, ixn: str, who: str) -> Scenario:
        self.emit("EventPartyRemoved", ixn, party=agent(who))
        return self

    def place_in_queue(self, ixn: str, who: str, q: dict[str, Any] | str) -> Scenario:
        qd = queue(q) if isinstance(q, str) else q
        self.emit("EventPlacedInQueue", ixn, queue=qd, actor=agent(who))
        self.emit("EventPartyRemoved", ixn, party=agent(who))
        return self

    def place_in_workbin(self, ixn: str, who: str, wb: dict[str, Any]) -> Scenario:
        self.emit("EventPlacedInWorkbin", ixn, queue=wb, actor=agent(who))
        self.emit("EventPartyRemoved", ixn, party=agent(who))
        return self

    def pull_from_queue(self, ixn: str, who: str, q: str | dict[str, Any]) -> Scenario:
        qd = queue(q) if isinstance(q, str) else q
        self.emit("EventTakenFromQueue", ixn, queue=qd, actor=agent(who))
        self.emit("EventPartyAdded", ixn, party=agent(who), reason="pull")
        return self

    def pull_from_workbin(self, ixn: str, who: str, wb: dict[str, Any]) -> Scenario:
        self.emit("EventTakenFromWorkbin", ixn, queue=wb, actor=agent(who))
        self.emit("EventPartyAdded", ixn, party=agent(who), reason="pull")
        return self

    def send(self, ixn: str, who: str) -> Scenario:
        """Send: the agent puts the outbound e-mail into the outbound queue."""
        return self.place_in_queue(ixn, who, OUTBOUND_QUEUE)

    def stop(self, ixn: str, who: dict[str, Any] | str | None, reason: str | None = None) -> Scenario:
        actor = agent(who) if isinstance(who, str) else who
        self.emit("EventProcessingStopped", ixn, actor=actor, reason=reason)
        return self

    def hold(self, ixn: str, who: str) -> Scenario:
        self.emit("EventHeld", ixn, actor=agent(who))
        return self

    def resume(self, ixn: str, who: str) -> Scenario:
        self.emit("EventResumed", ixn, actor=agent(who))
        return self

    # -- online sessions (contract 1.1) ---------------------------------------------------------------
    def chat_submitted(self, ixn: str, q: str, contact: str, **attrs: Any) -> Scenario:
        """The Chat Server opens a session for interaction queue `q` and the customer joins it."""
        self.emit(
            "EventInteractionSubmitted",
            ixn,
            media_type="chat",
            interaction_type="Inbound",
            interaction_subtype="InboundNew",
            actor=CHAT_SERVER,
            queue=queue(q),
            **attrs,
        )
        self.emit("EventPartyAdded", ixn, party=customer(contact))
        return self

    def chat_inbound(self, ixn: str, q: str, contact: str, **attrs: Any) -> Scenario:
        """A session opens and the chat waits in the interaction queue."""
        self.chat_submitted(ixn, q, contact, **attrs)
        self.emit("EventPlacedInQueue", ixn, queue=queue(q), actor=CHAT_SERVER)
        return self

    def message(self, ixn: str, party: dict[str, Any], length: int | None = None) -> Scenario:
        """One message in the session, written by the customer, an agent, a bot or the system."""
        self.emit("EventChatMessage", ixn, party=party, length=length)
        return self

    def customer_leaves(self, ixn: str, contact: str) -> Scenario:
        """The customer closes the chat window after being served."""
        self.emit("EventPartyRemoved", ixn, party=customer(contact))
        return self

    def customer_abandons(self, ixn: str, contact: str, vq: str | None = None, strat: str | None = None) -> Scenario:
        """The customer leaves before any agent is connected; a strategy waiting in `vq` clears it and the Chat
        Server stops the unanswered chat (its `stop-abandoned-interaction`)."""
        self.emit("EventPartyRemoved", ixn, party=customer(contact), reason="abandoned")
        if vq and strat:
            self.vq_leave(ixn, vq, strat, "abandoned")
        self.emit("EventProcessingStopped", ixn, actor=CHAT_SERVER, reason="abandoned")
        return self

    def bot_joins(self, ixn: str, bot_id: str) -> Scenario:
        self.emit("EventPartyAdded", ixn, party=bot(bot_id))
        return self

    def bot_leaves(self, ixn: str, bot_id: str) -> Scenario:
        self.emit("EventPartyRemoved", ixn, party=bot(bot_id))
        return self

    # -- output --------------------------------------------------------------------------------------
    def write_ndjson(self, path: Path, events: list[dict[str, Any]] | None = None) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("w", encoding="utf-8") as fh:
            for ev in events if events is not None else self.events:
                fh.write(json.dumps(ev, separators=(",", ":")) + "\n")
        return path
