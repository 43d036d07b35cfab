"""`gim-etl`: the command-line face of the same Dagster asset graph (../shared/contract/mart.md)."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from etl.commands import generate as generate_command
from etl.commands import rederive as rederive_command
from etl.connections import connect
from etl.domain.options import GimOptions
from etl.progress import reporting

console = Console(width=None if sys.stdout.isatty() else 120)


def _version() -> str:
    """The installed package's version (importlib.metadata), "unknown" when run from a bare checkout."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("gim-etl")
    except PackageNotFoundError:
        return "unknown"


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="gim-etl", description="Genesys Info Mart-style multimedia ETL.")
    p.add_argument("--version", action="version", version=f"gim-etl {_version()}")
    sub = p.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="read event files, derive GIM facts and load them into the DuckDB mart")
    run.add_argument(
        "--events",
        nargs="+",
        default=[],
        metavar="PATH",
        help="event files or directories (NDJSON, NDJSON.gz, Parquet)",
    )
    run.add_argument(
        "--cfg",
        nargs="+",
        default=[],
        metavar="PATH",
        help="configuration-log files or directories (config.md: NDJSON, NDJSON.gz, Parquet)",
    )
    _source_args(run)
    run.add_argument("--db", required=True, metavar="FILE", help="the DuckDB mart file (created if missing)")
    run.add_argument("--config", type=Path, metavar="FILE", help="TOML file with a [gim-etl-populate] section")
    run.add_argument(
        "--option",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="GIM option override, e.g. populate-workbin-as-hold=true (repeatable)",
    )
    _publish_args(run)
    run.add_argument("--quiet", action="store_true", help="print only the summary")
    run.add_argument(
        "--verbose", action="store_true", help="Dagster's run log (INFO) too, also on a terminal with progress bars"
    )
    generate_command.add_parser(sub)
    rep = sub.add_parser("report", help="write a self-contained HTML report (charts, quarantine) of the mart")
    rep.add_argument("--db", required=True, metavar="FILE", help="the DuckDB mart file (opened read-only)")
    rep.add_argument("--out", required=True, type=Path, metavar="FILE.html", help="the HTML file to write")
    rep.add_argument("--title", default="gim-etl mart report", help="report title")
    rep.add_argument("--from", dest="day_from", metavar="DAY", help="first UTC day of the period (YYYY-MM-DD)")
    rep.add_argument("--to", dest="day_to", metavar="DAY", help="last UTC day of the period (YYYY-MM-DD), included")
    pub = sub.add_parser(
        "publish", help="write the serving copy of a mart again, or (--publish) publish it into PostgreSQL"
    )
    pub.add_argument("--db", required=True, metavar="FILE", help="the DuckDB mart file")
    pub.add_argument(
        "--serving", metavar="FILE", help="the serving copy (default: GIM_ETL_SERVING_DB or beside the mart)"
    )
    _publish_args(pub)
    from etl.bi.sql import command as sql_command  # gim-etl sql (etl/bi/sql/command.py)

    sql_command.add_parser(sub)
    rederive_command.add_parser(sub)
    return p


def _publish_args(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--publish",
        metavar="DSN",
        help="also publish the mart into PostgreSQL (postgresql://USER@HOST:PORT/DB), incrementally, one transaction",
    )
    p.add_argument("--pg-schema", default="gim", metavar="NAME", help="the PostgreSQL schema (one per tenant)")


def _check_target(args: argparse.Namespace) -> None:
    """Connect once to the --publish target before any work (bad DSN, server down: PublishTargetError)."""
    if args.publish:
        from etl.storage.publish_pg import check_schema, connect_target

        check_schema(args.pg_schema)
        connect_target(args.publish).close()


