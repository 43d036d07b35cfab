"""The configuration log's part of a load (../shared/contract/config.md), inside the load's transaction: append
the run's staged configuration versions (before the events, so that this run's facts see them), then, after the
facts, rebuild the configuration dimensions and set the IRFs' configuration keys, and record the CFG_* counts in
the run's CTL_AUDIT_LOG row."""

from __future__ import annotations

import duckdb
import polars as pl

from etl.ingest.config.staging import StagedConfig
from etl.storage import config_keys, config_store
from etl.storage.config_dims import rebuild
from etl.storage.config_store import ConfigCounts


def append(con: duckdb.DuckDBPyConnection, staged: StagedConfig | None, run_id: str) -> ConfigCounts:
    """Store the run's configuration versions; counts for the audit row."""
    if staged is None:
        return ConfigCounts()
    inserted, stored_dupes = config_store.append_versions(
        con, pl.read_parquet(staged.objects_path), pl.read_parquet(staged.quarantine_path), run_id
    )
    conflicts = staged.objects_valid - inserted - stored_dupes
    return ConfigCounts(
        files_read=staged.files_read,
        read=staged.objects_read,
        loaded=inserted,
        duplicate=staged.duplicates + stored_dupes,
        quarantined=staged.quarantined + conflicts,
    )


def finish(con: duckdb.DuckDBPyConnection, run_id: str, audit_key: int, counts: ConfigCounts) -> None:
    """Rebuild the configuration dimensions, key this run's IRFs, write the CFG_* audit counts."""
    targets = config_keys.invitation_targets(con)
    dims = rebuild(con, config_store.read_versions(con), audit_key, config_keys.requested_skill_names(targets))
    target_keys = config_keys.write_targets(con, targets, dims.skill_keys, audit_key)
    config_keys.set_fact_keys(con, audit_key, dims.combinations, target_keys, fill_unknown=counts.loaded > 0)
    con.execute(
        "UPDATE CTL_AUDIT_LOG SET CFG_FILES_READ = ?, CFG_OBJECTS_READ = ?, CFG_OBJECTS_LOADED = ?,"
        " CFG_OBJECTS_DUPLICATE = ?, CFG_OBJECTS_QUARANTINED = ? WHERE RUN_ID = ?",
        [counts.files_read, counts.read, counts.loaded, counts.duplicate, counts.quarantined, run_id],
    )
