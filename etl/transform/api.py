"""GIM's rules one call away: contract events (dicts) in, fact frames out — no Dagster, no mart, no files.

    facts = facts_from_events(flow_events("direct_transfer"), GimOptions())

The events are the raw JSON objects of the contract (../shared/contract/events.md); each is validated with the
ingest models, normalised to a row of the event frame (`etl.ingest.columns.EVENT_SCHEMA`) and the whole lot goes
through `etl.transform.facts.derive_facts`, as the pipeline does after ingestion.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import polars as pl

from etl.domain.options import GimOptions
from etl.ingest.columns import EVENT_SCHEMA
from etl.ingest.models import validate_event
from etl.ingest.validate import normalize
from etl.transform.facts import FactFrames, derive_facts

_SOURCE = "<facts_from_events>"


def facts_from_events(events: Iterable[Mapping[str, Any]], options: GimOptions) -> FactFrames:
    """Validate and normalise contract events, then derive their facts under `options`.

    An event_id delivered again is dropped (the first delivery wins, as in ingestion). Raises `ValueError`
    naming the event (position, event_id, event) for an event the contract does not accept."""
    rows: list[dict[str, Any]] = []
    seen: set[str] = set()
    for position, data in enumerate(events):
        model, fld, reason = validate_event(dict(data) if isinstance(data, Mapping) else data)
        if model is None:
            ident = data.get("event_id") if isinstance(data, Mapping) else None
            name = data.get("event") if isinstance(data, Mapping) else None
            where = f" (field {fld})" if fld else ""
            raise ValueError(f"invalid event #{position} event_id={ident!r} event={name!r}{where}: {reason}")
        if model.event_id in seen:
            continue
        seen.add(model.event_id)
        rows.append({**normalize(model), "source_file": _SOURCE, "source_line": position + 1})
    return derive_facts(pl.DataFrame(rows, schema=EVENT_SCHEMA, orient="row"), options)
