"""Rule output (times in ms) -> GIM's fact columns and metrics (whole seconds), set-based.

The rules (`etl.domain.rules`) decide who took part, in which role and with which result, and when each thing
happened. Everything here is arithmetic on those times, as GIM defines the metrics:
https://docs.genesys.com/Documentation/PSAAS/latest/RPRT/GIMPopIRF (IRF metrics) and GIMPopMSF (MSF).
Durations are computed on second boundaries, so that every duration fits inside its fact's span.
"""

from __future__ import annotations

from typing import Any

import polars as pl

from etl.domain.descriptors import descriptor_key
from etl.domain.rules import InteractionRow, IrfRow, MsfRow

#: One IRF as the rules leave it (see `irf_raw`).
IRF_RAW_SCHEMA: dict[str, pl.DataType] = {
    "natural_key": pl.String(),
    "interaction_guid": pl.String(),
    "resource_nk": pl.String(),
    "technical_descriptor_key": pl.Int32(),
    "resource_role": pl.String(),
    "technical_result": pl.String(),
    "result_reason": pl.String(),
    "ordinal": pl.Int32(),
    "received_from_nk": pl.String(),
    "last_handler_nk": pl.String(),
    "mediation_msf_nk": pl.String(),
    "last_vq_nk": pl.String(),
    "hold_count": pl.Int32(),
    "stop_action": pl.Int16(),
    "start_ms": pl.Int64(),
    "end_ms": pl.Int64(),
    "invite_ms": pl.Int64(),
    "connect_ms": pl.Int64(),
    "hold_ms": pl.Int64(),
    "hold_since_ms": pl.Int64(),
    "mediation_start_ms": pl.Int64(),
    "queue_ms": pl.Int64(),
    "as_of_ms": pl.Int64(),
    "invite_reason": pl.String(),
    "inviter_id": pl.String(),
    "place_nk": pl.String(),
    "mediation_end_ms": pl.Int64(),
    "customer_left_ms": pl.Int64(),
}

MSF_RAW_SCHEMA: dict[str, pl.DataType] = {
    "natural_key": pl.String(),
    "interaction_guid": pl.String(),
    "resource_nk": pl.String(),
    "technical_descriptor_key": pl.Int32(),
    "technical_result": pl.String(),
    "result_reason": pl.String(),
    "ixn_resource_nk": pl.String(),
    "target_ixn_resource_nk": pl.String(),
    "seq": pl.Int32(),
    "start_ms": pl.Int64(),
    "end_ms": pl.Int64(),
    "as_of_ms": pl.Int64(),
}

IXN_RAW_SCHEMA: dict[str, pl.DataType] = {
    "interaction_guid": pl.String(),
    "tenant": pl.String(),
    "media_type": pl.String(),
    "interaction_type": pl.String(),
    "interaction_subtype": pl.String(),
    "parent_guid": pl.String(),
    "thread_guid": pl.String(),
    "start_ms": pl.Int64(),
    "end_ms": pl.Int64(),
}


def irf_raw(irf: IrfRow, as_of_ms: Any) -> tuple[Any, ...]:
    """The IRF's row of IRF_RAW_SCHEMA. Times stay as the rules computed them (ints, or templates' `Ts`)."""
    return (
        irf.natural_key,
        irf.interaction_id,
        f"{irf.party_type}:{irf.party_id}",
        descriptor_key(irf.descriptor),
        str(irf.role),
        str(irf.result) if irf.result else "Unspecified",
        str(irf.result_reason),
        irf.ordinal,
        irf.received_from,
        f"Agent:{irf.last_handler_id}" if irf.last_handler_id else None,
        irf.mediation_msf,
        f"VirtualQueue:{irf.last_vq}" if irf.last_vq else None,
        irf.hold_count,
        irf.stop_action,
        irf.start_ms,
        irf.end_ms,
        irf.invite_ms,
        irf.connect_ms,
        irf.hold_ms,
        irf.hold_since,
        irf.mediation_start_ms,
        irf.queue_ms,
        as_of_ms or irf.start_ms,
        irf.invite_reason,
        irf.inviter_id,
        f"Place:{irf.place}" if irf.place else None,
        irf.mediation_end_ms,
        irf.customer_left_ms,
    )


def msf_raw(msf: MsfRow, as_of_ms: Any, seq: int) -> tuple[Any, ...]:
    return (
        msf.natural_key,
        msf.interaction_id,
        f"{msf.kind}:{msf.name}",
        descriptor_key(msf.descriptor),
        str(msf.result),
        str(msf.result_reason),
        msf.target or msf.placed_by,
        msf.target,
        seq,
        msf.start_ms,
        msf.end_ms,
        as_of_ms or msf.start_ms,
    )


def ixn_raw(i: InteractionRow) -> tuple[Any, ...]:
    return (
        i.interaction_id,
        i.tenant,
        i.media_type,
        i.interaction_type,
        i.interaction_subtype,
        i.parent_id,
        i.thread_id,
        i.start_ms,
        i.end_ms,
    )


