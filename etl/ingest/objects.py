"""Staged batches on object storage (`s3://…`), so that a batch staged on one machine is loaded by the tenant's
writer on another: the staged Parquet files go up under `<url>/<run_id>/`, with a commit marker written last, and
come back down to a local directory for the load (DuckDB here has no httpfs; fsspec/s3fs moves the bytes, and
Polars or pyarrow can scan the uploaded files in place).

A batch is visible only once its marker exists: an upload that died half-way is never loaded.
"""

from __future__ import annotations

from pathlib import Path

import fsspec

from etl.ingest.staging import StagedEvents

#: Written after every staged file is uploaded; a batch without it is incomplete.
COMMITTED = "_COMMITTED"

_FILES = ("events_path", "repeats_path", "quarantine_path")


def batch_url(base_url: str, run_id: str) -> str:
    return f"{base_url.rstrip('/')}/{run_id}"


def put_staged(staged: StagedEvents, base_url: str) -> StagedEvents:
    """Upload a locally staged batch to `<base_url>/<run_id>/`; returns it with the files' URLs."""
    url = batch_url(base_url, staged.run_id)
    fs, root = fsspec.core.url_to_fs(url)
    if fs.exists(f"{root}/{COMMITTED}"):  # staged again: invisible until the new files are all up
        fs.rm(f"{root}/{COMMITTED}")
    moved = {}
    for field in _FILES:
        local = Path(getattr(staged, field))
        fs.put_file(str(local), f"{root}/{local.name}")
        moved[field] = f"{url}/{local.name}"
    with fs.open(f"{root}/{COMMITTED}", "w") as marker:
        marker.write(staged.model_dump_json())
    return staged.model_copy(update=moved)


def get_staged(base_url: str, run_id: str, directory: str | Path) -> StagedEvents:
    """Download the committed batch `run_id` into `directory`; FileNotFoundError if it is not (yet) committed."""
    url = batch_url(base_url, run_id)
    fs, root = fsspec.core.url_to_fs(url)
    if not fs.exists(f"{root}/{COMMITTED}"):
        raise FileNotFoundError(f"no committed staged batch at {url} (no {COMMITTED} marker)")
    with fs.open(f"{root}/{COMMITTED}", "r") as marker:
        staged = StagedEvents.model_validate_json(marker.read())
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    local = {}
    for field in _FILES:
        name = Path(getattr(staged, field)).name
        fs.get_file(f"{root}/{name}", str(directory / name))
        local[field] = str(directory / name)
    return staged.model_copy(update=local)
