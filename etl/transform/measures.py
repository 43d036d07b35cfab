"""IRF measures that split an IRF's ring, talk and hold by whose time it was, and the IRF's anchor flags.

Sources: the IRF column catalogue of https://docs.genesys.com/Documentation:PSAAS:RPRT:Table-INTERACTION_RESOURCE_FACT:Public
and ../shared/domain/gim.md §2.2; RAA's use of them: https://docs.genesys.com/Documentation:RAA:PDMPostgre:Table-AGT_AGENT_HOUR:9.0.0
(ACCEPTED = CUSTOMER_HANDLE_COUNT > 0; consult received = CONS_RCV_*; offline consultations are not customer time);
ANCHOR_FLAGS: https://docs.genesys.com/Documentation/GIM/latest/PDMOra/Table-ANCHOR_FLAGS.

* Customer measures (CUSTOMER_*): the time the customer was a party, i.e. the IRF's own ring/talk/hold on the
  customer's interaction. An e-mail consultation (role InitiatedConsult / ReceivedConsult, on a consultation
  interaction or a consult/conference invitation) is offline: the customer is not on it, so it is consult time
  (CONS_INIT_* for the consultation's creator, CONS_RCV_* for everyone it reaches, CONF_JOIN_* for a conference
  invitee), never customer time. Only agents (and places) count: a strategy's IRF (RoutingPoint) has HANDLE_COUNT 1
  when it stops the interaction (autoresponse) but no customer measure, so RAA's "accepted" does not count it [D RAA
  excludes ROUTINGPOINT/QUEUE resources; the issue's rule].
* DIAL_*, CUSTOMER_DIAL_*, CONS_INIT_DIAL_*: dialing is voice only: 0 for multimedia.
* POST_CONS_XFER_*: voice's "consultation completed as a transfer" time; no multimedia flow creates it: 0.
* CONF_INIT_TALK: [I] the time the conference's initiator and the invitee were both engaged; CONF_INIT_HOLD: 0
  (the initiator's hold is not split at the invitee's arrival).
* Anchor flags [D ANCHOR_FLAGS page]: FIRST_ENGAGE_FOR_AGENT_IXN on the agent's first engaged IRF of the interaction;
  FIRST_REPLY_FOR_AGENT_IXN on the agent's first OutboundReply IRF to a parent interaction (within one load's
  slice); thread flags need populate-thread-facts (not supported): 0; CUSTOMER_LEFT_FIRST [I] on an engaged agent
  IRF of an online interaction whose customer left the session before the IRF ended (talk after that is not
  customer talk).
"""

from __future__ import annotations

import polars as pl

from etl.domain.descriptors import Role

#: ANCHOR_FLAGS_KEY bits, in the ANCHOR_FLAGS column order (the key is their sum).
ANCHOR_FLAG_BITS: dict[str, int] = {
    "FIRST_ENGAGE_FOR_AGENT_IXN": 1,
    "FIRST_REPLY_FOR_AGENT_IXN": 2,
    "FIRST_ENGAGE_FOR_AGENT_THRD": 4,
    "FIRST_REPLY_FOR_AGENT_THRD": 8,
    "FIRST_ENGAGE_FOR_THRD": 16,
    "CUSTOMER_LEFT_FIRST": 32,
}

_CONSULT_ROLES = [str(Role.INITIATED_CONSULT), str(Role.RECEIVED_CONSULT)]
_ZERO_FAMILIES = ("dial", "customer_dial", "cons_init_dial", "post_cons_xfer_ring", "post_cons_xfer_talk")
_ZERO_FAMILIES += ("post_cons_xfer_hold", "conf_init_hold")


#: When the IRF's resource was connected: its span starts with the mediation, then it rang (`metrics.irf_metrics`).
_CONNECTED_TS = pl.col("start_ts") + pl.col("mediation_duration") + pl.col("ring_duration")


def _part(cond: pl.Expr, measure: str) -> pl.Expr:
    return pl.when(cond).then(pl.col(measure)).otherwise(0).cast(pl.Int32)