def _s(col: str | pl.Expr) -> pl.Expr:
    """ms -> whole seconds (floor, as the second boundaries the durations are measured on)."""
    return (pl.col(col) if isinstance(col, str) else col) // 1000


def _end_s() -> pl.Expr:
    """End in seconds; an active fact is measured up to the interaction's last event (its "as of" time)."""
    return _s(pl.coalesce("end_ms", pl.max_horizontal("as_of_ms", "start_ms")))


_ACTIVE_FLAG = pl.col("end_ms").is_null().cast(pl.Int16)


def irf_metrics(raw: pl.DataFrame) -> pl.DataFrame:
    """INTERACTION_RESOURCE_FACT columns and metrics, one row per raw IRF."""
    end_s = _end_s()
    invite_s, connect_s = _s("invite_ms"), _s("connect_ms")
    # An IRF that ends in mediation (on the queue, etl.domain.rules.online) has neither: its mediation ends there.
    med_start, med_end = _s("mediation_start_ms"), pl.coalesce(invite_s, connect_s, _s("mediation_end_ms"))
    connected = connect_s.is_not_null()
    open_hold = pl.when(pl.col("hold_since_ms").is_null()).then(0).otherwise(end_s - _s("hold_since_ms"))
    frame = raw.with_columns(
        _end_s=end_s,
        _hold_s=pl.min_horizontal(_s("hold_ms") + open_hold, pl.when(connected).then(end_s - connect_s).otherwise(0)),
        # [D] MEDIATION_DURATION: from the start of mediation to the invitation (or the pull).
        _mediation=pl.when(med_start.is_not_null() & med_end.is_not_null()).then(med_end - med_start).otherwise(0),
    ).with_columns(_queue_s=pl.min_horizontal(_s("queue_ms"), "_mediation"))
    invited = invite_s.is_not_null()
    return frame.select(
        "natural_key",
        "interaction_guid",
        "resource_nk",
        "technical_descriptor_key",
        "resource_role",
        "technical_result",
        "result_reason",
        start_ts=_s("start_ms"),
        end_ts=_s("end_ms"),
        ordinal="ordinal",
        received_from_nk="received_from_nk",
        last_handler_nk="last_handler_nk",
        mediation_msf_nk="mediation_msf_nk",
        mediation_start_ts=med_start,
        mediation_duration=pl.col("_mediation").cast(pl.Int32),
        queue_duration=pl.col("_queue_s").cast(pl.Int32),
        routing_point_duration=(pl.col("_mediation") - pl.col("_queue_s")).cast(pl.Int32),
        last_vq_nk="last_vq_nk",
        ring_count=invited.cast(pl.Int32),
        ring_duration=pl.when(invited).then(pl.coalesce(connect_s, "_end_s") - invite_s).otherwise(0).cast(pl.Int32),
        talk_count=connected.cast(pl.Int32),
        talk_duration=pl.when(connected)
        .then(pl.max_horizontal(0, pl.col("_end_s") - connect_s - pl.col("_hold_s")))
        .otherwise(0)
        .cast(pl.Int32),
        hold_count="hold_count",
        hold_duration=pl.col("_hold_s").cast(pl.Int32),
        handle_count=connected.cast(pl.Int32),
        stop_action="stop_action",
        active_flag=_ACTIVE_FLAG,
        invite_reason="invite_reason",
        inviter_id="inviter_id",
        place_nk="place_nk",
        customer_left_ts=_s("customer_left_ms"),
    ).with_columns(
        # [K] IRF_ANCHOR marks one IRF per interaction: the first handling resource, else the first IRF.
        irf_anchor=(
            pl.struct(1 - pl.col("handle_count"), pl.col("ordinal")).rank("ordinal").over("interaction_guid") == 1
        ).cast(pl.Int16)
    )


def msf_metrics(raw: pl.DataFrame) -> pl.DataFrame:
    """MEDIATION_SEGMENT_FACT columns and metrics, one row per raw MSF."""
    end_s = _end_s()
    return raw.select(
        "natural_key",
        "interaction_guid",
        "resource_nk",
        "technical_descriptor_key",
        "technical_result",
        "result_reason",
        start_ts=_s("start_ms"),
        end_ts=_s("end_ms"),
        mediation_duration=(end_s - _s("start_ms")).cast(pl.Int32),
        ixn_resource_nk="ixn_resource_nk",
        target_ixn_resource_nk="target_ixn_resource_nk",
        active_flag=_ACTIVE_FLAG,
    )


def interaction_metrics(raw: pl.DataFrame, addresses: pl.DataFrame) -> pl.DataFrame:
    """INTERACTION_FACT columns: the rules' interaction row plus the addresses from attached data."""
    return raw.join(addresses, on="interaction_guid", how="left", maintain_order="left").select(
        "interaction_guid",
        "tenant",
        "media_type",
        "interaction_type",
        "interaction_subtype",
        "parent_guid",
        "thread_guid",
        start_ts=_s("start_ms"),
        end_ts=_s("end_ms"),
        subject="subject",
        source_address="source_address",
        target_address="target_address",
        active_flag=_ACTIVE_FLAG,
    )
