"""Agent states: golden agents' days (fixtures/agent_states/: two media, ACW, DND, reasons, a session still open,
an agent who never logged in, out-of-order delivery over two files) give the documented rows after each run; one
run, repeated runs and any split of the events into batches give the same facts; GIM's options change them as
documented."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import duckdb
import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from etl.connections import connect
from etl.domain.agent_states import derive_agent
from etl.domain.options import GimOptions
from etl.ingest.staging import stage_events
from etl.pipeline.load import load_run
from etl.storage.quality import counts_add_up, references_resolve

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "agent_states"
FILES = [FIXTURES / "events-1.jsonl", FIXTURES / "events-2.jsonl"]
LATE_WINDOW_S = 3 * 3600  # windows run on the loader's clock: a test's runs are seconds apart, none waits it out

# Rows of one agent and media in time order: (START_TS, END_TS) (a 0 s state ends where the next one begins, in
# the same second); keys follow time order only among rows first derived by the same run.
_HMS = "strftime(make_timestamp({c} * 1000000), '%H:%M:%S')"
_END = f"CASE WHEN f.ACTIVE_FLAG = 1 THEN NULL ELSE {_HMS.format(c='f.END_TS')} END"
_WHO = "r.RESOURCE_NAME AS agent, lower(m.MEDIA_NAME) AS media"
_SPAN = f"{_HMS.format(c='f.START_TS')} AS start, {_END} AS end, f.TOTAL_DURATION AS duration, f.ACTIVE_FLAG AS active"
_JOINS = "JOIN RESOURCE_ r ON r.RESOURCE_KEY = f.RESOURCE_KEY JOIN MEDIA_TYPE m ON m.MEDIA_TYPE_KEY = f.MEDIA_TYPE_KEY"
QUERIES = {
    "sessions": f"SELECT {_WHO}, {_SPAN} FROM SM_RES_SESSION_FACT f {_JOINS} ORDER BY agent, media, f.START_TS",
    "states": f"SELECT {_WHO}, s.STATE_NAME AS state, {_SPAN} FROM SM_RES_STATE_FACT f {_JOINS}"
    " JOIN RESOURCE_STATE s ON s.RESOURCE_STATE_KEY = f.RESOURCE_STATE_KEY"
    " ORDER BY agent, media, f.START_TS, f.END_TS, f.SM_RES_STATE_FACT_KEY",
    "reasons": f"SELECT {_WHO}, s.STATE_NAME AS state, x.REASON_TYPE AS reason_type,"
    " x.HARDWARE_REASON AS hardware_reason,"
    " x.SOFTWARE_REASON_KEY AS software_key, x.SOFTWARE_REASON_VALUE AS software_value, x.WORKMODE AS workmode,"
    f" {_SPAN} FROM SM_RES_STATE_REASON_FACT f {_JOINS}"
    " JOIN RESOURCE_STATE s ON s.RESOURCE_STATE_KEY = f.RESOURCE_STATE_KEY"
    " JOIN RESOURCE_STATE_REASON x ON x.RESOURCE_STATE_REASON_KEY = f.RESOURCE_STATE_REASON_KEY"
    " ORDER BY agent, media, f.START_TS, f.END_TS, f.SM_RES_STATE_REASON_FACT_KEY",
}


def load(db: Path, files: list[Path], run_id: str, late_window_s: int = 86400, options: GimOptions | None = None):
    with tempfile.TemporaryDirectory() as tmp:
        staged = stage_events(files, run_id, Path(tmp))
        con = connect(db)
        try:
            return load_run(con, staged, options or GimOptions(), late_window_s=late_window_s)
        finally:
            con.close()


def facts(db: Path) -> dict[str, list[dict]]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return {name: con.sql(sql).pl().to_dicts() for name, sql in QUERIES.items()}
    finally:
        con.close()


def expected(name: str, after_run: int) -> list[dict]:
    frame = pl.read_csv(FIXTURES / f"expected_{name}.csv", infer_schema_length=0)
    frame = frame.filter(pl.col("after_run") == str(after_run)).drop("after_run")
    frame = frame.with_columns(pl.col("duration", "active").cast(pl.Int64))
    return frame.to_dicts()


def test_golden_days_over_two_out_of_order_files(tmp_path: Path) -> None:
    db = tmp_path / "m.duckdb"
    first = load(db, FILES[:1], "run-1", LATE_WINDOW_S)
    got = facts(db)
    for name in QUERIES:
        assert got[name] == expected(name, 1), name
    assert first.events_quarantined == 0  # a2's Ready before its login (file 2) and a3's event wait
    # the window runs on the loader's clock from when run 1 stored a3's event: window 0 = it has passed by run 2
    second = load(db, FILES[1:], "run-2", 0)
    got = facts(db)
    for name in QUERIES:
        assert got[name] == expected(name, 2), name
    con = duckdb.connect(str(db), read_only=True)
    q = con.sql("SELECT SOURCE_FILE, SOURCE_LINE, FIELD, REASON, EVENT_ID FROM STG_EVENT_QUARANTINE").fetchall()
    assert len(q) == 1 and q[0][4] == "as019" and q[0][2] == "actor.id" and q[0][0].endswith("events-1.jsonl")
    assert "agent 'a3'" in q[0][3] and "late-arrival window" in q[0][3]
    audit = con.sql(
        "SELECT SM_RES_SESSION_FACT_ROWS, SM_RES_STATE_FACT_ROWS, SM_RES_STATE_REASON_FACT_ROWS FROM CTL_AUDIT_LOG"
        " ORDER BY AUDIT_KEY"
    ).fetchall()
    assert audit == [(2, 13, 5), (3, 17, 7)]
    assert counts_add_up(con).passed and second.events_quarantined == 1
    assert references_resolve(con).passed, references_resolve(con).description
    # references resolve: reasons -> states -> sessions
    orphans = con.sql(
        "SELECT (SELECT count(*) FROM SM_RES_STATE_FACT s WHERE s.SM_RES_SESSION_FACT_KEY NOT IN"
        " (SELECT SM_RES_SESSION_FACT_KEY FROM SM_RES_SESSION_FACT)) + (SELECT count(*) FROM SM_RES_STATE_REASON_FACT x"
        " WHERE x.SM_RES_STATE_FACT_KEY NOT IN (SELECT SM_RES_STATE_FACT_KEY FROM SM_RES_STATE_FACT))"
    ).fetchall()[0][0]
    assert orphans == 0
    con.close()


def _keys(db: Path) -> dict[tuple, int]:
    con = duckdb.connect(str(db), read_only=True)
    rows = con.sql(
        "SELECT RESOURCE_KEY, MEDIA_TYPE_KEY, START_TS, SM_RES_STATE_FACT_KEY, ACTIVE_FLAG FROM SM_RES_STATE_FACT"
    ).fetchall()
    con.close()
    return {r[:3]: (r[3], r[4]) for r in rows}


def test_active_state_completed_in_place_and_reruns_change_nothing(tmp_path: Path) -> None:
    db = tmp_path / "m.duckdb"
    load(db, FILES[:1], "run-1", LATE_WINDOW_S)
    before = _keys(db)
    load(db, FILES[1:], "run-2", LATE_WINDOW_S)
    after = _keys(db)
    completed = [k for k, (_, active) in before.items() if active == 1]
    assert completed and all(after[k][0] == before[k][0] and after[k][1] == 0 for k in completed)
    assert all(after[k][0] == before[k][0] for k in before)  # late events renumber nothing
    snapshot = facts(db)
    load(db, FILES, "run-3", LATE_WINDOW_S)  # the same files again: all duplicates
    assert facts(db) == snapshot and _keys(db) == after


def test_one_run_gives_the_same_facts_as_two(tmp_path: Path) -> None:
    db = tmp_path / "m.duckdb"
    load(db, FILES, "run-1", LATE_WINDOW_S)
    got = facts(db)
    for name in ("sessions", "states", "reasons"):
        assert got[name] == expected(name, 2), name


_EVENTS = [line for f in FILES for line in f.read_text().splitlines()]


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(batch_of=st.lists(st.integers(0, 2), min_size=len(_EVENTS), max_size=len(_EVENTS)), seed=st.randoms())
def test_any_split_into_batches_gives_the_same_facts(tmp_path_factory: pytest.TempPathFactory, batch_of, seed) -> None:
    work = tmp_path_factory.mktemp("split")
    lines = list(_EVENTS)
    seed.shuffle(lines)
    db = work / "m.duckdb"
    for b in range(3):
        part = [line for line, k in zip(lines, batch_of, strict=True) if k == b]
        if part:
            path = work / f"b{b}.jsonl"
            path.write_text("\n".join(part) + "\n")
            load(db, [path], f"run-{b}")
    got = facts(db)
    for name in QUERIES:
        assert got[name] == expected(name, 2), name


# ------------------------------------------------------------------------------------------------------------
# GIM's options, one call from a test (etl.domain.agent_states.derive_agent)


def _ev(n: int, event: str, t: str, **kw) -> dict:
    h, m, s = (int(x) for x in t.split(":"))
    return {"event_id": f"e{n:02d}", "event": event, "ts_ms": (h * 3600 + m * 60 + s) * 1000, "seq": None, **kw}


DAY = [
    _ev(1, "EventAgentLogin", "08:00:00", media_type="email"),
    _ev(2, "EventReadyForMedia", "08:00:00", media_type="email"),
    _ev(3, "EventDoNotDisturbOn", "09:00:00"),
    _ev(4, "EventDoNotDisturbOff", "09:30:00"),
    _ev(5, "EventAgentLogout", "16:00:00"),
]


def _states(options: GimOptions, events: list[dict] = DAY) -> list[tuple[str, int, int]]:
    rows = derive_agent("Resources", "a", events, options, horizon_ms=10**12).rows
    return [(s.state, s.span.start_s, s.span.end_s) for s in rows.states]


def test_dnd_is_not_ready_by_default_and_ignored_when_not_factored() -> None:
    h = 3600
    assert _states(GimOptions()) == [
        ("LoggedOnOnly", 8 * h, 8 * h),
        ("Ready", 8 * h, 9 * h),
        ("NotReady", 9 * h, 9 * h + 1800),
        ("Ready", 9 * h + 1800, 13 * h + 1800),  # max-state-duration 14400 s: ended 4 h after it began
    ]
    unfactored = _states(GimOptions.load(overrides=["factor-dnd-into-sm-resource-states=false"]))
    assert [s[0] for s in unfactored] == ["LoggedOnOnly", "Ready"]


def test_state_priority_and_max_durations_are_options() -> None:
    ready_first = GimOptions.load(overrides=["sm-resource-state-priority=READY,ACW,NOT_READY,BUSY"])
    assert [s[0] for s in _states(ready_first)] == ["LoggedOnOnly", "Ready"]  # DND never wins over Ready
    short = GimOptions.load(overrides=["max-state-duration=600", "max-session-duration-in-hours=2"])
    states = _states(short)
    assert states[1] == ("Ready", 8 * 3600, 8 * 3600 + 600)
    rows = derive_agent("Resources", "a", DAY, short, horizon_ms=10**12).rows
    assert [(s.span.start_s, s.span.end_s) for s in rows.sessions] == [(8 * 3600, 10 * 3600)]
    assert all(s.span.end_s <= 10 * 3600 for s in rows.states)
    with pytest.raises(ValueError, match="unknown state"):
        GimOptions.load(overrides=["sm-resource-state-priority=ACW,SLEEPING"])


def test_dnd_before_any_media_is_not_reported() -> None:
    events = [
        _ev(1, "EventAgentLogin", "08:00:00"),
        _ev(2, "EventDoNotDisturbOn", "08:00:01"),
        _ev(3, "EventMediaAdded", "08:00:02", media_type="chat"),
        _ev(4, "EventReadyForMedia", "08:00:03", media_type="chat"),
        _ev(5, "EventAgentLogout", "08:10:00"),
    ]
    assert [s[0] for s in _states(GimOptions(), events)] == ["LoggedOnOnly", "Ready"]


def test_options_in_the_toml_file(tmp_path: Path) -> None:
    cfg = tmp_path / "gim.toml"
    cfg.write_text('[gim-etl]\nmax-state-duration = 900\nsm-resource-state-priority = "NOT_READY, ACW, BUSY, READY"\n')
    options = GimOptions.load(cfg, ["max-session-duration-in-hours=10"])
    assert (options.max_state_duration, options.max_session_duration_in_hours) == (900, 10)
    assert json.loads(json.dumps(options.as_gim_dict()))["sm-resource-state-priority"].startswith("NOT_READY")


# ------------------------------------------------------------------------------------------------------------
# RAA-style interval views: clipped at interval edges, adding up to the session time


def test_interval_views_add_up_to_session_time(tmp_path: Path) -> None:
    db = tmp_path / "m.duckdb"
    load(db, FILES, "run-1", LATE_WINDOW_S)
    con = duckdb.connect(str(db), read_only=True)
    sessions = dict(
        con.sql(
            "SELECT r.RESOURCE_NAME || '/' || lower(m.MEDIA_NAME), sum(f.TOTAL_DURATION) FROM SM_RES_SESSION_FACT f"
            f" {_JOINS} WHERE f.ACTIVE_FLAG = 0 GROUP BY 1"
        ).fetchall()
    )
    assert sessions == {"a1/chat": 14395, "a1/email": 16195}
    states = "READY_TIME + NOT_READY_TIME + WRAP_TIME + BUSY_TIME + LOGGED_ON_ONLY_TIME"
    for grain in ("SUBHR", "HOUR", "DAY"):
        login = dict(
            con.sql(
                f"SELECT AGENT_NAME || '/' || lower(MEDIA_NAME), sum(LOGIN_TIME) FROM AG2_AGENT_STATE_{grain}"
                " WHERE LOGIN_TIME > 0 GROUP BY 1"
            ).fetchall()
        )
        assert login == sessions, grain
        # every interval of a1 (whose sessions are complete): the states fill the login time exactly
        bad = con.sql(
            f"SELECT * FROM AG2_AGENT_STATE_{grain} WHERE AGENT_NAME = 'a1' AND LOGIN_TIME <> {states}"
        ).fetchall()
        assert bad == [], grain
        wrap = con.sql(f"SELECT sum(WRAP_TIME) FROM AG2_AGENT_STATE_{grain}").fetchall()[0][0]
        assert wrap == 120, grain
    quarter = con.sql(
        "SELECT READY_TIME, WRAP_TIME, LOGIN_TIME FROM AG2_AGENT_STATE_SUBHR WHERE AGENT_NAME = 'a1'"
        " AND MEDIA_NAME = 'Email' AND LABEL = '2026-03-02 08:30'"
    ).fetchall()
    assert quarter == [(780, 120, 900)]  # ACW 08:30-08:32, then Ready: cut at the 08:45 edge
    by_reason = con.sql(
        "SELECT REASON, WORKMODE, STATE_TIME FROM AG2_AGENT_STATE_RSN_SUBHR WHERE AGENT_NAME = 'a1'"
        " AND MEDIA_NAME = 'Chat' AND LABEL = '2026-03-02 09:15' ORDER BY REASON"
    ).fetchall()
    assert by_reason == [("Break", "AuxWork", 300), ("Coaching", "AuxWork", 300)]
    day = con.sql(
        "SELECT REASON, STATE_TIME FROM AG2_AGENT_STATE_RSN_DAY WHERE AGENT_NAME = 'a1' AND MEDIA_NAME = 'Chat'"
        " ORDER BY REASON"
    ).fetchall()
    assert day == [("Break", 300), ("Coaching", 900), ("DoNotDisturb", 600), ("Lunch", 1200)]
    con.close()


def test_after_call_work_lands_on_the_irf_it_follows(tmp_path: Path) -> None:
    """a1's ACW (08:30-08:32, file 1) follows its e-mail IN-1 (handled 08:21:10-08:30, file 2, delivered later)."""
    db = tmp_path / "m.duckdb"
    load(db, FILES[:1], "run-1", LATE_WINDOW_S)
    load(db, FILES[1:], "run-2", LATE_WINDOW_S)
    query = (
        "SELECT r.RESOURCE_NAME, f.AFTER_CALL_WORK_COUNT, f.AFTER_CALL_WORK_DURATION FROM INTERACTION_RESOURCE_FACT f"
        " JOIN RESOURCE_ r ON r.RESOURCE_KEY = f.RESOURCE_KEY WHERE r.RESOURCE_TYPE = 'Agent'"
    )
    con = duckdb.connect(str(db), read_only=True)
    assert con.sql(query).fetchall() == [("a1", 1, 120)]
    wrap = con.sql("SELECT sum(WRAP_TIME), sum(HANDLE_TIME) FROM AG2_AGENT_IRF").fetchall()
    assert wrap == [(120, 530 + 120)]  # talk 08:21:10-08:30:00 plus the wrap
    con.close()
    one = tmp_path / "one.duckdb"
    load(one, FILES, "run-1", LATE_WINDOW_S)
    con = duckdb.connect(str(one), read_only=True)
    assert con.sql(query).fetchall() == [("a1", 1, 120)]
    con.close()


