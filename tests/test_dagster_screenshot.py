"""The Dagster UI against a DAGSTER_HOME with one materialized run: the webserver serves the asset catalog, the
GraphQL endpoint lists the materialized mart assets, and headless Chromium renders the page to a PNG."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from conftest import FIXTURES, ROOT

from etl.domain.options import GimOptions
from etl.orchestration.run import run_pipeline

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
QUERY = '{"query": "{ assetNodes { assetKey { path } assetMaterializations(limit: 1) { runId } } }"}'


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _graphql(port: int) -> dict:
    req = urllib.request.Request(
        f"http://127.0.0.1:{port}/graphql", data=QUERY.encode(), headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(req, timeout=10) as resp:
        return json.load(resp)


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed: no headless screenshot of the Dagster UI")
def test_asset_catalog_screenshot(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path / "dagster_home"
    home.mkdir()
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    monkeypatch.setenv("GIM_ETL_STAGING_DIR", str(tmp_path / "stg"))
    monkeypatch.setenv("GIM_ETL_DB", str(tmp_path / "mart.duckdb"))
    run = run_pipeline([str(FIXTURES / "contract_example.jsonl")], str(tmp_path / "mart.duckdb"), GimOptions())
    assert run.success
    port = _free_port()
    web = subprocess.Popen(
        [sys.executable, "-m", "dagster_webserver", "-m", "etl.definitions", "-h", "127.0.0.1", "-p", str(port)],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline, nodes = time.time() + 240, None
        while time.time() < deadline and nodes is None:
            try:
                nodes = _graphql(port)["data"]["assetNodes"]
            except Exception:
                time.sleep(2)
        assert nodes is not None, "the Dagster webserver did not answer within 240 s"
        materialized = {"/".join(n["assetKey"]["path"]) for n in nodes if n["assetMaterializations"]}
        assert {"raw_events", "mart/INTERACTION_RESOURCE_FACT", "mart/CTL_AUDIT_LOG"} <= materialized
        png = tmp_path / "catalog.png"
        subprocess.run(
            [
                CHROMIUM,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--window-size=1400,900",
                "--virtual-time-budget=20000",
                f"--screenshot={png}",
                f"http://127.0.0.1:{port}/assets",
            ],
            capture_output=True,
            timeout=120,
            check=False,
        )
        assert png.exists() and png.stat().st_size > 20_000
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        shutil.copy(png, Path(os.environ.get("GIM_ETL_SCREENSHOT_DIR", tmp_path)) / "dagster_catalog.png")
    finally:
        web.terminate()
        web.wait(timeout=30)
