"""Inline SVG charts (no script, no fonts to fetch): grouped bars over a time axis, horizontal bars, stacked bars.

Each bar carries a `<title>` tooltip with its full label and value; long labels wrap onto two lines instead of being
cut. `shape-rendering="crispEdges"` keeps bar colours exact, so the screenshot test can find a chart by its palette.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from etl.bi.report.fmt import clock, day, esc, hms, nice_axis, num, wrap

Fmt = Callable[[float], str]
_CHAR_W = 6.0  # average width of a 10.5 px system-ui character


@dataclass(frozen=True)
class Series:
    name: str
    color: str
    values: list[float]


def legend(series: list[Series], x: float, y: float) -> str:
    out, cx = [], x
    for s in series:
        out.append(
            f'<rect x="{cx:.1f}" y="{y - 10:.1f}" width="12" height="12" fill="{s.color}"/>'
            f'<text x="{cx + 16:.1f}" y="{y:.1f}" class="lg">{esc(s.name)}</text>'
        )
        cx += 28 + 6.5 * len(s.name)
    return "".join(out)


def figure(chart_id: str, title: str, width: int, height: int, parts: list[str], empty: bool, note: str = "") -> str:
    """A chart in its frame: caption, the measures' definitions (`note`, HTML), then the SVG or "no data"."""
    body = (
        '<p class="empty">no data in this period</p>'
        if empty
        else f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="{esc(title)}" shape-rendering="crispEdges">'
        + "".join(parts)
        + "</svg>"
    )
    return f'<figure class="chart" id="chart-{chart_id}"><figcaption>{esc(title)}</figcaption>{note}{body}</figure>'


