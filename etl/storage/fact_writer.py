"""One slice's facts into the mart: surrogate keys and dimension rows looked up or added, fact rows built
(`fact_rows.py`) and staged to replace the interactions' previous rows (`fact_stage.py`)."""

from __future__ import annotations

import duckdb

from etl.domain.options import GimOptions
from etl.storage.calendar import ensure_calendar
from etl.storage.ddl import tables_of_kind
from etl.storage.dimensions import interaction_dimension_keys, resource_keys
from etl.storage.fact_rows import (
    ACTIVE_END_TS,
    chat_session_rows,
    date_time_keys,
    dt_key,
    interaction_rows,
    irf_rows,
    msf_rows,
)
from etl.storage.fact_stage import FactStage
from etl.storage.keys import keyed, next_id
from etl.storage.user_data import user_data_rows
from etl.transform.facts import FactFrames

FACT_TABLES: tuple[str, ...] = tables_of_kind("fact")


def write_facts(
    con: duckdb.DuckDBPyConnection,
    facts: FactFrames,
    audit_key: int,
    stage: FactStage,
    options: GimOptions | None = None,
) -> dict[str, int]:
    """Rows written per fact table."""
    if facts.interactions.height == 0:
        return dict.fromkeys(FACT_TABLES, 0)
    res_keys = resource_keys(con, facts.resources, audit_key)
    online = (options or GimOptions()).online_media_types
    ixns = interaction_dimension_keys(con, facts.interactions, audit_key, online)
    first_new_ixn = next_id(con, "IXN")
    ixns = keyed(con, ixns, "interaction_guid", "IXN", "INTERACTION_ID")
    ixn_dims = ixns.select(
        "interaction_guid",
        "INTERACTION_ID",
        "TENANT_KEY",
        "MEDIA_TYPE_KEY",
        "INTERACTION_TYPE_KEY",
        TARGET_ADDRESS="target_address",
    )
    irfs = keyed(con, facts.irfs, "natural_key", "IRF", "INTERACTION_RESOURCE_ID")
    msfs = keyed(con, facts.msfs, "natural_key", "MSF", "MEDIATION_SEGMENT_ID")
    irf_ids = irfs.select(nk="natural_key", id="INTERACTION_RESOURCE_ID", sdt=dt_key("start_ts"))
    msf_ids = msfs.select(nk="natural_key", id="MEDIATION_SEGMENT_ID", res_nk="resource_nk", sdt=dt_key("start_ts"))
    irf_out = irf_rows(irfs, ixn_dims, res_keys, irf_ids, msf_ids, audit_key)
    msf_out = msf_rows(msfs, ixn_dims, res_keys, irf_ids, audit_key)
    ixn_out = interaction_rows(ixns, irf_out, audit_key)
    ids = ixns["INTERACTION_ID"].filter(ixns["INTERACTION_ID"] < first_new_ixn)  # new ids have no rows yet
    written = {"INTERACTION_FACT": ixn_out, "INTERACTION_RESOURCE_FACT": irf_out, "MEDIATION_SEGMENT_FACT": msf_out}
    written |= user_data_rows(con, facts, irf_out, audit_key)
    written["CHAT_SESSION_FACT"] = chat_session_rows(facts.chat_sessions, ixns, audit_key)
    for table, rows in written.items():
        stage.replace(con, table, rows, ids)
    ensure_calendar(con, date_time_keys(irf_out, msf_out, ixn_out), options or GimOptions(), ACTIVE_END_TS)
    return {table: rows.height for table, rows in written.items()}
