"""Event files and their formats: finding them, and cutting NDJSON (plain or gzip) and Parquet into chunks of
whole lines for the parser.

Built for speed at millions of events: files are cut into ~32 MB chunks of whole lines in Python with zero-copy
Arrow buffers (line numbers come for free), on a background thread (`prefetch`) so that reading and
decompressing overlap the parsing. Parquet rows are turned into JSON text, so they take exactly the NDJSON
route. Bad input never raises here: an unreadable file or invalid UTF-8 becomes a quarantine row in the stream.

Inputs may be object-storage URLs (`s3://bucket/prefix/`, any fsspec protocol): they are listed and read through
fsspec (s3fs; endpoint and credentials from the usual AWS_* variables, e.g. AWS_ENDPOINT_URL for MinIO), Parquet
through pyarrow, since DuckDB here has no httpfs. A URL input is a `UPath`, a local one a `Path`.
"""

from __future__ import annotations

import io
import os
import queue
import threading
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import fsspec
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from upath import UPath

from etl.ingest.fast_sql import sql_str
from etl.ingest.validate import _qrow

#: File name endings read from directories (compared case-insensitively: `.JSONL` is read too).
EVENT_FILE_SUFFIXES: tuple[str, ...] = (".jsonl", ".ndjson", ".json", ".jsonl.gz", ".ndjson.gz", ".json.gz", ".parquet")

CHUNK_BYTES = 32 << 20

#: An input file: local, or at a URL (object storage).
InputPath = Path | UPath


def is_url(path: str | Path | UPath) -> bool:
    """True for `scheme://...` inputs (object storage), read through fsspec."""
    return isinstance(path, UPath) or "://" in str(path)


def input_path(name: str | Path | UPath) -> InputPath:
    """The path object of an input name as stored in SOURCE_FILE: a `UPath` for a URL, else a `Path`."""
    return UPath(str(name)) if is_url(name) else Path(name)


@dataclass
class Discovered:
    """The files a run reads, and every file (or directory) under its inputs it does not read, with why."""

    files: list[InputPath]
    skipped: list[tuple[str, str]]


def discover_files(paths: Sequence[str | Path]) -> list[InputPath]:
    """The files `scan_inputs` reads."""
    return scan_inputs(paths).files


def is_event_file(name: str) -> bool:
    return name.lower().endswith(EVENT_FILE_SUFFIXES)


def is_parquet(path: InputPath) -> bool:
    return path.name.lower().endswith(".parquet")


def scan_inputs(paths: Sequence[str | Path]) -> Discovered:
    """Expand inputs into files: a directory means every event file below it (recursively, following directory
    links, each real directory once; sorted by path), and every other file below it is listed as skipped.

    A file given explicitly is read whatever its name (Parquet if it ends in .parquet, else NDJSON).
    A path that does not exist is a configuration error and raises FileNotFoundError. URLs are walked the same
    way through fsspec (object stores have no links).
    """
    files: list[InputPath] = []
    skipped: list[tuple[str, str]] = []
    for raw in paths:
        if is_url(raw):
            found, skip = _walk_url(str(raw))
            files.extend(found)
            skipped.extend(skip)
            continue
        path = Path(raw)
        if path.is_dir():
            found, skip = _walk(path)
            files.extend(found)
            skipped.extend(skip)
        elif path.is_file():
            files.append(path)
        else:
            raise FileNotFoundError(f"event input path does not exist: {path}")
    unique: dict[str, InputPath] = {}  # a file named twice is read once (else all its events become duplicates)
    for f in files:
        unique.setdefault(str(f) if isinstance(f, UPath) else str(f.resolve()), f)
    return Discovered(list(unique.values()), skipped)


def _walk_url(url: str) -> tuple[list[InputPath], list[tuple[str, str]]]:
    """`_walk` for an object-storage URL: a prefix means every event file below it, sorted by name."""
    fs, root = fsspec.core.url_to_fs(url)
    protocol = url.split("://", 1)[0]
    if fs.isfile(root):
        return [UPath(url)], []
    names = sorted(fs.find(root))
    if not names and not fs.isdir(root):
        raise FileNotFoundError(f"event input URL does not exist: {url}")
    files: list[InputPath] = []
    skipped: list[tuple[str, str]] = []
    for name in names:
        full = f"{protocol}://{name}"
        base = name.rsplit("/", 1)[-1]
        if base.startswith("."):
            skipped.append((full, "hidden file"))
        elif not is_event_file(base):
            skipped.append((full, f"not an event file name (read: {', '.join(EVENT_FILE_SUFFIXES)})"))
        else:
            files.append(UPath(full))
    return files, skipped


