"""Tenants as a partition dimension: one mart per tenant, one writer per tenant at a time, any number of tenants
in parallel. Wiring only: the tenant filter and the tenant's load are `etl.ingest.tenants` / `etl.pipeline.tenants`.

- `tenant_load_job` (partition: tenant) loads event files into the tenant's mart; files may hold other tenants'
  events, which the run leaves out.
- `tenant_rederive_job` (partitions: tenant x event-time day) re-derives the interactions of one tenant with an
  event on one day. A day is a unit of re-derivation and backfill, never of writing: interactions span days.

Every run carries the tag `gim/tenant=<tenant>`; dagster_home/dagster.yaml limits runs to one per tag value
(`tag_concurrency_limits`, `applyLimitPerUniqueValue`), so a backfill over tenants x days runs many tenants at
once and each tenant's runs one after the other.
"""

from typing import Any

import dagster as dg
from pydantic import Field

from etl.ingest.landing import scan_landing
from etl.ingest.tenants import tenants_in
from etl.orchestration.assets import DAILY
from etl.orchestration.config import GimOptionsConfig
from etl.pipeline.tenants import DEFAULT_TENANT, TenantRun, load_tenant, rederive_tenant, tenant_mart_path
from etl.settings import RuntimeSettings, runtime

#: The run tag of the tenant a run writes: the key of the one-writer-per-tenant limit.
TENANT_TAG = "gim/tenant"

#: Tenants are added at run time (the UI, `add_tenants`, or `tenant_landing_sensor` when a new tenant's files land).
TENANTS = dg.DynamicPartitionsDefinition(name="tenant")

#: Tenant x event-time day: the unit of a re-derive backfill.
TENANT_DAYS = dg.MultiPartitionsDefinition({"tenant": TENANTS, "day": DAILY})


class TenantMarts(dg.ConfigurableResource):
    """Where the tenants' marts live (`<mart_dir>/<tenant>/gim_mart.duckdb`) and how long events wait."""

    mart_dir: str = Field(description=RuntimeSettings.model_fields["mart_dir"].description or "")
    staging_dir: str = Field("", description="Where runs stage events (default: beside each tenant's mart).")
    late_arrival_window_hours: int = Field(RuntimeSettings.model_fields["late_arrival_window_hours"].default)


class TenantFiles(dg.Config):
    """The files a tenant's load reads (directories: every event file below); other tenants' lines are skipped."""

    events: list[str] = Field(default_factory=list, description="NDJSON/Parquet files or directories, or s3:// URLs.")


def tenant_of(key: str | dg.MultiPartitionKey) -> str:
    """The tenant of a `tenant` or `tenant x day` partition key."""
    if isinstance(key, dg.MultiPartitionKey):
        return key.keys_by_dimension["tenant"]
    return TENANT_DAYS.get_partition_key_from_str(key).keys_by_dimension["tenant"] if "|" in key else key


def _tags(key: str) -> dict[str, str]:
    return {TENANT_TAG: tenant_of(key)}


def _no_config(key: str) -> dict[str, Any]:
    return {}


def _report(context: dg.OpExecutionContext, run: TenantRun) -> None:
    c = run.counts
    context.log.info(
        f"tenant {run.tenant}: {c.events_read} events read, {c.events_loaded} loaded, {c.interactions_rederived}"
        f" interactions re-derived; mart {run.mart}, serving copy {run.served}"
    )


@dg.op
def load_tenant_files(context: dg.OpExecutionContext, config: TenantFiles, marts: TenantMarts) -> int:
    """Load this run's files into the partition's tenant mart (default options; the tenant's writer)."""
    tenant = tenant_of(context.partition_key)
    run = load_tenant(
        config.events,
        marts.mart_dir,
        tenant,
        GimOptionsConfig().to_options(),
        run_id=context.run_id,
        staging_dir=marts.staging_dir or None,
        late_window_s=marts.late_arrival_window_hours * 3600,
    )
    _report(context, run)
    return run.counts.events_loaded


