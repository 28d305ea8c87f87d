"""A real server over a new store: a house-coordinate file (invented test data) is imported
while it runs, and every worker then resolves a typed address through /finder."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

import requests
from gazetteer_files import expected_lonlat, write_hauskoordinaten

from conftest import StoreConfig, start_server, stop_server
from mapservice import create_app
from mapservice.finder.geocode.importer import import_file


def test_an_import_is_seen_by_every_worker_of_a_running_server(
    fresh_store: StoreConfig, tmp_path: Path
) -> None:
    fresh_store.instance.mkdir(parents=True, exist_ok=True)
    create_app(fresh_store.settings()).extensions["mapservice"].store.close()  # the store exists
    server, log = start_server(fresh_store.instance, fresh_store.env, workers=2)
    try:
        url = f"{server.url}/finder?address=" + quote("Holzmarkt 1, Jena")
        before = requests.get(url, timeout=10)
        assert before.status_code == 404 and "steht für Jena nicht im Adressverzeichnis" in before.text

        app = create_app(fresh_store.settings())
        try:
            import_file(
                app.extensions["mapservice"].store, write_hauskoordinaten(tmp_path / "hk.csv"), source="hk"
            )
        finally:
            app.extensions["mapservice"].store.close()

        for _ in range(6):  # several requests: each of the two workers answers some
            page = requests.get(url, timeout=10)
            assert page.status_code == 200, page.text[:500]
            assert "Holzmarkt 1, 07743 Jena" in page.text and "Jena" in page.text
        lon, lat = expected_lonlat("Holzmarkt", "1")
        click = requests.get(f"{server.url}/finder", params={"lat": lat, "lon": lon}, timeout=10)
        assert click.status_code == 200 and "Jena" in click.text  # a click on the map resolves too
        assert "hk (amtliche Hauskoordinaten): 8 Adressen" in click.text
    finally:
        stop_server(server, log)
