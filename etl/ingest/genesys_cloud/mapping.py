"""A repaired Genesys Cloud conversation (`normalise.Conv`) → contract events (../shared/contract/events.md), as
rows of the normalized event frame (`etl.ingest.columns.EVENT_SCHEMA`), so that GIM's rules derive its facts.

The mapping (../shared/domain/genesys_cloud.md §4.5; README "Genesys Cloud"):

* the conversation is one interaction, `interaction_id` = conversationId (INTERACTION_FACT.MEDIA_SERVER_IXN_GUID);
  submitted at conversationStart by the media server, or — outbound — by the agent who dials (Initiated);
* an `acd` session is a stay in a virtual queue named by its queueId: entered at the session's start, left at its
  end (routed / abandoned / cleared). GIM's VQ MSF runs "until the target answers"
  (https://docs.genesys.com/Documentation/PSAAS/latest/RPRT/GIMPopMSF), the same grain as Genesys' tAcd (the acd
  segment ends when the agent answers, §4.2), so the MSF duration is tAcd; abandoned in queue is tAbandon;
* an `agent` session (or a `user` session that was alerted) is an IRF of the agent (RESOURCE_NAME = userId):
  `alert` → EventAgentInvited (ring = tAlert), the next segment → EventPartyAdded, an alert-only session that
  ended → EventRevoked (tNotResponding: RoutedTo/Redirected [Revoked], GIMMMIxnFlow-Email "Agent invited into
  e-mail interaction, and invitation revoked"), `hold` → EventHeld / EventResumed (tHeld), the end of the last
  handling segment → EventPartyRemoved with the disconnectType as reason, `wrapup` → EventPropertiesChanged with
  the wrap-up code (and note) as user data;
* transfers: an invitation that follows an agent's session ended by a transfer-type disconnectType is that
  agent's (reason `transfer`, `conference` for conference segments); through a queue, the agent places the
  interaction into the queue (Transferred; GIMMMIxnFlow-Email "Transfer of e-mail from agent to agent through
  a queue");
* conversationEnd → EventProcessingStopped.

Every event id is `gc:<conversationId>:<participantId>:<sessionId>:<segment index>:<kind>`: deterministic, so a
re-read of the same snapshot is a duplicate, and IRF.PARTYGUID (the id of the event that created the IRF) traces a
fact back to its segment. `seq` orders events with equal timestamps by the rules' needs.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from etl.ingest.genesys_cloud.normalise import Conv, Part, Seg, Sess

#: The actor of Genesys Cloud's ACD routing (no Architect flow names in detail records).
ACD_STRATEGY = "GenesysCloudACD"
MEDIA_SERVER = "GenesysCloud"
TRANSFER_DISCONNECTS = frozenset(
    {"transfer", "conferenceTransfer", "consultTransfer", "forwardTransfer", "noAnswerTransfer",
     "notAvailableTransfer", "dndTransfer"}
)  # fmt: skip
#: How long after a transferring agent's end its transfer may still show up as the next session's start.
TRANSFER_WINDOW_MS = 2000
HANDLER_PURPOSES = frozenset({"agent", "user"})

#: Order of events with equal timestamps (contract: `seq` breaks ties).
_ORDER = {
    "EventInteractionSubmitted": 0,
    "EventVirtualQueueEntered": 2,
    "EventAgentInvited": 3,
    "EventRevoked": 4,
    "EventPartyAdded": 5,
    "EventVirtualQueueLeft": 4,  # before the answer that ends the stay (finish_mediation closes the chain)
    "EventHeld": 7,
    "EventResumed": 7,
    "EventPropertiesChanged": 8,
    "EventPartyRemoved": 9,
    "EventPlacedInQueue": 10,
    "EventProcessingStopped": 11,
}


@dataclass(slots=True)
class _Handling:
    """An agent session as the mapping sees it."""

    part: Part
    sess: Sess
    agent: str
    alert: Seg | None
    connect_ms: int | None  # None: never answered
    end_ms: int | None  # end of the last handling segment (wrap-up excluded); None while it goes on
    end_disconnect: str | None


def _agent_id(part: Part, notes: Counter[str]) -> str:
    if part.user_id:
        return part.user_id
    notes["agent participant without userId: participantId is the resource"] += 1
    return part.id


def _media(conv: Conv) -> str:
    """The interaction's media: its first session's (a message's messageType, e.g. sms, webmessaging)."""
    first = min((s for p in conv.participants for s in p.sessions), key=lambda s: s.start)
    if first.media == "message" and first.message_type:
        return first.message_type.lower()
    return first.media


def map_conversation(conv: Conv, names: Mapping[str, str] | None = None) -> list[dict[str, Any]]:
    """The contract events of one conversation, as EVENT_SCHEMA rows (lineage columns left to the caller);
    `names`: display names of users (userId → name). Notes go to `conv.notes`."""
    return _Mapper(conv, names or {}).rows()


class _Mapper:
    """One conversation's events, built by its queues, then its agents (see the module docstring)."""

    def __init__(self, conv: Conv, names: Mapping[str, str]) -> None:
        self.conv, self.names, self.notes = conv, names, conv.notes
        self.out: list[dict[str, Any]] = []
        self.acds = [(p, s) for p in conv.participants if p.purpose == "acd" for s in p.sessions]
        self.handlings = self._handlings()
        self.outbound = conv.direction == "outbound"
        self.initiator = next((h for h in self.handlings if self.outbound and h.alert is None), None)

    def rows(self) -> list[dict[str, Any]]:
        self._submit()
        self._queues()
        for h in self.handlings:
            self._agent(h)
        if self.conv.end is not None:
            self.emit("EventProcessingStopped", self.conv.end, None, None, "-", "ended")
        self.out.sort(key=lambda r: (r["ts_ms"], _ORDER[r["event"]]))
        for i, r in enumerate(self.out):
            r["seq"] = i
        return self.out

    def emit(self, event: str, ts: int, part: Part | None, sess: Sess | None, seg: int | str, kind: str,
             **f: Any) -> None:  # fmt: skip
        pid, sid = (part.id, sess.id) if part and sess else ("-", "-")
        cid = self.conv.id
        self.out.append({"event_id": f"gc:{cid}:{pid}:{sid}:{seg}:{kind}", "event": event, "ts_ms": ts,
                         "interaction_id": cid, **f})  # fmt: skip

    def agent_party(self, agent: str, prefix: str) -> dict[str, Any]:
        return {f"{prefix}_type": "Agent", f"{prefix}_id": agent, f"{prefix}_name": self.names.get(agent)}

    def _handlings(self) -> list[_Handling]:
        found: list[_Handling] = []
        for p in self.conv.participants:
            if p.purpose not in HANDLER_PURPOSES:
                continue
            for s in p.sessions:
                alerted = s.segments[0].kind == "alert"
                if p.purpose == "user" and not alerted:
                    continue  # a user who dials in is the caller, not a handling resource
                work = [g for g in s.segments if g.kind != "wrapup"]
                if not work:
                    continue
                after = work[1:] if alerted else work
                connect = after[0].start if after else None
                last = work[-1]
                found.append(
                    _Handling(
                        p,
                        s,
                        _agent_id(p, self.notes),
                        work[0] if alerted else None,
                        connect,
                        last.end if connect is not None else None,
                        last.disconnect,
                    )  # fmt: skip
                )
        return sorted(found, key=lambda h: h.sess.start)

    def _submit(self) -> None:
        conv = self.conv
        first_part = min(conv.participants, key=lambda p: p.sessions[0].start)
        first_sess = first_part.sessions[0]
        user_data = {"GCConversationId": conv.id}
        if conv.division:
            user_data["GCDivisionId"] = conv.division
        submitted: dict[str, Any] = {
            "media_type": _media(conv),
            "interaction_type": "Outbound" if self.outbound else "Inbound",
            "interaction_subtype": "OutboundNew" if self.outbound else "InboundNew",
            "user_data": json.dumps(user_data, separators=(",", ":")),
        }
        if self.initiator is not None:  # the agent who dials holds the new interaction (contract: Initiated)
            h = self.initiator
            submitted |= self.agent_party(h.agent, "actor")
            self.emit("EventInteractionSubmitted", conv.start, h.part, h.sess, 0, "submitted", **submitted)
        else:
            submitted |= {"actor_type": "MediaServer", "actor_id": first_sess.provider or MEDIA_SERVER}
            self.emit("EventInteractionSubmitted", conv.start, first_part, first_sess, 0, "submitted", **submitted)

    def transferrer(self, ts: int) -> _Handling | None:
        """The agent whose session ended by a transfer just before (or at) `ts`."""
        found = [
            h for h in self.handlings
            if h.end_ms is not None and h.end_disconnect in TRANSFER_DISCONNECTS
            and h.end_ms - TRANSFER_WINDOW_MS <= ts <= h.end_ms + TRANSFER_WINDOW_MS
        ]  # fmt: skip
        return max(found, key=lambda h: h.end_ms or 0) if found else None

    def acd_at(self, ts: int) -> tuple[Part, Sess] | None:
        """The acd session the interaction is queued in at `ts` (the latest one that started)."""
        open_ = [
            (p, s) for p, s in self.acds if s.start <= ts and (s.end is None or ts <= s.end + TRANSFER_WINDOW_MS)
        ]  # fmt: skip
        return max(open_, key=lambda ps: ps[1].start) if open_ else None

    @staticmethod
    def queue_of(part: Part, sess: Sess) -> str:
        return next((g.queue_id for g in sess.segments if g.queue_id), None) or part.name or part.id

    def _queues(self) -> None:
        answered_from: dict[str, int] = {}  # acd session id -> when its agent answered
        for h in self.handlings:
            if h.alert is not None and h.connect_ms is not None:
                acd = self.acd_at(h.alert.start)
                if acd is not None:
                    answered_from.setdefault(acd[1].id, h.connect_ms)
        strategy = {"actor_type": "Strategy", "actor_id": ACD_STRATEGY}
        for p, s in self.acds:
            vq = self.queue_of(p, s)
            placer = self.transferrer(s.start)
            if placer is not None and placer.end_ms is not None:
                self.emit("EventPlacedInQueue", placer.end_ms, p, s, 0, "placed", queue_type="InteractionQueue",
                          queue_name=vq, **self.agent_party(placer.agent, "actor"))  # fmt: skip
            self.emit("EventVirtualQueueEntered", s.start, p, s, 0, "vq-entered", vq=vq, **strategy)
            if s.end is None:
                continue
            left = s.end
            if s.id in answered_from:
                outcome = "routed"
                # the VQ is left by the answer, also when the acd segment ends a few ms after it: the VQ MSF runs
                # until the agent answers (GIMPopMSF)
                left = min(left, answered_from[s.id])
            elif s.segments[-1].disconnect in TRANSFER_DISCONNECTS:
                outcome = "cleared"  # flow-out: transferred on without an agent answering
            else:
                outcome = "abandoned"  # the customer left while queued (tAbandon)
            self.emit("EventVirtualQueueLeft", left, p, s, len(s.segments) - 1, "vq-left", vq=vq, outcome=outcome,
                      **strategy)  # fmt: skip

    def _invite(self, h: _Handling, alert: Seg, party: dict[str, Any]) -> None:
        invite_ts = alert.start
        acd = self.acd_at(invite_ts)
        source = None if acd is not None else self.transferrer(invite_ts)
        invite: dict[str, Any] = {**party, "reason": "route"}
        if acd is not None:
            invite |= {"actor_type": "Strategy", "actor_id": ACD_STRATEGY, "vq": self.queue_of(*acd)}
        elif source is not None and source.agent != h.agent:
            invite |= self.agent_party(source.agent, "actor")
            invite["reason"] = "conference" if alert.conference else "transfer"
            if source.end_ms is not None and invite_ts > source.end_ms:
                self.notes["transfer invitation dated at the transferring agent's end"] += 1
                invite_ts = source.end_ms
        else:
            invite |= {"actor_type": "Strategy", "actor_id": ACD_STRATEGY}
        self.emit("EventAgentInvited", invite_ts, h.part, h.sess, alert.index, "alert", **invite)

    def _agent(self, h: _Handling) -> None:
        p, s, agent = h.part, h.sess, h.agent
        party = self.agent_party(agent, "party")
        if h.alert is not None:
            self._invite(h, h.alert, party)
            if h.connect_ms is not None:
                self.emit("EventPartyAdded", h.connect_ms, p, s, h.alert.index, "answered", **party)
            elif h.alert.end is not None:
                self.emit("EventRevoked", h.alert.end, p, s, h.alert.index, "not-responding", **party)
                return
            else:
                return  # still alerting
        elif h is not self.initiator:
            self.emit("EventPartyAdded", s.start, p, s, s.segments[0].index, "joined", **party)
        actor = self.agent_party(agent, "actor")
        for g in s.segments:
            if g.kind == "hold":
                self.emit("EventHeld", g.start, p, s, g.index, "hold", **actor)
                if g.end is not None:
                    self.emit("EventResumed", g.end, p, s, g.index, "resume", **actor)
            elif g.kind == "wrapup" and (g.wrapup_code or g.wrapup_note):
                data = {k: v for k, v in (("WrapUpCode", g.wrapup_code), ("WrapUpNote", g.wrapup_note)) if v}
                self.emit("EventPropertiesChanged", g.start, p, s, g.index, "wrapup",
                          user_data=json.dumps(data, separators=(",", ":"), ensure_ascii=False))  # fmt: skip
        if h.end_ms is not None:
            last = [g for g in s.segments if g.kind != "wrapup"][-1]
            self.emit("EventPartyRemoved", h.end_ms, p, s, last.index, "disconnected", reason=h.end_disconnect,
                      **party)  # fmt: skip
