"""The tenant partition jobs in process: the tag that limits writers, the per-tenant marts, tenant x day."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg
import pytest
from conftest import query
from test_tenants import write_tenant_inputs

from etl.domain.options import GimOptions
from etl.orchestration.tenants import (
    TENANT_TAG,
    TenantMarts,
    add_tenants,
    tenant_load_job,
    tenant_rederive_job,
)
from etl.pipeline.tenants import load_tenant


def test_tenant_jobs_write_the_partitions_tenant_mart(tmp_path: Path) -> None:
    files = write_tenant_inputs(tmp_path / "in", {"Resources": ["events-000.jsonl"], "Acme": ["events-001.jsonl"]})
    marts = TenantMarts(mart_dir=str(tmp_path / "marts"))
    with dg.DagsterInstance.ephemeral() as instance:
        add_tenants(instance, ["Acme", "Resources"])
        load = tenant_load_job.execute_in_process(
            run_config={"ops": {"load_tenant_files": {"config": {"events": [str(f) for f in files]}}}},
            partition_key="Acme",
            instance=instance,
            resources={"marts": marts},
        )
        assert load.success and load.dagster_run.tags[TENANT_TAG] == "Acme"
        assert load.output_for_node("load_tenant_files") > 0
        mart = tmp_path / "marts" / "Acme" / "gim_mart.duckdb"
        assert not (tmp_path / "marts" / "Resources").exists()  # nothing written for a tenant not run
        n = query(mart, "SELECT count(*) AS n FROM INTERACTION_FACT")["n"].item()
        key = dg.MultiPartitionKey({"tenant": "Acme", "day": "2026-03-02"})
        again = tenant_rederive_job.execute_in_process(partition_key=key, instance=instance, resources={"marts": marts})
        assert again.success and again.dagster_run.tags[TENANT_TAG] == "Acme"
        assert again.dagster_run.tags["dagster/partition/day"] == "2026-03-02"
        assert again.output_for_node("rederive_tenant_day") == n  # every interaction of that day, whole
        kinds = query(mart, "SELECT RUN_KIND FROM CTL_AUDIT_LOG ORDER BY AUDIT_KEY")["RUN_KIND"].to_list()
        assert kinds == ["load", "event-day"]


# --- the real daemon: a queued multi-tenant backfill ------------------------------------------------------------

ROOT = Path(__file__).resolve().parents[1]
TENANTS = ("Acme", "Resources")
DAYS = ("2026-03-02", "2026-03-03")


def _overlaps(a: tuple[float, float], b: tuple[float, float]) -> bool:
    return a[0] < b[1] and b[0] < a[1]


@pytest.mark.daemon
def test_daemon_runs_tenants_in_parallel_and_one_tenant_at_a_time(tmp_path: Path) -> None:
    """dagster-daemon with this project's dagster_home/dagster.yaml (its own DAGSTER_HOME in tmp): a backfill of
    2 tenants x 2 days is queued; the run records show runs of different tenants overlapping in time and the
    runs of one tenant never."""
    home = tmp_path / "home"
    home.mkdir()
    shutil.copy(ROOT / "dagster_home" / "dagster.yaml", home / "dagster.yaml")
    workspace = tmp_path / "workspace.yaml"
    workspace.write_text(
        f"load_from:\n  - python_module:\n      module_name: etl.definitions\n      working_directory: {ROOT}\n"
    )
    marts = tmp_path / "marts"
    files = write_tenant_inputs(tmp_path / "in", {"Resources": ["events-000.jsonl"], "Acme": ["events-001.jsonl"]})
    for t in TENANTS:  # each tenant's mart holds its own events before the re-derive backfill
        load_tenant(files, marts, t, GimOptions())
    env = {**os.environ, "DAGSTER_HOME": str(home), "GIM_ETL_MART_DIR": str(marts), "PYTHONPATH": str(ROOT)}
    with dg.DagsterInstance.from_config(str(home)) as instance:
        add_tenants(instance, list(TENANTS))
    keys = ",".join(f"{d}|{t}" for t in TENANTS for d in DAYS)
    dagster = [sys.executable, "-m", "dagster"]
    daemon = subprocess.Popen(
        [str(Path(sys.executable).with_name("dagster-daemon")), "run", "-w", str(workspace)],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        subprocess.run(
            [*dagster, "job", "backfill", "-w", str(workspace), "-j", "tenant_rederive_job", "--partitions", keys,
             "--noprompt"],
            env=env, cwd=tmp_path, check=True, capture_output=True, timeout=120,
        )  # fmt: skip
        records = _wait_for_runs(home, len(TENANTS) * len(DAYS), deadline_s=150)
    finally:
        os.killpg(daemon.pid, signal.SIGTERM)  # the daemon and the run workers it started, by its session id
        try:
            daemon.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(daemon.pid, signal.SIGKILL)
            daemon.wait()
    assert all(r.dagster_run.status == dg.DagsterRunStatus.SUCCESS for r in records), [
        (r.dagster_run.tags, r.dagster_run.status) for r in records
    ]
    spans = [(r.dagster_run.tags[TENANT_TAG], (r.start_time, r.end_time)) for r in records]
    same = [(a, b) for i, (t, a) in enumerate(spans) for u, b in spans[i + 1 :] if t == u]
    other = [(a, b) for i, (t, a) in enumerate(spans) for u, b in spans[i + 1 :] if t != u]
    assert not any(_overlaps(a, b) for a, b in same), spans
    assert any(_overlaps(a, b) for a, b in other), spans


def _wait_for_runs(home: Path, n: int, deadline_s: float) -> list:
    """The run records once `n` runs have finished (or fail at the deadline with what the instance knows)."""
    end = time.monotonic() + deadline_s
    while True:
        with dg.DagsterInstance.from_config(str(home)) as instance:
            records = instance.get_run_records()
            done = [r for r in records if r.dagster_run.is_finished]
            if len(done) >= n:
                return done
            seen = [(r.dagster_run.tags.get(TENANT_TAG), r.dagster_run.status.value) for r in records]
        assert time.monotonic() < end, f"runs not finished after {deadline_s} s: {seen}"
        time.sleep(2)


def test_tenant_landing_sensor_adds_new_tenants_and_starts_one_run_each(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Files of several tenants land: each tenant they hold (untagged and non-JSON lines: the default tenant) gets a
    run over them, a tenant seen for the first time becomes a partition, and the same files are never run twice."""
    from etl.orchestration.tenants import TENANTS as TENANT_PARTITIONS
    from etl.orchestration.tenants import tenant_landing_sensor

    landing = tmp_path / "landing"
    files = write_tenant_inputs(landing, {"Resources": ["events-000.jsonl"], "Acme": ["events-001.jsonl"]})
    old = time.time() - 60
    for f in files:
        os.utime(f, (old, old))
    monkeypatch.setenv("GIM_ETL_TENANT_LANDING_DIR", str(landing))
    marts = TenantMarts(mart_dir=str(tmp_path / "marts"))
    with dg.DagsterInstance.ephemeral() as instance:
        add_tenants(instance, ["Resources"])
        first = tenant_landing_sensor(dg.build_sensor_context(instance=instance))
        assert isinstance(first, dg.SensorResult)
        assert [r.partition_key for r in first.run_requests] == ["Acme", "Resources"]
        (added,) = first.dynamic_partitions_requests
        assert added.partitions_def_name == TENANT_PARTITIONS.name and list(added.partition_keys) == ["Acme"]
        again = tenant_landing_sensor(dg.build_sensor_context(instance=instance, cursor=first.cursor))
        assert isinstance(again, dg.SkipReason)
        # What the daemon does with the result: add the partition, then run the request.
        instance.add_dynamic_partitions(added.partitions_def_name, list(added.partition_keys))
        request = first.run_requests[0]
        run = tenant_load_job.execute_in_process(
            run_config=request.run_config, partition_key=request.partition_key, instance=instance,
            resources={"marts": marts},
        )  # fmt: skip
        assert run.success and run.dagster_run.tags[TENANT_TAG] == "Acme"
        names = query(tmp_path / "marts" / "Acme" / "gim_mart.duckdb", "SELECT DISTINCT TENANT_NAME FROM TENANT")
        assert "Acme" in names["TENANT_NAME"].to_list()
    (landing / "bad-tenant.jsonl").write_text('{"tenant": "../etc", "event": "EventX"}\n')
    os.utime(landing / "bad-tenant.jsonl", (old, old))
    with dg.DagsterInstance.ephemeral() as instance:
        skipped = tenant_landing_sensor(dg.build_sensor_context(instance=instance, cursor=first.cursor))
        assert isinstance(skipped, dg.SkipReason) and "not usable as a directory name" in str(skipped.skip_message)
