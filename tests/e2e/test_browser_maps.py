"""Map pages and embeds in a real headless Chromium against `mapservice serve` on 127.0.0.1."""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests
from browser import Browser, browser_fixture, browser_output_fixture, wait_until  # noqa: F401 - fixtures
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.keys import Keys

from conftest import GEODATA, Server, StoreConfig, start_server, stop_server

pytestmark = pytest.mark.e2e

READY = "window.mapReady === true"
EVIL_NAME = "<img src=x onerror=alert(1)>"
EVIL_FIELD = '"><script>alert(1)</script>'
# What each map must draw: features per layer (points without a location are not drawn).
EXPECTED = {
    "/map/jena": {
        "districts": 30,
        "contact-offices": 5,
        "prevention-coverage": 1,
        "graffiti-zones": 0,
        "video-surveillance": 0,
    },
    "/map/jena-winzerla": {"districts": 30, "contact-offices": 5, "prevention-coverage": 1},
    "/map/zwickau": {"contact-offices": 0, "prevention-coverage": 1},
    "/map/meerane": {"prevention-coverage": 1},
    "/map/prevention-thueringen": {"prevention-coverage": 849},
    "/map/prevention-sachsen": {"prevention-coverage": 426},
    "/embed/jena?district=jena-winzerla": {"districts": 30, "contact-offices": 5},
    "/embed/jena?datalayers=contact-offices&lang=en": {"contact-offices": 5},
    "/embed/prevention-sachsen?captionBar=false": {"prevention-coverage": 426},
}


def _host(server: Server) -> str:
    return urlsplit(server.url).netloc


@pytest.mark.parametrize("path", list(EXPECTED))
def test_map_renders_its_layers_from_the_own_host_only(
    browser: Browser, live_server: Server, path: str
) -> None:
    browser.load(live_server.url + path, wait_for_js=READY, timeout=60)
    browser.settle()
    assert browser.js("return window.mapError || null") is None
    counts = browser.js("return window.dsmCounts")
    for layer, expected in EXPECTED[path].items():
        assert counts.get(layer) == expected, (layer, counts)
    if "datalayers=contact-offices" in path:
        assert set(counts) == {"contact-offices"}
    assert browser.console_errors() == []
    assert browser.foreign_hosts(_host(live_server)) == set(), browser.requested_urls()
    # Leaflet drew them: markers and paths are in the DOM.
    if EXPECTED[path].get("contact-offices"):
        assert len(browser.find_all(".leaflet-marker-icon.dsm-marker")) >= EXPECTED[path]["contact-offices"]
    if "prevention-coverage" in EXPECTED[path]:
        assert len(browser.find_all("path.leaflet-interactive")) >= EXPECTED[path]["prevention-coverage"]


def test_jena_map_screenshot_and_embed_screenshot(
    browser: Browser, live_server: Server, browser_output: Path
) -> None:
    browser.load(live_server.url + "/map/jena", wait_for_js=READY, timeout=60)
    shot = browser.screenshot(browser_output / "map-jena.png")
    assert shot.stat().st_size > 20_000
    browser.load(live_server.url + "/embed/jena?district=jena-winzerla", wait_for_js=READY, timeout=60)
    shot = browser.screenshot(browser_output / "embed-jena-winzerla.png")
    assert shot.stat().st_size > 20_000


def test_office_popup_shows_hours_and_contact(browser: Browser, live_server: Server) -> None:
    browser.load(live_server.url + "/map/jena", wait_for_js=READY, timeout=60)
    text = browser.js("""
        var out = null;
        window.dsmGroups['contact-offices'].eachLayer(function (l) {
            if (l.feature && l.feature.id === 'kobb-jena-winzerla') { l.openPopup(); }
        });
        var p = document.querySelector('.leaflet-popup-content');
        return p ? p.innerText : null;
    """)
    assert text is not None
    assert "Mario Bergner" in text and "Anna-Siemsen-Straße 27" in text
    assert "Mo 10–12 Uhr, Do 15–17 Uhr" in text  # the hours in words, as on the page (localize.py)
    zoom = browser.js("return document.querySelector('.leaflet-control-zoom-in').title")
    assert zoom == "Hineinzoomen"  # Leaflet's own control texts in the page language
    assert "ungefähre Lage" in text  # the point is a neighbouring house
    assert ("jetzt geöffnet" in text) or ("jetzt geschlossen" in text)
    assert "nächste Öffnung" in text
    assert (
        browser.js(
            "return document.querySelector('.leaflet-popup-content a[href^=\"tel:\"]').getAttribute('href')"
        )
        == "tel:03641233979"
    )


