"""Nothing lost, nothing invented (issue 18): conflicting ids, clocks, broken files and operator errors.

Every input line is loaded, a counted duplicate, a counted conflict or quarantined with file, line, raw text and
reason; facts never depend on file names or order. Each test failed before its fix."""

from __future__ import annotations

import gzip
import json
import zlib
from datetime import UTC, datetime
from pathlib import Path

import pyarrow.parquet as pq
from reliability_helpers import AUDIT_COUNTS, events_of, handled_email, load, physical_lines, rows, write_lines

from etl.domain.options import GimOptions
from etl.domain.rules import RejectionKind
from etl.ingest import staging
from etl.ingest.staging import read_events
from etl.simulate.generator import GeneratorConfig, write_files
from etl.simulate.scenario import Scenario, agent, iso
from etl.transform.api import facts_from_events

# -- 1. conflicting event ids ----------------------------------------------------------------------------


def test_two_sources_numbering_alike_lose_nothing_silently(tmp_path: Path) -> None:
    """Two sources both number their events e1..e5: the 10 events are 5 conflicts of 2 copies; every copy is
    quarantined with the other's location and counted, whatever the file names' order."""
    a = write_lines(tmp_path / "a.jsonl", events_of("ixnA"))
    b = write_lines(tmp_path / "b.jsonl", events_of("ixnB"))
    results = []
    for name, order in (("ab", (a, b)), ("ba", (b, a))):
        db = tmp_path / f"{name}.duckdb"
        load(db, *order)
        assert rows(db, AUDIT_COUNTS) == [(10, 0, 0, 10, 0)]
        q = rows(db, "SELECT SOURCE_FILE, SOURCE_LINE, EVENT_ID, REASON, RAW FROM STG_EVENT_QUARANTINE ORDER BY 1, 2")
        assert len(q) == 10
        for file, line, _eid, reason, raw in q:
            other = str(b if file == str(a) else a)
            assert reason.startswith("conflicting event_id") and f"{other}:{line}" in reason
            assert raw and json.loads(raw)["interaction_id"] in {"ixnA", "ixnB"}
        assert rows(db, "SELECT count(*) FROM INTERACTION_FACT") == [(0,)]
        results.append(sorted((Path(f).name, n, r) for f, n, _, r, _ in q))
    assert results[0] == results[1]


def test_same_id_same_payload_is_a_duplicate_other_payload_a_conflict_across_runs(tmp_path: Path) -> None:
    db = tmp_path / "m.duckdb"
    first = write_lines(tmp_path / "one.jsonl", events_of("ixnA"))
    load(db, first)
    again = write_lines(tmp_path / "again.jsonl", events_of("ixnA"))  # same ids, same payload
    other = write_lines(tmp_path / "other.jsonl", events_of("ixnB")[:2])  # same ids e1, e2, other payload
    load(db, again)
    load(db, other)
    counts = rows(db, AUDIT_COUNTS + " ORDER BY START_TIME")
    assert counts == [(5, 5, 0, 0, 0), (5, 0, 5, 0, 0), (2, 0, 0, 2, 0)]
    q = rows(db, "SELECT SOURCE_FILE, SOURCE_LINE, REASON FROM STG_EVENT_QUARANTINE ORDER BY SOURCE_LINE")
    assert [(f, n) for f, n, _ in q] == [(str(other), 1), (str(other), 2)]
    assert all(f"{first}:{n}" in reason for _, n, reason in q)
    assert rows(db, "SELECT count(*) FROM STG_EVENTS WHERE INTERACTION_ID = 'ixnB'") == [(0,)]


def test_generated_periods_never_share_ids(tmp_path: Path) -> None:
    """A generated day loaded on top of another period (other seed or start date) adds all its events."""
    kw = {"interactions_per_day": 20, "agents": 4, "files": 1, "duplicate_rate": 0.0}
    day1 = write_files(GeneratorConfig(start_date="2026-03-02", seed=7, **kw), tmp_path / "p1")
    day2 = write_files(GeneratorConfig(start_date="2026-03-03", seed=7, **kw), tmp_path / "p2")
    day3 = write_files(GeneratorConfig(start_date="2026-03-02", seed=8, **kw), tmp_path / "p3")
    db = tmp_path / "m.duckdb"
    for paths in (day1, day2, day3):
        load(db, *paths)
    counts = rows(db, AUDIT_COUNTS)
    assert all(
        loaded == read and dup == conflict == quarantined == 0 for read, loaded, dup, conflict, quarantined in counts
    )
    assert physical_lines(*day1, *day2, *day3) == rows(db, "SELECT count(*) FROM STG_EVENTS")[0][0]


