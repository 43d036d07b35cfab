"""End-to-end throughput benchmark: generated events -> `gim-etl run`'s code path -> a fresh mart.

    python bench/benchmark.py --sizes 1M 10M --data-dir bench/data --repeat 1 --out bench/results

For each size it generates (or reuses, when `<data-dir>/<size>/generated.json` matches the configuration) a
set of NDJSON files with etl.simulate.generator, then
  1. baseline: DuckDB's bare scan `select count(*) from read_ndjson([...])`, in this process;
  2. second baseline, the floor for any pipeline that keeps every field: DuckDB reading every field of the same
     files (`read_ndjson`, schema auto-detected) and writing them once to Parquet;
  3. the whole pipeline (etl.orchestration.run.run_pipeline: ingest -> facts -> mart, checks included) into a fresh mart
     file, in a child process, timing its phases and sampling the RSS of the child's process tree.
It reports events/s, the pipeline/scan ratio, peak RSS and the time ratio between the largest and smallest
size, and writes `<out>/benchmark.json` and `<out>/benchmark.md`.

    python bench/benchmark.py --genesys-cloud-day 20000

times the Genesys Cloud adapter instead (issue 17): a day of N generated conversation-detail records
(etl.simulate.genesys_cloud, details-job pages) through `gim-etl run --source genesys-cloud`'s code path, against
the same two baselines over the same files (DuckDB counting / reading every field of the unnested conversations),
written to `<out>/benchmark_genesys_cloud.json` and `.md`.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

#: One simulated day is ~74 000 e-mail interactions, ~1 M events; sizes scale the number of days.
INTERACTIONS_PER_DAY = 74_000


def size_config(label: str):  # noqa: ANN201
    from etl.simulate.generator import GeneratorConfig

    text = label.upper()
    scale = {"K": 1e-3, "M": 1.0}.get(text[-1:], 1e-6)
    millions = float(text.rstrip("KM")) * scale
    if millions >= 1:
        days, ipd = round(millions), INTERACTIONS_PER_DAY
    else:  # small sizes: one day with fewer interactions
        days, ipd = 1, max(1, round(INTERACTIONS_PER_DAY * millions))
    return GeneratorConfig(
        start_date="2026-03-02",
        days=days,
        interactions_per_day=ipd,
        agents=400,
        queues=20,
        vqs=40,
        seed=7,
        files=max(4, 4 * days),
        fmt="ndjson",
    )


def ensure_data(label: str, data_dir: Path) -> tuple[list[str], dict]:
    """The size's event files, generated unless a complete set for the same configuration is there."""
    from etl.simulate.generator import write_files

    cfg = size_config(label)
    out = data_dir / label
    marker = out / "generated.json"
    want = {k: v for k, v in asdict(cfg).items()}
    if marker.exists():
        got = json.loads(marker.read_text())
        if got.get("config") == want and all(Path(p).exists() for p in got["files"]):
            return got["files"], got
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob("events-*"):
        old.unlink()
    t0 = time.perf_counter()
    paths = write_files(cfg, out)
    info = {
        "config": want,
        "files": [str(p) for p in paths],
        "generate_s": round(time.perf_counter() - t0, 2),
        "bytes": sum(p.stat().st_size for p in paths),
    }
    marker.write_text(json.dumps(info, indent=1))
    return info["files"], info


def bare_scan(files: list[str]) -> tuple[float, int]:
    import duckdb

    con = duckdb.connect()
    con.sql("SET enable_progress_bar = false")
    t0 = time.perf_counter()
    n = con.sql("select count(*) from read_ndjson($files)", params={"files": files}).fetchall()[0][0]
    elapsed = time.perf_counter() - t0
    con.close()
    return elapsed, n


def full_read(files: list[str], work: Path) -> float:
    import duckdb

    out = work / "full_read.parquet"
    con = duckdb.connect()
    con.sql("SET enable_progress_bar = false")
    t0 = time.perf_counter()
    con.execute(f"COPY (SELECT * FROM read_ndjson($files)) TO '{out}' (FORMAT parquet)", {"files": files})
    elapsed = time.perf_counter() - t0
    con.close()
    out.unlink()
    return elapsed


# ----------------------------------------------------------------------------------------------------------
# Genesys Cloud: conversation-detail pages (one JSON document per file, nested), not one event per line

