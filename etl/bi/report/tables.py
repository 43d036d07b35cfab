"""HTML tables of the report, the top-N query that folds the tail into one "others (N)" row, and the glossary.

An ops manager reads fifteen rows, not two hundred: `top_n` ranks in DuckDB and sums everything past the N-th into
one row, so the totals still add up and averages of the "others" row are weighted (sums divided by sums).
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from etl.bi.report.fmt import esc, hms, num

TOP_N = 15

#: The measures' short definitions, shown beside the chart or table that uses them (GIM RAA AG2_* semantics,
#: schema/views/*.sql; https://docs.genesys.com/Documentation/GIM/latest/User/GIMMMIxnFlow-Email).
DEFINITIONS = {
    "interactions": "INTERACTION_FACT rows that started in the period (one per e-mail, chat or work item).",
    "entered": "placed in an interaction queue (one per queue stay, so a re-queued interaction enters twice).",
    "offered": "an agent was invited to it: routed, transferred, consulted or pulled; one per agent invited.",
    "accepted": "offered and then handled by that agent.",
    "accepted by queue": "left the queue to a target: distributed by routing or pulled by an agent.",
    "handled": "an agent worked on it, offered or started by the agent (a reply, a consultation). A transferred "
    "interaction is handled once by each agent, and replies are handled without being offered, so handled can "
    "exceed offered.",
    "replies": "outbound replies an agent sent.",
    "handle time": "engage + hold + wrap (after-call work) per handling; averages divide by handled.",
    "mediation time": "time waiting in queues and routing strategies before the agent accepted (average over "
    "accepted offers; per queue, over its stays).",
    "abandoned": "the customer left before an agent handled it: in a queue or while an agent was being invited "
    "(chat); e-mail is never abandoned.",
    "cleared": "left a virtual queue without being routed from it (another target won).",
}


class Right(str):
    """A preformatted cell that is right-aligned (a duration, a share)."""

    __slots__ = ()


def dur(seconds: float | None) -> Right:
    return Right(hms(seconds))


def pct(part: float | None, whole: float | None) -> Right:
    return Right(f"{100 * part / whole:.0f} %" if whole and part is not None else "-")


def definitions(*terms: str) -> str:
    """The definitions of `terms`, as the small print beside a chart or table."""
    items = "".join(f"<dt>{esc(t)}</dt><dd>{esc(DEFINITIONS[t])}</dd>" for t in terms)
    return f'<dl class="defs">{items}</dl>'


def _cell(c: object) -> str:
    if isinstance(c, Right):
        return f"<td class=n>{esc(c)}</td>"
    if isinstance(c, int | float):
        return f"<td class=n>{esc(num(c))}</td>"
    return f"<td>{esc('-' if c is None else c)}</td>"


def table(headers: list[str], rows: list[tuple], klass: str = "") -> str:
    head = "".join(f"<th>{esc(h)}</th>" for h in headers)
    body = "".join(
        f"<tr{' class=others' if str(r[0]).startswith('others (') else ''}>{''.join(_cell(c) for c in r)}</tr>"
        for r in rows
    )
    return f'<table class="{klass}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


@dataclass(frozen=True)
class Ranked:
    rows: list[tuple]  # (*keys, *sums): the top N, then one "others (k)" row when there are more
    total: int  # how many entities there were

    @property
    def top(self) -> list[tuple]:
        return [r for r in self.rows if not str(r[0]).startswith("others (")]


def top_n(
    con: duckdb.DuckDBPyConnection, sql: str, params: list, keys: list[str], sums: list[str], n: int = TOP_N
) -> Ranked:
    """Rows of `sql` (one per entity, with a RANK_ column, 1 = first) as the top `n` by RANK_ and one row summing
    the `sums` columns of the rest; its first key reads "others (k)", its other keys are empty."""
    labels = ", ".join(f"CASE WHEN RANK_ <= {int(n)} THEN {k} END AS KEY{i}_" for i, k in enumerate(keys))
    measures = ", ".join(f"SUM({c})" for c in sums)
    rows = con.execute(
        f"""
        SELECT {labels}, RANK_ > {int(n)} AS REST_, COUNT(*) AS N_, {measures}
        FROM ({sql}) GROUP BY ALL ORDER BY REST_, MIN(RANK_)""",
        params,
    ).fetchall()
    width = len(keys)
    blank = [None] * (width - 1)
    out = [(f"others ({r[width + 1]})", *blank) if r[width] else r[:width] for r in rows]
    out = [(*head, *r[width + 2 :]) for head, r in zip(out, rows, strict=True)]
    return Ranked(out, sum(r[width + 1] for r in rows))