def _label_every(n: int, most: int = 24) -> int:
    return next((k for k in (1, 2, 3, 4, 6, 8, 12, 24, 48, 96, 168, 336) if n / k <= most), 1 + n // most)


def time_bars(
    chart_id: str,
    title: str,
    keys: list[int],
    step: int,
    series: list[Series],
    note: str = "",
    width: int = 1120,
    height: int = 300,
) -> str:
    """Grouped vertical bars over consecutive UTC intervals `keys` (epoch seconds, `step` apart). The axis shows
    round times and, under them, the date at each day's start, so a multi-day chart says which day a bar is."""
    left, right, top, bottom = 56, 12, 34, 52
    pw, ph = width - left - right, height - top - bottom
    vmax, tick = nice_axis(max((v for s in series for v in s.values), default=0))
    parts = [legend(series, left, 16)]
    t = 0.0
    while t <= vmax + 1e-9:
        y = top + ph - ph * t / vmax
        parts.append(
            f'<line x1="{left}" x2="{left + pw}" y1="{y:.1f}" y2="{y:.1f}" class="grid"/>'
            f'<text x="{left - 6}" y="{y + 4:.1f}" class="ax" text-anchor="end">{num(t)}</text>'
        )
        t += tick
    n = max(len(keys), 1)
    gw = pw / n
    bw = max(gw * 0.8 / max(len(series), 1), 1.0)
    every = _label_every(n)
    base = top + ph
    for i, key in enumerate(keys):
        gx = left + i * gw + gw * 0.1
        when = day(key) if step >= 86400 else f"{day(key)} {clock(key)}–{clock(key + step)}"
        for j, s in enumerate(series):
            v = s.values[i]
            h = ph * v / vmax
            parts.append(
                f'<rect x="{gx + j * bw:.1f}" y="{base - h:.1f}" width="{bw:.1f}" height="{h:.1f}" '
                f'fill="{s.color}"><title>{esc(when)} UTC, {esc(s.name)}: {num(v)}</title></rect>'
            )
        x = left + i * gw
        if (key // step) % every == 0:
            tick_label = day(key)[-5:] if step >= 86400 else clock(key)  # 03-02 under a day, 07:00 under a time
            parts.append(
                f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{base}" y2="{base + 4}" class="axis"/>'
                f'<text x="{x:.1f}" y="{base + 15}" class="ax" text-anchor="middle">{esc(tick_label)}</text>'
            )
        if step < 86400 and (i == 0 or key % 86400 == 0):
            if i:
                parts.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{top}" y2="{base + 34}" class="daysep"/>')
            parts.append(f'<text x="{x + 3:.1f}" y="{base + 32}" class="day">{esc(day(key))}</text>')
    if step >= 86400 and keys:
        parts.append(f'<text x="{left}" y="{base + 32}" class="day">{esc(day(keys[0]))} – {esc(day(keys[-1]))}</text>')
    parts.append(
        f'<line x1="{left}" x2="{left + pw}" y1="{base}" y2="{base}" class="axis"/>'
        f'<text x="{left + pw}" y="{base + 32}" class="ax" text-anchor="end">UTC</text>'
    )
    return figure(chart_id, title, width, height, parts, not keys, note)


def hbar_chart(
    chart_id: str,
    title: str,
    categories: list[str],
    series: list[Series],
    note: str = "",
    width: int = 550,
    duration: bool = False,
) -> str:
    """Grouped horizontal bars, one row per category (agent, queue, descriptor); values as h:mm:ss when
    `duration`. Labels wrap onto two lines rather than being cut; the tooltip has the full text."""
    fmt: Fmt = hms if duration else num
    longest = max((len(c) for c in categories), default=4)
    left = int(min(max(60, _CHAR_W * min(longest, 40) + 14), 250))
    chars = int((left - 14) / _CHAR_W)
    lines = [wrap(c, chars) for c in categories]
    right, top, bottom = 54, 30, 22
    row = max(10 * len(series) + 6, 12 * max((len(x) for x in lines), default=1) + 4)
    height = top + bottom + row * max(len(categories), 1)
    pw, ph = width - left - right, height - top - bottom
    bh = max((row - 4) / max(len(series), 1), 1.0)
    vmax, step = nice_axis(max((v for s in series for v in s.values), default=0), ticks=3, duration=duration)
    parts = [legend(series, 10, 16)]
    t = 0.0
    while t <= vmax + 1e-9:
        x = left + pw * t / vmax
        parts.append(
            f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{top}" y2="{top + ph}" class="grid"/>'
            f'<text x="{x:.1f}" y="{top + ph + 14}" class="ax" text-anchor="middle">{fmt(t)}</text>'
        )
        t += step
    for i, cat in enumerate(categories):
        y0 = top + i * row + 2
        first = y0 + row / 2 + 2 - 6 * (len(lines[i]) - 1)
        spans = "".join(
            f'<tspan x="{left - 6}" y="{first + 12 * k:.1f}">{esc(line)}</tspan>' for k, line in enumerate(lines[i])
        )
        parts.append(f'<text class="ax" text-anchor="end"><title>{esc(cat)}</title>{spans}</text>')
        for j, s in enumerate(series):
            v = s.values[i]
            w = pw * v / vmax
            y = y0 + j * bh
            parts.append(
                f'<rect x="{left}" y="{y:.1f}" width="{w:.1f}" height="{bh:.1f}" fill="{s.color}">'
                f"<title>{esc(cat)}, {esc(s.name)}: {fmt(v)}</title></rect>"
                f'<text x="{left + w + 3:.1f}" y="{y + bh - 1:.1f}" class="val">{fmt(v)}</text>'
            )
    parts.append(f'<line x1="{left}" x2="{left}" y1="{top}" y2="{top + ph}" class="axis"/>')
    return figure(chart_id, title, width, height, parts, not categories, note)


def stacked_bars(
    chart_id: str,
    title: str,
    rows: list[tuple[str, list[float]]],
    names: tuple[str, ...],
    colors: tuple[str, ...],
    note: str = "",
) -> str:
    """Horizontal bars, one per row, each split into `names` segments (seconds, shown as h:mm:ss)."""
    width, top, bar, gap = 1120, 30, 16, 6
    left = int(min(max(60, _CHAR_W * max((len(r[0]) for r in rows), default=4) + 14), 250))
    chars = int((left - 14) / _CHAR_W)
    height = top + len(rows) * (bar + gap) + 24
    vmax = max((sum(v) for _, v in rows), default=0) or 1.0
    scale = (width - left - 70) / vmax
    parts = []
    for j, name in enumerate(names):
        x = left + j * 130
        parts.append(
            f'<rect x="{x}" y="6" width="12" height="12" fill="{colors[j]}"/>'
            f'<text x="{x + 16}" y="16" class="lg">{esc(name)}</text>'
        )
    for i, (label, values) in enumerate(rows):
        y = top + i * (bar + gap)
        parts.append(
            f'<text x="{left - 6}" y="{y + bar - 4}" class="ax" text-anchor="end"><title>{esc(label)}</title>'
            f"{esc(wrap(label, chars, lines=1)[0])}</text>"
        )
        x = float(left)
        for j, v in enumerate(values):
            w = v * scale
            if w > 0:
                parts.append(
                    f'<rect x="{x:.1f}" y="{y}" width="{w:.1f}" height="{bar}" fill="{colors[j]}">'
                    f"<title>{esc(label)} {esc(names[j])}: {hms(v)}</title></rect>"
                )
            x += w
        parts.append(f'<text x="{x + 4:.1f}" y="{y + bar - 4}" class="val">{hms(sum(values))}</text>')
    return figure(chart_id, title, width, height, parts, not rows, note)
