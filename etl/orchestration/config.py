"""Dagster run config and resources: derived from the domain's option model and `etl.settings`, never restated."""

import json
import re
from pathlib import Path

import dagster as dg
from pydantic import Field, create_model

from etl.domain.options import GimOptions
from etl.settings import RuntimeSettings


class IngestConfig(dg.Config):
    """Which event files a run reads (a directory means every event file in it)."""

    events: list[str] = Field(
        default_factory=list, description="NDJSON (.jsonl/.ndjson, optionally .gz) or Parquet files/directories."
    )
    source: str = Field(
        "events",
        description="What the files hold: `events` (contract events) or `genesys-cloud` (Genesys Cloud "
        "conversation-detail records: query responses, job pages, conversations, NDJSON, .gz, directories).",
    )
    gc_names: str = Field("", description="Genesys Cloud only: JSON file of users' and queues' display names.")


class ConfigLogConfig(dg.Config):
    """Which configuration-log files a run reads (../shared/contract/config.md); none: the run loads no new
    configuration (the stored log still rebuilds the configuration dimensions)."""

    cfg: list[str] = Field(
        default_factory=list, description="Configuration-log files/directories (NDJSON, .gz, Parquet)."
    )


class _OptionsConfig(dg.Config):
    def to_options(self) -> GimOptions:
        values = self.model_dump()
        mapping = values.pop("user_data_json", "")
        if mapping:
            values["user_data"] = json.loads(mapping)
        return GimOptions.model_validate(values)

    @classmethod
    def from_options(cls, options: GimOptions) -> dict[str, object]:
        values: dict[str, object] = options.model_dump(include=set(_SCALAR_FIELDS))
        values["user_data_json"] = options.user_data.model_dump_json(by_alias=True)
        values["online_media_types"] = list(options.online_media_types)
        return values


#: Options Dagster's run config carries: the scalar ones (the [user-data] mapping travels as JSON) and the list of
#: online media types.
_SCALAR_FIELDS = {n: f for n, f in GimOptions.model_fields.items() if f.annotation in (bool, int, str)}
_ONLINE = GimOptions.model_fields["online_media_types"]


#: The ``[gim-etl-populate]`` options as Dagster run config: `GimOptions`' fields (underscored names, defaults,
#: descriptions), generated so that a new GIM option appears in Dagster's launchpad without a second definition.
GimOptionsConfig = create_model(
    "GimOptionsConfig",
    __base__=_OptionsConfig,
    __doc__="GIM's [gim-etl-populate] options (see etl.domain.options.GimOptions).",
    user_data_json=(str, Field("", description="The [user-data] mapping as JSON (empty: GIM's standard keys).")),
    online_media_types=(list[str], Field(list(_ONLINE.default), description=_ONLINE.description)),
    **{name: (f.annotation, Field(f.default, description=f.description)) for name, f in _SCALAR_FIELDS.items()},
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
