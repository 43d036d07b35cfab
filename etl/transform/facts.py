"""Events -> fact rows keyed by natural keys (surrogate keys are the storage layer's business).

The rules in `etl.domain.rules` run once per interaction over the events sorted by (ts, seq); everything
around them — sorting, grouping, metric arithmetic, dimensions — is set-based Polars.
"""

from __future__ import annotations

import gc
import json
import sys
import types
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import polars as pl

from etl.domain.descriptors import descriptor_key
from etl.domain.options import GimOptions
from etl.domain.rules import EVENT_RANK, InteractionFacts, IrfRow, MsfRow, derive_interaction
from etl.ingest.columns import AGENT_STATE_EVENTS
from etl.settings import runtime

_RULE_COLUMNS = [
    "event_id",
    "event",
    "ts_ms",
    "interaction_id",
    "tenant",
    "media_type",
    "interaction_type",
    "interaction_subtype",
    "parent_id",
    "thread_id",
    "actor_type",
    "actor_id",
    "actor_place",
    "party_type",
    "party_id",
    "party_place",
    "queue_type",
    "queue_name",
    "queue_role",
    "queue_owner_type",
    "queue_owner_id",
    "vq",
    "outcome",
    "reason",
    "user_data",
]


@dataclass
class FactFrames:
    """Derived facts for a set of interactions, plus the events the rules rejected."""

    interactions: pl.DataFrame
    irfs: pl.DataFrame
    msfs: pl.DataFrame
    resources: pl.DataFrame
    rejected: pl.DataFrame


def sort_events(events: pl.DataFrame) -> pl.DataFrame:
    """Contract order: (ts, seq); ties broken by the order Interaction Server emits events in one step."""
    rank = pl.col("event").replace_strict(EVENT_RANK, default=len(EVENT_RANK), return_dtype=pl.Int32)
    return events.with_columns(_rank=rank).sort(
        ["interaction_id", "ts_ms", "seq", "_rank", "event_id"], nulls_last=True, maintain_order=True
    )


def _per_interaction(events: pl.DataFrame) -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """The sorted events cut into one list of row dicts per interaction (rows fetched as tuples, in bulk)."""
    if events.height == 0:
        return
    ids = events.get_column("interaction_id")
    starts = ids.ne_missing(ids.shift(1)).arg_true().to_list()  # each interaction's first row
    starts[0] = 0
    starts.append(events.height)
    names = _RULE_COLUMNS
    rows = events.select(names).rows()
    id_list = ids.gather(starts[:-1]).to_list()
    for k, interaction_id in enumerate(id_list):
        yield interaction_id, [dict(zip(names, row, strict=False)) for row in rows[starts[k] : starts[k + 1]]]


def _addresses(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """SUBJECT / SOURCE_ADDRESS / TARGET_ADDRESS from attached data (merge; null deletes), as GIM keeps them."""
    data: dict[str, Any] = {}
    for row in rows:
        if row["user_data"]:
            try:
                update = json.loads(row["user_data"])
            except ValueError:
                continue
            if isinstance(update, dict):
                data.update(update)
                data = {k: v for k, v in data.items() if v is not None}
    return {
        "subject": _text(data.get("subject") or data.get("Subject")),
        "source_address": _text(data.get("from") or data.get("FromAddress")),
        "target_address": _text(data.get("to") or data.get("ToAddress")),
    }


def _text(value: Any) -> str | None:
    if value is None:
        return None
    return value if isinstance(value, str) else json.dumps(value)


#: Events per unit of work: facts are built (and their Python objects dropped) one chunk at a time.
CHUNK_EVENTS = 50_000
#: Below this many interaction events the work stays in this process (worker start-up is ~1 s).
PARALLEL_MIN_EVENTS = 200_000

_Chunk = tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame, pl.DataFrame]
_REJECTED_SCHEMA = {"event_id": pl.String, "reason": pl.String, "field": pl.String}


