"""The read-only serving copy of the mart that BI tools open.

DuckDB allows one writer or many readers per file, and DuckDB 2.0 files cannot be opened by the DuckDB 1.4-era
engines embedded in most BI drivers. So after each successful load the mart is copied into a new file written
with storage version v1.4.0 and swapped in by an atomic rename: readers always see a whole, older or newer copy,
and a crash at any point leaves the previous serving file untouched.
"""

from __future__ import annotations

import glob
import os
import shlex
from pathlib import Path

import duckdb

from etl.connections import connect
from etl.storage.ddl import create_table, load_schema, tables_of_kind

SERVING_STORAGE_VERSION = "v1.4.0"
#: The raw event store and the surrogate-key map (kinds `staging` and `internal` in schema/mart.yaml) are the
#: loader's working state, not reporting data: they are most of the mart's bytes and would make every publish
#: copy all events ever loaded.
NOT_SERVED = tables_of_kind("staging", "internal")


#: What a run reports when its load committed but the serving copy could not be written.
PUBLISH_FAILED = "mart committed, serving copy not published"


def republish(mart_path: str | Path) -> str:
    """The command that republishes the serving copy of `mart_path`."""
    return f"gim-etl publish --db {shlex.quote(str(mart_path))}"


def serving_path_for(mart_path: str | Path) -> Path:
    """Default serving file beside the mart: ``mart.duckdb`` -> ``mart.serving.duckdb``."""
    p = Path(mart_path)
    return p.with_name(f"{p.stem}.serving{p.suffix or '.duckdb'}")


def publish(mart_path: str | Path, serving_path: str | Path | None = None) -> Path:
    """Copy the mart's tables (but `NOT_SERVED`) and views into a fresh 1.4-compatible file, then rename it into
    place."""
    target = Path(serving_path) if serving_path else serving_path_for(mart_path)
    for stale in target.parent.glob(glob.escape(f".{target.name}.") + "*.tmp"):  # left by a publish that was killed
        stale.unlink(missing_ok=True)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    con = connect()
    try:
        con.execute("ATTACH ? AS mart (READ_ONLY)", [str(mart_path)])  # paths are parameters, never SQL text
        con.execute(f"ATTACH ? AS serve (STORAGE_VERSION '{SERVING_STORAGE_VERSION}')", [str(tmp)])
        tables = con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE database_name = 'mart' ORDER BY table_name"
        ).fetchall()
        _copy_tables(con, [name for (name,) in tables if name not in NOT_SERVED])
        views = con.execute(
            "SELECT view_name, sql FROM duckdb_views() WHERE database_name = 'mart' AND NOT internal"
        ).fetchall()
        con.sql("USE serve")
        _create_in_dependency_order([sql for _, sql in views], con)
        con.sql("USE memory")
        con.sql("DETACH serve")
        con.sql("DETACH mart")
    except BaseException:
        con.close()
        tmp.unlink(missing_ok=True)
        raise
    con.close()
    os.replace(tmp, target)  # atomic on POSIX: readers see the old or the new file, never a partial one
    return target


def _copy_tables(con: duckdb.DuckDBPyConnection, names: list[str]) -> None:
    """Each table from its schema/mart.yaml definition, so that the copy declares the primary and foreign keys
    BI tools infer joins from; referenced tables are created and filled first (DuckDB checks the references on
    insert: a dangling one fails the publish, as the blocking `references_resolve` check would)."""
    schema = {t.name: t for t in load_schema().tables}
    pending = [n for n in names if n in schema]
    done: set[str] = set()
    for name in names:
        if name not in schema:
            con.sql(f'CREATE TABLE serve."{name}" AS SELECT * FROM mart."{name}"')
    while pending:
        ready = [
            n
            for n in pending
            if all(fk.references in done or fk.references not in pending for fk in schema[n].foreign_keys)
        ]
        if not ready:
            raise ValueError(f"foreign keys form a cycle among {pending}")
        for name in ready:
            table = schema[name]
            fks = "".join(
                f", FOREIGN KEY ({', '.join(fk.columns)}) REFERENCES {fk.references} ({', '.join(fk.ref_columns)})"
                for fk in table.foreign_keys
                if fk.references in names
            )
            ddl = create_table(table, "duckdb").sql(dialect="duckdb")
            con.sql("USE serve")
            con.sql(ddl[:-1] + fks + ")")
            con.sql("USE memory")
            cols = ", ".join(f'"{c.name}"' for c in table.columns)
            con.sql(f'INSERT INTO serve."{name}" ({cols}) SELECT {cols} FROM mart."{name}"')
            done.add(name)
            pending.remove(name)


def _create_in_dependency_order(statements: list[str], con: duckdb.DuckDBPyConnection) -> None:
    """Views may read other views (the AG2_* aggregates read their per-fact base view): create each one once
    the views it reads exist, without parsing SQL, by retrying the ones whose dependencies are still missing."""
    pending = list(statements)
    while pending:
        failed: list[str] = []
        for sql in pending:
            try:
                con.sql(sql)
            except duckdb.CatalogException:
                failed.append(sql)
        if len(failed) == len(pending):
            con.sql(failed[0])  # no progress: a view reads something that does not exist; raise its error
        pending = failed
