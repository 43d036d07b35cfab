"""PostgreSQL as the shared mart (issue 21): publish into a throwaway cluster and compare with the DuckDB mart.

Every published table and every view must hold the same rows as in DuckDB (order-independent); a second run's
publish must rewrite exactly the interactions whose facts changed (PostgreSQL's `xmin` tells which rows a
transaction wrote); a concurrent reader sees the previous publish or the new one, never a mix; analysts' GIM SQL
runs there through `gim-etl sql --target`.
"""

from __future__ import annotations

import shutil
import threading
from collections import Counter
from decimal import Decimal
from pathlib import Path

import duckdb
import psycopg
import pytest
from conftest import FIXTURES, load_mart, run_cli
from pg_cluster import Cluster, pg_cluster  # noqa: F401  (the session fixture)

from etl.bi.compat import dialect_of, run_gim_sql
from etl.bi.sql.target_pg import run_on_postgres
from etl.cli import main
from etl.storage.ddl import load_schema
from etl.storage.pg_schema import PublishReferenceError
from etl.storage.publish_pg import PUBLISHED_KINDS, publish_postgres
from etl.storage.views import view_names

SAMPLE = FIXTURES / "sample"
FIRST = [SAMPLE / "events-000.jsonl", SAMPLE / "events-001.jsonl", SAMPLE / "agent-states-000.jsonl"]
SECOND = [SAMPLE / "events-002.jsonl", SAMPLE / "events-003.jsonl"]
SQL_FILES = sorted(p for p in (FIXTURES / "gim_sql").rglob("*.sql"))


def _norm(value: object) -> object:
    """Values comparable across engines: numbers to 6 digits (PostgreSQL's SUM(bigint) is numeric)."""
    if isinstance(value, Decimal | float):
        f = round(float(value), 6)
        return int(f) if f.is_integer() else f
    return value


def _bag(rows: list[tuple]) -> Counter:
    return Counter(tuple(_norm(v) for v in row) for row in rows)


def _duck(db: Path, sql: str) -> list[tuple]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def _pg(dsn: str, schema: str, sql: str) -> list[tuple]:
    with psycopg.connect(dsn) as pg:
        pg.execute(f"SET search_path TO {schema}")
        return pg.execute(sql).fetchall()


def _tables(db: Path) -> list[str]:
    have = {n for (n,) in _duck(db, "SELECT table_name FROM duckdb_tables()")}
    return [t.name for t in load_schema().tables if t.kind in PUBLISHED_KINDS and t.name in have]


def _assert_same_tables(db: Path, dsn: str, schema: str) -> None:
    for table in _tables(db):
        cols = ", ".join(c.name for c in load_schema().table(table).columns)
        mine, theirs = _duck(db, f"SELECT {cols} FROM {table}"), _pg(dsn, schema, f"SELECT {cols} FROM {table}")
        assert _bag(mine) == _bag(theirs), f"{table}: {len(mine)} rows in DuckDB, {len(theirs)} in PostgreSQL"


@pytest.fixture(scope="module")
def sample_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return load_mart(tmp_path_factory, SAMPLE)


@pytest.fixture(scope="module")
def published(sample_db: Path, pg_cluster: Cluster) -> str:  # noqa: F811
    """The sample mart published into schema `gim` (what fixtures/gim_sql's PostgreSQL files qualify with)."""
    result = publish_postgres(sample_db, pg_cluster.dsn(), "gim")
    assert {t.mode for t in result.tables} == {"full"} and result.rows_copied > 0
    return pg_cluster.dsn()


def test_every_table_equals_the_duckdb_mart(sample_db: Path, published: str) -> None:
    _assert_same_tables(sample_db, published, "gim")
    facts = _pg(published, "gim", "SELECT count(*) FROM interaction_fact")[0][0]
    assert facts == _duck(sample_db, "SELECT count(*) FROM INTERACTION_FACT")[0][0] > 0


def test_publishing_again_changes_nothing(sample_db: Path, published: str) -> None:
    before = _pg(published, "gim", "SELECT xmin::text, interaction_resource_id FROM interaction_resource_fact")
    result = publish_postgres(sample_db, published, "gim")
    assert {t.mode for t in result.tables} == {"skipped"} and result.rows_copied == 0
    after = _pg(published, "gim", "SELECT xmin::text, interaction_resource_id FROM interaction_resource_fact")
    assert sorted(before) == sorted(after)


@pytest.mark.parametrize("view", view_names())
def test_views_return_the_duckdb_rows(sample_db: Path, published: str, view: str) -> None:
    mine, theirs = _duck(sample_db, f"SELECT * FROM {view}"), _pg(published, "gim", f"SELECT * FROM {view}")
    assert _bag(mine) == _bag(theirs)
    assert mine or view.startswith("AG2_AGENT_GROUP"), f"{view} is empty: the comparison shows nothing"


