"""Operating it: sensor, schedule, event-time backfill, the read-only serving copy, and a kill mid-load."""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
import pytest
from conftest import FIXTURES, IRF_DESCRIPTORS, ROOT, query, run_cli

from etl.definitions import defs
from etl.orchestration.automation import LANDING_DIR_ENV, daily_rederive_job, daily_schedule, landing_sensor
from etl.orchestration.config import MartResource
from etl.storage.serving import serving_path_for

EXAMPLE = FIXTURES / "contract_example.jsonl"


def test_landing_sensor_requests_each_new_file_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    landing = tmp_path / "landing"
    landing.mkdir()
    monkeypatch.setenv(LANDING_DIR_ENV, str(landing))
    shutil.copy(EXAMPLE, landing / "a.jsonl")
    old = time.time() - 60
    os.utime(landing / "a.jsonl", (old, old))
    with dg.instance_for_test() as instance:
        first = landing_sensor(dg.build_sensor_context(instance=instance))
        assert isinstance(first, dg.SensorResult) and len(first.run_requests) == 1
        assert first.run_requests[0].run_config["ops"]["raw_events"]["config"]["events"] == [str(landing / "a.jsonl")]
        again = landing_sensor(dg.build_sensor_context(instance=instance, cursor=first.cursor))
        assert isinstance(again, dg.SkipReason)
        shutil.copy(EXAMPLE, landing / "b.jsonl")
        (landing / "partial.jsonl").write_text("{}")  # still being written (too recent): left for a later tick
        os.utime(landing / "b.jsonl", (old + 1, old + 1))
        second = landing_sensor(dg.build_sensor_context(instance=instance, cursor=first.cursor))
        assert [Path(p).name for p in second.run_requests[0].run_config["ops"]["raw_events"]["config"]["events"]] == [
            "b.jsonl"
        ]
        assert second.run_requests[0].run_key != first.run_requests[0].run_key


def test_schedule_targets_the_previous_day() -> None:
    context = dg.build_schedule_context(scheduled_execution_time=datetime(2026, 3, 3, 1, 30, tzinfo=UTC))
    requests = list(daily_schedule.evaluate_tick(context).run_requests or [])
    assert [r.partition_key for r in requests] == ["2026-03-02"]


def test_event_day_backfill_rederives_under_new_options(tmp_path: Path) -> None:
    db = tmp_path / "mart.duckdb"
    flows = FIXTURES / "flows" / "draft_reply"
    assert run_cli("--events", str(flows), "--db", str(db)) == 0
    before = query(db, IRF_DESCRIPTORS)
    assert ("draft_reply:OUT", "agent1", "Puller", "Completed", "Unspecified") in before.rows()
    resources = {"mart_db": MartResource(database=str(db))}
    for day in ("2026-03-01", "2026-03-02"):  # a date range, one partition per run as the backfill policy says
        result = daily_rederive_job.execute_in_process(
            partition_key=day,
            resources=resources,
            run_config={"ops": {"facts_by_event_day": {"config": {"populate_workbin_as_hold": True}}}},
        )
        assert result.success
        reported = {tuple(m.asset_key.path) for m in result.asset_materializations_for_node("facts_by_event_day")}
        assert (("mart", "INTERACTION_RESOURCE_FACT") in reported) == (day == "2026-03-02")
    after = query(db, IRF_DESCRIPTORS).rows()
    assert ("draft_reply:OUT", "agent1", "Initiated", "Completed", "Unspecified") in after
    assert all(r[2] != "Puller" for r in after)
    hold = query(db, "SELECT HOLD_DURATION FROM INTERACTION_RESOURCE_FACT WHERE HOLD_COUNT = 1")
    assert hold["HOLD_DURATION"].to_list() == [3600]


def test_definitions_have_schedule_sensor_and_daily_partitions() -> None:
    assert defs.resolve_schedule_def(daily_schedule.name) is not None
    assert defs.resolve_sensor_def("landing_sensor") is not None
    job = defs.resolve_job_def("daily_rederive_job")
    assert job.partitions_def is not None and "2026-03-02" in job.partitions_def.get_partition_keys(
        current_time=datetime(2026, 3, 5, tzinfo=UTC)
    )


def _duckdb_14(cache: Path) -> Path | None:
    """DuckDB 1.4.4 (the engine in 1.4-era BI drivers), unpacked from its wheel into `cache`."""
    target = cache / "duckdb14"
    if (target / "duckdb").exists():
        return target
    dl = cache / "dl"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            "-q",
            "--no-deps",
            "--only-binary=:all:",
            "-d",
            str(dl),
            "duckdb==1.4.4",
        ],
        capture_output=True,
        text=True,
    )
    wheels = list(dl.glob("duckdb-1.4.4-*.whl"))
    if proc.returncode != 0 or not wheels:
        return None
    zipfile.ZipFile(wheels[0]).extractall(target)
    return target


