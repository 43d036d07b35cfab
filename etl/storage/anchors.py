"""FIRST_REPLY_FOR_AGENT_IXN across loads: an agent's first reply to an interaction may have been derived in an
earlier slice or run than its later replies, so the flag is set once more over the mart, after every slice is in.

ANCHOR_FLAGS: https://docs.genesys.com/Documentation/GIM/latest/PDMOra/Table-ANCHOR_FLAGS (the bit values are ours,
`etl.transform.measures.ANCHOR_FLAG_BITS`; `transform.measures` sets the flag within one derivation).
"""

from __future__ import annotations

import duckdb
import polars as pl

from etl.storage.writes import run_with
from etl.transform.measures import ANCHOR_FLAG_BITS

_BIT = ANCHOR_FLAG_BITS["FIRST_REPLY_FOR_AGENT_IXN"]


def set_first_replies(con: duckdb.DuckDBPyConnection, links: pl.DataFrame) -> None:
    """Re-rank the agents' OutboundReply IRFs of every parent interaction a re-derived reply answers (`links`:
    `interaction_guid`, `parent_guid`): the earliest per (parent, agent) carries the bit, no other does."""
    parents = links.select(p="parent_guid").drop_nulls().unique()
    if not parents.height:
        return
    run_with(
        con,
        f"""
        UPDATE INTERACTION_RESOURCE_FACT SET ANCHOR_FLAGS_KEY = ANCHOR_FLAGS_KEY - (ANCHOR_FLAGS_KEY & {_BIT})
            + CASE WHEN ranked.first THEN {_BIT} ELSE 0 END
        FROM (
            SELECT f.INTERACTION_RESOURCE_ID AS id,
                   row_number() OVER (PARTITION BY i.MEDIA_SERVER_PARENT_IXN_GUID, f.RESOURCE_KEY
                                      ORDER BY f.START_TS, i.MEDIA_SERVER_IXN_GUID, f.INTERACTION_RESOURCE_ORDINAL) = 1
                       AS first
            FROM INTERACTION_RESOURCE_FACT f
            JOIN INTERACTION_FACT i USING (INTERACTION_ID)
            JOIN INTERACTION_TYPE t ON t.INTERACTION_TYPE_KEY = f.INTERACTION_TYPE_KEY
            JOIN RESOURCE_ r ON r.RESOURCE_KEY = f.RESOURCE_KEY
            WHERE t.INTERACTION_SUBTYPE = 'OutboundReply' AND r.RESOURCE_TYPE_CODE = 'AGENT'
              AND i.MEDIA_SERVER_PARENT_IXN_GUID IN (SELECT p FROM _parents)
        ) ranked
        WHERE INTERACTION_RESOURCE_FACT.INTERACTION_RESOURCE_ID = ranked.id
        """,
        _parents=parents,
    )
