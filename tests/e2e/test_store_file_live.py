"""The GeoPackage deleted under a real `mapservice serve`: writes are refused with 503, a
restarted worker builds no empty file in its place, and the next start stops in one line.

The camera written here is invented test data ("Testkamera …"), not a real location.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import requests
from pg import free_port
from sample_features import camera as sample_camera

from conftest import LAYERS, StoreConfig, start_server
from mapservice import create_app
from mapservice.catalog.layers import load_catalog
from mapservice.store.geopackage import GeoPackageStore
from mapservice.store.tokens import ALL, new_token

CAMS = "/api/collections/video-surveillance/items"


def children(pid: int) -> list[int]:
    """The processes whose parent is ``pid`` (the gunicorn workers of the master)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def test_a_store_deleted_under_the_server_takes_no_write_and_is_not_rebuilt(
    shared_gpkg: StoreConfig, tmp_path: Path
) -> None:
    store = StoreConfig(tmp_path / "instance")
    store.instance.mkdir()
    path = store.instance / "mapservice.gpkg"
    # A copy of the session's GeoPackage over the shipped data: cheaper than building one.
    if not shared_gpkg.exists():
        create_app(shared_gpkg.settings()).extensions["mapservice"].store.close()
    source, copy = sqlite3.connect(shared_gpkg.instance / "mapservice.gpkg"), sqlite3.connect(path)
    source.backup(copy)
    source.close()
    copy.close()
    server, log = start_server(store.instance, store.env, workers=1)
    try:
        opened = GeoPackageStore(path, load_catalog(LAYERS))
        _, token = new_token(opened, opened.catalog, "Test", [ALL])
        opened.close()
        auth = {"Authorization": f"Bearer {token}"}
        camera = sample_camera("test-cam-live", "Testkamera Live")
        created = requests.post(
            server.url + CAMS,
            data=json.dumps(camera),
            headers={**auth, "Content-Type": "application/geo+json"},
            timeout=30,
        )
        assert created.status_code == 201, created.text

        def patch() -> requests.Response:
            return requests.patch(
                f"{server.url}{CAMS}/test-cam-live",
                data=json.dumps({"properties": {"name": "Testkamera verloren"}}),
                headers={
                    **auth,
                    "Content-Type": "application/merge-patch+json",
                    "If-Match": created.headers["ETag"],
                },
                timeout=30,
            )

        path.unlink()
        refused = patch()
        assert refused.status_code == 503, refused.text
        assert refused.json()["code"] == "StoreUnavailable"

        # A new worker (forked from the master that opened the file) must not make a new one.
        (worker,) = children(server.process.pid)
        os.kill(worker, signal.SIGKILL)
        deadline = time.monotonic() + 60
        while not [pid for pid in children(server.process.pid) if pid != worker]:
            assert time.monotonic() < deadline, "gunicorn started no new worker"
            time.sleep(0.2)
        while True:
            try:
                again = patch()
                break
            except requests.ConnectionError:
                assert time.monotonic() < deadline
                time.sleep(0.2)
        assert again.status_code == 503, again.text
        assert requests.get(server.url + CAMS, headers=auth, timeout=30).status_code == 503
        assert not path.exists()
    finally:
        # A quick shutdown (SIGINT): nothing is left to finish gracefully.
        server.process.send_signal(signal.SIGINT)
        try:
            server.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            # Shutting down is not what this test is about; on a loaded CI machine a worker
            # can take longer than 20 s to stop, so end it rather than fail here.
            server.process.kill()
            server.process.wait(timeout=20)
        log.close()
    text = (store.instance / "server.log").read_text()
    assert "was removed or replaced while the service was running" in text
    assert "Traceback" not in text

    # The next start does not build a new store from the shipped data over the lost one.
    start = subprocess.run(
        [sys.executable, "-m", "mapservice", "serve", "--port", str(free_port()), "--workers", "1"],
        env={**os.environ, **store.env},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert start.returncode == 1
    (line,) = start.stderr.strip().splitlines()
    assert "is missing, but a store was created there before" in line and "mapservice restore" in line
    assert not path.exists()
