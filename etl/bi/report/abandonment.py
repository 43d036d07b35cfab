"""The report's abandonment section: customers who left before an agent handled their interaction.

Read from the technical descriptors, as GIM reports do: an MSF that ended Abandoned (one of the three ways a
mediation segment ends: abandoned in the mediation DN, cleared, or distributed —
https://docs.genesys.com/Documentation/GIM/latest/PDMOra/Table-MEDIATION_SEGMENT_FACT) or with RESULT_REASON
AbandonedWhileQueued is abandoned *in queue*; an agent IRF with TECHNICAL_RESULT CustomerAbandoned, RESULT_REASON
AbandonedWhileRinging (RAA's ABANDONED_INVITE) or AbandonedFromHold is abandoned *while ringing* / *from hold*.
An invitation the agent declined or that was revoked (Abandoned [Revoked | Rejected] on the agent's IRF) is the
agent's REJECTED measure, not the customer's abandonment. E-mail is never abandoned (GIM counts abandonment for
synchronous media such as chat), so on an e-mail-only mart the section says so instead of drawing zeros.
"""

from __future__ import annotations

import duckdb

from etl.bi.report.fmt import esc
from etl.bi.report.period import Period
from etl.bi.report.tables import definitions, dur, pct, table, top_n

#: One row per abandoning fact in the period: the interaction, its media, where and how it was abandoned, the wait.
ABANDONS = f"""
SELECT f.INTERACTION_ID, m.MEDIA_NAME, q.RESOURCE_NAME AS PLACE,
       CASE d.RESULT_REASON WHEN 'AbandonedWhileRinging' THEN 'while ringing' WHEN 'AbandonedFromHold' THEN 'from hold'
            ELSE 'in queue' END AS STAGE,
       d.TECHNICAL_RESULT || CASE WHEN d.RESULT_REASON = 'Unspecified' THEN '' ELSE ' [' || d.RESULT_REASON || ']' END
           AS DESCRIPTOR,
       f.MEDIATION_DURATION AS WAIT
FROM MEDIATION_SEGMENT_FACT f
JOIN TECHNICAL_DESCRIPTOR d USING (TECHNICAL_DESCRIPTOR_KEY)
JOIN RESOURCE_ q ON q.RESOURCE_KEY = f.RESOURCE_KEY
JOIN MEDIA_TYPE m ON m.MEDIA_TYPE_KEY = f.MEDIA_TYPE_KEY
WHERE {Period.where("f.START_TS")}
  AND (d.TECHNICAL_RESULT IN ('Abandoned', 'CustomerAbandoned') OR d.RESULT_REASON LIKE 'Abandoned%')
UNION ALL
SELECT f.INTERACTION_ID, m.MEDIA_NAME, a.RESOURCE_NAME,
       CASE d.RESULT_REASON WHEN 'AbandonedFromHold' THEN 'from hold' ELSE 'while ringing' END,
       d.TECHNICAL_RESULT || CASE WHEN d.RESULT_REASON = 'Unspecified' THEN '' ELSE ' [' || d.RESULT_REASON || ']' END,
       CASE WHEN d.RESULT_REASON = 'AbandonedFromHold' THEN f.HOLD_DURATION ELSE f.RING_DURATION END
FROM INTERACTION_RESOURCE_FACT f
JOIN TECHNICAL_DESCRIPTOR d USING (TECHNICAL_DESCRIPTOR_KEY)
JOIN RESOURCE_ a ON a.RESOURCE_KEY = f.RESOURCE_KEY AND a.RESOURCE_TYPE = 'Agent'
JOIN MEDIA_TYPE m ON m.MEDIA_TYPE_KEY = f.MEDIA_TYPE_KEY
WHERE {Period.where("f.START_TS")}
  AND (d.TECHNICAL_RESULT = 'CustomerAbandoned'
       OR d.RESULT_REASON IN ('AbandonedWhileRinging', 'AbandonedFromHold'))
"""


def abandoned_by_media(con: duckdb.DuckDBPyConnection, period: Period) -> dict[str, int]:
    """Abandoned interactions (distinct) per MEDIA_NAME in the period."""
    rows = con.execute(
        f"SELECT MEDIA_NAME, COUNT(DISTINCT INTERACTION_ID) FROM ({ABANDONS}) GROUP BY ALL", period.params * 2
    ).fetchall()
    return dict(rows)


def abandonment_section(con: duckdb.DuckDBPyConnection, period: Period) -> str:
    params = period.params * 2
    by_stage = con.execute(
        f"""
        WITH a AS ({ABANDONS}),
             n AS (SELECT m.MEDIA_NAME, COUNT(*) AS interactions FROM INTERACTION_FACT i
                   JOIN MEDIA_TYPE m USING (MEDIA_TYPE_KEY) WHERE {Period.where("i.START_TS")} GROUP BY ALL)
        SELECT a.MEDIA_NAME, a.STAGE, a.DESCRIPTOR, COUNT(*), COUNT(DISTINCT a.INTERACTION_ID),
               any_value(n.interactions), AVG(a.WAIT)
        FROM a LEFT JOIN n USING (MEDIA_NAME) GROUP BY ALL ORDER BY 1, 2, 4 DESC, 3""",
        [*params, *period.params],
    ).fetchall()
    head = f"<h2>Abandonment</h2>{definitions('abandoned')}"
    if not by_stage:
        return (
            f'{head}<p class="ok">No abandoned interactions in {esc(period.label())}. E-mail and work items are '
            "not abandoned; abandoned chats appear here as they are loaded (queue: MSF Abandoned, "
            "AbandonedWhileQueued; agent: IRF CustomerAbandoned [AbandonedWhileRinging | AbandonedFromHold]).</p>"
        )
    stages = table(
        [
            "media",
            "where",
            "descriptor",
            "facts",
            "interactions",
            "% of the media's interactions",
            "avg wait before leaving",
        ],
        [(m, s, d, k, i, pct(i, total), dur(w)) for m, s, d, k, i, total, w in by_stage],
    )
    places = top_n(
        con,
        f"""SELECT PLACE, STAGE, COUNT(*) AS N, SUM(WAIT) AS WAIT,
                   row_number() OVER (ORDER BY COUNT(*) DESC, PLACE, STAGE) AS RANK_
            FROM ({ABANDONS}) GROUP BY PLACE, STAGE""",
        params,
        ["PLACE", "STAGE"],
        ["N", "WAIT"],
    )
    where = table(
        ["queue or agent", "where", "abandoned", "avg wait before leaving"],
        [(p, s, n, dur(w / n if n else None)) for p, s, n, w in places.rows],
    )
    return f"{head}{stages}<h3>Where customers left (top {len(places.top)} of {places.total})</h3>{where}"
