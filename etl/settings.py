"""Process-level settings, read from the environment (``GIM_ETL_*``) with pydantic-settings: where things live,
how long events wait, and how fast / in how much memory a run goes.

None of these change which facts a run produces (tests prove the mart is the same whatever the tuning values);
the options that change facts are `etl.domain.options.GimOptions`. Dagster reads the same variables through
`dg.EnvVar` (`etl/definitions.py`), so the UI shows where a resource's value came from.
"""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

ENV_PREFIX = "GIM_ETL_"


class RuntimeSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="ignore")

    # -- paths
    db: str = Field("out/gim_mart.duckdb", description="The DuckDB mart file the Dagster code location writes.")
    serving_db: str = Field("", description="The read-only copy for BI tools (default: <mart>.serving.duckdb).")
    staging_dir: str = Field("", description="Where runs stage validated events (default: <mart>.staging).")
    mart_dir: str = Field(
        "out/tenants", description="Where the per-tenant marts live: <mart_dir>/<tenant>/gim_mart.duckdb."
    )
    landing_dir: str = Field("landing", description="The directory `landing_sensor` watches for new event files.")
    tenant_landing_dir: str = Field(
        "landing-tenants",
        description="The directory `tenant_landing_sensor` watches: files of any tenants, each event's `tenant` "
        "picks its mart; a tenant seen for the first time is added as a partition.",
    )
    # -- windows
    late_arrival_window_hours: int = Field(
        24,
        ge=0,
        description="How long events of an interaction never submitted wait for their submission before they are "
        "quarantined, on the loader's clock: counted from when the interaction's newest event arrived.",
    )
    max_clock_skew_hours: int = Field(
        24,
        ge=0,
        description="Events dated further than this ahead of the loader's clock are quarantined (a source clock "
        "far ahead would otherwise date facts in the future).",
    )
    writer_wait_seconds: float = Field(
        0,
        ge=0,
        description="How long a run waits for another run writing the same mart to finish before it refuses.",
    )
    # -- speed and memory
    workers: int | None = Field(
        None, ge=1, description="Processes that apply the rules to big inputs (default: the CPUs this process may use)."
    )
    duckdb_memory_limit: str = Field(
        "1GB", description="DuckDB's memory_limit for every connection; beyond it DuckDB spills to disk."
    )
    derive_batch_events: int = Field(
        500_000,
        ge=1,
        description="Stored events re-derived at a time inside a load: bounds the Python objects alive at once.",
    )


def runtime() -> RuntimeSettings:
    """The current settings (read anew each call, so a changed environment takes effect)."""
    return RuntimeSettings()


def env_name(field: str) -> str:
    """The environment variable behind a settings field: ``db`` -> ``GIM_ETL_DB``."""
    if field not in RuntimeSettings.model_fields:
        raise KeyError(field)
    return f"{ENV_PREFIX}{field.upper()}"


def duckdb_memory_limit() -> str:
    return runtime().duckdb_memory_limit
