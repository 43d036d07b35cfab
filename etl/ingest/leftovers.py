"""Staging directories of runs that died: `<mart>.staging/<run_id>/` is a run's own until it ends; a run killed
or failed (a full disk, say) leaves its directory behind, and the next run removes what is not its own.

A directory is still in use when the process that staged it is alive (its `owner` file holds host and pid) or when
the orchestrator says its run is not finished (a step of a Dagster run may stage in one process and load in
another). A directory without an owner file is not one of ours and is never removed.
"""

from __future__ import annotations

import os
import shutil
import socket
from collections.abc import Callable
from pathlib import Path

OWNER = "owner"


def mark_own(directory: Path) -> None:
    """Create a run's staging directory and record its owner (host and pid)."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / OWNER).write_text(f"{socket.gethostname()} {os.getpid()}\n")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, someone else's
        return True
    return True


def _in_use(directory: Path) -> bool:
    """Anything without an owner file is not a run's staging directory (GIM_ETL_STAGING_DIR may be shared):
    never touched."""
    try:
        host, pid = (directory / OWNER).read_text().split()
    except (OSError, ValueError):
        return True
    return host != socket.gethostname() or _alive(int(pid))


def clean_leftovers(base: Path, own: str, still_running: Callable[[str], bool] = lambda _run_id: False) -> list[Path]:
    """Remove the run directories under `base` but `own` that no live process or unfinished run holds; returns
    what was removed."""
    removed: list[Path] = []
    if not base.is_dir():
        return removed
    for child in sorted(base.iterdir()):
        if child.name == own or not child.is_dir() or _in_use(child) or still_running(child.name):
            continue
        shutil.rmtree(child, ignore_errors=True)
        removed.append(child)
    return removed
