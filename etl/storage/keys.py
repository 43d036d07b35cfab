"""Stable surrogate ids (`CTL_KEY_MAP`): a natural key keeps the id it got the first time it was seen.

Re-deriving an interaction replaces its facts under the same ids, which is how active facts are completed in
place and why re-running the same input changes nothing.
"""

from __future__ import annotations

import duckdb
import polars as pl

from etl.storage.writes import registered, run_with


def allocate(con: duckdb.DuckDBPyConnection, kind: str, natural_keys: pl.Series) -> pl.DataFrame:
    """Ids (`nk`, `id`) of `natural_keys`; new keys get the next ids of their kind, in key order. Only the
    candidate keys are probed, so a slice's cost does not grow with the whole map."""
    with registered(con, _nk=pl.DataFrame({"nk": natural_keys.unique().drop_nulls()})):
        known = con.sql(
            "SELECT _nk.nk, m.ID AS id FROM _nk LEFT JOIN CTL_KEY_MAP m ON m.KIND = ? AND m.NATURAL_KEY = _nk.nk",
            params=[kind],
        ).pl()
    new = known.filter(pl.col("id").is_null()).sort("nk")
    if new.height:
        first = next_id(con, kind)
        new = new.with_columns(id=pl.int_range(first, first + new.height, dtype=pl.Int64))
        run_with(
            con,
            "INSERT INTO CTL_KEY_MAP (KIND, NATURAL_KEY, ID) SELECT kind, nk, id FROM _new",
            _new=new.with_columns(kind=pl.lit(kind)),
        )
    return pl.concat([known.filter(pl.col("id").is_not_null()), new], how="vertical_relaxed")


def allocate_one(con: duckdb.DuckDBPyConnection, kind: str, natural_key: str) -> int:
    return int(allocate(con, kind, pl.Series([natural_key]))["id"][0])


def next_id(con: duckdb.DuckDBPyConnection, kind: str) -> int:
    """The id the next new natural key of `kind` will get."""
    return con.execute("SELECT coalesce(max(ID), 0) + 1 FROM CTL_KEY_MAP WHERE KIND = ?", [kind]).fetchall()[0][0]


def keyed(con: duckdb.DuckDBPyConnection, frame: pl.DataFrame, column: str, kind: str, out: str) -> pl.DataFrame:
    """`frame` with the id of its `column` as a new column `out`."""
    ids = allocate(con, kind, frame[column])
    return frame.join(ids.rename({"nk": column, "id": out}), on=column, how="left")
