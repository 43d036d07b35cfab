"""Read raw event files (NDJSON, gzip, Parquet) into the normalized event frame plus a quarantine frame.

Design (for speed at millions of events):
- Files are cut into ~32 MB chunks of whole lines in Python with zero-copy Arrow buffers (line numbers come
  for free), on a background thread so that reading and decompressing overlap the parsing.
- All chunks stream through one set-based DuckDB query (`FAST_SQL`, planned once) that parses the JSON,
  applies checks generated from the pydantic models (`models.EVENT_SPECS`) and flattens accepted rows into
  `EVENT_SCHEMA`. Parquet rows are turned into JSON text and take the same route.
- Only rows the SQL rejects are decoded and validated by the pydantic models, which give the quarantine
  FIELD/REASON; a row the models accept after all is loaded from the model ("rescued"), so the models stay
  the single source of truth even where the SQL were stricter.
- Bad input never raises: unreadable files, invalid UTF-8, non-JSON and invalid events all become quarantine
  rows; should DuckDB itself fail, the run is redone line by line with the models (slow but complete).
"""

from __future__ import annotations

import gzip
import json
import queue
import tempfile
import threading
import zlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from etl.ingest.columns import EVENT_SCHEMA
from etl.ingest.models import EVENT_SPECS, TS_REGEX, Envelope, FieldSpec, load_json, validate_event
from etl.settings import duckdb_memory_limit

#: File name endings read from directories.
EVENT_FILE_SUFFIXES: tuple[str, ...] = (".jsonl", ".ndjson", ".jsonl.gz", ".ndjson.gz", ".parquet")

QUARANTINE_SCHEMA: dict[str, pl.DataType] = {
    "SOURCE_FILE": pl.String(),
    "SOURCE_LINE": pl.Int64(),
    "FIELD": pl.String(),
    "RAW": pl.String(),
    "REASON": pl.String(),
    "RUN_ID": pl.String(),
    "EVENT_ID": pl.String(),
}

CHUNK_BYTES = 32 << 20
_LINEAGE = ("source_file", "source_line")


@dataclass
class IngestResult:
    """Outcome of one ingestion run. Invariant: events_read == len(events) + duplicates + len(quarantine)."""

    events: pl.DataFrame
    quarantine: pl.DataFrame
    files_read: int
    events_read: int
    duplicates: int


def discover_files(paths: Sequence[str | Path]) -> list[Path]:
    """Expand inputs into files: a directory means every event file below it (recursively, sorted by path).

    A file given explicitly is read whatever its name (Parquet if it ends in .parquet, else NDJSON).
    A path that does not exist is a configuration error and raises FileNotFoundError.
    """
    files: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            files.extend(
                sorted(
                    f
                    for f in path.rglob("*")
                    if f.is_file() and not f.name.startswith(".") and f.name.endswith(EVENT_FILE_SUFFIXES)
                )
            )
        elif path.is_file():
            files.append(path)
        else:
            raise FileNotFoundError(f"event input path does not exist: {path}")
    unique: dict[Path, Path] = {}  # a file named twice is read once (else all its events become duplicates)
    for f in files:
        unique.setdefault(f.resolve(), f)
    return list(unique.values())


def read_events(paths: Sequence[str | Path], run_id: str) -> IngestResult:
    """Read every event file under `paths` into memory: normalized events (deduplicated by event_id, in input
    order) and quarantine. For small inputs and tests; the pipeline stages to Parquet with `stage_events`."""
    with tempfile.TemporaryDirectory(prefix="gim-ingest-") as tmp:
        staged = stage_events(paths, run_id, Path(tmp))
        con = duckdb.connect()
        try:
            events = con.sql(staged.batch_query()).pl().sort("_file", "source_line").drop("_file")
        finally:
            con.close()
        quarantine = pl.read_parquet(staged.quarantine_path)
    return IngestResult(events, quarantine, staged.files_read, staged.events_read, staged.duplicates)


@dataclass
class StagedEvents:
    """Outcome of `stage_events`. Invariant: events_read == events_valid + duplicates + quarantined."""

    events_path: Path
    repeats_path: Path | None
    quarantine_path: Path
    files_read: int
    events_read: int
    events_valid: int
    duplicates: int
    quarantined: int

    def batch_query(self) -> str:
        return batch_query(self.events_path, self.repeats_path)


