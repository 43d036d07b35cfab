"""Check that derive_facts gives the same frames as a reference copy of facts.py, and time both.

python bench/compare_derive.py EVENTS_DIR REFERENCE_FACTS_PY
"""

from __future__ import annotations

import importlib.util
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import polars as pl  # noqa: E402
from polars.testing import assert_frame_equal  # noqa: E402

from etl.domain.options import GimOptions  # noqa: E402
from etl.ingest.staging import read_events  # noqa: E402
from etl.transform import facts as new  # noqa: E402

src = Path(sys.argv[1])
cache = src / ".events.parquet"
if not cache.exists():
    read_events([src], run_id="compare").events.write_parquet(cache)
events = pl.read_parquet(cache)
spec = importlib.util.spec_from_file_location("facts_ref", sys.argv[2])
ref = importlib.util.module_from_spec(spec)
spec.loader.exec_module(ref)
for opts in (GimOptions(), GimOptions(**{"populate-workbin-as-hold": True, "populate-mm-ixnqueue-facts": True})):
    t0 = time.perf_counter()
    a = ref.derive_facts(events, opts)
    t1 = time.perf_counter()
    b = new.derive_facts(events, opts)
    t2 = time.perf_counter()
    for name in ("interactions", "irfs", "msfs", "resources", "rejected"):
        assert_frame_equal(getattr(a, name), getattr(b, name))
    print(f"{events.height} events: identical; reference {t1 - t0:.1f} s, new {t2 - t1:.1f} s", flush=True)
