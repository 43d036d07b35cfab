"""The set-based fast path: one DuckDB query (`FAST_SQL`), generated from the models' field specifications
(`models.EVENT_SPECS`), that validates whole chunks of lines and flattens the accepted ones into `EVENT_SCHEMA`.

Generated rather than written by hand so that the models stay the single source of truth: a model change
changes the checks, and a model the generator does not understand stops the import. The SQL may be stricter
than the models (rejected rows go to the models, which can rescue them) but never laxer.

How the query is built (`_build_sql`, one step per function):
- A single `from_json` parses each line into a struct whose leaves are JSON text, so a wrong JSON type stays
  visible (a string leaf must start with a quote). A nested object given as a non-object comes out as a
  struct of nulls, which its required children then reject.
- Every distinct "if present, well-formed" check is computed once as a boolean column; each event's branch
  is then a cheap AND of those columns plus its required-presence tests.
- Written to avoid IN lists, which DuckDB turns into joins, and repeated sub-expressions.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

from etl.ingest.columns import EVENT_SCHEMA, LINEAGE_COLUMNS, column_of
from etl.ingest.jsontext import LAX_SQL
from etl.ingest.models import EVENT_SPECS, TS_REGEX, FieldSpec, Kind

#: The relation `chunk` that FAST_SQL reads: lines with their file ordinal and 1-based line number.
CHUNK_SCHEMA = pa.schema([("_file", pa.int64()), ("source_line", pa.int64()), ("line", pa.large_string())])

_WS = "[ \\t\\r\\n]"  # JSON whitespace, as an RE2 class inside a SQL string literal

FieldPath = tuple[str, ...]


def sql_str(text: str) -> str:
    """A SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


def _r(path: FieldPath) -> str:
    """Column holding the JSON text (a struct, for objects) of a field path."""
    return "r_" + "_".join(path)


def _x(path: FieldPath) -> str:
    """Column holding the string value of a string leaf."""
    return "x_" + "_".join(path)


def _v(path: FieldPath) -> str:
    """Column holding the parsed BIGINT of an integer field (NULL when it is not one)."""
    return "v_" + "_".join(path)


#: BIGINT's range: the SQL's integer columns hold exactly this.
_BIGINT = (-(2**63), 2**63 - 1)


def _any_of(col: str, values: Sequence[str]) -> str:
    return "(" + " OR ".join(f"{col} = {sql_str(v)}" for v in values) + ")"


# ----------------------------------------------------------------------------------------------------------
# The field paths of all events, checked for what the generator supports


@dataclass(frozen=True)
class _Fields:
    by_path: dict[FieldPath, list[tuple[str, FieldSpec]]]  # path -> (event, spec) of every event that has it
    kinds: dict[FieldPath, Kind]
    events: list[str]

    def for_events(self, names: Sequence[str]) -> str:
        """`_ev` is one of these events (a bit test, not an IN list)."""
        mask = sum(1 << self.events.index(e) for e in set(names))
        return f"(({mask} >> _ev) & 1) = 1"


def _collect_fields() -> _Fields:
    by_path: dict[FieldPath, list[tuple[str, FieldSpec]]] = {}
    for event, specs in EVENT_SPECS.items():
        for spec in specs:
            by_path.setdefault(spec.path, []).append((event, spec))
    kinds = {p: uses[0][1].kind for p, uses in by_path.items()}
    textual = {"enum": "str", "reason": "str"}  # str, enum and reason (str or {key, value}) may share a path
    if any(len({textual.get(s.kind, s.kind) for _, s in uses}) > 1 for uses in by_path.values()):
        raise RuntimeError("a field path has different kinds in different events")
    for p, k in kinds.items():  # a non-object must be caught through a required child (module docstring)
        if k == "object" and not any(s.required for q, u in by_path.items() if q[:-1] == p for _, s in u):
            raise RuntimeError(f"object {'.'.join(p)} needs a required child for the SQL checks")
    for uses in by_path.values():
        for _, s in uses:
            if s.kind == "int" and (s.bounds is None or s.bounds[0] < _BIGINT[0] or s.bounds[1] > _BIGINT[1]):
                raise RuntimeError(f"{'.'.join(s.path)}: int bounds beyond BIGINT's; extend the SQL generator")
    return _Fields(by_path, kinds, list(EVENT_SPECS))


