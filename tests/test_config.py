"""The configuration log (../shared/contract/config.md): ingestion, GIM's configuration dimensions, the IRF keys,
and the report queries of fixtures/gim_sql/config on our own fixture (fixtures/config, numbers worked out by hand in
the comments) and on a generated day with mid-day configuration changes (numbers from the generator's own model)."""

from __future__ import annotations

import gzip
import json
from collections import Counter
from pathlib import Path

import duckdb
import pytest

from etl.bi.compat import dialect_of, run_gim_sql
from etl.domain import config as rules
from etl.domain.options import GimOptions
from etl.pipeline.load import load_files
from etl.simulate.generator import GeneratorConfig, configuration, write_files
from tests.conftest import FIXTURES, run_cli

CFG_DIR = FIXTURES / "config"
SQL_DIR = FIXTURES / "gim_sql" / "config"


def _query(db: Path, name: str) -> list[tuple]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        df = run_gim_sql(con, (SQL_DIR / name).read_text(), dialect_of(name))
    finally:
        con.close()
    return [tuple(int(v) if hasattr(v, "as_integer_ratio") else v for v in row) for row in df.rows()]


def _sql(db: Path, sql: str, params: list | None = None) -> list[tuple]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


@pytest.fixture(scope="module")
def fixture_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("cfg") / "mart.duckdb"
    assert (
        run_cli(
            "--events", str(CFG_DIR / "events.jsonl"), "--cfg", str(CFG_DIR / "cfg" / "config.jsonl"), "--db", str(db)
        )
        == 0
    )
    return db


# ---- our fixture: 6 routed e-mails (IN1..IN6), agent1 moves Sales -> Support at 12:00, agent9 not configured ----


def test_report_by_agent_group(fixture_db: Path) -> None:
    # Sales: agent1 IN1 (09:00, before the move), agent2 IN2 + IN6; Support: agent2 IN2 + IN6, agent1 IN3 (13:00),
    # agent3 IN5 (member from the group's side); NONE: agent9 IN4. Every IRF talks 300 s.
    assert _query(fixture_db, "irf_by_agent_group.tsql.sql") == [
        ("2026-03-02", "NONE", 1, 1, 300),
        ("2026-03-02", "Sales", 2, 3, 900),
        ("2026-03-02", "Support", 3, 4, 1200),
    ]


def test_report_by_skill(fixture_db: Path) -> None:
    # agent1: Email 5 all day, Billing 1 from 12:00 (IN3); agent2: Billing 3, Email 2 (IN2, IN6).
    assert _query(fixture_db, "handled_by_agent_skill.oracle.sql") == [
        ("Billing", 1, 1, 300),
        ("Billing", 3, 2, 600),
        ("Email", 2, 2, 600),
        ("Email", 5, 2, 600),
    ]


def test_report_by_routing_target_type(fixture_db: Path) -> None:
    assert _query(fixture_db, "routed_by_target_type.postgres.sql") == [
        ("Agent", "agent9", 1, 1, 0),
        ("Agent Group", "G_Sales", 2, 2, 0),
        ("Agent Group", "G_Support", 1, 1, 0),
        ("NONE", "NONE", 1, 1, 0),  # IN5: an invitation without target (version 1 of the events contract)
        ("Skill Expression", "BillingExpr", 1, 1, 1),
    ]
    rows = _sql(
        fixture_db,
        "SELECT s.SKILL_NAME, r.SKILL_LEVEL, r.SKILL_EXPRESSION FROM REQUESTED_SKILL r JOIN SKILL s USING (SKILL_KEY)"
        " WHERE r.REQUESTED_SKILL_KEY <> -1 ORDER BY 1",
    )
    assert rows == [("Billing", 3, "Billing>=3 & Email>=1"), ("Email", 1, "Billing>=3 & Email>=1")]


