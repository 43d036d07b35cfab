"""Dagster code location: `dagster dev -m etl.definitions` (with DAGSTER_HOME set to dagster_home/)."""

from __future__ import annotations

import os

import dagster as dg

from etl.orchestration.assets import ASSETS
from etl.orchestration.automation import daily_rederive_job, daily_schedule, gim_etl_job, landing_sensor
from etl.orchestration.checks import CHECKS, WARN_CHECKS
from etl.orchestration.config import MartResource
from etl.orchestration.publish import PostgresTarget, postgres_mart
from etl.orchestration.tenants import JOBS as TENANT_JOBS
from etl.orchestration.tenants import SENSORS as TENANT_SENSORS
from etl.orchestration.tenants import TenantMarts
from etl.settings import env_name, runtime


def _setting(field: str) -> str | dg.EnvVar:
    """A `etl.settings` value for a resource: read through `dg.EnvVar` when its variable is set (the UI then
    shows where it came from), else the settings' default."""
    name = env_name(field)
    return dg.EnvVar(name) if name in os.environ else getattr(runtime(), field)


def _mart_resource() -> MartResource:
    window = env_name("late_arrival_window_hours")
    return MartResource(
        database=_setting("db"),
        serving_database=_setting("serving_db"),
        staging_dir=_setting("staging_dir"),
        late_arrival_window_hours=(
            dg.EnvVar.int(window) if window in os.environ else runtime().late_arrival_window_hours
        ),
    )


def _pg_target() -> PostgresTarget:
    """The PostgreSQL publish target from GIM_ETL_PUBLISH_DSN / GIM_ETL_PG_SCHEMA (unset DSN: not published)."""
    dsn = dg.EnvVar("GIM_ETL_PUBLISH_DSN") if "GIM_ETL_PUBLISH_DSN" in os.environ else ""
    schema = dg.EnvVar("GIM_ETL_PG_SCHEMA") if "GIM_ETL_PG_SCHEMA" in os.environ else "gim"
    return PostgresTarget(dsn=dsn, db_schema=schema)


def _tenant_marts() -> TenantMarts:
    return TenantMarts(mart_dir=_setting("mart_dir"), staging_dir=_setting("staging_dir"))


defs = dg.Definitions(
    assets=[*ASSETS, postgres_mart],
    asset_checks=[*CHECKS, *WARN_CHECKS],
    jobs=[gim_etl_job, daily_rederive_job, *TENANT_JOBS],
    schedules=[daily_schedule],
    sensors=[landing_sensor, *TENANT_SENSORS],
    resources={"mart_db": _mart_resource(), "pg_target": _pg_target(), "marts": _tenant_marts()},
)