def test_report_has_an_agent_state_section(tmp_path: Path) -> None:
    from etl.bi.report import COLORS, render_report

    db = tmp_path / "m.duckdb"
    load(db, FILES, "run-1", LATE_WINDOW_S)
    con = duckdb.connect(str(db), read_only=True)
    page = render_report(con)
    con.close()
    assert "<h2>Agent states</h2>" in page
    chart = page.split('id="chart-agent-states"')[1].split("</figure>")[0]
    assert "<svg" in chart and "a1 ready: 7:26:00" in chart  # email 15 420 s + chat 11 340 s of Ready = 7.4 h
    for color in COLORS["agent-states"][:3]:  # ready, not ready, wrap are drawn
        assert f'fill="{color}"' in chart
    reasons = page.split('id="chart-not-ready-reasons"')[1].split("</figure>")[0]
    assert "Lunch" in reasons and "DoNotDisturb" in reasons
    # login time by agent and media: a1 e-mail 16 195 s = 4:29:55 (4.5 h), ready 15 420 s = 95 %
    assert "<td>a1</td><td>Email</td><td class=n>4:29:55</td><td class=n>95 %</td>" in page


def test_generated_agents_days_fit_their_interactions(tmp_path: Path) -> None:
    from etl.simulate.generator import GeneratorConfig, write_files

    cfg = GeneratorConfig(interactions_per_day=120, agents=18, files=2, seed=11, agent_states=True)
    paths = write_files(cfg, tmp_path / "a")
    again = write_files(cfg, tmp_path / "b")
    assert [p.name for p in paths][-1] == "agent-states-000.jsonl"
    assert all(p.read_bytes() == q.read_bytes() for p, q in zip(paths, again, strict=True))  # deterministic
    db = tmp_path / "m.duckdb"
    counts = load(db, paths, "run-1")
    assert counts.events_quarantined == 0  # every agent-state event fits a login session
    con = duckdb.connect(str(db), read_only=True)
    outside = con.sql(
        "SELECT count(*) FROM INTERACTION_RESOURCE_FACT i JOIN RESOURCE_ r ON r.RESOURCE_KEY = i.RESOURCE_KEY"
        " WHERE r.RESOURCE_TYPE = 'Agent' AND NOT EXISTS (SELECT 1 FROM SM_RES_SESSION_FACT s"
        " WHERE s.RESOURCE_KEY = i.RESOURCE_KEY AND s.MEDIA_TYPE_KEY = i.MEDIA_TYPE_KEY AND s.START_TS <= i.START_TS"
        " AND (s.ACTIVE_FLAG = 1 OR s.END_TS >= CASE WHEN i.ACTIVE_FLAG = 1 THEN i.START_TS ELSE i.END_TS END))"
    ).fetchall()[0][0]
    assert outside == 0  # agents are logged in whenever they handle an interaction (open ones: when it began)
    media = con.sql(
        "SELECT count(DISTINCT MEDIA_TYPE_KEY), count(DISTINCT RESOURCE_KEY) FILTER (WHERE ACTIVE_FLAG = 1)"
        " FROM SM_RES_SESSION_FACT"
    ).fetchall()
    handled = con.sql("SELECT count(DISTINCT MEDIA_TYPE_KEY) FROM INTERACTION_RESOURCE_FACT").fetchall()[0][0]
    assert media == [(handled, 1)] and handled == 3  # e-mail, chat and workitem sessions; agent016 stays logged in
    states = dict(
        con.sql(
            "SELECT s.STATE_NAME, count(*) FROM SM_RES_STATE_FACT f JOIN RESOURCE_STATE s USING (RESOURCE_STATE_KEY)"
            " GROUP BY 1"
        ).fetchall()
    )
    assert {"Ready", "NotReady", "AfterCallWork", "LoggedOnOnly"} <= set(states)
    acw = con.sql(
        "SELECT (SELECT sum(AFTER_CALL_WORK_DURATION) FROM INTERACTION_RESOURCE_FACT),"
        " (SELECT sum(TOTAL_DURATION) FROM SM_RES_STATE_FACT WHERE RESOURCE_STATE_KEY = 4)"
    ).fetchall()[0]
    assert acw[0] == acw[1] > 0  # every wrap-up follows an interaction the agent handled
    con.close()


