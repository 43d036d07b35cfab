"""User data: the [user-data] mapping, GIM's propagation rules, the four user-data tables and bad values.

Pages: https://docs.genesys.com/Documentation/GIM/latest/PDMPostgre/Table-CTL_UD_TO_UDE_MAPPING (mapping, rules),
https://docs.genesys.com/Documentation/GIM/latest/PDMPostgre/Table-IRF_USER_DATA_KEYS (one row per IRF).
"""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

from etl.domain.options import GimOptions
from etl.domain.user_data import DEFAULT_KEYS, TARGETS, KeyMapping, UserDataMapping, coerce, merged_updates
from etl.pipeline.load import load_files
from etl.simulate.golden import flow_events
from etl.simulate.scenario import Scenario
from etl.storage.ddl import load_schema, parse_logical_type
from etl.transform.api import facts_from_events

CONFIG = """
[gim-etl-populate]
populate-workbin-as-hold = false

[user-data]
keys = [
  {key = "Language", table = "USER_DATA_CUST_DIM_1", column = "DIM_ATTRIBUTE_1"},
  {key = "OrderNumber", table = "IRF_USER_DATA_CUST_1", column = "CUSTOM_DATA_1", max-length = 12},
  {key = "ServiceType", table = "INTERACTION_DESCRIPTOR", column = "SERVICE_TYPE", propagation = "IRF_INITIAL"},
  {key = "Revenue", table = "IRF_USER_DATA_GEN_1", column = "REVENUE", type = "number", default = 0},
]
"""


def _mapping(tmp_path: Path) -> GimOptions:
    cfg = tmp_path / "gim.toml"
    cfg.write_text(CONFIG)
    return GimOptions.load(cfg)


def test_targets_are_the_mart_columns() -> None:
    """Every column a KVP may be mapped to exists in schema/mart.yaml with the width or type the mapping assumes."""
    schema = load_schema()
    for table, columns in TARGETS.items():
        cols = {c.name: c.type for c in schema.table(table).columns}
        for column, (kind, width) in columns.items():
            base, params = parse_logical_type(cols[column])
            assert (base, params[0]) == (("decimal", 18) if kind == "number" else ("varchar", width)), column


def test_the_toml_section_is_typed(tmp_path: Path) -> None:
    opts = _mapping(tmp_path)
    targets = {m.key: m.target for m in opts.user_data.mappings}
    assert targets["Language"] == "USER_DATA_CUST_DIM_1.DIM_ATTRIBUTE_1"
    assert targets["CustomerID"] == "IRF_USER_DATA_GEN_1.CUSTOMER_ID"  # GIM's standard keys stay mapped
    assert sum(1 for m in opts.user_data.mappings if m.column == "SERVICE_TYPE") == 1  # mine replaced the default
    bad = tmp_path / "bad.toml"
    bad.write_text('[user-data]\nkeys = [{key = "X", table = "IRF_USER_DATA_GEN_1", column = "NOPE"}]\n')
    with pytest.raises(ValueError, match="no user-data column"):
        GimOptions.load(bad)
    bad.write_text('[user-data]\nkeys = [{key = "X", table = "IRF_USER_DATA_GEN_1", column = "REVENUE"}]\n')
    with pytest.raises(ValueError, match="holds number values"):
        GimOptions.load(bad)


def test_merge_and_coercion_rules() -> None:
    history = [
        (1000, '{"A": "x", "B": "1"}'),
        (2000, '{"A": null, "B": "2"}'),
        (3000, "not json"),
        (4000, '{"A": "z"}'),
    ]
    assert merged_updates(history, 1500) == {"A": "x", "B": "1"}
    assert merged_updates(history, 3500) == {"B": "2"}  # null deletes; malformed text is skipped
    assert merged_updates(history, 4000) == {"A": "z", "B": "2"}
    revenue = next(m for m in DEFAULT_KEYS if m.column == "REVENUE")
    assert coerce(revenue, "12.345") == (12.35, None)
    assert coerce(revenue, "n/a")[1] == 'expected a number, got "n/a"'
    assert coerce(revenue, True)[0] is None
    short = KeyMapping(key="K", table="IRF_USER_DATA_CUST_1", column="CUSTOM_DATA_2", max_length=3, default="?")
    assert coerce(short, "abcd") == ("?", "4 characters, longer than 3")
    assert coerce(short, 42) == ("42", None)
    assert coerce(short, {"a": 1})[1] == "expected a string, got a JSON object"


