"""`gim-etl report`: one self-contained HTML file over the mart (inline SVG charts, inline CSS, no script, no network).

Sections: volumes by interval, handle and mediation time by agent and by queue, technical result mix, quarantine
and run summary. Numbers come from the RAA-style views of ``schema/views`` (created as TEMP views on the read-only
connection when the mart does not have them yet), so the report and the BI tools agree.
"""

from __future__ import annotations

import html
import math
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from etl.bi.agent_state_report import agent_state_section
from etl.connections import connect
from etl.storage.views import create_views, has_views

# One palette per chart, so a screenshot test can find every chart by its colours.
COLORS = {
    "volumes": ("#1f77b4", "#ff7f0e", "#2ca02c"),
    "agents": ("#9467bd", "#8c564b"),
    "queues": ("#17becf", "#bcbd22"),
    "results": ("#d62728", "#7f7f7f"),
}
CHART_IDS = tuple(COLORS)


@dataclass(frozen=True)
class Series:
    name: str
    color: str
    values: list[float]


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _fmt(v: float) -> str:
    return f"{v:,.0f}" if float(v).is_integer() or abs(v) >= 100 else f"{v:,.1f}"


def _nice_max(vmax: float, ticks: int = 4) -> tuple[float, float]:
    if vmax <= 0:
        return 1.0, 0.25
    raw = vmax / ticks
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    return step * math.ceil(vmax / step), step


def _legend(series: list[Series], x: float, y: float) -> str:
    out, cx = [], x
    for s in series:
        out.append(
            f'<rect x="{cx:.1f}" y="{y - 10:.1f}" width="12" height="12" fill="{s.color}"/>'
            f'<text x="{cx + 16:.1f}" y="{y:.1f}" class="lg">{_e(s.name)}</text>'
        )
        cx += 24 + 7 * len(s.name)
    return "".join(out)


def vbar_chart(
    chart_id: str,
    title: str,
    categories: list[str],
    series: list[Series],
    width: int = 1120,
    height: int = 300,
    unit: str = "",
) -> str:
    """Grouped vertical bars, one group per category (interval)."""
    left, right, top, bottom = 56, 12, 34, 54
    pw, ph = width - left - right, height - top - bottom
    vmax, step = _nice_max(max((v for s in series for v in s.values), default=0))
    parts = [_legend(series, left, 16)]
    t = 0.0
    while t <= vmax + 1e-9:
        y = top + ph - ph * t / vmax
        parts.append(
            f'<line x1="{left}" x2="{left + pw}" y1="{y:.1f}" y2="{y:.1f}" class="grid"/>'
            f'<text x="{left - 6}" y="{y + 4:.1f}" class="ax" text-anchor="end">{_fmt(t)}</text>'
        )
        t += step
    n = max(len(categories), 1)
    gw = pw / n
    bw = max(gw * 0.8 / max(len(series), 1), 1.0)
    label_every = max(1, math.ceil(n / 24))
    for i, cat in enumerate(categories):
        gx = left + i * gw + gw * 0.1
        for j, s in enumerate(series):
            v = s.values[i]
            h = ph * v / vmax
            parts.append(
                f'<rect x="{gx + j * bw:.1f}" y="{top + ph - h:.1f}" width="{bw:.1f}" height="{h:.1f}" '
                f'fill="{s.color}"><title>{_e(cat)} {_e(s.name)}: {_fmt(v)}{unit}</title></rect>'
            )
        if i % label_every == 0:
            x = left + i * gw + gw / 2
            parts.append(
                f'<text x="{x:.1f}" y="{top + ph + 14}" class="ax" text-anchor="end" '
                f'transform="rotate(-40 {x:.1f} {top + ph + 14})">{_e(cat)}</text>'
            )
    parts.append(f'<line x1="{left}" x2="{left + pw}" y1="{top + ph}" y2="{top + ph}" class="axis"/>')
    return _figure(chart_id, title, width, height, parts, not categories)


