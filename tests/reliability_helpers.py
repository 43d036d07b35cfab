"""Helpers of the reliability tests (issue 18): small interactions as contract events, loads, audit rows."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import duckdb

from etl.domain.options import GimOptions
from etl.pipeline.load import load_files
from etl.simulate.scenario import Scenario

AUDIT_COUNTS = (
    "SELECT EVENTS_READ, EVENTS_LOADED, EVENTS_DUPLICATE, EVENTS_CONFLICT, EVENTS_QUARANTINED FROM CTL_AUDIT_LOG"
)


def handled_email(sc: Scenario, ixn: str, who: str = "agent1") -> Scenario:
    """Submitted, routed to `who`, accepted, stopped: 6 events, one IRF."""
    sc.inbound(ixn).wait(5).route(ixn, who, "Strategy1").wait(5).accept(ixn, who).wait(60)
    return sc.stop(ixn, who)


def events_of(ixn: str, prefix: str = "", start: str = "2026-03-02T09:00:00.000Z") -> list[dict[str, Any]]:
    return handled_email(Scenario(start=start, prefix=prefix), ixn).events


def write_lines(path: Path, events: list[dict[str, Any]] | list[str]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join((e if isinstance(e, str) else json.dumps(e)) + "\n" for e in events))
    return path


def load(db: Path, *paths: Path, window_s: int = 86400) -> None:
    load_files([str(p) for p in paths], db, GimOptions(), late_window_s=window_s)


def rows(db: Path, sql: str, params: list | None = None) -> list[tuple]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def physical_lines(*paths: Path) -> int:
    """Non-blank lines physically present in NDJSON files (what a run must account for)."""
    return sum(1 for p in paths for line in p.read_text().splitlines() if line.strip())
