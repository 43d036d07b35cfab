"""A throwaway PostgreSQL cluster on loopback for the tests that publish into PostgreSQL.

`initdb` + `pg_ctl` in a fresh temporary directory, trust authentication on 127.0.0.1 only, a free port, stopped
(`pg_ctl stop -m immediate`) and deleted at the end of the session. PostgreSQL refuses to run as root, so as root
the cluster runs as user `nobody` (`runuser -u nobody --`) in a directory chowned to it. The tests are skipped, with
the reason, only when no PostgreSQL binaries exist (`.ci/run` installs Debian's `postgresql` package).
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

#: The role the tests connect as (initdb's superuser).
USER = "gim"


def pg_bindir() -> Path | None:
    """The directory holding initdb and pg_ctl: on PATH, else Debian's /usr/lib/postgresql/<major>/bin."""
    found = shutil.which("initdb")
    if found and shutil.which("pg_ctl"):
        return Path(found).resolve().parent
    for cand in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        if (Path(cand) / "initdb").is_file() and (Path(cand) / "pg_ctl").is_file():
            return Path(cand)
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _as_owner(cmd: list[str]) -> list[str]:
    """`cmd` as user nobody when we are root (postgres will not run as root)."""
    return ["runuser", "-u", "nobody", "--", *cmd] if os.geteuid() == 0 else cmd


class Cluster:
    """A running cluster: `dsn(dbname)` to connect, `stop()` to end it."""

    def __init__(self, root: Path, bindir: Path) -> None:
        self.root, self.bindir, self.port = root, bindir, _free_port()
        self.data = root / "data"

    def start(self) -> None:
        if os.geteuid() == 0:
            shutil.chown(self.root, "nobody")
        run = lambda *cmd: subprocess.run(_as_owner(list(cmd)), check=True, capture_output=True, timeout=120)  # noqa: E731
        run(str(self.bindir / "initdb"), "-D", str(self.data), "-A", "trust", "-U", USER, "--no-locale", "-E", "UTF8")
        opts = (
            f"-c listen_addresses=127.0.0.1 -c port={self.port} -c unix_socket_directories={self.root}"
            " -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=40"
        )
        run(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-l", str(self.root / "log"), "-o", opts, "-w", "start")

    def dsn(self, dbname: str = "postgres") -> str:
        return f"postgresql://{USER}@127.0.0.1:{self.port}/{dbname}"

    def stop(self) -> None:
        subprocess.run(
            _as_owner([str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop"]),
            capture_output=True,
            timeout=60,
        )


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[Cluster]:
    """A PostgreSQL cluster for the session (skipped, with the reason, when PostgreSQL is not installed)."""
    bindir = pg_bindir()
    if bindir is None:
        pytest.skip("no PostgreSQL binaries (initdb, pg_ctl) on PATH or in /usr/lib/postgresql/*/bin")
    root = Path(tempfile.mkdtemp(prefix="gim-pg-"))
    cluster = Cluster(root, bindir)
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.stop()
        shutil.rmtree(root, ignore_errors=True)