def test_keyboard_reaches_markers_and_opens_popups(browser: Browser, live_server: Server) -> None:
    browser.load(live_server.url + "/map/jena", wait_for_js=READY, timeout=60)
    markers = browser.find_all(".leaflet-marker-icon.dsm-marker")
    assert markers and all(m.get_attribute("tabindex") == "0" for m in markers)
    browser.js("arguments[0].focus()", markers[0])
    ActionChains(browser.driver).send_keys(Keys.ENTER).perform()
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and not browser.find_all(".leaflet-popup-content"):
        time.sleep(0.05)
    assert browser.find_all(".leaflet-popup-content")
    # The layer switcher is a list of real checkboxes.
    boxes = browser.find_all(".leaflet-control-layers-overlays input[type=checkbox]")
    assert len(boxes) == 6 and all(b.is_enabled() for b in boxes)  # 5 layers + camera views


def test_overlapping_offices_are_spread_so_each_can_be_clicked(
    browser: Browser, gpkg_live_server: Server
) -> None:
    """Jena's offices at Am Anger 28/30 and the two at Richard-Sorge-Straße 2 share a spot at
    the opening zoom: each marker must be visible on its own and be what a click there hits."""
    browser.load(gpkg_live_server.url + "/map/jena", wait_for_js=READY, timeout=60)
    found = browser.js("""
        var icons = Array.prototype.slice.call(document.querySelectorAll('.leaflet-marker-icon.dsm-marker'));
        return icons.map(function (icon) {
          var r = icon.getBoundingClientRect();
          var hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
          return {title: icon.getAttribute('title'), left: r.left, top: r.top, right: r.right,
                  bottom: r.bottom, hits: !!hit && (hit === icon || icon.contains(hit))};
        });""")
    assert len(found) == EXPECTED["/map/jena"]["contact-offices"]
    assert all(f["hits"] for f in found), [f["title"] for f in found if not f["hits"]]
    for i, a in enumerate(found):
        for b in found[i + 1 :]:
            overlap_x = min(a["right"], b["right"]) - max(a["left"], b["left"])
            overlap_y = min(a["bottom"], b["bottom"]) - max(a["top"], b["top"])
            assert overlap_x <= 1 or overlap_y <= 1, (a["title"], b["title"])
    # Zoomed in far enough, the markers return to their true places (no leader lines left).
    browser.js("Object.values(window.dsmGroups)[0]._map.setView([50.8817587, 11.6228965], 19)")
    browser.settle()
    lobeda = browser.js("""
        var map = Object.values(window.dsmGroups)[0]._map, out = [];
        map.eachLayer(function (l) { if (l.dsmHome) out.push(l.getLatLng().distanceTo(l.dsmHome)); });
        return out;""")
    assert len(lobeda) == 5 and min(lobeda) < 1  # identical addresses stay spread, a metre at most


@pytest.mark.parametrize(
    ("path", "names"),
    [
        ("/map/zwickau", {"Zwickau", "Lichtentanne", "Reinsdorf"}),
        ("/finder?lang=en", {"Jena", "Zwickau", "Leipzig"}),
        ("/planner?area=jena", {"Jena", "Bucha", "Großlöbichau"}),
    ],
)
def test_every_map_shows_outlines_and_names_for_orientation(
    browser: Browser, gpkg_live_server: Server, path: str, names: set[str]
) -> None:
    """Without any basemap a citizen still sees the towns and districts around the shown area."""
    live_server = gpkg_live_server
    browser.load(
        live_server.url + path, wait_for_js="window.dsmContext && window.dsmContext.ready", timeout=60
    )
    # A map may move once its data is in (the planner fits it): the names follow the view.
    shown: set[str] = set()

    def all_named() -> bool:
        shown.clear()
        shown.update(browser.js("return window.dsmContext.ready ? window.dsmContext.names() : []"))
        return names <= shown

    assert wait_until(all_named, timeout=15), shown
    assert browser.js("return window.dsmContext.outlines()") > 0
    if "area=jena" in path:  # the planner's districts are named too, as many as fit
        districts = requests.get(live_server.url + "/api/collections/districts/items?city=Jena", timeout=30)
        district_names = {f["properties"]["name"] for f in districts.json()["features"]}
        assert len(district_names & shown) >= 10, shown
    assert browser.foreign_hosts(_host(live_server)) == set()
    assert browser.console_errors() == []