#: A details-job page of generated conversations is ~2.5 KB a conversation; 2,000 a page keeps a page ~5 MB.
GC_PER_PAGE = 2_000
_GC_READ = "read_json($files, format = 'unstructured', maximum_object_size = 67108864)"


def ensure_gc_data(conversations: int, data_dir: Path) -> tuple[list[str], dict]:
    """A day of `conversations` generated conversation-detail records, cached like the event sizes."""
    from etl.simulate.genesys_cloud import GcConfig, write_conversations

    cfg = GcConfig(
        conversations_per_day=conversations,
        agents=400,
        queues=20,
        seed=7,
        files=max(1, -(-conversations // GC_PER_PAGE)),
    )
    out = data_dir / f"gc-{conversations}"
    marker = out / "generated.json"
    want = asdict(cfg)
    if marker.exists():
        got = json.loads(marker.read_text())
        if got.get("config") == want and all(Path(p).exists() for p in got["files"]):
            return got["files"], got
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob("gc-conversations-*"):
        old.unlink()
    t0 = time.perf_counter()
    paths = write_conversations(cfg, out)
    info = {
        "config": want,
        "files": [str(p) for p in paths],
        "generate_s": round(time.perf_counter() - t0, 2),
        "bytes": sum(p.stat().st_size for p in paths),
    }
    marker.write_text(json.dumps(info, indent=1))
    return info["files"], info


def gc_bare_scan(files: list[str]) -> tuple[float, int]:
    """DuckDB counting the conversations of the pages (parsing every document, keeping nothing)."""
    import duckdb

    con = duckdb.connect()
    con.sql("SET enable_progress_bar = false")
    t0 = time.perf_counter()
    sql = f"SELECT sum(len(conversations)) FROM {_GC_READ}"
    n = con.sql(sql, params={"files": files}).fetchall()[0][0]
    elapsed = time.perf_counter() - t0
    con.close()
    return elapsed, int(n)


def gc_full_read(files: list[str], work: Path) -> float:
    """The floor for anything keeping every field: every conversation, nested as read, written once to Parquet."""
    import duckdb

    out = work / "gc_full_read.parquet"
    con = duckdb.connect()
    con.sql("SET enable_progress_bar = false")
    t0 = time.perf_counter()
    con.execute(
        f"COPY (SELECT unnest(conversations) AS c FROM {_GC_READ}) TO '{out}' (FORMAT parquet)", {"files": files}
    )
    elapsed = time.perf_counter() - t0
    con.close()
    out.unlink()
    return elapsed


def genesys_cloud_day(conversations: int, args: argparse.Namespace, machine: dict, work: Path) -> dict:
    files, gen = ensure_gc_data(conversations, args.data_dir)
    print(f"[gc {conversations}] {len(files)} pages, {gen['bytes'] / 2**20:.0f} MiB", flush=True)
    runs, scans, reads = [], [], []
    for _ in range(args.repeat):
        scan_s, n = gc_bare_scan(files)
        scans.append(scan_s)
        reads.append(gc_full_read(files, work))
        print(
            f"[gc {conversations}] bare scan: {n} conversations in {scan_s:.2f} s; full read {reads[-1]:.2f} s",
            flush=True,
        )
        run = run_pipeline_child(files, work, args.max_rss_gib, source="genesys-cloud")
        if "failed" in run:
            print(f"[gc {conversations}] pipeline FAILED: {run['failed']}", flush=True)
            return {"machine": machine, "conversations": n, "failed": run["failed"]}
        runs.append(run)
        print(
            f"[gc {conversations}] pipeline: {run['pipeline_s']:.1f} s, phases {run['phases_s']}, audit {run['audit']}",
            flush=True,
        )
    best = min(runs, key=lambda r: r["pipeline_s"])
    events = best["audit"]["events_read"]
    return {
        "machine": machine,
        "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "loadavg": os.getloadavg()[0],
        "conversations": n,
        "pages": len(files),
        "input_mib": gen["bytes"] / 2**20,
        "events": events,
        "bare_scan_s": min(scans),
        "full_read_s": min(reads),
        "pipeline_s": best["pipeline_s"],
        "conversations_per_s": n / best["pipeline_s"],
        "events_per_s": events / best["pipeline_s"],
        "pipeline_over_scan": best["pipeline_s"] / min(scans),
        "pipeline_over_full_read": best["pipeline_s"] / min(reads),
        "phases_s": best["phases_s"],
        "peak_rss_mib": best["tree_peak_rss_mib"],
        "audit": best["audit"],
        "all_pipeline_s": [r["pipeline_s"] for r in runs],
    }


def _gc_markdown(r: dict) -> str:
    m = r["machine"]
    head = f"# gim-etl benchmark, Genesys Cloud adapter ({r.get('started', '')})\n\n"
    head += (
        f"{m['cpus']} CPUs (load average {r.get('loadavg', '?')} at the start), {m['platform']}, "
        f"Python {m['python']}, DuckDB {m['duckdb']}, Polars {m['polars']}\n\n"
    )
    if "failed" in r:
        return head + f"{r['conversations']:,} conversations: FAILED: {r['failed'][:500]}\n"
    ph = r["phases_s"]
    return head + (
        "| conversations | pages | input MiB | contract events | bare scan s | full read s | pipeline s "
        "| conversations/s | events/s | pipeline/scan | pipeline/full read | peak RSS MiB | ingest s "
        "| mart load s (incl. derive) |\n|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n"
        f"| {r['conversations']:,} | {r['pages']} | {r['input_mib']:.0f} | {r['events']:,} | {r['bare_scan_s']:.2f} "
        f"| {r['full_read_s']:.2f} | {r['pipeline_s']:.1f} | {r['conversations_per_s']:,.0f} "
        f"| {r['events_per_s']:,.0f} | {r['pipeline_over_scan']:.1f}x | {r['pipeline_over_full_read']:.1f}x "
        f"| {r['peak_rss_mib']:.0f} | {ph.get('ingest', 0):.1f} | {ph.get('mart_load_incl_derive', 0):.1f} |\n\n"
        f"Audit: {r['audit']}. The baselines parse the same pages with DuckDB (`read_json`, unnested conversations); "
        "the pipeline reads them with pydantic (every field of the published model checked), normalises, maps "
        "them to contract events and derives the facts.\n"
    )


# ----------------------------------------------------------------------------------------------------------
# The pipeline, in a child process

_CHILD = r"""
import json, resource, sys, time
sys.path.insert(0, {root!r})
phases = {{}}
def timed(name, fn):
    def wrapper(*a, **k):
        t0 = time.perf_counter()
        try:
            return fn(*a, **k)
        finally:
            phases[name] = phases.get(name, 0.0) + time.perf_counter() - t0
    return wrapper
import etl.orchestration.assets as assets
import etl.pipeline.load as load
from etl.connections import connect
assets.stage_source = timed("ingest", assets.stage_source)
load.derive_facts = timed("derive_facts", load.derive_facts)
assets.load_run = timed("mart_load_incl_derive", assets.load_run)
try:
    from etl.storage import serving
    serving.publish = timed("serving_publish", serving.publish)
except ImportError:
    pass
from etl.orchestration.run import run_pipeline
from etl.domain.options import GimOptions
files, db, source = json.loads(sys.argv[1]), sys.argv[2], sys.argv[3]
t0 = time.perf_counter()
result = run_pipeline(files, db, GimOptions(), source=source)
wall = time.perf_counter() - t0
con = connect(db, read_only=True)
audit = con.sql("SELECT EVENTS_READ, EVENTS_LOADED, EVENTS_DUPLICATE, EVENTS_QUARANTINED, INTERACTION_FACT_ROWS,"
                " INTERACTION_RESOURCE_FACT_ROWS, MEDIATION_SEGMENT_FACT_ROWS FROM CTL_AUDIT_LOG").fetchall()[0]
con.close()
print("RESULT " + json.dumps({{
    "success": result.success, "pipeline_s": wall, "phases_s": phases,
    "audit": dict(zip(["events_read", "events_loaded", "events_duplicate", "events_quarantined",
                       "interaction_fact_rows", "irf_rows", "msf_rows"], audit)),
    "cpu_s": sum(getattr(resource.getrusage(w), f) for w in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)
                 for f in ("ru_utime", "ru_stime")),
    "self_maxrss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    "children_maxrss_mib": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
}}))
"""


def _tree_rss(root_pid: int) -> int:
    """Resident bytes of a process and all its descendants (from /proc)."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    page = os.sysconf("SC_PAGE_SIZE")
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat") as fh:
                stat = fh.read()
            fields = stat[stat.rindex(")") + 2 :].split()
            pid = int(entry.name)
            children.setdefault(int(fields[1]), []).append(pid)
            rss[pid] = int(fields[21]) * page
        except (OSError, ValueError, IndexError):
            continue
    total, todo = 0, [root_pid]
    while todo:
        pid = todo.pop()
        total += rss.get(pid, 0)
        todo.extend(children.get(pid, []))
    return total


def run_pipeline_child(files: list[str], work: Path, max_rss_gib: float, source: str = "events") -> dict:
    db = work / "gim_mart.duckdb"
    for f in work.glob("gim_mart.duckdb*"):  # the mart, its WAL and the staging directory of a previous run
        shutil.rmtree(f) if f.is_dir() else f.unlink()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("DAGSTER_HOME", None)  # an ephemeral instance, as `gim-etl run` without DAGSTER_HOME
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-c", _CHILD.format(root=str(ROOT)), json.dumps(files), str(db), source],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=work,
    )
    peak = 0
    stop = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not stop.is_set():
            peak = max(peak, _tree_rss(proc.pid))
            if peak > max_rss_gib * 2**30:  # protect the (shared) machine from the OOM killer
                proc.kill()
                return
            stop.wait(0.2)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    out, err = proc.communicate()
    stop.set()
    sampler.join()
    elapsed = time.perf_counter() - t0
    lines = [line for line in out.splitlines() if line.startswith("RESULT ")]
    if peak > max_rss_gib * 2**30:
        return {
            "failed": f"killed: process tree RSS above {max_rss_gib} GiB after {elapsed:.0f} s",
            "tree_peak_rss_mib": peak / 2**20,
            "process_s": elapsed,
        }
    if proc.returncode != 0 or not lines:
        return {
            "failed": f"pipeline child failed ({proc.returncode}): {err[-2000:]}",
            "tree_peak_rss_mib": peak / 2**20,
            "process_s": elapsed,
        }
    res = json.loads(lines[-1][7:])
    res["process_s"] = elapsed
    res["tree_peak_rss_mib"] = peak / 2**20
    res["mart_bytes"] = db.stat().st_size
    return res


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sizes", nargs="+", default=["1M", "10M"], help="event counts, e.g. 100k 1M 10M")
    p.add_argument("--data-dir", type=Path, default=ROOT / "bench" / "data", help="generated inputs (cached)")
    p.add_argument("--repeat", type=int, default=1, help="runs per size (the best time is reported)")
    p.add_argument("--out", type=Path, default=ROOT / "bench" / "results", help="where the JSON/markdown go")
    p.add_argument("--max-rss-gib", type=float, default=16.0, help="kill the pipeline above this RSS")
    p.add_argument("--work-dir", type=Path, default=None, help="where the fresh mart is written (default: tmp)")
    p.add_argument(
        "--genesys-cloud-day",
        type=int,
        default=None,
        metavar="N",
        help="time the Genesys Cloud adapter on a day of N generated conversations instead of --sizes",
    )
    args = p.parse_args(argv)
    sizes = args.sizes
    import duckdb
    import polars

    machine = {
        "cpus": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "duckdb": duckdb.__version__,
        "polars": polars.__version__,
    }
    if args.genesys_cloud_day is not None:
        if args.genesys_cloud_day < 1:
            p.error("--genesys-cloud-day takes a positive number of conversations")
        work = args.work_dir or Path(tempfile.mkdtemp(prefix="gim-bench-"))
        work.mkdir(parents=True, exist_ok=True)
        gc = genesys_cloud_day(args.genesys_cloud_day, args, machine, work)
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "benchmark_genesys_cloud.json").write_text(json.dumps(gc, indent=1))
        (args.out / "benchmark_genesys_cloud.md").write_text(_gc_markdown(gc))
        print(_gc_markdown(gc))
        return 0 if "failed" not in gc else 1
    report: dict = {
        "machine": machine,
        "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "loadavg": Path("/proc/loadavg").read_text().split()[0] if Path("/proc/loadavg").exists() else "?",
        "sizes": {},
    }
    work = args.work_dir or Path(tempfile.mkdtemp(prefix="gim-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    for label in sizes:
        files, gen = ensure_data(label, args.data_dir)
        print(
            f"[{label}] {len(files)} files, {gen['bytes'] / 2**20:.0f} MiB (generated in {gen['generate_s']} s)",
            flush=True,
        )
        scans, reads, runs = [], [], []
        for _ in range(args.repeat):
            scan_s, n = bare_scan(files)
            scans.append(scan_s)
            reads.append(full_read(files, work))
            print(f"[{label}] bare scan: {n} lines in {scan_s:.2f} s; full read {reads[-1]:.2f} s", flush=True)
            run = run_pipeline_child(files, work, args.max_rss_gib)
            if "failed" in run:
                print(f"[{label}] pipeline FAILED: {run['failed']}", flush=True)
                report["sizes"][label] = {
                    "events": n,
                    "files": len(files),
                    "input_mib": gen["bytes"] / 2**20,
                    "bare_scan_s": scan_s,
                    **run,
                }
                break
            runs.append(run)
            print(
                f"[{label}] pipeline: {run['pipeline_s']:.1f} s, phases {run['phases_s']}, "
                f"tree peak RSS {run['tree_peak_rss_mib']:.0f} MiB, audit {run['audit']}",
                flush=True,
            )
        if not runs:
            continue
        best = min(runs, key=lambda r: r["pipeline_s"])
        scan = min(scans)
        report["sizes"][label] = {
            "events": n,
            "files": len(files),
            "input_mib": gen["bytes"] / 2**20,
            "generate_s": gen["generate_s"],
            "bare_scan_s": scan,
            "scan_events_per_s": n / scan,
            "pipeline_s": best["pipeline_s"],
            "pipeline_events_per_s": n / best["pipeline_s"],
            "pipeline_over_scan": best["pipeline_s"] / scan,
            "full_read_s": min(reads),
            "pipeline_over_full_read": best["pipeline_s"] / min(reads),
            "phases_s": best["phases_s"],
            "peak_rss_mib": best["tree_peak_rss_mib"],
            "cpu_s": best["cpu_s"],
            "self_maxrss_mib": best["self_maxrss_mib"],
            "children_maxrss_mib": best["children_maxrss_mib"],
            "audit": best["audit"],
            "success": best["success"],
            "all_pipeline_s": [r["pipeline_s"] for r in runs],
            "all_scan_s": scans,
            "all_full_read_s": reads,
        }
    done = {k: v for k, v in report["sizes"].items() if "pipeline_s" in v}
    if len(done) >= 2:
        small, large = min(done, key=lambda k: done[k]["events"]), max(done, key=lambda k: done[k]["events"])
        report["scaling"] = {
            "small": small,
            "large": large,
            "events_ratio": done[large]["events"] / done[small]["events"],
            "time_ratio": done[large]["pipeline_s"] / done[small]["pipeline_s"],
        }
    report["rusage_children_maxrss_mib"] = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "benchmark.json").write_text(json.dumps(report, indent=1))
    (args.out / "benchmark.md").write_text(_markdown(report))
    print(_markdown(report))
    return 0


def _markdown(report: dict) -> str:
    m = report["machine"]
    lines = [
        f"# gim-etl benchmark ({report['started']})",
        "",
        f"{m['cpus']} CPUs (load average {report['loadavg']} at the start), {m['platform']}, "
        f"Python {m['python']}, DuckDB {m['duckdb']}, Polars {m['polars']}",
        "",
        "| size | events | input MiB | bare scan s | full read s | pipeline s | events/s | pipeline/scan "
        "| pipeline/full read | peak RSS MiB | ingest s | derive s | mart load s (incl. derive) | serving publish s "
        "| CPU s |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for label, r in report["sizes"].items():
        if "failed" in r:
            lines.append(
                f"| {label} | {r['events']:,} | {r['input_mib']:.0f} | {r['bare_scan_s']:.2f} | | "
                f"FAILED: {r['failed'][:200]} | | | | {r['tree_peak_rss_mib']:.0f} | | | | | |"
            )
            continue
        ph = r["phases_s"]
        lines.append(
            f"| {label} | {r['events']:,} | {r['input_mib']:.0f} | {r['bare_scan_s']:.2f} | {r['full_read_s']:.2f} "
            f"| {r['pipeline_s']:.1f} | {r['pipeline_events_per_s']:,.0f} | {r['pipeline_over_scan']:.1f}x "
            f"| {r['pipeline_over_full_read']:.1f}x | {r['peak_rss_mib']:.0f} "
            f"| {ph.get('ingest', 0):.1f} | {ph.get('derive_facts', 0):.1f} "
            f"| {ph.get('mart_load_incl_derive', 0):.1f} | {ph.get('serving_publish', 0):.1f} | {r['cpu_s']:.0f} |"
        )
    if "scaling" in report:
        s = report["scaling"]
        lines += [
            "",
            f"{s['large']}/{s['small']}: {s['events_ratio']:.1f}x the events in {s['time_ratio']:.2f}x the time.",
        ]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
