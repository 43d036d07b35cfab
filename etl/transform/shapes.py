"""GIM's rules run once per interaction *shape*, then applied set-based to every interaction of that shape.

Contact-centre traffic is a handful of documented flows repeated all day: 1 M generated events are 144 k
interactions of 179 shapes. A shape is everything the rules can branch on, with the values that only identify
something replaced by their order of first appearance in the interaction:

* per event, in (ts, seq) order: the categorical columns (`LITERAL_COLUMNS`) as they are; each identifier
  column (`ID_COLUMNS`) as "the k-th distinct identifier of this interaction" (so "the actor is the party
  invited earlier" is part of the shape, the agent's name is not); whether its time equals the previous
  event's (the order is given by the position);
* the event ids, the times and the interaction id are not part of it.

The rules are run on a canonical event list built from the shape alone: identifiers become placeholders, times
become `Ts` values (sums of the shape's event times). What comes out is a template of the fact rows whose
strings may hold placeholders and whose times and durations are sums of event times; applying it to the
shape's interactions is a few Polars expressions. Because the canonical events are a function of the shape,
every interaction of a shape gets what the rules would give it, provided the rules use identifiers only to
copy, join and compare them (true of `etl.domain.rules`) and times only to add, subtract and compare event
times; `Ts` refuses anything else (comparing a duration, truth of a duration), and a shape whose template
cannot be built this way, or whose events the rules reject, is derived interaction by interaction.
`tests/test_shapes.py` checks both paths give identical facts on every golden flow and on generated traffic.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import polars as pl

#: Columns the rules compare with constants: part of the shape as they are.
LITERAL_COLUMNS = (
    "event",
    "tenant",
    "media_type",
    "interaction_type",
    "interaction_subtype",
    "actor_type",
    "party_type",
    "queue_type",
    "queue_role",
    "queue_owner_type",
    "outcome",
    "reason",
)
#: Columns holding identifiers: in the shape as the index of their value among the interaction's identifiers.
ID_COLUMNS = (
    "parent_id",
    "thread_id",
    "actor_id",
    "actor_place",
    "party_id",
    "party_place",
    "queue_name",
    "queue_owner_id",
    "vq",
)
#: Per event, by position: the interaction id, the event id and the time. user_data is not read by the rules.
POSITIONAL_COLUMNS = ("interaction_id", "event_id", "ts_ms")
UNREAD_COLUMNS = ("user_data",)

#: Shapes with fewer interactions, or interactions with more events, are derived one by one: a template
#: costs about as much as deriving a dozen interactions, and long interactions are rarely alike.
MIN_MEMBERS = 12
MAX_EVENTS = 64

_OPEN, _CLOSE = "\u27e6", "\u27e7"
_PLACEHOLDER = re.compile(f"{_OPEN}([xei])(\\d*){_CLOSE}")
#: The interaction id the rules see when they derive a template.
SHAPE_INTERACTION_ID = f"{_OPEN}x{_CLOSE}"


#: Term keys at or above this stand for the floored (whole-second) time of event `key - FLOORED`.
FLOORED = 1 << 20


class NotReplayable(Exception):
    """The rules did something with a time or an identifier that a template cannot express."""


class Ts:
    """A time in a shape: sum(coefficient * time of the event at position) + constant.

    `value` is its value for the representative interaction. Only plain event times may be compared (their order
    is part of the shape: positions, plus which events share a time); plain event times are positive (also part
    of the shape), so they are true. Anything else raises `NotReplayable`.
    """

    __slots__ = ("const", "terms", "value")

    def __init__(self, terms: dict[int, int], const: int, value: int) -> None:
        self.terms, self.const, self.value = terms, const, value

    @classmethod
    def event(cls, pos: int, value: int) -> Ts:
        return cls({pos: 1}, 0, value)

    @property
    def pos(self) -> int | None:
        """The event position when this is a plain event time."""
        if self.const == 0 and len(self.terms) == 1:
            ((p, c),) = self.terms.items()
            return p if c == 1 and p < FLOORED else None
        return None

    def floor_second(self) -> Ts:
        """This time floored to its second (ms): a plain event time becomes its floored term (key offset by
        FLOORED), which a template evaluates as `(t // 1000) * 1000`; anything else is not replayable."""
        if len(self.terms) == 1 and self.const == 0:
            ((p, c),) = self.terms.items()
            if c == 1:
                return Ts({p if p >= FLOORED else p + FLOORED: 1}, 0, self.value - self.value % 1000)
        raise NotReplayable(f"floor of {self!r}")

    def _combine(self, other: Any, sign: int) -> Ts:
        if isinstance(other, Ts):
            terms = dict(self.terms)
            for p, c in other.terms.items():
                terms[p] = terms.get(p, 0) + sign * c
            return Ts(
                {p: c for p, c in terms.items() if c}, self.const + sign * other.const, self.value + sign * other.value
            )
        if isinstance(other, int) and not isinstance(other, bool):
            return Ts(self.terms, self.const + sign * other, self.value + sign * other)
        return NotImplemented

    def __add__(self, other: Any) -> Ts:
        return self._combine(other, 1)

    __radd__ = __add__

    def __sub__(self, other: Any) -> Ts:
        return self._combine(other, -1)

    def __rsub__(self, other: Any) -> Ts:
        return Ts({p: -c for p, c in self.terms.items()}, -self.const, -self.value)._combine(other, 1)

    def _order(self, other: Any) -> tuple[int, int]:
        if self.pos is not None:
            if isinstance(other, Ts) and other.pos is not None:
                return self.value, other.value
            if isinstance(other, int) and not isinstance(other, bool) and other == 0:
                return self.value, 0
        raise NotReplayable(f"comparison of {self!r} with {other!r}")

    def __lt__(self, other: Any) -> bool:
        a, b = self._order(other)
        return a < b

    def __le__(self, other: Any) -> bool:
        a, b = self._order(other)
        return a <= b

    def __gt__(self, other: Any) -> bool:
        a, b = self._order(other)
        return a > b

    def __ge__(self, other: Any) -> bool:
        a, b = self._order(other)
        return a >= b

    def __eq__(self, other: object) -> bool:
        if other is None:
            return False
        a, b = self._order(other)
        return a == b

    def __ne__(self, other: object) -> bool:
        return not self == other

    __hash__ = None  # type: ignore[assignment]

    def __bool__(self) -> bool:
        if self.pos is None:
            raise NotReplayable(f"truth of {self!r}")
        return True

    def __repr__(self) -> str:
        return f"Ts({self.terms}, {self.const})"


# -- shapes ------------------------------------------------------------------------------------------------


@dataclass
class Shapes:
    """The sorted events with, per row, its interaction number `_g`, position `_pos` and identifier indexes
    (`<column>_k`: -1 null, -2 empty text); per interaction, its shape (`_s1`, `_s2`, `_n`)."""

    events: pl.DataFrame
    interactions: pl.DataFrame  # _g, interaction_id, _row (its first row), _s1, _s2 (shape hashes), _n (events)
    identifiers: pl.DataFrame  # _g, _idv: the interaction's distinct identifiers in order of first appearance


def find_shapes(events: pl.DataFrame) -> Shapes:
    """Shapes of the interactions in `events` (sorted by interaction, then contract order)."""
    assert set(events.columns) >= set(LITERAL_COLUMNS + ID_COLUMNS + POSITIONAL_COLUMNS)
    n = events.height
    ids = events.get_column("interaction_id")
    row = pl.int_range(n, dtype=pl.Int64)
    frame = events.with_columns(_first=ids.ne_missing(ids.shift(1)), _row=row).with_columns(
        _g=pl.col("_first").cum_sum().cast(pl.Int64) - 1,
        _pos=(row - pl.when("_first").then(row).forward_fill()).cast(pl.Int32),
    )
    # Identifier indexes: first appearance ordered by (position, column), one namespace per interaction.
    width = len(ID_COLUMNS)
    long = pl.concat(
        [
            frame.select("_g", _o=pl.int_range(n, dtype=pl.Int64) * width + i, _v=pl.col(c))
            for i, c in enumerate(ID_COLUMNS)
        ]
    ).filter(pl.col("_v").is_not_null() & (pl.col("_v") != ""))
    long = long.with_columns(_first=pl.col("_o").min().over("_g", "_v"))
    distinct = (
        long.filter(pl.col("_o") == pl.col("_first"))
        .sort("_first")
        .with_columns(_start=pl.col("_g").ne_missing(pl.col("_g").shift(1)), _r=pl.int_range(pl.len()))
        .with_columns(_k=(pl.col("_r") - pl.when("_start").then("_r").forward_fill()).cast(pl.Int32))
    )
    long = long.join(distinct.select("_first", "_k"), on="_first")
    kcols = []
    for i, c in enumerate(ID_COLUMNS):
        part = long.filter(pl.col("_o") % width == i)
        k = pl.repeat(-1, n, dtype=pl.Int32, eager=True).scatter(part.get_column("_o") // width, part.get_column("_k"))
        k = pl.select(pl.when(pl.lit(frame.get_column(c)) == "").then(-2).otherwise(k)).to_series()
        kcols.append(k.alias(f"{c}_k"))
    frame = frame.with_columns(kcols)
    same_ts = (pl.col("ts_ms") == pl.col("ts_ms").shift(1)) & ~pl.col("_first")
    token = pl.struct(
        *LITERAL_COLUMNS, *(f"{c}_k" for c in ID_COLUMNS), "_pos", same_ts.alias("_same"), pl.col("ts_ms") > 0
    )
    # A shape is named by 128 bits (two seeded hashes of the event-token list): a collision would hand one shape's
    # facts to another, accepted as negligible next to comparing every interaction's token list in full.
    frame = frame.with_columns(_h1=token.hash(seed=1), _h2=token.hash(seed=2))
    per_ixn = frame.group_by("_g", maintain_order=True).agg(
        pl.col("interaction_id").first(), _row=pl.col("_row").first(), _s1="_h1", _s2="_h2", _n=pl.len()
    )
    per_ixn = per_ixn.with_columns(pl.col("_s1").hash(seed=3), pl.col("_s2").hash(seed=4))
    identifiers = distinct.group_by("_g", maintain_order=True).agg(_idv=pl.col("_v"))
    return Shapes(frame.drop("_h1", "_h2", "_first", "_row"), per_ixn, identifiers)


def canonical_events(rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """A representative's events with only its shape left: identifiers as placeholders, times as `Ts`."""
    out = []
    for row in rows:
        pos = row["_pos"]
        ev: dict[str, Any] = {c: row[c] for c in LITERAL_COLUMNS}
        for value in ev.values():
            if isinstance(value, str) and (_OPEN in value or _CLOSE in value):
                raise NotReplayable("placeholder bracket in a literal value")
        for c in ID_COLUMNS:
            k = row[f"{c}_k"]
            ev[c] = None if k == -1 else "" if k == -2 else f"{_OPEN}i{k}{_CLOSE}"
        ev["interaction_id"] = SHAPE_INTERACTION_ID
        ev["event_id"] = f"{_OPEN}e{pos}{_CLOSE}"
        ev["ts_ms"] = Ts.event(pos, row["ts_ms"])
        for c in UNREAD_COLUMNS:
            ev[c] = None
        out.append(ev)
    return out