# -- 9. events that contradict their interaction's history -----------------------------------------------


def _kinds(events: list[dict]) -> list[tuple[str, str]]:
    facts = facts_from_events(events, GimOptions())
    return sorted(zip(facts.rejected["event_id"], facts.rejected["kind"], strict=True))


def test_party_added_after_stop_is_rejected_not_an_irf_active_forever() -> None:
    sc = handled_email(Scenario(), "ixn1")
    sc.wait(30).accept("ixn1", "agent2")
    late = sc.events[-1]["event_id"]
    assert _kinds(sc.events) == [(late, RejectionKind.AFTER_STOP)]
    irfs = facts_from_events(sc.events, GimOptions()).irfs
    assert irfs.height == 1 and irfs["active_flag"].to_list() == [0]


def test_stop_dated_before_submission_is_rejected() -> None:
    sc = Scenario(start="2026-03-02T10:00:00.000Z")
    sc.inbound("ixn1")
    early = Scenario(start="2026-03-02T09:00:00.000Z", prefix="x").stop("ixn1", None).events
    events = sc.events + early
    assert _kinds(events) == [(early[0]["event_id"], RejectionKind.BEFORE_SUBMISSION)]
    assert not RejectionKind.BEFORE_SUBMISSION.waits_for_submission


def test_removal_of_a_party_never_added_is_rejected() -> None:
    sc = handled_email(Scenario(), "ixn1")
    sc.events.insert(-1, {**sc.events[-2], "event_id": "ghost", "event": "EventPartyRemoved", "party": agent("nobody")})
    assert _kinds(sc.events) == [("ghost", RejectionKind.PARTY_NEVER_ADDED)]


def test_contradictions_are_quarantined_with_raw_text(tmp_path: Path) -> None:
    sc = handled_email(Scenario(), "ixn1")
    sc.wait(30).accept("ixn1", "agent2")
    path = write_lines(tmp_path / "e.jsonl", sc.events)
    db = tmp_path / "m.duckdb"
    load(db, path)
    q = rows(db, "SELECT SOURCE_FILE, SOURCE_LINE, FIELD, RAW, REASON FROM STG_EVENT_QUARANTINE")
    assert len(q) == 1
    file, line, field, raw, reason = q[0]
    assert (file, line, field) == (str(path), len(sc.events), "event")
    assert "after interaction 'ixn1' was stopped" in reason
    assert raw == path.read_text().splitlines()[-1]  # the line as read
    assert rows(db, AUDIT_COUNTS) == [(6, 5, 0, 0, 1)]
    assert rows(db, "SELECT count(*) FROM INTERACTION_RESOURCE_FACT WHERE ACTIVE_FLAG = 1") == [(0,)]


# -- 2. late-arrival windows and clock skew on the loader's clock -----------------------------------------


def _now_iso(offset_s: float = 0) -> str:
    return iso(int((datetime.now(UTC).timestamp() + offset_s) * 1000))


def test_a_fast_clock_elsewhere_does_not_quarantine_waiting_events(tmp_path: Path) -> None:
    """Interaction A's events wait for their submission; B's source clock is two days fast. Before: the window was
    counted from the newest event in the mart (B's), so A's events were quarantined at once and A's facts came out
    wrong when its submission arrived."""
    a = events_of("ixnA", prefix="a", start=_now_iso(-3600))
    b = events_of("ixnB", prefix="b", start=_now_iso(2 * 86400))
    db = tmp_path / "m.duckdb"
    load(db, write_lines(tmp_path / "1.jsonl", a[1:] + b))
    q = rows(db, "SELECT EVENT_ID, FIELD, REASON FROM STG_EVENT_QUARANTINE ORDER BY EVENT_ID")
    assert [e for e, _, _ in q] == sorted(e["event_id"] for e in b)  # B quarantined (future), A waits
    assert all(f == "ts" and "ahead of the loader's clock" in r for _, f, r in q)
    load(db, write_lines(tmp_path / "2.jsonl", a[:1]))  # A's submission arrives
    assert rows(db, "SELECT count(*) FROM STG_EVENT_QUARANTINE WHERE EVENT_ID LIKE 'a%'") == [(0,)]
    assert rows(db, "SELECT count(*), sum(ACTIVE_FLAG) FROM INTERACTION_RESOURCE_FACT") == [(1, 0)]
    assert rows(db, AUDIT_COUNTS + " ORDER BY START_TIME") == [(9, 4, 0, 0, 5), (1, 1, 0, 0, 0)]