@pytest.mark.parametrize("path", SQL_FILES, ids=lambda p: p.name)
def test_analysts_sql_gives_the_duckdb_answer_on_postgres(sample_db: Path, published: str, path: Path) -> None:
    sql, dialect = path.read_text(encoding="utf-8"), dialect_of(path.name)
    con = duckdb.connect(str(sample_db), read_only=True)
    try:
        mine = run_gim_sql(con, sql, dialect)
    finally:
        con.close()
    theirs = run_on_postgres(published, sql, dialect, schema="gim")
    assert [c.upper() for c in theirs.columns] == [c.upper() for c in mine.columns]
    assert _bag(theirs.rows()) == _bag(mine.rows())


def test_sql_target_command(published: str, tmp_path: Path) -> None:
    path = FIXTURES / "gim_sql" / "agent_mediation.tsql.sql"
    out = tmp_path / "r.csv"
    assert main(["sql", "--target", published, "--dialect", "tsql", str(path), "--out", str(out)]) == 0
    assert len(out.read_text().splitlines()) > 1
    refused = tmp_path / "refused.sql"
    refused.write_text("SELECT CONVERT(VARCHAR, START_TS, 999) FROM INTERACTION_FACT")
    assert main(["sql", "--target", published, "--dialect", "tsql", str(refused)]) == 2
    assert main(["sql", "--target", "postgresql://gim@127.0.0.1:1/x", "--dialect", "tsql", str(path)]) == 2


def test_a_bad_or_unreachable_target_is_one_line_and_exit_2(sample_db: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["publish", "--db", str(sample_db), "--publish", "postgresql://gim@127.0.0.1:1/x"]) == 2
    assert "Connection refused" in capsys.readouterr().out
    assert main(["publish", "--db", str(sample_db), "--publish", "mysql://x"]) == 2
    assert main(["publish", "--db", str(sample_db), "--publish", "postgresql://h/x", "--pg-schema", "A; x"]) == 2
    assert run_cli("--events", str(SECOND[0]), "--db", str(sample_db), "--publish", "postgresql://h/x?bad=1") == 2


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory: pytest.TempPathFactory, pg_cluster: Cluster) -> dict:  # noqa: F811
    """Two `gim-etl run --publish` (Dagster's postgres_mart asset) on one mart; the state between kept as a copy
    of the DuckDB file and of the PostgreSQL row versions."""
    db = tmp_path_factory.mktemp("inc") / "mart.duckdb"
    dsn = pg_cluster.dsn()
    assert run_cli("--events", *map(str, FIRST), "--db", str(db), "--publish", dsn, "--pg-schema", "inc") == 0
    before = db.with_name("before.duckdb")
    shutil.copy(db, before)
    xmin = {t: dict(_pg(dsn, "inc", f"SELECT interaction_id, xmin::text FROM {t}")) for t in ("interaction_fact",)}
    irf = _pg(dsn, "inc", "SELECT interaction_resource_id, interaction_id, xmin::text FROM interaction_resource_fact")
    assert run_cli("--events", *map(str, SECOND), "--db", str(db), "--publish", dsn, "--pg-schema", "inc") == 0
    return {"db": db, "before": before, "dsn": dsn, "if_xmin": xmin["interaction_fact"], "irf_xmin": irf}


def test_second_run_equals_duckdb(two_runs: dict) -> None:
    _assert_same_tables(two_runs["db"], two_runs["dsn"], "inc")


def test_second_run_rewrites_only_the_touched_interactions(two_runs: dict) -> None:
    """The interactions whose IF/IRF rows PostgreSQL rewrote are exactly those whose rows differ in DuckDB."""
    changed: set[int] = set()
    for table in ("INTERACTION_FACT", "INTERACTION_RESOURCE_FACT"):
        cols = ", ".join(c.name for c in load_schema().table(table).columns)
        old, new = (set(_duck(two_runs[k], f"SELECT INTERACTION_ID, {cols} FROM {table}")) for k in ("before", "db"))
        changed |= {row[0] for row in old ^ new}
    dsn = two_runs["dsn"]
    now_if = dict(_pg(dsn, "inc", "SELECT interaction_id, xmin::text FROM interaction_fact"))
    rewritten = {i for i, x in now_if.items() if two_runs["if_xmin"].get(i) != x}
    old_irf = {r: x for r, _, x in two_runs["irf_xmin"]}
    now_irf = _pg(
        dsn, "inc", "SELECT interaction_resource_id, interaction_id, xmin::text FROM interaction_resource_fact"
    )
    rewritten |= {i for r, i, x in now_irf if old_irf.get(r) != x}
    rewritten |= {i for r, i, _ in two_runs["irf_xmin"] if r not in {r2 for r2, _, _ in now_irf}}
    assert changed and rewritten == changed
    untouched = set(two_runs["if_xmin"]) - changed
    assert untouched, "the second batch touched every interaction: the test would show nothing"