def _routed_with_changes() -> list[dict]:
    """routed_and_replies with ServiceType changed while the agent handles it and again after the IRF ended."""
    sc = Scenario(start="2026-03-02T09:00:00.000Z", prefix="ud:")
    sc.inbound("ud:IN", "Inbound", user_data={"ServiceType": "Sales", "Language": "de", "OrderNumber": "ORD-1"})
    sc.wait(5).strategy_takes("ud:IN", "S1", "Inbound").vq_enter("ud:IN", "VQ1", "S1")
    sc.wait(55).route("ud:IN", "agent1", "S1", "VQ1")
    sc.wait(10).accept("ud:IN", "agent1")
    sc.wait(30).attach("ud:IN", ServiceType="Billing", Revenue="n/a", OrderNumber="ORD-0000000000042")
    sc.wait(30).stop("ud:IN", "agent1")
    sc.wait(60).attach("ud:IN", Language="fr")  # after the IRF ended: not its value
    return sc.events


def test_call_rule_takes_the_value_when_the_interaction_leaves_the_resource(tmp_path: Path) -> None:
    facts = facts_from_events(_routed_with_changes(), GimOptions(user_data=UserDataMapping()))
    (row,) = facts.user_data.to_dicts()
    assert row["INTERACTION_DESCRIPTOR.SERVICE_TYPE"] == "Billing"  # CALL: the value at the IRF's end
    assert row["IRF_USER_DATA_GEN_1.REVENUE"] is None
    assert facts.user_data_rejects.select("key_name", "raw_value").rows() == [("Revenue", "n/a")]
    custom = facts_from_events(_routed_with_changes(), _mapping(tmp_path))
    (row,) = custom.user_data.to_dicts()
    assert row["INTERACTION_DESCRIPTOR.SERVICE_TYPE"] == "Sales"  # IRF_INITIAL: the value at the IRF's start
    assert row["USER_DATA_CUST_DIM_1.DIM_ATTRIBUTE_1"] == "de"  # the change after the end is not taken
    assert row["IRF_USER_DATA_GEN_1.REVENUE"] == 0.0  # the mapping's default replaces the bad value
    assert row["IRF_USER_DATA_CUST_1.CUSTOM_DATA_1"] is None  # 17 characters > max-length 12
    assert sorted(custom.user_data_rejects.get_column("key_name")) == ["OrderNumber", "Revenue"]


