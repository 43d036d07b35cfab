"""Golden fixtures: each documented flow as an event log plus its expected IRF and MSF rows per option setting
(and, for a chat flow, its CHAT_SESSION_FACT row).

`python -m etl.simulate.golden --write` regenerates fixtures/flows/; the expected rows are produced by the
public pipeline and reviewed against the documentation before they are committed. The tests compare every run
with them *and* with the descriptors the documentation page lists (fixtures/flows/<flow>/documented.yaml, read by
etl.simulate.documented), which are written by hand, so a snapshot can never silently bless a wrong rule.
"""

from __future__ import annotations

import argparse
import itertools
from collections.abc import Callable
from functools import partial
from pathlib import Path

import duckdb
import polars as pl

from etl.connections import connect
from etl.simulate.documented import FLOWS_DIR, OPTION_NAMES
from etl.simulate.flows import CHAT_FLOWS, DOCUMENTED, Cast
from etl.simulate.scenario import Scenario

#: Every option setting: the three GIM options give eight combinations.
OPTION_SETTINGS: list[dict[str, bool]] = [
    dict(zip(OPTION_NAMES, values, strict=True)) for values in itertools.product([False, True], repeat=3)
]


def setting_name(options: dict[str, bool]) -> str:
    """File-name form of an option setting, e.g. ``hold=0,ixnq=1,wb=0``."""
    short = {
        "populate-workbin-as-hold": "hold",
        "populate-mm-ixnqueue-facts": "ixnq",
        "populate-mm-workbin-facts": "wb",
    }
    return ",".join(f"{short[k]}={int(options.get(k, False))}" for k in OPTION_NAMES)


def flow_events(flow: str, cast: Cast | None = None, start: str = "2026-03-02T09:00:00.000Z") -> list[dict]:
    sc = Scenario(start=start, prefix=f"{flow}:")
    DOCUMENTED[flow][0](sc, cast or Cast(p=f"{flow}:"))
    return sc.events


#: The rows a golden file holds: what the documentation describes, by GIM name, without surrogate ids.
IRF_QUERY = """
SELECT i.MEDIA_SERVER_IXN_GUID AS IXN, r.RESOURCE_NAME AS RESOURCE, td.RESOURCE_ROLE, td.TECHNICAL_RESULT,
       td.RESULT_REASON, f.INTERACTION_RESOURCE_ORDINAL AS ORDINAL, f.START_TS, f.END_TS, f.ACTIVE_FLAG,
       f.MEDIATION_DURATION, f.QUEUE_DURATION, f.ROUTING_POINT_DURATION, mr.RESOURCE_NAME AS MEDIATION_RESOURCE,
       vq.RESOURCE_NAME AS LAST_VQUEUE, f.RING_COUNT, f.RING_DURATION, f.TALK_COUNT, f.TALK_DURATION, f.HOLD_COUNT,
       f.HOLD_DURATION, f.HANDLE_COUNT, f.STOP_ACTION, f.IRF_ANCHOR,
       f.CUSTOMER_HANDLE_COUNT, f.CUSTOMER_RING_DURATION, f.CUSTOMER_TALK_DURATION, f.CUSTOMER_HOLD_DURATION,
       f.CONS_INIT_TALK_DURATION, f.CONS_INIT_HOLD_DURATION, f.CONS_RCV_RING_DURATION, f.CONS_RCV_TALK_DURATION,
       f.CONS_RCV_HOLD_DURATION, f.CONF_JOIN_TALK_DURATION, f.CONFERENCE_INITIATED_COUNT, f.ANCHOR_FLAGS_KEY,
       f.MET_SERVICE_OBJECTIVE_FLAG, u.CUSTOMER_ID, d.SERVICE_TYPE, d.SERVICE_SUBTYPE, d.CUSTOMER_SEGMENT,
       d.BUSINESS_RESULT
FROM INTERACTION_RESOURCE_FACT f
JOIN INTERACTION_FACT i USING (INTERACTION_ID)
JOIN IRF_USER_DATA_GEN_1 u USING (INTERACTION_RESOURCE_ID)
JOIN IRF_USER_DATA_KEYS k USING (INTERACTION_RESOURCE_ID)
JOIN INTERACTION_DESCRIPTOR d USING (INTERACTION_DESCRIPTOR_KEY)
JOIN RESOURCE_ r ON r.RESOURCE_KEY = f.RESOURCE_KEY
JOIN TECHNICAL_DESCRIPTOR td ON td.TECHNICAL_DESCRIPTOR_KEY = f.TECHNICAL_DESCRIPTOR_KEY
JOIN RESOURCE_ mr ON mr.RESOURCE_KEY = f.MEDIATION_RESOURCE_KEY
JOIN RESOURCE_ vq ON vq.RESOURCE_KEY = f.LAST_VQUEUE_RESOURCE_KEY
WHERE i.MEDIA_SERVER_IXN_GUID LIKE ?
ORDER BY IXN, ORDINAL
"""