# -- XSS: a server whose data carries script in names and fields -------------------------------


@pytest.fixture(scope="module")
def evil_server(
    tmp_path_factory: pytest.TempPathFactory, new_store: Callable[[Path], StoreConfig]
) -> Iterator[Server]:
    data = tmp_path_factory.mktemp("evil-geodata")
    for item in GEODATA.iterdir():
        if item.is_file():
            shutil.copy(item, data / item.name)
    offices = json.loads((data / "contact-offices.geojson").read_text())
    offices["features"].append(
        {
            "type": "Feature",
            "id": "evil-office",
            "geometry": {"type": "Point", "coordinates": [11.59, 50.93]},
            "properties": {
                **{k: None for k in offices["features"][0]["properties"]},
                "id": "evil-office",
                "kind": "contact_officer_office",
                "name": EVIL_NAME,
                "city": "Jena",
                "city_ags": "16053000",
                "serves_districts": ["jena-winzerla"],
                "officers": [{"name": EVIL_FIELD, "role": EVIL_NAME}],
                "street": EVIL_FIELD,
                "housenumber": EVIL_NAME,
                "room": EVIL_FIELD,
                "registration": EVIL_NAME,
                "phone": EVIL_FIELD,
                "note": EVIL_FIELD,
                "appointments": [{"start": "2030-01-01T10:00:00+01:00", "end": None, "note": EVIL_NAME}],
                "location_precision": "street",
                "location_source": EVIL_FIELD,
                "source": EVIL_NAME,
                "verified_on": "2026-01-01",
            },
        }
    )
    (data / "contact-offices.geojson").write_text(json.dumps(offices, ensure_ascii=False))
    bodies = json.loads((data / "prevention-bodies.geojson").read_text())
    bodies["features"].append(
        {
            "type": "Feature",
            "id": "evil-body",
            "geometry": None,
            "properties": {
                **{k: None for k in bodies["features"][0]["properties"]},
                "id": "evil-body",
                "name": EVIL_NAME,
                "type": "runder_tisch",
                "status": "active",
                "level": "gemeinde",
                "covers_ags": ["16053000"],
                "programme": EVIL_FIELD,
                "source": EVIL_FIELD,
                "verified_on": "2026-01-01",
            },
        }
    )
    (data / "prevention-bodies.geojson").write_text(json.dumps(bodies, ensure_ascii=False))
    # Test-only features for the layers that ship empty, to exercise their drawing code.
    (data / "graffiti-zones.geojson").write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "features": [
                    {
                        "type": "Feature",
                        "id": "test-wall",
                        "geometry": {
                            "type": "LineString",
                            "coordinates": [[11.585, 50.925], [11.586, 50.9255]],
                        },
                        "properties": {
                            "id": "test-wall",
                            "name": EVIL_NAME,
                            "city": "Jena",
                            "status": "active",
                            "legal_status": "legal",
                            "rules": EVIL_FIELD,
                            "source": EVIL_NAME,
                            "verified_on": "2026-01-01",
                        },
                    }
                ],
            }
        )
    )
    (data / "video-surveillance.geojson").write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "features": [
                    {
                        "type": "Feature",
                        "id": "test-camera",
                        "geometry": {"type": "Point", "coordinates": [11.588, 50.928]},
                        "properties": {
                            "id": "test-camera",
                            "name": EVIL_NAME,
                            "city": "Jena",
                            "surveillance": "public",
                            "surveillance_type": "camera",
                            "camera_type": "fixed",
                            "direction": "45;200",
                            "hfov_deg": 70,
                            "range_m": 40,
                            "status": "active",
                            "operator": EVIL_FIELD,
                            "publication": "published",  # drafts are not on the map
                            "source": EVIL_NAME,
                            "verified_on": "2026-01-01",
                        },
                    }
                ],
            }
        )
    )
    store = new_store(tmp_path_factory.mktemp("evil-instance"))
    server, log = start_server(store.instance, {**store.env, "MAPSERVICE_GEODATA_PATH": str(data)}, workers=1)
    yield server
    stop_server(server, log)


