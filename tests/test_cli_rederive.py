"""`gim-etl rederive` and `gim-etl --version` through the CLI's entry point (issue 19, mart.md 1.1)."""

from __future__ import annotations

import os
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import pytest
from conftest import FIXTURES, query, run_cli

from etl.cli import main

EXAMPLE = FIXTURES / "contract_example.jsonl"
DRAFT = FIXTURES / "flows" / "draft_reply" / "events.jsonl"  # own-workbin time: hold or mediation
FACTS = {
    "INTERACTION_RESOURCE_FACT": "INTERACTION_RESOURCE_ID",
    "MEDIATION_SEGMENT_FACT": "MEDIATION_SEGMENT_ID",
    "INTERACTION_FACT": "INTERACTION_ID",
}


def _facts(db: Path) -> dict[str, list[tuple[object, ...]]]:
    """Each fact table's rows without surrogate ids and audit keys (a re-derivation keeps the ids it had; a fresh
    load allocates them in its own order), sorted."""
    out = {}
    for table in FACTS:
        cols = query(db, f"SELECT * FROM {table} LIMIT 0").columns
        keep = [c for c in cols if not c.endswith(("_ID", "AUDIT_KEY"))]
        out[table] = sorted(query(db, f"SELECT {', '.join(keep)} FROM {table}").rows(), key=repr)
    return out


def test_rederive_with_an_option_equals_a_fresh_load_with_it(tmp_path: Path) -> None:
    loaded, fresh = tmp_path / "a.duckdb", tmp_path / "b.duckdb"
    assert run_cli("--events", str(DRAFT), "--db", str(loaded)) == 0
    assert run_cli("--events", str(DRAFT), "--db", str(fresh), "--option", "populate-workbin-as-hold=true") == 0
    before = _facts(loaded)
    assert before != _facts(fresh)  # the option changes the example's facts: the test can fail
    assert main(["rederive", "--db", str(loaded), "--option", "populate-workbin-as-hold=true"]) == 0
    assert _facts(loaded) == _facts(fresh)
    serving = query(Path(str(loaded).replace(".duckdb", ".serving.duckdb")), "SELECT count(*) n FROM INTERACTION_FACT")
    assert serving["n"][0] == len(before["INTERACTION_FACT"])


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--from", "2026-13-01", "--to", "2026-13-02"], "not a day"),
        (["--from", "2026-03-05", "--to", "2026-03-01"], "is after"),
        (["--from", "2026-03-05"], "both"),
    ],
)
def test_bad_days_are_refused_with_exit_2(
    tmp_path: Path, args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "mart.duckdb"
    assert run_cli("--events", str(EXAMPLE), "--db", str(db)) == 0
    capsys.readouterr()
    assert main(["rederive", "--db", str(db), *args]) == 2
    out = capsys.readouterr().out.strip()
    assert message in out and len(out.splitlines()) == 1


def test_missing_mart_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["rederive", "--db", str(tmp_path / "none.duckdb")]) == 2
    assert "no such mart" in capsys.readouterr().out
    assert not (tmp_path / "none.duckdb").exists()


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["--version"])
    assert exit_.value.code == 0
    assert capsys.readouterr().out.strip() == f"gim-etl {version('gim-etl')}"


def test_summary_names_the_serving_copy_and_an_input_without_event_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    events = tmp_path / "in"
    events.mkdir()
    (events / "notes.txt").write_text("not events\n")
    db = tmp_path / "mart.duckdb"
    assert run_cli("--events", str(events), "--db", str(db)) == 0
    out = capsys.readouterr().out
    assert "serving copy:" in out and "mart.serving.duckdb" in out
    assert "no event file in the input" in out


@pytest.mark.parametrize("quiet", [["--quiet"], []], ids=["quiet", "default"])
def test_each_quarantine_line_is_printed_once(tmp_path: Path, quiet: list[str]) -> None:
    events = tmp_path / "in.jsonl"
    events.write_text(EXAMPLE.read_text() + '{"event_id": "broken"\n')
    db = tmp_path / "mart.duckdb"
    done = subprocess.run(
        [sys.executable, "-m", "etl.cli", "run", *quiet, "--events", str(events), "--db", str(db)],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])},
        check=False,
    )
    assert done.returncode == 0, done.stderr
    lines = [line for line in (done.stdout + done.stderr).splitlines() if "quarantined" in line and "in.jsonl" in line]
    assert len(lines) == 1, lines


def test_a_run_under_other_options_says_how_to_apply_them(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "mart.duckdb"
    assert run_cli("--events", str(EXAMPLE), "--db", str(db)) == 0
    capsys.readouterr()
    assert run_cli("--events", str(DRAFT), "--db", str(db), "--option", "populate-workbin-as-hold=true") == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "facts loaded earlier were derived with populate-workbin-as-hold=false" in out
    assert f"gim-etl rederive --db {db} --option populate-workbin-as-hold=true" in out


def test_the_audit_log_says_under_which_options_each_fact_was_derived(tmp_path: Path) -> None:
    """A fact's CREATE_AUDIT_KEY leads to the run that derived it: its RUN_KIND, OPTIONS and OPTIONS_HASH."""
    db = tmp_path / "mart.duckdb"
    assert run_cli("--events", str(DRAFT), "--db", str(db)) == 0
    assert main(["rederive", "--db", str(db), "--option", "populate-workbin-as-hold=true"]) == 0
    runs = query(db, "SELECT RUN_KIND, INTERACTIONS_REDERIVED, OPTIONS_HASH FROM CTL_AUDIT_LOG ORDER BY AUDIT_KEY")
    assert runs["RUN_KIND"].to_list() == ["load", "rederive"]
    assert runs["INTERACTIONS_REDERIVED"].to_list() == [2, 2]
    assert runs["OPTIONS_HASH"].n_unique() == 2
    derived = query(
        db,
        "SELECT DISTINCT a.RUN_KIND, json_extract(a.OPTIONS, '$.\"populate-workbin-as-hold\"')::BOOLEAN AS hold"
        " FROM INTERACTION_RESOURCE_FACT f JOIN CTL_AUDIT_LOG a ON a.AUDIT_KEY = f.CREATE_AUDIT_KEY",
    )
    assert derived.rows() == [("rederive", True)]


def test_a_terminal_sees_each_phase_with_its_counts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """On a terminal (and not --quiet) a run shows rich progress bars per phase with counts; pipes and tests,
    which are not terminals, get none (every other test here)."""
    import io

    from rich.console import Console

    import etl.cli

    screen = io.StringIO()
    monkeypatch.setattr(etl.cli, "console", Console(file=screen, force_terminal=True, width=140))
    db = tmp_path / "mart.duckdb"
    assert main(["run", "--events", str(EXAMPLE), "--db", str(db)]) == 0
    shown = screen.getvalue()
    for phase in ("read and validate events", "append new events to STG_EVENTS", "derive facts", "agent states"):
        assert phase in shown, phase
    assert "12/12" in shown  # the example's 12 lines read, and its 12 events derived
    assert "publish the serving copy" in shown
    assert "INFO" not in capsys.readouterr().err  # Dagster's INFO log gives way to the bars (--verbose brings it)
