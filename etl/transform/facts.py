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
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from etl.domain.options import GimOptions
from etl.domain.rules import EVENT_RANK, InteractionFacts, derive_interaction
from etl.ingest.columns import AGENT_STATE_EVENTS
from etl.settings import runtime
from etl.transform.chat_sessions import chat_session_frame
from etl.transform.measures import irf_measures
from etl.transform.metrics import (
    IRF_RAW_SCHEMA,
    IXN_RAW_SCHEMA,
    MSF_RAW_SCHEMA,
    interaction_metrics,
    irf_metrics,
    irf_raw,
    ixn_raw,
    msf_metrics,
    msf_raw,
)
from etl.transform.shapes import (
    MAX_EVENTS,
    MIN_MEMBERS,
    SHAPE_INTERACTION_ID,
    NotReplayable,
    Shapes,
    apply_template,
    canonical_events,
    find_shapes,
)
from etl.transform.user_data import user_data_frames

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
    user_data: pl.DataFrame = field(default_factory=pl.DataFrame)  # per IRF natural key: one column per target
    user_data_rejects: pl.DataFrame = field(default_factory=pl.DataFrame)  # values not stored as mapped
    chat_sessions: pl.DataFrame = field(default_factory=pl.DataFrame)  # CHAT_SESSION_FACT measures per session


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


def _addresses(user_data: list[str]) -> tuple[str | None, str | None, str | None]:
    """SUBJECT / SOURCE_ADDRESS / TARGET_ADDRESS from attached data (merge; null deletes), as GIM keeps them."""
    data: dict[str, Any] = {}
    for text in user_data:
        try:
            update = json.loads(text)
        except ValueError:
            continue
        if isinstance(update, dict):
            data.update(update)
            data = {k: v for k, v in data.items() if v is not None}
    return (
        _text(data.get("subject") or data.get("Subject")),
        _text(data.get("from") or data.get("FromAddress")),
        _text(data.get("to") or data.get("ToAddress")),
    )


def _addresses_frame(events: pl.DataFrame) -> pl.DataFrame:
    """Addresses of every interaction with attached data (only the rows that carry user_data, in order)."""
    rows = events.filter(pl.col("user_data").is_not_null() & (pl.col("user_data") != ""))
    ids, texts = rows.get_column("interaction_id").to_list(), rows.get_column("user_data").to_list()
    out = []
    begin = 0
    for end in range(1, len(ids) + 1):
        if end == len(ids) or ids[end] != ids[begin]:
            out.append((ids[begin], *_addresses(texts[begin:end])))
            begin = end
    return pl.DataFrame(out, schema=_ADDRESS_SCHEMA, orient="row")


