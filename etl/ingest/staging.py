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
import threading
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
from etl.ingest.fast_sql import CHUNK_SCHEMA, FAST_SQL
from etl.ingest.files import prefetch, read_chunks, scan_inputs
from etl.ingest.repeats import split_repeats
from etl.ingest.tenants import keep_tenant
from etl.ingest.validate import QUARANTINE_SCHEMA, _check, _slow_path
from etl.progress import phase

_STAGED_SCHEMA: dict[str, pl.DataType] = {**EVENT_SCHEMA, "_file": pl.Int64()}


class StagedEvents(BaseModel):
    """What `stage_events` hands to the mart load: the staged Parquet files and the ingest counts.

    Invariant: events_read == events_valid + duplicates + conflicts + quarantined (the quarantine file holds the
    `quarantined` rows and one row per conflicting copy)."""

    run_id: str
    started: datetime  # UTC, when staging began
    events_path: str
    repeats_path: str  # (an empty file when nothing repeats)
    quarantine_path: str
    files_read: int
    events_read: int
    events_valid: int
    duplicates: int
    quarantined: int
    conflicts: int = 0
    files_skipped: list[str] = []
    source_notes: dict[str, int] = {}  # an adapter's counted repairs and unknown values (CTL_AUDIT_LOG.SOURCE_NOTES)
    tenant: str | None = None  # the only tenant staged (etl.ingest.tenants); None: every tenant
    other_tenants: int = 0  # lines read that belong to other tenants (not in events_read)

    def batch_params(self) -> dict[str, str]:
        """The parameters of `BATCH_SQL` for this batch."""
        return {"events": self.events_path, "repeats": self.repeats_path}


@dataclass
class IngestResult:
    """Outcome of one ingestion run.

    Invariant: events_read == len(events) + duplicates + len(quarantine) (conflicting copies are in the
    quarantine, `conflicts` of them)."""

    events: pl.DataFrame
    quarantine: pl.DataFrame
    files_read: int
    events_read: int
    duplicates: int
    conflicts: int = 0


def read_events(paths: Sequence[str | Path], run_id: str) -> IngestResult:
    """Read every event file under `paths` into memory: normalized events (deduplicated by event_id, in input
    order) and quarantine. For small inputs and tests; the pipeline stages to Parquet with `stage_events`."""
    with tempfile.TemporaryDirectory(prefix="gim-ingest-") as tmp:
        staged = stage_events(paths, run_id, Path(tmp))
        con = connect()
        try:
            batch = con.sql(f"SELECT * FROM {BATCH_SQL}", params=staged.batch_params())
            events = batch.pl().sort("_file", "source_line").drop("_file")
        finally:
            con.close()
        quarantine = pl.read_parquet(staged.quarantine_path, glob=False)
    return IngestResult(events, quarantine, staged.files_read, staged.events_read, staged.duplicates, staged.conflicts)


#: A staged batch as a FROM item: every accepted event once, its repeated deliveries (and conflicting copies) left
#: out. The staged files are the parameters `$events` and `$repeats` (`StagedEvents.batch_params`): paths are
#: never spliced into SQL text. (DuckDB 2.0 binds an ANTI JOIN's * only through table aliases.)
BATCH_SQL = "(SELECT e.* FROM read_parquet($events) e ANTI JOIN read_parquet($repeats) r USING (_file, source_line))"


def stage_events(
    paths: Sequence[str | Path], run_id: str, directory: str | Path, tenant: str | None = None
) -> StagedEvents:
    """Read every event file under `paths` into `directory`: `events.parquet` (accepted rows: EVENT_SCHEMA plus
    the file ordinal `_file`), `repeats.parquet` (file and line of every row left out of the batch: repeated
    deliveries of an event_id after its first in (file, line) order, and every copy of a conflicting id) and
    `quarantine.parquet` (written as it comes, so bad input never piles up in memory). With `tenant`, only that
    tenant's events and quarantine rows are kept (`etl.ingest.tenants`), before repeats are looked for.

    Repeats are few, so they are listed rather than rewriting the events without them."""
    started = datetime.now(UTC)
    found = scan_inputs(paths)
    files = found.files
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    events_path = directory / "events.parquet"
    quarantine_path = directory / "quarantine.parquet"
    sink = _ParquetSink(events_path)
    bad = QuarantineSink(quarantine_path, run_id)
    try:
        events_read = _scan(files, fast=True, sink=sink, bad=bad)
    except duckdb.Error:  # an input DuckDB chokes on after all: redo the run the slow, line-by-line way
        sink.discard()
        bad.discard()
        sink = _ParquetSink(events_path)
        bad = QuarantineSink(quarantine_path, run_id)
        events_read = _scan(files, fast=False, sink=sink, bad=bad)
    sink.close()
    other_events = other_bad = 0
    if tenant is not None:  # the quarantine is cut too: closed first, the conflicts appended after
        bad.close()
        other_events, other_bad = keep_tenant(events_path, quarantine_path, tenant)
    repeats_path = directory / "repeats.parquet"
    duplicates, conflicts = split_repeats(events_path, repeats_path, run_id)
    quarantined = bad.rows - other_bad
    if tenant is None:
        bad.write(conflicts)
        bad.close()
    elif conflicts.height:
        _append_parquet(quarantine_path, conflicts.select(list(QUARANTINE_SCHEMA)).cast(QUARANTINE_SCHEMA))
    return StagedEvents(
        run_id=run_id,
        started=started,
        events_path=str(events_path),
        repeats_path=str(repeats_path),
        quarantine_path=str(quarantine_path),
        files_read=len(files),
        events_read=events_read - other_events - other_bad,
        events_valid=sink.rows - other_events - duplicates - conflicts.height,
        duplicates=duplicates,
        conflicts=conflicts.height,
        quarantined=quarantined,
        files_skipped=[f"{p}: {why}" for p, why in found.skipped],
        tenant=tenant,
        other_tenants=other_events + other_bad,
    )


