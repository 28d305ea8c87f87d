"""A throwaway PostgreSQL/PostGIS cluster for the tests (Debian's binaries, no service needed).

``initdb`` and ``pg_ctl`` from ``/usr/lib/postgresql/<version>/bin`` build a cluster in a temp
folder, listening on a free port of 127.0.0.1 (and a Unix socket in that folder) with trust
authentication. initdb refuses to run as root, so as root the cluster belongs to the
unprivileged ``postgres`` user that Debian's package creates.

Without the binaries (or without PostGIS) the tests using it are skipped, unless
``POSTGIS_TEST_REQUIRED=1`` (set by ``.ci/run``): then they fail.

Test modules import the fixtures (``from pg import postgis_cluster_fixture``; they are named
``postgis_cluster`` and ``postgis_url``); the cluster behind them is one per test session however
many modules import them.
"""

from __future__ import annotations

import atexit
import contextlib
import glob
import itertools
import os
import pwd
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from conftest import free_port

TEMPLATE = "mapservice_template"


def find_bin_dir() -> Path | None:
    """The newest ``/usr/lib/postgresql/*/bin`` that has initdb and pg_ctl and PostGIS."""
    def version(path: str) -> float:
        try:
            return float(Path(path).parent.name)
        except ValueError:
            return 0.0

    for candidate in sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=version, reverse=True):
        bin_dir = Path(candidate)
        share = Path("/usr/share/postgresql") / bin_dir.parent.name / "extension"
        if ((bin_dir / "initdb").exists() and (bin_dir / "pg_ctl").exists()
                and (share / "postgis.control").exists()):
            return bin_dir
    return None


class Cluster:
    """A running cluster; ``new_database()`` gives a fresh PostGIS-enabled database URL."""

    def __init__(self, bin_dir: Path) -> None:
        self.bin_dir = bin_dir
        self.root = Path(tempfile.mkdtemp(prefix="mapservice-pg-"))
        self.data = self.root / "data"
        self.port = free_port()
        self.user: str | None = None
        self.startup_seconds = 0.0
        self._ids = itertools.count(1)
        if os.geteuid() == 0:
            self.user = "postgres"
            entry = pwd.getpwnam(self.user)
            os.chown(self.root, entry.pw_uid, entry.pw_gid)
        self.root.chmod(0o755)
        self.started = False

    def start(self) -> None:
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust",
                  "--encoding=UTF8", "--locale=C.UTF-8")
        options = (f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 "
                   "-c fsync=off -c synchronous_commit=off -c full_page_writes=off "
                   "-c max_connections=200")
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.root / "server.log"),
                  "-o", options, "-w", "-t", "60", "start")
        self.started = True
        self.admin(f"CREATE DATABASE {TEMPLATE}")
        self.admin("CREATE EXTENSION postgis", dbname=TEMPLATE)

    def _run(self, program: str, *args: str) -> None:
        kw: dict[str, Any] = {}
        if self.user is not None:
            entry = pwd.getpwnam(self.user)
            kw = {"user": entry.pw_uid, "group": entry.pw_gid, "extra_groups": []}
        result = subprocess.run([str(self.bin_dir / program), *args], capture_output=True,
                                text=True, cwd=self.root, check=False, **kw)
        if result.returncode != 0:
            raise RuntimeError(f"{program} failed ({result.returncode}):\n{result.stdout}\n"
                               f"{result.stderr}")

    def url(self, dbname: str) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{dbname}"

    def admin(self, sql: str, dbname: str = "postgres") -> None:
        import psycopg

        with psycopg.connect(self.url(dbname), autocommit=True) as conn:
            conn.execute(sql)  # type: ignore[arg-type]

    def new_database(self, prefix: str = "test") -> str:
        """A new, empty database with the PostGIS extension; returns its URL."""
        name = f"{prefix}_{next(self._ids)}"
        self.admin(f"CREATE DATABASE {name} TEMPLATE {TEMPLATE}")
        return self.url(name)

    def stop(self) -> None:
        if self.started:
            self.started = False
            with contextlib.suppress(RuntimeError):
                self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(self.root, ignore_errors=True)


_cluster: Cluster | None = None
_users = 0


def _unavailable(reason: str) -> None:
    if os.environ.get("POSTGIS_TEST_REQUIRED") == "1":
        pytest.fail(f"POSTGIS_TEST_REQUIRED=1 but {reason}")
    pytest.skip(reason)


def _acquire() -> Cluster:
    global _cluster, _users
    if _cluster is None:
        bin_dir = find_bin_dir()
        if bin_dir is None:
            _unavailable("no PostgreSQL with PostGIS under /usr/lib/postgresql/*/bin "
                         "(apt-get install postgresql postgresql-postgis)")
            raise AssertionError("unreachable")
        started = time.monotonic()
        cluster = Cluster(bin_dir)
        try:
            cluster.start()
        except BaseException:
            cluster.stop()
            raise
        cluster.startup_seconds = time.monotonic() - started
        _cluster = cluster
        atexit.register(cluster.stop)  # also when the session dies without teardown
    _users += 1
    return _cluster


def _release() -> None:
    global _cluster, _users
    _users -= 1
    if _users == 0 and _cluster is not None:
        _cluster.stop()
        _cluster = None


@pytest.fixture(scope="session", name="postgis_cluster")
def postgis_cluster_fixture() -> Iterator[Cluster]:
    """The session's PostgreSQL cluster (started on first use, stopped at the end)."""
    cluster = _acquire()
    try:
        yield cluster
    finally:
        _release()


@pytest.fixture(scope="session", name="postgis_url")
def postgis_url_fixture(postgis_cluster: Cluster) -> str:
    """A database shared by read-only tests; the app fills it on first start."""
    return postgis_cluster.new_database("shared")
