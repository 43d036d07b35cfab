"""MEDIA_SERVER_ROOT_IXN_GUID across slices and runs: the rule is `etl.domain.threads.thread_root`; this module
reads the roots earlier loads stored and writes the new ones."""

from __future__ import annotations

import duckdb
import polars as pl

from etl.domain.threads import thread_roots
from etl.storage.writes import registered, run_with


def set_roots(con: duckdb.DuckDBPyConnection, links: pl.DataFrame) -> None:
    """`links` (interaction_guid, parent_guid, thread_guid): the re-derived interactions that have a parent or a
    thread (the others already carry their own id as root). Parents outside it were written either by this run
    without links, or by earlier runs: their stored roots are read from the mart."""
    if not links.height:
        return
    with registered(con, _parents=links.select("parent_guid").drop_nulls().unique()):
        stored = con.sql(
            "SELECT MEDIA_SERVER_IXN_GUID AS g, MEDIA_SERVER_ROOT_IXN_GUID AS r FROM INTERACTION_FACT"
            " WHERE MEDIA_SERVER_IXN_GUID IN (SELECT parent_guid FROM _parents)"
        ).pl()
    guids = links["interaction_guid"].to_list()
    roots = thread_roots(
        parent=dict(zip(guids, links["parent_guid"].to_list(), strict=True)),
        thread=dict(zip(guids, links["thread_guid"].to_list(), strict=True)),
        stored=dict(zip(stored["g"].to_list(), stored["r"].to_list(), strict=True)),
    )
    run_with(
        con,
        "UPDATE INTERACTION_FACT f SET MEDIA_SERVER_ROOT_IXN_GUID = _roots.r FROM _roots"
        " WHERE f.MEDIA_SERVER_IXN_GUID = _roots.g AND f.MEDIA_SERVER_ROOT_IXN_GUID IS DISTINCT FROM _roots.r",
        _roots=pl.DataFrame({"g": guids, "r": [roots[g] for g in guids]}),
    )
