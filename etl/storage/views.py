"""RAA-style aggregate views (AG2_AGENT_*, AG2_QUEUE_*) over the mart.

The views are plain DuckDB SQL files in ``schema/views/`` (one ``CREATE OR REPLACE VIEW`` per file, applied in file
name order), so analysts can read and edit them; this module only applies them.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

import schema

VIEWS_DIR = Path(schema.__file__).resolve().parent / "views"

AGENT_VIEWS = ("AG2_AGENT_SUBHR", "AG2_AGENT_HOUR", "AG2_AGENT_DAY")
QUEUE_VIEWS = ("AG2_QUEUE_SUBHR", "AG2_QUEUE_HOUR", "AG2_QUEUE_DAY")

_CREATE = "CREATE OR REPLACE VIEW"


def view_files() -> list[Path]:
    """The view definitions, in the order they must be created (later views select from earlier ones)."""
    return sorted(VIEWS_DIR.glob("*.sql"))


def view_names() -> list[str]:
    return [p.stem.split("_", 1)[1] for p in view_files()]


def create_views(con: duckdb.DuckDBPyConnection, *, temporary: bool = False) -> list[str]:
    """Create (or replace) every view of ``schema/views/`` in the mart ``con`` points at; idempotent.

    ``temporary=True`` creates them as TEMP views, which also works on a read-only connection (the report uses
    this on marts loaded before the views existed). Returns the view names in creation order.
    """
    for path in view_files():
        sql = path.read_text(encoding="utf-8")
        if _CREATE not in sql:
            raise ValueError(f"{path.name}: expected one '{_CREATE} ...' statement")
        if temporary:
            sql = sql.replace(_CREATE, "CREATE OR REPLACE TEMP VIEW", 1)
        con.execute(sql)
    return view_names()


def has_views(con: duckdb.DuckDBPyConnection) -> bool:
    """True when every view already exists (persistent or temporary) on ``con``."""
    names = {n.upper() for (n,) in con.execute("SELECT view_name FROM duckdb_views()").fetchall()}
    return all(v.upper() in names for v in view_names())
