"""The terminal's face of etl.progress: one rich progress bar per phase of a run, with counts and elapsed time."""

from __future__ import annotations

from types import TracebackType

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TaskID, TextColumn, TimeElapsedColumn


class RichReporter:
    """An `etl.progress.Reporter` over `rich.progress.Progress`; a finished phase stays on screen, complete."""

    def __init__(self, console: Console) -> None:
        self._progress = Progress(
            SpinnerColumn(finished_text="[green]✓[/]"),
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[unit]}"),
            TimeElapsedColumn(),
            console=console,
            transient=False,
        )

    def __enter__(self) -> RichReporter:
        self._progress.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self._progress.stop()

    def start(self, name: str, total: int | None, unit: str) -> TaskID:
        return self._progress.add_task(name, total=total, unit=unit)

    def advance(self, task: object, n: int) -> None:
        self._progress.advance(task, n)  # type: ignore[arg-type]  # (rich's lock: safe from DuckDB's scan thread)

    def finish(self, task: object) -> None:
        """A phase with no known total ends as a full bar of what it counted (a phase that counts nothing: 1/1)."""
        (state,) = [t for t in self._progress.tasks if t.id == task]
        end = int(state.total if state.total is not None else max(state.completed, 1))
        self._progress.update(state.id, total=end, completed=end)
