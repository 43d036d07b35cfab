"""Strict JSON text (RFC 8259): what a contract line must be (../shared/contract/events.md, "Rules for bad input").

DuckDB's JSON reader is lenient (trailing commas, `NaN`, `Infinity` pass) and Python's `json` accepts `NaN` and
overflows its stack on deep nesting (a `RecursionError` that used to end the run). The fast SQL path sends every
line that *might* be one of these (`LAX_SQL`, a cheap over-approximation) to `loads`, which decides exactly.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

#: Deepest nesting of objects and arrays accepted (an event is 2 levels deep; user data is flat key-values).
MAX_DEPTH = 64

#: SQL over the column `line`: true for every line `loads` could reject where DuckDB would not (and for a few
#: more, which `loads` then accepts): `NaN`/`Infinity` anywhere, a comma before a closing bracket, or more
#: opening brackets in total than `MAX_DEPTH`.
LAX_SQL = (
    "(contains(line, 'NaN') OR contains(line, 'Infinity') OR regexp_matches(line, ',[ \\t\\r\\n]*[}\\]]')"
    f" OR length(line) - length(replace(replace(line, '{{', ''), '[', '')) > {MAX_DEPTH})"
)

_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]')


class StrictJSONError(ValueError):
    """Text that is not strict JSON."""


def depth(text: str) -> int:
    """The deepest nesting of objects and arrays in `text` (brackets inside strings do not count)."""
    level = deepest = 0
    for m in _TOKEN.finditer(text):
        c = m.group()
        if c in "[{":
            level += 1
            deepest = max(deepest, level)
        elif c in "]}":
            level -= 1
    return deepest


def _no_constant(name: str) -> Any:
    raise StrictJSONError(f"{name} is not a JSON value")


def loads(text: str, object_pairs_hook: Callable[[list[tuple[str, Any]]], Any] | None = None) -> Any:
    """`json.loads` that rejects `NaN`, `Infinity` and `-Infinity`, and nesting deeper than `MAX_DEPTH`
    (checked before parsing, so no depth can exhaust the stack). Trailing commas are rejected by `json`."""
    deepest = depth(text)
    if deepest > MAX_DEPTH:
        raise StrictJSONError(f"nested {deepest} levels deep (at most {MAX_DEPTH})")
    try:
        return json.loads(text, object_pairs_hook=object_pairs_hook, parse_constant=_no_constant)
    except RecursionError:  # (cannot happen below MAX_DEPTH; kept so that no input ever ends a run)
        raise StrictJSONError("nested too deep") from None
