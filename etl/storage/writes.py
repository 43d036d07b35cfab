"""The helpers every write to the mart goes through: one transaction per load, frames handed to DuckDB by name.

DuckDB reads a registered Polars frame without copying it; registering, running one statement and unregistering
is the shape of nearly every write, so it lives here once.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import duckdb
import polars as pl

from etl.storage.ddl import table_columns


@contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """One DuckDB transaction: committed when the block ends, rolled back on any exception (a crash before
    COMMIT leaves the file as it was)."""
    con.execute("BEGIN TRANSACTION")
    try:
        yield
    except BaseException:
        con.execute("ROLLBACK")
        raise
    con.execute("COMMIT")


@contextmanager
def registered(con: duckdb.DuckDBPyConnection, **frames: pl.DataFrame) -> Iterator[None]:
    """`frames` visible to SQL on `con` under their keyword names for the duration of the block."""
    for name, frame in frames.items():
        con.register(name, frame)
    try:
        yield
    finally:
        for name in frames:
            con.unregister(name)


def run_with(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None, **frames: pl.DataFrame) -> None:
    """Run one statement that reads `frames` by name."""
    with registered(con, **frames):
        con.execute(sql, params or [])


def insert_rows(con: duckdb.DuckDBPyConnection, table: str, rows: pl.DataFrame) -> None:
    """Append `rows` (which carry every column of `table`, in any order) to `table`."""
    if rows.height == 0:
        return
    cols = ", ".join(table_columns(table))
    run_with(con, f"INSERT INTO {table} ({cols}) SELECT {cols} FROM _rows", _rows=rows.select(table_columns(table)))