def test_a_concurrent_reader_never_sees_half_a_run(two_runs: dict) -> None:
    dsn, probe = (
        two_runs["dsn"],
        (
            "SELECT (SELECT count(*) FROM interaction_fact), (SELECT count(*) FROM interaction_resource_fact),"
            " (SELECT coalesce(sum(talk_duration), 0) FROM interaction_resource_fact),"
            " (SELECT count(*) FROM mediation_segment_fact)"
        ),
    )
    publish_postgres(two_runs["before"], dsn, "conc")
    old = _pg(dsn, "conc", probe)[0]
    seen: set[tuple] = set()
    stop = threading.Event()

    def read() -> None:
        with psycopg.connect(dsn, autocommit=True) as pg:
            pg.execute("SET search_path TO conc")
            while not stop.is_set():
                seen.add(pg.execute(probe).fetchone())

    reader = threading.Thread(target=read)
    reader.start()
    try:
        publish_postgres(two_runs["db"], dsn, "conc")
    finally:
        stop.set()
        reader.join(timeout=30)
    new = _pg(dsn, "conc", probe)[0]
    assert old != new and old in seen
    assert seen <= {old, new}, f"a reader saw a half-published state: {seen - {old, new}}"
    _assert_same_tables(two_runs["db"], dsn, "conc")


def test_a_dangling_reference_rolls_the_whole_publish_back(sample_db: Path, published: str, tmp_path: Path) -> None:
    broken = tmp_path / "broken.duckdb"
    shutil.copy(sample_db, broken)
    con = duckdb.connect(str(broken))
    con.execute("DELETE FROM RESOURCE_ WHERE RESOURCE_KEY IN (SELECT max(RESOURCE_KEY) FROM INTERACTION_RESOURCE_FACT)")
    con.close()
    with pytest.raises(PublishReferenceError, match="has no row in RESOURCE_"):
        publish_postgres(broken, published, "broken")
    assert _pg(published, "public", "SELECT count(*) FROM pg_namespace WHERE nspname = 'broken'") == [(0,)]


@pytest.fixture(scope="module")
def multi_tenant_day(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """A generated day of two tenants (chat, e-mail and workitems, their own seeds), interleaved in two files."""
    import json

    from etl.simulate.generator import GeneratorConfig, write_files

    out = tmp_path_factory.mktemp("tenants")
    lines: list[str] = []
    for n, tenant in enumerate(("Acme", "Globex")):
        cfg = GeneratorConfig(interactions_per_day=150, agents=12, files=1, seed=40 + n)
        for path in write_files(cfg, out / tenant):
            for line in path.read_text(encoding="utf-8").splitlines():
                lines.append(json.dumps({**json.loads(line), "tenant": tenant}))
    files = [out / "day-a.jsonl", out / "day-b.jsonl"]
    for k, path in enumerate(files):
        path.write_text("".join(line + "\n" for line in lines[k::2]), encoding="utf-8")
    return files


def test_a_multi_tenant_day_publishes_one_schema_per_tenant_equal_to_its_mart(
    multi_tenant_day: list[Path],
    pg_cluster: Cluster,  # noqa: F811
    tmp_path: Path,
) -> None:
    from etl.domain.options import GimOptions
    from etl.pipeline.tenants import load_tenant

    dsn, seen = pg_cluster.dsn(), {}
    for tenant in ("Acme", "Globex"):
        run = load_tenant(multi_tenant_day, tmp_path / "marts", tenant, GimOptions())
        schema = f"t_{tenant.lower()}"
        publish_postgres(run.mart, dsn, schema)
        _assert_same_tables(run.mart, dsn, schema)
        seen[tenant] = {g for (g,) in _pg(dsn, schema, "SELECT media_server_ixn_guid FROM interaction_fact")}
        names = {n for (n,) in _pg(dsn, schema, "SELECT tenant_name FROM tenant WHERE tenant_key > 0")}
        assert tenant in names and not names & ({"Acme", "Globex"} - {tenant})  # (and GIM's default tenant)
        media = {m for (m,) in _pg(dsn, schema, "SELECT DISTINCT m.media_name FROM interaction_fact i"
                                                " JOIN media_type m USING (media_type_key)")}  # fmt: skip
        assert media == {"Email", "Chat", "Workitem"}
    assert seen["Acme"] and seen["Globex"] and not seen["Acme"] & seen["Globex"]