def _append_parquet(path: Path, frame: pl.DataFrame) -> None:
    """`frame` appended to a closed Parquet file (rewritten under a temporary name, then renamed)."""
    tmp = path.with_name(f".{path.name}.tmp")
    pl.concat([pl.read_parquet(path, glob=False), frame], how="vertical_relaxed").write_parquet(tmp)
    tmp.replace(path)


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


class QuarantineSink:
    """Quarantine rows streamed to one Parquet file in batches of `batch` rows: memory stays bounded whatever the
    share of bad input. `append` is safe from two threads (the reader thread and the one checking rejects)."""

    def __init__(self, path: Path, run_id: str, batch: int = 10_000) -> None:
        self.path, self.run_id, self.batch, self.rows = path, run_id, batch, 0
        self._buffer: list[dict[str, Any]] = []
        self._writer: pq.ParquetWriter | None = None
        self._lock = threading.Lock()

    def append(self, row: dict[str, Any]) -> None:
        with self._lock:
            self._buffer.append(row)
            self.rows += 1
            if len(self._buffer) >= self.batch:
                self._flush()

    def write(self, frame: pl.DataFrame) -> None:
        """Append whole rows of QUARANTINE_SCHEMA (not counted in `rows`)."""
        with self._lock:
            self._flush()
            if frame.height:
                self._write(frame.select(list(QUARANTINE_SCHEMA)).cast(QUARANTINE_SCHEMA))  # type: ignore[arg-type]

    def _flush(self) -> None:
        if self._buffer:
            rows = [{**r, "RUN_ID": self.run_id} for r in self._buffer]
            self._buffer = []
            self._write(pl.DataFrame(rows, schema=QUARANTINE_SCHEMA, orient="row"))

    def _write(self, frame: pl.DataFrame) -> None:
        table = frame.to_arrow()
        if self._writer is None:
            self._writer = pq.ParquetWriter(self.path, table.schema)
        self._writer.write_table(table.cast(self._writer.schema))

    def discard(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None
        self._buffer = []
        self.rows = 0
        self.path.unlink(missing_ok=True)

    def close(self) -> None:
        with self._lock:
            self._flush()
            if self._writer is None:
                pl.DataFrame(schema=QUARANTINE_SCHEMA).write_parquet(self.path)
            else:
                self._writer.close()
                self._writer = None


class _Rescued(list):
    """Rows the models accepted after the SQL rejected them, handed to the event sink in batches."""

    def __init__(self, sink: Callable[[pl.DataFrame], None], batch: int = 10_000) -> None:
        super().__init__()
        self.sink, self.batch = sink, batch

    def append(self, row: dict[str, Any]) -> None:
        super().append(row)
        if len(self) >= self.batch:
            self.flush()

    def flush(self) -> None:
        if self:
            self.sink(pl.DataFrame(list(self), schema=_STAGED_SCHEMA, orient="row"))
            self.clear()


def _scan(files: list[Path], fast: bool, sink: Callable[[pl.DataFrame], None], bad: QuarantineSink) -> int:
    """Stream all files through one FAST_SQL query (planned once), handing accepted rows to `sink` and
    quarantine rows to `bad`; if not `fast`, through pydantic only. Returns the rows read."""
    names = [str(f) for f in files]
    rescued = _Rescued(sink)
    side = 0  # rows quarantined while reading; counted on DuckDB's scan thread
    streamed = slow_lines = 0
    con = connect()
    with phase("read and validate events", unit="lines") as advance:
        try:
            con.sql("SET arrow_output_version = '1.5'")  # string views: Polars takes the strings without a copy
            con.sql("SET produce_arrow_string_view = true")

            def batches() -> Iterator[pa.RecordBatch]:
                nonlocal slow_lines, side
                for unit in prefetch(read_chunks(files, con.cursor())):
                    if isinstance(unit, dict):  # quarantined while reading (unreadable file, invalid UTF-8)
                        side += 1
                        bad.append(unit)
                        advance(1)
                        continue
                    advance(unit.lines.num_rows)
                    if not fast:  # (single-threaded: the caller drains this generator itself)
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
            rescued.flush()
        finally:
            con.close()
    return streamed + slow_lines + side


def _stream(
    con: duckdb.DuckDBPyConnection,
    batches: Iterator[pa.RecordBatch],
    names: list[str],
    sink: Callable[[pl.DataFrame], None],
    rescued: Any,
    bad: Any,
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