MSF_QUERY = """
SELECT i.MEDIA_SERVER_IXN_GUID AS IXN, r.RESOURCE_NAME AS RESOURCE, r.RESOURCE_SUBTYPE, d.TECHNICAL_RESULT,
       d.RESULT_REASON, m.START_TS, m.END_TS, m.ACTIVE_FLAG, m.MEDIATION_DURATION,
       tr.RESOURCE_NAME AS TARGET_RESOURCE, t.INTERACTION_RESOURCE_ORDINAL AS TARGET_ORDINAL
FROM MEDIATION_SEGMENT_FACT m
JOIN INTERACTION_FACT i USING (INTERACTION_ID)
JOIN RESOURCE_ r ON r.RESOURCE_KEY = m.RESOURCE_KEY
JOIN TECHNICAL_DESCRIPTOR d ON d.TECHNICAL_DESCRIPTOR_KEY = m.TECHNICAL_DESCRIPTOR_KEY
LEFT JOIN INTERACTION_RESOURCE_FACT t ON t.INTERACTION_RESOURCE_ID = m.TARGET_IXN_RESOURCE_ID
LEFT JOIN RESOURCE_ tr ON tr.RESOURCE_KEY = t.RESOURCE_KEY
WHERE i.MEDIA_SERVER_IXN_GUID LIKE ?
ORDER BY IXN, m.START_TS, RESOURCE
"""


#: A chat flow's CHAT_SESSION_FACT row (options do not change it: one file per flow).
CHAT_SESSION_QUERY = """
SELECT c.MEDIA_SERVER_IXN_GUID AS IXN, c.START_TS, c.SESSION_DURATION, c.MSG_FROM_CUSTOMERS_COUNT,
       c.MSG_FROM_AGENTS_COUNT, c.UNTIL_FIRST_AGENT_DURATION, c.UNTIL_FIRST_REPLY_DURATION, c.AGENT_REPLY_DURATION,
       c.CUSTOMER_REPLY_DURATION, c.CUSTOMER_WAIT_DURATION, c.AGENT_WAIT_DURATION, c.HANDLE_COUNT, c.HANDLE_DURATION,
       c.AGENTS_COUNT, d.ENDED_BY
FROM CHAT_SESSION_FACT c
JOIN CHAT_SESSION_DIM d ON d.ID = c.CHAT_SESSION_DIM_KEY
WHERE c.MEDIA_SERVER_IXN_GUID LIKE ?
ORDER BY IXN
"""


def query_chat_sessions(con: duckdb.DuckDBPyConnection, prefix: str) -> pl.DataFrame:
    return con.sql(CHAT_SESSION_QUERY, params=[f"{prefix}%"]).pl()


def chat_session_path(flow: str) -> Path:
    return FLOWS_DIR / flow / "expected_chat_session.csv"


def query_flow(con: duckdb.DuckDBPyConnection, prefix: str) -> tuple[pl.DataFrame, pl.DataFrame]:
    like = f"{prefix}%"
    return con.sql(IRF_QUERY, params=[like]).pl(), con.sql(MSF_QUERY, params=[like]).pl()


def expected_paths(flow: str, options: dict[str, bool]) -> tuple[Path, Path]:
    base = FLOWS_DIR / flow / setting_name(options)
    return base / "expected_irf.csv", base / "expected_msf.csv"


#: The chat flows are also kept with chat offline (`online-media-types` empty): the e-mail rules then apply to them.
OFFLINE = {"online-media-types": []}


def offline_paths(flow: str) -> tuple[Path, Path]:
    base = FLOWS_DIR / flow / "online-media-types=none"
    return base / "expected_irf.csv", base / "expected_msf.csv"


def write(tmp: Path) -> None:
    """Write fixtures/flows/<flow>/events.jsonl and the expected rows of every option setting (documented.yaml is
    written by hand)."""
    for flow in DOCUMENTED:
        Scenario().write_ndjson(FLOWS_DIR / flow / "events.jsonl", flow_events(flow))
    for options in OPTION_SETTINGS:
        paths, default = partial(expected_paths, options=options), not any(options.values())
        _write_rows(tmp / f"{setting_name(options)}.duckdb", options, list(DOCUMENTED), paths, sessions=default)
    _write_rows(tmp / "offline.duckdb", OFFLINE, list(CHAT_FLOWS), offline_paths, sessions=False)


def _write_rows(
    db: Path, options: dict, flows: list[str], paths: Callable[[str], tuple[Path, Path]], sessions: bool
) -> None:
    """Load every flow under `options` into `db`, then write the IRF and MSF rows of `flows` to `paths(flow)`
    (and, with `sessions`, the chat flows' CHAT_SESSION_FACT rows)."""
    from etl.domain.options import GimOptions
    from etl.pipeline.load import load_files

    load_files([FLOWS_DIR], db, GimOptions.model_validate(options))
    con = connect(db, read_only=True)
    try:
        for flow in flows:
            for frame, path in zip(query_flow(con, f"{flow}:"), paths(flow), strict=True):
                path.parent.mkdir(parents=True, exist_ok=True)
                frame.write_csv(path)
            if sessions and flow in CHAT_FLOWS:
                query_chat_sessions(con, f"{flow}:").write_csv(chat_session_path(flow))
    finally:
        con.close()


def main() -> None:
    import tempfile

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--write", action="store_true", required=True)
    parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        write(Path(tmp))


if __name__ == "__main__":
    main()
