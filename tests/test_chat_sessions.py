"""CHAT_SESSION_FACT (Table-CHAT_SESSION_FACT): hand-worked sessions, one function call from the events, and the
table in the mart after a run through the CLI.

The chat of `tests.test_contract_v11.CHAT`, by hand: the customer joins at 0 s and leaves at 30 s (30 s session);
a bot greets at 2 s (not an agent's message); the customer writes at 5 s, the agent joins at 12 s and answers at
15 s (first agent 12 s, first reply 15 s, one turn waited 10 s), and talks from 12 s to 31 s, the customer gone
from 30 s (18 s handling the customer). The chat abandoned in queue (`ABANDONED`) lasts 9 s and has no agent
moments (NULL, GIM's no value).
"""

from __future__ import annotations

from pathlib import Path

import duckdb
from hypothesis import given, settings
from hypothesis import strategies as st

from etl.domain.options import GimOptions
from etl.transform.api import facts_from_events
from tests.conftest import run_cli
from tests.test_contract_v11 import ABANDONED, AGENT, CHAT, CUSTOMER, LINES, _ev
from tests.test_ingest import write

CH1 = {
    "interaction_guid": "CH1", "session_start_ts": 1772442000, "SESSION_DURATION": 30,
    "MSG_FROM_CUSTOMERS_COUNT": 1, "MSG_FROM_AGENTS_COUNT": 1, "UNTIL_FIRST_AGENT_DURATION": 12,
    "UNTIL_FIRST_REPLY_DURATION": 15, "AGENT_REPLY_DURATION": 10, "CUSTOMER_REPLY_DURATION": 0,
    "CUSTOMER_WAIT_DURATION": 10, "AGENT_WAIT_DURATION": 0, "HANDLE_COUNT": 1, "HANDLE_DURATION": 18,
    "AGENTS_COUNT": 1, "CHAT_SESSION_DIM_KEY": 1,
}  # fmt: skip
CH2 = {
    "interaction_guid": "CH2", "session_start_ts": 1772442000, "SESSION_DURATION": 9,
    "MSG_FROM_CUSTOMERS_COUNT": 0, "MSG_FROM_AGENTS_COUNT": 0, "UNTIL_FIRST_AGENT_DURATION": None,
    "UNTIL_FIRST_REPLY_DURATION": None, "AGENT_REPLY_DURATION": 0, "CUSTOMER_REPLY_DURATION": 0,
    "CUSTOMER_WAIT_DURATION": 0, "AGENT_WAIT_DURATION": 0, "HANDLE_COUNT": 0, "HANDLE_DURATION": 0,
    "AGENTS_COUNT": 0, "CHAT_SESSION_DIM_KEY": 1,
}  # fmt: skip


def test_hand_worked_sessions() -> None:
    assert facts_from_events(CHAT + ABANDONED, GimOptions()).chat_sessions.to_dicts() == [CH1, CH2]


def test_only_online_media_have_sessions() -> None:
    """Offline media (here chat itself, once `online-media-types` leaves it out) have no online session."""
    facts = facts_from_events(CHAT + ABANDONED, GimOptions(**{"online-media-types": ["sms"]}))
    assert facts.chat_sessions.height == 0


def test_the_mart_has_the_table_and_a_second_run_keeps_one_row_per_session(tmp_path: Path) -> None:
    db, events = tmp_path / "mart.duckdb", write(tmp_path / "chat.jsonl", LINES)
    for _ in range(2):
        assert run_cli("--events", str(events), "--db", str(db)) == 0
    con = duckdb.connect(str(db), read_only=True)
    try:
        rows = con.sql(
            "SELECT c.MEDIA_SERVER_IXN_GUID, c.SESSION_DURATION, c.UNTIL_FIRST_REPLY_DURATION, c.HANDLE_DURATION,"
            " c.START_DATE_TIME_KEY = c.START_TS - c.START_TS % 900, d.ENDED_BY"
            " FROM CHAT_SESSION_FACT c JOIN INTERACTION_FACT i USING (INTERACTION_ID)"
            " JOIN CHAT_SESSION_DIM d ON d.ID = c.CHAT_SESSION_DIM_KEY"  # the join public GIM SQL writes
            " WHERE i.MEDIA_SERVER_IXN_GUID = c.MEDIA_SERVER_IXN_GUID ORDER BY 1"
        ).fetchall()
        # CH1's customer left at 30 s, before the agent stopped it at 31 s; CH2 was abandoned.
        assert rows == [("CH1", 30, 15, 18, True, "CUSTOMER"), ("CH2", 9, None, 0, True, "CUSTOMER")]
    finally:
        con.close()


