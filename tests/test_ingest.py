"""Ingestion: contract events (NDJSON, gzip, Parquet) -> normalized event frame + quarantine.

Why these tests: ingestion is where bad data enters. Every input line must end up loaded, counted as a
duplicate or quarantined with a precise reason, and the set-based SQL fast path must agree with the pydantic
models, which are the single source of truth.
"""

from __future__ import annotations

import gzip
import json
import random
from pathlib import Path
from typing import Any

import duckdb
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from etl.ingest import files, models, staging, validate
from etl.ingest.columns import EVENT_SCHEMA
from etl.ingest.files import discover_files
from etl.ingest.models import EVENT_MODELS, validate_event
from etl.ingest.staging import IngestResult, read_events
from etl.ingest.validate import QUARANTINE_SCHEMA

# The documented flow "Strategy routes e-mail to agent, and agent replies" (contract events.md).
EXAMPLE = """\
{"event_id":"1","event":"EventInteractionSubmitted","ts":"2026-03-02T09:00:00.000Z","interaction_id":"IN1","media_type":"email","interaction_type":"Inbound","interaction_subtype":"InboundNew","actor":{"type":"MediaServer","id":"EmailServer"},"queue":{"type":"InteractionQueue","name":"Inbound"}}
{"event_id":"2","event":"EventPlacedInQueue","ts":"2026-03-02T09:00:00.000Z","interaction_id":"IN1","queue":{"type":"InteractionQueue","name":"Inbound"},"actor":{"type":"MediaServer","id":"EmailServer"}}
{"event_id":"3","event":"EventTakenFromQueue","ts":"2026-03-02T09:00:05.000Z","interaction_id":"IN1","queue":{"type":"InteractionQueue","name":"Inbound"},"actor":{"type":"Strategy","id":"Strategy1"}}
{"event_id":"4","event":"EventVirtualQueueEntered","ts":"2026-03-02T09:00:05.000Z","interaction_id":"IN1","vq":"VQ_Email","actor":{"type":"Strategy","id":"Strategy1"}}
{"event_id":"5","event":"EventAgentInvited","ts":"2026-03-02T09:01:00.000Z","interaction_id":"IN1","party":{"type":"Agent","id":"agent1"},"actor":{"type":"Strategy","id":"Strategy1"},"reason":"route","vq":"VQ_Email"}
{"event_id":"6","event":"EventVirtualQueueLeft","ts":"2026-03-02T09:01:00.000Z","interaction_id":"IN1","vq":"VQ_Email","actor":{"type":"Strategy","id":"Strategy1"},"outcome":"routed","target":{"type":"Agent","id":"agent1"}}
{"event_id":"7","event":"EventPartyAdded","ts":"2026-03-02T09:01:10.000Z","interaction_id":"IN1","party":{"type":"Agent","id":"agent1"},"reason":"route"}
{"event_id":"8","event":"EventInteractionSubmitted","ts":"2026-03-02T09:05:00.000Z","interaction_id":"OUT1","media_type":"email","interaction_type":"Outbound","interaction_subtype":"OutboundReply","parent_id":"IN1","actor":{"type":"Agent","id":"agent1"}}
{"event_id":"9","event":"EventProcessingStopped","ts":"2026-03-02T09:05:00.000Z","interaction_id":"IN1","actor":{"type":"Agent","id":"agent1"}}
{"event_id":"10","event":"EventPlacedInQueue","ts":"2026-03-02T09:12:00.000Z","interaction_id":"OUT1","queue":{"type":"InteractionQueue","name":"Outbound","role":"outbound"},"actor":{"type":"Agent","id":"agent1"}}
{"event_id":"11","event":"EventTakenFromQueue","ts":"2026-03-02T09:12:02.000Z","interaction_id":"OUT1","queue":{"type":"InteractionQueue","name":"Outbound","role":"outbound"},"actor":{"type":"Strategy","id":"OutboundStrategy"}}
{"event_id":"12","event":"EventProcessingStopped","ts":"2026-03-02T09:12:03.000Z","interaction_id":"OUT1","actor":{"type":"Strategy","id":"OutboundStrategy"},"reason":"sent"}
"""  # noqa: E501
EXAMPLE_LINES = EXAMPLE.splitlines()
EXAMPLE_EVENTS: list[dict[str, Any]] = [json.loads(line) for line in EXAMPLE_LINES]
T0_MS = 1772442000000  # 2026-03-02T09:00:00.000Z

