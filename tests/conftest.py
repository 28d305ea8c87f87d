"""Fixtures: apps, stores and servers on both store backends, the GeoPackage and PostGIS.

A test that asks for a store, directly or through another fixture (``app``/``client``,
``fresh_app``, ``make_app``, ``shared_store``, ``fresh_store``, ``new_store``, ``live_server``,
``backend``), runs once per backend; its id says which: ``test_x[gpkg]``, ``test_x[postgis]``.
A test that asks for none of them runs once. ``gpkg_app``/``shared_gpkg`` are the GeoPackage
whatever the backend, for tests of the file itself.

Read-only tests share one store per backend, built on first use (``shared_store``); tests that
write get a new one (``fresh_store``, ``new_store``). On PostGIS each store is a database of
one throwaway cluster (tests/pg.py); without PostgreSQL the ``postgis`` runs are skipped, or
fail under ``POSTGIS_TEST_REQUIRED=1`` (CI).
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests
from flask import Flask
from flask.testing import FlaskClient
from pg import Cluster, Unavailable, free_port, start_cluster

from mapservice import create_app

REPO = Path(__file__).resolve().parent.parent
E2E = Path(__file__).resolve().parent / "e2e"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Everything in tests/e2e/ runs real processes (server, Chromium, GDAL, OWSLib): ``e2e``."""
    for item in items:
        if E2E in Path(str(item.fspath)).resolve().parents:
            item.add_marker(pytest.mark.e2e)


GEODATA = REPO / "geodata"
LAYERS = REPO / "layers"

BACKENDS = ["gpkg", "postgis"]


# -- stores ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class StoreConfig:
    """Where one store lives: an instance folder and the ``store`` setting.

    ``store`` is empty for the GeoPackage ``<instance>/mapservice.gpkg``, else the URL of a
    PostGIS database. The store itself is created and filled by the first app that opens it.
    """

    instance: Path
    store: str = ""

    def settings(self, **more: Any) -> dict[str, Any]:
        """Settings for ``create_app``.

        ``store`` is always given, also when empty, so that a MAPSERVICE_STORE in the
        environment of the test run cannot send a GeoPackage test to some database.
        """
        return {"instance_path": str(self.instance), "store": self.store, **more}

    @property
    def env(self) -> dict[str, str]:
        """The same as environment variables, for ``mapservice`` commands and servers."""
        return {"MAPSERVICE_INSTANCE_PATH": str(self.instance), "MAPSERVICE_STORE": self.store}

    def exists(self) -> bool:
        """Whether an app has created the store (the file, or the schema in the database)."""
        if not self.store:
            return (self.instance / "mapservice.gpkg").exists()
        return bool(self._postgis("SELECT 1 FROM pg_namespace WHERE nspname = 'mapservice'"))

    def tables(self) -> set[str]:
        """The names of the layer tables (the tables with a geometry column) in the store."""
        if not self.store:
            path = self.instance / "mapservice.gpkg"
            if not path.exists():
                return set()
            with sqlite3.connect(path) as conn:
                rows = conn.execute(
                    "SELECT table_name FROM gpkg_contents WHERE data_type = 'features'"
                ).fetchall()
        else:
            rows = self._postgis(
                "SELECT f_table_name FROM geometry_columns WHERE f_table_schema = 'mapservice'"
            )
        return {row[0] for row in rows}

    def _postgis(self, statement: str) -> list[tuple[Any, ...]]:
        import psycopg

        with psycopg.connect(self.store) as conn:
            return conn.execute(statement).fetchall()  # type: ignore[arg-type]


