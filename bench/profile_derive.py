"""cProfile of the facts derivation on a generated event set: python bench/profile_derive.py DIR [--no-profile]."""

from __future__ import annotations

import cProfile
import pstats
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import polars as pl  # noqa: E402

from etl.domain.options import GimOptions  # noqa: E402
from etl.ingest.staging import read_events  # noqa: E402
from etl.transform.facts import derive_facts  # noqa: E402

src = Path(sys.argv[1])
cache = src / ".events.parquet"
if not cache.exists():
    t0 = time.perf_counter()
    read_events([src], run_id="profile").events.write_parquet(cache)
    print(f"ingest {time.perf_counter() - t0:.1f} s")
events = pl.read_parquet(cache)
print(f"{events.height} events, rss {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")
t0 = time.perf_counter()
if "--no-profile" in sys.argv:
    facts = derive_facts(events, GimOptions())
else:
    prof = cProfile.Profile()
    facts = prof.runcall(derive_facts, events, GimOptions())
    pstats.Stats(prof).sort_stats("tottime").print_stats(25)
print(
    f"derive {time.perf_counter() - t0:.1f} s; ixn {facts.interactions.height} irf {facts.irfs.height} "
    f"msf {facts.msfs.height}; peak rss {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB"
)