def irf_measures(irfs: pl.DataFrame, interactions: pl.DataFrame, service_objective: int) -> pl.DataFrame:
    """`irfs` (from `metrics.irf_metrics`) with the customer, consult, conference, dial and anchor measures.
    `interactions`: `interaction_guid`, `interaction_subtype`, `parent_guid`."""
    agent = pl.col("resource_nk").str.starts_with("Agent:") | pl.col("resource_nk").str.starts_with("Place:")
    consult = pl.col("resource_role").is_in(_CONSULT_ROLES)
    conference = (pl.col("invite_reason") == "conference").fill_null(False)
    customer = agent & ~consult
    cons_init = pl.col("resource_role") == str(Role.INITIATED_CONSULT)
    cons_rcv = (pl.col("resource_role") == str(Role.RECEIVED_CONSULT)) & ~conference
    conf_join = (pl.col("resource_role") == str(Role.RECEIVED_CONSULT)) & conference
    cols: dict[str, pl.Expr] = {}
    for prefix, cond, measures in (
        ("customer", customer, ("ring", "talk", "hold")),
        ("cons_init", cons_init, ("talk", "hold")),
        ("cons_rcv", cons_rcv, ("ring", "talk", "hold")),
        ("conf_join", conf_join, ("ring", "talk", "hold")),
    ):
        for m in measures:
            cols[f"{prefix}_{m}_count"] = _part(cond, f"{m}_count")
            cols[f"{prefix}_{m}_duration"] = _part(cond, f"{m}_duration")
    for prefix in ("customer_acw", "cons_rcv_acw", *_ZERO_FAMILIES):
        cols[f"{prefix}_count"] = pl.lit(0, pl.Int32)
        cols[f"{prefix}_duration"] = pl.lit(0, pl.Int32)
    # Online media: the customer is present while the session lasts, so talk after the customer left the session
    # is not customer time, and the IRF the customer left first is flagged (ANCHOR_FLAGS.CUSTOMER_LEFT_FIRST) [I].
    # Offline media have no Customer party, so `customer_left_ts` is null there.
    connected = _CONNECTED_TS
    ends = connected + pl.col("talk_duration") + pl.col("hold_duration")
    left = pl.col("customer_left_ts")
    after_left = pl.when(left.is_not_null()).then(pl.max_horizontal(ends - pl.max_horizontal(left, connected), 0))
    left_first = (customer & (pl.col("talk_count") > 0) & (left < ends)).fill_null(False)
    cols["customer_talk_duration"] = (
        pl.when(customer).then(pl.max_horizontal(pl.col("talk_duration") - after_left.otherwise(0), 0)).otherwise(0)
    ).cast(pl.Int32)
    cols["customer_handle_count"] = _part(customer, "handle_count")
    # [I] service objective: the interaction reached the resource (invitation answered or pull) within the
    # objective, counting its mediation and its ring time.
    within = (pl.col("mediation_duration") + pl.col("ring_duration")) <= service_objective
    cols["met_service_objective_flag"] = (
        pl.when((service_objective > 0) & agent & (pl.col("handle_count") > 0) & within).then(1).otherwise(0)
    ).cast(pl.Int16)
    out = irfs.with_columns(**cols, _left_first=left_first)
    return _anchor_flags(_conferences_initiated(out), interactions)


def _conferences_initiated(irfs: pl.DataFrame) -> pl.DataFrame:
    """CONFERENCE_INITIATED_COUNT: each conference invitation counts on the inviter's latest IRF of the interaction
    created before the invitee's; CONF_INIT_TALK_*: the time both were engaged, on second boundaries (ended
    facts only; the initiator's hold during the conference is not split out: CONF_INIT_HOLD stays 0)."""
    connected = _CONNECTED_TS
    invites = irfs.filter(pl.col("invite_reason") == "conference").select(
        "interaction_guid",
        _party=pl.col("inviter_id"),
        _before=pl.col("ordinal"),
        _j_from=pl.when(pl.col("talk_count") > 0).then(connected),
        _j_to=pl.col("end_ts"),
    )
    inviters = irfs.select(
        "interaction_guid",
        "ordinal",
        _party=pl.col("resource_nk").str.split_exact(":", 1).struct.field("field_1"),
        _i_from=connected,
        _i_to=pl.col("end_ts"),
    )
    pairs = (
        invites.join(inviters, on=["interaction_guid", "_party"])
        .filter(pl.col("ordinal") < pl.col("_before"))
        .sort("ordinal")
        .group_by("interaction_guid", "_party", "_before", maintain_order=True)
        .last()
        .with_columns(
            _both=(pl.min_horizontal("_i_to", "_j_to") - pl.max_horizontal("_i_from", "_j_from")).clip(lower_bound=0)
        )
    )
    counted = pairs.group_by("interaction_guid", "ordinal").agg(
        conference_initiated_count=pl.len().cast(pl.Int32),
        conf_init_talk_count=(pl.col("_both") > 0).sum().cast(pl.Int32),
        conf_init_talk_duration=pl.col("_both").fill_null(0).sum().cast(pl.Int32),
    )
    out = irfs.drop("conf_init_talk_count", "conf_init_talk_duration", strict=False)
    out = out.join(counted, on=["interaction_guid", "ordinal"], how="left", maintain_order="left")
    return out.with_columns(
        pl.col("conference_initiated_count", "conf_init_talk_count", "conf_init_talk_duration").fill_null(0)
    )


def _anchor_flags(irfs: pl.DataFrame, interactions: pl.DataFrame) -> pl.DataFrame:
    agent = pl.col("resource_nk").str.starts_with("Agent:")
    engaged = agent & (pl.col("talk_count") > 0)
    first_engage = engaged & (
        pl.when(engaged).then(pl.col("ordinal")).min().over("interaction_guid", "resource_nk") == pl.col("ordinal")
    )
    frame = irfs.join(
        interactions.select("interaction_guid", "interaction_subtype", "parent_guid"),
        on="interaction_guid",
        how="left",
        maintain_order="left",
    )
    reply = agent & (pl.col("interaction_subtype") == "OutboundReply") & pl.col("parent_guid").is_not_null()
    frame = frame.with_columns(_reply=reply.fill_null(False))
    order = pl.struct("start_ts", "interaction_guid", "ordinal").rank("ordinal")
    first_reply = pl.col("_reply") & (order.over("parent_guid", "resource_nk", "_reply") == 1)
    key = (
        first_engage.cast(pl.Int32) * ANCHOR_FLAG_BITS["FIRST_ENGAGE_FOR_AGENT_IXN"]
        + first_reply.cast(pl.Int32) * ANCHOR_FLAG_BITS["FIRST_REPLY_FOR_AGENT_IXN"]
        + pl.col("_left_first").cast(pl.Int32) * ANCHOR_FLAG_BITS["CUSTOMER_LEFT_FIRST"]
    )
    return frame.with_columns(anchor_flags_key=key.fill_null(0).cast(pl.Int32)).drop(
        "interaction_subtype", "parent_guid", "_reply", "_left_first"
    )