def test_ingest_counts_duplicates_and_quarantine(fixture_db: Path) -> None:
    audit = _sql(
        fixture_db,
        "SELECT CFG_FILES_READ, CFG_OBJECTS_READ, CFG_OBJECTS_LOADED, CFG_OBJECTS_DUPLICATE, CFG_OBJECTS_QUARANTINED"
        " FROM CTL_AUDIT_LOG",
    )
    assert audit == [(1, 15, 10, 1, 4)]
    bad = _sql(
        fixture_db, "SELECT SOURCE_FILE, SOURCE_LINE, FIELD, RAW IS NOT NULL FROM STG_EVENT_QUARANTINE ORDER BY 2"
    )
    assert [(Path(f).name, n, fld, raw) for f, n, fld, raw in bad] == [
        ("config.jsonl", 12, None, True),
        ("config.jsonl", 13, "object", True),
        ("config.jsonl", 14, "ts", True),
        ("config.jsonl", 15, "last_name", True),
    ]


def test_people_valid_over_time_and_the_unconfigured_agent(fixture_db: Path) -> None:
    rows = _sql(
        fixture_db,
        "SELECT RESOURCE_NAME, AGENT_FIRST_NAME, AGENT_LAST_NAME, EMPLOYEE_ID, USER_NAME, START_TS FROM RESOURCE_"
        " WHERE RESOURCE_TYPE = 'Agent' ORDER BY 1",
    )
    noon = 1772452800  # 2026-03-02 12:00 UTC: agent1's second version
    assert rows == [
        ("agent1", "Ann", "Archer-Smith", "E001", "aarcher", noon),
        ("agent2", "Bob", "Baker", "E002", "bbaker", noon - 36 * 3600),
        ("agent3", "Cy", "Cole", "E003", "ccole", noon - 36 * 3600),
        ("agent9", None, None, None, None, None),  # from the events only, still loaded
    ]
    periods = _sql(
        fixture_db,
        "SELECT r.RESOURCE_NAME, g.GROUP_NAME, f.START_TS, f.END_TS, f.ACTIVE_FLAG FROM RESOURCE_GROUP_FACT_ f"
        " JOIN RESOURCE_ r USING (RESOURCE_KEY) JOIN GROUP_ g USING (GROUP_KEY) WHERE r.RESOURCE_NAME = 'agent1'"
        " ORDER BY f.START_TS",
    )
    assert periods == [("agent1", "Sales", noon - 36 * 3600, noon, 0), ("agent1", "Support", noon, rules.OPEN_END, 1)]


def test_rerun_changes_nothing(tmp_path: Path) -> None:
    db = tmp_path / "m.duckdb"
    args = ["--events", str(CFG_DIR / "events.jsonl"), "--cfg", str(CFG_DIR / "cfg" / "config.jsonl"), "--db", str(db)]
    assert run_cli(*args) == 0
    tables = ["GROUP_", "RESOURCE_GROUP_FACT_", "RESOURCE_GROUP_COMBINATION", "SKILL", "RESOURCE_SKILL_FACT_"]
    tables += ["REQUESTED_SKILL", "ROUTING_TARGET", "PLACE", "PLACE_GROUP_FACT_", "RESOURCE_"]
    snap = {t: _sql(db, f"SELECT * FROM {t} ORDER BY ALL") for t in tables}
    irf = (
        "SELECT INTERACTION_RESOURCE_ID, RESOURCE_GROUP_COMBINATION_KEY, ROUTING_TARGET_KEY"
        " FROM INTERACTION_RESOURCE_FACT ORDER BY 1"
    )
    before = _sql(db, irf)
    assert run_cli(*args) == 0
    assert {t: _sql(db, f"SELECT * FROM {t} ORDER BY ALL") for t in tables} == snap  # audit keys included
    assert _sql(db, irf) == before
    last = _sql(
        db,
        "SELECT CFG_OBJECTS_LOADED, CFG_OBJECTS_DUPLICATE, CFG_OBJECTS_QUARANTINED FROM CTL_AUDIT_LOG"
        " ORDER BY AUDIT_KEY DESC LIMIT 1",
    )
    assert last == [(0, 11, 4)]


