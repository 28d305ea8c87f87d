"""A lost, replaced or damaged GeoPackage file: the service fails closed, says in one line what
is wrong and how to restore, and `mapservice backup` / `mapservice restore` bring every write
back.

The cameras written here are invented test data ("Testkamera …"), not real locations.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest
from click.testing import CliRunner, Result
from flask import Flask
from flask.testing import FlaskClient
from pg import Cluster
from sample_features import camera as sample_camera

from conftest import LAYERS, StoreConfig
from mapservice import create_app
from mapservice.catalog.layers import load_catalog
from mapservice.cli import main
from mapservice.store.base import StoreUnavailable
from mapservice.store.geopackage import GeoPackageStore
from mapservice.store.open import check_postgis
from mapservice.store.tokens import new_token

CAMS = "/api/collections/video-surveillance/items"
GEOJSON = "application/geo+json"
STORE = "mapservice.gpkg"


def camera(n: int) -> dict[str, Any]:
    return sample_camera(f"test-cam-store-{n}", f"Testkamera Sicherung {n}", [11.58 + n / 1000, 50.92])


def run(store: StoreConfig, *args: str) -> Result:
    return CliRunner().invoke(main, list(args), env=store.env)


def one_line(result: Result) -> str:
    """The error of a failed command: exit 1, exactly one line, no trace."""
    assert result.exit_code == 1, (result.exit_code, result.output)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.output
    return lines[0]


@dataclass
class Written:
    """A store with writes made through the API, and its backup."""

    store: StoreConfig
    backup: Path
    names: dict[str, str]  # feature id → name, as written
    token: str


def write(client: FlaskClient, token: str, n: int) -> str:
    response = client.post(
        CAMS, data=json.dumps(camera(n)), content_type=GEOJSON, headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 201, response.data
    return str(response.headers["ETag"])


def read(client: FlaskClient, token: str, fid: str) -> Any:
    # The cameras are unpublished (sensitive layer): a token holder sees them.
    return client.get(f"{CAMS}/{fid}", headers={"Authorization": f"Bearer {token}"})


def patch(client: FlaskClient, token: str, fid: str, etag: str, name: str) -> Any:
    return client.patch(
        f"{CAMS}/{fid}",
        data=json.dumps({"properties": {"name": name}}),
        content_type="application/merge-patch+json",
        headers={"Authorization": f"Bearer {token}", "If-Match": etag},
    )


@pytest.fixture(scope="module")
def written(shared_gpkg: StoreConfig, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Written]:
    store = StoreConfig(tmp_path_factory.mktemp("store-file") / "instance")
    # A copy of the session's GeoPackage over the shipped data: cheaper than building one.
    if not shared_gpkg.exists():
        create_app(shared_gpkg.settings()).extensions["mapservice"].store.close()
    store.instance.mkdir()
    with (
        sqlite3.connect(shared_gpkg.instance / STORE) as source,
        sqlite3.connect(store.instance / STORE) as copy,
    ):
        source.backup(copy)
    source.close()
    copy.close()
    app = create_app(store.settings())
    services = app.extensions["mapservice"]
    _, token = new_token(services.store, services.catalog, "Test", ["video-surveillance"])
    client = app.test_client()
    names = {}
    for n in (1, 2, 3):
        etag = write(client, token, n)
        names[f"test-cam-store-{n}"] = f"Testkamera Sicherung {n}"
    assert (
        patch(client, token, "test-cam-store-3", etag, "Testkamera Sicherung 3 (geändert)").status_code == 200
    )
    names["test-cam-store-3"] = "Testkamera Sicherung 3 (geändert)"
    backup = store.instance.parent / "sicherung.gpkg"
    # Online: the app still holds its connection open while the copy is taken.
    result = run(store, "backup", str(backup))
    assert result.exit_code == 0, result.output
    assert "quick_check ok" in result.stdout
    app.extensions["mapservice"].store.close()
    yield Written(store, backup, names, token)


def stored_names(path: Path, ids: list[str]) -> dict[str, str | None]:
    catalog = load_catalog(LAYERS)
    store = GeoPackageStore(path, catalog)
    try:
        found = {fid: store.get("video-surveillance", fid) for fid in ids}
    finally:
        store.close()
    return {fid: (f.properties["name"] if f is not None else None) for fid, f in found.items()}


def copy_of(written: Written, folder: Path) -> StoreConfig:
    """A new instance folder like the written one (what the service keeps next to the
    store), its store a copy of the backup."""
    store = StoreConfig(folder)
    folder.mkdir()
    for extra in written.store.instance.iterdir():
        if extra.is_file() and not extra.name.startswith(STORE + "-") and extra.name != STORE:
            shutil.copyfile(extra, folder / extra.name)
    shutil.copyfile(written.backup, folder / STORE)
    return store


def test_the_backup_is_one_checked_file_with_every_write(written: Written) -> None:
    assert not written.backup.with_name(written.backup.name + "-wal").exists()
    with sqlite3.connect(written.backup) as conn:
        assert conn.execute("PRAGMA quick_check").fetchone() == ("ok",)
    assert stored_names(written.backup, list(written.names)) == written.names


# Bytes that are no SQLite page (a fixed pattern: the same damage on every run).
NOISE = bytes((i * 7919) % 251 for i in range(251))


def _truncate(path: Path) -> None:
    os.truncate(path, path.stat().st_size // 3)


def _overwrite(path: Path) -> None:
    # Every page but the first and the last becomes noise; the size stays.
    size = path.stat().st_size
    with open(path, "r+b") as f:
        f.seek(4096)
        f.write(NOISE * ((size - 2 * 4096) // len(NOISE)))


def _empty(path: Path) -> None:
    path.write_bytes(b"")


def _noise(path: Path) -> None:
    path.write_bytes(NOISE * 200)


def _drop_table(path: Path) -> None:
    with sqlite3.connect(path) as conn:
        conn.execute("DROP TABLE video_surveillance")


def _delete(path: Path) -> None:
    path.unlink()


DAMAGE: dict[str, tuple[Callable[[Path], None], str]] = {
    "truncated": (_truncate, "is truncated"),
    "overwritten": (_overwrite, "is damaged"),
    "zero-bytes": (_empty, "is an empty file (0 bytes)"),
    "random-bytes": (_noise, "is not a SQLite database"),
    "table-missing": (_drop_table, "registered tables missing: video_surveillance"),
    "deleted": (_delete, "is missing, but a store was created there before"),
}


@pytest.mark.parametrize("kind", list(DAMAGE))
def test_a_damaged_store_stops_serve_in_one_line_and_restore_brings_every_write_back(
    written: Written, tmp_path: Path, kind: str
) -> None:
    store = copy_of(written, tmp_path / "instance")
    path = store.instance / STORE
    damage, words = DAMAGE[kind]
    damage(path)
    damaged_size = path.stat().st_size if path.exists() else None
    # An address nothing listens on: were the store check missing, gunicorn would stop at once.
    line = one_line(run(store, "serve", "--host", "256.0.0.1", "--port", "1"))
    assert line.startswith(f"error: store {path} ") and words in line, line
    assert "mapservice restore FILE" in line
    if kind == "deleted":
        assert not path.exists()  # nothing was built in place of the lost store
    result = run(store, "restore", str(written.backup))
    assert result.exit_code == 0, result.output
    assert "Restart the service" in result.stderr
    if damaged_size is not None:  # the damaged file is kept aside, for a closer look
        (aside,) = store.instance.glob(f"{STORE}.before-restore-*")
        assert aside.stat().st_size == damaged_size
    assert stored_names(path, list(written.names)) == written.names


def test_check_names_the_damage_in_one_line(written: Written, tmp_path: Path) -> None:
    store = copy_of(written, tmp_path / "instance")
    _truncate(store.instance / STORE)
    line = one_line(run(store, "check"))
    assert "is truncated" in line and "mapservice restore FILE" in line


def test_restore_refuses_a_broken_backup_and_changes_nothing(written: Written, tmp_path: Path) -> None:
    store = copy_of(written, tmp_path / "instance")
    broken = tmp_path / "kaputt.gpkg"
    shutil.copyfile(written.backup, broken)
    _truncate(broken)
    before = (store.instance / STORE).read_bytes()
    line = one_line(run(store, "restore", str(broken)))
    assert line.startswith(f"error: backup {broken} is truncated") and "nothing was restored" in line
    assert (store.instance / STORE).read_bytes() == before
    assert not list(store.instance.glob("*before-restore*"))


@pytest.fixture
def running(written: Written, tmp_path: Path) -> Iterator[tuple[Flask, StoreConfig]]:
    store = copy_of(written, tmp_path / "instance")
    app = create_app(store.settings())
    yield app, store
    app.extensions["mapservice"].store.close()


def test_deleting_the_file_under_a_running_app_refuses_writes_and_reads(
    running: tuple[Flask, StoreConfig], written: Written, caplog: pytest.LogCaptureFixture
) -> None:
    app, store = running
    client = app.test_client()
    path = store.instance / STORE
    first = read(client, written.token, "test-cam-store-1")
    assert first.status_code == 200
    path.unlink()
    with caplog.at_level(logging.ERROR):
        for _ in range(2):
            refused = patch(
                client, written.token, "test-cam-store-1", first.headers["ETag"], "Testkamera weg"
            )
            assert refused.status_code == 503, refused.data
            body = refused.get_json()
            assert body["code"] == "StoreUnavailable"
            assert (
                "removed or replaced" in body["description"] and "nothing was written" in body["description"]
            )
            assert str(path) not in body["description"]  # the path is for the operator's log
    lines = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(lines) == 1 and str(path) in lines[0] and "mapservice restore" in lines[0], lines
    assert not caplog.records[0].exc_info  # a line, not a trace
    app.extensions["mapservice"].store.read_check_seconds = 0  # reads look at once too
    assert read(client, written.token, "test-cam-store-2").status_code == 503
    assert not path.exists()  # no new, empty store took the lost one's place


def test_replacing_the_file_under_a_running_app_refuses_writes(
    running: tuple[Flask, StoreConfig], written: Written
) -> None:
    app, store = running
    client = app.test_client()
    first = read(client, written.token, "test-cam-store-1")
    assert run(store, "restore", str(written.backup)).exit_code == 0  # a new file, a new inode
    refused = patch(client, written.token, "test-cam-store-1", first.headers["ETag"], "Testkamera alt")
    assert refused.status_code == 503, refused.data
    assert stored_names(store.instance / STORE, ["test-cam-store-1"]) == {
        "test-cam-store-1": "Testkamera Sicherung 1"
    }


def test_a_damaged_file_under_a_running_app_answers_503_saying_so(running: tuple[Flask, StoreConfig]) -> None:
    app, store = running
    _overwrite(store.instance / STORE)
    answer = app.test_client().get(f"{CAMS}?limit=1000")
    assert answer.status_code == 503
    assert "damaged" in answer.get_json()["description"]


def test_backup_of_a_postgis_store_says_how(tmp_path: Path) -> None:
    store = StoreConfig(tmp_path, "postgresql://mapservice@localhost/keine")
    line = one_line(run(store, "backup", str(tmp_path / "x.dump")))
    assert "pg_dump --format=custom --schema=mapservice" in line
    assert not (tmp_path / "x.dump").exists()


def test_check_on_postgis_names_a_damaged_schema_in_one_line(postgis_cluster: Cluster) -> None:
    url = postgis_cluster.new_database("storefile")
    try:
        assert "not made yet" in check_postgis(url)
        with psycopg.connect(url, autocommit=True) as conn:
            # What is left of a schema whose fixed tables were dropped: a layer table.
            conn.execute("CREATE SCHEMA mapservice")
            conn.execute("CREATE TABLE mapservice.districts (fid integer)")
        with pytest.raises(StoreUnavailable) as caught:
            check_postgis(url)
        line = str(caught.value)
        assert "schema mapservice is damaged (no table schema_migrations, layer_state" in line
        assert "pg_restore" in line and "\n" not in line
    finally:
        postgis_cluster.drop_database(url)