def batch_query(events_path: str | Path, repeats_path: str | Path | None) -> str:
    """DuckDB SQL for a staged batch: every accepted event once, its repeated deliveries left out."""
    query = f"SELECT e.* FROM read_parquet({_sql_str(str(events_path))}) e"
    if repeats_path:  # (DuckDB 2.0 binds an ANTI JOIN's * only through table aliases)
        query += f" ANTI JOIN read_parquet({_sql_str(str(repeats_path))}) r USING (_file, source_line)"
    return query


def stage_events(paths: Sequence[str | Path], run_id: str, directory: Path) -> StagedEvents:
    """Read every event file under `paths` into `directory`: `events.parquet` (accepted rows: EVENT_SCHEMA plus
    the file ordinal `_file`), `repeats.parquet` (file and line of every repeated delivery of an event_id after
    its first in (file, line) order; only if there are any) and `quarantine.parquet`.

    Accepted rows are written as they stream out of the parser, so memory stays flat whatever the input size;
    repeats are few, so they are listed rather than rewriting the events without them."""
    files = discover_files(paths)
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
    repeats_path: Path | None = directory / "repeats.parquet"
    duplicates = _list_repeats(events_path, repeats_path)
    if not duplicates:
        repeats_path = None
    quarantine_path = directory / "quarantine.parquet"
    quarantine = pl.DataFrame([{**row, "RUN_ID": run_id} for row in bad], schema=QUARANTINE_SCHEMA, orient="row")
    quarantine.write_parquet(quarantine_path)
    return StagedEvents(
        events_path,
        repeats_path,
        quarantine_path,
        len(files),
        events_read,
        sink.rows - duplicates,
        duplicates,
        quarantine.height,
    )


_STAGED_SCHEMA: dict[str, pl.DataType] = {**EVENT_SCHEMA, "_file": pl.Int64()}


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
    con = duckdb.connect()
    try:
        con.sql("SET enable_progress_bar = false")
        con.sql(f"SET memory_limit = '{duckdb_memory_limit()}'")
        events = f"read_parquet({_sql_str(str(events_path))})"
        con.sql(
            f"CREATE TEMP TABLE repeats AS SELECT _file, source_line FROM ("
            f" SELECT _file, source_line, row_number() OVER (PARTITION BY event_id ORDER BY _file, source_line) AS n"
            f" FROM {events} WHERE event_id IN (SELECT event_id FROM {events} GROUP BY ALL HAVING count(*) > 1)"
            f") WHERE n > 1"
        )
        count = con.sql("SELECT count(*) FROM repeats").fetchall()[0][0]
        if count:
            con.sql(f"COPY repeats TO {_sql_str(str(repeats_path))} (FORMAT parquet)")
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
    con = duckdb.connect()
    try:
        con.sql("SET enable_progress_bar = false")
        con.sql("SET arrow_output_version = '1.5'")  # string views: Polars takes the strings without a copy
        con.sql("SET produce_arrow_string_view = true")

        def batches() -> Iterator[pa.RecordBatch]:
            nonlocal slow_lines
            for unit in _prefetch(_units(files, con.cursor())):
                if isinstance(unit, dict):  # quarantined while reading (unreadable file, invalid UTF-8)
                    side.append(unit)
                elif not fast:  # (single-threaded: the caller drains this generator itself)
                    slow_lines += _slow_path(unit, names[unit.file_idx], rescued, bad)
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
    con.register("chunk", pa.RecordBatchReader.from_batches(_CHUNK_SCHEMA, batches))
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


_CHUNK_SCHEMA = pa.schema([("_file", pa.int64()), ("source_line", pa.int64()), ("line", pa.large_string())])


# ----------------------------------------------------------------------------------------------------------
# Reading files into chunks of lines


@dataclass
class _Chunk:
    """Consecutive lines of one file: Arrow table (source_line int64, line large_string)."""

    file_idx: int
    lines: pa.Table


