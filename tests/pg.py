"""A throwaway PostgreSQL/PostGIS cluster for the tests (Debian's binaries, no service needed).

``initdb`` and ``pg_ctl`` from ``/usr/lib/postgresql/<version>/bin`` build a cluster in a temp
folder, listening on a free port of 127.0.0.1 (and a Unix socket in that folder) with trust
authentication. initdb refuses to run as root, so as root the cluster belongs to the
unprivileged ``postgres`` user that Debian's package creates.

This module is plain code; the fixtures using it (``postgis_cluster`` and the stores of the
``postgis`` backend) are in conftest.py, which also decides what a missing PostgreSQL means:
a skipped test, or a failed one under ``POSTGIS_TEST_REQUIRED=1``.
"""

from __future__ import annotations

import atexit
import contextlib
import glob
import itertools
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path
from typing import Any

TEMPLATE = "mapservice_template"


class Unavailable(Exception):
    """No PostgreSQL with PostGIS on this machine."""


def free_port() -> int:
    """A TCP port of 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


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
        if (
            (bin_dir / "initdb").exists()
            and (bin_dir / "pg_ctl").exists()
            and (share / "postgis.control").exists()
        ):
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
        self._ids = itertools.count(1)
        if os.geteuid() == 0:
            self.user = "postgres"
            entry = pwd.getpwnam(self.user)
            os.chown(self.root, entry.pw_uid, entry.pw_gid)
        self.root.chmod(0o755)
        self.started = False

    def start(self) -> None:
        self._run(
            "initdb",
            "-D",
            str(self.data),
            "-U",
            "postgres",
            "--auth=trust",
            "--encoding=UTF8",
            "--locale=C.UTF-8",
        )
        options = (
            f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off "
            "-c max_connections=200"
        )
        self._run(
            "pg_ctl",
            "-D",
            str(self.data),
            "-l",
            str(self.root / "server.log"),
            "-o",
            options,
            "-w",
            "-t",
            "60",
            "start",
        )
        self.started = True
        self.admin(f"CREATE DATABASE {TEMPLATE}")
        self.admin("CREATE EXTENSION postgis", dbname=TEMPLATE)

    def _run(self, program: str, *args: str) -> None:
        kw: dict[str, Any] = {}
        if self.user is not None:
            entry = pwd.getpwnam(self.user)
            kw = {"user": entry.pw_uid, "group": entry.pw_gid, "extra_groups": []}
        result = subprocess.run(
            [str(self.bin_dir / program), *args],
            capture_output=True,
            text=True,
            cwd=self.root,
            check=False,
            **kw,
        )
        if result.returncode != 0:
            raise RuntimeError(f"{program} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")

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

    def drop_database(self, url: str) -> None:
        """Drop a database of ``new_database()``, ending the sessions still connected to it."""
        self.admin(f"DROP DATABASE {url.rsplit('/', 1)[1]} WITH (FORCE)")

    def stop(self) -> None:
        if self.started:
            self.started = False
            with contextlib.suppress(RuntimeError):
                self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(self.root, ignore_errors=True)


def start_cluster() -> Cluster:
    """A started cluster, stopped at exit at the latest; Unavailable without the binaries."""
    bin_dir = find_bin_dir()
    if bin_dir is None:
        raise Unavailable(
            "no PostgreSQL with PostGIS under /usr/lib/postgresql/*/bin "
            "(apt-get install postgresql postgresql-postgis)"
        )
    cluster = Cluster(bin_dir)
    try:
        cluster.start()
    except BaseException:
        cluster.stop()
        raise
    atexit.register(cluster.stop)  # also when the session dies without teardown
    return cluster
