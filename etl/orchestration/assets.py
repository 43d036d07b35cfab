"""The asset graph: raw events -> (one writer) mart tables. Wiring only: ingestion is `etl.ingest`, the load and
GIM's rules are `etl.pipeline` / `etl.domain`, the table groups come from schema/mart.yaml."""

import shutil
import time
from datetime import timedelta
from pathlib import Path

import dagster as dg
import polars as pl

from etl.connections import connect
from etl.ingest.config.staging import StagedConfig, stage_config
from etl.ingest.leftovers import clean_leftovers, mark_own
from etl.ingest.sources import stage_source
from etl.ingest.staging import StagedEvents
from etl.orchestration.config import ConfigLogConfig, GimOptionsConfig, IngestConfig, MartResource
from etl.pipeline.load import load_run, rederive_window
from etl.progress import phase
from etl.storage import serving
from etl.storage.ddl import load_schema, tables_of_kind
from etl.storage.serving import PUBLISH_FAILED, republish
from etl.storage.writer import writer_lock

#: The mart's tables that are assets: every kind but the loader's internal key map.
MART_TABLES = tables_of_kind("fact", "dimension", "operations", "staging")
_FACT_TABLES = frozenset(tables_of_kind("fact"))

#: What an ops manager may expect of the facts: a load (sensor, CLI) or the nightly re-derive (01:30 UTC) at
#: least daily; Dagster's freshness daemon marks them WARN after 26 h and FAIL after 48 h without one.
FACTS_FRESHNESS = dg.FreshnessPolicy.time_window(fail_window=timedelta(hours=48), warn_window=timedelta(hours=26))


@dg.asset(group_name="ingest", kinds={"polars", "parquet"})
def raw_events(context: dg.AssetExecutionContext, config: IngestConfig, mart_db: MartResource) -> StagedEvents:
    """Contract events read from NDJSON/Parquet, validated, de-duplicated within the batch, staged as Parquet.
    Bad input goes to the quarantine with file, line, field and reason; it never fails the run."""
    directory = mart_db.staging_path(context.run_id)
    for gone in clean_leftovers(directory.parent, context.run_id, _unfinished(context.instance)):
        context.log.info(f"removed the staging leftovers of a run that ended: {gone}")
    mark_own(directory)
    if not config.events:  # e.g. `dagster asset materialize --select '*'` without run config
        context.log.warning("no event files in this run's config (ops.raw_events.config.events): nothing new to load")
    try:
        staged = stage_source(config.source, config.events, context.run_id, directory, config.gc_names or None)
    except BaseException:  # a failed run leaves nothing behind (a full disk stays full otherwise)
        shutil.rmtree(directory, ignore_errors=True)
        raise
    for skipped in staged.files_skipped:
        context.log.warning(f"skipped {skipped}")
    _report_quarantine(context, staged.quarantine_path, "events")
    for note, n in sorted(staged.source_notes.items()):
        context.log.info(f"{config.source}: {n} x {note}")
    context.add_output_metadata({k: v for k, v in staged.model_dump().items() if isinstance(v, int)})
    return staged


def _report_quarantine(context: dg.AssetExecutionContext, path: str, what: str) -> None:
    """One log line with the count (the CLI's summary and the quarantine table list every line: logging each here
    too printed them twice), and the first 20 as a table in the asset's metadata for the UI."""
    rows = pl.read_parquet(path, n_rows=20, glob=False)
    if rows.is_empty():
        return
    total = pl.scan_parquet(path, glob=False).select(pl.len()).collect().item()
    context.log.warning(f"{total} {what} quarantined (file, line, field and reason: the quarantine table)")
    lines = [
        f"| {r['SOURCE_FILE']} | {r['SOURCE_LINE']} | {r['FIELD']} | {r['REASON']} |"
        for r in rows.iter_rows(named=True)
    ]
    table = "\n".join(["| file | line | field | reason |", "|---|---|---|---|", *lines])
    context.add_output_metadata({"quarantined": total, "quarantine_first_20": dg.MetadataValue.md(table)})


