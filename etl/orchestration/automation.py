"""Schedule and sensor: when runs start. Wiring only; the cursor logic lives in etl.ingest.landing."""

import dagster as dg

from etl.ingest.landing import scan_landing, split_config
from etl.orchestration.assets import DAILY, facts_by_event_day
from etl.settings import env_name, runtime

#: Where new event files land; the sensor starts one run per batch of new or changed files.
LANDING_DIR_ENV = env_name("landing_dir")

gim_etl_job = dg.define_asset_job("gim_etl_job", selection=dg.AssetSelection.all())


@dg.job(partitions_def=DAILY, tags={"gim-etl/entry": "rederive"})
def daily_rederive_job() -> None:
    """Re-derive one event-time day per run (a backfill over a date range runs one run per day, one writer)."""
    facts_by_event_day()


#: Every night at 01:30 UTC, yesterday's event-time partition is re-derived (late events of the day land).
daily_schedule = dg.build_schedule_from_partitioned_job(daily_rederive_job, hour_of_day=1, minute_of_hour=30)


@dg.sensor(job=gim_etl_job, minimum_interval_seconds=60, default_status=dg.DefaultSensorStatus.STOPPED)
def landing_sensor(context: dg.SensorEvaluationContext) -> dg.SensorResult | dg.SkipReason:
    """Start a run for event files that are new or changed in the landing directory (cursor: name + mtime);
    files under its `cfg/` subdirectory are configuration logs."""
    directory = runtime().landing_dir
    files, cursor = scan_landing(directory, context.cursor, min_age_s=10)
    if not files:
        return dg.SkipReason(f"no new event files in {directory}")
    run_key = "|".join(sorted(f"{p.name}:{p.stat().st_mtime_ns}" for p in files))
    events, cfg = split_config(files, directory)  # configuration logs land in cfg/ (config.md)
    ops = {"raw_events": {"config": {"events": [str(p) for p in events]}}}
    if cfg:
        ops["raw_config"] = {"config": {"cfg": [str(p) for p in cfg]}}
    request = dg.RunRequest(run_key=run_key, run_config={"ops": ops})
    return dg.SensorResult(run_requests=[request], cursor=cursor)