def _units(files: list[Path], cur: duckdb.DuckDBPyConnection) -> Iterator[_Chunk | dict[str, Any]]:
    for idx, path in enumerate(files):
        reader = _parquet_chunks if path.name.endswith(".parquet") else _ndjson_chunks
        last = 0
        try:
            for chunk in reader(path, idx, cur):
                if isinstance(chunk, _Chunk) and chunk.lines.num_rows:
                    last = chunk.lines.column("source_line")[-1].as_py()
                yield chunk
        except (OSError, EOFError, zlib.error, duckdb.Error, pa.ArrowException) as exc:
            yield _qrow(str(path), last + 1 if last else 0, None, "", f"unreadable file: {exc}", None)


def _ndjson_chunks(path: Path, idx: int, _cur: Any) -> Iterator[_Chunk | dict[str, Any]]:
    """Whole-line chunks of a (possibly gzip-compressed) NDJSON file; a torn last line is still emitted.

    Each chunk is read into its own buffer, which the Arrow arrays then share (no copies). A file that breaks
    off (e.g. truncated gzip) keeps the lines read so far and ends with one quarantine row at the line
    reached.
    """
    with open(path, "rb") as probe:
        gz = probe.read(2) == b"\x1f\x8b"
    with gzip.open(path, "rb") if gz else open(path, "rb") as fh:
        first, rest, skip = 1, b"", 0
        while True:
            buf = bytearray(len(rest) + CHUNK_BYTES)
            buf[: len(rest)] = rest
            got, error = _fill(fh, memoryview(buf)[len(rest) :])
            size = len(rest) + got
            eof = got == 0 or error is not None
            if first == 1 and not skip and buf.startswith(b"\xef\xbb\xbf"):  # tolerate a UTF-8 byte-order mark
                skip = 3
            cut = buf.rfind(b"\n", 0, size) + 1 if error or not eof else size
            if cut <= skip and not eof:  # no line end yet (a line longer than a chunk): keep reading
                rest = bytes(buf[:size])
                continue
            rest = bytes(buf[cut:size])
            if cut > skip:
                chunk, side = _split(memoryview(buf)[skip:cut], first, idx, str(path))
                yield from side
                yield chunk
                first += chunk.lines.num_rows
            skip = 0
            if error is not None:
                torn = rest.decode(errors="replace")[:1000]
                yield _qrow(str(path), first if first > 1 or torn else 0, None, torn, f"unreadable file: {error}")
                return
            if eof:
                return


def _fill(fh: Any, view: memoryview) -> tuple[int, Exception | None]:
    """Fill `view` from `fh` in 1 MB steps; on a read error return what was read and the error."""
    got = 0
    try:
        while got < len(view):
            n = fh.readinto(view[got : got + (1 << 20)])
            if not n:
                break
            got += n
    except (OSError, EOFError, zlib.error) as exc:
        return got, exc
    return got, None


def _split(buf: memoryview, first: int, idx: int, name: str) -> tuple[_Chunk, list[dict[str, Any]]]:
    """Cut a buffer of whole lines into an Arrow string array without copying (lines keep their '\\n')."""
    data = pa.py_buffer(buf)
    u8 = pa.Array.from_buffers(pa.uint8(), len(buf), [None, data])
    ends = pc.add(pc.indices_nonzero(pc.equal(u8, pa.scalar(10, pa.uint8()))).cast(pa.int64()), 1)
    bounds = [pa.array([0], pa.int64()), ends]
    if buf[-1] != 10:
        bounds.append(pa.array([len(buf)], pa.int64()))
    offsets = pa.concat_arrays(bounds)
    n = len(offsets) - 1
    side: list[dict[str, Any]] = []
    try:
        lines: pa.Array = pa.LargeStringArray.from_buffers(n, offsets.buffers()[1], data)
        lines.validate(full=True)
    except pa.ArrowInvalid:  # invalid UTF-8 somewhere: find the bad lines, blank them, quarantine them
        texts = []
        for i, raw in enumerate(bytes(buf).split(b"\n")[:n]):
            try:
                texts.append(raw.decode())
            except UnicodeDecodeError as exc:
                text = raw.decode(errors="replace").rstrip("\r")
                side.append(_qrow(name, first + i, None, text, f"not valid UTF-8 ({exc.reason} at byte {exc.start})"))
                texts.append("")
        lines = pa.array(texts, pa.large_string())
    numbers = pc.cumulative_sum(pa.repeat(pa.scalar(1, pa.int64()), n), start=first - 1)
    return _Chunk(idx, pa.table({"source_line": numbers, "line": lines})), side