def hbar_chart(
    chart_id: str,
    title: str,
    categories: list[str],
    series: list[Series],
    width: int = 550,
    height: int | None = None,
    unit: str = "",
    left: int = 120,
) -> str:
    """Grouped horizontal bars, one row per category (agent, queue, descriptor)."""
    right, top, bottom = 46, 30, 22
    row = 10 * len(series) + 6
    height = height or top + bottom + row * max(len(categories), 1)
    pw = width - left - right
    ph = height - top - bottom
    row = ph / max(len(categories), 1)
    bh = max((row - 4) / max(len(series), 1), 1.0)
    vmax, step = _nice_max(max((v for s in series for v in s.values), default=0), ticks=3)
    parts = [_legend(series, 10, 16)]
    t = 0.0
    while t <= vmax + 1e-9:
        x = left + pw * t / vmax
        parts.append(
            f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{top}" y2="{top + ph}" class="grid"/>'
            f'<text x="{x:.1f}" y="{top + ph + 14}" class="ax" text-anchor="middle">{_fmt(t)}</text>'
        )
        t += step
    for i, cat in enumerate(categories):
        y0 = top + i * row + 2
        parts.append(
            f'<text x="{left - 6}" y="{y0 + row / 2 + 2:.1f}" class="ax" text-anchor="end">'
            f"{_e(cat[: left // 6])}</text>"
        )
        for j, s in enumerate(series):
            v = s.values[i]
            w = pw * v / vmax
            y = y0 + j * bh
            parts.append(
                f'<rect x="{left}" y="{y:.1f}" width="{w:.1f}" height="{bh:.1f}" fill="{s.color}">'
                f"<title>{_e(cat)} {_e(s.name)}: {_fmt(v)}{unit}</title></rect>"
                f'<text x="{left + w + 3:.1f}" y="{y + bh - 1:.1f}" class="val">{_fmt(v)}</text>'
            )
    parts.append(f'<line x1="{left}" x2="{left}" y1="{top}" y2="{top + ph}" class="axis"/>')
    return _figure(chart_id, title, width, height, parts, not categories)


def _figure(chart_id: str, title: str, width: int, height: int, parts: list[str], empty: bool) -> str:
    body = (
        '<p class="empty">no data</p>'
        if empty
        else f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="{_e(title)}" shape-rendering="crispEdges">'
        + "".join(parts)
        + "</svg>"
    )
    return f'<figure class="chart" id="chart-{chart_id}"><figcaption>{_e(title)}</figcaption>{body}</figure>'


def table(headers: list[str], rows: list[tuple], klass: str = "") -> str:
    head = "".join(f"<th>{_e(h)}</th>" for h in headers)
    body = "".join(
        "<tr>"
        + "".join(
            f"<td{' class=n' if isinstance(c, int | float) else ''}>"
            f"{_e(_fmt(c) if isinstance(c, int | float) else c)}</td>"
            for c in r
        )
        + "</tr>"
        for r in rows
    )
    return f'<table class="{klass}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def _rows(con: duckdb.DuckDBPyConnection, sql: str) -> list[tuple]:
    return con.execute(sql).fetchall()


def _interval_grain(con: duckdb.DuckDBPyConnection) -> tuple[str, str, str]:
    (n,) = _rows(
        con,
        "SELECT COUNT(DISTINCT SUBHR_KEY) FROM (SELECT SUBHR_KEY FROM AG2_AGENT_IRF "
        "UNION ALL SELECT SUBHR_KEY FROM AG2_QUEUE_MSF)",
    )[0]
    if n <= 96:
        return "SUBHR", "%H:%M", "15-minute interval"
    (h,) = _rows(con, "SELECT COUNT(DISTINCT HOUR_KEY) FROM AG2_AGENT_IRF")[0]
    return ("HOUR", "%m-%d %H:00", "hour") if h <= 96 else ("DAY", "%Y-%m-%d", "day")


