"""PostgreSQL publish time per million fact rows (issue 21): a generated mart, a full then an incremental publish.

    PYTHONPATH=. python bench/pg_publish.py --days 1 --out bench/results            # throwaway cluster on loopback
    PYTHONPATH=. python bench/pg_publish.py --dsn postgresql://gim@127.0.0.1:5432/gim  # an existing server

Generates `--days` simulated days (about 1 M events a day) in `--files` files, loads all but the last file
(`gim-etl run`'s code path), publishes the mart into a fresh schema (full), loads the last file and publishes again
(incremental: only the interactions that file touched). Writes `<out>/pg_publish.json` and `<out>/pg_publish.md`.
"""

from __future__ import annotations

import argparse
import json
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]


def _load(files: list[Path], db: Path) -> float:
    from etl.cli import main

    started = time.perf_counter()
    assert main(["run", "--quiet", "--events", *map(str, files), "--db", str(db)]) == 0
    return time.perf_counter() - started


def _fact_rows(db: Path) -> int:
    import duckdb

    from etl.storage.ddl import tables_of_kind

    con = duckdb.connect(str(db), read_only=True)
    try:
        return sum(con.execute(f"SELECT count(*) FROM {t}").fetchall()[0][0] for t in tables_of_kind("fact"))
    finally:
        con.close()


def _publish(db: Path, dsn: str, schema: str) -> dict:
    from etl.storage.publish_pg import publish_postgres

    result = publish_postgres(db, dsn, schema)
    facts = {t.name for t in result.tables if t.name in _facts()}
    fact_rows = sum(t.rows_copied for t in result.tables if t.name in facts)
    return {
        "seconds": round(result.seconds, 2),
        "rows_copied": result.rows_copied,
        "fact_rows_copied": fact_rows,
        "interactions_replaced": max(
            (t.groups_replaced for t in result.tables if t.name == "INTERACTION_FACT"), default=0
        ),
        "tables_changed": sum(t.mode != "skipped" for t in result.tables),
    }


def _facts() -> set[str]:
    from etl.storage.ddl import tables_of_kind

    return set(tables_of_kind("fact"))


def run(args: argparse.Namespace, dsn: str, work: Path) -> dict:
    from etl.simulate.generator import GeneratorConfig, write_files

    cfg = GeneratorConfig(days=args.days, interactions_per_day=74_000, agents=400, queues=20, vqs=40, files=args.files)
    files = sorted(write_files(cfg, work / "events"))
    db = work / "mart.duckdb"
    load_first = _load(files[:-1], db)
    first_rows = _fact_rows(db)
    full = _publish(db, dsn, "bench")
    load_second = _load(files[-1:], db)
    incremental = _publish(db, dsn, "bench")
    unchanged = _publish(db, dsn, "bench")
    per_million = full["seconds"] / (full["fact_rows_copied"] / 1e6)
    return {
        "machine": f"{platform.machine()} {platform.python_version()}",
        "days": args.days,
        "files": len(files),
        "fact_rows_after_first_load": first_rows,
        "fact_rows_after_second_load": _fact_rows(db),
        "load_seconds": [round(load_first, 1), round(load_second, 1)],
        "full_publish": full,
        "incremental_publish": incremental,
        "unchanged_publish": unchanged,
        "full_seconds_per_million_fact_rows": round(per_million, 2),
        "full_rows_per_second": round(full["rows_copied"] / full["seconds"]),
    }


def _markdown(r: dict) -> str:
    lines = [
        "# PostgreSQL publish (bench/pg_publish.py)",
        "",
        f"{r['days']} simulated day(s) in {r['files']} files; all but the last file loaded, published (full), the last",
        f"file loaded, published again (incremental), then once more with nothing changed. Machine: {r['machine']}.",
        "",
        "| publish | seconds | rows copied | fact rows copied | interactions replaced | tables changed |",
        "|---|---|---|---|---|---|",
    ]
    for name in ("full_publish", "incremental_publish", "unchanged_publish"):
        p = r[name]
        lines.append(
            f"| {name.split('_')[0]} | {p['seconds']} | {p['rows_copied']} | {p['fact_rows_copied']}"
            f" | {p['interactions_replaced']} | {p['tables_changed']} |"
        )
    lines += [
        "",
        f"Full publish: **{r['full_seconds_per_million_fact_rows']} s per million fact rows**"
        f" ({r['full_rows_per_second']} rows/s, all tables).",
    ]
    return "\n".join(lines) + "\n"


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--days", type=int, default=1)
    p.add_argument("--files", type=int, default=4)
    p.add_argument("--dsn", help="an existing PostgreSQL (default: a throwaway cluster on loopback)")
    p.add_argument("--out", type=Path, default=ROOT / "bench" / "results")
    args = p.parse_args()
    work = Path(tempfile.mkdtemp(prefix="gim-pg-bench-"))
    cluster = None
    try:
        if args.dsn is None:
            from pg_cluster import Cluster, pg_bindir

            bindir = pg_bindir()
            if bindir is None:
                print("no PostgreSQL binaries (initdb, pg_ctl); give --dsn", file=sys.stderr)
                return 2
            cluster = Cluster(Path(tempfile.mkdtemp(prefix="gim-pg-")), bindir)
            cluster.start()
        result = run(args, args.dsn or cluster.dsn(), work)
    finally:
        if cluster is not None:
            cluster.stop()
            shutil.rmtree(cluster.root, ignore_errors=True)
        shutil.rmtree(work, ignore_errors=True)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "pg_publish.json").write_text(json.dumps(result, indent=2) + "\n")
    (args.out / "pg_publish.md").write_text(_markdown(result))
    print(_markdown(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
