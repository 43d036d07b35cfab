"""After-call work on the IRF, from the agents' AfterCallWork states (SM_RES_STATE_FACT), set-based in the mart.

GIM: IRF.AFTER_CALL_WORK_COUNT / _DURATION are "after-call work after the IRF" (Table-INTERACTION_RESOURCE_FACT,
https://docs.genesys.com/Documentation:PSAAS:RPRT:Table-INTERACTION_RESOURCE_FACT:Public), and RAA's WRAP is the
IRF's (customer) ACW (https://docs.genesys.com/Documentation/RAA/latest/PDMMS/RAATables). How GIM attributes
multimedia ACW to an interaction is not described (../shared/domain/online_and_agent_states.md, §2.1), so the rule
here is GIM's voice rule carried over [I]: an AfterCallWork state belongs to the IRF after which the agent entered
it, i.e. the agent's handled IRF of the same media that ended last at or before the state's start, within the same
login session. Its count is the number of such states, its duration their TOTAL_DURATION; active states count once
they are completed. Recomputed for every IRF a load rewrote and every IRF of an agent it re-derived, so the result
does not depend on the order in which interaction and agent-state events arrive.
"""

from __future__ import annotations

import duckdb
import polars as pl

from etl.domain.agent_states import STATE_KEY
from etl.storage.writes import run_with

_ACW = STATE_KEY["AfterCallWork"]


def apply_irf_acw(con: duckdb.DuckDBPyConnection, audit_key: int, agents: pl.DataFrame) -> int:
    """Recompute AFTER_CALL_WORK_COUNT / _DURATION of every IRF of the agents that have an IRF rewritten by
    `audit_key` or are in `agents` (tenant, agent: re-derived agent states); returns the IRFs with after-call work."""
    run_with(
        con,
        "CREATE OR REPLACE TEMP TABLE _acw_agents AS SELECT DISTINCT RESOURCE_KEY AS k FROM INTERACTION_RESOURCE_FACT"
        " WHERE UPDATE_AUDIT_KEY = ? UNION SELECT r.RESOURCE_KEY FROM RESOURCE_ r JOIN TENANT t"
        " ON t.TENANT_KEY = r.TENANT_KEY JOIN _a ON _a.agent = r.RESOURCE_NAME AND _a.tenant = t.TENANT_NAME"
        " WHERE r.RESOURCE_TYPE_CODE = 'AGENT'",
        [audit_key],
        _a=agents.select("tenant", "agent"),
    )
    con.execute(
        "UPDATE INTERACTION_RESOURCE_FACT SET AFTER_CALL_WORK_COUNT = 0, AFTER_CALL_WORK_DURATION = 0"
        " WHERE RESOURCE_KEY IN (SELECT k FROM _acw_agents)"
        " AND (AFTER_CALL_WORK_COUNT <> 0 OR AFTER_CALL_WORK_DURATION <> 0)"
    )
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE _acw AS
        WITH m AS (
            SELECT i.INTERACTION_RESOURCE_ID AS id, a.TOTAL_DURATION AS d,
                   row_number() OVER (PARTITION BY a.SM_RES_STATE_FACT_KEY
                                      ORDER BY i.END_TS DESC, i.INTERACTION_RESOURCE_ID DESC) AS rn
            FROM SM_RES_STATE_FACT a
            JOIN SM_RES_SESSION_FACT s ON s.SM_RES_SESSION_FACT_KEY = a.SM_RES_SESSION_FACT_KEY
            JOIN INTERACTION_RESOURCE_FACT i ON i.RESOURCE_KEY = a.RESOURCE_KEY AND i.MEDIA_TYPE_KEY = a.MEDIA_TYPE_KEY
             AND i.ACTIVE_FLAG = 0 AND i.HANDLE_COUNT > 0 AND i.END_TS <= a.START_TS AND i.END_TS >= s.START_TS
            WHERE a.RESOURCE_STATE_KEY = {_ACW} AND a.ACTIVE_FLAG = 0 AND a.RESOURCE_KEY IN (SELECT k FROM _acw_agents)
        )
        SELECT id, count(*) AS n, sum(d) AS d FROM m WHERE rn = 1 GROUP BY id
        """
    )
    con.execute(
        "UPDATE INTERACTION_RESOURCE_FACT i SET AFTER_CALL_WORK_COUNT = _acw.n, AFTER_CALL_WORK_DURATION = _acw.d"
        " FROM _acw WHERE i.INTERACTION_RESOURCE_ID = _acw.id"
    )
    n = con.execute("SELECT count(*) FROM _acw").fetchall()[0][0]
    con.execute("DROP TABLE _acw")
    con.execute("DROP TABLE _acw_agents")
    return n