# Valid events that exercise the less common parts of the contract.
EXTRA_VALID: list[dict[str, Any]] = [
    {
        "event_id": "w1",
        "event": "EventPlacedInWorkbin",
        "ts": "2026-03-02T10:00:00.125+00:00",
        "interaction_id": "IN2",
        "seq": 7,
        "tenant": "Acme",
        "queue": {
            "type": "Workbin",
            "name": "Drafts",
            "owner": {"type": "Agent", "id": "agent1"},
            "workbin_type": "Draft",
        },
        "actor": {
            "type": "Agent",
            "id": "agent1",
            "name": "Ann Bell",
            "place": "P1",
            "first_name": "Ann",
            "last_name": "Bell",
            "employee_id": "E1",
        },
    },
    {
        "event_id": "w2",
        "event": "EventTakenFromWorkbin",
        "ts": "2026-03-02T10:01:00.000Z",
        "interaction_id": "IN2",
        "queue": {"type": "Workbin", "name": "Drafts"},
        "actor": {"type": "Agent", "id": "agent1"},
    },
    {
        "event_id": "p1",
        "event": "EventPropertiesChanged",
        "ts": "2026-03-02T10:02:00.000Z",
        "interaction_id": "IN2",
        "user_data": {"subject": 'Re: "quoted" \u00e9t\u00e9 \u2603', "gone": None, "n": 1},
    },
    {
        "event_id": "p2",
        "event": "EventPropertiesChanged",
        "ts": "2026-03-02T10:03:00.000Z",
        "interaction_id": "IN2",
        "user_data": '{"customer_id": "C1"}',
    },
    {
        "event_id": "s1",
        "event": "EventInteractionSubmitted",
        "ts": "2026-03-02T10:04:00.000Z",
        "interaction_id": "IN3",
        "media_type": "chat",
        "interaction_type": "Internal",
        "interaction_subtype": "InternalCollaborationInvite",
        "thread_id": "T1",
        "seq": -9223372036854775808,
        "user_data": {"from": "a@b.c"},
        "queue": {"type": "InteractionQueue", "name": "Stop", "role": "stop"},
    },
    {"event_id": "h1", "event": "EventHeld", "ts": "2026-03-02T10:05:00.000Z", "interaction_id": "IN3"},
    {
        "event_id": "h2",
        "event": "EventResumed",
        "ts": "2026-03-02T10:06:00.000Z",
        "interaction_id": "IN3",
        "actor": {"type": "System", "id": "sys"},
        "tenant": None,
    },
    {
        "event_id": "r1",
        "event": "EventRejected",
        "ts": "2026-03-02T10:07:00.000Z",
        "interaction_id": "IN3",
        "party": {"type": "Place", "id": "P1"},
    },
    {
        "event_id": "r2",
        "event": "EventRevoked",
        "ts": "2026-03-02T10:08:00.000Z",
        "interaction_id": "IN3",
        "party": {"type": "Agent", "id": 'a\\b"c\u00e9'},
    },
    {
        "event_id": "r3",
        "event": "EventPartyRemoved",
        "ts": "2026-03-02T10:09:00.000Z",
        "interaction_id": "IN3",
        "party": {"type": "Agent", "id": "agent1"},
        "reason": "transfer",
        "actor": {"type": "Agent", "id": "x"},
        "unknown_field": [1, 2, {"x": None}],
    },
    {
        "event_id": "a1",
        "event": "EventAgentLogin",
        "ts": "2026-03-02T08:00:00.000Z",
        "interaction_id": "-",
        "actor": {"type": "Agent", "id": "agent1"},
        "media_type": "email",
    },
    {
        "event_id": "a2",
        "event": "EventNotReadyForMedia",
        "ts": "2026-03-02T08:10:00.000Z",
        "interaction_id": "-",
        "actor": {"type": "Agent", "id": "agent1"},
        "reason": "Lunch",
    },
    {
        "event_id": "a3",
        "event": "EventReadyForMedia",
        "ts": "2026-03-02T08:20:00.000Z",
        "interaction_id": "-",
        "actor": {"type": "Agent", "id": "agent1"},
    },
    {
        "event_id": "a4",
        "event": "EventAgentLogout",
        "ts": "2026-03-02T18:00:00.999Z",
        "interaction_id": "-",
        "actor": {"type": "Agent", "id": "agent1"},
        "seq": 9223372036854775807,
    },
    # version 1.1 agent-state events: no interaction_id, object reasons, work modes
    {
        "event_id": "m1",
        "event": "EventMediaAdded",
        "ts": "2026-03-02T08:00:01.000Z",
        "actor": {"type": "Agent", "id": "agent1"},
        "media_type": "chat",
        "place": "P1",
    },
    {
        "event_id": "m2",
        "event": "EventNotReadyForMedia",
        "ts": "2026-03-02T08:00:02.000Z",
        "actor": {"type": "Agent", "id": "agent1"},
        "media_type": "chat",
        "workmode": "AfterCallWork",
        "reason": {"key": "ReasonCode", "value": "Paperwork"},
    },
    {
        "event_id": "m3",
        "event": "EventDoNotDisturbOn",
        "ts": "2026-03-02T08:00:03.000Z",
        "actor": {"type": "Agent", "id": "agent1"},
    },
    {
        "event_id": "m4",
        "event": "EventDoNotDisturbOff",
        "ts": "2026-03-02T08:00:04.000Z",
        "actor": {"type": "Agent", "id": "agent1"},
    },
    {
        "event_id": "m5",
        "event": "EventAgentStateReasonChanged",
        "ts": "2026-03-02T08:00:05.000Z",
        "actor": {"type": "Agent", "id": "agent1"},
        "reason": "Coaching",
    },
    {
        "event_id": "m6",
        "event": "EventMediaStateReasonChanged",
        "ts": "2026-03-02T08:00:06.000Z",
        "interaction_id": "IN2",
        "actor": {"type": "Agent", "id": "agent1"},
        "media_type": "chat",
        "reason": {"key": "ReasonCode", "value": "Meeting"},
    },
    {
        "event_id": "m7",
        "event": "EventMediaRemoved",
        "ts": "2026-03-02T08:00:07.000Z",
        "actor": {"type": "Agent", "id": "agent1"},
        "media_type": "chat",
    },
    # version 1.1 online sessions: Customer and Bot parties, chat messages
    {
        "event_id": "c1",
        "event": "EventChatMessage",
        "ts": "2026-03-02T10:09:30.000Z",
        "interaction_id": "IN3",
        "party": {"type": "Customer", "id": "contact-7", "name": "Jo"},
        "length": 42,
    },
    {
        "event_id": "c2",
        "event": "EventChatMessage",
        "ts": "2026-03-02T10:09:31.000Z",
        "interaction_id": "IN3",
        "party": {"type": "Bot", "id": "greeter"},
    },
    {
        "event_id": "c3",
        "event": "EventPartyRemoved",
        "ts": "2026-03-02T10:09:32.000Z",
        "interaction_id": "IN3",
        "party": {"type": "Customer", "id": "contact-7"},
        "reason": "abandoned",
    },
    {
        "event_id": "v1",
        "event": "EventVirtualQueueLeft",
        "ts": "2026-03-02T10:10:00.000Z",
        "interaction_id": "IN3",
        "vq": "VQ",
        "actor": {"type": "Strategy", "id": "S"},
        "outcome": "abandoned",
    },
    {
        "event_id": "i1",
        "event": "EventAgentInvited",
        "ts": "2026-03-02T10:11:00.000Z",
        "interaction_id": "IN3",
        "party": {"type": "Agent", "id": "agent2"},
        "actor": {"type": "Agent", "id": "agent1"},
        "reason": "consult",
    },
]


