"""Shared test helpers: run the public entry points against temporary marts."""

from __future__ import annotations

import json
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


def sample_abandons() -> tuple[int, int, int]:
    """From the sample's events, not the mart: chats the customer abandoned (contract 1.1 `EventPartyRemoved` of the
    Customer with reason abandoned), those abandoned while an agent's invitation was pending, and the chats."""
    events = [json.loads(line) for path in sorted((FIXTURES / "sample").glob("events-*.jsonl"))
              for line in path.read_text().splitlines() if line.startswith("{")]  # fmt: skip
    chats = {e["interaction_id"] for e in events if e["event"] == "EventInteractionSubmitted"
             and e.get("media_type") == "chat"}  # fmt: skip
    abandoned, ringing = set(), set()
    pending: dict[str, set[str]] = {}
    seen: set[str] = set()
    for e in sorted(events, key=lambda e: (e["ts"], e.get("seq", 0))):
        if e["event_id"] in seen or e.get("interaction_id") not in chats:
            continue
        seen.add(e["event_id"])
        ixn, party = e["interaction_id"], (e.get("party") or {})
        if e["event"] == "EventAgentInvited":
            pending.setdefault(ixn, set()).add(party["id"])
        elif e["event"] in ("EventPartyAdded", "EventRevoked", "EventRejected") and party.get("type") == "Agent":
            pending.get(ixn, set()).discard(party["id"])
        elif e["event"] == "EventPartyRemoved" and party.get("type") == "Customer" and e.get("reason") == "abandoned":
            abandoned.add(ixn)
            if pending.get(ixn):
                ringing.add(ixn)
    return len(abandoned), len(ringing), len(chats)