def _volumes(con: duckdb.DuckDBPyConnection) -> str:
    grain, fmt, label = _interval_grain(con)
    data = _rows(
        con,
        f"""
        WITH q AS (SELECT DATE_TIME_KEY, SUM(ENTERED) AS entered FROM AG2_QUEUE_{grain}
                   WHERE QUEUE_TYPE = 'InteractionQueue' GROUP BY ALL),
             a AS (SELECT DATE_TIME_KEY, SUM(OFFERED) AS offered, SUM(REPLIES) AS replies FROM AG2_AGENT_{grain}
                   GROUP BY ALL)
        SELECT DATE_TIME_KEY, COALESCE(entered, 0), COALESCE(offered, 0), COALESCE(replies, 0)
        FROM q FULL OUTER JOIN a USING (DATE_TIME_KEY) ORDER BY DATE_TIME_KEY""",
    )
    cats = [datetime.fromtimestamp(k, UTC).strftime(fmt) for k, *_ in data]
    c = COLORS["volumes"]
    series = [
        Series("entered interaction queue", c[0], [float(r[1]) for r in data]),
        Series("offered to agents", c[1], [float(r[2]) for r in data]),
        Series("replies sent", c[2], [float(r[3]) for r in data]),
    ]
    return vbar_chart("volumes", f"Volumes by {label} (UTC) — AG2_QUEUE_{grain}, AG2_AGENT_{grain}", cats, series)


def _agents(con: duckdb.DuckDBPyConnection, limit: int = 15) -> tuple[str, str]:
    data = _rows(
        con,
        """
        SELECT AGENT_NAME, SUM(OFFERED)::BIGINT, SUM(ACCEPTED)::BIGINT, SUM(REPLIES)::BIGINT, SUM(HANDLED)::BIGINT,
               ROUND(SUM(HANDLE_TIME) / NULLIF(SUM(HANDLED), 0), 1),
               ROUND(SUM(MEDIATION_TIME) FILTER (WHERE ACCEPTED = 1) / NULLIF(SUM(ACCEPTED), 0), 1)
        FROM AG2_AGENT_IRF GROUP BY AGENT_NAME ORDER BY SUM(HANDLED) DESC, AGENT_NAME""",
    )
    top = data[:limit]
    c = COLORS["agents"]
    chart = hbar_chart(
        "agents",
        f"Agents: average handle and mediation time, s (top {len(top)} by handled)",
        [r[0] for r in top],
        [
            Series("avg handle time", c[0], [float(r[5] or 0) for r in top]),
            Series("avg mediation before accept", c[1], [float(r[6] or 0) for r in top]),
        ],
        unit=" s",
        height=440,
    )
    tab = table(
        ["agent", "offered", "accepted", "replies", "handled", "avg handle s", "avg mediation s"],
        [tuple(x if x is not None else "-" for x in r) for r in data],
    )
    return chart, tab


def _queues(con: duckdb.DuckDBPyConnection) -> tuple[str, str]:
    data = _rows(
        con,
        """
        WITH h AS (
            SELECT q.RESOURCE_NAME AS QUEUE_NAME,
                   ROUND(SUM(f.TALK_DURATION + f.HOLD_DURATION + f.AFTER_CALL_WORK_DURATION)
                         / NULLIF(COUNT(*) FILTER (WHERE f.HANDLE_COUNT > 0), 0), 1) AS avg_handle
            FROM INTERACTION_RESOURCE_FACT f
            JOIN RESOURCE_ a ON a.RESOURCE_KEY = f.RESOURCE_KEY AND a.RESOURCE_TYPE = 'Agent'
            JOIN RESOURCE_ q ON q.RESOURCE_KEY = CASE WHEN f.LAST_VQUEUE_RESOURCE_KEY > 0
                                                     THEN f.LAST_VQUEUE_RESOURCE_KEY ELSE f.MEDIATION_RESOURCE_KEY END
            WHERE q.RESOURCE_KEY > 0
            GROUP BY ALL)
        SELECT m.QUEUE_NAME, any_value(m.QUEUE_TYPE), SUM(m.ENTERED)::BIGINT, SUM(m.ACCEPTED)::BIGINT,
               SUM(m.ABANDONED)::BIGINT, SUM(m.CLEARED)::BIGINT, ROUND(AVG(m.MEDIATION_TIME), 1),
               any_value(h.avg_handle)
        FROM AG2_QUEUE_MSF m LEFT JOIN h USING (QUEUE_NAME)
        GROUP BY m.QUEUE_NAME ORDER BY SUM(m.ENTERED) DESC, m.QUEUE_NAME""",
    )
    c = COLORS["queues"]
    chart = hbar_chart(
        "queues",
        "Queues: average mediation time (MSF) and handle time after the queue, s",
        [r[0] for r in data[:15]],
        [
            Series("avg mediation time", c[0], [float(r[6] or 0) for r in data[:15]]),
            Series("avg handle time", c[1], [float(r[7] or 0) for r in data[:15]]),
        ],
        unit=" s",
        height=440,
    )
    tab = table(
        ["queue", "type", "entered", "accepted", "abandoned", "cleared", "avg mediation s", "avg handle s"],
        [tuple(x if x is not None else "-" for x in r) for r in data],
    )
    return chart, tab


