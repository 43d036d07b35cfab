"""Issue 19's Dagster UI traps, through Dagster's test utilities: a mart-only materialization, runs of the CLI
in the instance of DAGSTER_HOME, per-table descriptions and row counts."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import pytest
from conftest import FIXTURES

from etl.domain.options import GimOptions
from etl.orchestration.assets import ASSETS, MART_TABLES, gim_mart
from etl.orchestration.config import MartResource
from etl.orchestration.run import run_pipeline

EVENTS = str(FIXTURES / "contract_example.jsonl")


def _config() -> dict:
    return {"ops": {"raw_events": {"config": {"events": [EVENTS]}}}}


def test_mart_only_materialization_fails_plainly(tmp_path: Path) -> None:
    resources = {"mart_db": MartResource(database=str(tmp_path / "mart.duckdb"), staging_dir=str(tmp_path / "stg"))}
    with dg.instance_for_test(temp_dir=str(tmp_path)) as instance:
        first = dg.materialize(ASSETS, run_config=_config(), resources=resources, instance=instance)
        assert first.success
        # the UI's *Materialize* on a mart asset: raw_events is read from the first run, whose staging is gone
        again = dg.materialize(
            ASSETS,
            selection=[dg.AssetKey(["mart", t]) for t in MART_TABLES],
            resources=resources,
            instance=instance,
            raise_on_error=False,
        )
    assert not again.success
    failures = [e for e in again.all_events if e.is_step_failure]
    message = failures[0].step_failure_data.error.message
    assert "materialize raw_events with the mart assets" in message
    assert "FileNotFoundError" not in failures[0].step_failure_data.error.cls_name


def test_cli_runs_are_runs_of_the_dagster_home_instance(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path / "dagster_home"
    home.mkdir()
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    monkeypatch.setenv("GIM_ETL_STAGING_DIR", str(tmp_path / "stg"))
    result = run_pipeline([EVENTS], str(tmp_path / "mart.duckdb"), GimOptions())
    assert result.success
    with dg.DagsterInstance.from_config(str(home)) as instance:
        runs = instance.get_runs()
        assert [r.run_id for r in runs] == [result.run_id]
        assert runs[0].tags["gim-etl/entry"] == "cli"
        event = instance.get_latest_materialization_event(dg.AssetKey(["mart", "INTERACTION_RESOURCE_FACT"]))
        assert event is not None and event.run_id == result.run_id
        assert event.asset_materialization.metadata["dagster/row_count"].value == 2


def test_every_mart_asset_has_its_own_description_and_row_count(tmp_path: Path) -> None:
    specs = {spec.key.path[-1]: spec for spec in gim_mart.specs}
    descriptions = [spec.description for spec in specs.values()]
    assert all(descriptions) and len(set(descriptions)) == len(MART_TABLES)
    assert "INTERACTION_RESOURCE_FACT" in specs
    resources = {"mart_db": MartResource(database=str(tmp_path / "mart.duckdb"), staging_dir=str(tmp_path / "stg"))}
    result = dg.materialize(ASSETS, run_config=_config(), resources=resources)
    mats = {m.asset_key.path[-1]: m.materialization.metadata for m in result.get_asset_materialization_events()}
    assert mats["STG_EVENTS"]["dagster/row_count"].value == 12
    assert all("last_updated" in mats[t] for t in MART_TABLES)


def test_dagster_cli_materializes_every_asset(tmp_path: Path) -> None:
    """`dagster asset materialize --select '*'` (issue 19): the mart's assets are unpartitioned (the per-day
    re-derive is a partitioned job), so the whole selection runs, in the instance of DAGSTER_HOME."""
    import os
    import subprocess
    import sys

    import yaml
    from conftest import ROOT, query

    home, db = tmp_path / "home", tmp_path / "mart.duckdb"
    home.mkdir()
    cfg = tmp_path / "run.yaml"
    cfg.write_text(yaml.safe_dump(_config()))
    env = {**os.environ, "DAGSTER_HOME": str(home), "GIM_ETL_DB": str(db), "PYTHONPATH": str(ROOT)}
    dagster = Path(sys.executable).with_name("dagster")
    done = subprocess.run(
        [str(dagster), "asset", "materialize", "--select", "*", "-m", "etl.definitions", "-c", str(cfg)],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        check=False,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert query(db, "SELECT count(*) AS n FROM INTERACTION_FACT")["n"][0] > 0
    with dg.DagsterInstance.from_config(str(home)) as instance:
        runs = instance.get_runs()
        assert len(runs) == 1 and runs[0].is_success
        assert instance.get_latest_materialization_event(dg.AssetKey(["mart", "INTERACTION_FACT"])) is not None


def test_fact_assets_carry_a_freshness_policy() -> None:
    """The facts warn after 26 h and fail after 48 h without a load or re-derive (Dagster's freshness daemon
    evaluates the policy); dimensions and staging tables have none (they change only with the input)."""
    from datetime import timedelta

    from etl.definitions import defs

    graph = defs.resolve_asset_graph()
    policy = graph.get(dg.AssetKey(["mart", "INTERACTION_RESOURCE_FACT"])).freshness_policy
    assert policy.fail_window.to_timedelta() == timedelta(hours=48)
    assert policy.warn_window.to_timedelta() == timedelta(hours=26)
    assert graph.get(dg.AssetKey(["mart", "GROUP_"])).freshness_policy is None
