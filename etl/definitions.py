"""Dagster code location: `dagster dev -m etl.definitions` (with DAGSTER_HOME set to dagster_home/)."""

from __future__ import annotations

import os

import dagster as dg

from etl.orchestration.assets import gim_mart, raw_events
from etl.orchestration.checks import CHECKS
from etl.orchestration.config import MartResource

ASSETS = [raw_events, gim_mart]

#: The whole graph as one job: ingest, then the single-writer mart load, then its blocking checks.
gim_etl_job = dg.define_asset_job("gim_etl_job", selection=dg.AssetSelection.all())

defs = dg.Definitions(
    assets=ASSETS,
    asset_checks=CHECKS,
    jobs=[gim_etl_job],
    resources={"mart_db": MartResource(database=os.environ.get("GIM_ETL_DB", "out/gim_mart.duckdb"))},
)