def test_configuration_change_later_than_the_facts_keeps_their_history(tmp_path: Path) -> None:
    db = tmp_path / "m.duckdb"
    assert (
        run_cli(
            "--events", str(CFG_DIR / "events.jsonl"), "--cfg", str(CFG_DIR / "cfg" / "config.jsonl"), "--db", str(db)
        )
        == 0
    )
    facts = (
        "SELECT INTERACTION_RESOURCE_ID, RESOURCE_GROUP_COMBINATION_KEY, UPDATE_AUDIT_KEY"
        " FROM INTERACTION_RESOURCE_FACT ORDER BY 1"
    )
    before = _sql(db, facts)
    change = tmp_path / "change.jsonl"  # 20:00: agent2 leaves Sales, changes name; Support is renamed
    change.write_text(
        json.dumps(
            {
                "object": "Person",
                "id": "agent2",
                "ts": "2026-03-02T20:00:00.000Z",
                "first_name": "Bob",
                "last_name": "Baker-Jones",
                "employee_id": "E002",
                "user_name": "bbaker",
                "agent_groups": ["G_Support"],
                "skills": {"Billing": 4},
            }
        )
        + "\n"
        + json.dumps(
            {
                "object": "AgentGroup",
                "id": "G_Support",
                "ts": "2026-03-02T20:00:00.000Z",
                "name": "Customer Support",
                "members": ["agent3"],
            }
        )
        + "\n"
    )
    assert run_cli("--cfg", str(change), "--db", str(db)) == 0
    assert _sql(db, facts) == before  # not rewritten: same keys, same audit key
    assert _sql(db, "SELECT AGENT_LAST_NAME FROM RESOURCE_ WHERE RESOURCE_NAME = 'agent2'") == [("Baker-Jones",)]
    assert _query(db, "irf_by_agent_group.tsql.sql") == [
        ("2026-03-02", "Customer Support", 3, 4, 1200),  # the dimension row is updated in place
        ("2026-03-02", "NONE", 1, 1, 300),
        ("2026-03-02", "Sales", 2, 3, 900),
    ]
    sales = _sql(
        db,
        "SELECT f.END_TS, f.ACTIVE_FLAG FROM RESOURCE_GROUP_FACT_ f JOIN RESOURCE_ r USING (RESOURCE_KEY)"
        " JOIN GROUP_ g USING (GROUP_KEY) WHERE r.RESOURCE_NAME = 'agent2' AND g.GROUP_NAME = 'Sales'",
    )
    assert sales == [(1772481600, 0)]  # 20:00
    levels = _sql(
        db,
        "SELECT f.SKILL_LEVEL, f.START_TS, f.END_TS FROM RESOURCE_SKILL_FACT_ f JOIN RESOURCE_ r USING (RESOURCE_KEY)"
        " JOIN SKILL s USING (SKILL_KEY) WHERE r.RESOURCE_NAME = 'agent2' AND s.SKILL_NAME = 'Billing' ORDER BY 2",
    )
    assert levels == [(3, 1772323200, 1772481600), (4, 1772481600, rules.OPEN_END)]


def test_configuration_after_the_events_fills_unknown_groups(tmp_path: Path) -> None:
    db = tmp_path / "m.duckdb"
    assert run_cli("--events", str(CFG_DIR / "events.jsonl"), "--db", str(db)) == 0
    assert _sql(db, "SELECT DISTINCT RESOURCE_GROUP_COMBINATION_KEY FROM INTERACTION_RESOURCE_FACT") == [(-1,)]
    assert run_cli("--cfg", str(CFG_DIR / "cfg" / "config.jsonl"), "--db", str(db)) == 0
    assert _query(db, "irf_by_agent_group.tsql.sql")[1:] == [
        ("2026-03-02", "Sales", 2, 3, 900),
        ("2026-03-02", "Support", 3, 4, 1200),
    ]


_PARQUET_COLUMNS = (
    "{object: 'VARCHAR', id: 'VARCHAR', ts: 'VARCHAR', name: 'VARCHAR', members: 'VARCHAR[]', first_name: 'VARCHAR',"
    " last_name: 'VARCHAR', employee_id: 'VARCHAR', user_name: 'VARCHAR', place: 'VARCHAR', agent_groups: 'VARCHAR[]',"
    " skills: 'MAP(VARCHAR, INTEGER)', script_type: 'VARCHAR', media_type: 'VARCHAR'}"
)


