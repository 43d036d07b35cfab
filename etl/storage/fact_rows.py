"""Fact rows in GIM's columns, built from the rules' frames once their surrogate keys are known: pure Polars, one
function per table, no database access (the keys are looked up by `fact_writer.py`)."""

from __future__ import annotations

import polars as pl

from etl.storage.ddl import table_columns
from etl.transform.chat_sessions import CHAT_SESSION_SCHEMA

#: GIM earmarks a tentative end for active facts with one far-future DATE_TIME row so that queries need no
#: null test (https://docs.genesys.com/Documentation/GIM/latest/PDMPostgre/Table-DATE_TIME). GIM's row is
#: dated 2025, which is no longer the future; ours is 2099-12-31 00:00 UTC.
ACTIVE_END_TS = 4102358400


def dt_key(col: str) -> pl.Expr:
    """DATE_TIME_KEY (15-minute interval start, epoch seconds) of a `*_ts` column."""
    return (pl.col(col) // 900 * 900).cast(pl.Int64)


#: IRF columns `etl.transform.measures` computes, by their lower-case names.
MEASURE_COLUMNS = tuple(
    f"{family}_{m}"
    for family in (
        "customer_dial",
        "customer_ring",
        "customer_talk",
        "customer_hold",
        "customer_acw",
        "cons_init_dial",
        "cons_init_talk",
        "cons_init_hold",
        "cons_rcv_ring",
        "cons_rcv_talk",
        "cons_rcv_hold",
        "cons_rcv_acw",
        "conf_init_talk",
        "conf_init_hold",
        "conf_join_ring",
        "conf_join_talk",
        "conf_join_hold",
        "post_cons_xfer_ring",
        "post_cons_xfer_talk",
        "post_cons_xfer_hold",
        "dial",
    )
    for m in ("count", "duration")
) + ("customer_handle_count", "conference_initiated_count", "anchor_flags_key", "met_service_objective_flag")


def _end_ts() -> pl.Expr:
    return pl.when(pl.col("active_flag") == 1).then(ACTIVE_END_TS).otherwise(pl.col("end_ts"))


def _audit(audit_key: int) -> dict[str, pl.Expr]:
    return {"CREATE_AUDIT_KEY": pl.lit(audit_key), "UPDATE_AUDIT_KEY": pl.lit(audit_key)}


def with_resource(frame: pl.DataFrame, res_keys: pl.DataFrame, col: str, out: str) -> pl.DataFrame:
    """`frame` with the RESOURCE_KEY of its resource natural key `col` as `out` (null where there is none)."""
    return frame.join(res_keys.rename({"resource_nk": col, "RESOURCE_KEY": out}), on=col, how="left")


def irf_rows(
    irfs: pl.DataFrame,
    ixn_dims: pl.DataFrame,
    res_keys: pl.DataFrame,
    irf_ids: pl.DataFrame,
    msf_ids: pl.DataFrame,
    audit_key: int,
) -> pl.DataFrame:
    """INTERACTION_RESOURCE_FACT rows. `irf_ids` (nk, id) and `msf_ids` (nk, id, res_nk) resolve the IRF's links
    to the IRF it was received from and the MSF that led to it."""
    irfs = irfs.join(ixn_dims, on="interaction_guid")
    for col, out in (
        ("resource_nk", "RESOURCE_KEY"),
        ("last_vq_nk", "LAST_VQUEUE_RESOURCE_KEY"),
        ("last_handler_nk", "LAST_INTERACTION_RESOURCE"),
    ):
        irfs = with_resource(irfs, res_keys, col, out)
    irfs = with_resource(irfs, res_keys, "place_nk", "MEDIA_RESOURCE_KEY")
    irfs = irfs.join(
        irf_ids.select(received_from_nk="nk", RECEIVED_FROM_IXN_RESOURCE_ID="id"), on="received_from_nk", how="left"
    ).join(
        msf_ids.select(
            mediation_msf_nk="nk", MEDIATION_SEGMENT_ID="id", MEDIATION_SEGMENT_SDT_KEY="sdt", med_res_nk="res_nk"
        ),
        on="mediation_msf_nk",
        how="left",
    )
    irfs = with_resource(irfs, res_keys, "med_res_nk", "MEDIATION_RESOURCE_KEY")
    return irfs.with_columns(
        START_TS="start_ts",
        END_TS=_end_ts(),
        START_DATE_TIME_KEY=dt_key("start_ts"),
        TECHNICAL_DESCRIPTOR_KEY="technical_descriptor_key",
        INTERACTION_RESOURCE_ORDINAL="ordinal",
        MEDIATION_START_DATE_TIME_KEY=dt_key("mediation_start_ts"),
        MEDIATION_DURATION="mediation_duration",
        QUEUE_DURATION="queue_duration",
        ROUTING_POINT_DURATION="routing_point_duration",
        RING_COUNT="ring_count",
        RING_DURATION="ring_duration",
        TALK_COUNT="talk_count",
        TALK_DURATION="talk_duration",
        HOLD_COUNT="hold_count",
        HOLD_DURATION="hold_duration",
        AFTER_CALL_WORK_COUNT=pl.lit(0, pl.Int32),
        AFTER_CALL_WORK_DURATION=pl.lit(0, pl.Int32),
        HANDLE_COUNT="handle_count",
        STOP_ACTION="stop_action",
        IRF_ANCHOR="irf_anchor",
        IRF_ANCHOR_TS=pl.when(pl.col("irf_anchor") == 1).then(pl.col("start_ts")),
        ACTIVE_FLAG="active_flag",
        LAST_VQUEUE_RESOURCE_KEY=pl.col("LAST_VQUEUE_RESOURCE_KEY").fill_null(-1),
        MEDIATION_RESOURCE_KEY=pl.col("MEDIATION_RESOURCE_KEY").fill_null(-1),
        LAST_INTERACTION_RESOURCE=pl.col("LAST_INTERACTION_RESOURCE").fill_null(-1),
        MEDIA_RESOURCE_KEY=pl.col("MEDIA_RESOURCE_KEY").fill_null(-1),
        PARTYGUID=pl.col("natural_key").str.split("|").list.last(),
        # GIM's no-value key until the configuration dimensions (issue 14) fill them.
        RESOURCE_GROUP_COMBINATION_KEY=pl.lit(-1, pl.Int32),
        ROUTING_TARGET_KEY=pl.lit(-1, pl.Int32),
        REQUESTED_SKILL_KEY=pl.lit(-1, pl.Int32),
        **{c.upper(): c for c in MEASURE_COLUMNS},
        **_audit(audit_key),
    ).with_columns(END_DATE_TIME_KEY=dt_key("END_TS"))


def msf_rows(
    msfs: pl.DataFrame, ixn_dims: pl.DataFrame, res_keys: pl.DataFrame, irf_ids: pl.DataFrame, audit_key: int
) -> pl.DataFrame:
    """MEDIATION_SEGMENT_FACT rows; `irf_ids` (nk, id, sdt) resolve the IRFs the stay came from and led to."""
    msfs = with_resource(msfs.join(ixn_dims, on="interaction_guid"), res_keys, "resource_nk", "RESOURCE_KEY")
    for nk, prefix in (("ixn_resource_nk", "IXN_RESOURCE"), ("target_ixn_resource_nk", "TARGET_IXN_RESOURCE")):
        msfs = msfs.join(
            irf_ids.select(**{nk: "nk", f"{prefix}_ID": "id", f"{prefix}_SDT_KEY": "sdt"}), on=nk, how="left"
        )
    return msfs.with_columns(
        START_TS="start_ts",
        END_TS=_end_ts(),
        START_DATE_TIME_KEY=dt_key("start_ts"),
        TECHNICAL_DESCRIPTOR_KEY="technical_descriptor_key",
        MEDIATION_DURATION="mediation_duration",
        MEDIA_SERVER_IXN_GUID="interaction_guid",
        ACTIVE_FLAG="active_flag",
        **_audit(audit_key),
    ).with_columns(END_DATE_TIME_KEY=dt_key("END_TS"))


def interaction_rows(ixns: pl.DataFrame, irf_out: pl.DataFrame, audit_key: int) -> pl.DataFrame:
    """INTERACTION_FACT rows; the anchor IRF (IRF_ANCHOR = 1) is looked up in this slice's IRF rows."""
    anchors = irf_out.filter(pl.col("IRF_ANCHOR") == 1).select(
        "INTERACTION_ID", ANCHOR_ID="INTERACTION_RESOURCE_ID", ANCHOR_SDT_KEY="START_DATE_TIME_KEY"
    )
    return (
        ixns.join(anchors, on="INTERACTION_ID", how="left")
        .with_columns(
            # the thread, else the interaction itself; `roots.set_roots` then follows parent links across slices
            MEDIA_SERVER_ROOT_IXN_GUID=pl.coalesce("thread_guid", "interaction_guid"),
            MEDIA_SERVER_IXN_GUID="interaction_guid",
            MEDIA_SERVER_PARENT_IXN_GUID="parent_guid",
            SOURCE_ADDRESS="source_address",
            TARGET_ADDRESS="target_address",
            SUBJECT="subject",
            STATUS=pl.lit(0, pl.Int16),
            # Interaction Server's numeric ids exist for voice only; multimedia has the GUID columns.
            MEDIA_SERVER_IXN_ID=pl.lit(None, pl.Int64),
            MEDIA_SERVER_ROOT_IXN_ID=pl.lit(None, pl.Int64),
            START_TS="start_ts",
            END_TS=_end_ts(),
            START_DATE_TIME_KEY=dt_key("start_ts"),
            ACTIVE_FLAG="active_flag",
            **_audit(audit_key),
        )
        .with_columns(END_DATE_TIME_KEY=dt_key("END_TS"))
    )


def date_time_keys(*frames: pl.DataFrame) -> list[int]:
    """Every DATE_TIME key the fact rows point at (so that each one resolves)."""
    cols = ("START_DATE_TIME_KEY", "END_DATE_TIME_KEY", "MEDIATION_START_DATE_TIME_KEY")
    keys = [f[c].drop_nulls().rename("k") for f in frames for c in cols if c in f.columns]
    return pl.concat(keys).unique().to_list()


def chat_session_rows(sessions: pl.DataFrame, ixns: pl.DataFrame, audit_key: int) -> pl.DataFrame:
    """CHAT_SESSION_FACT rows (`etl.transform.chat_sessions`) keyed by their interactions' surrogate ids."""
    if sessions.width == 0:  # facts built without the session measures
        sessions = pl.DataFrame(schema=CHAT_SESSION_SCHEMA)
    keys = ixns.select(
        "interaction_guid",
        "INTERACTION_ID",
        "TENANT_KEY",
        THREAD_ID=pl.coalesce("thread_guid", "interaction_guid"),
    )
    return (
        sessions.join(keys, on="interaction_guid")
        .with_columns(
            MEDIA_SERVER_IXN_GUID="interaction_guid",
            START_TS="session_start_ts",
            START_DATE_TIME_KEY=dt_key("session_start_ts"),
            CREATE_AUDIT_KEY=pl.lit(audit_key, pl.Int64),
            UPDATE_AUDIT_KEY=pl.lit(audit_key, pl.Int64),
        )
        .select(table_columns("CHAT_SESSION_FACT"))
    )
