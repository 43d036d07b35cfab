"""``gim-etl sql``: run an analyst's GIM SQL file on the mart (read-only), print it or write CSV / Parquet.

Exit codes: 0 ran, 2 refused or bad arguments, 1 failed (DuckDB raised while running the rewritten SQL)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import duckdb
import polars as pl
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from etl.bi.sql import GimSqlRefused, normalize_dialect, prepare
from etl.connections import connect
from etl.storage.serving import serving_path_for

MAX_PRINTED = 50


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = subparsers.add_parser("sql", help="run an analyst's GIM SQL (T-SQL, Oracle, PostgreSQL) on the mart")
    p.add_argument("--db", metavar="FILE", help="the mart; its serving copy x.serving.duckdb if present")
    p.add_argument(
        "--target", metavar="DSN", help="run on the mart published in PostgreSQL (postgresql://...) instead of --db"
    )
    p.add_argument("--pg-schema", default="gim", metavar="NAME", help="the PostgreSQL schema of --target")
    p.add_argument("--dialect", required=True, help="tsql | oracle | postgres (the file's dialect)")
    p.add_argument("--param", action="append", default=[], metavar="NAME=VALUE", help="@NAME / :NAME value")
    p.add_argument("--out", type=Path, metavar="FILE", help="write the result to FILE.csv or FILE.parquet")
    p.add_argument("--explain", action="store_true", help="print the DuckDB (or PostgreSQL) SQL that runs")
    p.add_argument("file", metavar="FILE.sql", help="the SQL file, or - for standard input")
    return p


def _database(db: str) -> Path:
    """The file to open: the serving copy beside a mart when it exists (what BI tools read), else ``db``."""
    path = Path(db)
    serving = serving_path_for(path)
    if not path.name.endswith(".serving.duckdb") and serving.is_file():
        return serving
    return path


def _params(items: list[str]) -> dict[str, str]:
    out = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise ValueError(f"--param {item!r}: expected NAME=VALUE")
        out[name.strip()] = value
    return out


def _print(console: Console, df: pl.DataFrame) -> None:
    table = Table(show_lines=False)
    for name in df.columns:
        table.add_column(escape(name), justify="right" if df[name].dtype.is_numeric() else "left")
    for row in df.head(MAX_PRINTED).rows():
        table.add_row(*("" if v is None else escape(str(v)) for v in row))
    console.print(table)
    shown = min(df.height, MAX_PRINTED)
    console.print(f"{df.height} row(s)" + (f", first {shown} printed (use --out for all)" if shown < df.height else ""))


def _check(args: argparse.Namespace, console: Console) -> tuple[Path, str, str, dict[str, str]] | None:
    def bad(message: str) -> None:
        console.print(f"[red]error:[/] {escape(message)}")

    try:
        dialect = normalize_dialect(args.dialect)
        params = _params(args.param)
    except ValueError as e:
        return bad(str(e))
    if args.out is not None and args.out.suffix.lower() not in (".csv", ".parquet"):
        return bad(f"--out {args.out}: use a .csv or .parquet file name")
    if (args.db is None) == (args.target is None):
        return bad("give --db FILE or --target postgresql://... (one of them)")
    db = _database(args.db) if args.db else Path()
    if args.db and not db.is_file():
        return bad(f"no such mart file: {args.db}")
    if args.file == "-":
        sql = sys.stdin.read()
    elif Path(args.file).exists() and not Path(args.file).is_dir():  # a file, or a pipe such as <(echo ...)
        try:
            sql = Path(args.file).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            return bad(f"cannot read the SQL file {args.file}: {exc}")
    else:
        return bad(f"no such SQL file: {args.file}")
    return db, dialect, sql, params


def run(args: argparse.Namespace) -> int:
    console = Console(width=None if sys.stdout.isatty() else 160)
    checked = _check(args, console)
    if checked is None:
        return 2
    db, dialect, sql, params = checked
    if args.target:
        return _run_target(args, console, dialect, sql, params)
    try:
        prepared = prepare(sql, dialect, params)
    except GimSqlRefused as e:
        console.print(f"[red]{escape(str(e))}[/]")
        return 2
    console.print(f"[dim]{escape(str(db))} (read-only)[/]")
    if args.explain:
        console.print(escape(prepared.sql + ";"), highlight=False, soft_wrap=True)
    con = connect(db, read_only=True)
    try:
        for stmt in prepared.statements[:-1]:
            rel = con.sql(stmt)
            if rel is not None:
                rel.fetchall()
        rel = con.sql(prepared.statements[-1])
        df = rel.pl() if rel is not None else pl.DataFrame()
    except duckdb.Error as e:
        console.print(f"[red]failed:[/] {escape(str(e).splitlines()[0])}")
        return 1
    finally:
        con.close()
    return _output(args, console, df)


def _output(args: argparse.Namespace, console: Console, df: pl.DataFrame) -> int:
    if args.out is None:
        _print(console, df)
    elif args.out.suffix.lower() == ".csv":
        df.write_csv(args.out)
    else:
        df.write_parquet(args.out)
    if args.out is not None:
        console.print(f"wrote {df.height} row(s) to {args.out}")
    return 0


def _run_target(args: argparse.Namespace, console: Console, dialect: str, sql: str, params: dict[str, str]) -> int:
    """`--target postgresql://...`: the same rewrite, rendered for PostgreSQL, run there (etl.bi.sql.target_pg)."""
    import psycopg

    from etl.bi.sql.target_pg import postgres_statements, run_on_postgres
    from etl.storage.pg_sql import UnsupportedForPostgres
    from etl.storage.publish_pg import PublishTargetError

    try:
        statements = postgres_statements(sql, dialect, params)
        if args.explain:
            console.print(escape(";\n".join(statements) + ";"), highlight=False, soft_wrap=True)
        df = run_on_postgres(args.target, sql, dialect, params, schema=args.pg_schema)
    except (GimSqlRefused, UnsupportedForPostgres) as e:
        console.print(f"[red]{escape(str(e))}[/]")
        return 2
    except PublishTargetError as e:
        console.print(f"[red]error:[/] {escape(str(e))}", soft_wrap=True)
        return 2
    except psycopg.Error as e:
        console.print(f"[red]failed:[/] {escape(str(e).strip().splitlines()[0])}")
        return 1
    return _output(args, console, df)
