"""New-file detection for a landing directory: the sensor's cursor logic, free of Dagster."""

from __future__ import annotations

import json
from pathlib import Path

from etl.ingest.files import discover_files


def scan_landing(directory: str | Path, cursor: str | None, min_age_s: float = 0.0) -> tuple[list[Path], str]:
    """Files that are new or changed since `cursor` (a JSON map of file name -> mtime_ns), and the next cursor.

    Keyed on name *and* mtime, so a file rewritten in place is read again (its events are de-duplicated by
    event_id), while an unchanged file is never processed twice. Files modified less than `min_age_s` ago
    are left for the next tick: a writer may still be appending to them."""
    import time

    now_ns = time.time_ns()
    seen: dict[str, int] = json.loads(cursor) if cursor else {}
    root = Path(directory)
    if not root.is_dir():
        return [], json.dumps(seen, sort_keys=True)
    fresh: list[Path] = []
    for path in discover_files([root]):
        name, mtime = str(path.relative_to(root)), path.stat().st_mtime_ns
        if now_ns - mtime < min_age_s * 1e9:
            continue
        if seen.get(name) != mtime:
            fresh.append(path)
            seen[name] = mtime
    return fresh, json.dumps(seen, sort_keys=True)


#: Files under this subdirectory of the landing directory are configuration logs (config.md), not events.
CONFIG_SUBDIR = "cfg"


def split_config(files: list[Path], directory: str | Path) -> tuple[list[Path], list[Path]]:
    """(event files, configuration-log files) of a landing batch: configuration logs land in `cfg/`."""
    root = Path(directory)
    cfg = [p for p in files if p.relative_to(root).parts[0] == CONFIG_SUBDIR]
    return [p for p in files if p not in cfg], cfg
