"""Genesys Cloud conversation files → the same staged batch (`StagedEvents`) as contract event files, so the
load, the rules, the quarantine and the counts are the events source's.

One input row is one contract event the mapping made (a conversation that cannot be mapped is one quarantined
row): `events_read == events_valid + duplicates + conflicts + quarantined` holds as for event files. When a batch
holds several snapshots of one conversation (a details job re-read while it was active) only the newest is
loaded; the events of the older ones are counted as duplicates. A snapshot newer than the one stored replaces it
in the mart (`etl.storage.event_store.replace_snapshots`).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import polars as pl
from pydantic import ValidationError

from etl.ingest.genesys_cloud.mapping import map_conversation
from etl.ingest.genesys_cloud.models import Conversation, unknown_notes
from etl.ingest.genesys_cloud.normalise import Conv, Unusable, normalise
from etl.ingest.genesys_cloud.reader import Bad, Raw, read_conversations
from etl.ingest.repeats import split_repeats
from etl.ingest.staging import _STAGED_SCHEMA, QuarantineSink, StagedEvents, _ParquetSink
from etl.ingest.validate import _qrow
from etl.progress import phase

_FLUSH = 50_000


def load_names(path: str | Path | None) -> dict[str, str]:
    """Display names of users and queues from a JSON file: `{"users": [{"id", "name"}...], "queues": [...]}` (the
    shape of GET /api/v2/users and /api/v2/routing/queues `entities`), or `{"users": {id: name}}`."""
    if path is None:
        return {}
    doc = json.loads(Path(path).read_text(encoding="utf-8"))
    names: dict[str, str] = {}
    for kind in ("users", "queues"):
        value = doc.get(kind) or {}
        if isinstance(value, dict) and isinstance(value.get("entities"), list):
            value = value["entities"]
        if isinstance(value, dict):
            names.update({str(k): str(v) for k, v in value.items()})
        else:
            names.update({str(e["id"]): str(e["name"]) for e in value if isinstance(e, dict) and "id" in e})
    return names


def _recency(conv: Conv) -> tuple[bool, int, int]:
    """Which of two snapshots of a conversation is newer: ended, latest segment boundary, more segments."""
    bounds = [b for p in conv.participants for s in p.sessions for g in s.segments for b in (g.start, g.end) if b]
    count = sum(len(s.segments) for p in conv.participants for s in p.sessions)
    return conv.end is not None, max(bounds, default=conv.start), count


def stage_conversations(
    paths: Sequence[str | Path], run_id: str, directory: str | Path, names: Mapping[str, str] | None = None
) -> StagedEvents:
    """Read every conversation file under `paths` into `directory` as the events' staging does
    (`events.parquet`, `repeats.parquet`, `quarantine.parquet`); `source_notes` counts every repair and every
    unknown field or enum value met."""
    started = datetime.now(UTC)
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    items, files, skipped = read_conversations(paths)
    file_idx = {str(f): i for i, f in enumerate(files)}
    sink = _ParquetSink(directory / "events.parquet")
    bad = QuarantineSink(directory / "quarantine.parquet", run_id)
    notes: Counter[str] = Counter()
    newest: dict[str, tuple[tuple[bool, int, int], int, Raw, Conv]] = {}
    superseded = 0
    with phase("read Genesys Cloud conversations", unit="conversations") as advance:
        for order, item in enumerate(items):
            advance(1)
            if isinstance(item, Bad):
                bad.append(_qrow(item.file, item.line, None, item.raw, item.reason))
                continue
            conv = _conversation(item, bad, notes)
            if conv is None:
                continue
            key = (_recency(conv), order)
            held = newest.get(conv.id)
            if held is None or key > held[:2]:
                if held is not None:
                    superseded += _drop(held[3], notes)
                newest[conv.id] = (key[0], key[1], item, conv)
            else:
                superseded += _drop(conv, notes)
    mapped = 0
    buffer: list[dict[str, Any]] = []
    with phase("map conversations to events", total=len(newest), unit="conversations") as advance:
        for _, _, raw, conv in sorted(newest.values(), key=lambda v: v[1]):
            for row in map_conversation(conv, names):
                buffer.append({**row, "tenant": "Resources", "source_file": raw.file, "source_line": raw.line,
                               "_file": file_idx[raw.file]})  # fmt: skip
            notes.update(conv.notes)
            advance(1)
            if len(buffer) >= _FLUSH:
                mapped += len(buffer)
                sink(pl.DataFrame(buffer, schema=_STAGED_SCHEMA, orient="row"))
                buffer = []
        mapped += len(buffer)
        sink(pl.DataFrame(buffer, schema=_STAGED_SCHEMA, orient="row"))
    sink.close()
    repeats_path = directory / "repeats.parquet"
    duplicates, conflicts = split_repeats(sink.path, repeats_path, run_id)
    quarantined = bad.rows
    bad.write(conflicts)
    bad.close()
    if superseded:
        notes["events of an older snapshot in the same batch (counted as duplicates)"] += superseded
    return StagedEvents(
        run_id=run_id,
        started=started,
        events_path=str(sink.path),
        repeats_path=str(repeats_path),
        quarantine_path=str(bad.path),
        files_read=len(files),
        events_read=mapped + superseded + quarantined,
        events_valid=sink.rows - duplicates - conflicts.height,
        duplicates=duplicates + superseded,
        conflicts=conflicts.height,
        quarantined=quarantined,
        files_skipped=skipped,
        source_notes=dict(notes),
    )


def _conversation(item: Raw, bad: QuarantineSink, notes: Counter[str]) -> Conv | None:
    """The validated, repaired conversation, or None (quarantined with its field and reason)."""
    raw_text = json.dumps(item.data, ensure_ascii=False)[:10_000]
    try:
        rec = Conversation.model_validate(item.data)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(x) for x in err["loc"])
        bad.append(_qrow(item.file, item.line, where, raw_text, f"not a conversation-detail record: {err['msg']}"))
        return None
    own: Counter[str] = Counter()
    try:
        conv = normalise(rec, own)
    except Unusable as exc:
        bad.append(_qrow(item.file, item.line, exc.field, raw_text, f"conversation quarantined: {exc.reason}"))
        return None
    notes.update(unknown_notes(rec))
    return conv


def _drop(conv: Conv, notes: Counter[str]) -> int:
    """An older snapshot left out: how many events it would have given."""
    notes["older snapshot of a conversation in the same batch: left out"] += 1
    return len(map_conversation(conv))
