"""Formatting shared by every report section: escaping, numbers, h:mm:ss durations, axis steps, label wrapping.

Every text that comes from the mart (agent, queue, reason names) goes through `esc`: names are data, never markup.
"""

from __future__ import annotations

import html
import math
from datetime import UTC, datetime

#: Axis steps for durations (seconds): round minutes and hours, never 0:03:20.
_DURATION_STEPS = (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400)


def esc(value: object) -> str:
    return html.escape(str(value), quote=True)


def num(v: float) -> str:
    """A count or a ratio: thousands separated, one decimal only for small fractional values."""
    return f"{v:,.0f}" if float(v).is_integer() or abs(v) >= 100 else f"{v:,.1f}"


def hms(seconds: float | None) -> str:
    """A duration as h:mm:ss (hours unbounded, e.g. 26:00:00 of login time); "-" when unknown."""
    if seconds is None:
        return "-"
    total = round(seconds)
    sign, total = ("-", -total) if total < 0 else ("", total)
    h, rest = divmod(total, 3600)
    return f"{sign}{h}:{rest // 60:02d}:{rest % 60:02d}"


def ratio(part: float | None, whole: float | None) -> float | None:
    return None if not whole or part is None else part / whole


def nice_axis(vmax: float, ticks: int = 4, duration: bool = False) -> tuple[float, float]:
    """(axis maximum, step): round numbers for counts, round minutes/hours for durations."""
    if vmax <= 0:
        return (60.0, 15.0) if duration else (1.0, 0.25)
    raw = vmax / ticks
    if duration:
        step = float(next((s for s in _DURATION_STEPS if s >= raw), 86400 * math.ceil(raw / 86400)))
    else:
        mag = 10 ** math.floor(math.log10(raw))
        step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    return step * math.ceil(vmax / step - 1e-9), step


def day(epoch_s: int) -> str:
    """A UTC day with its weekday, the way an ops manager reads it: ``Mon 2026-03-02``."""
    return datetime.fromtimestamp(epoch_s, UTC).strftime("%a %Y-%m-%d")


def clock(epoch_s: int) -> str:
    return datetime.fromtimestamp(epoch_s, UTC).strftime("%H:%M")


def wrap(label: str, width: int, lines: int = 2) -> list[str]:
    """`label` in at most `lines` lines of about `width` characters, broken at spaces or '/' (the last line ends
    with an ellipsis when the label is longer still; the full text is in the element's tooltip)."""
    out: list[str] = []
    rest = label
    while rest and len(out) < lines:
        if len(rest) <= width:
            out.append(rest)
            rest = ""
            break
        cut = max(rest.rfind(" ", 0, width + 1), rest.rfind("/", 0, width) + 1)
        cut = cut if cut > width // 3 else width
        out.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest:
        out[-1] = out[-1][: max(width - 1, 1)] + "…"
    return out or [""]