@dg.asset(group_name="ingest", kinds={"polars", "parquet"})
def raw_config(
    context: dg.AssetExecutionContext, config: ConfigLogConfig, mart_db: MartResource
) -> StagedConfig | None:
    """Configuration objects (config.md) read from NDJSON/Parquet, validated, de-duplicated, staged as Parquet;
    bad lines go to the quarantine with file, line, field and reason. None when the run reads no configuration."""
    if not config.cfg:
        return None
    staged = stage_config(config.cfg, context.run_id, mart_db.staging_path(context.run_id))
    _report_quarantine(context, staged.quarantine_path, "configuration lines")
    context.add_output_metadata({k: v for k, v in staged.model_dump().items() if isinstance(v, int)})
    return staged


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            ["mart", t],
            deps=[raw_events, raw_config],
            group_name="mart",
            kinds={"duckdb"},
            description=" ".join(load_schema().table(t).description.split()),
            freshness_policy=FACTS_FRESHNESS if t in _FACT_TABLES else None,
        )
        for t in MART_TABLES
    ],
    pool="duckdb_writer",
    can_subset=False,
)
def gim_mart(
    context: dg.AssetExecutionContext,
    raw_events: StagedEvents,
    raw_config: StagedConfig | None,
    config: GimOptionsConfig,
    mart_db: MartResource,
):
    """The single writer: appends the batch to STG_EVENTS, re-derives every interaction it touches with GIM's
    rules and replaces those facts under stable ids, in one transaction."""
    _require_staged(raw_events)
    try:
        with writer_lock(mart_db.database):
            con = connect(mart_db.database)
            try:
                window = mart_db.late_arrival_window_hours * 3600
                result = load_run(con, raw_events, config.to_options(), window, config=raw_config)
                counts = {t: con.execute(f"SELECT count(*) FROM {t}").fetchall()[0][0] for t in MART_TABLES}
            finally:
                con.close()
            served = _publish(mart_db, context.run_id)
    finally:
        shutil.rmtree(Path(raw_events.events_path).parent, ignore_errors=True)
    run_meta = {
        "events_read": raw_events.events_read,
        "events_loaded": result.events_loaded,
        "events_duplicate": result.events_duplicate,
        "events_quarantined": result.events_quarantined,
        "interactions_rederived": result.interactions_rederived,
    }
    context.log.info(f"run counts: {run_meta}; rows written: {result.rows}")
    now = time.time()
    for table in MART_TABLES:
        meta: dict[str, object] = {"dagster/row_count": counts[table], "last_updated": dg.MetadataValue.timestamp(now)}
        if table in result.rows:
            meta["rows_written_this_run"] = result.rows[table]
        if table == "CTL_AUDIT_LOG":
            meta.update(run_meta)
            meta["serving_file"] = str(served)
        yield dg.MaterializeResult(asset_key=["mart", table], metadata=meta)


def _require_staged(staged: StagedEvents) -> None:
    """A mart-only materialization reuses raw_events' output of an earlier run, whose staging files the load
    removed: fail saying so, instead of a FileNotFoundError deep in the load."""
    if not Path(staged.events_path).exists():
        raise dg.Failure(
            description=(
                f"the staged events of an earlier raw_events run are gone ({staged.events_path}): the mart is "
                "loaded from this run's staging only; materialize raw_events with the mart assets "
                "(select raw_events+, or the gim_etl_job)"
            ),
            allow_retries=False,
        )


def _publish(mart_db: MartResource, run_id: str) -> Path:
    """The serving copy after a committed load; if it fails, the run fails saying exactly what happened."""
    try:
        with phase("publish the serving copy"):
            return serving.publish(mart_db.database, mart_db.serving_database or None)
    except Exception as exc:
        raise dg.Failure(
            description=f"{PUBLISH_FAILED} (run {run_id}): {exc}; republish it with `{republish(mart_db.database)}`",
            metadata={"mart_committed": True, "serving_published": False},
        ) from exc


def _unfinished(instance: dg.DagsterInstance):
    """Runs this instance knows and that have not finished: their staging directories are still in use."""

    def still_running(run_id: str) -> bool:
        run = instance.get_run_by_id(run_id)
        return run is not None and not run.is_finished

    return still_running


#: Event-time days. Ingestion is file-driven (sensor, CLI); derivation can be replayed per day of event time.
DAILY = dg.DailyPartitionsDefinition(start_date="2026-01-01")

#: The facts a re-derivation replaces: reported as materializations of the mart's assets.
_REDERIVED = tables_of_kind("fact")


@dg.op(pool="duckdb_writer")
def facts_by_event_day(context: dg.OpExecutionContext, config: GimOptionsConfig, mart_db: MartResource):
    """Re-derive the facts of every interaction with an event on this day, from the stored events, under the
    options of this run (schedules re-run yesterday for late events; backfills replay a date range).

    An op of a partitioned job rather than a partitioned asset: the mart's assets are not partitioned (one mart,
    written by one writer), so `dagster asset materialize --select '*'` selects only unpartitioned assets; the
    tables this op rewrites are reported as materializations of those assets, tagged with the day."""
    window = context.partition_time_window
    with writer_lock(mart_db.database):
        con = connect(mart_db.database)
        try:
            result = rederive_window(
                con,
                context.run_id,
                int(window.start.timestamp() * 1000),
                int(window.end.timestamp() * 1000),
                config.to_options(),
                kind="event-day",
            )
        finally:
            con.close()
        served = _publish(mart_db, context.run_id)
    summary = {"event_day": context.partition_key, "interactions_rederived": result.interactions_rederived}
    context.log.info(f"re-derived {summary}; rows written: {result.rows}; serving copy {served}")
    for table in _REDERIVED if result.interactions_rederived else ():  # a day with no interaction changes nothing
        if table in result.rows:
            meta = {**summary, "rows_written_this_run": result.rows[table], "serving_file": str(served)}
            yield dg.AssetMaterialization(asset_key=["mart", table], metadata=meta)
    yield dg.Output(result.interactions_rederived)


#: The file-driven graph (ingest -> single-writer mart load) that `gim-etl run` materializes.
ASSETS = [raw_events, raw_config, gim_mart]
