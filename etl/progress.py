"""Progress of a long run, for a person waiting at a terminal: phases with counts.

The pipeline's layers report (`phase`); the CLI decides whether anyone sees it (`reporting`, a rich display on a
terminal only). Without a reporter every call is a no-op, so Dagster runs, tests and pipes print nothing extra.
A module global rather than a context variable: Dagster's in-process executor may run steps in another thread."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Protocol


class Reporter(Protocol):
    def start(self, name: str, total: int | None, unit: str) -> object: ...
    def advance(self, task: object, n: int) -> None: ...
    def finish(self, task: object) -> None: ...


_reporter: Reporter | None = None


@contextmanager
def reporting(reporter: Reporter) -> Iterator[None]:
    """Show every phase started in this block through `reporter`."""
    global _reporter
    previous, _reporter = _reporter, reporter
    try:
        yield
    finally:
        _reporter = previous


@contextmanager
def phase(name: str, total: int | None = None, unit: str = "") -> Iterator[Callable[[int], None]]:
    """One phase of a run; yields `advance(n)`. `total` None: a count without a bar's end (rows read so far)."""
    reporter = _reporter
    if reporter is None:
        yield lambda n: None
        return
    task = reporter.start(name, total, unit)
    try:
        yield lambda n: reporter.advance(task, n)
    finally:
        reporter.finish(task)
