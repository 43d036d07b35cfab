"""Blocking asset checks on the mart: wiring over etl.storage.quality."""

from collections.abc import Callable

import dagster as dg
import duckdb

from etl.connections import connect
from etl.orchestration.config import MartResource
from etl.storage import quality


def _check(
    con_fn: Callable[[duckdb.DuckDBPyConnection], quality.Finding], mart_db: MartResource
) -> dg.AssetCheckResult:
    con = connect(mart_db.database, read_only=True)
    try:
        finding = con_fn(con)
    finally:
        con.close()
    return dg.AssetCheckResult(
        passed=finding.passed, metadata={"detail": finding.description, "failures": finding.failures}
    )


@dg.asset_check(asset=dg.AssetKey(["mart", "CTL_AUDIT_LOG"]), blocking=True)
def input_counts_add_up(mart_db: MartResource) -> dg.AssetCheckResult:
    """read = loaded + duplicates + conflicts + quarantined, for every run in CTL_AUDIT_LOG."""
    return _check(quality.counts_add_up, mart_db)


@dg.asset_check(asset=dg.AssetKey(["mart", "MEDIATION_SEGMENT_FACT"]), blocking=True)
def references_resolve(mart_db: MartResource) -> dg.AssetCheckResult:
    """Every MSF target and every dimension key resolves."""
    return _check(quality.references_resolve, mart_db)


@dg.asset_check(asset=dg.AssetKey(["mart", "INTERACTION_RESOURCE_FACT"]), blocking=True)
def descriptors_are_valid(mart_db: MartResource) -> dg.AssetCheckResult:
    """Descriptors are valid GIM combinations for their fact, one anchor per interaction."""
    return _check(quality.descriptors_valid, mart_db)


@dg.asset_check(asset=dg.AssetKey(["mart", "STG_CFG_OBJECTS"]), blocking=True)
def config_counts_add_up(mart_db: MartResource) -> dg.AssetCheckResult:
    """Configuration lines read = loaded + duplicates + quarantined, for every run (config.md)."""
    return _check(quality.config_counts_add_up, mart_db)


CHECKS = [input_counts_add_up, references_resolve, descriptors_are_valid, config_counts_add_up]


def _warn(
    finding_fn: Callable[[duckdb.DuckDBPyConnection], quality.Finding], mart_db: MartResource
) -> dg.AssetCheckResult:
    result = _check(finding_fn, mart_db)
    return dg.AssetCheckResult(passed=result.passed, metadata=result.metadata, severity=dg.AssetCheckSeverity.WARN)


@dg.asset_check(asset=dg.AssetKey(["mart", "STG_EVENT_QUARANTINE"]))
def quarantine_rate_is_low(mart_db: MartResource) -> dg.AssetCheckResult:
    """Warn when more than 1 % of the latest run's input was quarantined."""
    return _warn(quality.quarantine_rate, mart_db)


@dg.asset_check(asset=dg.AssetKey(["mart", "STG_EVENTS"]))
def events_are_fresh(mart_db: MartResource) -> dg.AssetCheckResult:
    """Warn when the newest stored event is more than 26 h old."""
    return _warn(quality.freshness, mart_db)


WARN_CHECKS = [quarantine_rate_is_low, events_are_fresh]
