"""Operator errors, concurrent writers, the serving copy and staging leftovers (issue 18, items 6, 7, 10, 11):
one clear line and exit 2 before anything is staged; a committed load that could not publish says so."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT, run_cli
from reliability_helpers import AUDIT_COUNTS, events_of, rows, write_lines

from etl.cli import main
from etl.domain.options import GimOptions
from etl.storage.writer import WriterBusy, writer_lock


@pytest.fixture
def events(tmp_path: Path) -> Path:
    return write_lines(tmp_path / "in" / "e.jsonl", events_of("ixn1"))


def _error_line(capsys: pytest.CaptureFixture[str]) -> str:
    out = capsys.readouterr().out.strip()
    assert len(out.splitlines()) == 1, out
    assert "Traceback" not in out
    return out


# -- 11. argument checks before staging --------------------------------------------------------------------


def test_a_fifo_as_input_is_one_line_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    fifo = tmp_path / "pipe.jsonl"
    os.mkfifo(fifo)
    assert run_cli("--events", str(fifo), "--db", str(tmp_path / "m.duckdb")) == 2
    assert "not a regular file" in _error_line(capsys)
    assert not (tmp_path / "m.duckdb.staging").exists()


def test_db_a_directory_is_one_line_exit_2(tmp_path: Path, events: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "dir").mkdir()
    assert run_cli("--events", str(events), "--db", str(tmp_path / "dir")) == 2
    assert "is a directory" in _error_line(capsys)


def test_a_config_directory_is_one_line_exit_2(
    tmp_path: Path, events: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_cli("--events", str(events), "--db", str(tmp_path / "m.duckdb"), "--config", str(tmp_path)) == 2
    assert "not a regular file" in _error_line(capsys)


@pytest.mark.parametrize(
    ("name", "value", "said"),
    [
        ("GIM_ETL_WORKERS", "0", "GIM_ETL_WORKERS='0'"),
        ("GIM_ETL_DERIVE_BATCH_EVENTS", "many", "GIM_ETL_DERIVE_BATCH_EVENTS='many'"),
        ("GIM_ETL_MAX_CLOCK_SKEW_HOURS", "-1", "GIM_ETL_MAX_CLOCK_SKEW_HOURS='-1'"),
    ],
)
def test_bad_settings_are_one_line_exit_2(
    tmp_path: Path,
    events: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    name: str,
    value: str,
    said: str,
) -> None:
    monkeypatch.setenv(name, value)
    assert run_cli("--events", str(events), "--db", str(tmp_path / "m.duckdb")) == 2
    assert said in _error_line(capsys)
    assert not (tmp_path / "m.duckdb").exists()


def test_a_second_writer_refuses_with_a_clear_message(
    tmp_path: Path, events: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "m.duckdb"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from etl.storage.writer import writer_lock\n"
            "with writer_lock(sys.argv[1]):\n    print('held', flush=True); time.sleep(60)",
            str(db),
        ],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        assert run_cli("--events", str(events), "--db", str(db)) == 2
        line = _error_line(capsys)
        assert "being written by another run" in line and f"pid {holder.pid}" in line
        with pytest.raises(WriterBusy), writer_lock(db, wait_s=0.3):
            pass
    finally:
        holder.kill()
        holder.wait()
    assert run_cli("--events", str(events), "--db", str(db)) == 0  # the kernel released the dead holder's lock


def test_a_mart_open_elsewhere_for_writing_is_one_line_exit_2(
    tmp_path: Path, events: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "m.duckdb"
    assert run_cli("--events", str(events), "--db", str(db)) == 0
    capsys.readouterr()
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time, duckdb; c = duckdb.connect(sys.argv[1]); print('open', flush=True); time.sleep(60)",
            str(db),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "open"
        assert run_cli("--events", str(events), "--db", str(db)) == 2
        assert "open for writing by another process" in _error_line(capsys)
    finally:
        holder.kill()
        holder.wait()


# -- 10. strict configuration --------------------------------------------------------------------------------


def test_a_misspelled_section_or_option_is_rejected_with_the_valid_names(tmp_path: Path) -> None:
    cfg = tmp_path / "gim.toml"
    cfg.write_text("[gim-etl-populat]\npopulate-workbin-as-hold = true\n")
    with pytest.raises(
        ValueError, match=r"unknown section \[gim-etl-populat\] \(valid: \[gim-etl-populate\], \[date-time\]"
    ):
        GimOptions.load(cfg)
    cfg.write_text("[gim-etl-populate]\npopulate-workbin-as-hod = true\n")
    with pytest.raises(ValueError, match="unknown option 'populate-workbin-as-hod'.*populate-workbin-as-hold"):
        GimOptions.load(cfg)
    with pytest.raises(ValueError, match="unknown option 'populate-workbin'"):
        GimOptions.load(None, ["populate-workbin=true"])


def test_a_misspelled_config_exits_2_before_staging(
    tmp_path: Path, events: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = tmp_path / "gim.toml"
    cfg.write_text("[gim-etl-populat]\n")
    assert run_cli("--events", str(events), "--db", str(tmp_path / "m.duckdb"), "--config", str(cfg)) == 2
    assert "unknown section" in _error_line(capsys)


def test_rerunning_the_same_input_does_not_append_quarantine_rows_again(tmp_path: Path) -> None:
    lines = [*(__import__("json").dumps(e) for e in events_of("ixn1")), "not json", '{"event_id": "x"}']
    path = write_lines(tmp_path / "e.jsonl", lines)
    db = tmp_path / "m.duckdb"
    for _ in range(4):
        assert run_cli("--events", str(path), "--db", str(db)) == 0
    assert rows(db, "SELECT count(*) FROM STG_EVENT_QUARANTINE") == [(2,)]
    counts = rows(db, AUDIT_COUNTS + " ORDER BY START_TIME")
    assert counts == [(7, 5, 0, 0, 2)] + [(7, 0, 5, 0, 2)] * 3  # each run still accounts for every line


# -- 6. the serving copy -------------------------------------------------------------------------------------


def test_quotes_and_glob_characters_in_the_mart_name_load_and_publish(tmp_path: Path, events: Path) -> None:
    db = tmp_path / "o'brien's" / "it's [1].duckdb"
    assert run_cli("--events", str(events), "--db", str(db)) == 0
    assert rows(db.with_name("it's [1].serving.duckdb"), "SELECT count(*) FROM INTERACTION_FACT") == [(1,)]


def test_a_failed_publish_says_the_mart_committed_and_how_to_republish(
    tmp_path: Path, events: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "m.duckdb"
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("")  # the serving copy's directory is a file: the publish fails after the commit
    monkeypatch.setenv("GIM_ETL_SERVING_DB", str(blocker / "s.duckdb"))
    assert run_cli("--events", str(events), "--db", str(db)) == 1
    out = capsys.readouterr().out
    assert "mart committed, serving copy not published" in out and f"gim-etl publish --db {db}" in out
    assert rows(db, "SELECT EVENTS_LOADED FROM CTL_AUDIT_LOG") == [(5,)]
    monkeypatch.delenv("GIM_ETL_SERVING_DB")
    assert main(["publish", "--db", str(db)]) == 0
    assert rows(tmp_path / "m.serving.duckdb", "SELECT count(*) FROM INTERACTION_FACT") == [(1,)]


# -- 7. staging leftovers ------------------------------------------------------------------------------------


def test_the_next_run_removes_the_staging_leftovers_of_dead_runs(tmp_path: Path, events: Path) -> None:
    db = tmp_path / "m.duckdb"
    staging = tmp_path / "m.duckdb.staging"
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    leftover = staging / "killed-run"
    leftover.mkdir(parents=True)
    (leftover / "owner").write_text(f"{os.uname().nodename} {dead.stdout.strip()}\n")
    (leftover / "events.parquet").write_bytes(b"x" * 1000)
    alive = staging / "running-run"
    alive.mkdir()
    (alive / "owner").write_text(f"{os.uname().nodename} {os.getpid()}\n")
    assert run_cli("--events", str(events), "--db", str(db)) == 0
    assert sorted(p.name for p in staging.iterdir()) == ["running-run"]  # its own is gone too, the live one kept


def test_a_run_failing_while_staging_leaves_nothing_behind(
    tmp_path: Path, events: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from etl.ingest import sources

    def disk_full(paths, run_id, directory):  # noqa: ANN001, ANN202
        (Path(directory) / "events.parquet").write_bytes(b"x" * 100_000)
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(sources, "stage_events", disk_full)  # the reader the events source calls
    db = tmp_path / "m.duckdb"
    assert run_cli("--events", str(events), "--db", str(db)) == 1
    assert list((tmp_path / "m.duckdb.staging").iterdir()) == []
    (tmp_path / "m.duckdb.staging" / "not-ours").mkdir()  # no owner file: never removed
    monkeypatch.undo()
    assert run_cli("--events", str(events), "--db", str(db)) == 0
    assert [p.name for p in (tmp_path / "m.duckdb.staging").iterdir()] == ["not-ours"]


# -- counts add up, through the CLI and its blocking check ----------------------------------------------------


def test_counts_add_up_against_the_lines_physically_present(tmp_path: Path) -> None:
    import json

    from etl.simulate.generator import GeneratorConfig, write_files

    cfg = GeneratorConfig(interactions_per_day=40, agents=5, files=2, seed=3, duplicate_rate=0.05)
    inputs = write_files(cfg, tmp_path / "in")
    first = json.loads(inputs[0].read_text().splitlines()[0])
    extra = write_lines(
        tmp_path / "in" / "extra.jsonl",
        [
            json.dumps({**first, "ts": "2026-03-02T23:59:59.999Z"}),  # same id, other payload: a conflict
            json.dumps({**first, "event_id": "far", "ts": "9999-01-01T00:00:00.000Z"}),  # a clock far ahead
            "not json",
            '{"event_id": "x", "event": "EventInteractionSubmitted"}',
            "[" * 2000 + "]" * 2000,
        ],
    )
    db = tmp_path / "m.duckdb"
    assert run_cli("--events", str(tmp_path / "in"), "--db", str(db)) == 0  # the blocking checks passed
    physical = sum(1 for p in [*inputs, extra] for line in p.read_text().splitlines() if line.strip())
    ((read, loaded, dup, conflict, quarantined),) = rows(db, AUDIT_COUNTS)
    assert physical == read == loaded + dup + conflict + quarantined
    assert (conflict, quarantined) == (2, 4) and dup > 0
    assert rows(db, "SELECT count(*) FROM STG_EVENTS") == [(loaded,)]
    assert rows(db, "SELECT count(*) FROM STG_EVENT_QUARANTINE") == [(conflict + quarantined,)]


def test_a_second_writer_waits_up_to_gim_etl_writer_wait_seconds(
    tmp_path: Path, events: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import time

    db = tmp_path / "m.duckdb"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from etl.storage.writer import writer_lock\n"
            "with writer_lock(sys.argv[1]):\n    print('held', flush=True); time.sleep(1.5)",
            str(db),
        ],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        monkeypatch.setenv("GIM_ETL_WRITER_WAIT_SECONDS", "30")
        t0 = time.monotonic()
        assert run_cli("--events", str(events), "--db", str(db)) == 0
        assert time.monotonic() - t0 > 0.5  # it waited for the other writer instead of failing
    finally:
        holder.kill()
        holder.wait()