@pytest.mark.parametrize("fmt", ["gzip", "parquet"])
def test_gzip_and_parquet_logs_load_the_same(tmp_path: Path, fmt: str) -> None:
    good = "".join(line + "\n" for line in (CFG_DIR / "cfg" / "config.jsonl").read_text().splitlines()[:10])
    if fmt == "gzip":
        path = tmp_path / "config.jsonl.gz"
        path.write_bytes(gzip.compress(good.encode()))
    else:  # lists as lists, `skills` as a map: the Parquet shape of the same fields
        (tmp_path / "plain.jsonl").write_text(good)
        path = tmp_path / "config.parquet"
        con = duckdb.connect()
        con.execute(
            f"COPY (SELECT * FROM read_json('{tmp_path / 'plain.jsonl'}', columns = {_PARQUET_COLUMNS}))"
            f" TO '{path}' (FORMAT parquet)"
        )
        con.close()
    db = tmp_path / "m.duckdb"
    counts = load_files([CFG_DIR / "events.jsonl"], db, GimOptions(), cfg=[path])
    assert counts.events_loaded == 48
    assert _sql(db, "SELECT CFG_OBJECTS_LOADED, CFG_OBJECTS_QUARANTINED FROM CTL_AUDIT_LOG") == [(10, 0)]
    assert _query(db, "handled_by_agent_skill.oracle.sql") == [
        ("Billing", 1, 1, 300),
        ("Billing", 3, 2, 600),
        ("Email", 2, 2, 600),
        ("Email", 5, 2, 600),
    ]


def test_a_skills_field_that_is_not_an_object_is_quarantined_with_its_field(tmp_path: Path) -> None:
    line = json.loads((CFG_DIR / "cfg" / "config.jsonl").read_text().splitlines()[5])
    path = tmp_path / "c.jsonl"
    path.write_text(json.dumps({**line, "skills": json.dumps(line["skills"])}) + "\n")
    load_files([], tmp_path / "m.duckdb", GimOptions(), cfg=[path])
    rows = _sql(tmp_path / "m.duckdb", "SELECT SOURCE_LINE, FIELD, REASON FROM STG_EVENT_QUARANTINE")
    assert [(n, f) for n, f, _ in rows] == [(1, "skills")] and "valid dictionary" in rows[0][2]


# ---- the rules, one call from a test ----


def _v(obj: str, oid: str, ts: int, op: str = "upsert", **payload: object) -> rules.Version:
    return rules.Version("Resources", obj, oid, ts, op, payload)


def test_membership_from_either_side_and_deletes() -> None:
    log = [
        _v("Person", "a", 0, agent_groups=["G1"]),
        _v("AgentGroup", "G2", 0, members=["a"]),
        _v("AgentGroup", "G2", 50, members=[]),
        _v("Person", "a", 80, agent_groups=["G1", "G3"]),
        _v("AgentGroup", "G1", 100, "delete"),
    ]
    lines, exist = rules.timelines(log), rules.existence(log)
    members = rules.memberships(lines, exist)
    got = [(m.group, m.start, m.end) for m in members]
    assert got == [("G1", 0, 100), ("G2", 0, 50), ("G3", 80, rules.OPEN_END)]
    combos = [(c.groups, c.start, c.end) for c in rules.combinations(members)]
    assert combos == [(("G1", "G2"), 0, 50), (("G1",), 50, 80), (("G1", "G3"), 80, 100), (("G3",), 100, rules.OPEN_END)]


def test_skill_periods_and_expressions() -> None:
    log = [
        _v("Person", "a", 0, skills={"S": 1, "T": 2}),
        _v("Person", "a", 10, skills={"S": 1, "T": 3}),
        _v("Person", "a", 20, "delete"),
    ]
    got = [(p.skill, p.level, p.start, p.end) for p in rules.skill_periods(rules.timelines(log), rules.existence(log))]
    assert got == [("S", 1, 0, 20), ("T", 2, 0, 10), ("T", 3, 10, 20)]
    assert rules.requested_skills("Billing>=5 & (English > 3 | Spanish)") == (
        ("Billing", 5),
        ("English", 3),
        ("Spanish", None),
    )
    assert rules.routing_target("PlaceGroup", "PG", None).type_code == "PLACEGROUP"


