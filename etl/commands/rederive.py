"""`gim-etl rederive --db FILE [--from DAY --to DAY] [--option NAME=VALUE ...] [--config FILE]`
(../shared/contract/mart.md, version 1.1): re-derive stored events under the given options, e.g. after an option
change. Every interaction with an event in [--from, --to + 1 day) UTC, every stored day when no range is given;
inside the writer lock, then the serving copy is published again."""

from __future__ import annotations

import argparse
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from etl.connections import connect
from etl.domain.options import GimOptions
from etl.storage.audit import RunCounts

_DAY_MS = 86_400_000


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    red = sub.add_parser("rederive", help="re-derive stored events under the given options (e.g. after a change)")
    red.add_argument("--db", required=True, metavar="FILE", help="the DuckDB mart file (must exist)")
    red.add_argument("--from", dest="day_from", metavar="DAY", help="first UTC day (YYYY-MM-DD)")
    red.add_argument("--to", dest="day_to", metavar="DAY", help="last UTC day (YYYY-MM-DD), included")
    red.add_argument("--config", type=Path, metavar="FILE", help="TOML file with GIM's option sections")
    red.add_argument(
        "--option", action="append", default=[], metavar="NAME=VALUE", help="GIM option override (repeatable)"
    )


def _day(raw: str, flag: str) -> date:
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise ValueError(f"{flag} {raw!r} is not a day (YYYY-MM-DD)") from None


def window(day_from: str | None, day_to: str | None) -> tuple[int, int]:
    """[start_ms, end_ms) of the days asked for; the whole time line when neither is given."""
    if day_from is None and day_to is None:
        return 0, 2**62
    if day_from is None or day_to is None:
        raise ValueError("give both --from and --to, or neither")
    first, last = _day(day_from, "--from"), _day(day_to, "--to")
    if first > last:
        raise ValueError(f"--from {first} is after --to {last}")
    start = datetime(first.year, first.month, first.day, tzinfo=UTC)
    end = datetime(last.year, last.month, last.day, tzinfo=UTC) + timedelta(days=1)
    return int(start.timestamp() * 1000), int(end.timestamp() * 1000)


def run(args: argparse.Namespace, console: Console) -> int:
    from etl.pipeline.load import rederive_window
    from etl.pipeline.preflight import check_db, check_settings
    from etl.storage.serving import publish
    from etl.storage.writer import WriterBusy, writer_lock

    try:  # one line, exit 2, before anything is touched
        settings = check_settings()
        start_ms, end_ms = window(args.day_from, args.day_to)
        options = GimOptions.load(args.config, args.option)
        if not Path(args.db).exists():
            raise ValueError(f"no such mart: {args.db}")
        check_db(args.db, must_exist=True)
        with writer_lock(args.db):
            run_id = f"rederive-{uuid.uuid4()}"
            con = connect(args.db)
            try:
                counts = rederive_window(con, run_id, start_ms, end_ms, options)
            finally:
                con.close()
            serving = publish(args.db, settings.serving_db or None)
    except (ValueError, OSError, WriterBusy) as exc:
        console.print(f"[red]error:[/] {escape(str(exc))}", soft_wrap=True)
        return 2
    _summary(console, counts, options, serving, args)
    return 0


def _summary(console: Console, counts: RunCounts, options: GimOptions, serving: Path, args: argparse.Namespace) -> None:
    days = f"{args.day_from} .. {args.day_to}" if args.day_from else "all stored days"
    table = Table(title=f"rederive {days}", show_header=True)
    table.add_column("fact table")
    table.add_column("rows written", justify="right")
    for name, n in sorted(counts.rows.items()):
        table.add_row(name, str(n))
    console.print(table)
    console.print(f"interactions re-derived: {counts.interactions_rederived}")
    opts = ", ".join(f"{k}={_cli_value(v)}" for k, v in options.as_gim_dict().items())
    console.print(f"options in force: {escape(opts)}", soft_wrap=True)
    console.print(f"serving copy: {escape(str(serving))}", soft_wrap=True)


def _cli_value(v: object) -> str:
    """An option's value as `--option NAME=VALUE` takes it (booleans lower case, lists comma-separated)."""
    if isinstance(v, bool):
        return str(v).lower()
    if isinstance(v, list | tuple):
        return ",".join(str(x) for x in v)
    return str(v)


def options_notice(db: str, options: GimOptions) -> str | None:
    """One line when the facts stored in `db` were derived under other options than `options` (the newest audit
    row's), naming the change and the `gim-etl rederive` command that applies it to them; None otherwise."""
    if not Path(db).exists():
        return None
    import json

    con = connect(db, read_only=True)
    try:
        rows = con.execute("SELECT OPTIONS FROM CTL_AUDIT_LOG ORDER BY AUDIT_KEY DESC LIMIT 1").fetchall()
    except Exception:  # a mart without an audit log yet: nothing derived before
        return None
    finally:
        con.close()
    if not rows or not rows[0][0]:
        return None
    before = json.loads(rows[0][0])
    # compared as stored (JSON), so a tuple option such as online-media-types equals its stored list
    now = json.loads(json.dumps(options.as_gim_dict(), default=list))
    changed = sorted(k for k, v in now.items() if k in before and before[k] != v and k != "user-data")
    if not changed:
        return None
    old = ", ".join(f"{k}={json.dumps(before[k])}" for k in changed)
    new = " ".join(f"--option {k}={_cli_value(now[k])}" for k in changed)
    return (
        f"facts loaded earlier were derived with {old}; run `gim-etl rederive --db {db} {new}` "
        "to apply the new options to them"
    )
