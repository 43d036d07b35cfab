"""The HTML report's agent-state section: agent utilisation from the AG2_AGENT_STATE_* views.

A stacked bar per agent splits its login time into ready, not ready, after-call work (wrap), busy and logged on
only (the SM_RES_STATE_FACT states, clipped and summed by AG2_AGENT_STATE_DAY); a second chart shows not-ready time
by reason (AG2_AGENT_STATE_RSN_DAY); a table gives each agent and media its hours and shares. Inline SVG only, the
same conventions as `etl.bi.report` (which calls `agent_state_section` and owns the page's CSS).
"""

from __future__ import annotations

import html

import duckdb

#: Chart id -> its series colours (a screenshot test can find every chart by its colours).
COLORS = {
    "agent-states": ("#2ca02c", "#d62728", "#ff7f0e", "#9467bd", "#c7c7c7"),
    "not-ready-reasons": ("#e377c2",),
}
_STATES = ("ready", "not ready", "wrap", "busy", "logged on only")


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _hours(seconds: float) -> str:
    return f"{seconds / 3600:,.1f} h"


def stacked_bars(chart_id: str, title: str, rows: list[tuple[str, list[float]]], names: tuple[str, ...]) -> str:
    """Horizontal bars, one per row, each split into `names` segments (seconds), with a legend."""
    colors = COLORS[chart_id]
    if not rows:
        caption = f"<figcaption>{_e(title)}</figcaption>"
        return f'<figure class="chart" id="chart-{chart_id}">{caption}<p class="empty">no data</p></figure>'
    width, left, top, bar, gap = 1120, 130, 30, 16, 6
    height = top + len(rows) * (bar + gap) + 24
    vmax = max(sum(v) for _, v in rows) or 1.0
    scale = (width - left - 70) / vmax
    parts = []
    for j, name in enumerate(names):
        x = left + j * 130
        parts.append(
            f'<rect x="{x}" y="6" width="12" height="12" fill="{colors[j]}"/>'
            f'<text x="{x + 16}" y="16" class="lg">{_e(name)}</text>'
        )
    for i, (label, values) in enumerate(rows):
        y = top + i * (bar + gap)
        parts.append(f'<text x="{left - 6}" y="{y + bar - 4}" class="ax" text-anchor="end">{_e(label[:20])}</text>')
        x = float(left)
        for j, v in enumerate(values):
            w = v * scale
            if w > 0:
                parts.append(
                    f'<rect x="{x:.1f}" y="{y}" width="{w:.1f}" height="{bar}" fill="{colors[j]}">'
                    f"<title>{_e(label)} {_e(names[j])}: {_hours(v)}</title></rect>"
                )
            x += w
        parts.append(f'<text x="{x + 4:.1f}" y="{y + bar - 4}" class="val">{_hours(sum(values))}</text>')
    svg = (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}"'
        f' role="img" aria-label="{_e(title)}" shape-rendering="crispEdges">{"".join(parts)}</svg>'
    )
    return f'<figure class="chart" id="chart-{chart_id}"><figcaption>{_e(title)}</figcaption>{svg}</figure>'


def _table(con: duckdb.DuckDBPyConnection) -> str:
    rows = con.execute(
        """
        SELECT AGENT_NAME, MEDIA_NAME, SUM(LOGIN_TIME), SUM(READY_TIME), SUM(NOT_READY_TIME), SUM(WRAP_TIME),
               SUM(LOGGED_ON_ONLY_TIME)
        FROM AG2_AGENT_STATE_DAY GROUP BY ALL HAVING SUM(LOGIN_TIME) > 0 ORDER BY AGENT_NAME, MEDIA_NAME"""
    ).fetchall()

    def pct(part: float, whole: float) -> str:
        return f"{100 * part / whole:.0f} %" if whole else "-"

    head = "".join(
        f"<th>{h}</th>" for h in ("agent", "media", "logged in", "ready", "not ready", "wrap", "logged on only")
    )
    body = "".join(
        f"<tr><td>{_e(a)}</td><td>{_e(m)}</td><td class=n>{_hours(login)}</td>"
        + "".join(f"<td class=n>{pct(v, login)}</td>" for v in (r, nr, w, lo))
        + "</tr>"
        for a, m, login, r, nr, w, lo in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def agent_state_section(con: duckdb.DuckDBPyConnection, limit: int = 20) -> str:
    """The section's HTML (empty when the mart has no agent-state views)."""
    views = {n.upper() for (n,) in con.execute("SELECT view_name FROM duckdb_views()").fetchall()}
    if "AG2_AGENT_STATE_DAY" not in views:
        return ""
    per_agent = con.execute(
        f"""
        SELECT AGENT_NAME, SUM(READY_TIME), SUM(NOT_READY_TIME), SUM(WRAP_TIME), SUM(BUSY_TIME),
               SUM(LOGGED_ON_ONLY_TIME)
        FROM AG2_AGENT_STATE_DAY GROUP BY AGENT_NAME ORDER BY SUM(LOGIN_TIME) DESC, AGENT_NAME LIMIT {int(limit)}"""
    ).fetchall()
    reasons = con.execute(
        """
        SELECT REASON, SUM(STATE_TIME) FROM AG2_AGENT_STATE_RSN_DAY WHERE STATE_NAME = 'NotReady'
        GROUP BY REASON ORDER BY SUM(STATE_TIME) DESC, REASON LIMIT 12"""
    ).fetchall()
    utilisation = stacked_bars(
        "agent-states",
        f"Agent utilisation: login time by state, all media (top {len(per_agent)} by login time)",
        [(r[0], [float(v or 0) for v in r[1:]]) for r in per_agent],
        _STATES,
    )
    by_reason = stacked_bars(
        "not-ready-reasons", "Not ready time by reason", [(r[0], [float(r[1] or 0)]) for r in reasons], ("not ready",)
    )
    return f"<h2>Agent states</h2>{utilisation}{by_reason}<h3>Login time by agent and media</h3>{_table(con)}"