def _structure(kinds: dict[FieldPath, Kind], parent: FieldPath = ()) -> dict[str, Any]:
    """The `from_json` structure: objects as structs, every leaf as JSON text."""
    children = sorted({q[len(parent)] for q in kinds if q[: len(parent)] == parent and len(q) > len(parent)})
    return {c: _structure(kinds, (*parent, c)) if kinds[(*parent, c)] == "object" else "JSON" for c in children}


# ----------------------------------------------------------------------------------------------------------
# Per-row values: raw JSON text, string values, parsed values


def _raw_columns(f: _Fields) -> list[str]:
    return [f"t.{'.'.join(chr(34) + q + chr(34) for q in p)} AS {_r(p)}" for p in f.by_path]


def _string_columns(f: _Fields) -> list[str]:
    """String values (only those output or checked). In a line without a backslash no string is escaped, so
    a JSON string's text holds no quote but its delimiters: dropping quotes is the (fast) unescape."""
    return [
        f"CASE WHEN _bs THEN json_extract_string({_r(p)}, '$') ELSE replace({_r(p)}, '\"', '') END AS {_x(p)}"
        for p, k in f.kinds.items()
        if k in ("str", "enum", "ts", "user_data") and (column_of(p) in EVENT_SCHEMA or p in (("ts",), ("user_data",)))
    ]


def _value_columns(f: _Fields) -> list[str]:
    """Parsed ts, integers (seq, a message's length) and user_data (NULL when malformed), and the event's
    ordinal `_ev`."""
    ts, ud = ("ts",), ("user_data",)
    return [
        f"epoch_ms(try_strptime(substr({_x(ts)}, 1, 23), '%Y-%m-%dT%H:%M:%S.%g')) AS v_ts",
        *(f"try_cast({_r(p)} AS BIGINT) AS {_v(p)}" for p, k in f.kinds.items() if k == "int"),
        f"CASE WHEN starts_with({_r(ud)}, '{{') THEN {_r(ud)} "
        f"WHEN starts_with({_r(ud)}, '\"') AND json_valid({_x(ud)}) "
        f"AND regexp_matches({_x(ud)}, '^{_WS}*\\{{') THEN json({_x(ud)})::VARCHAR END AS v_user_data",
        f"list_position([{', '.join(sql_str(json.dumps(e)) for e in f.events)}], r_event)::INTEGER - 1 AS _ev",
    ]


# ----------------------------------------------------------------------------------------------------------
# Checks: per-field well-formedness (computed once each), per-event branches


#: An agent-state reason object (etl.ingest.agent_models.parse_reason): keys `key` (a non-empty string) and
#: `value` (a string or null) only.
_REASON_OBJECT = (
    "json_type({r}, '$.key') = 'VARCHAR' AND json_extract_string({r}, '$.key') <> ''"
    " AND (json_type({r}, '$.value') IS NULL OR json_type({r}, '$.value') = 'VARCHAR'"
    " OR json_type({r}, '$.value') = 'NULL') AND list_has_all(['key', 'value'], json_keys({r}))"
)
#: Its canonical text, as parse_reason writes it.
_REASON_TEXT = (
    "CASE WHEN starts_with({r}, '{{') THEN json_object('key', json_extract_string({r}, '$.key'), 'value',"
    " json_extract_string({r}, '$.value'))::VARCHAR ELSE {x} END"
)


def _well_formed(spec: FieldSpec) -> str | None:
    """The "if present then well-formed" test of a field; None for objects (checked through their children)."""
    rr, xx = _r(spec.path), _x(spec.path)
    ok = {
        "str": f"starts_with({rr}, '\"')" + (f" AND {rr} <> '\"\"'" if spec.non_empty else ""),
        "enum": _any_of(rr, [json.dumps(v) for v in spec.values]),
        "int": f"regexp_full_match({rr}, '-?(0|[1-9][0-9]*)') AND {_v(spec.path)} IS NOT NULL" + _bounds(spec),
        "ts": f"starts_with({rr}, '\"') AND regexp_full_match({xx}, {sql_str(TS_REGEX)}) "
        f"AND substr({xx}, 1, 4) <> '0000' AND v_ts IS NOT NULL",
        "user_data": "v_user_data IS NOT NULL",
        "reason": f"starts_with({rr}, '\"') OR (starts_with({rr}, '{{') AND {_REASON_OBJECT.format(r=rr)})",
        "object": None,
    }[spec.kind]
    return None if ok is None else f"({rr} IS NULL OR ({ok}))"  # NULL ends as false in _ok


