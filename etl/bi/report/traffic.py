"""Traffic: volumes over time (AG2_QUEUE_* and AG2_AGENT_* at a grain that fits the period) and the media split.

The time axis is continuous (empty intervals are drawn as gaps, not skipped), so the bars' positions are times.
"""

from __future__ import annotations

import duckdb

from etl.bi.report.abandonment import abandoned_by_media
from etl.bi.report.fmt import esc
from etl.bi.report.palette import COLORS
from etl.bi.report.period import Period
from etl.bi.report.svg import Series, hbar_chart, time_bars
from etl.bi.report.tables import definitions, dur, table

_GRAINS = (("SUBHR", 900, "15-minute interval"), ("HOUR", 3600, "hour"), ("DAY", 86400, "day"))


def _span(con: duckdb.DuckDBPyConnection, period: Period) -> tuple[int | None, int | None]:
    (lo, hi) = con.execute(
        f"""SELECT MIN(START_TS), MAX(START_TS) FROM (
              SELECT START_TS FROM AG2_AGENT_IRF UNION ALL SELECT START_TS FROM AG2_QUEUE_MSF)
            WHERE {Period.where("START_TS")}""",
        period.params,
    ).fetchone()
    return lo, hi


def volumes(con: duckdb.DuckDBPyConnection, period: Period) -> str:
    """Entered, offered and replies per interval: 15 minutes up to a day, hours up to four days, else days."""
    lo, hi = _span(con, period)
    grain, step, label = _GRAINS[0]
    if lo is not None:
        grain, step, label = next(g for g in _GRAINS if (hi - lo) // g[1] < 96 or g[0] == "DAY")
    first, last = (lo - lo % step, hi - hi % step) if lo is not None else (0, -1)
    data = con.execute(
        f"""
        WITH q AS (SELECT DATE_TIME_KEY, SUM(ENTERED) AS entered FROM AG2_QUEUE_{grain}
                   WHERE QUEUE_TYPE = 'InteractionQueue' GROUP BY ALL),
             a AS (SELECT DATE_TIME_KEY, SUM(OFFERED) AS offered, SUM(REPLIES) AS replies FROM AG2_AGENT_{grain}
                   GROUP BY ALL)
        SELECT t.DATE_TIME_KEY, COALESCE(entered, 0), COALESCE(offered, 0), COALESCE(replies, 0)
        FROM range(?, ?, ?) t(DATE_TIME_KEY) LEFT JOIN q USING (DATE_TIME_KEY) LEFT JOIN a USING (DATE_TIME_KEY)
        ORDER BY t.DATE_TIME_KEY""",
        [first, last + 1, step],
    ).fetchall()
    c = COLORS["volumes"]
    series = [
        Series("entered interaction queue", c[0], [float(r[1]) for r in data]),
        Series("offered to agents", c[1], [float(r[2]) for r in data]),
        Series("replies sent", c[2], [float(r[3]) for r in data]),
    ]
    return time_bars(
        "volumes",
        f"Volumes by {label} (UTC) — AG2_QUEUE_{grain}, AG2_AGENT_{grain}",
        [r[0] for r in data],
        step,
        series,
        note=definitions("entered", "offered", "replies"),
    )


def media_split(con: duckdb.DuckDBPyConnection, period: Period) -> str:
    """One row per media with data in the period (MEDIA_TYPE grows as new media arrive: chat, work items)."""
    w = Period.where
    rows = con.execute(
        f"""
        WITH i AS (SELECT MEDIA_TYPE_KEY, COUNT(*) AS n, COUNT(*) FILTER (WHERE ACTIVE_FLAG = 1) AS active
                   FROM INTERACTION_FACT WHERE {w("START_TS")} GROUP BY ALL),
             q AS (SELECT MEDIA_TYPE_KEY, SUM(ENTERED) AS entered FROM AG2_QUEUE_MSF
                   WHERE QUEUE_TYPE = 'InteractionQueue' AND {w("START_TS")} GROUP BY ALL),
             a AS (SELECT MEDIA_TYPE_KEY, SUM(OFFERED) AS offered, SUM(HANDLED) AS handled,
                          SUM(HANDLE_TIME) AS handle_time, SUM(ACCEPTED) AS accepted,
                          SUM(MEDIATION_TIME) FILTER (WHERE ACCEPTED = 1) AS mediation_time
                   FROM AG2_AGENT_IRF WHERE {w("START_TS")} GROUP BY ALL)
        SELECT m.MEDIA_NAME, COALESCE(i.n, 0), COALESCE(q.entered, 0), COALESCE(a.offered, 0),
               COALESCE(a.handled, 0), a.handle_time / NULLIF(a.handled, 0), a.mediation_time / NULLIF(a.accepted, 0),
               COALESCE(i.active, 0)
        FROM MEDIA_TYPE m LEFT JOIN i USING (MEDIA_TYPE_KEY) LEFT JOIN q USING (MEDIA_TYPE_KEY)
        LEFT JOIN a USING (MEDIA_TYPE_KEY)
        ORDER BY 2 DESC, 1""",
        period.params * 3,
    ).fetchall()
    abandoned = abandoned_by_media(con, period)
    present = [r for r in rows if r[1] or r[4]]
    absent = [r[0] for r in rows if not (r[1] or r[4])]
    c = COLORS["media"]
    chart = hbar_chart(
        "media",
        "Media split: interactions and handlings",
        [r[0] for r in present],
        [
            Series("interactions", c[0], [float(r[1]) for r in present]),
            Series("handled", c[1], [float(r[4]) for r in present]),
        ],
        note=definitions("interactions", "handled"),
    )
    tab = table(
        [
            "media",
            "interactions",
            "entered queue",
            "offered",
            "handled",
            "avg handle",
            "avg mediation",
            "abandoned",
            "still active",
        ],
        [(m, n, e, o, h, dur(ht), dur(mt), abandoned.get(m, 0), act) for m, n, e, o, h, ht, mt, act in present],
    )
    missing = f'<p class="empty">No {esc(", ".join(absent))} interactions in this period.</p>' if absent else ""
    return f'<div class="grid2">{chart}<section>{tab}{missing}</section></div>'