@pytest.fixture(scope="session")
def postgis_cluster() -> Iterator[Cluster]:
    """The session's PostgreSQL cluster, started on first use; see tests/pg.py."""
    try:
        cluster = start_cluster()
    except Unavailable as exc:
        if os.environ.get("POSTGIS_TEST_REQUIRED") == "1":
            pytest.fail(f"POSTGIS_TEST_REQUIRED=1 but {exc}")
        pytest.skip(str(exc))
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture(scope="session", params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """The store backend of this run of the test: ``gpkg`` or ``postgis``."""
    if request.param == "postgis":
        # Every postgis run needs the cluster: skip (or fail) here, before the test starts.
        request.getfixturevalue("postgis_cluster")
    return str(request.param)


@pytest.fixture(scope="session")
def new_store(backend: str, request: pytest.FixtureRequest) -> Callable[[Path], StoreConfig]:
    """``new_store(instance)``: a new, empty store of the current backend.

    For the GeoPackage the store is the file in ``instance``, so ``instance`` must be a new
    folder; for PostGIS it is a new database and ``instance`` holds only runtime files.
    Session-scoped, so that module and session fixtures can make stores too.
    """
    if backend == "gpkg":
        return lambda instance: StoreConfig(instance)
    cluster: Cluster = request.getfixturevalue("postgis_cluster")
    return lambda instance: StoreConfig(instance, cluster.new_database())


@pytest.fixture
def fresh_store(
    backend: str, new_store: Callable[[Path], StoreConfig], tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[StoreConfig]:
    """A new, empty store of the current backend, for a test that writes."""
    store = new_store(tmp_path / "instance")
    cluster: Cluster | None = request.getfixturevalue("postgis_cluster") if backend == "postgis" else None
    yield store
    if cluster is not None:
        # About 20 MB each: dropped after the test, not all at the end of the session.
        cluster.drop_database(store.store)


@pytest.fixture(scope="session")
def shared_gpkg(tmp_path_factory: pytest.TempPathFactory) -> StoreConfig:
    """The GeoPackage over the shipped data that read-only tests share."""
    return StoreConfig(tmp_path_factory.mktemp("shared-gpkg"))


@pytest.fixture(scope="session")
def shared_postgis(postgis_cluster: Cluster, tmp_path_factory: pytest.TempPathFactory) -> StoreConfig:
    """The PostGIS database over the shipped data that read-only tests share."""
    return StoreConfig(tmp_path_factory.mktemp("shared-postgis"), postgis_cluster.new_database("shared"))


@pytest.fixture(scope="session")
def shared_store(backend: str, request: pytest.FixtureRequest) -> StoreConfig:
    """The current backend's shared store over the shipped data; tests must not write to it."""
    store: StoreConfig = request.getfixturevalue(f"shared_{backend}")
    return store


# -- apps ------------------------------------------------------------------------------------


def _open_app(store: StoreConfig, **settings: Any) -> Iterator[Flask]:
    app = create_app(store.settings(**settings))
    yield app
    # Ends the test's database session now rather than whenever the app is collected.
    app.extensions["mapservice"].store.close()


@pytest.fixture
def app(shared_store: StoreConfig) -> Iterator[Flask]:
    """App over the shipped data on the current backend (the shared store: read only)."""
    yield from _open_app(shared_store)


@pytest.fixture
def fresh_app(fresh_store: StoreConfig) -> Iterator[Flask]:
    """App with its own new store on the current backend, for tests that write."""
    yield from _open_app(fresh_store)


@pytest.fixture
def gpkg_app(shared_gpkg: StoreConfig) -> Iterator[Flask]:
    """App on the shared GeoPackage on every backend: for tests of the file itself, and the
    reference the PostGIS store is compared with."""
    yield from _open_app(shared_gpkg)


@pytest.fixture
def make_app(shared_store: StoreConfig) -> Iterator[Callable[..., Flask]]:
    """``make_app(**settings)``: an app with other settings over the shared store (read only)."""
    opened: list[Flask] = []

    def make(**settings: Any) -> Flask:
        opened.append(create_app(shared_store.settings(**settings)))
        return opened[-1]

    yield make
    for one in opened:
        one.extensions["mapservice"].store.close()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def get_json(client: FlaskClient, url: str, status: int = 200, **kw: Any) -> Any:
    response = client.get(url, **kw)
    assert response.status_code == status, (url, response.status_code, response.data[:500])
    return json.loads(response.data)


# -- servers ---------------------------------------------------------------------------------


class Server:
    def __init__(self, url: str, process: subprocess.Popen[bytes]) -> None:
        self.url = url
        self.process = process


def start_server(
    instance: Path, extra_env: dict[str, str] | None = None, workers: int = 2
) -> tuple[Server, Any]:
    """`mapservice serve` (gunicorn) on a free 127.0.0.1 port; returns the server and its log.

    For a store of the current backend: ``start_server(store.instance, store.env)``.
    """
    port = free_port()
    env = {**os.environ, "MAPSERVICE_INSTANCE_PATH": str(instance), **(extra_env or {})}
    log = open(instance / "server.log", "wb")  # noqa: SIM115 - closed by stop_server
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "mapservice",
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            str(workers),
        ],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            if requests.get(f"{url}/api", timeout=2).status_code == 200:
                break
        except requests.ConnectionError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            log.close()
            raise RuntimeError((instance / "server.log").read_text()[-3000:])
        time.sleep(0.2)
    return Server(url, process), log


def stop_server(server: Server, log: Any) -> None:
    server.process.terminate()
    server.process.wait(timeout=20)
    log.close()


@pytest.fixture(scope="session")
def gpkg_live_server(shared_gpkg: StoreConfig) -> Iterator[Server]:
    """`mapservice serve` over the shared GeoPackage, for browser tests of page behaviour that
    does not depend on the store (they run once, not once per backend)."""
    server, log = start_server(shared_gpkg.instance, shared_gpkg.env)
    yield server
    stop_server(server, log)


@pytest.fixture(scope="session")
def live_server(shared_store: StoreConfig) -> Iterator[Server]:
    """The real thing: `mapservice serve` (gunicorn, 2 workers) on 127.0.0.1 over the shared
    store of the current backend."""
    server, log = start_server(shared_store.instance, shared_store.env)
    yield server
    stop_server(server, log)
