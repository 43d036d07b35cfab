"""The command-line contract (../shared/contract/mart.md) on the contract's own example flow."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import FIXTURES, IRF_DESCRIPTORS, query, run_cli

from etl.domain.options import GimOptions

EXAMPLE = FIXTURES / "contract_example.jsonl"


def test_contract_example_gives_exactly_the_expected_irfs(tmp_path: Path) -> None:
    db = tmp_path / "mart.duckdb"
    assert run_cli("--events", str(EXAMPLE), "--db", str(db)) == 0
    irfs = query(db, IRF_DESCRIPTORS)
    assert irfs.rows() == [
        ("IN1", "agent1", "RoutedTo", "Completed", "Unspecified"),
        ("OUT1", "agent1", "Initiated", "Completed", "Unspecified"),
    ]
    # "the time in the Inbound queue and in VQ_Email is mediation before agent1's IRF"
    msf = query(
        db,
        """
        SELECT r.RESOURCE_NAME, m.START_TS, m.END_TS, m.MEDIATION_DURATION, t.MEDIATION_DURATION AS irf_mediation,
               t.START_TS AS irf_start, mr.RESOURCE_NAME AS irf_mediation_resource
        FROM MEDIATION_SEGMENT_FACT m JOIN RESOURCE_ r ON r.RESOURCE_KEY = m.RESOURCE_KEY
        JOIN INTERACTION_RESOURCE_FACT t ON t.INTERACTION_RESOURCE_ID = m.TARGET_IXN_RESOURCE_ID
        JOIN RESOURCE_ mr ON mr.RESOURCE_KEY = t.MEDIATION_RESOURCE_KEY
        ORDER BY m.START_TS""",
    )
    t0 = 1772442000  # 2026-03-02T09:00:00Z
    assert msf.rows() == [
        ("Inbound", t0, t0 + 5, 5, 60, t0, "VQ_Email"),
        # GIMPopMSF: a VQ stay that ends by distribution includes the time until the target answers (t0 + 70)
        ("VQ_Email", t0 + 5, t0 + 70, 65, 60, t0, "VQ_Email"),
    ]
    metrics = query(
        db,
        "SELECT RING_DURATION, TALK_DURATION, HANDLE_COUNT, IRF_ANCHOR, ACTIVE_FLAG"
        " FROM INTERACTION_RESOURCE_FACT ORDER BY INTERACTION_RESOURCE_ORDINAL, START_TS",
    )
    assert metrics.rows() == [(10, 230, 1, 1, 0), (0, 420, 1, 1, 0)]
    roots = query(
        db,
        "SELECT MEDIA_SERVER_IXN_GUID, MEDIA_SERVER_ROOT_IXN_GUID, MEDIA_SERVER_PARENT_IXN_GUID"
        " FROM INTERACTION_FACT ORDER BY 1",
    )
    assert roots.rows() == [("IN1", "IN1", None), ("OUT1", "IN1", "IN1")]


def test_running_the_same_input_twice_changes_nothing(tmp_path: Path) -> None:
    db = tmp_path / "mart.duckdb"
    tables = [
        "INTERACTION_FACT",
        "INTERACTION_RESOURCE_FACT",
        "MEDIATION_SEGMENT_FACT",
        "RESOURCE_",
        "DATE_TIME",
        "STG_EVENTS",
    ]
    assert run_cli("--events", str(EXAMPLE), "--db", str(db)) == 0
    before = {t: query(db, f"SELECT * FROM {t} ORDER BY ALL") for t in tables}
    assert run_cli("--events", str(EXAMPLE), "--db", str(db)) == 0
    for t in tables:
        assert query(db, f"SELECT * FROM {t} ORDER BY ALL").equals(before[t]), t
    audit = query(
        db,
        "SELECT EVENTS_READ, EVENTS_LOADED, EVENTS_DUPLICATE, EVENTS_QUARANTINED FROM CTL_AUDIT_LOG"
        " ORDER BY START_TIME",
    )
    assert audit.rows() == [(12, 12, 0, 0), (12, 0, 12, 0)]


def test_option_overrides_config_file(tmp_path: Path) -> None:
    cfg = tmp_path / "gim.toml"
    cfg.write_text("[gim-etl-populate]\npopulate-workbin-as-hold = false\npopulate-mm-ixnqueue-facts = true\n")
    opts = GimOptions.load(cfg, ["populate-workbin-as-hold=true"])
    assert opts == GimOptions(populate_workbin_as_hold=True, populate_mm_ixnqueue_facts=True)
    assert GimOptions.load(None, []) == GimOptions()


def test_options_reach_the_facts_through_the_cli(tmp_path: Path) -> None:
    db = tmp_path / "mart.duckdb"
    assert run_cli("--events", str(EXAMPLE), "--db", str(db), "--option", "populate-mm-ixnqueue-facts=true") == 0
    names = query(
        db,
        "SELECT r.RESOURCE_NAME FROM MEDIATION_SEGMENT_FACT m JOIN RESOURCE_ r USING (RESOURCE_KEY)"
        " ORDER BY m.START_TS",
    )["RESOURCE_NAME"].to_list()
    assert names == ["Inbound", "VQ_Email", "Outbound"]
    options = query(db, "SELECT OPTIONS FROM CTL_AUDIT_LOG")["OPTIONS"][0]
    assert '"populate-mm-ixnqueue-facts": true' in options


@pytest.mark.parametrize(
    "args",
    [
        ["--option", "populate-workbin-as-hold=maybe"],
        ["--option", "no-such-option=true"],
        ["--option", "populate-workbin-as-hold"],
    ],
)
def test_bad_options_are_refused_with_exit_2(tmp_path: Path, args: list[str]) -> None:
    assert run_cli("--events", str(EXAMPLE), "--db", str(tmp_path / "m.duckdb"), *args) == 2
    assert not (tmp_path / "m.duckdb").exists()


def test_missing_event_path_is_refused(tmp_path: Path) -> None:
    assert run_cli("--events", str(tmp_path / "nope.jsonl"), "--db", str(tmp_path / "m.duckdb")) == 2


def test_summary_is_printed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run_cli("--events", str(EXAMPLE), "--db", str(tmp_path / "m.duckdb")) == 0
    out = capsys.readouterr().out
    assert "events read" in out and "12" in out and "INTERACTION_RESOURCE_FACT rows written" in out