def test_an_event_dated_9999_is_quarantined_with_a_reason(tmp_path: Path) -> None:
    events = events_of("ixnA", start=_now_iso(-600))
    events[-1] = {**events[-1], "ts": "9999-12-31T23:59:59.999Z"}
    db = tmp_path / "m.duckdb"
    load(db, write_lines(tmp_path / "1.jsonl", events))
    assert rows(db, "SELECT SOURCE_LINE, FIELD FROM STG_EVENT_QUARANTINE") == [(5, "ts")]
    assert rows(db, AUDIT_COUNTS) == [(5, 4, 0, 0, 1)]


def test_waiting_events_are_quarantined_by_whichever_later_run_sees_the_window_passed(tmp_path: Path) -> None:
    orphan = events_of("ixnA", prefix="a")[1:]
    db = tmp_path / "m.duckdb"
    load(db, write_lines(tmp_path / "1.jsonl", orphan))
    assert rows(db, "SELECT count(*) FROM STG_EVENT_QUARANTINE") == [(0,)]  # waiting (24 h window)
    (tmp_path / "1.jsonl").unlink()  # its file is gone by then: the raw text is the event as stored
    load(db, write_lines(tmp_path / "2.jsonl", events_of("ixnC", prefix="c")), window_s=0)  # A not in this run
    q = rows(db, "SELECT SOURCE_FILE, REASON, RAW FROM STG_EVENT_QUARANTINE ORDER BY SOURCE_LINE")
    assert len(q) == len(orphan) and all("never submitted" in r for _, r, _ in q)
    assert [json.loads(raw)["event_id"] for _, _, raw in q] == [e["event_id"] for e in orphan]
    assert {f for f, _, _ in q} == {str(tmp_path / "1.jsonl")}
    assert rows(db, "SELECT count(*) FROM STG_EVENTS WHERE INTERACTION_ID = 'ixnA'") == [(0,)]


# -- 3. a truncated .gz keeps every complete line before the break ----------------------------------------


