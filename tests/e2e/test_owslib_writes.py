"""OWSLib, the Python client GIS scripts use, writes through the Part 4 API with a token.

OWSLib keeps one module-level header dict for all its clients, so the token and If-Match are
put in and taken out again around the test (other tests must stay anonymous).
"""

from __future__ import annotations

from collections.abc import Iterator

import owslib.ogcapi
import pytest
import requests
from click.testing import CliRunner
from owslib.ogcapi.features import Features

from conftest import StoreConfig, start_server, stop_server
from mapservice.cli import main

WALL = {
    "type": "Feature",
    "id": "test-wand-owslib",
    "geometry": {
        "type": "Polygon",
        "coordinates": [
            [[11.58, 50.92], [11.5802, 50.92], [11.5802, 50.9201], [11.58, 50.9201], [11.58, 50.92]]
        ],
    },
    "properties": {
        "name": "Testwand (erfunden)",
        "city": "Jena",
        "status": "active",
        "legal_status": "legal",
        "source": "Testdaten",
        "verified_on": "2026-11-01",
    },
}


@pytest.fixture
def clean_owslib_headers() -> Iterator[None]:
    saved = dict(owslib.ogcapi.REQUEST_HEADERS)
    yield
    owslib.ogcapi.REQUEST_HEADERS.clear()
    owslib.ogcapi.REQUEST_HEADERS.update(saved)


def test_owslib_creates_updates_and_deletes_with_a_token(
    fresh_store: StoreConfig, clean_owslib_headers: None
) -> None:
    result = CliRunner().invoke(
        main,
        ["token", "create", "--name", "QGIS-Skript (Test)", "--collection", "graffiti-zones"],
        env=fresh_store.env,
    )
    assert result.exit_code == 0, result.output
    token = result.stdout.strip()
    fresh_store.instance.mkdir(parents=True, exist_ok=True)
    server, log = start_server(fresh_store.instance, fresh_store.env)
    try:
        api = Features(f"{server.url}/api", headers={"Authorization": f"Bearer {token}"})
        assert api.collection_item_create("graffiti-zones", WALL)
        item = api.collection_item("graffiti-zones", "test-wand-owslib")
        assert item["properties"]["name"] == "Testwand (erfunden)"
        etag = api.response_headers["ETag"]
        # PUT needs the ETag: without it the server refuses (428), OWSLib raises.
        changed = {**WALL, "properties": {**WALL["properties"], "status": "suspended"}}
        with pytest.raises(RuntimeError, match="If-Match"):
            api.collection_item_update("graffiti-zones", "test-wand-owslib", changed)
        api.headers["If-Match"] = etag
        assert api.collection_item_update("graffiti-zones", "test-wand-owslib", changed)
        public = requests.get(
            f"{server.url}/api/collections/graffiti-zones/items/test-wand-owslib", timeout=10
        ).json()
        assert public["properties"]["status"] == "suspended"
        # The old ETag is stale now.
        with pytest.raises(RuntimeError, match="changed since"):
            api.collection_item_delete("graffiti-zones", "test-wand-owslib")
        api.collection_item("graffiti-zones", "test-wand-owslib")
        api.headers["If-Match"] = api.response_headers["ETag"]
        assert api.collection_item_delete("graffiti-zones", "test-wand-owslib")
        gone = requests.get(f"{server.url}/api/collections/graffiti-zones/items/test-wand-owslib", timeout=10)
        assert gone.status_code == 404
    finally:
        stop_server(server, log)