def _walk(root: Path) -> tuple[list[Path], list[tuple[str, str]]]:
    files: list[Path] = []
    skipped: list[tuple[str, str]] = []
    seen: set[tuple[int, int]] = set()
    for top, dirs, names in os.walk(root, followlinks=True):
        st = os.stat(top)
        if (st.st_dev, st.st_ino) in seen:  # a link back to a directory already read: a loop, or a second way in
            skipped.append((top, "directory already read (link loop or second link)"))
            dirs[:] = []
            continue
        seen.add((st.st_dev, st.st_ino))
        dirs.sort()
        for name in sorted(names):
            f = Path(top) / name
            if name.startswith("."):
                skipped.append((str(f), "hidden file"))
            elif not f.is_file():
                skipped.append((str(f), "not a regular file (broken link, FIFO, socket or device)"))
            elif not is_event_file(name):
                skipped.append((str(f), f"not an event file name (read: {', '.join(EVENT_FILE_SUFFIXES)})"))
            else:
                files.append(f)
    return sorted(files), skipped


@dataclass
class Chunk:
    """Consecutive lines of one file: Arrow table (source_line int64, line large_string)."""

    file_idx: int
    lines: pa.Table


def read_chunks(files: Sequence[InputPath], cur: duckdb.DuckDBPyConnection) -> Iterator[Chunk | dict[str, Any]]:
    """Every file's chunks in order, interleaved with the quarantine rows of what could not be read.

    `cur` (a DuckDB cursor) reads Parquet files; a file that breaks off ends with one row at the line reached."""
    for idx, path in enumerate(files):
        reader = _parquet_chunks if is_parquet(path) else _ndjson_chunks
        last = 0
        try:
            for chunk in reader(path, idx, cur):
                if isinstance(chunk, Chunk) and chunk.lines.num_rows:
                    last = chunk.lines.column("source_line")[-1].as_py()
                yield chunk
        except (OSError, EOFError, zlib.error, duckdb.Error, pa.ArrowException) as exc:
            yield _qrow(str(path), last + 1 if last else 0, None, "", f"unreadable file: {exc}", None)


def _ndjson_chunks(path: InputPath, idx: int, _cur: Any) -> Iterator[Chunk | dict[str, Any]]:
    """Whole-line chunks of a (possibly gzip-compressed) NDJSON file; a torn last line is still emitted.

    Each chunk is read into its own buffer, which the Arrow arrays then share (no copies). A file that breaks
    off (e.g. truncated gzip) keeps the lines read so far and ends with one quarantine row at the line
    reached.
    """
    with path.open("rb") as probe:
        gz = probe.read(2) == b"\x1f\x8b"
    with path.open("rb") as raw:
        fh = _Gunzip(raw) if gz else raw
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


class _Gunzip(io.RawIOBase):
    """Gzip decompression (multi-member) that hands out every byte it could decompress before it raises: where
    `gzip.GzipFile.readinto` drops the whole read that hits a truncated or corrupt stream (up to a MiB of
    readable lines), this keeps every complete line before the break."""

    _IN = 1 << 13  # compressed bytes per step: a corrupt block loses at most one step's output

    def __init__(self, raw: Any) -> None:
        super().__init__()
        self.raw, self.d = raw, zlib.decompressobj(wbits=31)
        self.out, self.pos, self.tail = b"", 0, b""

    def _step(self) -> bool:
        """Decompress some more into `out`; False at a clean end of the file."""
        if self.d.eof:  # a member ended: another may follow
            rest = self.d.unused_data or self.raw.read(self._IN)
            if not rest:
                return False
            self.d, self.tail = zlib.decompressobj(wbits=31), rest
        data = self.tail or self.raw.read(self._IN)
        if not data:
            raise EOFError("compressed file ended before the end-of-stream marker was reached")
        self.out, self.pos = self.d.decompress(data, 1 << 20), 0
        self.tail = self.d.unconsumed_tail
        return True

    def readable(self) -> bool:
        return True

    def readinto(self, view: memoryview) -> int:  # type: ignore[override]
        while self.pos >= len(self.out):
            if not self._step():
                return 0
        n = min(len(view), len(self.out) - self.pos)
        view[:n] = self.out[self.pos : self.pos + n]
        self.pos += n
        return n