def _source_args(run: argparse.ArgumentParser) -> None:
    """What `--events` holds (etl.ingest.sources)."""
    run.add_argument(
        "--source",
        choices=["events", "genesys-cloud"],
        default="events",
        help="what --events holds: contract events (default) or Genesys Cloud conversation-detail records",
    )
    run.add_argument("--gc-names", metavar="FILE", help="Genesys Cloud users/queues JSON: display names of userIds")


def _summary(db: str, run_id: str) -> None:
    con = connect(db, read_only=True)
    try:
        row = con.execute(
            "SELECT FILES_READ, EVENTS_READ, EVENTS_LOADED, EVENTS_DUPLICATE, EVENTS_QUARANTINED,"
            " INTERACTION_FACT_ROWS, INTERACTION_RESOURCE_FACT_ROWS, MEDIATION_SEGMENT_FACT_ROWS, OPTIONS,"
            " USER_DATA_REJECTS, AUDIT_KEY, EVENTS_CONFLICT, FILES_SKIPPED, SKIPPED_FILES, SOURCE_NOTES"
            " FROM CTL_AUDIT_LOG WHERE RUN_ID = ?",
            [run_id],
        ).fetchall()[0]
        more = con.execute(
            "SELECT CHAT_SESSION_FACT_ROWS, SM_RES_SESSION_FACT_ROWS, SM_RES_STATE_FACT_ROWS,"
            " SM_RES_STATE_REASON_FACT_ROWS FROM CTL_AUDIT_LOG WHERE RUN_ID = ?",
            [run_id],
        ).fetchall()[0]
        reasons = con.execute(
            "SELECT SOURCE_FILE, SOURCE_LINE, FIELD, REASON FROM STG_EVENT_QUARANTINE WHERE RUN_ID = ?"
            " ORDER BY SOURCE_FILE, SOURCE_LINE LIMIT 10",
            [run_id],
        ).fetchall()
        bad_values = con.execute(
            "SELECT MEDIA_SERVER_IXN_GUID, KEY_NAME, TARGET, REASON FROM STG_USER_DATA_REJECT"
            " WHERE CREATE_AUDIT_KEY = ? ORDER BY 1, 2 LIMIT 10",
            [row[10]],
        ).fetchall()
    finally:
        con.close()
    table = Table(title=f"gim-etl run {run_id[:8]} -> {db}", show_header=True)
    table.add_column("measure")
    table.add_column("value", justify="right")
    labels = [
        "files read",
        "events read",
        "events loaded",
        "events duplicate",
        "events quarantined",
        "INTERACTION_FACT rows written",
        "INTERACTION_RESOURCE_FACT rows written",
        "MEDIATION_SEGMENT_FACT rows written",
    ]
    for label, value in zip(labels, row[:8], strict=True):
        table.add_row(label, str(value))
    table.add_row("events conflicting (quarantined)", str(row[11] or 0))
    table.add_row("files skipped", str(row[12] or 0))
    more_tables = ("CHAT_SESSION_FACT", "SM_RES_SESSION_FACT", "SM_RES_STATE_FACT", "SM_RES_STATE_REASON_FACT")
    for label, value in zip(more_tables, more, strict=True):
        table.add_row(f"{label} rows written", str(value or 0))
    table.add_row("user-data values not stored (STG_USER_DATA_REJECT)", str(row[9] or 0))
    options = json.loads(row[8])
    mapping = options.pop("user-data", {})
    table.add_row("options", json.dumps(options))
    table.add_row(
        "user-data mapping",
        f"{len(mapping.get('keys', []))} keys" + (" + GIM's standard keys" if mapping.get("defaults", True) else ""),
    )
    console.print(table)
    from etl.storage.serving import serving_path_for

    console.print(f"serving copy: {escape(str(serving_path_for(db)))}", soft_wrap=True)
    if not row[0] and row[12] is not None:
        console.print("[yellow]no event file in the input[/]: nothing read (see files skipped)")
    for skipped in json.loads(row[13] or "[]")[:10]:
        console.print(f"[yellow]skipped[/] {escape(skipped)}")
    for note, n in sorted(json.loads(row[14] or "{}").items()):
        console.print(f"[cyan]source note[/] {n} x {escape(note)}", soft_wrap=True)
    for f, line, field, reason in reasons:
        where = f"{f}:{line} [{field or '-'}] {reason}"
        console.print(f"[yellow]quarantined[/] {escape(where)}")
    for ixn, key, target, reason in bad_values:
        console.print(f"[yellow]user data not stored[/] {escape(f'{ixn} {key} -> {target}: {reason}')}")
    _cfg_summary(db, run_id)


