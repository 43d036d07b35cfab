"""Fact rows of every slice of a load, staged as Parquet beside the mart and inserted once per table.

DuckDB writes a bulk insert of many rows straight to the database file, while the many small inserts of
slice-wise loading would stay in transaction memory until COMMIT (about 1 GB at 10 M events).
"""

from __future__ import annotations

import re
import shutil
import tempfile
from pathlib import Path

import duckdb
import polars as pl

from etl.storage.ddl import table_columns
from etl.storage.writes import run_with

_GLOB = re.compile(r"[*?\[\]{}]")


class FactStage:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.tables: list[str] = []

    def replace(self, con: duckdb.DuckDBPyConnection, table: str, frame: pl.DataFrame, ixn_ids: pl.Series) -> None:
        """Delete the rows of the re-derived interactions now and stage their new rows; ids are stable, so this
        is an in-place update. `ixn_ids`: those that may have rows already (seen by earlier loads)."""
        if ixn_ids.len():
            run_with(
                con,
                f"DELETE FROM {table} WHERE INTERACTION_ID IN (SELECT id FROM _ids)",
                _ids=pl.DataFrame({"id": ixn_ids}),
            )
        if frame.height:
            frame.select(table_columns(table)).write_parquet(self.directory / f"{table}-{len(self.tables):06d}.parquet")
            self.tables.append(table)

    def insert(self, con: duckdb.DuckDBPyConnection) -> None:
        for table in dict.fromkeys(self.tables):
            cols = ", ".join(table_columns(table))
            files = str(self.directory / f"{table}-*.parquet")
            con.execute(f"INSERT INTO {table} ({cols}) SELECT {cols} FROM read_parquet(?)", [files])


def fact_stage_dir(con: duckdb.DuckDBPyConnection) -> tempfile.TemporaryDirectory[str]:
    """A temporary directory beside the mart file (staged facts stay on its disk), after deleting the ones a
    killed load of this mart left behind: this connection holds the mart's only write lock, so none is in use."""
    path = con.execute("SELECT path FROM duckdb_databases() WHERE database_name = current_database()").fetchall()
    if not (path and path[0][0]):  # an in-memory database
        return tempfile.TemporaryDirectory(prefix=".gim-facts-")
    mart_file = Path(path[0][0])
    prefix = "." + _GLOB.sub("_", mart_file.name) + ".facts-"  # DuckDB expands globs in file names
    for stale in mart_file.parent.glob(f"{prefix}*"):
        shutil.rmtree(stale, ignore_errors=True)
    return tempfile.TemporaryDirectory(prefix=prefix, dir=mart_file.parent)
