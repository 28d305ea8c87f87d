"""Fixtures: a fresh app on a temporary instance folder per test (the store is built anew)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from flask import Flask
from flask.testing import FlaskClient

from mapservice import create_app

REPO = Path(__file__).resolve().parent.parent
GEODATA = REPO / "geodata"
LAYERS = REPO / "layers"


@pytest.fixture(scope="session")
def shared_instance(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One instance folder whose GeoPackage is built once and reused by read-only tests."""
    return tmp_path_factory.mktemp("instance")


@pytest.fixture
def app(shared_instance: Path) -> Flask:
    """App over the shipped data; read-only tests share the built store to stay fast."""
    return create_app({"instance_path": str(shared_instance)})


@pytest.fixture
def fresh_app(tmp_path: Path) -> Flask:
    """App with its own new store, for tests that write."""
    return create_app({"instance_path": str(tmp_path / "instance")})


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def get_json(client: FlaskClient, url: str, status: int = 200, **kw: Any) -> Any:
    response = client.get(url, **kw)
    assert response.status_code == status, (url, response.status_code, response.data[:500])
    return json.loads(response.data)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    def __init__(self, url: str, process: subprocess.Popen[bytes]) -> None:
        self.url = url
        self.process = process


def start_server(instance: Path, extra_env: dict[str, str] | None = None,
                 workers: int = 2) -> tuple[Server, Any]:
    """`mapservice serve` (gunicorn) on a free 127.0.0.1 port; returns the server and its log."""
    port = free_port()
    env = {**os.environ, "MAPSERVICE_INSTANCE_PATH": str(instance), **(extra_env or {})}
    log = open(instance / "server.log", "wb")  # noqa: SIM115 - closed by stop_server
    process = subprocess.Popen(
        [sys.executable, "-m", "mapservice", "serve", "--host", "127.0.0.1", "--port", str(port),
         "--workers", str(workers)],
        env=env, stdout=log, stderr=subprocess.STDOUT,
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
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The real thing: `mapservice serve` (gunicorn, 2 workers) on 127.0.0.1."""
    server, log = start_server(tmp_path_factory.mktemp("live-instance"))
    yield server
    stop_server(server, log)