def read_lines(path: InputPath, wanted: set[int]) -> dict[int, str]:
    """The text of lines `wanted` (1-based) of an NDJSON file, plain or gzip, streamed; {} if it cannot be read
    (moved, removed) or is Parquet. For the raw text of quarantined stored events."""
    if is_parquet(path) or not wanted:
        return {}
    found: dict[int, str] = {}
    last = max(wanted)
    try:
        with path.open("rb") as raw:
            gz = raw.read(2) == b"\x1f\x8b"
            raw.seek(0)
            reader = io.BufferedReader(_Gunzip(raw)) if gz else raw  # type: ignore[arg-type]
            for number, line in enumerate(reader, start=1):
                if number in wanted:
                    found[number] = line.decode(errors="replace").rstrip("\r\n")
                if number >= last:
                    break
    except (OSError, EOFError, zlib.error):
        pass
    return found


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


def _split(buf: memoryview, first: int, idx: int, name: str) -> tuple[Chunk, list[dict[str, Any]]]:
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
    return Chunk(idx, pa.table({"source_line": numbers, "line": lines})), side


def _parquet_chunks(path: InputPath, idx: int, cur: duckdb.DuckDBPyConnection) -> Iterator[Chunk]:
    """Parquet rows as JSON text (1-based row numbers), so they take exactly the NDJSON route."""
    if isinstance(path, UPath):
        yield from _remote_parquet_chunks(path, idx, cur)
        return
    described = cur.sql("describe select * from read_parquet(?)", params=[str(path)]).fetchall()
    fields = _json_fields(described)
    query = (
        f"select file_row_number + 1 as source_line, to_json({{{', '.join(fields)}}})::VARCHAR as line "
        "from read_parquet(?, file_row_number = true)"
    )
    for batch in cur.sql(query, params=[str(path)]).to_arrow_reader(batch_size=100_000):
        yield Chunk(idx, pa.Table.from_batches([batch]).cast(_CHUNK))


_CHUNK = pa.schema([("source_line", pa.int64()), ("line", pa.large_string())])


def _remote_parquet_chunks(path: UPath, idx: int, cur: duckdb.DuckDBPyConnection) -> Iterator[Chunk]:
    """A Parquet file at a URL, read by pyarrow in row batches, each turned into JSON text by DuckDB."""
    with path.open("rb") as fh:
        first = 1
        for batch in pq.ParquetFile(fh).iter_batches(batch_size=100_000):
            numbered = batch.append_column("__row", pa.array(range(first, first + batch.num_rows), pa.int64()))
            cur.register("_pq_batch", numbered)
            try:
                described = cur.sql("describe select * exclude (__row) from _pq_batch").fetchall()
                fields = ", ".join(_json_fields(described))
                query = f"select __row as source_line, to_json({{{fields}}})::VARCHAR as line from _pq_batch"
                table = cur.sql(query + " order by __row").to_arrow_table()
            finally:
                cur.unregister("_pq_batch")
            first += batch.num_rows
            yield Chunk(idx, table.cast(_CHUNK))


def _json_fields(described: list[tuple[Any, ...]]) -> list[str]:
    """The struct fields of a row rendered as contract JSON (timestamps in the contract's format)."""
    fields = []
    for name, ctype, *_ in described:
        ident = '"' + name.replace('"', '""') + '"'
        if ctype.startswith("TIMESTAMP"):  # a real timestamp column: render it the contract's way
            ident = f"strftime(timezone('UTC', {ident}::TIMESTAMPTZ), '%Y-%m-%dT%H:%M:%S.%gZ')"
        fields.append(f"{sql_str(name)}: {ident}")
    return fields


def prefetch(items: Iterator[Any], depth: int = 2) -> Iterator[Any]:
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
