"""The finder in a real browser: the map click and the result map are enhancements only."""

from __future__ import annotations

import time
from urllib.parse import urlsplit

import pytest
from browser import Browser, browser_fixture, browser_output_fixture  # noqa: F401 - fixtures

from conftest import Server

pytestmark = pytest.mark.e2e


def test_click_on_the_map_finds_the_district(browser: Browser, live_server: Server) -> None:
    browser.load(live_server.url + "/finder", wait_for_js="window.finderReady === true")
    assert browser.find("#use-location").is_displayed()  # shown only with JavaScript
    size = browser.js(
        "var r = document.getElementById('finder-map').getBoundingClientRect();return [r.width, r.height];"
    )
    assert size[0] > 100 and size[1] > 100
    # What a click in Winzerla submits (the real click is the next test).
    browser.js("""
        var form = document.getElementById('point-form');
        document.getElementById('lat').value = '50.8985';
        document.getElementById('lon').value = '11.5665';
        form.submit();""")
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and "lat=" not in browser.driver.current_url:
        time.sleep(0.05)
    browser.load(browser.driver.current_url, wait_for_js="window.finderReady === true")
    text = browser.js("return document.body.innerText")
    assert "Winzerla" in text and "Mario Bergner" in text
    assert browser.console_errors() == []
    assert browser.foreign_hosts(urlsplit(live_server.url).netloc) == set()
    markers = browser.find_all("#finder-map .leaflet-marker-icon.dsm-marker")
    assert len(markers) == 3  # the three nearest offices


def test_real_map_click_submits_the_point(browser: Browser, live_server: Server) -> None:
    browser.load(live_server.url + "/finder", wait_for_js="window.finderReady === true")
    box = browser.find("#finder-map")
    from selenium.webdriver.common.action_chains import ActionChains

    ActionChains(browser.driver).move_to_element(box).click().perform()
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and "lat=" not in browser.driver.current_url:
        time.sleep(0.05)
    assert "lat=" in browser.driver.current_url and "lon=" in browser.driver.current_url
    text = browser.js("return document.body.innerText")
    assert ("Ergebnis" in text) or ("Außerhalb" in text)


def test_popup_of_an_office_whose_dates_have_passed(browser: Browser, live_server: Server) -> None:
    """The map popup says what the list says: the last known date, not "hours unknown"."""
    browser.load(live_server.url + "/map/jena?lang=en", wait_for_js="window.mapReady === true", timeout=60)
    text = browser.js("""
        window.dsmGroups['contact-offices'].eachLayer(function (l) {
            if (l.feature && l.feature.id === 'jena-buergersprechstunde-koppe') { l.openPopup(); }
        });
        var p = document.querySelector('.leaflet-popup-content');
        return p ? p.innerText : null;
    """)
    assert text is not None and "Benjamin Koppe" in text
    assert "last known date 30 Jan 2026, no further dates published" in text
    assert "by e-mail to buergermeister@jena.de beforehand" in text
    assert "office hours unknown" not in text and "next opening" not in text
    assert browser.console_errors() == []
