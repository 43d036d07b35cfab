"""The Dagster code location loads and exposes the asset graph, checks and job."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import dagster as dg
from conftest import FIXTURES, ROOT, query

from etl.definitions import defs
from etl.orchestration.assets import MART_TABLES


def test_definitions_expose_assets_checks_and_job() -> None:
    graph = defs.resolve_asset_graph()
    keys = {k.to_user_string() for k in graph.get_all_asset_keys()}
    assert "raw_events" in keys
    assert {f"mart/{t}" for t in MART_TABLES} <= keys
    check_names = {c.name for c in graph.asset_check_keys}
    assert {"input_counts_add_up", "references_resolve", "descriptors_are_valid"} <= check_names
    assert defs.resolve_job_def("gim_etl_job") is not None


def test_dagster_cli_validates_the_code_location(tmp_path: Path) -> None:
    env = {**os.environ, "DAGSTER_HOME": str(tmp_path)}
    proc = subprocess.run(
        [sys.executable, "-m", "dagster", "definitions", "validate", "-m", "etl.definitions"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_materialize_runs_graph_and_blocking_checks(tmp_path: Path) -> None:
    from etl.definitions import ASSETS, CHECKS
    from etl.orchestration.config import MartResource

    db = tmp_path / "mart.duckdb"
    result = dg.materialize(
        [*ASSETS, *CHECKS],
        run_config={"ops": {"raw_events": {"config": {"events": [str(FIXTURES / "contract_example.jsonl")]}}}},
        resources={"mart_db": MartResource(database=str(db))},
    )
    assert result.success
    evaluations = result.get_asset_check_evaluations()
    assert len(evaluations) == len(CHECKS) and all(e.passed for e in evaluations)
    mats = {m.asset_key.to_user_string(): m for m in result.get_asset_materialization_events()}
    audit_meta = mats["mart/CTL_AUDIT_LOG"].materialization.metadata
    assert audit_meta["events_loaded"].value == 12
    assert query(db, "SELECT count(*) AS n FROM INTERACTION_RESOURCE_FACT")["n"][0] == 2


def test_every_gim_option_travels_through_dagster_run_config() -> None:
    """Run config is how the CLI, the launchpad and schedules hand options to the assets: an option missing from it
    would be silently replaced by its default (online-media-types once was)."""
    from etl.domain.options import GimOptions
    from etl.orchestration.config import GimOptionsConfig

    options = GimOptions.load(
        None,
        ["online-media-types=chat,sms", "populate-workbin-as-hold=true", "service-objective=30", "date-time-tz=UTC"],
    )
    config = GimOptionsConfig(**GimOptionsConfig.from_options(options))
    assert config.to_options() == options
    carried = set(GimOptionsConfig.model_fields) - {"user_data_json"}
    assert carried == set(GimOptions.model_fields) - {"user_data"}
