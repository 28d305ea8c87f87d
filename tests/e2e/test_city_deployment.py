"""Issue 12's "done when": a city's own deployment, as a fresh install would run it.

A new instance is configured with a PMTiles basemap and a house-coordinate file, both built by
the tests (tests/basemap_fixture.py, tests/gazetteer_files.py: TEST DATA, invented), the file
is loaded with the real command `mapservice gazetteer import`, and `mapservice serve` runs on
127.0.0.1. In headless Chromium a citizen types an address and then clicks the map; both
resolve, and the basemap comes from 127.0.0.1 only, in Range requests.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from basemap_fixture import basemap_archive_fixture  # noqa: F401 - fixture
from browser import Browser, browser_fixture, browser_output_fixture, wait_until  # noqa: F401 - fixtures
from gazetteer_files import write_hauskoordinaten
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.keys import Keys

from conftest import REPO, Server, start_server, stop_server

pytestmark = pytest.mark.e2e

ARCHIVE = "/basemap/basemap.pmtiles"


@pytest.fixture(scope="module")
def city_server(tmp_path_factory: pytest.TempPathFactory, basemap_archive: Path) -> Iterator[Server]:
    instance = tmp_path_factory.mktemp("city-instance")
    env = {"MAPSERVICE_INSTANCE_PATH": str(instance), "MAPSERVICE_BASEMAP_PMTILES": str(basemap_archive)}
    addresses = write_hauskoordinaten(tmp_path_factory.mktemp("city-data") / "hauskoordinaten.csv")
    imported = subprocess.run(
        [sys.executable, "-m", "mapservice", "gazetteer", "import", str(addresses)],
        env={**os.environ, **env},
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert imported.returncode == 0, imported.stderr
    server, log = start_server(instance, env, workers=1)
    yield server
    stop_server(server, log)


def test_typed_address_and_map_click_resolve_on_the_own_basemap(
    browser: Browser, city_server: Server, browser_output: Path
) -> None:
    host = urlsplit(city_server.url).netloc
    browser.load(city_server.url + "/finder", wait_for_js="window.finderReady === true", timeout=60)
    field = browser.find("#address")
    field.send_keys("Holzmarkt 1, Jena")
    field.send_keys(Keys.ENTER)
    wait_until(lambda: "address=" in browser.driver.current_url, timeout=20)
    browser.load(browser.driver.current_url, wait_for_js="window.finderReady === true", timeout=60)
    text = browser.js("return document.body.innerText")
    assert "Holzmarkt 1, 07743 Jena" in text and "Jena (Thüringen)" in text

    # The basemap under the result: read from this service only, in byte ranges, and painted.
    wait_until(lambda: browser.js("return (window.dsmBasemaps || []).map(function (b) { return b.state; })"))
    assert browser.js("return window.dsmBasemaps[0].state") == "pmtiles"
    wait_until(
        lambda: browser.js(
            "return Array.from(document.querySelectorAll('#finder-map canvas.leaflet-tile'))"
            ".some(function (c) { return c.width > 0; })"
        ),
        timeout=20,
    )
    browser.settle()
    assert browser.foreign_hosts(host) == set(), browser.requested_urls()
    reads = [
        e["request"]
        for e in browser.network_events("Network.requestWillBeSent")
        if urlsplit(e["request"]["url"]).path == ARCHIVE
    ]
    assert reads and all(urlsplit(r["url"]).netloc == host for r in reads)
    assert all(any(k.lower() == "range" for k in r.get("headers", {})) for r in reads)
    browser.screenshot(browser_output / "city-finder-address.png")

    # A click on the map, a little west of the found house, resolves too.
    box = browser.find("#finder-map")
    ActionChains(browser.driver).move_to_element_with_offset(box, -40, 0).click().perform()
    wait_until(lambda: "lat=" in browser.driver.current_url, timeout=20)
    browser.load(browser.driver.current_url, wait_for_js="window.finderReady === true", timeout=60)
    text = browser.js("return document.body.innerText")
    assert "Jena (Thüringen)" in text and "Ortsteil" in text
    assert browser.console_errors() == []
