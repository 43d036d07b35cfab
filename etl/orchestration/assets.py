"""The asset graph: raw events -> (one writer) mart tables. Wiring only; the rules live in etl.domain."""

import shutil
import warnings
from pathlib import Path

import dagster as dg
import polars as pl

from etl.ingest.staging import StagedEvents, batch_query, stage_events
from etl.orchestration.config import GimOptionsConfig, IngestConfig, MartResource
from etl.storage import mart, serving
from etl.storage.mart import FACT_TABLES
from etl.transform.facts import derive_facts

DIMENSION_TABLES = ("TECHNICAL_DESCRIPTOR", "RESOURCE_", "MEDIA_TYPE", "INTERACTION_TYPE", "DATE_TIME", "TENANT")
OPERATIONS_TABLES = ("STG_EVENTS", "STG_EVENT_QUARANTINE", "CTL_AUDIT_LOG")
MART_TABLES = FACT_TABLES + DIMENSION_TABLES + OPERATIONS_TABLES


@dg.asset(group_name="ingest", kinds={"polars", "parquet"})
def raw_events(context: dg.AssetExecutionContext, config: IngestConfig, mart_db: MartResource) -> StagedEvents:
    """Contract events read from NDJSON/Parquet, validated, de-duplicated within the batch, staged as Parquet.
    Bad input goes to the quarantine with file, line, field and reason; it never fails the run."""
    staged = stage_events(config.events, context.run_id, mart_db.staging_path(context.run_id))
    quarantine = pl.read_parquet(staged.quarantine_path)
    for row in quarantine.head(20).iter_rows(named=True):
        context.log.warning(f"quarantined {row['SOURCE_FILE']}:{row['SOURCE_LINE']} [{row['FIELD']}] {row['REASON']}")
    context.add_output_metadata({k: v for k, v in staged.model_dump().items() if isinstance(v, int)})
    return staged


@dg.multi_asset(
    specs=[dg.AssetSpec(["mart", t], deps=[raw_events], group_name="mart", kinds={"duckdb"}) for t in MART_TABLES],
    pool="duckdb_writer",
    can_subset=False,
)
def gim_mart(
    context: dg.AssetExecutionContext, raw_events: StagedEvents, config: GimOptionsConfig, mart_db: MartResource
):
    """The single writer: appends the batch to STG_EVENTS, re-derives every interaction it touches with GIM's
    rules and replaces those facts under stable ids, in one transaction."""
    quarantine = pl.read_parquet(raw_events.quarantine_path)
    con = mart.connect(mart_db.database)
    try:
        result = mart.load_run(
            con,
            run_id=raw_events.run_id,
            events=batch_query(raw_events.events_path, raw_events.repeats_path),
            quarantine=quarantine,
            options=config.to_options(),
            derive=derive_facts,
            started=raw_events.started,
            files_read=raw_events.files_read,
            events_read=raw_events.events_read,
            batch_duplicates=raw_events.duplicates,
            late_window_s=mart_db.late_arrival_window_hours * 3600,
        )
        counts = {t: con.execute(f"SELECT count(*) FROM {t}").fetchall()[0][0] for t in MART_TABLES}
    finally:
        con.close()
    served = serving.publish(mart_db.database, mart_db.serving_database or None)
    shutil.rmtree(Path(raw_events.events_path).parent, ignore_errors=True)
    run_meta = {
        "events_read": raw_events.events_read,
        "events_loaded": result.events_loaded,
        "events_duplicate": result.events_duplicate,
        "events_quarantined": result.events_quarantined,
        "interactions_rederived": result.interactions_rederived,
    }
    context.log.info(f"run counts: {run_meta}; rows written: {result.rows}")
    for table in MART_TABLES:
        meta: dict[str, object] = {"dagster/row_count": counts[table]}
        if table in result.rows:
            meta["rows_written_this_run"] = result.rows[table]
        if table == "CTL_AUDIT_LOG":
            meta.update(run_meta)
            meta["serving_file"] = str(served)
        yield dg.MaterializeResult(asset_key=["mart", table], metadata=meta)


#: Event-time days. Ingestion is file-driven (sensor, CLI); derivation can be replayed per day of event time.
DAILY = dg.DailyPartitionsDefinition(start_date="2026-01-01")


with warnings.catch_warnings():  # backfill_policy is beta in the pinned Dagster: no warning on every `gim-etl run`
    warnings.simplefilter("ignore", dg.BetaWarning)
    _daily_rederive = dg.asset(
        partitions_def=DAILY,
        deps=[dg.AssetKey(["mart", "STG_EVENTS"])],
        group_name="mart",
        kinds={"duckdb"},
        pool="duckdb_writer",
        backfill_policy=dg.BackfillPolicy.multi_run(max_partitions_per_run=1),
    )


@_daily_rederive
def facts_by_event_day(
    context: dg.AssetExecutionContext, config: GimOptionsConfig, mart_db: MartResource
) -> dg.MaterializeResult:
    """Re-derive the facts of every interaction with an event on this day, from the stored events, under the
    options of this run (schedules re-run yesterday for late events; backfills replay a date range)."""
    window = context.partition_time_window
    con = mart.connect(mart_db.database)
    try:
        result = mart.rederive_window(
            con,
            run_id=context.run_id,
            start_ms=int(window.start.timestamp() * 1000),
            end_ms=int(window.end.timestamp() * 1000),
            options=config.to_options(),
            derive=derive_facts,
        )
    finally:
        con.close()
    served = serving.publish(mart_db.database, mart_db.serving_database or None)
    return dg.MaterializeResult(
        metadata={
            "interactions_rederived": result.interactions_rederived,
            **{f"{k}_rows": v for k, v in result.rows.items()},
            "serving_file": str(served),
        }
    )