def _results(con: duckdb.DuckDBPyConnection) -> tuple[str, str]:
    data = _rows(
        con,
        """
        SELECT d.RESOURCE_ROLE || ' / ' || d.TECHNICAL_RESULT
               || CASE WHEN d.RESULT_REASON = 'Unspecified' THEN '' ELSE ' [' || d.RESULT_REASON || ']' END AS label,
               COUNT(*) FILTER (WHERE r.RESOURCE_TYPE = 'Agent') AS agent_irfs,
               COUNT(*) FILTER (WHERE r.RESOURCE_TYPE <> 'Agent') AS other_irfs
        FROM INTERACTION_RESOURCE_FACT f
        JOIN TECHNICAL_DESCRIPTOR d USING (TECHNICAL_DESCRIPTOR_KEY)
        JOIN RESOURCE_ r ON r.RESOURCE_KEY = f.RESOURCE_KEY
        GROUP BY ALL ORDER BY COUNT(*) DESC, label""",
    )
    msf = _rows(
        con,
        """
        SELECT d.TECHNICAL_RESULT, COUNT(*) FROM MEDIATION_SEGMENT_FACT f
        JOIN TECHNICAL_DESCRIPTOR d USING (TECHNICAL_DESCRIPTOR_KEY) GROUP BY ALL ORDER BY 2 DESC, 1""",
    )
    c = COLORS["results"]
    top = data[:14]
    chart = hbar_chart(
        "results",
        "Technical result mix of IRFs (role / result [reason])",
        [r[0] for r in top],
        [
            Series("agent IRFs", c[0], [float(r[1]) for r in top]),
            Series("strategy / queue IRFs", c[1], [float(r[2]) for r in top]),
        ],
        height=440,
        left=230,
    )
    tab = table(["IRF role / result [reason]", "agent IRFs", "other IRFs"], data) + table(
        ["MSF technical result", "segments"], msf
    )
    return chart, tab


def _quarantine(con: duckdb.DuckDBPyConnection) -> tuple[int, str]:
    by_reason = _rows(
        con,
        """
        SELECT COALESCE(FIELD, '(line)'), REASON, COUNT(*), MIN(SOURCE_FILE || ':' || SOURCE_LINE)
        FROM STG_EVENT_QUARANTINE GROUP BY ALL ORDER BY 3 DESC, 1, 2""",
    )
    total = sum(r[2] for r in by_reason)
    if not by_reason:
        return 0, '<p class="ok">No quarantined input.</p>'
    return total, table(["field", "reason", "lines", "first at"], by_reason)


def _runs(con: duckdb.DuckDBPyConnection) -> tuple[dict[str, int], str]:
    rows = _rows(
        con,
        """
        SELECT RUN_ID[:8], START_TIME, STATUS, FILES_READ, EVENTS_READ, EVENTS_LOADED, EVENTS_DUPLICATE,
               EVENTS_QUARANTINED, INTERACTION_FACT_ROWS, INTERACTION_RESOURCE_FACT_ROWS, MEDIATION_SEGMENT_FACT_ROWS
        FROM CTL_AUDIT_LOG ORDER BY START_TIME""",
    )
    counts = dict(
        zip(
            ("interactions", "irfs", "msfs", "agents", "active"),
            _rows(
                con,
                """
        SELECT (SELECT COUNT(*) FROM INTERACTION_FACT), (SELECT COUNT(*) FROM INTERACTION_RESOURCE_FACT),
               (SELECT COUNT(*) FROM MEDIATION_SEGMENT_FACT),
               (SELECT COUNT(*) FROM RESOURCE_ WHERE RESOURCE_TYPE = 'Agent'),
               (SELECT COUNT(*) FROM INTERACTION_FACT WHERE ACTIVE_FLAG = 1)""",
            )[0],
            strict=True,
        )
    )
    tab = table(
        [
            "run",
            "started",
            "status",
            "files",
            "events read",
            "loaded",
            "duplicate",
            "quarantined",
            "IF rows",
            "IRF rows",
            "MSF rows",
        ],
        [tuple(str(c) if not isinstance(c, int) else c for c in r) for r in rows],
    )
    return counts, tab


