"""The whole-Land maps in headless Chromium: their first view stays under 150 kB, draws every
municipality, and zooming in brings finer outlines (issue 16). How fast they draw is measured
by benchmarks/map_weight.py, not here."""

from __future__ import annotations

import pytest
from browser import Browser, browser_fixture, browser_output_fixture, wait_until  # noqa: F401 - fixtures

from conftest import Server

pytestmark = pytest.mark.e2e

DRAWN = "window.mapReady === true && window.dsmContext && window.dsmContext.ready === true"
LIMIT_BYTES = 150_000
# Everything the first view downloaded: the page, its scripts, styles, images and data.
TRANSFER = """
const all = [...performance.getEntriesByType('navigation'), ...performance.getEntriesByType('resource')];
return {
  bytes: all.reduce((sum, e) => sum + Math.max(e.transferSize, e.encodedBodySize), 0),
  urls: all.map(e => e.name + ' ' + e.transferSize),
};
"""
PAGES = {
    "/map/prevention-thueringen": 849,
    "/map/prevention-sachsen": 426,
    "/planner?area=land-16": 849,
}


def _open(browser: Browser, url: str) -> None:
    browser.driver.execute_cdp_cmd("Network.clearBrowserCache", {})  # a first visit
    browser.load(url, wait_for_js=DRAWN, timeout=60)
    browser.settle(quiet=0.5)


@pytest.mark.parametrize("path", list(PAGES))
def test_first_view_of_a_land_is_light_and_draws_every_municipality(
    browser: Browser, gpkg_live_server: Server, path: str
) -> None:
    _open(browser, gpkg_live_server.url + path)
    assert browser.js("return window.mapError || null") is None
    weight = browser.js(TRANSFER)
    assert weight["bytes"] < LIMIT_BYTES, "\n".join(weight["urls"])
    # The polygons came simplified for the map's zoom, not at full resolution.
    assert any("f=topojson&zoom=" in url for url in browser.requested_urls())
    counts = browser.js("return window.dsmCounts")
    drawn = counts.get("prevention-coverage", counts.get("choropleth"))
    assert drawn == PAGES[path]
    paths = browser.js(
        "return document.querySelectorAll('.leaflet-overlay-pane path.leaflet-interactive').length"
    )
    assert paths >= PAGES[path]
    assert browser.console_errors() == []


def test_zooming_in_brings_finer_outlines_and_keeps_the_facts(
    browser: Browser, gpkg_live_server: Server
) -> None:
    _open(browser, gpkg_live_server.url + "/map/prevention-thueringen")
    browser.js("""
        var group = window.dsmGroups['prevention-coverage'];
        group._map.setView([50.93, 11.59], 11);  // Jena
    """)
    wait_until(lambda: browser.js("return window.dsmLevel || 0") >= 1, timeout=20)
    assert any("zoom=11" in url for url in browser.requested_urls())
    paths = browser.js(
        "return document.querySelectorAll('.leaflet-overlay-pane path.leaflet-interactive').length"
    )
    assert paths >= 849
    # The popup of Jena still has its facts (made when opened).
    text = browser.js("""
        var out = null;
        window.dsmGroups['prevention-coverage'].eachLayer(function (l) {
            if (l.feature && l.feature.id === '16053000') { l.openPopup(); }
        });
        var p = document.querySelector('.leaflet-popup-content');
        return p ? p.innerText : null;
    """)
    assert text is not None and "Jena" in text and "111.407" in text
    assert browser.console_errors() == []
