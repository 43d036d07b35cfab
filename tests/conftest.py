"""Shared test helpers: run the public entry points against temporary marts."""

from __future__ import annotations

from pathlib import Path

import duckdb
import polars as pl
import pytest

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "fixtures"


@pytest.fixture(autouse=True)
def _no_dagster_home(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests run on ephemeral Dagster instances, never on the developer's dagster_home/."""
    monkeypatch.delenv("DAGSTER_HOME", raising=False)


def run_cli(*args: str) -> int:
    from etl.cli import main

    return main(["run", "--quiet", *args])


def load_mart(tmp_path_factory: pytest.TempPathFactory, *events: Path) -> Path:
    """A fresh mart of `events`, loaded through the CLI (for module- and session-scoped fixtures)."""
    db = tmp_path_factory.mktemp("mart") / "mart.duckdb"
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv("DAGSTER_HOME", raising=False)
        assert run_cli("--events", *map(str, events), "--db", str(db)) == 0
    return db


def email_flow_dirs() -> list[Path]:
    """The documented e-mail flows' fixture directories (fixtures/flows also holds the chat flows)."""
    from etl.simulate.flows import FLOWS

    return [FIXTURES / "flows" / name for name in FLOWS]


@pytest.fixture(scope="session")
def flows_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The mart of the documented e-mail flows under default options, shared by the BI tests (which only read it;
    their GIM SQL suite and hand counts are e-mail's)."""
    return load_mart(tmp_path_factory, *email_flow_dirs())


def query(db: Path, sql: str, params: list | None = None) -> pl.DataFrame:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.sql(sql, params=params).pl() if params else con.sql(sql).pl()
    finally:
        con.close()


IRF_DESCRIPTORS = """
SELECT i.MEDIA_SERVER_IXN_GUID AS ixn, r.RESOURCE_NAME AS resource, d.RESOURCE_ROLE AS role,
       d.TECHNICAL_RESULT AS result, d.RESULT_REASON AS reason
FROM INTERACTION_RESOURCE_FACT f JOIN INTERACTION_FACT i USING (INTERACTION_ID)
JOIN RESOURCE_ r ON r.RESOURCE_KEY = f.RESOURCE_KEY
JOIN TECHNICAL_DESCRIPTOR d ON d.TECHNICAL_DESCRIPTOR_KEY = f.TECHNICAL_DESCRIPTOR_KEY
ORDER BY ixn, f.INTERACTION_RESOURCE_ORDINAL
"""


def label(role: str, result: str, reason: str) -> str:
    return f"{role}/{result}" + ("" if reason == "Unspecified" else f" [{reason}]")