CSS = """
body{font:13px/1.4 system-ui,-apple-system,'Segoe UI',Roboto,'Liberation Sans',sans-serif;margin:0;background:#fff;
color:#222}
header{padding:14px 24px 6px;border-bottom:1px solid #ddd}h1{font-size:20px;margin:0 0 4px}
.sub{color:#666}.kpis{display:flex;gap:12px;padding:10px 24px;flex-wrap:wrap}
.kpi{border:1px solid #ddd;border-radius:6px;padding:6px 12px;min-width:100px}.kpi b{display:block;font-size:18px}
main{padding:0 24px 24px}.grid2{display:grid;grid-template-columns:1fr 1fr;gap:16px}
figure.chart{margin:10px 0;border:1px solid #e5e5e5;border-radius:6px;padding:6px 8px}
figcaption{font-weight:600;margin-bottom:4px}svg text{font-size:10.5px;fill:#333}svg text.lg{font-size:11px}
svg text.val{font-size:9.5px;fill:#555}.grid{stroke:#eee}.axis{stroke:#999}
table{border-collapse:collapse;margin:8px 0 16px;font-size:12px}th,td{border:1px solid #ddd;padding:2px 8px}
th{background:#f6f6f6;text-align:left}td.n{text-align:right;font-variant-numeric:tabular-nums}
h2{font-size:16px;margin:22px 0 4px}.empty,.ok{color:#666}details{margin:6px 0}
"""


def render_report(con: duckdb.DuckDBPyConnection, title: str = "gim-etl mart report") -> str:
    """The report of the mart ``con`` is connected to (read-only is enough), as one HTML string."""
    if not has_views(con):
        create_views(con, temporary=True)
    counts, runs = _runs(con)
    quarantined, quarantine = _quarantine(con)
    agents_chart, agents_table = _agents(con)
    queues_chart, queues_table = _queues(con)
    results_chart, results_table = _results(con)
    volumes_chart = _volumes(con)
    (span,) = _rows(con, "SELECT MIN(START_TS), MAX(START_TS) FROM INTERACTION_FACT")
    when = " – ".join(datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%d %H:%M") for t in span if t is not None)
    kpis = [
        ("interactions", counts["interactions"]),
        ("resource facts (IRF)", counts["irfs"]),
        ("mediation segments (MSF)", counts["msfs"]),
        ("agents", counts["agents"]),
        ("active interactions", counts["active"]),
        ("quarantined lines", quarantined),
    ]
    kpi_html = "".join(f'<div class="kpi"><b>{_fmt(v)}</b>{_e(k)}</div>' for k, v in kpis)
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{_e(title)}</title>
<meta name="viewport" content="width=device-width, initial-scale=1"><style>{CSS}</style></head>
<body><header><h1>{_e(title)}</h1><div class="sub">Interactions {_e(when or "none")} UTC ·
generated {datetime.now(UTC).strftime("%Y-%m-%d %H:%M")} UTC from the GIM-named DuckDB mart ·
aggregates from the AG2_* views</div></header>
<div class="kpis">{kpi_html}</div>
<main>
{volumes_chart}
<div class="grid2">{agents_chart}{queues_chart}</div>
<div class="grid2">{results_chart}<section><h2>Quarantine</h2>{quarantine}<h2>Runs (CTL_AUDIT_LOG)</h2>
<details><summary>{_e(len(runs) and "show runs")}</summary>{runs}</details></section></div>
<h2>Agents</h2>{agents_table}
<h2>Queues</h2>{queues_table}
<h2>Technical results</h2>{results_table}{agent_state_section(con)}
</main></body></html>
"""


def write_report(db: str | Path, out: str | Path, title: str = "gim-etl mart report") -> Path:
    """Render the report of the mart file ``db`` (opened read-only) into ``out``."""
    con = connect(db, read_only=True)
    try:
        text = render_report(con, title)
    finally:
        con.close()
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    return out