@pytest.mark.parametrize("path", ["/map/jena", "/embed/jena", "/map/jena-winzerla?lang=en"])
def test_script_in_data_never_runs(browser: Browser, evil_server: Server, path: str) -> None:
    browser.install_alert_hook()
    browser.load(evil_server.url + path, wait_for_js=READY, timeout=60)
    # Open every popup and tooltip, so every value is put into the page once.
    opened = browser.js("""
        var n = 0;
        Object.keys(window.dsmGroups).forEach(function (id) {
            window.dsmGroups[id].eachLayer(function (l) {
                if (l.getPopup && l.getPopup()) { l.openPopup(); n += 1; }
                if (l.getTooltip && l.getTooltip()) { l.openTooltip(); }
            });
        });
        return n;
    """)
    assert opened >= 2
    browser.js("""
        window.dsmGroups['contact-offices'].eachLayer(function (l) {
            if (l.feature && l.feature.id === 'evil-office') { l.openPopup(); }
        });""")
    popup = browser.js("""return Array.from(document.querySelectorAll('.leaflet-popup-content'))
        .map(function (p) { return p.innerText; }).join('\\n---\\n')""")
    assert EVIL_NAME in popup  # shown as text …
    assert browser.js("return document.querySelectorAll('img[src=\"x\"]').length") == 0  # … not run
    assert browser.js("return document.body.innerText.indexOf('<img src=x onerror=alert(1)>')") >= 0
    time.sleep(0.3)
    assert browser.js_alerts_fired() == []
    assert not browser.dialog_open()


def test_graffiti_and_cameras_with_fields_of_view_are_drawn(browser: Browser, evil_server: Server) -> None:
    browser.load(evil_server.url + "/map/jena", wait_for_js=READY, timeout=60)
    counts = browser.js("return window.dsmCounts")
    assert counts["graffiti-zones"] == 1 and counts["video-surveillance"] == 1
    # Two directions: one field-of-view feature made of two wedges.
    fov_paths = browser.js("""
        var n = 0; var map = null;
        Object.values(window.dsmGroups).forEach(function (g) { if (g._map) map = g._map; });
        map.eachLayer(function (l) { if (l.feature && l.feature.id === 'test-camera'
                                         && l.getLatLngs) { n += 1; } });
        return n;""")
    assert fov_paths == 1, (browser.console_errors(), browser.js("return window.mapError || null"))
    assert browser.console_errors() == []


def test_planner_with_script_in_data_and_registers(browser: Browser, evil_server: Server) -> None:
    """Planner over data with script in names, one camera and one wall in Jena."""
    rows = requests.get(evil_server.url + "/api/coverage/districts?city=jena&f=json", timeout=30).json()[
        "districts"
    ]
    cameras = [r for r in rows if r["cameras_active"]]
    assert len(cameras) == 1 and cameras[0]["cameras_active"] == 1
    assert 0 < cameras[0]["camera_fov_share"] < 0.01  # two 70° wedges of 40 m
    assert {r["cameras_active"] for r in rows} == {0, 1}  # recorded now: zero means none
    walls = [r for r in rows if r["graffiti_zones"]]
    assert len(walls) == 1 and walls[0]["graffiti_area_m2"] is None  # a wall without area_m2
    browser.install_alert_hook()
    browser.load(evil_server.url + "/planner?area=jena&metric=cameras_active", wait_for_js=READY, timeout=60)
    opened = browser.js("""
        var n = 0;
        window.dsmLayer.eachLayer(function (l) { l.openPopup(); l.openTooltip(); n += 1; });
        return n;""")
    assert opened == 30
    assert browser.js("return document.querySelectorAll('img[src=\"x\"]').length") == 0
    time.sleep(0.3)
    assert browser.js_alerts_fired() == [] and not browser.dialog_open()
    assert browser.console_errors() == []