def test_a_truncated_gzip_keeps_every_complete_line_and_quarantines_the_break(tmp_path: Path) -> None:
    events = [e for i in range(2500) for e in events_of(f"ixn{i}", prefix=f"i{i}-")]  # 12 500 lines, ~4 MiB
    plain = "".join(json.dumps(e) + "\n" for e in events).encode()
    packed = gzip.compress(plain, compresslevel=1)
    cut = packed[: len(packed) * 3 // 4]
    path = tmp_path / "broken.jsonl.gz"
    path.write_bytes(cut)
    readable = zlib.decompressobj(wbits=31).decompress(cut)  # everything a reader can get out of it
    complete = readable.count(b"\n")
    assert 0 < complete < len(events)
    result = read_events([path], "r")
    assert result.events.height == complete  # before: up to a MiB of readable lines were lost, uncounted
    assert result.quarantine.height == 1
    row = result.quarantine.row(0, named=True)
    assert row["SOURCE_LINE"] == complete + 1 and row["REASON"].startswith("unreadable file")
    assert row["RAW"] == readable[readable.rfind(b"\n") + 1 :].decode(errors="replace")[:1000]
    assert result.events_read == complete + 1


# -- 5. strict JSON ----------------------------------------------------------------------------------------


def test_deep_nesting_nan_and_trailing_commas_are_quarantined_and_the_run_goes_on(tmp_path: Path) -> None:
    good = events_of("ixn1")
    base = json.dumps(good[0])[:-1]
    bad = [
        "[" * 5000 + "]" * 5000,  # deep at top level: a RecursionError ended the whole run
        json.dumps({**good[1], "event_id": "deep"})[:-1] + ', "user_data": ' + '{"a":' * 1200 + "1" + "}" * 1200 + "}",
        json.dumps({**good[1], "event_id": "nan"})[:-1] + ', "user_data": {"x": NaN}}',
        json.dumps({**good[1], "event_id": "comma"})[:-1] + ",}",
        json.dumps({**good[1], "event_id": "inf", "seq": 1})[:-1].replace('"seq": 1', '"seq": Infinity') + "}",
    ]
    fine = base + ', "user_data": {"note": "NaN, ] and Infinity are text here"}}'
    path = write_lines(tmp_path / "e.jsonl", [fine, *good[1:], *bad])
    db = tmp_path / "m.duckdb"
    for _ in range(2):  # every later run that includes the file works too
        load(db, path)
    q = rows(db, "SELECT SOURCE_LINE, REASON FROM STG_EVENT_QUARANTINE ORDER BY SOURCE_LINE")
    assert [n for n, _ in q] == [6, 7, 8, 9, 10]
    assert all(r.startswith("not valid JSON") for _, r in q)
    assert "nested 5000 levels deep" in q[0][1] and "NaN is not a JSON value" in q[2][1]
    assert rows(db, AUDIT_COUNTS + " ORDER BY START_TIME") == [(10, 5, 0, 0, 5), (10, 0, 5, 0, 5)]
    assert rows(db, "SELECT USER_DATA FROM STG_EVENTS WHERE EVENT_ID = ?", [good[0]["event_id"]]) != [(None,)]


# -- 4. directory scans --------------------------------------------------------------------------------------


def test_directory_scans_follow_links_read_every_event_suffix_and_list_what_they_skip(tmp_path: Path) -> None:
    root = tmp_path / "in"
    elsewhere = tmp_path / "elsewhere"
    write_lines(elsewhere / "linked.jsonl", events_of("ixnL", prefix="l"))
    root.mkdir()
    (root / "sub").symlink_to(elsewhere, target_is_directory=True)
    (elsewhere / "loop").symlink_to(root, target_is_directory=True)  # a loop back: read once, not forever
    write_lines(root / "UPPER.JSONL", events_of("ixnU", prefix="u"))
    write_lines(root / "plain.json", events_of("ixnJ", prefix="j"))
    write_lines(root / "notes.txt", ["hello"])
    write_lines(root / ".hidden.jsonl", ["{}"])
    db = tmp_path / "m.duckdb"
    load(db, root)
    assert rows(db, "SELECT count(DISTINCT INTERACTION_ID) FROM STG_EVENTS") == [(3,)]
    (files_read, skipped_n, skipped) = rows(db, "SELECT FILES_READ, FILES_SKIPPED, SKIPPED_FILES FROM CTL_AUDIT_LOG")[0]
    assert files_read == 3 and skipped_n == 3
    reasons = json.loads(skipped)
    assert any(".hidden.jsonl: hidden file" in r for r in reasons)
    assert any("notes.txt: not an event file name" in r for r in reasons)
    assert any("already read" in r for r in reasons)  # the loop


# -- 8. the quarantine streams with bounded memory ---------------------------------------------------------


def test_bad_lines_stream_to_the_quarantine_file_in_bounded_batches(tmp_path: Path, monkeypatch) -> None:
    peak = 0
    append = staging.QuarantineSink.append

    def tracked(self: staging.QuarantineSink, row: dict) -> None:
        nonlocal peak
        append(self, row)
        peak = max(peak, len(self._buffer))

    monkeypatch.setattr(staging.QuarantineSink, "append", tracked)
    junk = [f"junk line {i}" for i in range(25_000)]
    path = write_lines(tmp_path / "junk.jsonl", [*map(json.dumps, events_of("ixn1")), *junk])
    staged = staging.stage_events([path], "r", tmp_path / "stage")
    assert staged.quarantined == 25_000 and 0 < peak < 10_000  # never more than one batch held
    meta = pq.ParquetFile(staged.quarantine_path).metadata
    assert meta.num_rows == 25_000 and meta.num_row_groups >= 3
    db = tmp_path / "m.duckdb"
    load(db, path)
    assert rows(db, AUDIT_COUNTS) == [(25_005, 5, 0, 0, 25_000)]
