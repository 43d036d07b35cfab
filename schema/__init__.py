"""The mart's schema as data: `mart.yaml` is the one source of truth for every table the pipeline writes.

DDL for DuckDB and the other supported databases is rendered from it by `etl.storage.ddl`; the rendered files
under `generated/` are checked in so that reviewers can diff schema changes as SQL.
"""

from pathlib import Path

#: Directory holding `mart.yaml` and the `generated/` DDL files (shipped as package data).
SCHEMA_DIR: Path = Path(__file__).parent