def _parquet_chunks(path: Path, idx: int, cur: duckdb.DuckDBPyConnection) -> Iterator[_Chunk]:
    """Parquet rows as JSON text (1-based row numbers), so they take exactly the NDJSON route."""
    described = cur.sql("describe select * from read_parquet(?)", params=[str(path)]).fetchall()
    fields = []
    for name, ctype, *_ in described:
        ident = '"' + name.replace('"', '""') + '"'
        if ctype.startswith("TIMESTAMP"):  # a real timestamp column: render it the contract's way
            ident = f"strftime(timezone('UTC', {ident}::TIMESTAMPTZ), '%Y-%m-%dT%H:%M:%S.%gZ')"
        fields.append(f"{_sql_str(name)}: {ident}")
    query = (
        f"select file_row_number + 1 as source_line, to_json({{{', '.join(fields)}}})::VARCHAR as line "
        "from read_parquet(?, file_row_number = true)"
    )
    schema = pa.schema([("source_line", pa.int64()), ("line", pa.large_string())])
    for batch in cur.sql(query, params=[str(path)]).to_arrow_reader(batch_size=100_000):
        yield _Chunk(idx, pa.Table.from_batches([batch]).cast(schema))


def _prefetch(items: Iterator[Any], depth: int = 2) -> Iterator[Any]:
    """Run a generator on a background thread (Arrow, gzip and file reads release the GIL)."""
    q: queue.Queue[tuple[str, Any]] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def work() -> None:
        try:
            for item in items:
                if stop.is_set():
                    return
                q.put(("item", item))
            q.put(("done", None))
        except BaseException as exc:  # hand bugs over to the consumer rather than hang it
            q.put(("error", exc))

    thread = threading.Thread(target=work, name="ingest-reader", daemon=True)
    thread.start()
    try:
        while True:
            kind, value = q.get()
            if kind == "done":
                return
            if kind == "error":
                raise value
            yield value
    finally:
        stop.set()
        while thread.is_alive():  # unblock a producer waiting on a full queue
            try:
                q.get_nowait()
            except queue.Empty:
                thread.join(0.01)


# ----------------------------------------------------------------------------------------------------------
# The set-based fast path: SQL generated from the models' field specifications

_WS = "[ \\t\\r\\n]"  # JSON whitespace, as an RE2 class inside a SQL string literal


def _column(path: tuple[str, ...]) -> str:
    """Normalized column of a contract field path (queue.workbin_type is the one irregular name)."""
    name = "_".join(path)
    return "workbin_type" if name == "queue_workbin_type" else name


