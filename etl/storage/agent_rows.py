"""SM_RES_* fact rows in GIM's columns from the agent-state frames (`etl.transform.agent_states`) once their keys
are known: pure Polars, no database access (`agent_writer.py` looks the keys up).

Spans: START_TS/END_TS in epoch seconds, END_TS the sentinel interval of active facts while open (as for the
IRF); TOTAL_DURATION = END_TS - START_TS (0 while active); LEAD_CLIP_DURATION / TRAIL_CLIP_DURATION the seconds in
the first and last 15-minute interval the span touches [K: GIM's clip columns of Table-SM_RES_SESSION_FACT,
https://docs.genesys.com/Documentation/PSAAS/latest/RPRT/Table-SM_RES_SESSION_FACT].
"""

from __future__ import annotations

import polars as pl

from etl.storage.fact_rows import ACTIVE_END_TS

_INTERVAL = 900


def span_columns(audit_key: int) -> dict[str, pl.Expr]:
    """GIM's span columns from `start_ms` / `end_ms` (null while active)."""
    start = pl.col("start_ms") // 1000
    end = pl.col("end_ms") // 1000
    active = pl.col("end_ms").is_null()
    lead = pl.min_horizontal(end, (start // _INTERVAL + 1) * _INTERVAL) - start
    trail = end - pl.max_horizontal(start, end // _INTERVAL * _INTERVAL)
    return {
        "START_TS": start,
        "END_TS": pl.when(active).then(ACTIVE_END_TS).otherwise(end),
        "START_DATE_TIME_KEY": start // _INTERVAL * _INTERVAL,
        "END_DATE_TIME_KEY": pl.when(active).then(ACTIVE_END_TS).otherwise(end // _INTERVAL * _INTERVAL),
        "TOTAL_DURATION": pl.when(active).then(0).otherwise(end - start),
        "LEAD_CLIP_DURATION": pl.when(active).then(0).otherwise(lead),
        "TRAIL_CLIP_DURATION": pl.when(active).then(0).otherwise(trail),
        "ACTIVE_FLAG": pl.when(active).then(1).otherwise(0).cast(pl.Int16),
        "CREATE_AUDIT_KEY": pl.lit(audit_key, pl.Int64),
        "UPDATE_AUDIT_KEY": pl.lit(audit_key, pl.Int64),
    }


def _who(frame: pl.DataFrame, who: pl.DataFrame) -> pl.DataFrame:
    """`frame` with TENANT_KEY, RESOURCE_KEY, MEDIA_TYPE_KEY from `who` (tenant, agent, media -> keys)."""
    return frame.join(who, on=["tenant", "agent", "media"], how="left").with_columns(
        RESOURCE_GROUP_COMBINATION_KEY=pl.lit(-1, pl.Int32)
    )


def session_rows(sessions: pl.DataFrame, who: pl.DataFrame, audit_key: int) -> pl.DataFrame:
    return _who(sessions, who).with_columns(SM_RES_SESSION_FACT_KEY="session_id", **span_columns(audit_key))


def state_rows(states: pl.DataFrame, who: pl.DataFrame, state_keys: pl.DataFrame, audit_key: int) -> pl.DataFrame:
    """`states` carry `state_id` and `session_id`; `state_keys` maps state name -> RESOURCE_STATE_KEY."""
    return (
        _who(states, who)
        .join(state_keys, on="state", how="left")
        .with_columns(SM_RES_STATE_FACT_KEY="state_id", SM_RES_SESSION_FACT_KEY="session_id", **span_columns(audit_key))
    )


def reason_rows(reasons: pl.DataFrame, who: pl.DataFrame, state_keys: pl.DataFrame, audit_key: int) -> pl.DataFrame:
    """`reasons` carry `reason_fact_id`, `state_id` and `RESOURCE_STATE_REASON_KEY`."""
    return (
        _who(reasons, who)
        .join(state_keys, on="state", how="left")
        .with_columns(
            SM_RES_STATE_REASON_FACT_KEY="reason_fact_id", SM_RES_STATE_FACT_KEY="state_id", **span_columns(audit_key)
        )
    )
