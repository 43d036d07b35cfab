"""Argument checks before a run stages anything: each operator error becomes one clear line (exit 2 in the CLI)
instead of a traceback after the whole input was read."""

from __future__ import annotations

import stat
from collections.abc import Sequence
from pathlib import Path

import duckdb
from pydantic import ValidationError

from etl.settings import ENV_PREFIX, RuntimeSettings


class BadArguments(ValueError):
    """An operator error, said in one line."""


def check_settings() -> RuntimeSettings:
    """The `GIM_ETL_*` settings, or one line naming the variable whose value is wrong and why. (Names the settings
    do not know are left alone: tests and tools use the prefix for variables of their own.)"""
    try:
        settings = RuntimeSettings()
    except ValidationError as exc:
        first = exc.errors()[0]
        name = f"{ENV_PREFIX}{str(first['loc'][0]).upper()}" if first["loc"] else ENV_PREFIX + "*"
        raise BadArguments(f"{name}={first.get('input')!r}: {first['msg']}") from None
    if any(c in settings.staging_dir for c in "*?[]{}"):  # DuckDB's Parquet reader would expand them
        raise BadArguments(f"GIM_ETL_STAGING_DIR={settings.staging_dir!r}: must not contain * ? [ ] {{ }}")
    return settings


def check_run_args(events: Sequence[str], db: str, config: Path | None) -> None:
    """Inputs exist and are files or directories (not FIFOs or devices), the config is a file, and the mart path
    can be a DuckDB file nobody else has open for writing."""
    check_settings()
    for raw in events:
        p = Path(raw)
        if not p.exists():
            raise BadArguments(f"no such event file or directory: {raw}")
        if not p.is_dir() and not stat.S_ISREG(p.stat().st_mode):
            raise BadArguments(f"event input {raw} is not a regular file or a directory (a FIFO or device?)")
    if config is not None:
        if not config.exists():
            raise BadArguments(f"no such config file: {config}")
        if not config.is_file():
            raise BadArguments(f"--config {config} is not a regular file")
    check_db(db)


def check_db(db: str, must_exist: bool = False) -> None:
    p = Path(db)
    if any(c in str(p.absolute().parent) for c in "*?[]{}"):  # the staged files beside it are read by DuckDB
        raise BadArguments(f"--db {db}: its directory must not contain * ? [ ] {{ }} (DuckDB would expand them)")
    if p.is_dir():
        raise BadArguments(f"--db {db} is a directory; give the mart's file name, e.g. {p / 'gim_mart.duckdb'}")
    if p.exists() and not p.is_file():
        raise BadArguments(f"--db {db} is not a regular file")
    if not p.exists():
        if must_exist:
            raise BadArguments(f"no such mart file: {db}")
        parent = next((a for a in p.absolute().parents if a.exists()), None)
        if parent is not None and not parent.is_dir():
            raise BadArguments(f"--db {db}: {parent} is not a directory")
        return
    try:
        duckdb.connect(db).close()
    except duckdb.IOException as exc:
        text = str(exc).splitlines()[0]
        if "lock" in text.lower():
            raise BadArguments(f"mart {db} is open for writing by another process: {text}") from None
        raise BadArguments(f"mart {db} cannot be opened: {text}") from None
    except duckdb.Error as exc:
        raise BadArguments(f"mart {db} cannot be opened: {str(exc).splitlines()[0]}") from None
