"""The report's period: `--from DAY --to DAY`, whole UTC days, both included (the mart's intervals are UTC).

Facts belong to the period by their START_TS (GIM attributes an IRF or MSF to the interval it started in), agent
states by the day of their interval. A bad day is a `ValueError` with one line the CLI prints as is.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

_DAY = 86_400
_NEVER = 1 << 62


def _day(raw: str, flag: str) -> date:
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise ValueError(f"{flag} {raw!r} is not a day (YYYY-MM-DD)") from None


def _epoch(d: date) -> int:
    return int(datetime(d.year, d.month, d.day, tzinfo=UTC).timestamp())


@dataclass(frozen=True)
class Period:
    """[start, end) in UTC epoch seconds; `first`/`last` the days asked for (None: open on that side)."""

    start: int = -_NEVER
    end: int = _NEVER
    first: date | None = None
    last: date | None = None

    @classmethod
    def parse(cls, day_from: str | None, day_to: str | None) -> Period:
        first = _day(day_from, "--from") if day_from else None
        last = _day(day_to, "--to") if day_to else None
        if first and last and first > last:
            raise ValueError(f"--from {first} is after --to {last}")
        return cls(
            _epoch(first) if first else -_NEVER,
            _epoch(last + timedelta(days=1)) if last else _NEVER,
            first,
            last,
        )

    @property
    def bounded(self) -> bool:
        return self.first is not None or self.last is not None

    @property
    def params(self) -> list[int]:
        """The two `?` of `where`: start (included) and end (excluded)."""
        return [self.start, self.end]

    @staticmethod
    def where(column: str) -> str:
        return f"{column} >= ? AND {column} < ?"

    def label(self) -> str:
        if not self.bounded:
            return "all days in the mart"
        if self.first == self.last:
            return f"{self.first} (UTC)"
        return f"{self.first or '…'} to {self.last or '…'} (UTC, both included)"
