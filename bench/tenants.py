"""Tenants in parallel against one after the other (issue 21), on this machine.

    PYTHONPATH=. python bench/tenants.py prepare --dir /tmp/tenants --tenants 4 --interactions 800
    PYTHONPATH=. python bench/tenants.py load --dir /tmp/tenants --mode parallel     # all tenants' runs at once
    PYTHONPATH=. python bench/tenants.py load --dir /tmp/tenants --mode sequential   # one run after the other

`prepare` writes one generated day per tenant (its own seed; every event carries `tenant`), `load` runs one
`gim-etl run` process per tenant into that tenant's own fresh mart, the way Dagster's queued run coordinator runs
one run (one process) per tenant partition with `dagster_home/dagster.yaml`'s limit of one writer per tenant.
Time the two `load` modes against each other with a whole-process timer (e.g. `/usr/bin/time -v`, several runs,
pairs alternated) and quote the ratio: the machine is shared and its absolute speed drifts.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
GIM_ETL = Path(sys.executable).with_name("gim-etl")


def prepare(out: Path, tenants: int, interactions: int) -> None:
    """One generated day per tenant, each event tagged with its tenant (contract `tenant`)."""
    shutil.rmtree(out, ignore_errors=True)
    for n in range(tenants):
        raw, tenant = out / f"raw-{n}", f"Tenant{n}"
        subprocess.run(
            [str(GIM_ETL), "generate", "--out", str(raw), "--interactions-per-day", str(interactions),
             "--files", "1", "--seed", str(100 + n)],
            check=True, stdout=subprocess.DEVNULL,
        )  # fmt: skip
        target = out / tenant
        target.mkdir(parents=True)
        for path in sorted(raw.glob("*.jsonl")):
            with path.open(encoding="utf-8") as src, (target / path.name).open("w", encoding="utf-8") as dst:
                for line in src:
                    event = json.loads(line)
                    event["tenant"] = tenant
                    dst.write(json.dumps(event, separators=(",", ":")) + "\n")
        shutil.rmtree(raw)
    print(f"wrote {tenants} tenants under {out}")


def load(out: Path, mode: str) -> int:
    """One `gim-etl run` per tenant into a fresh mart: all started at once, or each after the previous one."""
    tenants = sorted(p for p in out.iterdir() if p.is_dir() and not p.name.startswith("mart"))
    marts = out / "marts"
    shutil.rmtree(marts, ignore_errors=True)
    marts.mkdir()

    def command(t: Path) -> list[str]:
        return [str(GIM_ETL), "run", "--quiet", "--events", str(t), "--db", str(marts / f"{t.name}.duckdb")]

    if mode == "sequential":
        codes = [subprocess.run(command(t), stdout=subprocess.DEVNULL).returncode for t in tenants]
    else:
        procs = [subprocess.Popen(command(t), stdout=subprocess.DEVNULL) for t in tenants]
        codes = [p.wait() for p in procs]
    return max(codes, default=0)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("prepare")
    p.add_argument("--dir", type=Path, required=True)
    p.add_argument("--tenants", type=int, default=4)
    p.add_argument("--interactions", type=int, default=800)
    lo = sub.add_parser("load")
    lo.add_argument("--dir", type=Path, required=True)
    lo.add_argument("--mode", choices=("parallel", "sequential"), required=True)
    args = parser.parse_args()
    if args.command == "prepare":
        prepare(args.dir, args.tenants, args.interactions)
        return 0
    return load(args.dir, args.mode)


if __name__ == "__main__":
    raise SystemExit(main())
