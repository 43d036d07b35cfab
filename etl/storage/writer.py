"""The one writer of a mart: an advisory lock beside it (`<mart>.lock`), held for a whole run, from staging to the
serving copy, so that a second run waits (`GIM_ETL_WRITER_WAIT_SECONDS`) or refuses with a clear message instead
of failing deep inside DuckDB after it staged its whole input.

The lock is `flock` on an open file: the kernel releases it when the holder dies (SIGKILL included), so a lock
never outlives its run. Re-entrant within a process: the CLI takes it before staging and the mart asset, running
in the same process, takes it again.
"""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from etl.settings import runtime

_HELD: dict[str, tuple[int, int]] = {}  # lock path -> (fd, depth) held by this process


class WriterBusy(RuntimeError):
    """Another process is writing the mart."""


def lock_path(db: str | Path) -> Path:
    p = Path(db)
    return p.with_name(p.name + ".lock")


def holder(db: str | Path) -> str:
    """Who holds (or last held) the lock, as written in the lock file."""
    try:
        return lock_path(db).read_text().strip() or "unknown"
    except OSError:
        return "unknown"


@contextmanager
def writer_lock(db: str | Path, wait_s: float | None = None) -> Iterator[None]:
    """Hold the mart's writer lock for the block; wait up to `wait_s` (default GIM_ETL_WRITER_WAIT_SECONDS)
    for another writer, then raise `WriterBusy`."""
    path = lock_path(db)
    path.parent.mkdir(parents=True, exist_ok=True)
    key = str(path.resolve())
    if key in _HELD:
        fd, depth = _HELD[key]
        _HELD[key] = (fd, depth + 1)
        try:
            yield
        finally:
            fd, depth = _HELD[key]
            _HELD[key] = (fd, depth - 1)
        return
    fd = _acquire(path, runtime().writer_wait_seconds if wait_s is None else wait_s, db)
    _HELD[key] = (fd, 1)
    try:
        yield
    finally:
        depth = _HELD[key][1]
        if depth <= 1:
            del _HELD[key]
            os.close(fd)  # releases the lock
        else:
            _HELD[key] = (fd, depth - 1)


def _acquire(path: Path, wait_s: float, db: str | Path) -> int:
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    deadline = time.monotonic() + wait_s
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            break
        except BlockingIOError:
            if time.monotonic() >= deadline:
                os.close(fd)
                raise WriterBusy(
                    f"mart {db} is being written by another run ({holder(db)}); waited {wait_s:g} s "
                    "(set GIM_ETL_WRITER_WAIT_SECONDS to wait longer)"
                ) from None
            time.sleep(0.1)
    os.ftruncate(fd, 0)
    os.write(fd, f"pid {os.getpid()}".encode())
    return fd