def derive_facts(events: pl.DataFrame, options: GimOptions) -> FactFrames:
    """Run GIM's rules over every interaction in `events` (all the events known for those interactions).

    The sorted events are cut at interaction boundaries into chunks of ~CHUNK_EVENTS; each chunk becomes
    fact frames on its own (so Python objects never exist for more than one chunk), over `_workers()`
    processes for big inputs. Chunks are concatenated in order, so the result does not depend on either.
    """
    ixn_events = sort_events(events.filter(~pl.col("event").is_in(list(AGENT_STATE_EVENTS)))).select(_RULE_COLUMNS)
    chunks = list(_chunks(ixn_events, CHUNK_EVENTS))
    workers = _workers() if ixn_events.height >= PARALLEL_MIN_EVENTS else 1
    if workers > 1 and len(chunks) > 1:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        workers = min(workers, len(chunks))
        window = 2 * workers  # chunks in flight: each waits pickled in memory until a worker takes it
        with ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn")) as pool:
            with _bare_main():  # workers are spawned while the first tasks are submitted
                pending = deque(pool.submit(_derive_chunk, c, options) for c in chunks[:window])
            resources = resource_frame(events)  # meanwhile, in this process
            parts = []
            for chunk in chunks[window:]:
                parts.append(pending.popleft().result())
                pending.append(pool.submit(_derive_chunk, chunk, options))
            parts.extend(f.result() for f in pending)
    else:
        parts = [_derive_chunk(c, options) for c in chunks]
        resources = resource_frame(events)
    if not parts:
        parts = [_derive_chunk(ixn_events, options)]
    return FactFrames(
        interactions=pl.concat([p[0] for p in parts]),
        irfs=pl.concat([p[1] for p in parts]),
        msfs=pl.concat([p[2] for p in parts]),
        resources=resources,
        rejected=pl.concat([p[3] for p in parts]),
    )


def _workers() -> int:
    """Worker processes for big inputs: GIM_ETL_WORKERS, else the CPUs this process may use."""
    import os

    configured = runtime().workers
    if configured:
        return configured
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


@contextmanager
def _bare_main() -> Iterator[None]:
    """Spawned workers need only this module: keep them from re-running the caller's main script (which
    may lack an `if __name__ == "__main__"` guard) by showing them an empty `__main__` while they start."""
    main = sys.modules["__main__"]
    sys.modules["__main__"] = types.ModuleType("__main__")
    try:
        yield
    finally:
        sys.modules["__main__"] = main


def _chunks(events: pl.DataFrame, size: int) -> Iterator[pl.DataFrame]:
    """Slices of about `size` sorted events, cut only between interactions (zero-copy)."""
    n = events.height
    if n == 0:
        return
    ids = events.get_column("interaction_id")
    starts = ids.ne_missing(ids.shift(1)).arg_true()
    begin = 0
    while begin < n:
        target = begin + size
        if target >= n:
            end = n
        else:
            i = starts.search_sorted(target, side="left")  # first interaction starting at or after target
            end = int(starts[i]) if i < starts.len() else n
        yield events.slice(begin, end - begin)
        begin = end


def _derive_chunk(events: pl.DataFrame, options: GimOptions) -> _Chunk:
    """Facts of the interactions in a sorted slice that holds each of them whole."""
    results: list[InteractionFacts] = []
    # The rules allocate many small objects and free them again, which makes the cyclic garbage collector
    # rescan everything alive (half of the time at 1 M events); a chunk's objects form no cycles that need it.
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        for interaction_id, rows in _per_interaction(events):
            facts = derive_interaction(interaction_id, rows, options)
            for k, v in _addresses(rows).items():
                setattr(facts.interaction, k, v)
            results.append(facts)
    finally:
        if gc_was_enabled:
            gc.enable()
    rejected = pl.DataFrame(
        [(r.event_id, r.reason, r.field) for f in results for r in f.rejected],
        schema=_REJECTED_SCHEMA,
        orient="row",
    )
    return _interaction_frame(results), _irf_frame(results), _msf_frame(results), rejected


def _s(ms: int | None) -> int | None:
    return None if ms is None else ms // 1000


