"""Contract version 1.1, online interactions: `Customer` and `Bot` parties, `EventChatMessage`, the customer's
abandonment (`EventPartyRemoved` of the Customer, `EventProcessingStopped` with `reason: "abandoned"`).

Why these tests: a chat log written in the contract's 1.1 vocabulary must load whole (it was quarantined under
version 1), through the fast SQL path and the models alike, while every version 1 line still gives the same row;
and the new parties must never turn into resources of the interaction (../shared/contract/events.md: "never a
handling resource and never gets an IRF").
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import duckdb
import pytest

from etl.domain.options import GimOptions
from etl.domain.rules import RejectionKind
from etl.ingest import staging
from etl.ingest.models import validate_event
from etl.ingest.staging import read_events
from etl.ingest.validate import normalize
from etl.transform.api import facts_from_events
from tests.conftest import run_cli
from tests.test_ingest import EXAMPLE_LINES, assert_consistent, write


def _ev(n: int, event: str, second: int, ixn: str = "CH1", **fields: Any) -> dict[str, Any]:
    return {"event_id": f"c{n}", "event": event, "ts": f"2026-03-02T09:00:{second:02d}.000Z", "interaction_id": ixn,
            **fields}  # fmt: skip


CUSTOMER = {"type": "Customer", "id": "contact-1", "name": "Jo Doe"}
BOT = {"type": "Bot", "id": "greeter"}
AGENT = {"type": "Agent", "id": "agent1"}
QUEUE = {"type": "InteractionQueue", "name": "ChatInbound"}
STRATEGY = {"type": "Strategy", "id": "ChatStrategy"}

#: A chat greeted by a bot, routed to an agent, with messages from all three; the customer leaves first.
CHAT = [
    _ev(1, "EventInteractionSubmitted", 0, media_type="chat", interaction_type="Inbound",
        interaction_subtype="InboundNew", actor={"type": "MediaServer", "id": "ChatServer"}, queue=QUEUE),
    _ev(2, "EventPartyAdded", 0, party=CUSTOMER),
    _ev(3, "EventPartyAdded", 1, party=BOT),
    _ev(4, "EventChatMessage", 2, party=BOT, length=31),
    _ev(5, "EventChatMessage", 5, party=CUSTOMER, length=12),
    _ev(6, "EventPartyRemoved", 6, party=BOT),
    _ev(7, "EventPlacedInQueue", 6, queue=QUEUE, actor={"type": "MediaServer", "id": "ChatServer"}),
    _ev(8, "EventTakenFromQueue", 7, queue=QUEUE, actor=STRATEGY),
    _ev(9, "EventVirtualQueueEntered", 7, vq="VQ_Chat", actor=STRATEGY),
    _ev(10, "EventAgentInvited", 10, party=AGENT, actor=STRATEGY, reason="route", vq="VQ_Chat"),
    _ev(11, "EventVirtualQueueLeft", 10, vq="VQ_Chat", actor=STRATEGY, outcome="routed", target=AGENT),
    _ev(12, "EventPartyAdded", 12, party=AGENT, reason="route"),
    _ev(13, "EventChatMessage", 15, party=AGENT, length=0),
    _ev(14, "EventChatMessage", 20, party={"type": "System", "id": "ChatServer"}),
    _ev(15, "EventPartyRemoved", 30, party=CUSTOMER),
    _ev(16, "EventProcessingStopped", 31, actor=AGENT),
]  # fmt: skip

#: A chat the customer abandons while it waits in the queue: the Chat Server stops it.
ABANDONED = [
    _ev(21, "EventInteractionSubmitted", 0, "CH2", media_type="chat", interaction_type="Inbound",
        interaction_subtype="InboundNew", actor={"type": "MediaServer", "id": "ChatServer"}, queue=QUEUE),
    _ev(22, "EventPartyAdded", 0, "CH2", party=CUSTOMER),
    _ev(23, "EventPlacedInQueue", 0, "CH2", queue=QUEUE),
    _ev(24, "EventPartyRemoved", 9, "CH2", party=CUSTOMER, reason="abandoned"),
    _ev(25, "EventProcessingStopped", 9, "CH2", actor={"type": "MediaServer", "id": "ChatServer"},
        reason="abandoned"),
]  # fmt: skip

LINES = [json.dumps(e) for e in CHAT + ABANDONED]


def test_a_chat_log_loads_whole(tmp_path: Path) -> None:
    result = read_events([write(tmp_path / "chat.jsonl", LINES)], "r")
    assert_consistent(result)
    assert result.quarantine.height == 0 and result.events.height == len(LINES)
    rows = {r["event_id"]: r for r in result.events.iter_rows(named=True)}
    assert (rows["c2"]["party_type"], rows["c2"]["party_id"], rows["c2"]["party_name"]) == (
        "Customer",
        "contact-1",
        "Jo Doe",
    )
    assert rows["c3"]["party_type"] == "Bot"
    assert [rows[f"c{n}"]["message_length"] for n in (4, 5, 13, 14)] == [31, 12, 0, None]
    assert rows["c14"]["party_type"] == "System"
    assert (rows["c24"]["reason"], rows["c25"]["reason"]) == ("abandoned", "abandoned")
    # a message's length is the only column it adds; other events never carry one
    assert {r["message_length"] for r in rows.values() if r["event"] != "EventChatMessage"} == {None}


def test_the_fast_path_and_the_models_agree_on_v11_lines(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(tmp_path / "chat.jsonl", LINES)
    fast = read_events([path], "r").events.drop("source_file")
    for line_no, line in enumerate(LINES, start=1):
        model, _, reason = validate_event(json.loads(line))
        assert model is not None, reason
        row = fast.filter(fast["source_line"] == line_no).drop("source_line").to_dicts()[0]
        assert row == normalize(model)
    monkeypatch.setattr(staging, "FAST_SQL", "SELECT error('forced') FROM chunk")  # the line-by-line path
    slow = read_events([path], "r").events.drop("source_file")
    assert slow.equals(fast)


@pytest.mark.parametrize(
    ("change", "field", "text"),
    [
        ({"length": -1}, "length", "greater than or equal to 0"),
        ({"length": "12"}, "length", "valid integer"),
        ({"length": 1.5}, "length", "valid integer"),
        ({"length": True}, "length", "valid integer"),
        ({"party": None}, "party", "'party' is missing"),
        ({"party": {"type": "Robot", "id": "r"}}, "party.type", "Customer"),
        ({"party": {"type": "Customer"}}, "party.id", "'party.id' is missing"),
    ],
)
def test_a_bad_message_is_quarantined_with_its_field(tmp_path: Path, change: dict, field: str, text: str) -> None:
    line = json.dumps({**CHAT[3], **change})
    result = read_events([write(tmp_path / "bad.jsonl", [line])], "r")
    assert_consistent(result)
    assert result.events.height == 0
    (row,) = result.quarantine.iter_rows(named=True)
    assert row["FIELD"] == field and text in row["REASON"], row


def test_version_1_lines_give_the_same_rows(tmp_path: Path) -> None:
    """Additive: a v1 log has no message length and every v1 field lands where it did."""
    result = read_events([write(tmp_path / "v1.jsonl", EXAMPLE_LINES)], "r")
    assert result.quarantine.height == 0 and result.events.height == len(EXAMPLE_LINES)
    assert result.events["message_length"].null_count() == result.events.height
    for line_no, line in enumerate(EXAMPLE_LINES, start=1):
        model, _, _ = validate_event(json.loads(line))
        assert model is not None
        got = result.events.filter(result.events["source_line"] == line_no).to_dicts()[0]
        assert {k: got[k] for k in normalize(model)} == normalize(model)


def test_customers_and_bots_are_never_resources() -> None:
    facts = facts_from_events(CHAT + ABANDONED, GimOptions())
    assert facts.rejected.height == 0
    parties = {(r["interaction_guid"], r["resource_nk"]) for r in facts.irfs.iter_rows(named=True)}
    assert not any(nk.startswith(("Customer:", "Bot:")) for _, nk in parties)
    assert ("CH1", "Agent:agent1") in parties
    assert not facts.resources.filter(facts.resources["resource_type"].is_in(["Customer", "Bot"])).height
    assert not any(name in ("contact-1", "greeter") for name in facts.resources["resource_name"].to_list())


def test_a_message_of_an_interaction_never_submitted_is_rejected() -> None:
    facts = facts_from_events([*ABANDONED, _ev(99, "EventChatMessage", 3, "CH9", party=CUSTOMER, length=4)],
                              GimOptions())  # fmt: skip
    assert facts.rejected.to_dicts() == [
        {
            "event_id": "c99",
            "reason": "EventChatMessage for interaction 'CH9' that was never submitted",
            "field": "interaction_id",
            "kind": RejectionKind.NEVER_SUBMITTED.value,
        }
    ]


def test_the_mart_stores_message_lengths(tmp_path: Path) -> None:
    db = tmp_path / "mart.duckdb"
    assert run_cli("--events", str(write(tmp_path / "chat.jsonl", LINES)), "--db", str(db)) == 0
    con = duckdb.connect(str(db), read_only=True)
    try:
        assert con.sql("SELECT count(*) FROM STG_EVENT_QUARANTINE").fetchall() == [(0,)]
        lengths = con.sql(
            "SELECT EVENT_ID, MESSAGE_LENGTH, PARTY_TYPE FROM STG_EVENTS WHERE EVENT = 'EventChatMessage'"
            " ORDER BY TS_MS"
        ).fetchall()
        assert lengths == [("c4", 31, "Bot"), ("c5", 12, "Customer"), ("c13", 0, "Agent"), ("c14", None, "System")]
        names = {r[0] for r in con.sql("SELECT RESOURCE_NAME FROM RESOURCE_").fetchall()}
        assert {"agent1", "ChatInbound", "VQ_Chat"} <= names and not names & {"contact-1", "greeter"}
    finally:
        con.close()