# ---- a generated day with configuration changes at 12:00 ----


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, GeneratorConfig, Path]:
    out = tmp_path_factory.mktemp("gen")
    cfg = GeneratorConfig(interactions_per_day=150, agents=12, seed=11, routing_targets=True)
    events = write_files(cfg, out / "events")
    from etl.simulate import config_log

    log = config_log.write(configuration(cfg), out / "cfg")
    db = out / "mart.duckdb"
    assert run_cli("--events", *map(str, events), "--cfg", str(log), "--db", str(db)) == 0
    return db, cfg, out


def _agent_irfs(db: Path) -> list[tuple[str, int, int]]:
    return _sql(
        db,
        "SELECT r.RESOURCE_NAME, f.START_TS, f.HANDLE_COUNT FROM INTERACTION_RESOURCE_FACT f JOIN RESOURCE_ r"
        " USING (RESOURCE_KEY) WHERE r.RESOURCE_TYPE_CODE = 'AGENT'",
    )


def test_generated_day_groups_follow_the_mid_day_changes(generated: tuple[Path, GeneratorConfig, Path]) -> None:
    db, cfg, _ = generated
    log = configuration(cfg)
    moved = {n for n, h in log.history.items() if len({tuple(g) for _, g, _ in h}) > 1}
    irfs = _agent_irfs(db)
    noon = log.start_ms // 1000 + 12 * 3600
    assert any(int(a[5:]) in moved and s < noon for a, s, _ in irfs)
    assert any(int(a[5:]) in moved and s >= noon for a, s, _ in irfs)
    names = {g: g.replace("AG_", "") for g in [*log.groups, "AG_Escalation"]}
    expected: Counter[str] = Counter()
    handled: Counter[str] = Counter()
    for agent, start, handle in irfs:
        for g in log.state_at(int(agent[5:]), start * 1000)[0]:
            expected[names[g]] += 1
            handled[names[g]] += handle > 0
    got = {row[1]: row[3] for row in _query(db, "irf_by_agent_group.tsql.sql")}
    assert got == dict(handled)
    view = _sql(db, "SELECT GROUP_NAME, sum(OFFERED + (1 - OFFERED)) FROM AG2_AGENT_GROUP_IRF GROUP BY 1")
    assert dict(view) == dict(expected)


def test_generated_day_skills_and_routing_targets(generated: tuple[Path, GeneratorConfig, Path]) -> None:
    db, cfg, out = generated
    log = configuration(cfg)
    skills: Counter[tuple[str, int]] = Counter()
    for agent, start, handle in _agent_irfs(db):
        if handle > 0:
            skills.update(log.state_at(int(agent[5:]), start * 1000)[1].items())
    assert {(s, lvl): n for s, lvl, n, _ in _query(db, "handled_by_agent_skill.oracle.sql")} == dict(skills)
    labels = {"AgentGroup": "Agent Group", "Skill": "Skill Expression", "Agent": "Agent"}
    invited: Counter[str] = Counter()
    seen = set()
    for path in sorted((out / "events").iterdir()):
        for line in path.read_text().splitlines():
            ev = json.loads(line)
            if ev["event"] == "EventAgentInvited" and ev["reason"] == "route" and ev["event_id"] not in seen:
                seen.add(ev["event_id"])
                invited[labels[ev["target"]["type"]]] += 1
    by_type: Counter[str] = Counter()
    for target_type, _, irfs, _, _ in _query(db, "routed_by_target_type.postgres.sql"):
        by_type[target_type] += irfs
    del by_type["NONE"]  # IRFs no routing invitation led to (replies, pulls, transfers)
    assert by_type == invited


