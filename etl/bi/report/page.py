"""The report page: headline figures, then traffic, agents and queues, abandonment, results, agent states, loads.

Numbers come from the RAA-style views of ``schema/views`` (created as TEMP views on the read-only connection when
the mart does not have them yet), so the report and the BI tools agree. One file, inline CSS and SVG, no script.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb

from etl.bi.report.abandonment import abandoned_by_media, abandonment_section
from etl.bi.report.agent_states import agent_state_section
from etl.bi.report.fmt import day, esc, hms, num, ratio
from etl.bi.report.people import agents, queues
from etl.bi.report.period import Period
from etl.bi.report.results import quarantine, results, runs
from etl.bi.report.traffic import media_split, volumes
from etl.connections import connect
from etl.storage.views import create_views, has_views

CSS = """
body{font:13px/1.4 system-ui,-apple-system,'Segoe UI',Roboto,'Liberation Sans',sans-serif;margin:0;background:#fff;
color:#222}
header{padding:14px 24px 6px;border-bottom:1px solid #ddd}h1{font-size:20px;margin:0 0 4px}
.sub{color:#555}.kpis{display:flex;gap:10px;padding:10px 24px;flex-wrap:wrap}
.kpi{border:1px solid #ddd;border-radius:6px;padding:6px 10px;flex:1 1 0;min-width:90px;font-size:12px}
.kpi b{display:block;font-size:18px}
main{padding:0 24px 24px}.grid2{display:grid;grid-template-columns:1fr 1fr;gap:16px;align-items:start}
figure.chart{margin:10px 0;border:1px solid #e5e5e5;border-radius:6px;padding:6px 8px;overflow-x:auto}
figure.chart svg{max-width:100%;height:auto}
figcaption{font-weight:600;margin-bottom:2px}svg text{font-size:10.5px;fill:#333}svg text.lg{font-size:11px}
svg text.val{font-size:9.5px;fill:#555}svg text.day{font-size:11px;font-weight:600;fill:#222}
.grid{stroke:#eee}.axis{stroke:#999}.daysep{stroke:#999;stroke-dasharray:3 3}
table{border-collapse:collapse;margin:6px 0 16px;font-size:12px}th,td{border:1px solid #ddd;padding:2px 8px}
th{background:#f6f6f6;text-align:left}td.n{text-align:right;font-variant-numeric:tabular-nums}
tr.others td{background:#fafafa;font-style:italic}
h2{font-size:16px;margin:22px 0 4px}h3{font-size:13px;margin:12px 0 2px}.empty,.ok{color:#555}details{margin:6px 0}
dl.defs{font-size:11.5px;color:#555;margin:0 0 6px}dl.defs dt{display:inline;font-weight:600;color:#333}
dl.defs dt::after{content:":"}dl.defs dd{display:inline;margin:0 10px 0 4px}
.notice{margin:10px 0;padding:8px 12px;border:1px solid #e0b252;background:#fff8e6;border-radius:6px}
"""


@dataclass(frozen=True)
class Written:
    """What `write_report` wrote: the file, and whether the period held any data (the days the mart holds)."""

    path: Path
    empty: bool
    days: tuple[date, date] | None


def _days(con: duckdb.DuckDBPyConnection) -> tuple[date, date] | None:
    lo, hi = con.execute("SELECT MIN(START_TS), MAX(START_TS) FROM INTERACTION_FACT").fetchone()
    if lo is None:
        return None
    return datetime.fromtimestamp(lo, UTC).date(), datetime.fromtimestamp(hi, UTC).date()


def period_is_empty(con: duckdb.DuckDBPyConnection, period: Period) -> bool:
    """No interaction started and no agent logged in during the period."""
    w = Period.where
    states = "SELECT 1 FROM SM_RES_SESSION_FACT WHERE " + w("START_TS")
    (found,) = con.execute(
        f"SELECT EXISTS (SELECT 1 FROM INTERACTION_FACT WHERE {w('START_TS')}) OR EXISTS ({states})",
        period.params * 2,
    ).fetchone()
    return not found


def _kpis(con: duckdb.DuckDBPyConnection, period: Period, quarantined: int) -> str:
    w, p = Period.where, period.params
    n, active = con.execute(
        f"SELECT COUNT(*), COUNT(*) FILTER (WHERE ACTIVE_FLAG = 1) FROM INTERACTION_FACT WHERE {w('START_TS')}", p
    ).fetchone()
    offered, handled, handle, accepted, mediation, people = con.execute(
        f"""SELECT SUM(OFFERED), SUM(HANDLED), SUM(HANDLE_TIME), SUM(ACCEPTED),
                   SUM(MEDIATION_TIME) FILTER (WHERE ACCEPTED = 1), COUNT(DISTINCT RESOURCE_KEY)
            FROM AG2_AGENT_IRF WHERE {w("START_TS")}""",
        p,
    ).fetchone()
    abandoned = sum(abandoned_by_media(con, period).values())
    kpis = [
        ("interactions", num(n)),
        ("offered to agents", num(offered or 0)),
        ("handled", num(handled or 0)),
        ("abandoned", num(abandoned)),
        ("avg handle time", hms(ratio(handle, handled))),
        ("avg mediation before accept", hms(ratio(mediation, accepted))),
        ("agents who handled", num(people)),
        ("still active", num(active)),
        ("quarantined lines (all runs)", num(quarantined)),
    ]
    return "".join(f'<div class="kpi"><b>{esc(v)}</b>{esc(k)}</div>' for k, v in kpis)


def render_report(
    con: duckdb.DuckDBPyConnection, title: str = "gim-etl mart report", period: Period | None = None
) -> str:
    """The report of the mart ``con`` is connected to (read-only is enough) over ``period``, as one HTML string."""
    period = period or Period()
    if not has_views(con):
        create_views(con, temporary=True)
    quarantined, quarantine_html = quarantine(con)
    agents_chart, agents_table = agents(con, period)
    queues_chart, queues_table = queues(con, period)
    results_chart, results_table = results(con, period)
    states_charts, states_table = agent_state_section(con, period)
    days = _days(con)
    held = f"{day_label(days[0])} – {day_label(days[1])}" if days else "no interactions"
    notice = (
        f'<p class="notice">No interactions and no agent logins in {esc(period.label())}; the mart holds '
        f"{esc(held)}.</p>"
        if period_is_empty(con, period)
        else ""
    )
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{esc(title)}</title>
<meta name="viewport" content="width=device-width, initial-scale=1"><style>{CSS}</style></head>
<body><header><h1>{esc(title)}</h1><div class="sub">Period: <b>{esc(period.label())}</b> · the mart holds
{esc(held)} · generated {datetime.now(UTC).strftime("%Y-%m-%d %H:%M")} UTC from the GIM-named DuckDB mart ·
aggregates from the AG2_* views · durations h:mm:ss</div></header>
<div class="kpis">{_kpis(con, period, quarantined)}</div>
<main>{notice}
{volumes(con, period)}
<h2>Media</h2>{media_split(con, period)}
<div class="grid2">{agents_chart}{queues_chart}</div>
{states_charts}
{abandonment_section(con, period)}
<div class="grid2">{results_chart}<section><h2>Quarantine (all runs)</h2>{quarantine_html}
<h2>Runs (CTL_AUDIT_LOG)</h2><details><summary>show runs</summary>{runs(con)}</details></section></div>
{agents_table}
{queues_table}
<h2>Technical results</h2>{results_table}
{states_table}
</main></body></html>
"""


def day_label(d: date) -> str:
    return day(int(datetime(d.year, d.month, d.day, tzinfo=UTC).timestamp()))


def write_report(
    db: str | Path, out: str | Path, title: str = "gim-etl mart report", period: Period | None = None
) -> Written:
    """Render the report of the mart file ``db`` (opened read-only) over ``period`` into ``out``."""
    period = period or Period()
    con = connect(db, read_only=True)
    try:
        text = render_report(con, title, period)
        empty, days = period_is_empty(con, period), _days(con)
    finally:
        con.close()
    path = Path(out)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return Written(path, empty, days)
