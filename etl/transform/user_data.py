"""Each IRF's attached data, as the ``[user-data]`` mapping and GIM's propagation rules say (`etl.domain.user_data`):
one wide row per IRF (a column per mapped ``TABLE.COLUMN``) and one row per value that could not be stored."""

from __future__ import annotations

import json
from collections import defaultdict
from typing import Any

import polars as pl

from etl.domain.user_data import UserDataMapping, coerce, merged_updates

REJECT_SCHEMA = {
    "natural_key": pl.String,
    "interaction_guid": pl.String,
    "key_name": pl.String,
    "target": pl.String,
    "raw_value": pl.String,
    "reason": pl.String,
}


def user_data_frames(
    events: pl.DataFrame, irfs: pl.DataFrame, mapping: UserDataMapping
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(`natural_key`, `interaction_guid`, one column per mapped target) for every IRF of `irfs` (raw rule rows:
    `start_ms`, `end_ms`, `as_of_ms`), and the rejected values. `events` are sorted in contract order."""
    mappings = mapping.mappings
    schema: dict[str, Any] = {"natural_key": pl.String, "interaction_guid": pl.String}
    schema |= {m.target: pl.Float64 if m.type == "number" else pl.String for m in mappings}
    updates: dict[str, list[tuple[int, str]]] = defaultdict(list)
    carrying = events.filter(pl.col("user_data").is_not_null() & (pl.col("user_data") != ""))
    for ixn, ts, text in carrying.select("interaction_id", "ts_ms", "user_data").iter_rows():
        updates[ixn].append((ts, text))
    rows: list[tuple[Any, ...]] = []
    rejects: list[tuple[Any, ...]] = []
    cols = ("natural_key", "interaction_guid", "start_ms", "end_ms", "as_of_ms")
    for nk, ixn, start, end, as_of in irfs.select(cols).iter_rows():
        history = updates.get(ixn, [])
        states: dict[int, dict[str, Any]] = {}
        row: list[Any] = [nk, ixn]
        for m in mappings:
            at = start if m.propagation == "IRF_INITIAL" else (end if end is not None else max(as_of or 0, start))
            if at not in states:
                states[at] = merged_updates(history, at) if history else {}
            raw = states[at].get(m.key)
            value, problem = coerce(m, raw)
            row.append(value)
            if problem is not None:
                text = raw if isinstance(raw, str) else json.dumps(raw)
                rejects.append((nk, ixn, m.key, m.target, text[:4000], problem))
        rows.append(tuple(row))
    return (
        pl.DataFrame(rows, schema=schema, orient="row"),
        pl.DataFrame(rejects, schema=REJECT_SCHEMA, orient="row"),
    )
