"""Keyboard use and reflow (WCAG 2.1.1, 2.4.3, 1.4.10) in a real headless Chromium.

One server over the shared GeoPackage: what is checked here is page behaviour, not the store.
The figures (tab stops, widest element at 320 px) are written to test-output/keyboard.json.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from browser import Browser, browser_fixture, browser_output_fixture, wait_until  # noqa: F401 - fixtures
from selenium.webdriver.common.keys import Keys

from conftest import Server

pytestmark = pytest.mark.e2e

READY = "window.mapReady === true"
FINDER_READY = "window.finderReady === true"
# Every page a citizen or a planner opens, and what tells that its scripts are done.
PAGES = {
    "/": None,
    "/map/jena": READY,
    "/map/prevention-thueringen": READY,
    "/embed/jena": READY,
    "/finder?lat=50.8985&lon=11.5665": FINDER_READY,
    "/planner?area=jena": None,
    "/planner?area=land-14": None,
    "/api?f=html": None,
    "/api/collections?f=html": None,
    "/api/collections/districts/items?f=html&city=Jena": None,
    "/api/collections/municipalities/items?f=html&filter=population%20%3E%2010000": None,
    "/api/collections/districts/queryables?f=html": None,
    "/api/collections/districts/items/jena-winzerla?f=html&lang=en": None,
    "/api/openapi?f=html&lang=en": None,
}

# How far the figures of the 320 px walk count tab stops (a bigger count is written as this).
TAB_LIMIT = int(os.environ.get("DSM_TAB_LIMIT", "0"))
# One Tab press; 1 for a new stop, 0 once focus is back on one seen before or on the page.
TAB_STEP = """
var e = document.activeElement;
if (!e || e === document.body || e === document.documentElement || e.dsmSeen) return 0;
e.dsmSeen = true;
return 1;
"""
# The element whose box reaches furthest to the right, as a short selector. Map panes and
# the inside of scroll boxes are clipped by their container, so they do not count.
WIDEST = """
var best = null, right = 0;
document.querySelectorAll('body *').forEach(function (e) {
  if (e.closest('.leaflet-map-pane, .table-scroll > *')) return;
  var r = e.getBoundingClientRect();
  if (r.right > right + 0.5) { right = r.right; best = e; }
});
function name(e) {
  if (!e) return null;
  var s = e.tagName.toLowerCase() + (e.id ? '#' + e.id : '');
  if (e.classList.length) s += '.' + Array.prototype.slice.call(e.classList, 0, 2).join('.');
  return s;
}
return [Math.round(right), name(best), document.documentElement.scrollWidth];
"""
# True when the element's centre is not covered by another element.
HIT = """
var e = arguments[0], r = e.getBoundingClientRect();
var x = r.left + r.width / 2, y = r.top + r.height / 2;
var hit = document.elementFromPoint(x, y);
return !!hit && (hit === e || e.contains(hit));
"""


@pytest.fixture(scope="module")
def narrow(browser: Browser) -> Iterator[Browser]:
    """The browser as a 320 px wide screen; back to its normal size afterwards."""
    browser.driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": 320, "height": 640, "deviceScaleFactor": 1, "mobile": False},
    )
    try:
        yield browser
    finally:
        browser.driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})


def tab_walk(browser: Browser, limit: int) -> int:
    """Tab stops met by pressing Tab from the top until focus cycles (at most `limit`).

    Walked with real key presses: Chromium also stops on SVG paths that have focus listeners,
    which no query for tabindex finds."""
    browser.reset_focus()
    stops = 0
    while stops < limit:
        browser.press_tab()
        if not browser.js(TAB_STEP):
            break
        stops += 1
    return stops


def _figures(output: Path, key: str, value: object) -> None:
    path = output / "keyboard.json"
    data = json.loads(path.read_text()) if path.exists() else {}
    data[key] = value
    path.write_text(json.dumps(data, indent=1, sort_keys=True))


def test_no_page_scrolls_sideways_at_320_px_and_map_controls_are_not_covered(
    narrow: Browser, gpkg_live_server: Server, browser_output: Path
) -> None:
    browser = narrow
    wide = {}
    covered = []
    for path, ready in PAGES.items():
        browser.load(
            gpkg_live_server.url + path, wait_for_js=ready or "document.readyState === 'complete'", timeout=60
        )
        right, widest, scroll = browser.js(WIDEST)
        inner = browser.js("return window.innerWidth")
        tabs = tab_walk(browser, TAB_LIMIT) if TAB_LIMIT else None
        _figures(
            browser_output, path, {"scrollWidth": scroll, "widest": widest, "right": right, "tabs": tabs}
        )
        if scroll > inner:
            wide[path] = (scroll, widest)
        if path == "/map/jena":
            for css in (
                ".leaflet-control-zoom-in",
                ".leaflet-control-layers-toggle",
                ".leaflet-marker-icon.dsm-marker",
            ):
                found = [e for e in browser.find_all(css) if e.is_displayed()]
                if found:
                    browser.js("arguments[0].scrollIntoView({block: 'center'})", found[0])
                if not found or not browser.js(HIT, found[0]):
                    covered.append(css)
    assert wide == {}
    assert covered == []


def test_popup_takes_focus_and_escape_gives_it_back_to_the_marker(
    browser: Browser, gpkg_live_server: Server
) -> None:
    browser.load(gpkg_live_server.url + "/map/jena", wait_for_js=READY, timeout=60)
    browser.reset_focus()
    marker = None
    for _ in range(60):
        focused = browser.press_tab()
        if browser.js("return document.activeElement.classList.contains('dsm-marker')"):
            marker = focused
            break
    assert marker is not None, "no marker reached by Tab"
    marker.send_keys(Keys.ENTER)
    inside = (
        "var p = document.querySelector('.leaflet-popup'); return !!p && p.contains(document.activeElement);"
    )
    assert browser.js(inside)
    announced = browser.js("return document.querySelector('.dsm-live').textContent")
    assert announced.strip()
    browser.focused().send_keys(Keys.ESCAPE)
    # Leaflet fades the popup out before it removes it.
    wait_until(lambda: browser.js("return document.querySelector('.leaflet-popup') === null"))
    assert browser.focused() == marker


def test_thuringia_map_has_few_tab_stops(browser: Browser, gpkg_live_server: Server) -> None:
    # 849 municipality polygons: their facts are in the table beside the map, not tab stops.
    browser.load(gpkg_live_server.url + "/map/prevention-thueringen", wait_for_js=READY, timeout=60)
    assert tab_walk(browser, 40) < 40


def test_a_features_page_stacks_its_properties_at_320_px(narrow: Browser, gpkg_live_server: Server) -> None:
    # Side by side, a property's description and its value each got half of 320 px: words
    # broke letter by letter and values were cut off inside the table's scroll box.
    narrow.load(gpkg_live_server.url + "/api/collections/contact-offices/items/kobb-jena-winzerla?f=html")
    box = narrow.js("var b = document.querySelector('.table-scroll'); return [b.scrollWidth, b.clientWidth];")
    assert box[0] <= box[1], box
    # The name and description stand above the value, each as wide as the table.
    widths = narrow.js(
        """var row = document.querySelector('table.facts tr');
           return [row.querySelector('th').getBoundingClientRect(),
                   row.querySelector('td').getBoundingClientRect()]
             .map(function (r) { return [Math.round(r.left), Math.round(r.width), Math.round(r.top)]; });"""
    )
    (th_left, th_width, th_top), (td_left, td_width, td_top) = widths
    assert th_left == td_left and th_width == td_width and td_top > th_top, widths