def _irf_record(irf: IrfRow, as_of_ms: int) -> dict[str, Any]:
    """Metrics in whole seconds, computed on second boundaries so that every duration fits the IRF's span."""
    end_s = _s(irf.end_ms if irf.end_ms is not None else max(as_of_ms, irf.start_ms))
    invite_s, connect_s = _s(irf.invite_ms), _s(irf.connect_ms)
    ring_end = connect_s if connect_s is not None else end_s
    hold_s = min(
        irf.hold_ms // 1000 + (0 if irf.hold_since is None else end_s - _s(irf.hold_since)),
        (end_s - connect_s) if connect_s is not None else 0,
    )
    med_start = _s(irf.mediation_start_ms)
    med_end = invite_s if invite_s is not None else connect_s
    mediation = (med_end - med_start) if med_start is not None and med_end is not None else 0
    queue_s = min(irf.queue_ms // 1000, mediation)
    return {
        "natural_key": irf.natural_key,
        "interaction_guid": irf.interaction_id,
        "resource_nk": f"{irf.party_type}:{irf.party_id}",
        "technical_descriptor_key": descriptor_key(irf.descriptor),
        "resource_role": str(irf.role),
        "technical_result": str(irf.result) if irf.result else "Unspecified",
        "result_reason": str(irf.result_reason),
        "start_ts": _s(irf.start_ms),
        "end_ts": _s(irf.end_ms),
        "ordinal": irf.ordinal,
        "received_from_nk": irf.received_from,
        "last_handler_nk": f"Agent:{irf.last_handler_id}" if irf.last_handler_id else None,
        "mediation_msf_nk": irf.mediation_msf,
        "mediation_start_ts": med_start,
        "mediation_duration": mediation,
        "queue_duration": queue_s,
        "routing_point_duration": mediation - queue_s,
        "last_vq_nk": f"VirtualQueue:{irf.last_vq}" if irf.last_vq else None,
        "ring_count": int(invite_s is not None),
        "ring_duration": (ring_end - invite_s) if invite_s is not None else 0,
        "talk_count": int(connect_s is not None),
        "talk_duration": max(0, end_s - connect_s - hold_s) if connect_s is not None else 0,
        "hold_count": irf.hold_count,
        "hold_duration": hold_s,
        "handle_count": int(connect_s is not None),
        "stop_action": irf.stop_action,
        "active_flag": int(irf.end_ms is None),
    }


_IRF_SCHEMA = {
    "natural_key": pl.String,
    "interaction_guid": pl.String,
    "resource_nk": pl.String,
    "technical_descriptor_key": pl.Int32,
    "resource_role": pl.String,
    "technical_result": pl.String,
    "result_reason": pl.String,
    "start_ts": pl.Int64,
    "end_ts": pl.Int64,
    "ordinal": pl.Int32,
    "received_from_nk": pl.String,
    "last_handler_nk": pl.String,
    "mediation_msf_nk": pl.String,
    "mediation_start_ts": pl.Int64,
    "mediation_duration": pl.Int32,
    "queue_duration": pl.Int32,
    "routing_point_duration": pl.Int32,
    "last_vq_nk": pl.String,
    "ring_count": pl.Int32,
    "ring_duration": pl.Int32,
    "talk_count": pl.Int32,
    "talk_duration": pl.Int32,
    "hold_count": pl.Int32,
    "hold_duration": pl.Int32,
    "handle_count": pl.Int32,
    "stop_action": pl.Int16,
    "active_flag": pl.Int16,
}


def _irf_frame(results: list[InteractionFacts]) -> pl.DataFrame:
    records = [_irf_record(irf, f.interaction.last_event_ms or irf.start_ms) for f in results for irf in f.irfs]
    frame = pl.DataFrame(records, schema=_IRF_SCHEMA, orient="row") if records else pl.DataFrame(schema=_IRF_SCHEMA)
    # [K] IRF_ANCHOR marks one IRF per interaction: the first handling resource, else the first IRF.
    anchor_rank = pl.struct(1 - pl.col("handle_count"), pl.col("ordinal")).rank("ordinal").over("interaction_guid")
    return frame.with_columns(irf_anchor=(anchor_rank == 1).cast(pl.Int16))


def _msf_record(msf: MsfRow, as_of_ms: int) -> dict[str, Any]:
    end_s = _s(msf.end_ms if msf.end_ms is not None else max(as_of_ms, msf.start_ms))
    return {
        "natural_key": msf.natural_key,
        "interaction_guid": msf.interaction_id,
        "resource_nk": f"{msf.kind}:{msf.name}",
        "technical_descriptor_key": descriptor_key(msf.descriptor),
        "technical_result": str(msf.result),
        "result_reason": str(msf.result_reason),
        "start_ts": _s(msf.start_ms),
        "end_ts": _s(msf.end_ms),
        "mediation_duration": end_s - _s(msf.start_ms),
        "ixn_resource_nk": msf.target or msf.placed_by,
        "target_ixn_resource_nk": msf.target,
        "active_flag": int(msf.end_ms is None),
    }


_MSF_SCHEMA = {
    "natural_key": pl.String,
    "interaction_guid": pl.String,
    "resource_nk": pl.String,
    "technical_descriptor_key": pl.Int32,
    "technical_result": pl.String,
    "result_reason": pl.String,
    "start_ts": pl.Int64,
    "end_ts": pl.Int64,
    "mediation_duration": pl.Int32,
    "ixn_resource_nk": pl.String,
    "target_ixn_resource_nk": pl.String,
    "active_flag": pl.Int16,
}


def _msf_frame(results: list[InteractionFacts]) -> pl.DataFrame:
    records = [_msf_record(m, f.interaction.last_event_ms or m.start_ms) for f in results for m in f.msfs]
    return pl.DataFrame(records, schema=_MSF_SCHEMA, orient="row") if records else pl.DataFrame(schema=_MSF_SCHEMA)


_IXN_SCHEMA = {
    "interaction_guid": pl.String,
    "tenant": pl.String,
    "media_type": pl.String,
    "interaction_type": pl.String,
    "interaction_subtype": pl.String,
    "parent_guid": pl.String,
    "thread_guid": pl.String,
    "start_ts": pl.Int64,
    "end_ts": pl.Int64,
    "subject": pl.String,
    "source_address": pl.String,
    "target_address": pl.String,
    "active_flag": pl.Int16,
}


def _interaction_frame(results: list[InteractionFacts]) -> pl.DataFrame:
    rows = [
        (
            i.interaction_id,
            i.tenant,
            i.media_type,
            i.interaction_type,
            i.interaction_subtype,
            i.parent_id,
            i.thread_id,
            _s(i.start_ms),
            _s(i.end_ms),
            i.subject,
            i.source_address,
            i.target_address,
            int(i.end_ms is None),
        )
        for i in (f.interaction for f in results)
        if i.start_ms is not None
    ]
    return pl.DataFrame(rows, schema=_IXN_SCHEMA, orient="row")


_RESOURCE_SCHEMA = {
    "resource_nk": pl.String,
    "resource_name": pl.String,
    "resource_type": pl.String,
    "resource_type_code": pl.String,
    "resource_subtype": pl.String,
    "first_name": pl.String,
    "last_name": pl.String,
    "employee_id": pl.String,
    "tenant": pl.String,
}

#: How our parties and queues land in RESOURCE_ (GIM: Agent/AGENT, Queue/QUEUE, RoutingPoint/ROUTINGPOINT).
_RESOURCE_TYPE = {
    "Agent": ("Agent", "AGENT", "Agent"),
    "Place": ("Place", "PLACE", "Place"),
    "Strategy": ("RoutingPoint", "ROUTINGPOINT", "RoutingStrategy"),
    "InteractionQueue": ("Queue", "QUEUE", "InteractionQueue"),
    "Workbin": ("Queue", "QUEUE", "InteractionWorkBin"),
    "VirtualQueue": ("Queue", "QUEUE", "VirtualQueue"),
}


def resource_frame(events: pl.DataFrame) -> pl.DataFrame:
    """Every agent, place, strategy, queue, workbin and virtual queue the events mention, with the latest
    names seen (set-based: one pass per role of the resource in the event)."""
    parts = []
    for prefix in ("actor", "party", "target"):
        cols = {
            "kind": pl.col(f"{prefix}_type"),
            "name": pl.col(f"{prefix}_id"),
            "first_name": pl.col(f"{prefix}_first_name") if prefix != "target" else pl.lit(None, pl.String),
            "last_name": pl.col(f"{prefix}_last_name") if prefix != "target" else pl.lit(None, pl.String),
            "employee_id": pl.col(f"{prefix}_employee_id") if prefix != "target" else pl.lit(None, pl.String),
        }
        parts.append(events.select(ts_ms="ts_ms", tenant="tenant", **cols))
    none = pl.lit(None, pl.String)
    for kind, name in ((pl.col("queue_type"), pl.col("queue_name")), (pl.lit("VirtualQueue"), pl.col("vq"))):
        parts.append(
            events.select("ts_ms", "tenant", kind=kind, name=name, first_name=none, last_name=none, employee_id=none)
        )
    allr = pl.concat(parts).filter(pl.col("name").is_not_null() & pl.col("kind").is_in(list(_RESOURCE_TYPE)))
    latest = (
        allr.sort("ts_ms")
        .group_by("kind", "name")
        .agg(
            pl.col("first_name").drop_nulls().last(),
            pl.col("last_name").drop_nulls().last(),
            pl.col("employee_id").drop_nulls().last(),
            pl.col("tenant").drop_nulls().last(),
        )
    )
    types = pl.DataFrame(
        [(k, *v) for k, v in _RESOURCE_TYPE.items()],
        schema=["kind", "resource_type", "resource_type_code", "resource_subtype"],
        orient="row",
    )
    return (
        latest.join(types, on="kind")
        .select(
            resource_nk=pl.col("kind") + ":" + pl.col("name"),
            resource_name="name",
            resource_type="resource_type",
            resource_type_code="resource_type_code",
            resource_subtype="resource_subtype",
            first_name="first_name",
            last_name="last_name",
            employee_id="employee_id",
            tenant=pl.col("tenant").fill_null("Resources"),
        )
        .cast(_RESOURCE_SCHEMA)
        .sort("resource_nk")
    )
