"""One mart per tenant: a tenant's run stages and loads only its own events and bad lines, and the counts of
every tenant's runs add up to the input exactly once."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import polars as pl
import pytest
from conftest import FIXTURES, query

from etl.domain.options import GimOptions
from etl.ingest.staging import stage_events
from etl.ingest.tenants import check_tenant
from etl.pipeline.tenants import load_tenant, tenant_mart_path
from etl.storage import quality

SAMPLE = FIXTURES / "sample"


def write_tenant_inputs(out: Path, tenants: dict[str, list[str]]) -> list[Path]:
    """Copies of sample files with their events tagged `tenant` (`Resources`: left untagged, the default),
    plus one non-JSON line (the default tenant's) and one invalid event naming `Acme`."""
    out.mkdir(parents=True, exist_ok=True)
    files = []
    for tenant, names in tenants.items():
        for name in names:
            lines = (SAMPLE / name).read_text().splitlines()
            events = [json.loads(x) for x in lines if x.strip()]
            if tenant != "Resources":
                for e in events:
                    e["tenant"] = tenant
            path = out / f"{tenant}-{name}"
            path.write_text("".join(json.dumps(e) + "\n" for e in events))
            files.append(path)
    bad = out / "bad.jsonl"
    bad.write_text('not json at all\n{"tenant": "Acme", "event": "EventNobodyKnows", "event_id": "x1"}\n')
    return [*files, bad]


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    return write_tenant_inputs(
        tmp_path_factory.mktemp("in"), {"Resources": ["events-000.jsonl"], "Acme": ["events-001.jsonl"]}
    )


def test_staging_keeps_one_tenant_and_counts_each_line_once(inputs: list[Path], tmp_path: Path) -> None:
    whole = stage_events(inputs, "all", tmp_path / "all")
    parts = {t: stage_events(inputs, t, tmp_path / t, tenant=t) for t in ("Resources", "Acme", "Nobody")}
    for t, staged in parts.items():
        assert staged.events_read == staged.events_valid + staged.duplicates + staged.conflicts + staged.quarantined
        tenants = pl.read_parquet(staged.events_path)["tenant"].fill_null("Resources").unique().to_list()
        assert tenants in ([t], [])
        assert staged.events_read + staged.other_tenants == whole.events_read
    assert parts["Nobody"].events_read == 0
    assert parts["Resources"].quarantined == 1 and parts["Acme"].quarantined == 1  # the bad lines, once each
    assert sum(p.events_read for p in parts.values()) == whole.events_read
    # a conflict across tenants (one id, two tenants' payloads) is none: tenants share nothing
    staged_rows = [p.events_valid + p.duplicates + p.conflicts for p in parts.values()]
    assert sum(staged_rows) == whole.events_valid + whole.duplicates + whole.conflicts


def test_each_tenant_mart_holds_only_its_interactions(inputs: list[Path], tmp_path: Path) -> None:
    runs = {t: load_tenant(inputs, tmp_path / "marts", t, GimOptions()) for t in ("Resources", "Acme")}
    ids = {}
    for t, run in runs.items():
        assert run.mart == tmp_path / "marts" / t / "gim_mart.duckdb" and run.served.exists()
        assert run.counts.events_loaded > 0
        ids[t] = set(query(run.mart, "SELECT MEDIA_SERVER_IXN_GUID FROM INTERACTION_FACT")["MEDIA_SERVER_IXN_GUID"])
        names = query(run.mart, "SELECT DISTINCT TENANT_NAME FROM TENANT WHERE TENANT_KEY > 0")["TENANT_NAME"]
        assert t in names.to_list()
        assert query(run.mart, "SELECT count(*) AS n FROM CTL_AUDIT_LOG")["n"].item() == 1
    assert ids["Resources"] and ids["Acme"] and not ids["Resources"] & ids["Acme"]
    for run in runs.values():
        con = duckdb.connect(str(run.mart), read_only=True)
        try:
            assert quality.counts_add_up(con).passed
        finally:
            con.close()


@pytest.mark.parametrize("bad", ["", "..", "a/b", ".hidden", "x" * 200, "t\n"])
def test_tenant_names_must_be_directory_names(bad: str, tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        tenant_mart_path(tmp_path, bad)
    assert check_tenant("Acme_2.eu-west") == "Acme_2.eu-west"
