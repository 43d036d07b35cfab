"""Dagster run config and resources: derived from the domain's option model and `etl.settings`, never restated."""

import re
from pathlib import Path

import dagster as dg
from pydantic import Field, create_model

from etl.domain.options import GimOptions
from etl.settings import RuntimeSettings


class IngestConfig(dg.Config):
    """Which event files a run reads (a directory means every event file in it)."""

    events: list[str] = Field(description="NDJSON (.jsonl/.ndjson, optionally .gz) or Parquet files/directories.")


class _OptionsConfig(dg.Config):
    def to_options(self) -> GimOptions:
        return GimOptions.model_validate(self.model_dump())

    @classmethod
    def from_options(cls, options: GimOptions) -> dict[str, bool]:
        return options.model_dump()


#: The ``[gim-etl-populate]`` options as Dagster run config: `GimOptions`' fields (underscored names, defaults,
#: descriptions), generated so that a new GIM option appears in Dagster's launchpad without a second definition.
GimOptionsConfig = create_model(
    "GimOptionsConfig",
    __base__=_OptionsConfig,
    __doc__="GIM's [gim-etl-populate] options (see etl.domain.options.GimOptions).",
    **{
        name: (f.annotation, Field(f.default, description=f.description)) for name, f in GimOptions.model_fields.items()
    },
)


def _described(field: str) -> str:
    return RuntimeSettings.model_fields[field].description or ""


class MartResource(dg.ConfigurableResource):
    """Where the mart lives. DuckDB allows one writer per file: only the `gim_mart` asset (pool `duckdb_writer`)
    opens it read-write. Defaults and descriptions are `etl.settings`' (environment variables ``GIM_ETL_*``)."""

    database: str = Field(description=_described("db"))
    staging_dir: str = Field("", description=_described("staging_dir"))
    late_arrival_window_hours: int = Field(
        RuntimeSettings.model_fields["late_arrival_window_hours"].default,
        description=_described("late_arrival_window_hours"),
    )
    serving_database: str = Field("", description=_described("serving_db"))

    def staging_path(self, run_id: str) -> Path:
        """`<mart>.staging/<run_id>`; glob characters of the mart's name are replaced, since the staged Parquet
        files are read by DuckDB, whose file readers expand globs (a mart named `x [1].duckdb` must work)."""
        if self.staging_dir:
            return Path(self.staging_dir) / run_id
        db = Path(self.database)
        return db.with_name(re.sub(r"[*?\[\]{}]", "_", db.name) + ".staging") / run_id
