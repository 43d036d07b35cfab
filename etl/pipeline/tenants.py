"""One mart per tenant: where a tenant's mart lives, and a tenant's load and re-derivation, each by that tenant's
single writer. GIM deploys one Info Mart per tenant, and tenants share nothing, so different tenants' writers run
in parallel (Dagster: one run at a time per `gim/tenant` tag value, dagster_home/dagster.yaml).

A tenant's writer is never split by day: interactions span days, and a re-derivation reads every stored event of
each interaction it touches, so a day is a unit of re-derivation, not of writing.
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from etl.connections import connect
from etl.domain.options import GimOptions
from etl.ingest.staging import stage_events
from etl.ingest.tenants import DEFAULT_TENANT, check_tenant
from etl.pipeline.load import load_run, rederive_window
from etl.storage import serving
from etl.storage.audit import RunCounts
from etl.storage.writer import writer_lock

__all__ = ["DEFAULT_TENANT", "TenantRun", "load_tenant", "rederive_tenant", "tenant_mart_path"]

#: The mart's file name inside a tenant's directory.
MART_FILE = "gim_mart.duckdb"


def tenant_mart_path(mart_dir: str | Path, tenant: str) -> Path:
    """`<mart_dir>/<tenant>/gim_mart.duckdb` (the tenant name is checked to be a plain directory name)."""
    return Path(mart_dir) / check_tenant(tenant) / MART_FILE


@dataclass
class TenantRun:
    """What one tenant's run did: its audit counts and the serving copy it published."""

    tenant: str
    mart: Path
    counts: RunCounts
    served: Path


def load_tenant(
    paths: Sequence[str | Path],
    mart_dir: str | Path,
    tenant: str,
    options: GimOptions,
    run_id: str | None = None,
    staging_dir: str | Path | None = None,
    late_window_s: int = 86400,
) -> TenantRun:
    """Stage `tenant`'s events of `paths` (other tenants' lines are left out) and load them into its mart, then
    publish its serving copy; the tenant's writer lock is held from staging to the serving copy."""
    run_id = run_id or uuid.uuid4().hex
    mart = tenant_mart_path(mart_dir, tenant)
    mart.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(staging_dir) if staging_dir else mart.with_name(MART_FILE + ".staging")
    directory = staging / run_id
    try:
        with writer_lock(mart):
            staged = stage_events(paths, run_id, directory, tenant=tenant)
            con = connect(mart)
            try:
                counts = load_run(con, staged, options, late_window_s)
            finally:
                con.close()
            served = serving.publish(mart)
    finally:
        shutil.rmtree(directory, ignore_errors=True)
    return TenantRun(tenant, mart, counts, served)


def rederive_tenant(
    mart_dir: str | Path, tenant: str, start_ms: int, end_ms: int, options: GimOptions, run_id: str | None = None
) -> TenantRun:
    """Re-derive every interaction of `tenant` with an event in [start_ms, end_ms) (whole interactions, all their
    days), under the tenant's writer lock, then publish its serving copy."""
    run_id = run_id or uuid.uuid4().hex
    mart = tenant_mart_path(mart_dir, tenant)
    mart.parent.mkdir(parents=True, exist_ok=True)
    with writer_lock(mart):
        con = connect(mart)
        try:
            counts = rederive_window(con, run_id, start_ms, end_ms, options, kind="event-day")
        finally:
            con.close()
        served = serving.publish(mart)
    return TenantRun(tenant, mart, counts, served)
