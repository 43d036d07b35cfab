"""Which reader stages a run's input: contract event files (`events`, the default) or Genesys Cloud
conversation-detail records (`genesys-cloud`, `etl.ingest.genesys_cloud`). Both hand the load one
`StagedEvents`."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from etl.ingest.staging import StagedEvents, stage_events

SOURCES = ("events", "genesys-cloud")


def stage_source(
    source: str, paths: Sequence[str | Path], run_id: str, directory: str | Path, names_file: str | None = None
) -> StagedEvents:
    """Stage `paths` with the reader of `source`; `names_file`: Genesys Cloud users/queues names (JSON)."""
    if source == "events":
        return stage_events(paths, run_id, directory)
    if source == "genesys-cloud":
        from etl.ingest.genesys_cloud.stage import load_names, stage_conversations

        return stage_conversations(paths, run_id, directory, load_names(names_file))
    raise ValueError(f"unknown source {source!r} (one of: {', '.join(SOURCES)})")
