"""The README's Superset recipe: SQLAlchemy + duckdb-engine on the serving copy, read-only.

Versions that work with duckdb 2.0.0 (measured): duckdb-engine 0.17.0 with SQLAlchemy 2.0.58. SQLAlchemy 2.1's
PostgreSQL reflection asks DuckDB for ``pg_catalog.pg_collation`` and fails. Dagster pins SQLAlchemy 2.1.9 in our
environment (constraints.txt), so the recipe's versions are installed beside it (``pip install --target``, cached)
and the recipe tests run in a child pytest that sees them first; in CI that must work, elsewhere it may skip when
the package index is out of reach. A pooled connection keeps the serving file it opened (the old inode) after a
publish renames a new copy into place: QueuePool and ``pool_pre_ping`` stay stale, ``NullPool`` (or a checkout
event that compares the file's inode, below) sees the new copy.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from etl.storage.serving import serving_path_for

#: What the README's Superset row tells people to install (pyproject's `superset` extra says the same).
RECIPE = ("sqlalchemy==2.0.58", "duckdb-engine==0.17.0")
_INNER = "GIM_ETL_RECIPE_INNER"
ROOT = Path(__file__).resolve().parents[1]


def _recipe_site(cache: Path) -> Path | None:
    """A directory with the recipe's packages (no dependencies: duckdb and typing-extensions come from the venv)."""
    site = cache / "superset-recipe"
    if (site / "sqlalchemy").is_dir() and (site / "duckdb_engine").is_dir():
        return site
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(site), *RECIPE],
        capture_output=True,
        text=True,
    )
    return site if proc.returncode == 0 else None


if not os.environ.get(_INNER):

    def test_the_recipe_with_its_pinned_versions(tmp_path: Path) -> None:
        site = _recipe_site(Path(os.environ.get("GIM_ETL_TEST_CACHE", tmp_path)))
        if site is None:
            if os.environ.get("CI"):
                pytest.fail(f"could not install {' '.join(RECIPE)} for the Superset recipe test")
            pytest.skip("the recipe's packages are not available offline")
        proc = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(Path(__file__))],
            cwd=ROOT,
            env={**os.environ, _INNER: "1", "PYTHONPATH": os.pathsep.join([str(site), str(ROOT)])},
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
        assert "5 passed" in proc.stdout, proc.stdout[-2000:]

else:  # the child pytest: SQLAlchemy 2.0 and duckdb-engine first on the path
    import sqlalchemy as sa
    from sqlalchemy import event
    from sqlalchemy.exc import DisconnectionError
    from sqlalchemy.pool import NullPool

    assert sa.__version__ == RECIPE[0].split("==")[1], sa.__version__

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

    @pytest.mark.parametrize(
        ("kind", "fresh"), [("queue", False), ("pre_ping", False), ("null", True), ("inode", True)]
    )
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
