"""The whole pipeline run in process, as Dagster would run it: what `gim-etl run` calls."""

from __future__ import annotations

import os
from collections.abc import Sequence

import dagster as dg

from etl.domain.options import GimOptions
from etl.orchestration.assets import ASSETS
from etl.orchestration.checks import CHECKS, WARN_CHECKS
from etl.orchestration.config import GimOptionsConfig, MartResource
from etl.orchestration.publish import PostgresTarget, postgres_mart
from etl.settings import runtime


def _mart(db: str) -> MartResource:
    """The mart resource of a CLI run: `db`, and the `GIM_ETL_*` settings for the rest."""
    settings = runtime()
    return MartResource(
        database=str(db),
        staging_dir=settings.staging_dir,
        serving_database=settings.serving_db,
        late_arrival_window_hours=settings.late_arrival_window_hours,
    )


def run_pipeline(
    events: Sequence[str],
    db: str,
    options: GimOptions,
    log_level: str = "WARNING",
    cfg: Sequence[str] = (),
    publish: PostgresTarget | None = None,
    source: str = "events",
    gc_names: str | None = None,
) -> dg.ExecuteInProcessResult:
    """Materialize the asset graph (ingest -> mart -> checks, and the PostgreSQL publish when `publish` is given)
    in process; a run of the Dagster instance of $DAGSTER_HOME when it is set, else of an ephemeral one."""
    run_config = {
        "ops": {
            "raw_events": {
                "config": {"events": [str(e) for e in events], "source": source, "gc_names": gc_names or ""}
            },
            "raw_config": {"config": {"cfg": [str(c) for c in cfg]}},
            "gim_mart": {"config": GimOptionsConfig.from_options(options)},
        },
        "loggers": {"console": {"config": {"log_level": log_level}}},
    }
    instance = dg.DagsterInstance.get() if os.environ.get("DAGSTER_HOME") else dg.DagsterInstance.ephemeral()
    resources: dict[str, object] = {"mart_db": _mart(db)}
    assets = [*ASSETS, *CHECKS, *WARN_CHECKS]
    if publish is not None and publish.dsn:
        assets.append(postgres_mart)
        resources["pg_target"] = publish
    with instance:
        return dg.materialize(
            assets,
            run_config=run_config,
            resources=resources,
            instance=instance,
            raise_on_error=False,
            tags={"gim-etl/entry": "cli"},
        )
