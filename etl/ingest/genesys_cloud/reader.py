"""Every input shape of conversation-detail records an extractor lands, one conversation at a time:

* a details **query response** `{"conversations": [...], "totalHits": N}` (POST /api/v2/analytics/conversations/
  details/query),
* a details **job results page** `{"conversations": [...], "cursor": "...", "dataAvailabilityDate": ...}`
  (GET /api/v2/analytics/conversations/details/jobs/{jobId}/results),
* a **single conversation** object (GET /api/v2/analytics/conversations/{id}/details),
* **NDJSON**, one conversation (or one page) per line (Airbyte / Estuary / Singer taps),
* **gzip** of any of them, and **directories** of such files (`etl.ingest.files.scan_inputs`, the events' rules).

Bad input never raises: an unreadable file, a line or document that is not JSON, or an object that is no
conversation becomes a `Bad` item with a reason (the quarantine), with its file and line (or ordinal).
"""

from __future__ import annotations

import gzip
import json
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from etl.ingest.files import scan_inputs
from etl.ingest.jsontext import StrictJSONError, loads


@dataclass(frozen=True, slots=True)
class Raw:
    """One conversation as read: `line` is its NDJSON line, or its 1-based position in a document's array."""

    file: str
    line: int
    data: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Bad:
    """An input that is no conversation (quarantined with `reason`; `raw` is its text, cut to 10 000 chars)."""

    file: str
    line: int
    raw: str | None
    reason: str


def _is_conversation(obj: object) -> bool:
    return isinstance(obj, dict) and ("conversationId" in obj or "participants" in obj)


def _text(path: Path) -> str:
    data = path.read_bytes()
    if data[:2] == b"\x1f\x8b":  # gzip, whatever the name says
        data = gzip.decompress(data)
    return data.decode("utf-8")


def _unpack(obj: object, file: str, line: int, in_document: bool) -> Iterator[Raw | Bad]:
    """The conversations of one JSON value: a page/response (its array), or one conversation. In a document a
    page's conversations are numbered by position; on an NDJSON line they share the line's number."""
    if isinstance(obj, dict) and isinstance(obj.get("conversations"), list):
        for i, conv in enumerate(obj["conversations"], 1):
            where = i if in_document else line
            if _is_conversation(conv):
                yield Raw(file, where, conv)
            else:
                yield Bad(file, where, json.dumps(conv)[:10_000], "not a conversation object")
    elif _is_conversation(obj):
        yield Raw(file, line, obj)  # type: ignore[arg-type]
    elif isinstance(obj, dict) and "conversations" in obj and obj["conversations"] is None:
        return  # an empty job page (`"conversations": null` after the last cursor)
    else:
        yield Bad(file, line, json.dumps(obj)[:10_000], "neither a conversation nor a page of conversations")


def read_file(path: Path) -> Iterator[Raw | Bad]:
    """The conversations of one file (a JSON document, or NDJSON), in file order."""
    name = str(path)
    try:
        text = _text(path)
    except (OSError, EOFError, zlib.error, gzip.BadGzipFile) as exc:
        yield Bad(name, 0, None, f"unreadable file: {exc}")
        return
    except UnicodeDecodeError as exc:
        yield Bad(name, 0, None, f"not valid UTF-8: {exc}")
        return
    try:
        document = loads(text)
    except (ValueError, StrictJSONError):
        document = None
    else:
        yield from _unpack(document, name, 1, in_document=True)
        return
    for number, line in enumerate(text.splitlines(), 1):  # NDJSON: one conversation (or page) per line
        if not line.strip():
            continue
        try:
            obj = loads(line)
        except (ValueError, StrictJSONError) as exc:
            yield Bad(name, number, line[:10_000], f"not valid JSON: {exc}")
            continue
        yield from _unpack(obj, name, number, in_document=False)


def read_conversations(paths: Sequence[str | Path]) -> tuple[Iterator[Raw | Bad], list[Path], list[str]]:
    """Every conversation under `paths` (files and directories), the files read and the inputs skipped."""
    found = scan_inputs(paths)

    def items() -> Iterator[Raw | Bad]:
        for path in found.files:
            yield from read_file(path)

    return items(), found.files, [f"{p}: {why}" for p, why in found.skipped]