def test_serving_copy_is_published_and_readable_by_duckdb_1_4(tmp_path: Path) -> None:
    db = tmp_path / "mart.duckdb"
    assert run_cli("--events", str(EXAMPLE), "--db", str(db)) == 0
    serving = serving_path_for(db)
    assert serving.exists()
    assert query(serving, IRF_DESCRIPTORS).equals(query(db, IRF_DESCRIPTORS))
    served = set(query(serving, "SELECT table_name FROM duckdb_tables()")["table_name"])
    assert {"INTERACTION_FACT", "RESOURCE_", "DATE_TIME", "STG_EVENT_QUARANTINE", "CTL_AUDIT_LOG"} <= served
    assert not served & {"STG_EVENTS", "CTL_KEY_MAP"}  # the loader's working state stays in the mart
    old = _duckdb_14(Path(os.environ.get("GIM_ETL_TEST_CACHE", tmp_path)))
    if old is None:
        if os.environ.get("CI"):
            pytest.fail("could not fetch duckdb 1.4.4 to check the serving file")
        pytest.skip("duckdb 1.4.4 not available offline")
    code = (
        "import duckdb, sys; c = duckdb.connect(sys.argv[1], read_only=True);"
        " print(duckdb.__version__, c.execute('SELECT count(*) FROM INTERACTION_RESOURCE_FACT').fetchall()[0][0])"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code, str(serving)],
        env={**os.environ, "PYTHONPATH": str(old)},
        capture_output=True,
        text=True,
    )
    assert proc.stdout.split() == ["1.4.4", "2"], proc.stderr
    with pytest.raises(subprocess.CalledProcessError):  # the 2.0 mart itself is not readable by 1.4: why we publish
        subprocess.run(
            [sys.executable, "-c", code, str(db)],
            env={**os.environ, "PYTHONPATH": str(old)},
            capture_output=True,
            text=True,
            check=True,
        )


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize("stage", ["staged-facts", "load", "publish"])
def test_kill_mid_run_leaves_mart_and_serving_file_as_they_were(tmp_path: Path, stage: str) -> None:
    db = tmp_path / "mart.duckdb"
    assert run_cli("--events", str(EXAMPLE), "--db", str(db)) == 0
    serving = serving_path_for(db)
    facts_before = {
        t: query(db, f"SELECT * FROM {t} ORDER BY ALL")
        for t in ("INTERACTION_FACT", "INTERACTION_RESOURCE_FACT", "STG_EVENTS", "CTL_AUDIT_LOG")
    }
    serving_before = _sha(serving)
    marker = tmp_path / "inside"
    # A second run over new events that blocks inside the mart transaction (or just before the serving rename)
    # until it is killed with SIGKILL: no cleanup code gets to run.
    script = textwrap.dedent(f"""
        import os, sys, time
        from pathlib import Path
        import etl.storage.audit as audit, etl.storage.fact_stage as fact_stage, etl.storage.serving as serving
        def block(*a, **k):
            Path({str(marker)!r}).touch()
            time.sleep(600)
        real_replace = os.replace
        def block_serving_rename(src, dst):  # os.replace also renames staged files: block only the publish
            return block() if str(dst).endswith(".serving.duckdb") else real_replace(src, dst)
        if {stage!r} == "staged-facts":  # slices derived and staged beside the mart, not yet inserted
            fact_stage.FactStage.insert = block
        elif {stage!r} == "load":  # everything written, not yet committed
            audit.write_audit = block
        else:
            serving.os.replace = block_serving_rename
        from etl.cli import main
        sys.exit(main(["run", "--quiet", "--events", {str(FIXTURES / "flows" / "draft_reply")!r},
                       "--db", {str(db)!r}]))
    """)
    proc = subprocess.Popen([sys.executable, "-c", script], cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
    deadline = time.time() + 240
    while not marker.exists() and proc.poll() is None and time.time() < deadline:
        time.sleep(0.2)
    assert marker.exists(), "the run never reached the blocking point"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    if stage == "staged-facts":
        assert list(tmp_path.glob(".mart.duckdb.facts-*")), "the kill left staged facts behind"
    if stage != "publish":  # killed inside the transaction: nothing of the run is visible
        for table, before in facts_before.items():
            assert query(db, f"SELECT * FROM {table} ORDER BY ALL").equals(before), table
    else:  # killed after COMMIT, before the rename: the mart has the run, BI still sees the previous copy
        assert query(db, "SELECT count(*) AS n FROM CTL_AUDIT_LOG")["n"][0] == 2
    assert _sha(serving) == serving_before
    assert query(serving, "SELECT count(*) AS n FROM INTERACTION_FACT")["n"][0] == 2
    # the next run completes normally and the serving copy catches up
    assert run_cli("--events", str(FIXTURES / "flows" / "draft_reply"), "--db", str(db)) == 0
    assert query(db, "SELECT count(*) AS n FROM INTERACTION_FACT")["n"][0] == 4
    assert query(serving, "SELECT count(*) AS n FROM INTERACTION_FACT")["n"][0] == 4
    assert not list(tmp_path.glob(".*.tmp"))
    assert not list(tmp_path.glob(".mart.duckdb.facts-*"))  # what the killed load staged is gone too