def _line(base: dict[str, Any], /, **changes: Any) -> str:
    """`base` as a JSON line with some fields changed (or removed with _DROP)."""
    out = {**base, **changes}
    return json.dumps({k: v for k, v in out.items() if v is not _DROP}, ensure_ascii=False)


_DROP = object()


def write(path: Path, lines: list[str] | str, *, compress: bool = False, newline: str = "\n") -> Path:
    """Write NDJSON lines (text) to `path`, optionally gzip-compressed."""
    text = lines if isinstance(lines, str) else newline.join(lines) + newline
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gzip.compress(text.encode()) if compress else text.encode())
    return path


def assert_consistent(result: IngestResult) -> None:
    """The invariant every run must satisfy, plus the output schemas."""
    assert result.events_read == result.events.height + result.duplicates + result.quarantine.height
    assert result.events.schema == pl.Schema(EVENT_SCHEMA)
    assert result.quarantine.schema == pl.Schema(QUARANTINE_SCHEMA)
    assert result.events["event_id"].n_unique() == result.events.height


def by_id(result: IngestResult) -> dict[str, dict[str, Any]]:
    return {row["event_id"]: row for row in result.events.iter_rows(named=True)}


# ------------------------------------------------------------------------------------------------------------
# Valid input in every format


def test_examples_plain_ndjson(tmp_path: Path) -> None:
    path = write(tmp_path / "events.jsonl", EXAMPLE_LINES)
    result = read_events([path], run_id="r1")
    assert_consistent(result)
    assert (result.files_read, result.events_read, result.duplicates, result.quarantine.height) == (
        1,
        12,
        0,
        0,
    )
    rows = by_id(result)
    first = rows["1"]
    assert first["event"] == "EventInteractionSubmitted" and first["ts_ms"] == T0_MS
    assert (first["media_type"], first["interaction_type"], first["interaction_subtype"]) == (
        "email",
        "Inbound",
        "InboundNew",
    )
    assert (first["actor_type"], first["actor_id"], first["queue_type"], first["queue_name"]) == (
        "MediaServer",
        "EmailServer",
        "InteractionQueue",
        "Inbound",
    )
    assert first["tenant"] == "Resources" and first["seq"] is None and first["user_data"] is None
    assert rows["3"]["ts_ms"] == T0_MS + 5000
    assert (rows["5"]["party_type"], rows["5"]["party_id"], rows["5"]["reason"], rows["5"]["vq"]) == (
        "Agent",
        "agent1",
        "route",
        "VQ_Email",
    )
    assert (rows["6"]["outcome"], rows["6"]["target_type"], rows["6"]["target_id"]) == (
        "routed",
        "Agent",
        "agent1",
    )
    assert rows["8"]["parent_id"] == "IN1" and rows["10"]["queue_role"] == "outbound"
    assert rows["12"]["reason"] == "sent"
    assert rows["7"]["actor_id"] is None  # EventPartyAdded has no actor
    assert result.events["source_file"].unique().to_list() == [str(path)]
    assert sorted(result.events["source_line"].to_list()) == list(range(1, 13))
    assert rows["12"]["source_line"] == 12


def test_gzip_gives_the_same_events(tmp_path: Path) -> None:
    plain = read_events([write(tmp_path / "a.jsonl", EXAMPLE_LINES)], "r")
    gz_path = write(tmp_path / "b.ndjson.gz", EXAMPLE_LINES, compress=True)
    packed = read_events([gz_path], "r")
    assert_consistent(packed)
    assert packed.events["source_file"].unique().to_list() == [str(gz_path)]
    assert (
        packed.events.drop("source_file")
        .sort("source_line")
        .equals(plain.events.drop("source_file").sort("source_line"))
    )


def test_extra_valid_events(tmp_path: Path) -> None:
    path = write(tmp_path / "x.jsonl", [json.dumps(e, ensure_ascii=True) for e in EXTRA_VALID])
    result = read_events([path], "r")
    assert_consistent(result)
    assert result.quarantine.height == 0, result.quarantine.to_dicts()
    rows = by_id(result)
    w1 = rows["w1"]
    assert (w1["queue_type"], w1["queue_owner_type"], w1["queue_owner_id"], w1["workbin_type"]) == (
        "Workbin",
        "Agent",
        "agent1",
        "Draft",
    )
    assert (w1["actor_first_name"], w1["actor_employee_id"], w1["tenant"], w1["seq"]) == (
        "Ann",
        "E1",
        "Acme",
        7,
    )
    assert w1["ts_ms"] == T0_MS + 3600_000 + 125
    assert json.loads(rows["p1"]["user_data"]) == EXTRA_VALID[2]["user_data"]
    assert json.loads(rows["p2"]["user_data"]) == {"customer_id": "C1"}
    assert rows["s1"]["seq"] == -(2**63) and rows["a4"]["seq"] == 2**63 - 1
    assert rows["h2"]["tenant"] == "Resources"
    assert rows["r2"]["party_id"] == 'a\\b"c\u00e9'
    assert rows["r3"]["actor_id"] is None and rows["r3"]["reason"] == "transfer"  # extra fields are ignored
    assert rows["a2"]["reason"] == "Lunch" and rows["a1"]["media_type"] == "email"


