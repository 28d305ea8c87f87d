"""The basemap in a real headless Chromium against `mapservice serve` on 127.0.0.1.

With the own PMTiles archive (the test archive of tests/basemap_fixture.py) the map page
reads it with Range requests from 127.0.0.1 only and protomaps-leaflet paints its canvas.
With an external tile server nothing is asked of that host until the reader presses the
notice's button (two-click); the "external" host here is a name of the loopback interface on
a port nothing listens on, so the attempted requests never leave the machine.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from basemap_fixture import basemap_archive_fixture  # noqa: F401 - fixture
from browser import Browser, browser_fixture, browser_output_fixture, wait_until  # noqa: F401 - fixtures
from pg import free_port
from selenium.webdriver.common.keys import Keys

from conftest import Server, StoreConfig, start_server, stop_server

pytestmark = pytest.mark.e2e

READY = "window.mapReady === true"
ARCHIVE = "/basemap/basemap.pmtiles"

# Per tile canvas of the basemap: painted pixels and distinct colours among a sample of them.
CANVAS_PIXELS = """
return Array.from(document.querySelectorAll('.leaflet-tile-pane canvas.leaflet-tile')).map(function (c) {
  if (!c.width || !c.height) return {painted: 0, colours: 0};
  var data = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  var painted = 0, colours = {};
  for (var i = 0; i < data.length; i += 4) {
    if (data[i + 3] > 0) painted += 1;
    if (i % 64 === 0) colours[data[i] + ',' + data[i + 1] + ',' + data[i + 2] + ',' + data[i + 3]] = 1;
  }
  return {painted: painted / (c.width * c.height), colours: Object.keys(colours).length};
});
"""


def _server(shared_gpkg: StoreConfig, tmp: Path, env: dict[str, str]) -> Iterator[Server]:
    # Its own instance folder (for the log), over the shared GeoPackage: the basemap reads no data.
    server, log = start_server(
        tmp, {"MAPSERVICE_STORE": str(shared_gpkg.instance / "mapservice.gpkg"), **env}, workers=1
    )
    yield server
    stop_server(server, log)


@pytest.fixture(scope="module")
def own_server(
    shared_gpkg: StoreConfig, basemap_archive: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    env = {"MAPSERVICE_BASEMAP_PMTILES": str(basemap_archive)}
    yield from _server(shared_gpkg, tmp_path_factory.mktemp("basemap-own"), env)


@pytest.fixture(scope="module")
def external_server(shared_gpkg: StoreConfig, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    tiles = f"http://tiles.localhost:{free_port()}/{{z}}/{{x}}/{{y}}.png"
    yield from _server(
        shared_gpkg,
        tmp_path_factory.mktemp("basemap-external"),
        {"MAPSERVICE_TILE_URL": tiles, "MAPSERVICE_TILE_ATTRIBUTION": "Test tiles"},
    )


def _header(request: dict[str, Any], name: str) -> str | None:
    for key, value in request.get("headers", {}).items():
        if key.lower() == name.lower():
            return str(value)
    return None


def test_own_basemap_is_read_in_ranges_from_127_0_0_1_and_painted(
    browser: Browser, own_server: Server, browser_output: Path
) -> None:
    browser.load(own_server.url + "/map/jena", wait_for_js=READY, timeout=60)
    # Painted: tile canvases mostly covered, with more than one colour (land, outlines, name).
    tiles = wait_until(
        lambda: [t for t in browser.js(CANVAS_PIXELS) if t["painted"] > 0.5 and t["colours"] > 1], timeout=20
    )
    assert tiles
    browser.settle()
    host = urlsplit(own_server.url).netloc
    assert browser.foreign_hosts(host) == set(), browser.requested_urls()
    sent = [e["request"] for e in browser.network_events("Network.requestWillBeSent")]
    reads = [r for r in sent if urlsplit(r["url"]).path == ARCHIVE]
    assert len(reads) >= 2, [r["url"] for r in sent]  # the header first, then the tiles
    for read in reads:
        assert urlsplit(read["url"]).netloc == host
        assert (_header(read, "Range") or "").startswith("bytes="), read
    statuses = {
        e["response"]["status"]
        for e in browser.network_events("Network.responseReceived")
        if urlsplit(e["response"]["url"]).path == ARCHIVE
    }
    assert statuses == {206}
    state = browser.js("return window.dsmBasemaps.map(function (b) { return b.state; })")
    assert state == ["pmtiles"]
    attribution = browser.find(".leaflet-control-attribution").text
    assert "© OpenStreetMap-Mitwirkende (ODbL)" in attribution
    assert browser.console_errors() == []
    browser.screenshot(browser_output / "map-jena-basemap.png")


def test_external_tiles_only_after_the_click_on_the_notice(
    browser: Browser, external_server: Server, browser_output: Path
) -> None:
    browser.load(external_server.url + "/map/jena?lang=en", wait_for_js=READY, timeout=60)
    browser.settle()
    # The map and its data work without the basemap …
    assert browser.js("return window.dsmCounts")["districts"] == 30
    notice = browser.find(".leaflet-container #dsm-basemap-notice")
    assert notice.is_displayed() and "tiles.localhost" in notice.text and "IP address" in notice.text
    # … and nothing was asked of the tile host.
    assert browser.foreign_hosts(urlsplit(external_server.url).netloc) == set(), browser.requested_urls()
    assert browser.js("return window.dsmBasemaps[0].state") == "waiting"
    browser.screenshot(browser_output / "map-jena-consent-en.png")
    button = browser.find("#dsm-basemap-notice .dsm-consent-load")
    button.send_keys(Keys.ENTER)  # a real button: the keyboard works
    wait_until(lambda: browser.js("return window.dsmBasemaps[0].state") == "external")
    assert not browser.find_all("#dsm-basemap-notice")
    images = wait_until(
        lambda: browser.js(
            "return Array.from(document.querySelectorAll('.leaflet-tile-pane img.leaflet-tile'))"
            ".map(function (i) { return i.src; })"
        )
    )
    assert all(urlsplit(src).hostname == "tiles.localhost" for src in images)
    assert wait_until(
        lambda: [u for u in browser.requested_urls() if urlsplit(u).hostname == "tiles.localhost"]
    )
    assert browser.find(".leaflet-control-attribution").text.count("Test tiles") == 1