@dg.op
def rederive_tenant_day(context: dg.OpExecutionContext, config: GimOptionsConfig, marts: TenantMarts) -> int:
    """Re-derive the interactions of the partition's tenant with an event on the partition's day."""
    key = context.partition_key
    tenant = tenant_of(key)
    day = DAILY.time_window_for_partition_key(TENANT_DAYS.get_partition_key_from_str(key).keys_by_dimension["day"])
    run = rederive_tenant(
        marts.mart_dir,
        tenant,
        int(day.start.timestamp() * 1000),
        int(day.end.timestamp() * 1000),
        config.to_options(),
        run_id=context.run_id,
    )
    _report(context, run)
    return run.counts.interactions_rederived


@dg.job(
    partitions_def=TENANTS,
    config=dg.PartitionedConfig(TENANTS, run_config_for_partition_key_fn=_no_config, tags_for_partition_key_fn=_tags),
    tags={"gim-etl/entry": "tenant-load"},
)
def tenant_load_job() -> None:
    """Load event files into one tenant's mart (run config: ops.load_tenant_files.config.events)."""
    load_tenant_files()


@dg.job(
    partitions_def=TENANT_DAYS,
    config=dg.PartitionedConfig(
        TENANT_DAYS, run_config_for_partition_key_fn=_no_config, tags_for_partition_key_fn=_tags
    ),
    tags={"gim-etl/entry": "tenant-rederive"},
)
def tenant_rederive_job() -> None:
    """Re-derive one tenant's event-time day; a backfill over tenants x days runs tenants in parallel."""
    rederive_tenant_day()


@dg.sensor(job=tenant_load_job, minimum_interval_seconds=60, default_status=dg.DefaultSensorStatus.STOPPED)
def tenant_landing_sensor(context: dg.SensorEvaluationContext) -> dg.SensorResult | dg.SkipReason:
    """New or changed files in the tenant landing directory (cursor: name + mtime): every tenant they hold gets a
    `tenant_load_job` run over them (its run leaves the other tenants' lines out), and a tenant seen for the first
    time is added to the `tenant` partitions first."""
    directory = runtime().tenant_landing_dir
    files, cursor = scan_landing(directory, context.cursor, min_age_s=10)
    if not files:
        return dg.SkipReason(f"no new event files in {directory}")
    try:
        tenants = sorted(tenants_in(files))
    except ValueError as exc:  # a tenant name that cannot name a directory: nothing starts, the files wait
        return dg.SkipReason(f"{exc}; fix the files in {directory}")
    batch = "|".join(sorted(f"{p.name}:{p.stat().st_mtime_ns}" for p in files))
    known = set(context.instance.get_dynamic_partitions(TENANTS.name))
    config = {"ops": {"load_tenant_files": {"config": {"events": [str(p) for p in files]}}}}
    requests = [dg.RunRequest(run_key=f"{t}|{batch}", partition_key=t, run_config=config) for t in tenants]
    new = [t for t in tenants if t not in known]
    return dg.SensorResult(
        run_requests=requests,
        dynamic_partitions_requests=[TENANTS.build_add_request(new)] if new else [],
        cursor=cursor,
    )


def add_tenants(instance: dg.DagsterInstance, tenants: list[str]) -> None:
    """Register tenants as partitions of `TENANTS` (names are checked: they become directory names)."""
    for t in tenants:
        tenant_mart_path(".", t)
    instance.add_dynamic_partitions(TENANTS.name, tenants)  # type: ignore[arg-type]


JOBS = [tenant_load_job, tenant_rederive_job]
SENSORS = [tenant_landing_sensor]
__all__ = [
    "DEFAULT_TENANT",
    "JOBS",
    "SENSORS",
    "TENANTS",
    "TENANT_DAYS",
    "TENANT_TAG",
    "TenantMarts",
    "add_tenants",
    "tenant_landing_sensor",
]
