"""The report's agent-state section: agent utilisation from the AG2_AGENT_STATE_* views.

A stacked bar per agent splits its login time into ready, not ready, after-call work (wrap), busy and logged on
only (the SM_RES_STATE_FACT states, clipped and summed by AG2_AGENT_STATE_DAY); a second chart shows not-ready time
by reason (AG2_AGENT_STATE_RSN_DAY); a table gives each agent and media its login time and shares. The period
selects whole UTC days (the DAY view's DATE_TIME_KEY).
"""

from __future__ import annotations

import duckdb

from etl.bi.report.palette import COLORS
from etl.bi.report.period import Period
from etl.bi.report.svg import stacked_bars
from etl.bi.report.tables import TOP_N, dur, pct, table, top_n

STATES = ("ready", "not ready", "wrap", "busy", "logged on only")

_NOTE = (
    '<dl class="defs"><dt>login time</dt><dd>time logged in on the media (SM_RES_SESSION_FACT); the states '
    "split it. Not ready includes do-not-disturb; wrap is after-call work.</dd></dl>"
)


def _login_table(con: duckdb.DuckDBPyConnection, period: Period) -> str:
    ranked = top_n(
        con,
        f"""
        SELECT AGENT_NAME, MEDIA_NAME, SUM(LOGIN_TIME) AS LOGIN, SUM(READY_TIME) AS READY,
               SUM(NOT_READY_TIME) AS NOT_READY, SUM(WRAP_TIME) AS WRAP, SUM(LOGGED_ON_ONLY_TIME) AS LOGGED_ON_ONLY,
               row_number() OVER (ORDER BY SUM(LOGIN_TIME) DESC, AGENT_NAME, MEDIA_NAME) AS RANK_
        FROM AG2_AGENT_STATE_DAY WHERE {Period.where("DATE_TIME_KEY")}
        GROUP BY AGENT_NAME, MEDIA_NAME HAVING SUM(LOGIN_TIME) > 0""",
        period.params,
        ["AGENT_NAME", "MEDIA_NAME"],
        ["LOGIN", "READY", "NOT_READY", "WRAP", "LOGGED_ON_ONLY"],
        n=2 * TOP_N,
    )
    rows = [(a, m, dur(login), *(pct(v, login) for v in rest)) for a, m, login, *rest in ranked.rows]
    return table(["agent", "media", "logged in", "ready", "not ready", "wrap", "logged on only"], rows)


def agent_state_section(
    con: duckdb.DuckDBPyConnection, period: Period | None = None, limit: int = 20
) -> tuple[str, str]:
    """The section's charts and its table, as HTML (both empty when the mart has no agent-state views)."""
    period = period or Period()
    views = {n.upper() for (n,) in con.execute("SELECT view_name FROM duckdb_views()").fetchall()}
    if "AG2_AGENT_STATE_DAY" not in views:
        return "", ""
    per_agent = con.execute(
        f"""
        SELECT AGENT_NAME, SUM(READY_TIME), SUM(NOT_READY_TIME), SUM(WRAP_TIME), SUM(BUSY_TIME),
               SUM(LOGGED_ON_ONLY_TIME), COUNT(*) OVER () AS AGENTS
        FROM AG2_AGENT_STATE_DAY WHERE {Period.where("DATE_TIME_KEY")}
        GROUP BY AGENT_NAME ORDER BY SUM(LOGIN_TIME) DESC, AGENT_NAME LIMIT {int(limit)}""",
        period.params,
    ).fetchall()
    reasons = con.execute(
        f"""
        SELECT REASON, SUM(STATE_TIME) FROM AG2_AGENT_STATE_RSN_DAY
        WHERE STATE_NAME = 'NotReady' AND {Period.where("DATE_TIME_KEY")}
        GROUP BY REASON ORDER BY SUM(STATE_TIME) DESC, REASON LIMIT 12""",
        period.params,
    ).fetchall()
    total = per_agent[0][6] if per_agent else 0
    utilisation = stacked_bars(
        "agent-states",
        f"Agent utilisation: login time by state, all media (top {len(per_agent)} of {total} by login time)",
        [(r[0], [float(v or 0) for v in r[1:6]]) for r in per_agent],
        STATES,
        COLORS["agent-states"],
        note=_NOTE,
    )
    by_reason = stacked_bars(
        "not-ready-reasons",
        "Not ready time by reason",
        [(r[0], [float(r[1] or 0)]) for r in reasons],
        ("not ready",),
        COLORS["not-ready-reasons"],
    )
    return (
        f"<h2>Agent states</h2>{utilisation}{by_reason}",
        f"<h2>Login time by agent and media</h2>{_login_table(con, period)}",
    )
