"""The README's Superset recipe: SQLAlchemy + duckdb-engine on the serving copy, read-only.

Versions that work with duckdb 2.0.0 (measured): duckdb-engine 0.17.0 with SQLAlchemy 2.0.58. SQLAlchemy 2.1's
PostgreSQL reflection asks DuckDB for ``pg_catalog.pg_collation`` and fails. The shared constraints pin SQLAlchemy
2.1.9 (alembic, dagster), so the recipe has its own extra (``pip install .[superset]``) and CI job; these tests skip
where it is not installed. A pooled connection keeps the serving file it opened (the old inode) after a publish
renames a new copy into place: QueuePool and ``pool_pre_ping`` stay stale, ``NullPool`` (or a checkout event that
compares the file's inode, below) sees the new copy.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import duckdb
import pytest

sa = pytest.importorskip("sqlalchemy")
pytest.importorskip("duckdb_engine")
if not sa.__version__.startswith("2.0."):
    pytest.skip(f"the recipe needs SQLAlchemy 2.0.x (have {sa.__version__})", allow_module_level=True)

from sqlalchemy import event  # noqa: E402
from sqlalchemy.exc import DisconnectionError  # noqa: E402
from sqlalchemy.pool import NullPool  # noqa: E402

from etl.storage.serving import serving_path_for  # noqa: E402


def _engine(path: Path, **kw: object) -> sa.Engine:
    return sa.create_engine(f"duckdb:///{path}", connect_args={"read_only": True}, **kw)


def test_reflection_and_a_query_on_the_serving_copy(flows_db: Path) -> None:
    engine = _engine(serving_path_for(flows_db))
    try:
        inspector = sa.inspect(engine)
        assert {"INTERACTION_RESOURCE_FACT", "RESOURCE_", "DATE_TIME"} <= set(inspector.get_table_names())
        assert "RESOURCE_NAME" in {c["name"] for c in inspector.get_columns("RESOURCE_")}
        with engine.connect() as con:
            n = con.execute(sa.text("SELECT COUNT(*) FROM RESOURCE_ WHERE RESOURCE_TYPE = :t"), {"t": "Agent"})
            assert n.scalar() == 2
    finally:
        engine.dispose()


def reconnect_when_republished(engine: sa.Engine, path: Path) -> None:
    """Pool checkout listener: a pooled connection opened on an older serving file (another inode) is replaced."""

    @event.listens_for(engine, "connect")
    def _remember(dbapi_con: object, record: object) -> None:
        record.info["inode"] = os.stat(path).st_ino  # type: ignore[attr-defined]

    @event.listens_for(engine, "checkout")
    def _check(dbapi_con: object, record: object, proxy: object) -> None:
        if record.info.get("inode") != os.stat(path).st_ino:  # type: ignore[attr-defined]
            raise DisconnectionError("serving copy republished")


def _publish(src: Path, target: Path, n: int) -> None:
    tmp = target.with_name(target.name + ".tmp")
    shutil.copy(src, tmp)
    con = duckdb.connect(str(tmp))
    con.execute(f"CREATE OR REPLACE TABLE MARKER AS SELECT {n} AS N")
    con.close()
    os.replace(tmp, target)  # as etl.storage.serving.publish does


@pytest.mark.parametrize(("kind", "fresh"), [("queue", False), ("pre_ping", False), ("null", True), ("inode", True)])
def test_a_pooled_connection_and_the_next_published_copy(
    flows_db: Path, tmp_path: Path, kind: str, fresh: bool
) -> None:
    target = tmp_path / "mart.serving.duckdb"
    _publish(serving_path_for(flows_db), target, 1)
    kw = {"pre_ping": {"pool_pre_ping": True}, "null": {"poolclass": NullPool}}.get(kind, {})
    engine = _engine(target, **kw)
    if kind == "inode":
        reconnect_when_republished(engine, target)
    try:
        with engine.connect() as con:
            assert con.execute(sa.text("SELECT N FROM MARKER")).scalar() == 1
        _publish(serving_path_for(flows_db), target, 2)
        with engine.connect() as con:
            assert con.execute(sa.text("SELECT N FROM MARKER")).scalar() == (2 if fresh else 1)
    finally:
        engine.dispose()
