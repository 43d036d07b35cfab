"""Dagster run config and resources: thin, typed wrappers over the domain's option model and paths."""

from pathlib import Path

import dagster as dg
from pydantic import Field

from etl.domain.options import GimOptions

_HELP = {name: f.description for name, f in GimOptions.model_fields.items()}


class IngestConfig(dg.Config):
    """Which event files a run reads (a directory means every event file in it)."""

    events: list[str] = Field(description="NDJSON (.jsonl/.ndjson, optionally .gz) or Parquet files/directories.")


class GimOptionsConfig(dg.Config):
    """The ``[gim-etl-populate]`` options as Dagster run config; same names (with underscores) and defaults."""

    populate_workbin_as_hold: bool = Field(False, description=_HELP["populate_workbin_as_hold"])
    populate_mm_ixnqueue_facts: bool = Field(False, description=_HELP["populate_mm_ixnqueue_facts"])
    populate_mm_workbin_facts: bool = Field(False, description=_HELP["populate_mm_workbin_facts"])

    def to_options(self) -> GimOptions:
        return GimOptions.model_validate(self.model_dump())

    @classmethod
    def from_options(cls, options: GimOptions) -> dict[str, bool]:
        return options.model_dump()


class MartResource(dg.ConfigurableResource):
    """Where the mart lives. DuckDB allows one writer per file: only the `gim_mart` asset (pool `duckdb_writer`)
    opens it read-write."""

    database: str = Field(description="Path of the DuckDB mart file.")
    staging_dir: str = Field("", description="Where runs stage validated events (default: <database>.staging).")
    late_arrival_window_hours: int = Field(
        24,
        description="How long events of an interaction never submitted wait for their submission before "
        "they are quarantined, counted back from the newest event seen.",
    )

    serving_database: str = Field(
        "", description="Read-only copy for BI tools, republished after each load (default: <mart>.serving.duckdb)."
    )

    def staging_path(self, run_id: str) -> Path:
        base = Path(self.staging_dir) if self.staging_dir else Path(f"{self.database}.staging")
        return base / run_id