def test_agent_group_views(fixture_db: Path) -> None:
    rows = _sql(
        fixture_db,
        "SELECT LABEL, GROUP_NAME, AGENTS, OFFERED, ACCEPTED, HANDLE_TIME FROM AG2_AGENT_GROUP_DAY ORDER BY GROUP_NAME",
    )
    assert rows == [
        ("2026-03-02", "NONE", 1, 1, 1, 300),
        ("2026-03-02", "Sales", 2, 3, 3, 900),
        ("2026-03-02", "Support", 3, 4, 4, 1200),
    ]
    hours = _sql(fixture_db, "SELECT LABEL, sum(OFFERED) FROM AG2_AGENT_GROUP_HOUR GROUP BY 1 ORDER BY 1")
    assert hours == [
        ("2026-03-02 09", 1),  # IN1: Sales
        ("2026-03-02 10", 2),  # IN2: agent2 in Sales and Support
        ("2026-03-02 13", 1),
        ("2026-03-02 14", 1),
        ("2026-03-02 15", 1),
        ("2026-03-02 16", 2),
    ]


def test_cli_generate_cfg_out_and_run_arguments(tmp_path: Path) -> None:
    from etl.cli import main

    args = ["generate", "--out", str(tmp_path / "ev"), "--interactions-per-day", "20", "--agents", "4"]
    assert main([*args, "--cfg-out", str(tmp_path / "cfg")]) == 0
    versions = [json.loads(v) for v in (tmp_path / "cfg" / "config.jsonl").read_text().splitlines()]
    assert {v["object"] for v in versions} == {"AgentGroup", "Skill", "Script", "Place", "Person"}
    assert sum(v["object"] == "Person" and v["ts"].endswith("T12:00:00.000Z") for v in versions) == 3
    invites = [
        json.loads(line)
        for p in sorted((tmp_path / "ev").iterdir())
        for line in p.read_text().splitlines()
        if '"EventAgentInvited"' in line and '"route"' in line
    ]
    assert invites and all("target" in ev for ev in invites)
    assert main(["run", "--db", str(tmp_path / "m.duckdb")]) == 2  # neither --events nor --cfg
    assert main(["run", "--cfg", str(tmp_path / "nope"), "--db", str(tmp_path / "m.duckdb")]) == 2


def test_invitation_targets_are_validated_and_stored(tmp_path: Path) -> None:
    lines = (CFG_DIR / "events.jsonl").read_text().splitlines()[:8]  # IN1, invited with an AgentGroup target
    invite = json.loads(lines[4])
    bad = [
        {**invite, "event_id": "x1", "target": {"type": "Queue", "name": "Q"}},
        {**invite, "event_id": "x2", "target": {"type": "Skill", "expression": "Billing>=3"}},
        {**invite, "event_id": "x3", "target": "G_Sales"},
    ]
    path = tmp_path / "e.jsonl"
    path.write_text("\n".join([*lines, *map(json.dumps, bad)]) + "\n")
    load_files([path], tmp_path / "m.duckdb", GimOptions())
    db = tmp_path / "m.duckdb"
    stored = _sql(db, "SELECT TARGET_TYPE, TARGET_NAME, TARGET_EXPRESSION FROM STG_EVENTS WHERE EVENT_ID = 'c5'")
    assert stored == [("AgentGroup", "G_Sales", None)]
    rejected = _sql(db, "SELECT EVENT_ID, FIELD FROM STG_EVENT_QUARANTINE ORDER BY 1")
    assert rejected == [("x1", "target.type"), ("x2", "target.name"), ("x3", "target")]


def test_a_mart_older_than_the_configuration_columns_gets_them_filled(tmp_path: Path) -> None:
    db = tmp_path / "m.duckdb"
    load_files([CFG_DIR / "events.jsonl"], db, GimOptions())
    con = duckdb.connect(str(db))
    con.execute(
        "UPDATE INTERACTION_RESOURCE_FACT SET RESOURCE_GROUP_COMBINATION_KEY = NULL, ROUTING_TARGET_KEY = NULL,"
        " REQUESTED_SKILL_KEY = NULL"
    )
    con.close()
    load_files([], db, GimOptions(), cfg=[CFG_DIR / "cfg" / "config.jsonl"])
    assert _sql(db, "SELECT count(*) FROM INTERACTION_RESOURCE_FACT WHERE ROUTING_TARGET_KEY IS NULL") == [(0,)]
    assert [r[1:4] for r in _query(db, "irf_by_agent_group.tsql.sql")] == [
        ("NONE", 1, 1),
        ("Sales", 2, 3),
        ("Support", 3, 4),
    ]