def _cfg_summary(db: str, run_id: str) -> None:
    """The configuration log's counts (config.md), when the run read any."""
    con = connect(db, read_only=True)
    try:
        row = con.execute(
            "SELECT CFG_FILES_READ, CFG_OBJECTS_READ, CFG_OBJECTS_LOADED, CFG_OBJECTS_DUPLICATE,"
            " CFG_OBJECTS_QUARANTINED FROM CTL_AUDIT_LOG WHERE RUN_ID = ?",
            [run_id],
        ).fetchall()
    finally:
        con.close()
    if row and row[0][0]:
        f, r, loaded, dup, bad = row[0]
        console.print(f"configuration: {f} file(s), {r} read, {loaded} loaded, {dup} duplicate, {bad} quarantined")


def _report(args: argparse.Namespace) -> int:
    from etl.bi.report import Period, write_report

    try:  # a bad day is one line and exit 2, before the mart is opened
        period = Period.parse(args.day_from, args.day_to)
    except ValueError as exc:
        console.print(f"[red]error:[/] {escape(str(exc))}", soft_wrap=True)
        return 2
    if not Path(args.db).is_file():
        console.print(f"[red]error:[/] no such mart file: {escape(args.db)}")
        return 2
    written = write_report(args.db, args.out, title=args.title, period=period)
    if written.empty:
        held = f"{written.days[0]} to {written.days[1]}" if written.days else "no interactions"
        console.print(f"[yellow]no data in {escape(period.label())}[/]; the mart holds {held}", soft_wrap=True)
    console.print(f"wrote {escape(str(written.path))} ({escape(period.label())})", soft_wrap=True)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "generate":
        return generate_command.generate(args, console)
    if args.command == "report":
        return _report(args)
    if args.command == "sql":
        from etl.bi.sql import command as sql_command

        return sql_command.run(args)
    if args.command == "publish":
        return _publish(args)
    if args.command == "rederive":
        return rederive_command.run(args, console)
    return _run(args)


def _run(args: argparse.Namespace) -> int:
    from etl.pipeline.preflight import check_db, check_run_args
    from etl.storage.writer import WriterBusy, writer_lock

    try:  # every argument checked before anything is staged: one line, exit 2
        check_run_args(args.events, args.db, args.config)
        options = GimOptions.load(args.config, args.option)
        _check_target(args)
        if args.gc_names:
            from etl.ingest.genesys_cloud.stage import load_names

            load_names(args.gc_names)  # (a bad names file is an argument error, not a failed run)
    except (ValueError, OSError) as exc:
        console.print(f"[red]error:[/] {escape(str(exc))}", soft_wrap=True)
        return 2
    if not args.events and not args.cfg:
        console.print("[red]error:[/] give --events, --cfg or both")
        return 2
    missing = [p for p in args.cfg if not Path(p).exists()]
    if missing:
        console.print(f"[red]error:[/] no such configuration file or directory: {escape(', '.join(missing))}")
        return 2
    from etl.orchestration.publish import PostgresTarget
    from etl.orchestration.run import run_pipeline  # Dagster's import costs ~1 s: only for `run`

    target = PostgresTarget(dsn=args.publish, db_schema=args.pg_schema) if args.publish else None

    notice = rederive_command.options_notice(args.db, options)
    if notice:
        console.print(f"[yellow]{escape(notice)}[/]", soft_wrap=True)
    shown = console.is_terminal and not args.quiet  # a person waits: phases with counts instead of Dagster's log
    level = "ERROR" if args.quiet else "WARNING" if shown and not args.verbose else "INFO"
    try:
        with writer_lock(args.db), _progress(shown):
            check_db(args.db)  # (no other process has it open for writing either)
            result = run_pipeline(
                args.events,
                args.db,
                options,
                log_level=level,
                cfg=args.cfg,
                publish=target,
                source=args.source,
                gc_names=args.gc_names,
            )
    except (WriterBusy, ValueError) as exc:
        console.print(f"[red]error:[/] {escape(str(exc))}", soft_wrap=True)
        return 2
    if not result.success:
        failure = _publish_failure(result)
        if failure:  # the load committed: say so, and how to finish
            _summary(args.db, result.run_id)
            console.print(f"[red]{escape(failure)}[/]", soft_wrap=True)
            return 1
        console.print("[red]run failed[/]; see the Dagster log above")
        return 1
    _summary(args.db, result.run_id)
    if target is not None:
        console.print(f"published to PostgreSQL schema {escape(args.pg_schema)}", soft_wrap=True)
    return 0


