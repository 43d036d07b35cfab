"""Dimension rows the facts point at: DATE_TIME intervals, MEDIA_TYPE, INTERACTION_TYPE, TENANT, RESOURCE_.

New values are added as they appear in the events, as GIM does for new multimedia types and subtypes; a row once
written keeps its key (`keys.py`), so facts loaded earlier keep pointing at it.
"""

from __future__ import annotations

import duckdb
import polars as pl

from etl.storage.calendar import insert_intervals
from etl.storage.keys import keyed
from etl.storage.writes import run_with

#: Names GIM gives the media types it knows; any other media keeps its own name, title-cased.
_MEDIA_NAMES = {"email": "Email", "chat": "Chat", "sms": "SMS", "voice": "Voice"}


def insert_date_times(con: duckdb.DuckDBPyConnection, keys: list[int], tz: str = "GMT") -> None:
    """DATE_TIME rows (GIM's calendar columns, `calendar.py`) for `keys` that are not there yet."""
    insert_intervals(con, keys, tz)


def media_name(media: str) -> str:
    return _MEDIA_NAMES.get(media.lower(), media.title())


def interaction_dimension_keys(
    con: duckdb.DuckDBPyConnection, ixns: pl.DataFrame, audit_key: int, online: tuple[str, ...] = ("chat",)
) -> pl.DataFrame:
    """`ixns` with MEDIA_TYPE_KEY, INTERACTION_TYPE_KEY and TENANT_KEY; rows for new values are added.

    MEDIA_TYPE.IS_ONLINE follows the option `online-media-types` (`online`, lower-case names): a media type
    already stored is updated when a run under other options derives its interactions again."""
    ixns = ixns.with_columns(
        media_nk=pl.col("media_type").fill_null("unknown").str.to_lowercase(),
        itype_nk=pl.col("interaction_type").fill_null("Unknown") + "|" + pl.col("interaction_subtype").fill_null(""),
    )
    ixns = keyed(con, ixns, "media_nk", "MEDIA_TYPE", "MEDIA_TYPE_KEY")
    ixns = keyed(con, ixns, "itype_nk", "INTERACTION_TYPE", "INTERACTION_TYPE_KEY")
    ixns = keyed(con, ixns, "tenant", "TENANT", "TENANT_KEY")
    media = (
        ixns.select("MEDIA_TYPE_KEY", "media_nk")
        .unique()
        .with_columns(MEDIA_NAME=pl.col("media_nk").map_elements(media_name, return_dtype=pl.String))
        .with_columns(
            MEDIA_NAME_CODE=pl.col("MEDIA_NAME").str.to_uppercase(),
            IS_ONLINE=pl.col("media_nk").is_in(list(online)).cast(pl.Int16),
        )
    )
    run_with(
        con,
        "INSERT INTO MEDIA_TYPE (MEDIA_TYPE_KEY, MEDIA_NAME, MEDIA_NAME_CODE, IS_ONLINE, CREATE_AUDIT_KEY,"
        " UPDATE_AUDIT_KEY) SELECT MEDIA_TYPE_KEY, MEDIA_NAME, MEDIA_NAME_CODE, IS_ONLINE, ?, ? FROM _m"
        " WHERE MEDIA_TYPE_KEY NOT IN (SELECT MEDIA_TYPE_KEY FROM MEDIA_TYPE)",
        [audit_key, audit_key],
        _m=media,
    )
    run_with(
        con,
        "UPDATE MEDIA_TYPE t SET IS_ONLINE = m.IS_ONLINE, UPDATE_AUDIT_KEY = ? FROM _m m"
        " WHERE t.MEDIA_TYPE_KEY = m.MEDIA_TYPE_KEY AND t.IS_ONLINE IS DISTINCT FROM m.IS_ONLINE",
        [audit_key],
        _m=media,
    )
    run_with(
        con,
        "INSERT INTO INTERACTION_TYPE (INTERACTION_TYPE_KEY, INTERACTION_TYPE, INTERACTION_TYPE_CODE,"
        " INTERACTION_SUBTYPE, INTERACTION_SUBTYPE_CODE, IGNORE, CREATE_AUDIT_KEY, UPDATE_AUDIT_KEY)"
        " SELECT INTERACTION_TYPE_KEY, coalesce(interaction_type, 'Unknown'),"
        " upper(coalesce(interaction_type, 'Unknown')), coalesce(interaction_subtype, 'Unknown'),"
        " upper(coalesce(interaction_subtype, 'Unknown')), 0, ?, ? FROM _t"
        " WHERE INTERACTION_TYPE_KEY NOT IN (SELECT INTERACTION_TYPE_KEY FROM INTERACTION_TYPE)",
        [audit_key, audit_key],
        _t=ixns.select("INTERACTION_TYPE_KEY", "interaction_type", "interaction_subtype").unique(
            "INTERACTION_TYPE_KEY"
        ),
    )
    run_with(
        con,
        "INSERT INTO TENANT (TENANT_KEY, TENANT_NAME) SELECT TENANT_KEY, tenant FROM _tn"
        " WHERE TENANT_KEY NOT IN (SELECT TENANT_KEY FROM TENANT)",
        _tn=ixns.select("TENANT_KEY", "tenant").unique("TENANT_KEY"),
    )
    return ixns


def resource_keys(con: duckdb.DuckDBPyConnection, resources: pl.DataFrame, audit_key: int) -> pl.DataFrame:
    """RESOURCE_ rows for the resources of a slice (names from the events fill what the row lacks); returns
    (`resource_nk`, `RESOURCE_KEY`)."""
    res = keyed(con, resources, "resource_nk", "RESOURCE", "RESOURCE_KEY")
    res = keyed(con, res, "tenant", "TENANT", "TENANT_KEY")
    run_with(
        con,
        """
        INSERT OR REPLACE INTO RESOURCE_ (RESOURCE_KEY, TENANT_KEY, RESOURCE_NAME, RESOURCE_TYPE, RESOURCE_TYPE_CODE,
            RESOURCE_SUBTYPE, AGENT_FIRST_NAME, AGENT_LAST_NAME, EMPLOYEE_ID, EXTERNAL_RESOURCE_ID,
            CREATE_AUDIT_KEY, UPDATE_AUDIT_KEY)
        SELECT r.RESOURCE_KEY, r.TENANT_KEY, r.resource_name, r.resource_type, r.resource_type_code,
            r.resource_subtype, coalesce(r.first_name, o.AGENT_FIRST_NAME), coalesce(r.last_name, o.AGENT_LAST_NAME),
            coalesce(r.employee_id, o.EMPLOYEE_ID), r.resource_name, coalesce(o.CREATE_AUDIT_KEY, ?), ?
        FROM _r r LEFT JOIN RESOURCE_ o ON o.RESOURCE_KEY = r.RESOURCE_KEY
        """,
        [audit_key, audit_key],
        _r=res,
    )
    return res.select("resource_nk", "RESOURCE_KEY")
