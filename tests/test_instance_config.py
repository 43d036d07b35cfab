"""The Dagster instance files of dagster_home/ load into Dagster's instance config schema; the PostgreSQL variant
selects psycopg2, the Kubernetes variant's run launcher validates and builds (no cluster here)."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import ROOT
from dagster._config import process_config
from dagster._core.instance.config import dagster_instance_config

HOME = ROOT / "dagster_home"
VARIANTS = ["dagster.yaml", "dagster.postgres.yaml", "dagster.k8s.yaml"]
PG_ENV = {
    "DAGSTER_PG_HOST": "pg.example",
    "DAGSTER_PG_USER": "dagster",
    "DAGSTER_PG_PASSWORD": "s3cr@t",
    "DAGSTER_PG_DB": "dagster",
    "GIM_ETL_IMAGE": "registry.example/gim-etl:0.1.0",
    "DAGSTER_K8S_NAMESPACE": "gim",
}


@pytest.fixture(autouse=True)
def _env(monkeypatch: pytest.MonkeyPatch) -> None:
    for k, v in PG_ENV.items():
        monkeypatch.setenv(k, v)


@pytest.mark.parametrize("name", VARIANTS)
def test_instance_file_loads_with_one_writer_per_tenant(name: str) -> None:
    config, custom_class = dagster_instance_config(str(HOME), name)
    assert custom_class is None
    assert config["run_coordinator"]["class"] == "QueuedRunCoordinator"
    limits = config["concurrency"]["runs"]["tag_concurrency_limits"]
    assert {"key": "gim/tenant", "value": {"applyLimitPerUniqueValue": True}, "limit": 1} in limits
    assert config["concurrency"]["runs"]["max_concurrent_runs"] > 1  # tenants in parallel
    assert config["concurrency"]["pools"]["default_limit"] == 1  # the single mart's writer pool


@pytest.mark.parametrize("name", ["dagster.postgres.yaml", "dagster.k8s.yaml"])
def test_postgres_storage_uses_psycopg2(name: str) -> None:
    dagster_postgres = pytest.importorskip("dagster_postgres")  # the `deploy` extra
    from dagster_postgres.utils import pg_url_from_config
    from sqlalchemy import create_engine

    config, _ = dagster_instance_config(str(HOME), name)
    storage = process_config(dagster_postgres.DagsterPostgresStorage.config_type(), config["storage"]["postgres"])
    assert storage.success, storage.errors
    url = pg_url_from_config(storage.value)
    assert url == "postgresql+psycopg2://dagster:s3cr%40t@pg.example:5432/dagster"
    assert create_engine(url).dialect.driver == "psycopg2"  # (no connection is made)


def test_k8s_run_launcher_config_validates_and_builds(tmp_path: Path) -> None:
    launcher_mod = pytest.importorskip("dagster_k8s.launcher")  # the `deploy` extra
    config, _ = dagster_instance_config(str(HOME), "dagster.k8s.yaml")
    section = config["run_launcher"]
    assert (section["module"], section["class"]) == ("dagster_k8s", "K8sRunLauncher")
    processed = process_config(launcher_mod.K8sRunLauncher.config_type(), section["config"])
    assert processed.success, processed.errors
    kubeconfig = tmp_path / "kubeconfig"  # a cluster that does not exist: building the launcher connects nowhere
    kubeconfig.write_text(
        "apiVersion: v1\nkind: Config\ncurrent-context: c\nclusters: [{name: k, cluster: {server: 'https://127.0.0.1:1'}}]\n"
        "contexts: [{name: c, context: {cluster: k, user: u}}]\nusers: [{name: u, user: {token: t}}]\n"
    )
    values = {**processed.value, "load_incluster_config": False, "kubeconfig_file": str(kubeconfig)}
    launcher = launcher_mod.K8sRunLauncher(**values)
    assert launcher.job_image == PG_ENV["GIM_ETL_IMAGE"] and launcher.job_namespace == "gim"
    assert "GIM_ETL_MART_DIR=/marts" in launcher.env_vars


def test_dockerfile_builds_the_code_location_from_files_that_exist() -> None:
    text = (ROOT / "Dockerfile").read_text()
    copied = [line.split()[1:-1] for line in text.splitlines() if line.startswith("COPY ")]
    assert copied and all((ROOT / src).exists() for srcs in copied for src in srcs)
    assert '"-m", "etl.definitions"' in text and ".[s3,deploy]" in text
