"""Agent-state facts into the mart: keys (CTL_KEY_MAP, stable across runs), dimension rows (RESOURCE_ for the
agents, MEDIA_TYPE, TENANT, RESOURCE_STATE_REASON, DATE_TIME), then the re-derived agents' SM_RES_* rows replaced
(deleted and inserted in the load's transaction: their ids are stable, so an active row is completed in place)."""

from __future__ import annotations

import duckdb
import polars as pl

from etl.domain.agent_states import RESOURCE_STATES, code
from etl.storage.agent_rows import reason_rows, session_rows, state_rows
from etl.storage.ddl import table_columns
from etl.storage.dimensions import insert_date_times, media_name, resource_keys
from etl.storage.keys import keyed
from etl.storage.writes import insert_rows, run_with
from etl.transform.agent_states import AgentStateFrames

SM_TABLES = ("SM_RES_SESSION_FACT", "SM_RES_STATE_FACT", "SM_RES_STATE_REASON_FACT")


def insert_resource_states(con: duckdb.DuckDBPyConnection) -> None:
    """RESOURCE_STATE's fixed rows (GIM pre-populates it), where missing."""
    con.executemany(
        "INSERT INTO RESOURCE_STATE (RESOURCE_STATE_KEY, STATE_TYPE, STATE_TYPE_CODE, STATE_NAME, STATE_NAME_CODE,"
        " CREATE_AUDIT_KEY, UPDATE_AUDIT_KEY) SELECT ?, ?, ?, ?, ?, -1, -1"
        " WHERE NOT EXISTS (SELECT 1 FROM RESOURCE_STATE WHERE RESOURCE_STATE_KEY = ?)",
        [(k, n, code(n), n, code(n), k) for k, n in RESOURCE_STATES.items()],
    )


def _state_keys() -> pl.DataFrame:
    return pl.DataFrame(
        {"state": list(RESOURCE_STATES.values()), "RESOURCE_STATE_KEY": list(RESOURCE_STATES)},
        schema={"state": pl.String, "RESOURCE_STATE_KEY": pl.Int32},
    )


def _who(con: duckdb.DuckDBPyConnection, facts: AgentStateFrames, audit_key: int) -> pl.DataFrame:
    """(tenant, agent, media) -> TENANT_KEY, RESOURCE_KEY, MEDIA_TYPE_KEY; dimension rows added where new."""
    who = facts.sessions.select("tenant", "agent", "media").unique()
    agents = who.select("tenant", "agent").unique().with_columns(resource_nk="Agent:" + pl.col("agent"))
    res = resource_keys(
        con,
        agents.select(
            "resource_nk",
            resource_name="agent",
            resource_type=pl.lit("Agent"),
            resource_type_code=pl.lit("AGENT"),
            resource_subtype=pl.lit("Agent"),
            first_name=pl.lit(None, pl.String),
            last_name=pl.lit(None, pl.String),
            employee_id=pl.lit(None, pl.String),
            tenant="tenant",
        ),
        audit_key,
    )
    who = who.with_columns(resource_nk="Agent:" + pl.col("agent")).join(res, on="resource_nk", how="left")
    who = keyed(con, who, "tenant", "TENANT", "TENANT_KEY")
    who = keyed(con, who, "media", "MEDIA_TYPE", "MEDIA_TYPE_KEY")
    media = who.select("MEDIA_TYPE_KEY", "media").unique("MEDIA_TYPE_KEY")
    media = media.with_columns(MEDIA_NAME=pl.col("media").map_elements(media_name, return_dtype=pl.String))
    run_with(
        con,
        "INSERT INTO MEDIA_TYPE (MEDIA_TYPE_KEY, MEDIA_NAME, MEDIA_NAME_CODE, IS_ONLINE, CREATE_AUDIT_KEY,"
        " UPDATE_AUDIT_KEY) SELECT MEDIA_TYPE_KEY, MEDIA_NAME, upper(MEDIA_NAME), (media = 'chat')::SMALLINT, ?, ?"
        " FROM _m WHERE MEDIA_TYPE_KEY NOT IN (SELECT MEDIA_TYPE_KEY FROM MEDIA_TYPE)",
        [audit_key, audit_key],
        _m=media,
    )
    run_with(
        con,
        "INSERT INTO TENANT (TENANT_KEY, TENANT_NAME) SELECT DISTINCT TENANT_KEY, tenant FROM _tn"
        " WHERE TENANT_KEY NOT IN (SELECT TENANT_KEY FROM TENANT)",
        _tn=who.select("TENANT_KEY", "tenant"),
    )
    return who.select("tenant", "agent", "media", "TENANT_KEY", "RESOURCE_KEY", "MEDIA_TYPE_KEY")


