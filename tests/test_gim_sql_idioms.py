"""The GIM SQL idiom table (fixtures/gim_sql/idioms/): each idiom returns its hand-written DuckDB reference's rows
on the mart of the documented flows, or is refused with the construct and line named. None is silently different."""

from __future__ import annotations

import math
from pathlib import Path

import duckdb
import pytest
import yaml
from conftest import FIXTURES

from etl.bi.compat import GimSqlRefused, run_gim_sql, transpile_gim_sql

IDIOMS = FIXTURES / "gim_sql" / "idioms"
REWRITTEN = yaml.safe_load((IDIOMS / "rewritten.yaml").read_text())
REFUSED = yaml.safe_load((IDIOMS / "refused.yaml").read_text())


def _norm(value: object) -> object:
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return int(value)
    if hasattr(value, "as_integer_ratio") and not isinstance(value, bool | int | float):
        value = float(value)  # Decimal
        return int(value) if value.is_integer() else round(value, 9)
    return round(value, 9) if isinstance(value, float) else value


def _rows(rows: list[tuple], ordered: bool) -> list[tuple]:
    out = [tuple(_norm(v) for v in row) for row in rows]
    return out if ordered else sorted(out, key=repr)


def test_the_table_covers_the_three_dialects_with_at_least_30_idioms() -> None:
    names = [i["name"] for i in REWRITTEN + REFUSED]
    assert len(names) == len(set(names))
    assert len(names) >= 30
    for dialect in ("tsql", "oracle", "postgres"):
        assert any(i["dialect"] == dialect for i in REWRITTEN)


@pytest.mark.parametrize("idiom", REWRITTEN, ids=[i["name"] for i in REWRITTEN])
def test_idiom_returns_the_reference_rows(flows_db: Path, idiom: dict) -> None:
    con = duckdb.connect(str(flows_db), read_only=True)
    try:
        got = run_gim_sql(con, idiom["sql"], idiom["dialect"], idiom.get("params"))
        want = con.sql(idiom["reference"]).fetchall()
    finally:
        con.close()
    ordered = bool(idiom.get("ordered"))
    assert _rows(got.rows(), ordered) == _rows(want, ordered), transpile_gim_sql(
        idiom["sql"], idiom["dialect"], idiom.get("params")
    )
    assert want, "a reference that returns no rows proves nothing"


@pytest.mark.parametrize("idiom", REFUSED, ids=[i["name"] for i in REFUSED])
def test_idiom_is_refused_with_the_construct_and_line(idiom: dict) -> None:
    with pytest.raises(GimSqlRefused) as info:
        transpile_gim_sql(idiom["sql"], idiom["dialect"], idiom.get("params"))
    assert idiom["construct"] in info.value.construct
    assert info.value.line == idiom["line"]
    assert str(info.value).startswith(f"refused: {info.value.construct} (line {idiom['line']})")
