"""CHAT_SESSION_FACT: one row per online session, from the session's parties and its `EventChatMessage`s.

GIM fills the table from Chat Server's end-of-session statistics, one row per chat session, linked to
INTERACTION_FACT by MEDIA_SERVER_IXN_GUID (https://enu.docs.genesys.com/Documentation/GIM/8.5.0/PDMOra/
Table-CHAT_SESSION_FACT, 8.5.011). The columns are those public GIM SQL reads (../shared/domain/
analyst_sql_inventory.md); each one is derived here from contract 1.1 events, set-based:

* SESSION_DURATION: the customer's presence, joining to leaving (or the interaction's end while the customer stays);
* UNTIL_FIRST_AGENT_DURATION / UNTIL_FIRST_REPLY_DURATION: from the customer joining to the first agent joining /
  the first agent message (NULL, GIM's no value, when none came: an abandoned chat);
* turn measures [I], read from public GIM SQL's column comments (CHAT_SESSION_FACT's "time the agent spent replying
  to the customer", "time the customer waited for the agent's response", and the customer's counterparts): a turn is
  a run of messages from one side; the side that answers REPLIED from the turn's last message (AGENT_REPLY_DURATION,
  CUSTOMER_REPLY_DURATION) and the writer WAITED from the turn's first message (CUSTOMER_WAIT_DURATION,
  AGENT_WAIT_DURATION), summed over the session;
* CHAT_SESSION_DIM_KEY: who ended the session (CHAT_SESSION_DIM.ENDED_BY: CUSTOMER, AGENT or SYSTEM) [I];
* HANDLE_COUNT / HANDLE_DURATION / AGENTS_COUNT: the agents' handling of the customer (their IRFs' CUSTOMER_HANDLE_COUNT
  and CUSTOMER_TALK_DURATION: a consulted agent is not handling the customer, talk after the customer left is not
  handling) and the distinct agents engaged in the session; bots never have an IRF, so they never count (contract
  1.1).
"""

from __future__ import annotations

import polars as pl

#: The frame `chat_session_frame` returns (seconds; NULL where the session has no such moment).
CHAT_SESSION_SCHEMA = {
    "interaction_guid": pl.String,
    "session_start_ts": pl.Int64,
    "SESSION_DURATION": pl.Int32,
    "MSG_FROM_CUSTOMERS_COUNT": pl.Int32,
    "MSG_FROM_AGENTS_COUNT": pl.Int32,
    "UNTIL_FIRST_AGENT_DURATION": pl.Int32,
    "UNTIL_FIRST_REPLY_DURATION": pl.Int32,
    "AGENT_REPLY_DURATION": pl.Int32,
    "CUSTOMER_REPLY_DURATION": pl.Int32,
    "CUSTOMER_WAIT_DURATION": pl.Int32,
    "AGENT_WAIT_DURATION": pl.Int32,
    "HANDLE_COUNT": pl.Int32,
    "HANDLE_DURATION": pl.Int32,
    "AGENTS_COUNT": pl.Int32,
    "CHAT_SESSION_DIM_KEY": pl.Int32,
}

#: CHAT_SESSION_DIM's rows: who ended the session (public GIM SQL reads `CHAT_SESSION_DIM.ENDED_BY = 'AGENT'`).
ENDED_BY: dict[str, int] = {"CUSTOMER": 1, "AGENT": 2, "SYSTEM": 3}

_SESSION_EVENTS = ("EventPartyAdded", "EventPartyRemoved", "EventChatMessage", "EventProcessingStopped")