def _bounds(spec: FieldSpec) -> str:
    """The range test of an integer narrower than BIGINT (the cast already enforces BIGINT's)."""
    if spec.bounds is None:  # not an integer
        return ""
    (lo, hi), v = spec.bounds, _v(spec.path)
    return (f" AND {v} >= {lo}" if lo > _BIGINT[0] else "") + (f" AND {v} <= {hi}" if hi < _BIGINT[1] else "")


@dataclass
class _Checks:
    """Distinct well-formedness tests -> the boolean column (w0, w1, ...) that computes each once."""

    columns: dict[str, str] = field(default_factory=dict)

    def column(self, spec: FieldSpec) -> str | None:
        test = _well_formed(spec)
        return None if test is None else self.columns.setdefault(test, f"w{len(self.columns)}")


def _branch(event: str, checks: _Checks) -> str:
    """An event's acceptance test: its required fields are present and its present fields well-formed."""
    parts = []
    for spec in EVENT_SPECS[event]:
        if spec.path == ("event",):
            continue
        w = checks.column(spec)
        need = f"{_r(spec.path)} IS NOT NULL" if spec.required else None
        if need and len(spec.path) > 1:  # required only when the parent object is there
            need = f"({_r(spec.path[:-1])} IS NULL OR {need})"
        parts += [p for p in (need, w) if p]
    return " AND ".join(parts)


# ----------------------------------------------------------------------------------------------------------
# Output and assembly


def _output_columns(f: _Fields) -> dict[str, str]:
    """EVENT_SCHEMA column (+ _file) -> expression, each only for the events whose model has the field (extra
    fields are ignored)."""
    columns: dict[str, str] = {"_file": "_file", "ts_ms": "v_ts"}
    for path, uses in f.by_path.items():
        col, kind = column_of(path), f.kinds[path]
        if col not in EVENT_SCHEMA or kind == "object":
            continue
        expr = {"int": _v(path), "user_data": "v_user_data"}.get(kind, _x(path))
        if any(s.kind == "reason" for _, s in uses):
            expr = _REASON_TEXT.format(r=_r(path), x=_x(path))
        if path == ("tenant",):
            expr = f"coalesce({expr}, 'Resources')"
        if len({e for e, _ in uses}) < len(f.events):
            expr = f"CASE WHEN {f.for_events([e for e, _ in uses])} THEN {expr} END"
        columns[col] = expr
    missing = set(EVENT_SCHEMA) - set(columns) - set(LINEAGE_COLUMNS)
    if missing:
        raise RuntimeError(f"columns not fed by any model field: {sorted(missing)}")
    columns["source_file"] = "$names[_file + 1]"
    columns["source_line"] = "source_line"
    return columns


def _build_sql() -> str:
    """One SELECT over `chunk` (CHUNK_SCHEMA) -> _ok, _raw (the line, if rejected) and the EVENT_SCHEMA
    columns (+ _file); `$names` lists the source file names by ordinal."""
    f = _collect_fields()
    checks = _Checks()
    branches = "\n".join(f"    WHEN {i} THEN {_branch(e, checks)}" for i, e in enumerate(f.events))
    parse = f"CASE WHEN json_valid(line) THEN from_json(line, {sql_str(json.dumps(_structure(f.kinds)))}) END"
    stages = [
        f"p AS (SELECT _file, source_line, line, {parse} AS t, contains(line, '\\') AS _bs, {LAX_SQL} AS _lax"
        " FROM chunk "
        f"WHERE NOT regexp_full_match(line, '{_WS}*'))",
        f"sr AS (SELECT _file, source_line, line, _bs, _lax, {', '.join(_raw_columns(f))} FROM p)",
        f"sx AS (SELECT *, {', '.join(_string_columns(f))} FROM sr)",
        f"sv AS (SELECT *, {', '.join(_value_columns(f))} FROM sx)",
        f"sw AS (SELECT *, {', '.join(f'{e} AS {w}' for e, w in checks.columns.items())} FROM sv)",
        f"ok AS (SELECT *, NOT _lax AND coalesce(CASE _ev\n{branches}\n    ELSE false END, false) AS _ok FROM sw)",
    ]
    select = ",\n  ".join(f"{expr} AS {col}" for col, expr in _output_columns(f).items())
    return "WITH " + ",\n".join(stages) + f"\nSELECT _ok, CASE WHEN NOT _ok THEN line END AS _raw,\n  {select}\nFROM ok"


FAST_SQL = _build_sql()