@contextmanager
def _progress(shown: bool) -> Iterator[None]:
    """The run's phases as rich progress bars with counts, on a terminal only (etl.progress)."""
    if not shown:
        yield
        return
    from etl.cli_progress import RichReporter

    with RichReporter(console) as reporter, reporting(reporter):
        yield


def _publish_failure(result: object) -> str | None:
    """The message of a run whose load committed but whose serving copy failed, else None."""
    from etl.orchestration.publish import PG_PUBLISH_FAILED
    from etl.storage.serving import PUBLISH_FAILED

    for event in result.all_events:  # type: ignore[attr-defined]
        if event.is_step_failure:
            error = event.step_failure_data.error
            if error is not None and (PUBLISH_FAILED in error.message or PG_PUBLISH_FAILED in error.message):
                return error.message.strip().splitlines()[-1].split("Failure: ", 1)[-1]
    return None


def _publish(args: argparse.Namespace) -> int:
    from etl.pipeline.preflight import check_db, check_settings
    from etl.storage.serving import publish
    from etl.storage.writer import WriterBusy, writer_lock

    try:
        settings = check_settings()
        check_db(args.db, must_exist=True)
        _check_target(args)
        with writer_lock(args.db):
            if args.publish:
                return _publish_pg(args)
            out = publish(args.db, args.serving or settings.serving_db or None)
    except (ValueError, WriterBusy) as exc:
        console.print(f"[red]error:[/] {escape(str(exc))}", soft_wrap=True)
        return 2
    console.print(f"published {out}")
    return 0


def _publish_pg(args: argparse.Namespace) -> int:
    """`gim-etl publish --db FILE --publish DSN`: the mart into PostgreSQL (exit 1 when PostgreSQL fails it)."""
    import psycopg

    from etl.storage.publish_pg import publish_postgres

    try:
        result = publish_postgres(args.db, args.publish, args.pg_schema)
    except psycopg.Error as exc:
        console.print(f"[red]PostgreSQL publish failed[/] (nothing changed there): {escape(str(exc).strip())}")
        return 1
    changed = [t for t in result.tables if t.mode != "skipped"]
    table = Table(title=f"published to PostgreSQL schema {result.schema} in {result.seconds:.1f} s")
    for name in ("table", "mode", "rows copied", "groups replaced"):
        table.add_column(name, justify="left" if name in ("table", "mode") else "right")
    for t in changed:
        table.add_row(t.name, t.mode, str(t.rows_copied), str(t.groups_replaced))
    console.print(table)
    console.print(f"{len(result.tables) - len(changed)} table(s) unchanged, {result.views} view(s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