def _seconds(later: pl.Expr, earlier: pl.Expr) -> pl.Expr:
    return ((later - earlier) // 1000).cast(pl.Int32)


def chat_session_frame(
    events: pl.DataFrame, interactions: pl.DataFrame, irfs: pl.DataFrame, online: tuple[str, ...]
) -> pl.DataFrame:
    """One row per ended session: an interaction of an online media (`online-media-types`) whose customer joined
    and then left, or which was stopped."""
    ixns = interactions.filter(pl.col("media_type").is_in(list(online))).select("interaction_guid", "end_ts")
    if ixns.height == 0 or events.height == 0:
        return pl.DataFrame(schema=CHAT_SESSION_SCHEMA)
    ev = (
        events.filter(pl.col("event").is_in(_SESSION_EVENTS))
        .select(interaction_guid="interaction_id", event="event", ts_ms="ts_ms", party="party_type", actor="actor_type")
        .join(ixns.select("interaction_guid"), on="interaction_guid", how="semi")
        .sort("interaction_guid", "ts_ms", maintain_order=True)
    )
    customer = pl.col("party") == "Customer"
    agent = pl.col("party") == "Agent"
    message = pl.col("event") == "EventChatMessage"
    per = ev.group_by("interaction_guid").agg(
        joined=pl.col("ts_ms").filter(customer & (pl.col("event") == "EventPartyAdded")).min(),
        left=pl.col("ts_ms").filter(customer & (pl.col("event") == "EventPartyRemoved")).max(),
        first_agent=pl.col("ts_ms").filter(agent & (pl.col("event") == "EventPartyAdded")).min(),
        first_reply=pl.col("ts_ms").filter(agent & message).min(),
        MSG_FROM_CUSTOMERS_COUNT=(customer & message).sum().cast(pl.Int32),
        MSG_FROM_AGENTS_COUNT=(agent & message).sum().cast(pl.Int32),
        stopped=pl.col("ts_ms").filter(pl.col("event") == "EventProcessingStopped").min(),
        stopped_by=pl.col("actor").filter(pl.col("event") == "EventProcessingStopped").first(),
    )
    # GIM writes the row from Chat Server's end-of-session statistics: a session still open (the customer in it and
    # the interaction not stopped) has no row yet; the run that sees its end writes it.
    per = (
        per.filter(pl.col("joined").is_not_null())
        .join(ixns, on="interaction_guid", how="left")
        .filter(pl.col("left").is_not_null() | pl.col("end_ts").is_not_null())
    )
    start = pl.col("joined")
    end = pl.coalesce(pl.col("left"), pl.col("end_ts") * 1000)
    left_first = pl.col("left").is_not_null() & (pl.col("left") <= pl.col("stopped")).fill_null(True)
    sessions = per.select(
        "interaction_guid",
        "MSG_FROM_CUSTOMERS_COUNT",
        "MSG_FROM_AGENTS_COUNT",
        session_start_ts=(start // 1000),
        SESSION_DURATION=pl.max_horizontal(_seconds(end, start), pl.lit(0, pl.Int32)),
        UNTIL_FIRST_AGENT_DURATION=_seconds(pl.col("first_agent"), start),
        UNTIL_FIRST_REPLY_DURATION=_seconds(pl.col("first_reply"), start),
        # [I] who ended it: the customer leaving before the stop, else the agent who stopped it, else the system
        # (a media server or strategy closing the session).
        CHAT_SESSION_DIM_KEY=pl.when(left_first)
        .then(ENDED_BY["CUSTOMER"])
        .when(pl.col("stopped_by") == "Agent")
        .then(ENDED_BY["AGENT"])
        .otherwise(ENDED_BY["SYSTEM"])
        .cast(pl.Int32),
    )
    return (
        sessions.join(_reply_waits(ev), on="interaction_guid", how="left")
        .join(_handling(irfs), on="interaction_guid", how="left")
        .with_columns(pl.col(*_TURN_MEASURES, "HANDLE_COUNT", "HANDLE_DURATION", "AGENTS_COUNT").fill_null(0))
        .select(list(CHAT_SESSION_SCHEMA))
        .cast(CHAT_SESSION_SCHEMA)  # type: ignore[arg-type]
        .sort("interaction_guid")
    )


_TURN_MEASURES = ("AGENT_REPLY_DURATION", "CUSTOMER_REPLY_DURATION", "CUSTOMER_WAIT_DURATION", "AGENT_WAIT_DURATION")


def _reply_waits(ev: pl.DataFrame) -> pl.DataFrame:
    """Per interaction, the turn measures: a turn is a run of messages from one side (customer or agents); when
    the other side answers, the answerer replied from the *last* message of the turn (its REPLY duration) and the
    writer waited from the *first* (its WAIT duration)."""
    msgs = ev.filter((pl.col("event") == "EventChatMessage") & pl.col("party").is_in(["Customer", "Agent"]))
    turns = (
        msgs.with_columns(turn=pl.col("party").ne_missing(pl.col("party").shift(1).over("interaction_guid")))
        .with_columns(turn=pl.col("turn").cast(pl.Int32).cum_sum().over("interaction_guid"))
        .group_by("interaction_guid", "turn")
        .agg(party=pl.col("party").first(), first=pl.col("ts_ms").min(), last=pl.col("ts_ms").max())
        .sort("interaction_guid", "turn")
    )
    answers = turns.with_columns(
        reply=(pl.col("first") - pl.col("last").shift(1).over("interaction_guid")) // 1000,
        wait=(pl.col("first") - pl.col("first").shift(1).over("interaction_guid")) // 1000,
    ).filter(pl.col("turn") > 1)
    by_agent, by_customer = pl.col("party") == "Agent", pl.col("party") == "Customer"
    return answers.group_by("interaction_guid").agg(
        AGENT_REPLY_DURATION=pl.col("reply").filter(by_agent).sum(),
        CUSTOMER_WAIT_DURATION=pl.col("wait").filter(by_agent).sum(),
        CUSTOMER_REPLY_DURATION=pl.col("reply").filter(by_customer).sum(),
        AGENT_WAIT_DURATION=pl.col("wait").filter(by_customer).sum(),
    )


def _handling(irfs: pl.DataFrame) -> pl.DataFrame:
    """The customer's handling (agents' CUSTOMER_HANDLE_COUNT and CUSTOMER_TALK_DURATION: a consulted agent does not
    handle the customer) and every agent engaged in the session, consulted or not."""
    agents = irfs.filter(pl.col("resource_nk").str.starts_with("Agent:") & (pl.col("talk_count") > 0))
    return agents.group_by("interaction_guid").agg(
        HANDLE_COUNT=pl.col("customer_handle_count").sum(),
        HANDLE_DURATION=pl.col("customer_talk_duration").sum(),
        AGENTS_COUNT=pl.col("resource_nk").n_unique(),
    )