def test_sql_path_agrees_with_models(tmp_path: Path) -> None:
    """Every row the SQL accepts is accepted by the models and normalized to exactly the same values."""
    events = EXAMPLE_EVENTS + EXTRA_VALID
    path = write(tmp_path / "x.jsonl", [json.dumps(e) for e in events])
    result = read_events([path], "r")
    assert result.events.height == len(events)
    for row in result.events.iter_rows(named=True):
        model, field, reason = validate_event(events[row["source_line"] - 1])
        assert model is not None, (field, reason)
        expected = validate.normalize(model)
        got = {k: v for k, v in row.items() if k in expected}
        if expected["user_data"] is not None:
            assert json.loads(got.pop("user_data")) == json.loads(expected.pop("user_data"))
        assert got == {k: v for k, v in expected.items() if k in got}


def _parquet(tmp_path: Path, name: str, user_data_type: str) -> tuple[Path, list[dict[str, Any]]]:
    """The example flow (plus a PropertiesChanged) as Parquet, user_data as JSON string or map."""
    events = [dict(e) for e in EXAMPLE_EVENTS] + [
        {
            "event_id": "13",
            "event": "EventPropertiesChanged",
            "ts": "2026-03-02T09:13:00.000Z",
            "interaction_id": "IN1",
            "user_data": {"subject": "Hi", "to": "x@y.z"},
        }
    ]
    events[0]["user_data"] = {"customer_id": "C42"}
    party = pa.struct([("type", pa.string()), ("id", pa.string())])
    queue = pa.struct([("type", pa.string()), ("name", pa.string()), ("role", pa.string())])
    ud = pa.string() if user_data_type == "json" else pa.map_(pa.string(), pa.string())
    schema = pa.schema(
        [
            ("event_id", pa.string()),
            ("event", pa.string()),
            ("ts", pa.string()),
            ("interaction_id", pa.string()),
        ]
        + [(c, pa.string()) for c in ("media_type", "interaction_type", "interaction_subtype", "parent_id")]
        + [("actor", party), ("party", party), ("target", party), ("queue", queue)]
        + [(c, pa.string()) for c in ("vq", "outcome", "reason")]
        + [("user_data", ud), ("seq", pa.int64())]
    )
    rows = []
    for e in events:
        row = {f.name: e.get(f.name) for f in schema}
        if row["user_data"] is not None:
            row["user_data"] = (
                json.dumps(row["user_data"]) if user_data_type == "json" else list(e["user_data"].items())
            )
        rows.append(row)
    path = tmp_path / name
    pq.write_table(pa.Table.from_pylist(rows, schema=schema), path)
    return path, events


@pytest.mark.parametrize("user_data_type", ["json", "map"])
def test_parquet(tmp_path: Path, user_data_type: str) -> None:
    path, events = _parquet(tmp_path, "e.parquet", user_data_type)
    result = read_events([path], "r")
    assert_consistent(result)
    assert result.quarantine.height == 0, result.quarantine.to_dicts()
    assert result.events_read == len(events) == result.events.height
    rows = by_id(result)
    assert json.loads(rows["1"]["user_data"]) == {"customer_id": "C42"}
    assert json.loads(rows["13"]["user_data"]) == {"subject": "Hi", "to": "x@y.z"}
    assert rows["13"]["source_line"] == 13 and rows["1"]["source_line"] == 1
    plain = read_events([write(tmp_path / "e.jsonl", EXAMPLE_LINES)], "r")
    cols = [c for c in EVENT_SCHEMA if c not in ("source_file", "user_data")]
    assert (
        result.events.filter(pl.col("source_line") <= 12)
        .select(cols)
        .sort("source_line")
        .equals(plain.events.select(cols).sort("source_line"))
    )


def test_many_files_directory_and_out_of_order(tmp_path: Path) -> None:
    """One interaction's events spread over nested files, in reverse order: all arrive."""
    lines = list(reversed(EXAMPLE_LINES))
    write(tmp_path / "in" / "b" / "part2.jsonl", lines[4:8])
    write(tmp_path / "in" / "a" / "part1.ndjson.gz", lines[:4], compress=True)
    write(tmp_path / "in" / "part3.jsonl", lines[8:])
    (tmp_path / "in" / "README.txt").write_text("not events")
    extra = write(tmp_path / "other.jsonl", [_line(EXTRA_VALID[0])])
    assert discover_files([tmp_path / "in", extra]) == [
        tmp_path / "in" / "a" / "part1.ndjson.gz",
        tmp_path / "in" / "b" / "part2.jsonl",
        tmp_path / "in" / "part3.jsonl",
        extra,
    ]
    assert discover_files([extra, str(extra), tmp_path / "." / "other.jsonl"]) == [extra]  # read once
    result = read_events([str(tmp_path / "in"), extra], "r")
    assert_consistent(result)
    assert (result.files_read, result.events_read, result.events.height) == (4, 13, 13)
    assert set(result.events["event_id"]) == {str(i) for i in range(1, 13)} | {"w1"}
    assert by_id(result)["12"]["source_file"] == str(tmp_path / "in" / "a" / "part1.ndjson.gz")


def test_missing_path_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="does not exist"):
        read_events([tmp_path / "nope"], "r")


def test_empty_input(tmp_path: Path) -> None:
    (tmp_path / "d").mkdir()
    result = read_events([tmp_path / "d", write(tmp_path / "blank.jsonl", "\n \n\t\r\n")], "r")
    assert_consistent(result)
    assert (result.files_read, result.events_read, result.events.height) == (1, 0, 0)