def _reason_keys(con: duckdb.DuckDBPyConnection, reasons: pl.DataFrame, audit_key: int) -> pl.DataFrame:
    reasons = reasons.with_columns(reason_dim_nk=pl.col("tenant") + "|" + pl.col("reason_nk"))
    reasons = keyed(con, reasons, "reason_dim_nk", "RESOURCE_STATE_REASON", "RESOURCE_STATE_REASON_KEY")
    reasons = keyed(con, reasons, "tenant", "TENANT", "TENANT_KEY_R")
    run_with(
        con,
        "INSERT INTO RESOURCE_STATE_REASON (RESOURCE_STATE_REASON_KEY, TENANT_KEY, REASON_TYPE, REASON_TYPE_CODE,"
        " HARDWARE_REASON, SOFTWARE_REASON_KEY, SOFTWARE_REASON_VALUE, WORKMODE, WORKMODE_CODE, CREATE_AUDIT_KEY,"
        " UPDATE_AUDIT_KEY) SELECT DISTINCT RESOURCE_STATE_REASON_KEY, TENANT_KEY_R, reason_type, upper(reason_type),"
        " hardware_reason, software_key, software_value, workmode, upper(workmode), ?, ? FROM _r"
        " WHERE RESOURCE_STATE_REASON_KEY NOT IN (SELECT RESOURCE_STATE_REASON_KEY FROM RESOURCE_STATE_REASON)",
        [audit_key, audit_key],
        _r=reasons,
    )
    return reasons.drop("TENANT_KEY_R", "reason_dim_nk")


def write_agent_facts(con: duckdb.DuckDBPyConnection, facts: AgentStateFrames, audit_key: int) -> dict[str, int]:
    """Replace the SM_RES_* rows of every agent in `facts.agents`; rows written per table."""
    _delete(con, facts.agents)
    if facts.sessions.height == 0:
        return dict.fromkeys(SM_TABLES, 0)
    who = _who(con, facts, audit_key)
    sessions = keyed(con, facts.sessions, "natural_key", "SM_SESSION", "session_id")
    sid = sessions.select(session_nk="natural_key", session_id="session_id")
    states = keyed(con, facts.states, "natural_key", "SM_STATE", "state_id").join(sid, on="session_nk")
    tid = states.select(state_nk="natural_key", state_id="state_id")
    reasons = keyed(con, facts.reasons, "natural_key", "SM_REASON", "reason_fact_id").join(tid, on="state_nk")
    reasons = _reason_keys(con, reasons, audit_key)
    rows = {
        "SM_RES_SESSION_FACT": session_rows(sessions, who, audit_key),
        "SM_RES_STATE_FACT": state_rows(states, who, _state_keys(), audit_key),
        "SM_RES_STATE_REASON_FACT": reason_rows(reasons, who, _state_keys(), audit_key),
    }
    for table, frame in rows.items():
        insert_rows(con, table, frame.select(table_columns(table)))
    keys = pl.concat([f.select(k=c) for f in rows.values() for c in ("START_DATE_TIME_KEY", "END_DATE_TIME_KEY")])
    insert_date_times(con, keys["k"].unique().to_list())
    return {table: frame.height for table, frame in rows.items()}


def _delete(con: duckdb.DuckDBPyConnection, agents: pl.DataFrame) -> None:
    """Delete the SM_RES_* rows of `agents` (tenant, agent)."""
    if agents.height == 0:
        return
    for table in SM_TABLES:
        run_with(
            con,
            f"DELETE FROM {table} WHERE RESOURCE_KEY IN (SELECT r.RESOURCE_KEY FROM RESOURCE_ r"
            " JOIN TENANT t ON t.TENANT_KEY = r.TENANT_KEY JOIN _a ON _a.agent = r.RESOURCE_NAME"
            " AND _a.tenant = t.TENANT_NAME WHERE r.RESOURCE_TYPE_CODE = 'AGENT')",
            _a=agents,
        )