def test_the_mart_tables_and_the_counted_bad_values(tmp_path: Path) -> None:
    events = tmp_path / "events"
    events.mkdir()
    Scenario().write_ndjson(events / "e.jsonl", _routed_with_changes() + flow_events("consult_blocking"))
    db = tmp_path / "m.duckdb"
    counts = load_files([events], db, _mapping(tmp_path))
    con = duckdb.connect(str(db), read_only=True)
    irfs = con.sql("SELECT count(*) FROM INTERACTION_RESOURCE_FACT").fetchall()[0][0]
    for table in ("IRF_USER_DATA_GEN_1", "IRF_USER_DATA_CUST_1", "IRF_USER_DATA_KEYS"):  # one row per IRF
        assert con.sql(f"SELECT count(*) FROM {table}").fetchall()[0][0] == irfs == 7
    rows = con.sql(
        """SELECT i.MEDIA_SERVER_IXN_GUID, d.SERVICE_TYPE, d.SERVICE_SUBTYPE, c.DIM_ATTRIBUTE_1, g.CUSTOMER_ID,
                  g.REVENUE, u.CUSTOM_DATA_1
           FROM INTERACTION_RESOURCE_FACT f JOIN INTERACTION_FACT i USING (INTERACTION_ID)
           JOIN IRF_USER_DATA_KEYS k ON k.INTERACTION_RESOURCE_ID = f.INTERACTION_RESOURCE_ID
                AND k.START_DATE_TIME_KEY = f.START_DATE_TIME_KEY
           JOIN INTERACTION_DESCRIPTOR d ON d.INTERACTION_DESCRIPTOR_KEY = k.INTERACTION_DESCRIPTOR_KEY
           JOIN USER_DATA_CUST_DIM_1 c ON c.ID = k.CUSTOM_KEY_1
           JOIN IRF_USER_DATA_GEN_1 g ON g.INTERACTION_RESOURCE_ID = f.INTERACTION_RESOURCE_ID
           JOIN IRF_USER_DATA_CUST_1 u ON u.INTERACTION_RESOURCE_ID = f.INTERACTION_RESOURCE_ID
           WHERE i.MEDIA_SERVER_IXN_GUID IN ('ud:IN', 'consult_blocking:IN', 'consult_blocking:CON')
           ORDER BY 1"""
    ).fetchall()
    assert [(r[0], r[1], r[2], r[3], r[4]) for r in rows] == [
        ("consult_blocking:CON", None, None, None, None),  # no KVPs: the no-value rows (-1)
        ("consult_blocking:CON", None, None, None, None),
        ("consult_blocking:IN", "Billing", "Refund", None, "C000042"),
        ("ud:IN", "Sales", None, "de", None),
    ]
    assert [float(r[5]) for r in rows] == [0.0, 0.0, 0.0, 0.0]
    rejects = con.sql("SELECT KEY_NAME, TARGET, RAW_VALUE, REASON FROM STG_USER_DATA_REJECT ORDER BY 1").fetchall()
    assert rejects == [
        ("OrderNumber", "IRF_USER_DATA_CUST_1.CUSTOM_DATA_1", "ORD-0000000000042", "17 characters, longer than 12"),
        ("Revenue", "IRF_USER_DATA_GEN_1.REVENUE", "n/a", 'expected a number, got "n/a"'),
    ]
    assert con.sql("SELECT USER_DATA_REJECTS FROM CTL_AUDIT_LOG").fetchall() == [(2,)]
    assert counts.rows["STG_USER_DATA_REJECT"] == 2
    # combinations are rows of their own, keyed once; the no-value rows stay
    assert con.sql("SELECT count(*) FROM INTERACTION_DESCRIPTOR WHERE INTERACTION_DESCRIPTOR_KEY = -1").fetchall() == [
        (1,)
    ]
    con.close()
    load_files([events], db, _mapping(tmp_path))  # again: nothing new, the rejects are replaced, not added
    con = duckdb.connect(str(db), read_only=True)
    assert con.sql("SELECT count(*) FROM STG_USER_DATA_REJECT").fetchall() == [(2,)]
    assert con.sql("SELECT count(*) FROM IRF_USER_DATA_KEYS").fetchall() == [(7,)]
    con.close()


def test_generated_events_carry_realistic_user_data(tmp_path: Path) -> None:
    """`gim-etl generate` attaches GIM's standard KVPs; the mart stores them, and counts the typos it cannot."""
    from etl.simulate.generator import GeneratorConfig, write_files

    out = tmp_path / "gen"
    write_files(GeneratorConfig(days=1, interactions_per_day=400, agents=8, queues=2, vqs=5, seed=7, files=1), out)
    events = [json.loads(line) for f in sorted(out.glob("*")) for line in f.read_text().splitlines() if line]
    inbound = [e for e in events if e["event"] == "EventInteractionSubmitted" and e["interaction_type"] == "Inbound"]
    assert inbound and all({"CustomerID", "ServiceType", "CustomerSegment"} <= set(e["user_data"]) for e in inbound)
    bad = {e["event_id"] for e in events if (e.get("user_data") or {}).get("Revenue") == "n/a"}
    db = tmp_path / "g.duckdb"
    load_files([out], db, GimOptions())
    con = duckdb.connect(str(db), read_only=True)
    by_type = dict(
        con.sql(
            """SELECT d.SERVICE_TYPE, count(*) FROM IRF_USER_DATA_KEYS k
               JOIN INTERACTION_DESCRIPTOR d USING (INTERACTION_DESCRIPTOR_KEY) GROUP BY 1"""
        ).fetchall()
    )
    assert set(by_type) == {None, "Billing", "Sales", "Support"}
    results = {r for (r,) in con.sql("SELECT DISTINCT BUSINESS_RESULT FROM INTERACTION_DESCRIPTOR").fetchall()}
    assert {"Resolved", "Escalated"} <= results
    rejected = con.sql("SELECT count(DISTINCT MEDIA_SERVER_IXN_GUID) FROM STG_USER_DATA_REJECT").fetchall()[0][0]
    assert rejected <= len(bad)  # each typo reaches the IRFs still on the interaction when it was attached
    assert (rejected == 0) == (len(bad) == 0)
    con.close()