def test_blank_lines_crlf_and_bom_are_fine(tmp_path: Path) -> None:
    text = "\ufeff" + "\r\n\r\n".join(EXAMPLE_LINES[:3]) + "\r\n   \r\n"
    result = read_events([write(tmp_path / "w.jsonl", text)], "r")
    assert_consistent(result)
    assert (result.events_read, result.events.height) == (3, 3)
    assert sorted(result.events["source_line"]) == [1, 3, 5]


def test_no_trailing_newline_and_long_lines(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(files, "CHUNK_BYTES", 64)  # lines longer than a chunk, many chunks
    long = _line(EXAMPLE_EVENTS[0], user_data={"blob": "x" * 500})
    result = read_events([write(tmp_path / "l.jsonl", "\n".join([long, *EXAMPLE_LINES[1:]]))], "r")
    assert_consistent(result)
    assert (result.events_read, result.events.height, result.quarantine.height) == (12, 12, 0)
    assert sorted(result.events["source_line"]) == list(range(1, 13))


# ------------------------------------------------------------------------------------------------------------
# Duplicates


def test_duplicates_within_and_across_files(tmp_path: Path) -> None:
    """Same id, same payload: a counted duplicate (first delivery kept). Same id, other payload: a conflict, both
    copies quarantined with each other's location, neither loaded (events.md says "duplicate" for both: issue 18
    departs from it on purpose, since choosing a copy lost a whole source depending on file-name order)."""
    first = write(tmp_path / "1.jsonl", [*EXAMPLE_LINES[:3], _line(EXAMPLE_EVENTS[1], ts="2026-03-02T23:00:00.000Z")])
    second = write(tmp_path / "2.jsonl", [EXAMPLE_LINES[0], EXAMPLE_LINES[3]])
    result = read_events([first, second], "r")
    assert_consistent(result)
    assert (result.events_read, result.events.height, result.duplicates, result.conflicts) == (6, 3, 1, 2)
    rows = by_id(result)
    assert "2" not in rows
    assert (rows["1"]["source_file"], rows["1"]["source_line"]) == (str(first), 1)
    q = result.quarantine.sort("SOURCE_LINE")
    assert q["SOURCE_LINE"].to_list() == [2, 4] and set(q["EVENT_ID"]) == {"2"}
    assert q["REASON"][0].startswith("conflicting event_id") and f"{first}:4" in q["REASON"][0]
    assert f"{first}:2" in q["REASON"][1] and q["RAW"].str.contains('"event_id":"2"').all()


def test_invalid_line_does_not_count_as_first_delivery(tmp_path: Path) -> None:
    bad = _line(EXAMPLE_EVENTS[0], ts="yesterday")
    result = read_events([write(tmp_path / "d.jsonl", [bad, EXAMPLE_LINES[0], EXAMPLE_LINES[0]])], "r")
    assert_consistent(result)
    assert (result.events.height, result.duplicates, result.quarantine.height) == (1, 1, 1)
    assert result.events["source_line"].to_list() == [2]


# ------------------------------------------------------------------------------------------------------------
# Bad input: one quarantine row each, with file, line, field and a clear reason

E = {e["event"]: e for e in reversed(EXAMPLE_EVENTS + EXTRA_VALID)}  # one valid event per name
BAD_LINES: dict[str, tuple[str, str | None, str]] = {
    # name: (raw line, FIELD, text the REASON must contain)
    "not json": ('{"event_id": "x", "event": ', None, "not valid JSON"),
    "not json at all": ("hello world", None, "not valid JSON"),
    "array": ("[1, 2, 3]", None, "not a JSON object"),
    "string": ('"EventHeld"', None, "not a JSON object"),
    "null": ("null", None, "not a JSON object"),
    "lone surrogate": (
        _line(E["EventHeld"], interaction_id="\\ud800").replace("\\\\ud800", "\\ud800"),
        None,
        "not valid JSON",
    ),
    "missing event": (_line(E["EventHeld"], event=_DROP), "event", "required field 'event' is missing"),
    "unknown event": (
        _line(E["EventHeld"], event="EventExploded"),
        "event",
        "unknown event name 'EventExploded'",
    ),
    "event not a string": (_line(E["EventHeld"], event=3), "event", "unknown event name"),
    "missing event_id": (_line(E["EventHeld"], event_id=_DROP), "event_id", "'event_id' is missing"),
    "empty event_id": (_line(E["EventHeld"], event_id=""), "event_id", "at least 1 character"),
    "event_id number": (_line(E["EventHeld"], event_id=5), "event_id", "valid string"),
    "null interaction_id": (_line(E["EventHeld"], interaction_id=None), "interaction_id", "is missing"),
    "missing queue": (_line(E["EventPlacedInQueue"], queue=_DROP), "queue", "'queue' is missing"),
    "missing actor": (_line(E["EventTakenFromQueue"], actor=_DROP), "actor", "'actor' is missing"),
    "actor not object": (_line(E["EventHeld"], actor="agent1"), "actor", "valid dictionary"),
    "actor list": (
        _line(E["EventTakenFromQueue"], actor=[{"type": "Agent", "id": "a"}]),
        "actor",
        "dictionary",
    ),
    "party id missing": (
        _line(E["EventAgentInvited"], party={"type": "Agent"}),
        "party.id",
        "'party.id' is missing",
    ),
    "party id number": (
        _line(E["EventPartyAdded"], party={"type": "Agent", "id": 7}),
        "party.id",
        "valid string",
    ),
    "party name bool": (
        _line(E["EventRejected"], party={"type": "Agent", "id": "a", "name": True}),
        "party.name",
        "valid string",
    ),
    "actor type enum": (_line(E["EventHeld"], actor={"type": "Robot", "id": "r"}), "actor.type", "'Agent'"),
    "invite reason": (_line(E["EventAgentInvited"], reason="because"), "reason", "'route'"),
    "invite reason missing": (_line(E["EventAgentInvited"], reason=_DROP), "reason", "is missing"),
    "vq outcome": (_line(E["EventVirtualQueueLeft"], outcome="lost"), "outcome", "'routed'"),
    "vq missing": (_line(E["EventVirtualQueueEntered"], vq=_DROP), "vq", "'vq' is missing"),
    "interaction_type": (
        _line(E["EventInteractionSubmitted"], interaction_type="inbound"),
        "interaction_type",
        "'Inbound'",
    ),
    "subtype missing": (
        _line(E["EventInteractionSubmitted"], interaction_subtype=_DROP),
        "interaction_subtype",
        "is missing",
    ),
    "media_type missing": (
        _line(E["EventInteractionSubmitted"], media_type=_DROP),
        "media_type",
        "is missing",
    ),
    "workbin type": (
        _line(E["EventPlacedInWorkbin"], queue={"type": "InteractionQueue", "name": "Q"}),
        "queue.type",
        "'Workbin'",
    ),
    "queue in workbin": (
        _line(E["EventPlacedInQueue"], queue={"type": "Workbin", "name": "W"}),
        "queue.type",
        "'InteractionQueue'",
    ),
    "queue role": (
        _line(E["EventPlacedInQueue"], queue={"type": "InteractionQueue", "name": "Q", "role": "x"}),
        "queue.role",
        "'outbound'",
    ),
    "owner type": (
        _line(
            E["EventPlacedInWorkbin"],
            queue={"type": "Workbin", "name": "W", "owner": {"type": "Team", "id": "t"}},
        ),
        "queue.owner.type",
        "'AgentGroup'",
    ),
    "ts missing": (_line(E["EventHeld"], ts=_DROP), "ts", "'ts' is missing"),
    "ts no millis": (_line(E["EventHeld"], ts="2026-03-02T09:00:00Z"), "ts", "malformed timestamp"),
    "ts space": (_line(E["EventHeld"], ts="2026-03-02 09:00:00.000Z"), "ts", "malformed timestamp"),
    "ts offset": (_line(E["EventHeld"], ts="2026-03-02T09:00:00.000+01:00"), "ts", "malformed timestamp"),
    "ts no zone": (_line(E["EventHeld"], ts="2026-03-02T09:00:00.000"), "ts", "malformed timestamp"),
    "ts micros": (_line(E["EventHeld"], ts="2026-03-02T09:00:00.000000Z"), "ts", "malformed timestamp"),
    "ts bad date": (_line(E["EventHeld"], ts="2026-02-30T09:00:00.000Z"), "ts", "invalid date"),
    "ts year zero": (_line(E["EventHeld"], ts="0000-01-01T00:00:00.000Z"), "ts", "invalid date"),
    "ts hour 24": (_line(E["EventHeld"], ts="2026-03-02T24:00:00.000Z"), "ts", "invalid date"),
    "ts number": (_line(E["EventHeld"], ts=1772442000000), "ts", "valid datetime"),
    "ts unicode digit": (_line(E["EventHeld"], ts="2026-03-02T09:00:0\u0661.000Z"), "ts", "malformed"),
    "seq string": (_line(E["EventHeld"], seq="7"), "seq", "valid integer"),
    "seq float": (_line(E["EventHeld"], seq=1.0), "seq", "valid integer"),
    "seq too big": (_line(E["EventHeld"], seq=2**63), "seq", "less than or equal"),
    "seq bool": (_line(E["EventHeld"], seq=True), "seq", "valid integer"),
    "tenant number": (_line(E["EventHeld"], tenant=1), "tenant", "valid string"),
    "user_data list": (_line(E["EventPropertiesChanged"], user_data=[1]), "user_data", "valid dictionary"),
    "user_data bad json": (
        _line(E["EventPropertiesChanged"], user_data="{oops"),
        "user_data",
        "not valid JSON",
    ),
    "user_data json list": (_line(E["EventPropertiesChanged"], user_data="[1]"), "user_data", "JSON object"),
    "user_data missing": (_line(E["EventPropertiesChanged"], user_data=_DROP), "user_data", "is missing"),
}


@pytest.mark.parametrize("case", sorted(BAD_LINES))
def test_bad_line_is_quarantined(tmp_path: Path, case: str) -> None:
    raw, field, reason = BAD_LINES[case]
    path = write(tmp_path / "bad.jsonl", [EXAMPLE_LINES[0], raw, EXAMPLE_LINES[1]])
    result = read_events([path], run_id="run-7")
    assert_consistent(result)
    assert (result.events_read, result.events.height, result.quarantine.height) == (3, 2, 1)
    q = result.quarantine.row(0, named=True)
    assert (q["SOURCE_FILE"], q["SOURCE_LINE"], q["FIELD"], q["RAW"], q["RUN_ID"]) == (
        str(path),
        2,
        field,
        raw,
        "run-7",
    ), q
    assert reason in q["REASON"], q["REASON"]
    decoded = json.loads(raw) if q["REASON"].split(":")[0] != "not valid JSON" else None
    if isinstance(decoded, dict) and isinstance(decoded.get("event_id"), str):
        assert q["EVENT_ID"] == decoded["event_id"]


def test_invalid_utf8_line(tmp_path: Path) -> None:
    path = tmp_path / "u.jsonl"
    path.write_bytes(f'{EXAMPLE_LINES[0]}\n{{"event_id": "\xff\xfe"}}\n{EXAMPLE_LINES[1]}\n'.encode("latin-1"))
    result = read_events([path], "r")
    assert_consistent(result)
    assert (result.events_read, result.events.height, result.quarantine.height) == (3, 2, 1)
    q = result.quarantine.row(0, named=True)
    assert (q["SOURCE_LINE"], q["FIELD"]) == (2, None) and "UTF-8" in q["REASON"]


def test_every_bad_kind_in_one_file(tmp_path: Path) -> None:
    raws = [raw for raw, _, _ in BAD_LINES.values()]
    lines = [line for pair in zip(EXAMPLE_LINES * 5, raws, strict=False) for line in pair]
    result = read_events([write(tmp_path / "all.jsonl", lines)], "r")
    assert_consistent(result)
    assert result.quarantine.height == len(raws)
    assert result.quarantine["SOURCE_LINE"].to_list() == list(range(2, 2 * len(raws) + 1, 2))
    assert result.quarantine["RAW"].to_list() == raws


def test_truncated_gzip(tmp_path: Path) -> None:
    lines = [_line(EXAMPLE_EVENTS[i % 12], event_id=f"e{i}") for i in range(3000)]
    packed = gzip.compress(("\n".join(lines) + "\n").encode())
    path = tmp_path / "cut.jsonl.gz"
    path.write_bytes(packed[: len(packed) // 2])
    result = read_events([path, write(tmp_path / "ok.jsonl", EXAMPLE_LINES)], "r")
    assert_consistent(result)
    q = result.quarantine
    assert q.height == 1 and q["SOURCE_FILE"][0] == str(path) and "unreadable file" in q["REASON"][0]
    kept = result.events.filter(pl.col("source_file") == str(path)).height
    assert q["SOURCE_LINE"][0] in (0, kept + 1)
    assert result.events.height == kept + 12


@pytest.mark.parametrize("content", [b"PAR1 this is not parquet", b"", b"\x1f\x8bnot gzip"])
def test_corrupt_files(tmp_path: Path, content: bytes) -> None:
    name = "x.parquet" if content.startswith(b"PAR1") or not content else "y.jsonl.gz"
    broken = tmp_path / name
    broken.write_bytes(content)
    result = read_events([broken, write(tmp_path / "ok.jsonl", EXAMPLE_LINES)], "r")
    assert_consistent(result)
    assert result.events.height == 12
    q = result.quarantine.row(0, named=True)
    assert result.quarantine.height == 1 and q["SOURCE_FILE"] == str(broken) and q["SOURCE_LINE"] == 0
    assert "unreadable file" in q["REASON"]


def test_truncated_parquet(tmp_path: Path) -> None:
    path, _ = _parquet(tmp_path, "t.parquet", "json")
    path.write_bytes(path.read_bytes()[:-20])
    result = read_events([path], "r")
    assert_consistent(result)
    assert result.quarantine.height == 1 and "unreadable file" in result.quarantine["REASON"][0]


def test_slow_path_gives_the_same_result(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """If DuckDB fails, the whole run is redone line by line with the models: same outcome."""
    lines = [*EXAMPLE_LINES, *(raw for raw, _, _ in BAD_LINES.values()), EXAMPLE_LINES[0]]
    lines += [json.dumps(e) for e in EXTRA_VALID]
    path = write(tmp_path / "m.jsonl", lines)
    fast = read_events([path], "r")
    monkeypatch.setattr(staging, "FAST_SQL", "SELECT no_such_column FROM chunk")
    slow = read_events([path], "r")
    assert_consistent(slow)
    assert (slow.events_read, slow.duplicates) == (fast.events_read, fast.duplicates) == (len(lines), 1)
    key = ["source_file", "source_line"]
    ud = pl.col("user_data").str.json_decode(pl.Struct({"subject": pl.String, "customer_id": pl.String}))
    assert slow.events.with_columns(ud).sort(key).equals(fast.events.with_columns(ud).sort(key))
    assert slow.quarantine.sort("SOURCE_LINE").equals(fast.quarantine.sort("SOURCE_LINE"))


def test_every_event_model_has_a_valid_example() -> None:
    assert set(E) == set(EVENT_MODELS)


# ------------------------------------------------------------------------------------------------------------
# Property: any mix of valid, invalid, duplicate and blank lines adds up and never raises

VALID_LINES = [json.dumps(e) for e in EXAMPLE_EVENTS + EXTRA_VALID]
INVALID_LINES = [raw for raw, _, _ in BAD_LINES.values()]
lines_strategy = st.lists(
    st.one_of(
        st.tuples(st.just("valid"), st.integers(0, len(VALID_LINES) - 1), st.integers(0, 30)),
        st.tuples(st.just("invalid"), st.integers(0, len(INVALID_LINES) - 1), st.just(0)),
        st.tuples(st.just("blank"), st.just(0), st.just(0)),
        st.tuples(st.just("garbage"), st.integers(0, 2**32), st.just(0)),
    ),
    max_size=60,
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(items=lines_strategy, n_files=st.integers(1, 3), gz=st.booleans())
def test_counts_always_add_up(
    tmp_path_factory: pytest.TempPathFactory, items: list[Any], n_files: int, gz: bool
) -> None:
    base = tmp_path_factory.mktemp("prop")
    files: list[list[str]] = [[] for _ in range(n_files)]
    valid_ids: list[str] = []
    payloads: dict[str, set[int]] = {}
    n_bad = 0
    for i, (kind, idx, eid) in enumerate(items):
        if kind == "valid":
            line = json.dumps({**json.loads(VALID_LINES[idx]), "event_id": f"id{eid}"})
            valid_ids.append(f"id{eid}")
            payloads.setdefault(f"id{eid}", set()).add(idx)
        elif kind == "invalid":
            line, n_bad = INVALID_LINES[idx], n_bad + 1
        elif kind == "garbage":
            line, n_bad = (
                random.Random(idx).choice(["{", "}", "[]", "{}", "1", "nul", '{"event":1}']),
                n_bad + 1,
            )
        else:
            line = "  "
        files[i % n_files].append(line)
    paths = [write(base / f"f{i}.jsonl{'.gz' if gz else ''}", f, compress=gz) for i, f in enumerate(files)]
    result = read_events(paths, "prop")
    assert_consistent(result)
    conflicting = {i for i, p in payloads.items() if len(p) > 1}  # same id, other payload: every copy quarantined
    n_conflict = sum(1 for i in valid_ids if i in conflicting)
    assert result.conflicts == n_conflict
    assert result.quarantine.height == n_bad + n_conflict
    assert result.events.height == len(set(valid_ids) - conflicting)
    assert result.duplicates == len(valid_ids) - n_conflict - len(set(valid_ids) - conflicting)
    assert result.events_read == len(valid_ids) + n_bad


# ------------------------------------------------------------------------------------------------------------
# Differential property: the SQL fast path accepts exactly what the models accept

_ENUMS = sorted({v for specs in models.EVENT_SPECS.values() for s in specs for v in s.values})
_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**65), 2**65),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=4),
    st.sampled_from(
        [
            *_ENUMS,
            "",
            "x",
            "2026-03-02T09:00:00.000Z",
            "2026-03-02T09:00:00.000+00:00",
            "2026-02-29T09:00:00.000Z",
            "2028-02-29T23:59:59.999Z",
            "2026-03-02T09:00:00.00Z",
            '{"a": 1}',
            "[1]",
            "null",
            ' {"b":null}',
            "\\",
        ]
    ),
)
_VALUES = st.one_of(
    _SCALARS,
    st.dictionaries(st.sampled_from(["type", "id", "name", "role", "owner", "x"]), _SCALARS, max_size=3),
    st.lists(_SCALARS, max_size=2),
)
_PATHS = sorted({s.path for specs in models.EVENT_SPECS.values() for s in specs} | {("extra",), ("actor", "zz")})
_mutation = st.tuples(st.sampled_from(_PATHS), st.one_of(st.just(_DROP), _VALUES))


def _mutate(event: dict[str, Any], path: tuple[str, ...], value: Any) -> dict[str, Any]:
    out = json.loads(json.dumps(event))
    node = out
    for key in path[:-1]:
        if not isinstance(node.get(key), dict):
            node[key] = {}
        node = node[key]
    if value is _DROP:
        node.pop(path[-1], None)
    else:
        node[path[-1]] = value
    return out


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    cases=st.lists(
        st.tuples(st.integers(0, len(VALID_LINES) - 1), st.lists(_mutation, max_size=3), st.booleans()),
        min_size=1,
        max_size=25,
    )
)
def test_sql_accepts_exactly_what_the_models_accept(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch, cases: list[Any]
) -> None:
    lines = []
    for n, (idx, mutations, ascii_only) in enumerate(cases):
        event = {**json.loads(VALID_LINES[idx]), "event_id": f"m{n}"}
        for path, value in mutations:
            event = _mutate(event, path, value)
        lines.append(json.dumps(event, ensure_ascii=ascii_only))
    rescued: list[int] = []
    original = staging._check

    def spy(raw: str, name: str, line_no: int, file_idx: int, ok: list[Any], bad: list[Any]) -> None:
        before = len(ok)
        original(raw, name, line_no, file_idx, ok, bad)
        rescued.extend([line_no] * (len(ok) - before))

    monkeypatch.setattr(staging, "_check", spy)
    result = read_events([write(tmp_path_factory.mktemp("diff") / "d.jsonl", lines)], "r")
    assert_consistent(result)
    loaded = {row["source_line"]: row for row in result.events.iter_rows(named=True)}
    for line_no, line in enumerate(lines, start=1):
        model, _, reason = validate_event(json.loads(line))
        if model is None:
            assert line_no not in loaded, (line, reason)
            continue
        assert line_no in loaded or json.loads(line)["event_id"] in {r["event_id"] for r in loaded.values()}, (
            line
        )  # a duplicate of an earlier line
        if line_no in loaded:
            got, expected = loaded[line_no], validate.normalize(model)
            if expected["user_data"] is not None:
                assert json.loads(got["user_data"]) == json.loads(expected["user_data"])
            assert {k: got[k] for k in expected if k != "user_data"} == {
                k: v for k, v in expected.items() if k != "user_data"
            }
    assert rescued == [], [lines[i - 1] for i in rescued]  # the SQL is not stricter than the models


def test_duckdb_failing_after_rows_were_staged_restarts_cleanly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Rows the fast path staged before DuckDB failed are thrown away, not kept beside the slow path's."""
    path = write(tmp_path / "m.jsonl", [*EXAMPLE_LINES, EXAMPLE_LINES[0]])
    expected = read_events([path], "r")
    stream = staging._stream

    def stage_then_fail(*args: object) -> int:
        stream(*args)  # every accepted row reaches the Parquet sink
        raise duckdb.InvalidInputException("simulated failure after staging")

    monkeypatch.setattr(staging, "_stream", stage_then_fail)
    result = read_events([path], "r")
    assert_consistent(result)
    assert (result.events_read, result.duplicates) == (expected.events_read, expected.duplicates) == (13, 1)
    assert result.events.drop("user_data").equals(expected.events.drop("user_data"))
    staged = staging.stage_events([path], "r", tmp_path / "stage")
    assert pq.read_table(staged.events_path).num_rows == 13  # the staged file: each delivery once