def test_options_reach_the_cli_and_dagster(tmp_path: Path) -> None:
    from etl.cli import main
    from etl.orchestration.config import GimOptionsConfig

    fields = GimOptionsConfig.model_fields
    assert fields["max_state_duration"].default == 14400 and fields["factor_dnd_into_sm_resource_states"].default
    config = GimOptionsConfig(max_state_duration=600, sm_resource_state_priority="READY, ACW")
    assert config.to_options() == GimOptions.load(
        overrides=["max-state-duration=600", "sm-resource-state-priority=READY, ACW"]
    )
    db = str(tmp_path / "m.duckdb")
    bad = ["run", "--events", str(FILES[0]), "--db", db, "--option"]
    assert main([*bad, "sm-resource-state-priority=ACW,NAPPING"]) == 2
    assert main([*bad, "max-state-duration=soon"]) == 2


def test_rederiving_a_day_with_other_options_changes_the_states(tmp_path: Path) -> None:
    from etl.pipeline.load import rederive_window
    from etl.simulate.scenario import parse_iso

    db = tmp_path / "m.duckdb"
    load(db, FILES, "run-1", LATE_WINDOW_S)
    day = parse_iso("2026-03-02T00:00:00.000Z")
    con = connect(db)
    rederive_window(con, "rederive-1", day, day + 86_400_000, GimOptions(factor_dnd_into_sm_resource_states=False))
    con.close()
    got = facts(db)
    assert not [r for r in got["reasons"] if r["reason_type"] == "DoNotDisturb"]
    email = [r for r in got["states"] if r["agent"] == "a1" and r["media"] == "email"]
    assert [r["state"] for r in email] == ["LoggedOnOnly", "Ready", "AfterCallWork", "Ready"]
    assert (email[-1]["start"], email[-1]["end"]) == ("08:32:00", "12:30:00")  # DND no longer splits Ready
