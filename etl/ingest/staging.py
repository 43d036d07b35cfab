"""Staging: read raw event files into Parquet (accepted events, repeated deliveries, quarantine) and hand the
mart load one `StagedEvents`.

Design (for speed at millions of events):
- All chunks of lines (`etl.ingest.files`) stream through one set-based DuckDB query (`FAST_SQL`, planned
  once, `etl.ingest.fast_sql`) that parses, checks and flattens them; accepted rows are written to Parquet as
  they come, so memory stays flat whatever the input size.
- Only rows the SQL rejects go to the pydantic models (`etl.ingest.validate`), which quarantine them with a
  precise reason or rescue them.
- Bad input never raises: unreadable files, invalid UTF-8, non-JSON and invalid events all become quarantine
  rows; should DuckDB itself fail, the run is redone line by line with the models (slow but complete).
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
from pydantic import BaseModel

from etl.connections import connect
from etl.ingest.columns import EVENT_SCHEMA
from etl.ingest.fast_sql import CHUNK_SCHEMA, FAST_SQL, sql_str
from etl.ingest.files import discover_files, prefetch, read_chunks
from etl.ingest.validate import QUARANTINE_SCHEMA, _check, _slow_path

_STAGED_SCHEMA: dict[str, pl.DataType] = {**EVENT_SCHEMA, "_file": pl.Int64()}


class StagedEvents(BaseModel):
    """What `stage_events` hands to the mart load: the staged Parquet files and the ingest counts.

    Invariant: events_read == events_valid + duplicates + quarantined."""

    run_id: str
    started: datetime  # UTC, when staging began
    events_path: str
    repeats_path: str | None
    quarantine_path: str
    files_read: int
    events_read: int
    events_valid: int
    duplicates: int
    quarantined: int

    def batch_query(self) -> str:
        return batch_query(self.events_path, self.repeats_path)


@dataclass
class IngestResult:
    """Outcome of one ingestion run. Invariant: events_read == len(events) + duplicates + len(quarantine)."""

    events: pl.DataFrame
    quarantine: pl.DataFrame
    files_read: int
    events_read: int
    duplicates: int


def read_events(paths: Sequence[str | Path], run_id: str) -> IngestResult:
    """Read every event file under `paths` into memory: normalized events (deduplicated by event_id, in input
    order) and quarantine. For small inputs and tests; the pipeline stages to Parquet with `stage_events`."""
    with tempfile.TemporaryDirectory(prefix="gim-ingest-") as tmp:
        staged = stage_events(paths, run_id, Path(tmp))
        con = connect()
        try:
            events = con.sql(staged.batch_query()).pl().sort("_file", "source_line").drop("_file")
        finally:
            con.close()
        quarantine = pl.read_parquet(staged.quarantine_path)
    return IngestResult(events, quarantine, staged.files_read, staged.events_read, staged.duplicates)


def batch_query(events_path: str | Path, repeats_path: str | Path | None) -> str:
    """DuckDB SQL for a staged batch: every accepted event once, its repeated deliveries left out."""
    query = f"SELECT e.* FROM read_parquet({sql_str(str(events_path))}) e"
    if repeats_path:  # (DuckDB 2.0 binds an ANTI JOIN's * only through table aliases)
        query += f" ANTI JOIN read_parquet({sql_str(str(repeats_path))}) r USING (_file, source_line)"
    return query


def stage_events(paths: Sequence[str | Path], run_id: str, directory: str | Path) -> StagedEvents:
    """Read every event file under `paths` into `directory`: `events.parquet` (accepted rows: EVENT_SCHEMA plus
    the file ordinal `_file`), `repeats.parquet` (file and line of every repeated delivery of an event_id after
    its first in (file, line) order; only if there are any) and `quarantine.parquet`.

    Repeats are few, so they are listed rather than rewriting the events without them."""
    started = datetime.now(UTC)
    files = discover_files(paths)
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    events_path = directory / "events.parquet"
    sink = _ParquetSink(events_path)
    try:
        rescued, bad, events_read = _scan(files, fast=True, sink=sink)
    except duckdb.Error:  # an input DuckDB chokes on after all: redo the run the slow, line-by-line way
        sink.discard()
        sink = _ParquetSink(events_path)
        rescued, bad, events_read = _scan(files, fast=False, sink=sink)
    if rescued:
        sink(pl.DataFrame(rescued, schema=_STAGED_SCHEMA, orient="row"))
    sink.close()
    repeats_path = directory / "repeats.parquet"
    duplicates = _list_repeats(events_path, repeats_path)
    quarantine_path = directory / "quarantine.parquet"
    quarantine = pl.DataFrame([{**row, "RUN_ID": run_id} for row in bad], schema=QUARANTINE_SCHEMA, orient="row")
    quarantine.write_parquet(quarantine_path)
    return StagedEvents(
        run_id=run_id,
        started=started,
        events_path=str(events_path),
        repeats_path=str(repeats_path) if duplicates else None,
        quarantine_path=str(quarantine_path),
        files_read=len(files),
        events_read=events_read,
        events_valid=sink.rows - duplicates,
        duplicates=duplicates,
        quarantined=quarantine.height,
    )


class _ParquetSink:
    """Appends accepted frames (cast to `_STAGED_SCHEMA`) to one Parquet file."""

    def __init__(self, path: Path) -> None:
        self.path, self.rows = path, 0
        self._writer: pq.ParquetWriter | None = None

    def __call__(self, frame: pl.DataFrame) -> None:
        if not frame.height:
            return
        table = frame.select(list(_STAGED_SCHEMA)).cast(_STAGED_SCHEMA).to_arrow()  # type: ignore[arg-type]
        if self._writer is None:
            self._writer = pq.ParquetWriter(self.path, table.schema)
        self._writer.write_table(table.cast(self._writer.schema))
        self.rows += frame.height

    def discard(self) -> None:
        """Close and delete what was written (before a retry writes the same path anew)."""
        if self._writer is not None:
            self._writer.close()
            self._writer = None
        self.path.unlink(missing_ok=True)
        self.rows = 0

    def close(self) -> None:
        if self._writer is None:  # nothing accepted: still a readable, typed file
            pl.DataFrame(schema=_STAGED_SCHEMA).write_parquet(self.path)
        else:
            self._writer.close()


def _list_repeats(events_path: Path, repeats_path: Path) -> int:
    """Write the (file, line) of each repeated delivery of an event_id to `repeats_path`; returns how many."""
    con = connect()
    try:
        events = f"read_parquet({sql_str(str(events_path))})"
        con.sql(
            f"CREATE TEMP TABLE repeats AS SELECT _file, source_line FROM ("
            f" SELECT _file, source_line, row_number() OVER (PARTITION BY event_id ORDER BY _file, source_line) AS n"
            f" FROM {events} WHERE event_id IN (SELECT event_id FROM {events} GROUP BY ALL HAVING count(*) > 1)"
            f") WHERE n > 1"
        )
        count = con.sql("SELECT count(*) FROM repeats").fetchall()[0][0]
        if count:
            con.sql(f"COPY repeats TO {sql_str(str(repeats_path))} (FORMAT parquet)")
        return count
    finally:
        con.close()


_Scan = tuple[list[dict[str, Any]], list[dict[str, Any]], int]


def _scan(files: list[Path], fast: bool, sink: Callable[[pl.DataFrame], None]) -> _Scan:
    """Stream all files through one FAST_SQL query (planned once), handing accepted rows to `sink`; if not
    `fast`, through pydantic only. Returns the rows the models rescued, the quarantine rows and the rows read."""
    names = [str(f) for f in files]
    rescued: list[dict[str, Any]] = []
    bad: list[dict[str, Any]] = []
    side: list[dict[str, Any]] = []  # rows quarantined while reading; filled on DuckDB's scan thread
    streamed = slow_lines = 0
    con = connect()
    try:
        con.sql("SET arrow_output_version = '1.5'")  # string views: Polars takes the strings without a copy
        con.sql("SET produce_arrow_string_view = true")

        def batches() -> Iterator[pa.RecordBatch]:
            nonlocal slow_lines
            for unit in prefetch(read_chunks(files, con.cursor())):
                if isinstance(unit, dict):  # quarantined while reading (unreadable file, invalid UTF-8)
                    side.append(unit)
                elif not fast:  # (single-threaded: the caller drains this generator itself)
                    slow_lines += _slow_path(unit.lines, unit.file_idx, names[unit.file_idx], rescued, bad)
                else:
                    lines = unit.lines
                    files_col = pa.repeat(pa.scalar(unit.file_idx, pa.int64()), lines.num_rows)
                    yield from lines.add_column(0, "_file", files_col).to_batches(max_chunksize=8192)

        if fast:
            streamed = _stream(con, batches(), names, sink, rescued, bad)
        else:
            for _ in batches():
                pass
    finally:
        con.close()
    return rescued, side + bad, streamed + slow_lines + len(side)


def _stream(
    con: duckdb.DuckDBPyConnection,
    batches: Iterator[pa.RecordBatch],
    names: list[str],
    sink: Callable[[pl.DataFrame], None],
    rescued: list[dict[str, Any]],
    bad: list[dict[str, Any]],
) -> int:
    """Run FAST_SQL over the line batches; keep accepted rows, check rejected ones. Returns rows seen."""
    seen = 0
    con.register("chunk", pa.RecordBatchReader.from_batches(CHUNK_SCHEMA, batches))
    result = con.sql(FAST_SQL, params={"names": names}).to_arrow_reader(batch_size=1 << 17)
    for batch in result:  # streamed: DuckDB never holds the whole result
        out = pl.from_arrow(batch)
        assert isinstance(out, pl.DataFrame)
        seen += out.height
        all_ok = bool(out["_ok"].all())  # the usual case: no filter, so no copy
        sink((out if all_ok else out.filter(pl.col("_ok"))).drop("_ok", "_raw"))
        if not all_ok:
            rejected = out.filter(~pl.col("_ok")).select("_file", "source_line", "_raw")
            for file_idx, line_no, raw in rejected.iter_rows():
                _check(raw, names[file_idx], line_no, file_idx, rescued, bad)
    return seen
