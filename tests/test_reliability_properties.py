"""Property tests of issue 18: whatever mix of sources numbering their events alike, repeated deliveries, clocks
far ahead, junk lines and file splits, every line physically present in the inputs is loaded, a counted
duplicate, a counted conflict or quarantined; and the outcome does not depend on file names or order."""

from __future__ import annotations

import json
import random
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from reliability_helpers import events_of, load, physical_lines, rows, write_lines

from etl.simulate.scenario import iso

SKEW_S = 24 * 3600

interactions = st.lists(
    st.fixed_dictionaries(
        {
            "source": st.integers(0, 2),  # sources number their events alike: same ids across sources
            "ahead_days": st.sampled_from([0, 0, 0, 2, 3000]),  # a clock far ahead (beyond the allowed skew)
            "repeat": st.booleans(),  # some events delivered twice
        }
    ),
    min_size=1,
    max_size=5,
)


def _lines(spec: list[dict], junk: int, seed: int) -> tuple[list[str], set[str], set[str]]:
    """The input lines, the event ids given to different payloads, and the ids dated beyond the skew."""
    now_ms = int(datetime.now(UTC).timestamp() * 1000)
    lines: list[str] = []
    payloads: dict[str, set[str]] = {}
    future: set[str] = set()
    for n, ixn in enumerate(spec):
        start = iso(now_ms - 3_600_000 + ixn["ahead_days"] * 86_400_000 + n * 1000)
        events = events_of(f"ixn{n}", prefix=f"s{ixn['source']}-", start=start)
        for e in events:
            text = json.dumps(e, sort_keys=True)
            payloads.setdefault(e["event_id"], set()).add(text)
            if ixn["ahead_days"] * 86400 > SKEW_S:
                future.add(e["event_id"])
            lines += [json.dumps(e)] * (2 if ixn["repeat"] else 1)
    rng = random.Random(seed)
    lines += [rng.choice(["{", "nul", '{"event": 1}', "[1,]", '{"a": NaN}']) for _ in range(junk)]
    rng.shuffle(lines)
    conflicting = {i for i, p in payloads.items() if len(p) > 1}
    return lines, conflicting, future


def _load(base: Path, lines: list[str], names: list[str]) -> tuple[Path, list[Path]]:
    parts = len(names)
    paths = [write_lines(base / name, lines[i::parts]) for i, name in enumerate(names)]
    db = base / "m.duckdb"
    load(db, base)
    return db, paths


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(spec=interactions, junk=st.integers(0, 5), parts=st.integers(1, 3), seed=st.integers(0, 10**6))
def test_every_line_is_accounted_for_and_names_do_not_matter(
    spec: list[dict], junk: int, parts: int, seed: int
) -> None:
    lines, conflicting, future = _lines(spec, junk, seed)
    outcomes = []
    for names in ([f"a{i}.jsonl" for i in range(parts)], [f"z{parts - i}.ndjson" for i in range(parts)]):
        with tempfile.TemporaryDirectory() as tmp:
            db, paths = _load(Path(tmp), lines, names)
            (read, loaded, dup, conflict, quarantined) = rows(
                db,
                "SELECT EVENTS_READ, EVENTS_LOADED, EVENTS_DUPLICATE, EVENTS_CONFLICT, EVENTS_QUARANTINED"
                " FROM CTL_AUDIT_LOG",
            )[0]
            assert physical_lines(*paths) == read == loaded + dup + conflict + quarantined
            stored = {r[0]: r[1] for r in rows(db, "SELECT EVENT_ID, TS_MS FROM STG_EVENTS")}
            assert len(stored) == loaded
            assert not (set(stored) & conflicting)  # a conflict is never silently resolved
            assert not (set(stored) & future)  # a clock far ahead never gets in
            q = rows(db, "SELECT SOURCE_FILE, SOURCE_LINE, REASON, RAW FROM STG_EVENT_QUARANTINE")
            assert len(q) == conflict + quarantined and all(raw is not None for *_, raw in q)
            expected = sum(
                1 for line in lines if line.startswith('{"event_id"') and json.loads(line)["event_id"] in conflicting
            )
            assert conflict == expected
            outcomes.append((sorted(stored), sorted(r for _, _, r, _ in q if "conflicting" not in r), loaded, dup))
    assert outcomes[0] == outcomes[1]
