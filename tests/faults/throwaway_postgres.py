"""A PostgreSQL cluster of the test's own, to stop and start at will: `initdb` and `pg_ctl` run as the `postgres`
user (`runuser`) in a temporary directory it owns, on a free loopback port. Never the shared server: stopping
that would fail every other test using it. Skips, saying why, where the binaries or `runuser` are missing."""

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

SKIP = "throwaway PostgreSQL cluster test skipped: {}"


def _binaries() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), reverse=True)
    return Path(found[0]).parent if found else None


def _why_not() -> str | None:
    if _binaries() is None:
        return "no initdb under /usr/lib/postgresql/*/bin (apt-get install postgresql)"
    if shutil.which("runuser") is None:
        return "runuser not found (it starts the cluster as the postgres user)"
    if os.geteuid() != 0:
        return "not running as root, so runuser cannot become the postgres user"
    try:
        import pwd

        pwd.getpwnam("postgres")
    except KeyError:
        return "no postgres user to own the cluster"
    return None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Cluster:
    def __init__(self, root: Path):
        self.bin = _binaries()
        self.root = root
        self.data = root / "data"
        self.port = _free_port()
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def _as_postgres(self, *args: str) -> None:
        done = subprocess.run(
            ["runuser", "-u", "postgres", "--", *args],
            capture_output=True,
            text=True,
            timeout=120,
            stdin=subprocess.DEVNULL,
        )
        if done.returncode:
            log = (self.root / "server.log").read_text(errors="replace")[-2000:] if self.root.exists() else ""
            pytest.fail(f"{args[0]} failed ({done.returncode}): {done.stdout}{done.stderr}\n{log}")

    def initdb(self) -> None:
        self._as_postgres(
            str(self.bin / "initdb"), "-D", str(self.data), "-U", "postgres", "-A", "trust", "--no-sync", "-E", "UTF8"
        )

    def start(self) -> None:
        options = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off -c shared_buffers=16MB"
        self._as_postgres(
            str(self.bin / "pg_ctl"),
            "-D",
            str(self.data),
            "-l",
            str(self.root / "server.log"),
            "-o",
            options,
            "-w",
            "start",
        )

    def stop(self, mode: str = "fast") -> None:
        self._as_postgres(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop")

    def running(self) -> bool:
        return (self.data / "postmaster.pid").exists()


@pytest.fixture
def throwaway_postgres() -> Iterator[Cluster]:
    """A started cluster of the test's own; stopped and removed when the test ends, pass or fail."""
    why = _why_not()
    if why:
        pytest.skip(SKIP.format(why))
    root = Path(tempfile.mkdtemp(prefix="tracker-pg-"))
    shutil.chown(root, "postgres", "postgres")
    cluster = Cluster(root)
    try:
        cluster.initdb()
        cluster.start()
        yield cluster
    finally:
        if cluster.running():
            subprocess.run(
                [
                    "runuser",
                    "-u",
                    "postgres",
                    "--",
                    str(cluster.bin / "pg_ctl"),
                    "-D",
                    str(cluster.data),
                    "-m",
                    "immediate",
                    "stop",
                ],
                capture_output=True,
                timeout=60,
            )
        shutil.rmtree(root, ignore_errors=True)
