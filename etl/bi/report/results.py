"""Technical results (GIM's RESOURCE_ROLE / TECHNICAL_RESULT [RESULT_REASON] notation), quarantine and runs.

The descriptor labels are the ones of https://docs.genesys.com/Documentation/GIM/latest/User/GIMTechDescr, so a
GIM user reads the mix as in Genesys' own reports. Quarantine and runs are about the loads, not the period: they
cover every run (a quarantined line has no trusted time).
"""

from __future__ import annotations

import duckdb

from etl.bi.report.palette import COLORS
from etl.bi.report.period import Period
from etl.bi.report.svg import Series, hbar_chart
from etl.bi.report.tables import table, top_n

_LABEL = (
    "d.RESOURCE_ROLE || ' / ' || d.TECHNICAL_RESULT"
    " || CASE WHEN d.RESULT_REASON = 'Unspecified' THEN '' ELSE ' [' || d.RESULT_REASON || ']' END"
)


def results(con: duckdb.DuckDBPyConnection, period: Period) -> tuple[str, str]:
    ranked = top_n(
        con,
        f"""
        SELECT {_LABEL} AS LABEL, COUNT(*) FILTER (WHERE r.RESOURCE_TYPE = 'Agent') AS AGENT_IRFS,
               COUNT(*) FILTER (WHERE r.RESOURCE_TYPE <> 'Agent') AS OTHER_IRFS,
               row_number() OVER (ORDER BY COUNT(*) DESC, LABEL) AS RANK_
        FROM INTERACTION_RESOURCE_FACT f
        JOIN TECHNICAL_DESCRIPTOR d USING (TECHNICAL_DESCRIPTOR_KEY)
        JOIN RESOURCE_ r ON r.RESOURCE_KEY = f.RESOURCE_KEY
        WHERE {Period.where("f.START_TS")}
        GROUP BY LABEL""",
        period.params,
        ["LABEL"],
        ["AGENT_IRFS", "OTHER_IRFS"],
    )
    msf = con.execute(
        f"""
        SELECT d.TECHNICAL_RESULT || CASE WHEN d.RESULT_REASON = 'Unspecified' THEN ''
                                          ELSE ' [' || d.RESULT_REASON || ']' END, COUNT(*)
        FROM MEDIATION_SEGMENT_FACT f JOIN TECHNICAL_DESCRIPTOR d USING (TECHNICAL_DESCRIPTOR_KEY)
        WHERE {Period.where("f.START_TS")} GROUP BY ALL ORDER BY 2 DESC, 1""",
        period.params,
    ).fetchall()
    top = ranked.top
    c = COLORS["results"]
    chart = hbar_chart(
        "results",
        f"Technical result mix of IRFs, role / result [reason] (top {len(top)} of {ranked.total})",
        [r[0] for r in top],
        [
            Series("agent IRFs", c[0], [float(r[1]) for r in top]),
            Series("strategy / queue IRFs", c[1], [float(r[2]) for r in top]),
        ],
    )
    tab = table(["IRF role / result [reason]", "agent IRFs", "other IRFs"], ranked.rows) + table(
        ["MSF technical result [reason]", "segments"], msf
    )
    return chart, tab


def quarantine(con: duckdb.DuckDBPyConnection) -> tuple[int, str]:
    by_reason = con.execute(
        """
        SELECT COALESCE(FIELD, '(line)'), REASON, COUNT(*), MIN(SOURCE_FILE || ':' || SOURCE_LINE)
        FROM STG_EVENT_QUARANTINE GROUP BY ALL ORDER BY 3 DESC, 1, 2"""
    ).fetchall()
    if not by_reason:
        return 0, '<p class="ok">No quarantined input.</p>'
    return sum(r[2] for r in by_reason), table(["field", "reason", "lines", "first at"], by_reason)


def runs(con: duckdb.DuckDBPyConnection) -> str:
    rows = con.execute(
        """
        SELECT RUN_ID[:8], strftime(START_TIME, '%Y-%m-%d %H:%M:%S'), STATUS, FILES_READ, EVENTS_READ, EVENTS_LOADED,
               EVENTS_DUPLICATE, EVENTS_QUARANTINED, INTERACTION_FACT_ROWS, INTERACTION_RESOURCE_FACT_ROWS,
               MEDIATION_SEGMENT_FACT_ROWS
        FROM CTL_AUDIT_LOG ORDER BY START_TIME"""
    ).fetchall()
    headers = ["run", "started", "status", "files", "events read", "loaded", "duplicate", "quarantined", "IF rows"]
    return table([*headers, "IRF rows", "MSF rows"], rows)
