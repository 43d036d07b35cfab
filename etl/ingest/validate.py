"""The precise path: pydantic validation (`etl.ingest.models`) of the lines the fast SQL rejects, and of whole
chunks when DuckDB cannot handle an input at all.

The models give the quarantine row its FIELD and REASON; a line the models accept after all is loaded from
the model ("rescued"), so the models stay the single source of truth even where the SQL is stricter.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import polars as pl
import pyarrow as pa

from etl.ingest.columns import EVENT_SCHEMA, LINEAGE_COLUMNS, column_of
from etl.ingest.models import Envelope, load_json, validate_event

#: One row per line that was not loaded (RUN_ID is added when the run's quarantine is written).
QUARANTINE_SCHEMA: dict[str, pl.DataType] = {
    "SOURCE_FILE": pl.String(),
    "SOURCE_LINE": pl.Int64(),
    "FIELD": pl.String(),
    "RAW": pl.String(),
    "REASON": pl.String(),
    "RUN_ID": pl.String(),
    "EVENT_ID": pl.String(),
}

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _check(
    raw: str, name: str, line_no: int, file_idx: int, rescued: list[dict[str, Any]], bad: list[dict[str, Any]]
) -> None:
    """Validate one line with the models: quarantine it with a precise reason, or rescue it as an event."""
    text = raw[:-1] if raw.endswith("\n") else raw
    text = text[:-1] if text.endswith("\r") else text
    try:
        data = load_json(text)
    except UnicodeEncodeError:
        bad.append(_qrow(name, line_no, None, text, "not valid JSON: a string holds a lone UTF-16 surrogate"))
        return
    except ValueError as exc:
        bad.append(_qrow(name, line_no, None, text, f"not valid JSON: {exc}"))
        return
    model, fld, reason = validate_event(data)
    if model is None:
        event_id = data.get("event_id") if isinstance(data, dict) else None
        eid = str(event_id) if isinstance(event_id, str | int) and not isinstance(event_id, bool) else None
        bad.append(_qrow(name, line_no, fld, text, reason or "invalid event", eid))
    else:
        rescued.append({**normalize(model), "source_file": name, "source_line": line_no, "_file": file_idx})


def _slow_path(
    lines: pa.Table, file_idx: int, name: str, rescued: list[dict[str, Any]], bad: list[dict[str, Any]]
) -> int:
    """Validate a chunk of lines (source_line, line) one by one; returns the number of non-blank lines."""
    count = 0
    for line_no, line in zip(*lines.to_pydict().values(), strict=True):
        if line.strip(" \t\r\n"):
            count += 1
            _check(line, name, line_no, file_idx, rescued, bad)
    return count


def normalize(model: Envelope) -> dict[str, Any]:
    """A validated event as a row of EVENT_SCHEMA (lineage columns excluded)."""
    row: dict[str, Any] = dict.fromkeys(c for c in EVENT_SCHEMA if c not in LINEAGE_COLUMNS)

    def walk(data: dict[str, Any], prefix: tuple[str, ...]) -> None:
        for key, val in data.items():
            path = (*prefix, key)
            if key == "user_data" and not prefix:
                row["user_data"] = None if val is None else json.dumps(val, separators=(",", ":"), ensure_ascii=False)
            elif key == "ts" and not prefix:
                row["ts_ms"] = (val - _EPOCH) // timedelta(milliseconds=1)
            elif isinstance(val, dict):
                walk(val, path)
            elif column_of(path) in row:
                row[column_of(path)] = val

    walk(model.model_dump(), ())
    return row


def _qrow(file: str, line: int, fld: str | None, raw: str, reason: str, event_id: str | None = None) -> dict[str, Any]:
    """A quarantine row (QUARANTINE_SCHEMA without RUN_ID)."""
    return {
        "SOURCE_FILE": file,
        "SOURCE_LINE": line,
        "FIELD": fld,
        "RAW": raw,
        "REASON": reason,
        "EVENT_ID": event_id,
    }
