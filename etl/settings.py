"""Process-level tuning, read from the environment (``GIM_ETL_*``) with pydantic-settings.

These change how fast and in how much memory a run goes, never which facts it produces (tests prove the mart is
the same whatever the values); the options that change facts are `etl.domain.options.GimOptions`.
"""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class RuntimeSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="GIM_ETL_", extra="ignore")

    workers: int | None = Field(
        None, ge=1, description="Processes that apply the rules to big inputs (default: the CPUs this process may use)."
    )
    duckdb_memory_limit: str = Field(
        "1GB", description="DuckDB's memory_limit for ingest and mart connections; beyond it DuckDB spills to disk."
    )
    derive_batch_events: int = Field(
        500_000,
        ge=1,
        description="Stored events re-derived at a time inside a load: bounds the Python objects alive at once.",
    )


def runtime() -> RuntimeSettings:
    """The current settings (read anew each call, so a changed environment takes effect)."""
    return RuntimeSettings()


def duckdb_memory_limit() -> str:
    return runtime().duckdb_memory_limit
