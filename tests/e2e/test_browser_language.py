"""What the scripts write is in the page's language too: popups, tooltips and the in-map
attribution, read in a real Chromium after the scripts have drawn them.

The page HTML is checked without a browser in tests/api/test_language.py; text that only
JavaScript puts on the page (from the data and from i18n texts handed to the scripts) is
checked here, with the same catalogs (tests/language_check.py). One server over the shared
GeoPackage: what is checked is the pages' text, not the store.
"""

from __future__ import annotations

import pytest
from browser import Browser, browser_fixture, browser_output_fixture  # noqa: F401 - fixtures
from language_check import LANGS, foreign, visible_text

from conftest import Server

pytestmark = pytest.mark.e2e

READY = "window.mapReady === true"
# Opens every popup of the given map layers one after the other and returns their HTML, with
# the attribution's and the tooltips' HTML.
OPEN_ALL = """
var out = [], ids = arguments[0];
ids.forEach(function (id) {
  var group = window.dsmGroups && window.dsmGroups[id];
  if (!group) return;
  group.eachLayer(function visit(l) {
    if (l.eachLayer) { l.eachLayer(visit); return; }
    if (!l.getPopup || !l.getPopup()) return;
    l.openPopup();
    var p = document.querySelector('.leaflet-popup-content');
    if (p) out.push(p.outerHTML);
    l.closePopup();
  });
});
document.querySelectorAll('.leaflet-control-attribution, .leaflet-tooltip, .dsm-legend')
  .forEach(function (e) { out.push(e.outerHTML); });
return out;
"""


def _check(html: list[str], lang: str, where: str) -> None:
    assert html, f"{where}: nothing drawn"
    other = "en" if lang == "de" else "de"
    found = foreign(visible_text(" ".join(html), other), lang)
    assert found == [], f"{where} ({lang}): {found}"


@pytest.mark.parametrize("lang", LANGS)
def test_popups_and_attribution_are_in_the_page_language(
    browser: Browser, gpkg_live_server: Server, lang: str
) -> None:
    maps = {
        "/map/jena": ["contact-offices", "districts", "graffiti-zones", "video-surveillance"],
        "/map/jena-winzerla": ["districts", "contact-offices"],
        "/map/prevention-sachsen": ["prevention-coverage"],
    }
    for path, layers in maps.items():
        browser.load(f"{gpkg_live_server.url}{path}?lang={lang}", wait_for_js=READY, timeout=60)
        drawn = browser.js(OPEN_ALL, layers)
        assert sum("leaflet-popup-content" in h for h in drawn) >= 2, path
        _check(drawn, lang, path)
    # An English district popup gives the English household note (the data's note_en).
    browser.load(f"{gpkg_live_server.url}/map/jena-winzerla?lang={lang}", wait_for_js=READY, timeout=60)
    text = " ".join(browser.js(OPEN_ALL, ["districts"]))
    assert ("Approximation: private households" in text) == (lang == "en")
    assert ("Näherung: private Haushalte" in text) == (lang == "de")


@pytest.mark.parametrize("lang", LANGS)
def test_planner_and_finder_maps_are_in_the_page_language(
    browser: Browser, gpkg_live_server: Server, lang: str
) -> None:
    browser.load(f"{gpkg_live_server.url}/planner?area=jena&lang={lang}", wait_for_js=READY, timeout=60)
    drawn = browser.js("""
        var out = [];
        window.dsmLayer.eachLayer(function (l) {
          l.openPopup(l.getBounds().getCenter());
          var p = document.querySelector('.leaflet-popup-content');
          if (p) out.push(p.outerHTML);
          l.closePopup();
        });
        document.querySelectorAll('.leaflet-control-attribution')
          .forEach(function (e) { out.push(e.outerHTML); });
        return out;
    """)
    assert len(drawn) >= 30
    _check(drawn, lang, "/planner?area=jena")

    url = f"{gpkg_live_server.url}/finder?lat=50.8985&lon=11.5665&lang={lang}"
    browser.load(url, wait_for_js="window.finderReady === true", timeout=60)
    tooltips = browser.js("""
        var out = [];
        document.querySelectorAll('.leaflet-interactive').forEach(function (e) {
          e.dispatchEvent(new MouseEvent('mouseover', { bubbles: true }));
        });
        document.querySelectorAll('.leaflet-tooltip, .leaflet-control-attribution, .leaflet-bar a')
          .forEach(function (e) { out.push(e.outerHTML); });
        return out;
    """)
    _check(tooltips, lang, "/finder")
    assert any(("Your point" if lang == "en" else "Ihr Punkt") in t for t in tooltips), tooltips
