"""Event files and staged batches on S3-compatible object storage, against moto's S3 server on loopback: the same
events, counts and mart as from local files."""

from __future__ import annotations

import gzip
import shutil
from collections.abc import Iterator
from pathlib import Path

import fsspec
import polars as pl
import pytest
from conftest import FIXTURES, query

from etl.connections import connect
from etl.domain.options import GimOptions
from etl.ingest.objects import COMMITTED, get_staged, put_staged
from etl.ingest.staging import read_events, stage_events
from etl.pipeline.load import load_run
from etl.pipeline.tenants import load_tenant

moto_server = pytest.importorskip("moto.server")  # the [test] extra installs moto[server]

SAMPLE = FIXTURES / "sample"
BUCKET = "gim-landing"


@pytest.fixture(scope="module")
def s3(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A moto S3 server on 127.0.0.1 (free port), found by s3fs/botocore through AWS_ENDPOINT_URL; the bucket
    holds the sample's event files (one gzipped, one as Parquet) under `events/`."""
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    env = {
        "AWS_ENDPOINT_URL": f"http://{host}:{port}",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    with pytest.MonkeyPatch.context() as mp:
        for k, v in env.items():
            mp.setenv(k, v)
        fsspec.config.conf.pop("s3", None)
        fs = fsspec.filesystem("s3", skip_instance_cache=True)
        fs.mkdir(BUCKET)
        local = tmp_path_factory.mktemp("upload")
        shutil.copy(SAMPLE / "events-000.jsonl", local / "events-000.jsonl")
        (local / "events-001.jsonl.gz").write_bytes(gzip.compress((SAMPLE / "events-001.jsonl").read_bytes()))
        pl.read_ndjson(SAMPLE / "events-002.jsonl", infer_schema_length=None).write_parquet(local / "e2.parquet")
        (local / "notes.txt").write_text("not an event file")
        for f in local.iterdir():
            fs.put_file(str(f), f"{BUCKET}/events/{f.name}")
        yield f"s3://{BUCKET}"
        fs.clear_instance_cache()
    server.stop()


def _local_copy(tmp_path: Path) -> Path:
    local = tmp_path / "local"
    local.mkdir()
    with fsspec.open_files(f"s3://{BUCKET}/events/*") as files:
        for f in files:
            (local / Path(f.path).name).write_bytes(f.read())
    return local


def _events(result) -> pl.DataFrame:
    return result.events.drop("source_file").sort("event_id")


def test_event_files_read_from_s3_equal_local_files(s3: str, tmp_path: Path) -> None:
    remote = read_events([f"{s3}/events/"], "r")
    local = read_events([_local_copy(tmp_path)], "l")
    assert remote.events_read == local.events_read > 3000
    assert (remote.duplicates, remote.conflicts, remote.quarantine.height) == (
        local.duplicates,
        local.conflicts,
        local.quarantine.height,
    )
    assert _events(remote).equals(_events(local))  # NDJSON, gzip and Parquet alike
    assert set(remote.events["source_file"]) == {
        f"{s3}/events/events-000.jsonl",
        f"{s3}/events/events-001.jsonl.gz",
        f"{s3}/events/e2.parquet",
    }


def test_a_missing_url_is_a_configuration_error(s3: str) -> None:
    with pytest.raises(FileNotFoundError):
        read_events([f"{s3}/nothing-here/"], "r")


def test_staged_batch_goes_through_s3_to_another_machines_writer(s3: str, tmp_path: Path) -> None:
    """One machine stages and uploads; the writer downloads the committed batch and loads it: the same mart as
    a load of the local staging."""
    staged = stage_events([f"{s3}/events/"], "run-1", tmp_path / "stage")
    up = put_staged(staged, f"{s3}/staged")
    assert up.events_path == f"{s3}/staged/run-1/events.parquet"
    fs = fsspec.filesystem("s3")
    assert fs.exists(f"{BUCKET}/staged/run-1/{COMMITTED}")
    scanned = pl.scan_parquet(up.events_path).select(pl.len()).collect().item()  # Polars reads S3 in place
    assert scanned == pl.read_parquet(staged.events_path).height
    down = get_staged(f"{s3}/staged", "run-1", tmp_path / "writer")
    assert down.model_dump(exclude=set(_PATHS)) == staged.model_dump(exclude=set(_PATHS))
    marts = {}
    for name, batch in (("via_s3", down), ("local", staged)):
        marts[name] = tmp_path / f"{name}.duckdb"
        con = connect(marts[name])
        try:
            load_run(con, batch, GimOptions())
        finally:
            con.close()
    sql = "SELECT * EXCLUDE (CREATE_AUDIT_KEY, UPDATE_AUDIT_KEY) FROM INTERACTION_RESOURCE_FACT ORDER BY ALL"
    assert query(marts["via_s3"], sql).equals(query(marts["local"], sql))


_PATHS = ("events_path", "repeats_path", "quarantine_path")


def test_an_uncommitted_batch_is_never_loaded(s3: str, tmp_path: Path) -> None:
    fs = fsspec.filesystem("s3")
    fs.pipe(f"{BUCKET}/staged/half/events.parquet", b"PAR1")  # an upload that died before its marker
    with pytest.raises(FileNotFoundError, match=COMMITTED):
        get_staged(f"{s3}/staged", "half", tmp_path)


def test_a_tenant_load_reads_its_events_from_s3(s3: str, tmp_path: Path) -> None:
    run = load_tenant([f"{s3}/events/"], tmp_path / "marts", "Resources", GimOptions())
    assert run.counts.events_loaded > 3000
    assert query(run.mart, "SELECT count(*) AS n FROM INTERACTION_FACT")["n"].item() > 0
