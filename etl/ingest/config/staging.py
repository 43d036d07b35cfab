"""Staging of configuration-log files (../shared/contract/config.md): NDJSON (plain or gzip) and Parquet, read
with the events' file reader (`etl.ingest.files`: whole lines, Parquet rows as JSON text, unreadable files and
invalid UTF-8 as quarantine rows), each line validated by the models (a configuration log is small: thousands of
lines, not millions, so there is no set-based fast path).

Within a batch, an identical line delivered twice is a counted duplicate; a second, different version of the same
(tenant, object, id) at the same `ts` is quarantined (the contract orders versions by `ts` only, so two of them
at one instant cannot both be right). The mart load de-duplicates against what is already stored.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import polars as pl
from pydantic import BaseModel

from etl.connections import connect
from etl.ingest.config.models import validate_line
from etl.ingest.files import Chunk, discover_files, read_chunks
from etl.ingest.models import load_json
from etl.ingest.validate import QUARANTINE_SCHEMA, _qrow

#: One accepted configuration version, as staged (the STG_CFG_OBJECTS row without RUN_ID).
CFG_SCHEMA: dict[str, pl.DataType] = {
    "cfg_key": pl.String(),
    "tenant": pl.String(),
    "object": pl.String(),
    "id": pl.String(),
    "ts_ms": pl.Int64(),
    "op": pl.String(),
    "payload": pl.String(),
    "source_file": pl.String(),
    "source_line": pl.Int64(),
}


class StagedConfig(BaseModel):
    """What `stage_config` hands to the mart load. Invariant: objects_read == objects_valid + duplicates +
    quarantined."""

    run_id: str
    objects_path: str
    quarantine_path: str
    files_read: int
    objects_read: int
    objects_valid: int
    duplicates: int
    quarantined: int


def stage_config(paths: Sequence[str | Path], run_id: str, directory: str | Path) -> StagedConfig:
    """Read every configuration file under `paths` into `directory`: `config.parquet` (accepted versions,
    CFG_SCHEMA) and `config_quarantine.parquet` (QUARANTINE_SCHEMA)."""
    files = discover_files(paths)
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    rows: dict[str, dict[str, Any]] = {}
    seen_at: dict[tuple[str, str, str, int], str] = {}
    bad: list[dict[str, Any]] = []
    read = duplicates = 0
    con = connect()
    try:
        for unit in read_chunks(files, con.cursor()):
            if isinstance(unit, dict):
                bad.append(unit)
                read += 1
                continue
            for line_no, line in _lines(unit):
                read += 1
                row, problem = _check(line, str(files[unit.file_idx]), line_no)
                if problem:
                    bad.append(problem)
                elif row["cfg_key"] in rows:
                    duplicates += 1
                elif seen_at.setdefault(_instant(row), row["cfg_key"]) != row["cfg_key"]:
                    bad.append(_conflict(row, line))
                else:
                    rows[row["cfg_key"]] = row
    finally:
        con.close()
    objects_path, quarantine_path = directory / "config.parquet", directory / "config_quarantine.parquet"
    pl.DataFrame(list(rows.values()), schema=CFG_SCHEMA, orient="row").write_parquet(objects_path)
    quarantine = pl.DataFrame([{**r, "RUN_ID": run_id} for r in bad], schema=QUARANTINE_SCHEMA, orient="row")
    quarantine.write_parquet(quarantine_path)
    return StagedConfig(
        run_id=run_id,
        objects_path=str(objects_path),
        quarantine_path=str(quarantine_path),
        files_read=len(files),
        objects_read=read,
        objects_valid=len(rows),
        duplicates=duplicates,
        quarantined=len(bad),
    )


def _lines(chunk: Chunk) -> list[tuple[int, str]]:
    data = chunk.lines.to_pydict()
    return [(n, t) for n, t in zip(data["source_line"], data["line"], strict=True) if t.strip(" \t\r\n")]


def _check(raw: str, name: str, line_no: int) -> tuple[dict[str, Any], None] | tuple[None, dict[str, Any]]:
    text = raw.rstrip("\n").rstrip("\r")
    try:
        data = load_json(text)
    except ValueError as exc:
        return None, _qrow(name, line_no, None, text, f"configuration: not valid JSON: {exc}")
    row, field, reason = validate_line(data)
    if row is None:
        return None, _qrow(name, line_no, field, text, f"configuration: {reason}")
    return {**row, "source_file": name, "source_line": line_no}, None


def _instant(row: dict[str, Any]) -> tuple[str, str, str, int]:
    return (row["tenant"], row["object"], row["id"], row["ts_ms"])


def _conflict(row: dict[str, Any], line: str) -> dict[str, Any]:
    return _qrow(
        row["source_file"],
        row["source_line"],
        "ts",
        line.rstrip("\r\n"),
        f"configuration: a different version of {row['object']} {row['id']!r} at the same ts is already in this"
        " batch (versions are ordered by ts; one of the two must be wrong)",
    )
