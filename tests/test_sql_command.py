"""`gim-etl sql` through etl.cli.main: exit codes 0/1/2, --explain, --out csv/parquet, stdin, the serving copy."""

from __future__ import annotations

import io
from pathlib import Path

import polars as pl
import pytest

from etl.cli import main
from etl.storage.serving import serving_path_for

QUERY = "SELECT TOP 5 r.[RESOURCE_TYPE], COUNT(*) AS [N] FROM INFOMART.dbo.RESOURCE_ r GROUP BY r.[RESOURCE_TYPE]"


@pytest.fixture()
def sql_file(tmp_path: Path) -> Path:
    path = tmp_path / "types.sql"
    path.write_text(QUERY)
    return path


def _sql(*args: str) -> int:
    return main(["sql", *args])


def test_runs_on_the_serving_copy_and_explains(
    flows_db: Path, sql_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert serving_path_for(flows_db).is_file()
    assert _sql("--db", str(flows_db), "--dialect", "tsql", "--explain", str(sql_file)) == 0
    out = capsys.readouterr().out
    assert str(serving_path_for(flows_db).name) in out and "read-only" in out
    assert 'FROM RESOURCE_ AS r GROUP BY r."RESOURCE_TYPE" LIMIT 5' in out
    assert "Agent" in out and "row(s)" in out


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_out_writes_csv_or_parquet(flows_db: Path, sql_file: Path, tmp_path: Path, suffix: str) -> None:
    out = tmp_path / f"result{suffix}"
    assert _sql("--db", str(flows_db), "--dialect", "tsql", "--out", str(out), str(sql_file)) == 0
    df = pl.read_csv(out) if suffix == ".csv" else pl.read_parquet(out)
    assert dict(zip(df["RESOURCE_TYPE"], df["N"], strict=True))["Agent"] == 2


def test_stdin_and_params(flows_db: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("SELECT COUNT(*) AS N FROM GIM.RESOURCE_ WHERE RESOURCE_TYPE = :kind"))
    assert _sql("--db", str(flows_db), "--dialect", "oracle", "--param", "kind=Agent", "-") == 0
    assert "│ 2 │" in capsys.readouterr().out


def test_refusal_and_bad_arguments_exit_2(
    flows_db: Path, sql_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    refused = tmp_path / "refused.sql"
    refused.write_text("SELECT *\nFROM GIM.RESOURCE_ WHERE ROWNUM <= 2 ORDER BY 1")
    assert _sql("--db", str(flows_db), "--dialect", "oracle", str(refused)) == 2
    assert "refused: Oracle ROWNUM with ORDER in the same query block (line 2)" in capsys.readouterr().out
    assert _sql("--db", str(tmp_path / "nope.duckdb"), "--dialect", "tsql", str(sql_file)) == 2
    assert _sql("--db", str(flows_db), "--dialect", "cobol", str(sql_file)) == 2
    assert _sql("--db", str(flows_db), "--dialect", "tsql", str(tmp_path / "missing.sql")) == 2
    assert _sql("--db", str(flows_db), "--dialect", "tsql", "--out", str(tmp_path / "x.xlsx"), str(sql_file)) == 2
    assert _sql("--db", str(flows_db), "--dialect", "tsql", "--param", "novalue", str(sql_file)) == 2
    refused.write_text("SELECT * FROM RESOURCE_ WHERE RESOURCE_NAME = @agent")
    assert _sql("--db", str(flows_db), "--dialect", "tsql", str(refused)) == 2
    assert "parameter @agent without a value" in capsys.readouterr().out


def test_a_query_duckdb_rejects_exits_1(flows_db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.sql"
    bad.write_text("SELECT NO_SUCH_COLUMN FROM RESOURCE_")
    assert _sql("--db", str(flows_db), "--dialect", "tsql", str(bad)) == 1
    assert "failed:" in capsys.readouterr().out


def test_a_pipe_is_a_sql_file(flows_db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`gim-etl sql ... <(echo "...")`: the shell hands over a pipe, not a regular file."""
    import os
    import threading

    fifo = tmp_path / "query.sql"
    os.mkfifo(fifo)
    writer = threading.Thread(target=lambda: fifo.write_text("SELECT count(*) AS n FROM INTERACTION_FACT"))
    writer.start()
    assert _sql("--db", str(flows_db), "--dialect", "postgres", str(fifo)) == 0
    writer.join()
    assert "1 row(s)" in capsys.readouterr().out