@st.composite
def chats(draw: st.DrawFn) -> tuple[list[dict], int, int]:
    """A routed chat with a random sequence of customer/agent messages after the agent joined at 10 s."""
    writers = draw(st.lists(st.sampled_from(["Customer", "Agent", "Bot", "System"]), max_size=12))
    events = [
        _ev(1, "EventInteractionSubmitted", 0, "P", media_type="chat", interaction_type="Inbound",
            interaction_subtype="InboundNew", actor={"type": "MediaServer", "id": "ChatServer"},
            queue={"type": "InteractionQueue", "name": "Q"}),
        _ev(2, "EventPartyAdded", 0, "P", party=CUSTOMER),
        _ev(3, "EventAgentInvited", 5, "P", party=AGENT, reason="route", actor={"type": "Strategy", "id": "S"}),
        _ev(4, "EventPartyAdded", 10, "P", party=AGENT, reason="route"),
    ]  # fmt: skip
    for n, who in enumerate(writers):
        events.append(_ev(10 + n, "EventChatMessage", 11 + 3 * n, "P", party={"type": who, "id": who.lower()}))
    events += [
        _ev(98, "EventPartyRemoved", 50, "P", party=CUSTOMER),
        _ev(99, "EventPartyRemoved", 51, "P", party=AGENT),
    ]
    return events, writers.count("Customer"), writers.count("Agent")


@settings(max_examples=40, deadline=None)
@given(chats())
def test_counts_and_waits_agree_with_the_messages(chat: tuple[list[dict], int, int]) -> None:
    events, from_customers, from_agents = chat
    (row,) = facts_from_events(events, GimOptions()).chat_sessions.to_dicts()
    assert (row["MSG_FROM_CUSTOMERS_COUNT"], row["MSG_FROM_AGENTS_COUNT"]) == (from_customers, from_agents)
    assert row["SESSION_DURATION"] == 50 and row["UNTIL_FIRST_AGENT_DURATION"] == 10
    assert (row["UNTIL_FIRST_REPLY_DURATION"] is None) == (from_agents == 0)
    # Customers only wait within the session, and a wait needs a customer message and an agent answer.
    assert 0 <= row["AGENT_REPLY_DURATION"] <= row["SESSION_DURATION"]
    if from_customers == 0 or from_agents == 0:
        assert row["AGENT_REPLY_DURATION"] == 0


def test_an_analysts_chat_report_in_tsql_returns_the_golden_numbers(tmp_path_factory) -> None:
    """fixtures/gim_sql_chat/chat_agents.tsql.sql (IRF joined to CHAT_SESSION_FACT and CHAT_SESSION_DIM, as public
    GIM chat reports do) through the SQL layer, on a mart of the golden chat flows, against those flows' golden rows."""
    from collections import defaultdict

    import polars as pl

    from etl.bi.compat import run_gim_sql
    from etl.simulate.flows import CHAT_FLOWS
    from tests.conftest import FIXTURES, load_mart

    dirs = [FIXTURES / "flows" / f for f in CHAT_FLOWS]
    sessions = {
        r["IXN"]: r
        for d in dirs
        for r in pl.read_csv(d / "expected_chat_session.csv", infer_schema_length=0).to_dicts()
    }
    acc: dict[str, dict[str, set | int]] = defaultdict(
        lambda: {"chats": set(), "ended": set(), "unanswered": set(), "transferred": set(), "h": 0, "f": 0, "r": 0}
    )
    for d in dirs:
        for r in pl.read_csv(d / "hold=0,ixnq=0,wb=0" / "expected_irf.csv", infer_schema_length=0).to_dicts():
            s = sessions.get(r["IXN"])
            if s is None or not r["RESOURCE"].startswith("agent"):
                continue  # no session row yet (still open), or an IRF that ended in mediation
            a = acc[r["RESOURCE"]]
            if int(s["AGENTS_COUNT"]) > 0:
                a["chats"].add(r["IXN"])
            if s["ENDED_BY"] == "AGENT":
                a["ended"].add(r["IXN"])
            if r["RESULT_REASON"] in ("AbandonedWhileRinging", "AbandonedFromHold"):
                a["unanswered"].add(r["IXN"])
            if r["TECHNICAL_RESULT"] == "Transferred":
                a["transferred"].add(r["IXN"])
            a["h"] += int(s["HANDLE_DURATION"])
            a["f"] += int(s["UNTIL_FIRST_REPLY_DURATION"] or 0) - int(s["UNTIL_FIRST_AGENT_DURATION"] or 0)
            a["r"] += int(s["AGENT_REPLY_DURATION"])
    expected = [
        {"AGENT": g, "CHATS": len(a["chats"]), "ENDED_BY_AGENT": len(a["ended"]), "UNANSWERED": len(a["unanswered"]),
         "TRANSFERRED": len(a["transferred"]), "HANDLE_TIME": a["h"], "FIRST_RESPONSE_TIME": a["f"],
         "AGENT_REPLY_TIME": a["r"]}
        for g, a in sorted(acc.items())
    ]  # fmt: skip
    db = load_mart(tmp_path_factory, *dirs)
    con = duckdb.connect(str(db), read_only=True)
    try:
        sql = (FIXTURES / "gim_sql_chat" / "chat_agents.tsql.sql").read_text()
        got = [
            {k: int(v) if k != "AGENT" else v for k, v in row.items()}
            for row in run_gim_sql(con, sql, "tsql").to_dicts()
        ]
    finally:
        con.close()
    assert got == expected
    assert sum(r["UNANSWERED"] for r in got) == 1 and sum(r["TRANSFERRED"] for r in got) == 2
