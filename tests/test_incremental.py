"""Incremental loads: batches add facts and complete active ones in place; batches equal one shot."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
from conftest import FIXTURES, query, run_cli

FACT_SQL = {
    "INTERACTION_FACT": "SELECT * EXCLUDE (CREATE_AUDIT_KEY, UPDATE_AUDIT_KEY) FROM INTERACTION_FACT",
    "INTERACTION_RESOURCE_FACT": "SELECT * EXCLUDE (CREATE_AUDIT_KEY, UPDATE_AUDIT_KEY) FROM INTERACTION_RESOURCE_FACT",
    "MEDIATION_SEGMENT_FACT": "SELECT * EXCLUDE (CREATE_AUDIT_KEY, UPDATE_AUDIT_KEY) FROM MEDIATION_SEGMENT_FACT",
}


def _by_natural_key(db: Path) -> dict[str, pl.DataFrame]:
    """Facts keyed by source ids and ordinals, not surrogate ids (which depend on arrival order)."""
    irf = query(
        db,
        """
        SELECT i.MEDIA_SERVER_IXN_GUID, f.* EXCLUDE (INTERACTION_RESOURCE_ID, INTERACTION_ID, CREATE_AUDIT_KEY,
               UPDATE_AUDIT_KEY, MEDIATION_SEGMENT_ID, RECEIVED_FROM_IXN_RESOURCE_ID, RESOURCE_KEY,
               LAST_VQUEUE_RESOURCE_KEY, MEDIATION_RESOURCE_KEY, LAST_INTERACTION_RESOURCE, TENANT_KEY,
               MEDIA_TYPE_KEY, INTERACTION_TYPE_KEY, MEDIA_RESOURCE_KEY, ROUTING_TARGET_KEY, REQUESTED_SKILL_KEY),
               r.RESOURCE_NAME, t.ROUTING_TARGET_TYPE, t.TARGET_OBJECT_SELECTED, t.SKILL_EXPRESSION
        FROM INTERACTION_RESOURCE_FACT f JOIN INTERACTION_FACT i USING (INTERACTION_ID)
        JOIN RESOURCE_ r ON r.RESOURCE_KEY = f.RESOURCE_KEY
        JOIN ROUTING_TARGET t ON t.ROUTING_TARGET_KEY = f.ROUTING_TARGET_KEY ORDER BY ALL""",
    )
    msf = query(
        db,
        """
        SELECT i.MEDIA_SERVER_IXN_GUID, m.START_TS, m.END_TS, m.MEDIATION_DURATION, m.ACTIVE_FLAG,
               m.TECHNICAL_DESCRIPTOR_KEY, r.RESOURCE_NAME
        FROM MEDIATION_SEGMENT_FACT m JOIN INTERACTION_FACT i USING (INTERACTION_ID)
        JOIN RESOURCE_ r ON r.RESOURCE_KEY = m.RESOURCE_KEY ORDER BY ALL""",
    )
    ixn = query(
        db,
        "SELECT * EXCLUDE (INTERACTION_ID, ANCHOR_ID, CREATE_AUDIT_KEY, UPDATE_AUDIT_KEY, TENANT_KEY,"
        " MEDIA_TYPE_KEY, INTERACTION_TYPE_KEY) FROM INTERACTION_FACT ORDER BY ALL",
    )
    return {"irf": irf, "msf": msf, "ixn": ixn}


def _split_by_time(src: Path, out: Path, parts: int) -> list[Path]:
    events = [
        json.loads(line)
        for p in sorted(src.glob("*.jsonl"))
        for line in p.read_text().splitlines()
        if line.strip() and line.startswith("{") and '"interaction_id"' in line and '"ts":"2026-03-02T' in line
    ]
    events.sort(key=lambda e: e["ts"])
    size = -(-len(events) // parts)
    paths = []
    for i in range(parts):
        path = out / f"batch-{i}.jsonl"
        path.write_text("".join(json.dumps(e) + "\n" for e in events[i * size : (i + 1) * size]))
        paths.append(path)
    return paths


def test_batches_by_time_equal_one_shot_and_complete_active_facts(tmp_path: Path) -> None:
    batches = _split_by_time(FIXTURES / "sample", tmp_path, 3)
    one = tmp_path / "one.duckdb"
    assert run_cli("--events", *map(str, batches), "--db", str(one)) == 0
    inc = tmp_path / "inc.duckdb"
    active_after_first = None
    for i, batch in enumerate(batches):
        assert run_cli("--events", str(batch), "--db", str(inc)) == 0
        if i == 0:
            active_after_first = query(
                inc, "SELECT INTERACTION_RESOURCE_ID FROM INTERACTION_RESOURCE_FACT WHERE ACTIVE_FLAG = 1"
            )
    assert active_after_first is not None and active_after_first.height > 0
    expected, got = _by_natural_key(one), _by_natural_key(inc)
    for name in expected:
        assert got[name].equals(expected[name]), name
    # facts that were active after batch 1 were completed in place, under the same ids
    ids = active_after_first["INTERACTION_RESOURCE_ID"].to_list()
    still = query(
        inc,
        f"SELECT count(*) AS n FROM INTERACTION_RESOURCE_FACT WHERE INTERACTION_RESOURCE_ID IN"
        f" ({', '.join(map(str, ids))})",
    )["n"][0]
    assert still == len(ids)
    assert (
        query(
            inc,
            "SELECT count(*) AS n FROM INTERACTION_RESOURCE_FACT WHERE INTERACTION_RESOURCE_ID IN"
            f" ({', '.join(map(str, ids))}) AND ACTIVE_FLAG = 0",
        )["n"][0]
        > 0
    )


def test_slicing_the_rederivation_changes_nothing(tmp_path: Path, monkeypatch) -> None:  # noqa: ANN001
    """A load re-derives interactions in slices of GIM_ETL_DERIVE_BATCH_EVENTS stored events (bounded memory);
    the facts, their thread roots across slices, the dimensions and the counts must not depend on it."""
    whole = tmp_path / "whole.duckdb"
    assert run_cli("--events", str(FIXTURES / "sample"), "--db", str(whole)) == 0
    monkeypatch.setenv("GIM_ETL_DERIVE_BATCH_EVENTS", "150")
    sliced = tmp_path / "sliced.duckdb"
    assert run_cli("--events", str(FIXTURES / "sample"), "--db", str(sliced)) == 0
    threaded = "SELECT count(*) AS n FROM INTERACTION_FACT WHERE MEDIA_SERVER_ROOT_IXN_GUID <> MEDIA_SERVER_IXN_GUID"
    assert query(whole, threaded)["n"][0] > 10  # replies and forwards whose root is another interaction
    events = query(sliced, "SELECT count(*) AS n FROM STG_EVENTS")["n"][0]
    assert events > 20 * 150  # so the load above ran in many slices
    expected, got = _by_natural_key(whole), _by_natural_key(sliced)
    for name in expected:
        assert got[name].equals(expected[name]), name
    counts = (
        "SELECT EVENTS_READ, EVENTS_LOADED, EVENTS_DUPLICATE, EVENTS_QUARANTINED, INTERACTION_FACT_ROWS,"
        " INTERACTION_RESOURCE_FACT_ROWS, MEDIATION_SEGMENT_FACT_ROWS FROM CTL_AUDIT_LOG"
    )
    assert query(sliced, counts).equals(query(whole, counts))
    resources = "SELECT * EXCLUDE (RESOURCE_KEY, CREATE_AUDIT_KEY, UPDATE_AUDIT_KEY) FROM RESOURCE_ ORDER BY ALL"
    assert query(sliced, resources).equals(query(whole, resources))
    quarantine = "SELECT SOURCE_FILE, SOURCE_LINE, FIELD, REASON FROM STG_EVENT_QUARANTINE ORDER BY ALL"
    assert query(sliced, quarantine).equals(query(whole, quarantine))