def test_landing_sensor_sends_cfg_files_to_raw_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import os
    import shutil

    import dagster as dg

    from etl.orchestration.automation import LANDING_DIR_ENV, landing_sensor

    landing = tmp_path / "landing"
    (landing / "cfg").mkdir(parents=True)
    monkeypatch.setenv(LANDING_DIR_ENV, str(landing))
    shutil.copy(CFG_DIR / "events.jsonl", landing / "e.jsonl")
    shutil.copy(CFG_DIR / "cfg" / "config.jsonl", landing / "cfg" / "c.jsonl")
    for p in (landing / "e.jsonl", landing / "cfg" / "c.jsonl"):
        os.utime(p, (0, 0))
    with dg.instance_for_test() as instance:
        result = landing_sensor(dg.build_sensor_context(instance=instance))
    assert isinstance(result, dg.SensorResult)
    ops = result.run_requests[0].run_config["ops"]
    assert ops["raw_events"]["config"]["events"] == [str(landing / "e.jsonl")]
    assert ops["raw_config"]["config"]["cfg"] == [str(landing / "cfg" / "c.jsonl")]


def test_rederiving_a_day_keeps_the_configuration_keys(tmp_path: Path) -> None:
    from etl.connections import connect
    from etl.pipeline.load import rederive_window

    db = tmp_path / "m.duckdb"
    load_files([CFG_DIR / "events.jsonl"], db, GimOptions(), cfg=[CFG_DIR / "cfg" / "config.jsonl"])
    keys = (
        "SELECT INTERACTION_RESOURCE_ID, RESOURCE_GROUP_COMBINATION_KEY, ROUTING_TARGET_KEY, REQUESTED_SKILL_KEY"
        " FROM INTERACTION_RESOURCE_FACT ORDER BY 1"
    )
    before = _sql(db, keys)
    con = connect(str(db))
    try:
        counts = rederive_window(con, "rederive", 1772409600000, 1772496000000, GimOptions())  # 2026-03-02
    finally:
        con.close()
    assert counts.interactions_rederived == 6
    assert _sql(db, keys) == before
    assert _sql(db, "SELECT count(*) FROM INTERACTION_RESOURCE_FACT WHERE ROUTING_TARGET_KEY <> -1") == [(5,)]


def test_place_groups_from_either_side(tmp_path: Path) -> None:
    log = [
        {"object": "PlaceGroup", "id": "PG1", "ts": "2026-03-02T00:00:00.000Z", "name": "Floor 1", "members": ["P1"]},
        {"object": "Place", "id": "P2", "ts": "2026-03-02T06:00:00.000Z", "place_groups": ["PG1"]},
        {"object": "PlaceGroup", "id": "PG1", "ts": "2026-03-02T12:00:00.000Z", "members": []},
    ]
    path = tmp_path / "c.jsonl"
    path.write_text("".join(json.dumps(v) + "\n" for v in log))
    load_files([], tmp_path / "m.duckdb", GimOptions(), cfg=[path])
    rows = _sql(
        tmp_path / "m.duckdb",
        "SELECT p.PLACE_NAME, g.GROUP_NAME, g.GROUP_TYPE, f.START_TS, f.END_TS FROM PLACE_GROUP_FACT_ f"
        " JOIN PLACE p USING (PLACE_KEY) JOIN GROUP_ g USING (GROUP_KEY) ORDER BY 1",
    )
    day = 1772409600
    assert rows == [
        ("P1", "PG1", "Place", day, day + 12 * 3600),  # the group's members list ends it; PG1's name: latest version
        ("P2", "PG1", "Place", day + 6 * 3600, rules.OPEN_END),
    ]
