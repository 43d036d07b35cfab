"""Dagster code location: `dagster dev -m etl.definitions` (with DAGSTER_HOME set to dagster_home/)."""

from __future__ import annotations

import os

import dagster as dg

from etl.orchestration.assets import facts_by_event_day, gim_mart, raw_events
from etl.orchestration.automation import daily_rederive_job, daily_schedule, gim_etl_job, landing_sensor
from etl.orchestration.checks import CHECKS, WARN_CHECKS
from etl.orchestration.config import MartResource

#: The file-driven graph (ingest -> single-writer mart load) that `gim-etl run` materializes.
ASSETS = [raw_events, gim_mart]

defs = dg.Definitions(
    assets=[*ASSETS, facts_by_event_day],
    asset_checks=[*CHECKS, *WARN_CHECKS],
    jobs=[gim_etl_job, daily_rederive_job],
    schedules=[daily_schedule],
    sensors=[landing_sensor],
    resources={"mart_db": MartResource(database=os.environ.get("GIM_ETL_DB", "out/gim_mart.duckdb"))},
)