_ADDRESS_SCHEMA = {
    "interaction_guid": pl.String,
    "subject": pl.String,
    "source_address": pl.String,
    "target_address": pl.String,
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
#: Rejected events: `kind` is the `RejectionKind` value (storage decides on it), `reason` the text quarantined.
_REJECTED_SCHEMA = {"event_id": pl.String, "reason": pl.String, "field": pl.String, "kind": pl.String}
#: The four frames of a `_Chunk`, in order.
_CHUNK_SCHEMAS = (IXN_RAW_SCHEMA, IRF_RAW_SCHEMA, MSF_RAW_SCHEMA, _REJECTED_SCHEMA)


def derive_facts(
    events: pl.DataFrame, options: GimOptions, *, min_shape_members: int | None = MIN_MEMBERS
) -> FactFrames:
    """Run GIM's rules over every interaction in `events` (all the events known for those interactions).

    Interactions of a shape shared by at least `min_shape_members` of them (None: no templates) get their
    facts from the shape's template (`etl.transform.shapes`), in a few set-based steps; the rest are derived
    one by one. Those are cut at interaction boundaries into chunks of ~CHUNK_EVENTS (so Python objects never
    exist for more than one chunk), over `_workers()` processes for big inputs. The raw rows of both are sorted
    back into interaction order, so the result depends on neither.
    """
    rule_events = events.filter(~pl.col("event").is_in(list(AGENT_STATE_EVENTS))).select(*_RULE_COLUMNS, "seq")
    ixn_events = sort_events(rule_events).select(_RULE_COLUMNS)  # sorting fewer columns moves less data
    shapes = find_shapes(ixn_events)
    by_shape, covered = _derive_by_shape(shapes, options, min_shape_members)
    rest = shapes.events.filter(~pl.col("_g").is_in(covered.implode())).select(_RULE_COLUMNS)
    one_by_one = _derive_one_by_one(rest, options)
    resources = resource_frame(events)
    ixns, irfs, msfs, rejected = (pl.concat(frames) for frames in zip(by_shape, one_by_one, strict=True))
    interactions = interaction_metrics(ixns.sort("interaction_guid"), _addresses_frame(ixn_events))
    irfs = irfs.sort("interaction_guid", "ordinal")
    user_data, user_data_rejects = user_data_frames(ixn_events, irfs, options.user_data)
    irfs = irf_measures(irf_metrics(irfs), interactions, options.service_objective)
    return FactFrames(
        interactions=interactions,
        irfs=irfs,
        msfs=msf_metrics(msfs.sort("interaction_guid", "seq")),
        resources=resources,
        rejected=rejected,
        user_data=user_data,
        user_data_rejects=user_data_rejects,
        chat_sessions=chat_session_frame(ixn_events, interactions, irfs, options.online_media_types),
    )


def _derive_one_by_one(events: pl.DataFrame, options: GimOptions) -> _Chunk:
    chunks = list(_chunks(events, CHUNK_EVENTS))
    workers = _workers() if events.height >= PARALLEL_MIN_EVENTS else 1
    if workers > 1 and len(chunks) > 1:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        workers = min(workers, len(chunks))
        window = 2 * workers  # chunks in flight: each waits pickled in memory until a worker takes it
        with ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn")) as pool:
            with _bare_main():  # workers are spawned while the first tasks are submitted
                pending = deque(pool.submit(_derive_chunk, c, options) for c in chunks[:window])
            parts = []
            for chunk in chunks[window:]:
                parts.append(pending.popleft().result())
                pending.append(pool.submit(_derive_chunk, chunk, options))
            parts.extend(f.result() for f in pending)
    else:
        parts = [_derive_chunk(c, options) for c in chunks]
    if not parts:
        return _empty_chunk()
    return tuple(pl.concat([p[k] for p in parts]) for k in range(4))  # type: ignore[return-value]


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
    """Raw fact rows of the interactions in a sorted slice that holds each of them whole, one by one."""
    ixns: list[tuple] = []
    irfs: list[tuple] = []
    msfs: list[tuple] = []
    rejected: list[tuple] = []
    # The rules allocate many small objects and free them again, which makes the cyclic garbage collector
    # rescan everything alive (half of the time at 1 M events); a chunk's objects form no cycles that need it.
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        for interaction_id, rows in _per_interaction(events):
            facts = derive_interaction(interaction_id, rows, options)
            _collect(facts, ixns, irfs, msfs)
            rejected.extend((r.event_id, r.reason, r.field, r.kind.value) for r in facts.rejected)
    finally:
        if gc_was_enabled:
            gc.enable()
    rows = (ixns, irfs, msfs, rejected)
    frames = (pl.DataFrame(r, schema=s, orient="row") for r, s in zip(rows, _CHUNK_SCHEMAS, strict=True))
    return tuple(frames)  # type: ignore[return-value]


def _collect(facts: InteractionFacts, ixns: list[tuple], irfs: list[tuple], msfs: list[tuple]) -> None:
    """Append one interaction's rows (ints and texts, or a template's `Ts` and placeholders)."""
    i = facts.interaction
    if i.start_ms is not None:  # never submitted: no INTERACTION_FACT (its events are rejected)
        ixns.append(ixn_raw(i))
    irfs.extend(irf_raw(irf, i.last_event_ms) for irf in facts.irfs)
    msfs.extend(msf_raw(m, i.last_event_ms, seq) for seq, m in enumerate(facts.msfs))


# -- shapes: the rules once per shape, applied to all its interactions -------------------------------------


def _derive_by_shape(shapes: Shapes, options: GimOptions, min_members: int | None) -> tuple[_Chunk, pl.Series]:
    """Raw fact rows of every interaction whose shape is common enough for a template, and the interaction
    numbers (`_g`) so covered. The others are left to `_derive_chunk`."""
    empty = _empty_chunk()
    if min_members is None:
        return empty, pl.Series("_g", [], pl.Int64)
    groups = (
        shapes.interactions.filter(pl.col("_n") <= MAX_EVENTS)
        .group_by("_s1", "_s2", "_n")
        .agg(pl.col("_row").first(), pl.len().alias("_members"))
        .filter(pl.col("_members") >= min_members)
    )
    templates: dict[tuple[int, int, int], tuple[list, list, list]] = {}
    for s1, s2, n, row in groups.select("_s1", "_s2", "_n", "_row").iter_rows():
        rows = shapes.events.slice(row, n).to_dicts()
        try:
            facts = derive_interaction(SHAPE_INTERACTION_ID, canonical_events(rows), options)
            if facts.rejected:
                continue  # rejected events are reported with their own ids: derived one by one
            ixns: list[tuple] = []
            irfs: list[tuple] = []
            msfs: list[tuple] = []
            _collect(facts, ixns, irfs, msfs)
        except NotReplayable:
            continue
        templates[(s1, s2, n)] = (ixns, irfs, msfs)
    if not templates:
        return empty, pl.Series("_g", [], pl.Int64)
    keys = pl.DataFrame(list(templates), schema=["_s1", "_s2", "_n"], orient="row").cast(
        {"_s1": pl.UInt64, "_s2": pl.UInt64, "_n": pl.UInt32}
    )
    members = shapes.interactions.join(keys, on=["_s1", "_s2", "_n"], how="semi")
    covered = members.get_column("_g")
    per_event = (
        shapes.events.join(members.select("_g"), on="_g", how="semi")
        .group_by("_g", maintain_order=True)
        .agg(_ts="ts_ms", _eid="event_id")
    )
    members = members.join(per_event, on="_g", maintain_order="left").join(
        shapes.identifiers, on="_g", how="left", maintain_order="left"
    )
    parts: tuple[list[pl.DataFrame], ...] = ([], [], [])
    schemas = _CHUNK_SCHEMAS[:3]
    for (s1, s2, n), frame in members.partition_by("_s1", "_s2", "_n", as_dict=True).items():
        for part, rows, schema in zip(parts, templates[(s1, s2, n)], schemas, strict=True):
            part.extend(apply_template(frame, rows, schema))
    frames = tuple(pl.concat(p) if p else e for p, e in zip(parts, empty, strict=False))
    return (*frames, empty[3]), covered


def _empty_chunk() -> _Chunk:
    return tuple(pl.DataFrame(schema=s) for s in _CHUNK_SCHEMAS)  # type: ignore[return-value]


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
    for prefix in ("actor", "party"):  # places named beside an agent (IRF.MEDIA_RESOURCE_KEY)
        place = {"kind": pl.lit("Place"), "name": pl.col(f"{prefix}_place")}
        parts.append(events.select("ts_ms", "tenant", **place, first_name=none, last_name=none, employee_id=none))
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
