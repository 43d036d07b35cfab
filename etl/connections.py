"""The one DuckDB connection factory: every connection of the pipeline (ingest scans, the mart load, checks,
the serving publish, the report) is opened here, so each gets the same memory limit and settings."""

from __future__ import annotations

from pathlib import Path

import duckdb

from etl.settings import runtime


def connect(path: str | Path | None = None, *, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection to `path` (None: an in-memory database) with the run's memory limit.

    Beyond `GIM_ETL_DUCKDB_MEMORY_LIMIT` DuckDB spills to disk instead of taking 80 % of RAM, its default."""
    if path is None:
        con = duckdb.connect()
    else:
        if not read_only:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        con = duckdb.connect(str(path), read_only=read_only)
    con.execute("SET enable_progress_bar = false")
    con.execute("SET memory_limit = ?", [runtime().duckdb_memory_limit])
    if path is not None and not read_only:  # the load relies on no row order; keeping it costs memory
        con.execute("SET preserve_insertion_order = false")
    return con
