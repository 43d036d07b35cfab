"""One palette per chart, every colour used once on the page, so the screenshot test finds each chart by its colours."""

from __future__ import annotations

COLORS: dict[str, tuple[str, ...]] = {
    "volumes": ("#1f77b4", "#ff7f0e", "#2ca02c"),
    "media": ("#1b9e77", "#d95f02"),
    "agents": ("#9467bd", "#8c564b"),
    "queues": ("#17becf", "#bcbd22"),
    "results": ("#d62728", "#7f7f7f"),
    # ready, not ready, wrap, busy, logged on only: green, red, orange as on a wallboard, in shades of their own
    "agent-states": ("#3a9d4a", "#c43c39", "#f0a030", "#6a5acd", "#c7c7c7"),
    "not-ready-reasons": ("#e377c2",),
}
CHART_IDS: tuple[str, ...] = tuple(COLORS)
