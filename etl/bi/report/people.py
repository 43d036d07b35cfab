"""Agents and queues: handle and mediation time (h:mm:ss) in a chart of the top N and a table whose tail is one
"others (N)" row. Sums are ranked and folded in DuckDB (`top_n`); averages are sums over sums, so the "others"
row's averages are weighted like every other row's.
"""

from __future__ import annotations

import duckdb

from etl.bi.report.fmt import ratio
from etl.bi.report.palette import COLORS
from etl.bi.report.period import Period
from etl.bi.report.svg import Series, hbar_chart
from etl.bi.report.tables import definitions, dur, table, top_n

_AGENTS = f"""
SELECT AGENT_NAME, SUM(OFFERED) AS OFFERED, SUM(ACCEPTED) AS ACCEPTED, SUM(HANDLED) AS HANDLED,
       SUM(REPLIES) AS REPLIES, SUM(TRANSFERRED) AS TRANSFERRED, SUM(HANDLE_TIME) AS HANDLE_TIME,
       COALESCE(SUM(MEDIATION_TIME) FILTER (WHERE ACCEPTED = 1), 0) AS MEDIATION_TIME,
       row_number() OVER (ORDER BY SUM(HANDLED) DESC, AGENT_NAME) AS RANK_
FROM AG2_AGENT_IRF WHERE {Period.where("START_TS")} GROUP BY AGENT_NAME"""

# Handle time after a queue: agent IRFs attributed to the last virtual queue, else the mediation resource.
_QUEUES = f"""
WITH h AS (
    SELECT q.RESOURCE_NAME AS QUEUE_NAME,
           SUM(f.TALK_DURATION + f.HOLD_DURATION + f.AFTER_CALL_WORK_DURATION) FILTER (WHERE f.HANDLE_COUNT > 0)
               AS HANDLE_TIME,
           COUNT(*) FILTER (WHERE f.HANDLE_COUNT > 0) AS HANDLINGS
    FROM INTERACTION_RESOURCE_FACT f
    JOIN RESOURCE_ a ON a.RESOURCE_KEY = f.RESOURCE_KEY AND a.RESOURCE_TYPE = 'Agent'
    JOIN RESOURCE_ q ON q.RESOURCE_KEY = CASE WHEN f.LAST_VQUEUE_RESOURCE_KEY > 0
                                             THEN f.LAST_VQUEUE_RESOURCE_KEY ELSE f.MEDIATION_RESOURCE_KEY END
    WHERE q.RESOURCE_KEY > 0 AND {Period.where("f.START_TS")}
    GROUP BY ALL),
m AS (
    SELECT QUEUE_NAME, any_value(QUEUE_TYPE) AS QUEUE_TYPE, SUM(ENTERED) AS ENTERED, SUM(ACCEPTED) AS ACCEPTED,
           SUM(ABANDONED) AS ABANDONED, SUM(CLEARED) AS CLEARED, SUM(MEDIATION_TIME) AS MEDIATION_TIME
    FROM AG2_QUEUE_MSF WHERE {Period.where("START_TS")} GROUP BY QUEUE_NAME)
SELECT m.*, COALESCE(h.HANDLE_TIME, 0) AS HANDLE_TIME, COALESCE(h.HANDLINGS, 0) AS HANDLINGS,
       row_number() OVER (ORDER BY m.ENTERED DESC, m.QUEUE_NAME) AS RANK_
FROM m LEFT JOIN h USING (QUEUE_NAME)"""


def agents(con: duckdb.DuckDBPyConnection, period: Period) -> tuple[str, str]:
    ranked = top_n(
        con,
        _AGENTS,
        period.params,
        ["AGENT_NAME"],
        ["OFFERED", "ACCEPTED", "HANDLED", "REPLIES", "TRANSFERRED", "HANDLE_TIME", "MEDIATION_TIME"],
    )
    top = ranked.top
    c = COLORS["agents"]
    chart = hbar_chart(
        "agents",
        f"Agents: average handle and mediation time (top {len(top)} of {ranked.total} by handled)",
        [r[0] for r in top],
        [
            Series("avg handle time", c[0], [ratio(r[6], r[3]) or 0.0 for r in top]),
            Series("avg mediation before accept", c[1], [ratio(r[7], r[2]) or 0.0 for r in top]),
        ],
        note=definitions("handle time", "mediation time"),
        duration=True,
    )
    tab = table(
        ["agent", "offered", "accepted", "handled", "replies", "transferred", "avg handle", "avg mediation"],
        [
            (a, o, acc, h, rep, t, dur(ratio(ht, h)), dur(ratio(mt, acc)))
            for a, o, acc, h, rep, t, ht, mt in ranked.rows
        ],
    )
    title = f"<h2>Agents (top {len(top)} of {ranked.total} by handled)</h2>"
    return chart, title + definitions("offered", "accepted", "handled") + tab


def queues(con: duckdb.DuckDBPyConnection, period: Period) -> tuple[str, str]:
    ranked = top_n(
        con,
        _QUEUES,
        period.params * 2,
        ["QUEUE_NAME", "QUEUE_TYPE"],
        ["ENTERED", "ACCEPTED", "ABANDONED", "CLEARED", "MEDIATION_TIME", "HANDLE_TIME", "HANDLINGS"],
    )
    top = ranked.top
    c = COLORS["queues"]
    chart = hbar_chart(
        "queues",
        f"Queues: average mediation time (MSF) and handle time after the queue (top {len(top)} of {ranked.total})",
        [r[0] for r in top],
        [
            Series("avg mediation time", c[0], [ratio(r[6], r[2]) or 0.0 for r in top]),
            Series("avg handle time", c[1], [ratio(r[7], r[8]) or 0.0 for r in top]),
        ],
        note=definitions("mediation time", "handle time"),
        duration=True,
    )
    tab = table(
        ["queue", "type", "entered", "accepted", "abandoned", "cleared", "avg mediation", "avg handle after"],
        [
            (q, t, e, acc, ab, cl, dur(ratio(mt, e)), dur(ratio(ht, hn)))
            for q, t, e, acc, ab, cl, mt, ht, hn in ranked.rows
        ],
    )
    title = f"<h2>Queues (top {len(top)} of {ranked.total} by entered)</h2>"
    return chart, title + definitions("entered", "accepted by queue", "abandoned", "cleared") + tab