# -- templates applied to members -------------------------------------------------------------------------


def value_expr(value: Any, dtype: pl.DataType) -> pl.Expr:
    """One template value as an expression over a member frame (`interaction_id`, `_ts`, `_eid`, `_idv`)."""
    if isinstance(value, Ts):
        expr: pl.Expr = pl.lit(value.const, pl.Int64)
        for p, c in value.terms.items():
            t = pl.col("_ts").list.get(p % FLOORED)
            expr = expr + (t // 1000 * 1000 if p >= FLOORED else t) * c
        return expr.cast(dtype)
    if isinstance(value, str) and _OPEN in value:
        parts: list[pl.Expr] = []
        at = 0
        for m in _PLACEHOLDER.finditer(value):
            if m.start() > at:
                parts.append(pl.lit(value[at : m.start()]))
            kind, num = m.group(1), m.group(2)
            if kind == "x":
                parts.append(pl.col("interaction_id"))
            else:
                parts.append(pl.col("_eid" if kind == "e" else "_idv").list.get(int(num)))
            at = m.end()
        if at < len(value):
            parts.append(pl.lit(value[at:]))
        return (pl.concat_str(parts) if len(parts) > 1 else parts[0]).cast(dtype)
    return pl.lit(value, dtype)


def apply_template(
    members: pl.DataFrame, rows: Sequence[Sequence[Any]], schema: dict[str, pl.DataType]
) -> list[pl.DataFrame]:
    """One frame per template row: that row for every member of the shape."""
    names = list(schema)
    return [
        members.select([value_expr(v, schema[c]).alias(c) for c, v in zip(names, row, strict=True)]) for row in rows
    ]