def _sql_str(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _build_sql() -> str:
    """One SELECT over `chunk` (_file, source_line, line) -> _ok, _raw and the EVENT_SCHEMA columns (+ _file).

    A single `from_json` parses each line into a struct whose leaves are JSON text, so a wrong JSON type stays
    visible (a string leaf must start with a quote). A nested object given as a non-object comes out as a
    struct of nulls, which its required children then reject. Every distinct "if present, well-formed" check
    is computed once as a boolean column; each event's branch is then a cheap AND of those columns plus its
    required-presence tests, all following models.EVENT_SPECS. (Written to avoid IN lists, which DuckDB turns
    into joins, and repeated sub-expressions.)
    """
    by_path: dict[tuple[str, ...], list[tuple[str, FieldSpec]]] = {}
    for event, specs in EVENT_SPECS.items():
        for spec in specs:
            by_path.setdefault(spec.path, []).append((event, spec))
    kinds = {p: uses[0][1].kind for p, uses in by_path.items()}
    if any(len({"str" if s.kind == "enum" else s.kind for _, s in uses}) > 1 for uses in by_path.values()):
        raise RuntimeError("a field path has different kinds in different events")  # str vs enum is fine
    for p, k in kinds.items():  # see docstring: a non-object must be caught through a required child
        if k == "object" and not any(s.required for q, u in by_path.items() if q[:-1] == p for _, s in u):
            raise RuntimeError(f"object {'.'.join(p)} needs a required child for the SQL checks")
    if by_path[("seq",)][0][1].bounds != (-(2**63), 2**63 - 1):
        raise RuntimeError("seq bounds differ from BIGINT's; extend the SQL generator")
    events = list(EVENT_SPECS)

    def structure(parent: tuple[str, ...]) -> dict[str, Any]:
        children = sorted({q[len(parent)] for q in by_path if q[: len(parent)] == parent and len(q) > len(parent)})
        return {c: structure((*parent, c)) if kinds[(*parent, c)] == "object" else "JSON" for c in children}

    def r(path: tuple[str, ...]) -> str:  # JSON text (struct, for objects) of a path
        return "r_" + "_".join(path)

    def x(path: tuple[str, ...]) -> str:  # string value of a string leaf
        return "x_" + "_".join(path)

    def any_of(col: str, values: Sequence[str]) -> str:
        return "(" + " OR ".join(f"{col} = {_sql_str(v)}" for v in values) + ")"

    def for_events(names: Sequence[str]) -> str:  # _ev is one of these events (a bit test, not an IN list)
        mask = sum(1 << events.index(e) for e in set(names))
        return f"(({mask} >> _ev) & 1) = 1"

    ts, ud = ("ts",), ("user_data",)
    stage_r = [f"t.{'.'.join(chr(34) + q + chr(34) for q in p)} AS {r(p)}" for p in by_path]
    # String values (only those output or checked). In a line without a backslash no string is escaped, so a
    # JSON string's text holds no quote but its delimiters: dropping quotes is the (fast) unescape.
    stage_x = [
        f"CASE WHEN _bs THEN json_extract_string({r(p)}, '$') ELSE replace({r(p)}, '\"', '') END AS {x(p)}"
        for p, k in kinds.items()
        if k in ("str", "enum", "ts", "user_data") and (_column(p) in EVENT_SCHEMA or p in (("ts",), ("user_data",)))
    ]
    stage_v = [
        f"epoch_ms(try_strptime(substr({x(ts)}, 1, 23), '%Y-%m-%dT%H:%M:%S.%g')) AS v_ts",
        "try_cast(r_seq AS BIGINT) AS v_seq",
        f"CASE WHEN starts_with({r(ud)}, '{{') THEN {r(ud)} "
        f"WHEN starts_with({r(ud)}, '\"') AND json_valid({x(ud)}) "
        f"AND regexp_matches({x(ud)}, '^{_WS}*\\{{') THEN json({x(ud)})::VARCHAR END AS v_user_data",
        f"list_position([{', '.join(_sql_str(json.dumps(e)) for e in events)}], r_event)::INTEGER - 1 AS _ev",
    ]

    checks: dict[str, str] = {}  # "if present then well-formed" expression -> boolean column name

    def well_formed(spec: FieldSpec) -> str | None:
        rr, xx = r(spec.path), x(spec.path)
        ok = {
            "str": f"starts_with({rr}, '\"')" + (f" AND {rr} <> '\"\"'" if spec.non_empty else ""),
            "enum": any_of(rr, [json.dumps(v) for v in spec.values]),
            "int": f"regexp_full_match({rr}, '-?(0|[1-9][0-9]*)') AND v_seq IS NOT NULL",
            "ts": f"starts_with({rr}, '\"') AND regexp_full_match({xx}, {_sql_str(TS_REGEX)}) "
            f"AND substr({xx}, 1, 4) <> '0000' AND v_ts IS NOT NULL",
            "user_data": "v_user_data IS NOT NULL",
            "object": None,
        }[spec.kind]
        if ok is None:
            return None
        return checks.setdefault(f"({rr} IS NULL OR ({ok}))", f"w{len(checks)}")  # NULL ends as false in _ok

    def branch(event: str) -> str:
        parts = []
        for spec in EVENT_SPECS[event]:
            if spec.path == ("event",):
                continue
            w = well_formed(spec)
            need = f"{r(spec.path)} IS NOT NULL" if spec.required else None
            if need and len(spec.path) > 1:  # required only when the parent object is there
                need = f"({r(spec.path[:-1])} IS NULL OR {need})"
            parts += [p for p in (need, w) if p]
        return " AND ".join(parts)

    branches = "\n".join(f"    WHEN {i} THEN {branch(e)}" for i, e in enumerate(events))

    # output columns, each only for the events whose model has the field (extra fields are ignored)
    columns: dict[str, str] = {"_file": "_file", "ts_ms": "v_ts"}
    for path, uses in by_path.items():
        col, kind = _column(path), kinds[path]
        if col not in EVENT_SCHEMA or kind == "object":
            continue
        expr = {"int": "v_seq", "user_data": "v_user_data"}.get(kind, x(path))
        if path == ("tenant",):
            expr = f"coalesce({expr}, 'Resources')"
        if len({e for e, _ in uses}) < len(events):
            expr = f"CASE WHEN {for_events([e for e, _ in uses])} THEN {expr} END"
        columns[col] = expr
    missing = set(EVENT_SCHEMA) - set(columns) - set(_LINEAGE)
    if missing:
        raise RuntimeError(f"columns not fed by any model field: {sorted(missing)}")
    columns["source_file"] = "$names[_file + 1]"
    columns["source_line"] = "source_line"

    parse = f"CASE WHEN json_valid(line) THEN from_json(line, {_sql_str(json.dumps(structure(())))}) END"
    stages = [
        f"p AS (SELECT _file, source_line, line, {parse} AS t, contains(line, '\\') AS _bs FROM chunk "
        f"WHERE NOT regexp_full_match(line, '{_WS}*'))",
        f"sr AS (SELECT _file, source_line, line, _bs, {', '.join(stage_r)} FROM p)",
        f"sx AS (SELECT *, {', '.join(stage_x)} FROM sr)",
        f"sv AS (SELECT *, {', '.join(stage_v)} FROM sx)",
        f"sw AS (SELECT *, {', '.join(f'{e} AS {w}' for e, w in checks.items())} FROM sv)",
        f"ok AS (SELECT *, coalesce(CASE _ev\n{branches}\n    ELSE false END, false) AS _ok FROM sw)",
    ]
    select = ",\n  ".join(f"{expr} AS {col}" for col, expr in columns.items())
    return "WITH " + ",\n".join(stages) + f"\nSELECT _ok, CASE WHEN NOT _ok THEN line END AS _raw,\n  {select}\nFROM ok"


FAST_SQL = _build_sql()


# ----------------------------------------------------------------------------------------------------------
# The precise path: pydantic on rejected rows (and on whole chunks DuckDB could not handle)

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
        rescued.append({**_normalize(model), "source_file": name, "source_line": line_no, "_file": file_idx})


def _slow_path(unit: _Chunk, name: str, rescued: list[dict[str, Any]], bad: list[dict[str, Any]]) -> int:
    """Validate a whole chunk line by line; returns the number of non-blank lines."""
    count = 0
    for line_no, line in zip(*unit.lines.to_pydict().values(), strict=True):
        if line.strip(" \t\r\n"):
            count += 1
            _check(line, name, line_no, unit.file_idx, rescued, bad)
    return count


def _normalize(model: Envelope) -> dict[str, Any]:
    """A validated event as a row of EVENT_SCHEMA (lineage columns excluded)."""
    row: dict[str, Any] = dict.fromkeys(c for c in EVENT_SCHEMA if c not in _LINEAGE)

    def walk(data: dict[str, Any], prefix: tuple[str, ...]) -> None:
        for key, val in data.items():
            path = (*prefix, key)
            if key == "user_data" and not prefix:
                row["user_data"] = None if val is None else json.dumps(val, separators=(",", ":"), ensure_ascii=False)
            elif key == "ts" and not prefix:
                row["ts_ms"] = (val - _EPOCH) // timedelta(milliseconds=1)
            elif isinstance(val, dict):
                walk(val, path)
            elif _column(path) in row:
                row[_column(path)] = val

    walk(model.model_dump(), ())
    return row


def _qrow(file: str, line: int, fld: str | None, raw: str, reason: str, event_id: str | None = None) -> dict[str, Any]:
    return {
        "SOURCE_FILE": file,
        "SOURCE_LINE": line,
        "FIELD": fld,
        "RAW": raw,
        "REASON": reason,
        "EVENT_ID": event_id,
    }
