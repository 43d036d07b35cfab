"""The benchmark script runs end to end at a tiny size and reports what it measured (not a timing test: the
figures themselves come from running it by hand, bench/results/)."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _bench():  # noqa: ANN202
    spec = importlib.util.spec_from_file_location("benchmark", ROOT / "bench" / "benchmark.py")
    mod = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(mod)  # type: ignore[union-attr]
    return mod


def test_the_genesys_cloud_day_times_the_adapter_against_both_baselines(tmp_path: Path) -> None:
    bench = _bench()
    args = ["--genesys-cloud-day", "40", "--data-dir", str(tmp_path / "d"), "--out", str(tmp_path / "o")]
    assert bench.main([*args, "--work-dir", str(tmp_path / "w")]) == 0
    r = json.loads((tmp_path / "o" / "benchmark_genesys_cloud.json").read_text())
    assert r["conversations"] == 40 and r["audit"]["interaction_fact_rows"] == 40
    assert r["events"] == r["audit"]["events_loaded"] > 40 and r["audit"]["events_quarantined"] == 0
    assert r["phases_s"]["ingest"] > 0  # the adapter's staging is timed (it is reached through stage_source)
    assert r["pipeline_over_full_read"] == pytest.approx(r["pipeline_s"] / r["full_read_s"])
    assert "| 40 |" in (tmp_path / "o" / "benchmark_genesys_cloud.md").read_text()


def test_the_event_benchmark_times_ingestion_too(tmp_path: Path) -> None:
    bench = _bench()
    args = ["--sizes", "2k", "--data-dir", str(tmp_path / "d"), "--out", str(tmp_path / "o")]
    assert bench.main([*args, "--work-dir", str(tmp_path / "w")]) == 0
    (r,) = json.loads((tmp_path / "o" / "benchmark.json").read_text())["sizes"].values()
    assert r["audit"]["events_read"] == r["events"] and r["phases_s"]["ingest"] > 0


def test_a_bad_conversation_count_is_one_line_and_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        _bench().main(["--genesys-cloud-day", "0"])
    assert exit_.value.code == 2 and "positive number" in capsys.readouterr().err
