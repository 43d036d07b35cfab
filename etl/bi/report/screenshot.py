"""The report as a picture: headless Chromium renders the HTML file and saves a PNG (the README's docs/report.png).

    python -m etl.bi.report.screenshot --db out/gim_mart.duckdb --out docs/report.png [--from DAY --to DAY]

The browser test (tests/test_bi_report.py) uses the same `screenshot`, so the picture is what the test checks.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path

from rich.console import Console

from etl.bi.report.page import write_report
from etl.bi.report.period import Period

WINDOW = (1200, 1600)


def chromium() -> str | None:
    """The Chromium (or Chrome) binary on this machine, None when there is none."""
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if found := shutil.which(name):
            return found
    return "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None


def screenshot(page: Path, png: Path, window: tuple[int, int] = WINDOW, browser: str | None = None) -> str:
    """Render `page` (a local HTML file) in headless Chromium into `png`; returns the browser's stderr (its log).

    Offline by construction: no network services, a throw-away profile, the file opened by its file:// URI."""
    browser = browser or chromium()
    if browser is None:
        raise FileNotFoundError("no chromium found (apt-get install chromium)")
    png.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="gim-etl-chromium-") as profile:
        cmd = [
            browser,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--hide-scrollbars",
            f"--user-data-dir={profile}",
            f"--screenshot={png}",
            f"--window-size={window[0]},{window[1]}",
            page.resolve().as_uri(),
        ]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=180, check=False)
    return proc.stderr


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m etl.bi.report.screenshot", description=__doc__.splitlines()[0])
    p.add_argument("--db", required=True, help="the DuckDB mart file (opened read-only)")
    p.add_argument("--out", type=Path, default=Path("docs/report.png"), help="the PNG to write")
    p.add_argument("--from", dest="day_from", metavar="DAY")
    p.add_argument("--to", dest="day_to", metavar="DAY")
    p.add_argument("--height", type=int, default=WINDOW[1], help="window height in pixels (the picture's)")
    args = p.parse_args(argv)
    console = Console()
    try:
        period = Period.parse(args.day_from, args.day_to)
    except ValueError as exc:
        console.print(f"[red]error:[/] {exc}")
        return 2
    if not Path(args.db).is_file():
        console.print(f"[red]error:[/] no such mart file: {args.db}")
        return 2
    with tempfile.TemporaryDirectory(prefix="gim-etl-report-") as tmp:
        page = write_report(args.db, Path(tmp) / "report.html", period=period).path
        log = screenshot(page, args.out, (WINDOW[0], args.height))
    if not args.out.exists():
        console.print(f"[red]error:[/] chromium wrote no screenshot:\n{log[-2000:]}")
        return 1
    console.print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
