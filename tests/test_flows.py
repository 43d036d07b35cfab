"""Golden tests: every documented e-mail and chat flow, under every option setting, through the public entry point.

Two oracles: the descriptors the documentation page lists (hand-written in fixtures/flows/<flow>/documented.yaml,
read into etl.simulate.flows.DOCUMENTED) and the reviewed golden rows in
fixtures/flows/<flow>/<setting>/expected_*.csv (metrics, links, MSFs).
"""

from __future__ import annotations

from collections import Counter

import duckdb
import polars as pl
import pytest
from conftest import run_cli

from etl.simulate.documented import irf_expectation, msf_expectation
from etl.simulate.flows import CHAT_FLOWS, DOCUMENTED, OPEN_MEDIA_FLOWS, Cast, cast_ids, queue_names
from etl.simulate.golden import (
    FLOWS_DIR,
    OPTION_SETTINGS,
    chat_session_path,
    expected_paths,
    offline_paths,
    query_chat_sessions,
    query_flow,
    setting_name,
)


def _option_args(options: dict[str, bool]) -> list[str]:
    return [a for k, v in options.items() for a in ("--option", f"{k}={str(v).lower()}")]


@pytest.fixture(scope="module", params=OPTION_SETTINGS, ids=setting_name)
def flows_mart(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    """All 18 flows in one run (interleaved in time and files), per option setting."""
    db = tmp_path_factory.mktemp("flows") / "mart.duckdb"
    assert run_cli("--events", str(FLOWS_DIR), "--db", str(db), *_option_args(request.param)) == 0
    con = duckdb.connect(str(db), read_only=True)
    yield request.param, con
    con.close()


def _documented_labels(irf: pl.DataFrame, flow: str) -> Counter:
    names = {v: k for k, v in cast_ids(Cast(p=f"{flow}:")).items()}
    return Counter(
        (
            row["IXN"].removeprefix(f"{flow}:"),
            names.get(row["RESOURCE"], row["RESOURCE"]),
            f"{row['RESOURCE_ROLE']}/{row['TECHNICAL_RESULT']}"
            + ("" if row["RESULT_REASON"] == "Unspecified" else f" [{row['RESULT_REASON']}]"),
        )
        for row in irf.iter_rows(named=True)
    )


@pytest.mark.parametrize("flow", list(DOCUMENTED))
def test_flow_matches_documentation_and_golden_rows(flows_mart, flow: str) -> None:
    options, con = flows_mart
    irf, msf = query_flow(con, f"{flow}:")
    # 1. The descriptors the documentation illustrates (they change only with populate-workbin-as-hold).
    assert _documented_labels(irf, flow) == Counter(irf_expectation(flow, options).irf)
    # 2. The MSFs the documentation's diagram shows, where it shows this exact option setting.
    exact = msf_expectation(flow, options)
    if exact is not None:
        qnames = {v: k for k, v in queue_names(Cast()).items()}
        got = Counter(
            (r["IXN"].removeprefix(f"{flow}:"), qnames.get(r["RESOURCE"], r["RESOURCE"]))
            for r in msf.iter_rows(named=True)
        )
        assert got == Counter(exact.msf)
    # 3. The reviewed golden rows: every metric and link.
    irf_path, msf_path = expected_paths(flow, options)
    assert irf.equals(pl.read_csv(irf_path, schema=irf.schema)), f"IRF rows differ from {irf_path}"
    assert msf.equals(pl.read_csv(msf_path, schema=msf.schema)), f"MSF rows differ from {msf_path}"
    # 4. A chat flow's session (CHAT_SESSION_FACT), the same under every option setting.
    if flow in CHAT_FLOWS:
        sessions = query_chat_sessions(con, f"{flow}:")
        path = chat_session_path(flow)
        assert sessions.equals(pl.read_csv(path, schema=sessions.schema)), f"CHAT_SESSION_FACT differs from {path}"


def test_every_flow_has_events_and_goldens() -> None:
    for flow in DOCUMENTED:
        assert (FLOWS_DIR / flow / "events.jsonl").stat().st_size > 0
        for options in OPTION_SETTINGS:
            assert all(p.exists() for p in expected_paths(flow, options)), (flow, options)
    # 18 documented e-mail flows (the two "draft reply" flows share events: hold/mediation), the chat flows and
    # the open-media (workitem) flow.
    assert len(DOCUMENTED) == 17 + len(CHAT_FLOWS) + len(OPEN_MEDIA_FLOWS) and len(CHAT_FLOWS) == 10
    for flow in CHAT_FLOWS:
        assert chat_session_path(flow).exists(), flow


def test_workbin_hold_measures_the_time_in_the_own_workbin(flows_mart) -> None:
    options, con = flows_mart
    irf, _ = query_flow(con, "draft_reply:")
    out = irf.filter(pl.col("IXN") == "draft_reply:OUT")
    if options["populate-workbin-as-hold"]:
        assert out["HOLD_COUNT"].to_list() == [1] and out["HOLD_DURATION"].to_list() == [3600]
    else:
        assert out["HOLD_COUNT"].to_list() == [0, 0]
        assert out.filter(pl.col("RESOURCE_ROLE") == "Puller")["MEDIATION_DURATION"].to_list() == [3600]


@pytest.fixture(scope="module")
def offline_mart(tmp_path_factory: pytest.TempPathFactory):
    """Every flow with chat offline (`online-media-types` empty): the chat flows then follow the e-mail rules."""
    db = tmp_path_factory.mktemp("offline") / "mart.duckdb"
    assert run_cli("--events", str(FLOWS_DIR), "--db", str(db), "--option", "online-media-types=") == 0
    con = duckdb.connect(str(db), read_only=True)
    yield con
    con.close()


@pytest.mark.parametrize("flow", list(CHAT_FLOWS))
def test_chat_flow_offline_matches_its_golden_rows_and_has_no_online_facts(offline_mart, flow: str) -> None:
    irf, msf = query_flow(offline_mart, f"{flow}:")
    irf_path, msf_path = offline_paths(flow)
    assert irf.equals(pl.read_csv(irf_path, schema=irf.schema)), f"IRF rows differ from {irf_path}"
    assert msf.equals(pl.read_csv(msf_path, schema=msf.schema)), f"MSF rows differ from {msf_path}"
    # No customer in a session offline: no customer abandonment, no session row, no customer-left flag.
    online = {"AbandonedWhileQueued", "AbandonedWhileRinging"}
    assert not online & set(irf["RESULT_REASON"]) and not online & set(msf["RESULT_REASON"])
    assert query_chat_sessions(offline_mart, f"{flow}:").height == 0
    assert all(k & 32 == 0 for k in irf["ANCHOR_FLAGS_KEY"].fill_null(0))
