"""Prose of the shipped data in the page's language: an English map shows the English note."""

from __future__ import annotations

import pytest
from browser import Browser, browser_fixture, browser_output_fixture  # noqa: F401 - fixtures

from conftest import Server

pytestmark = pytest.mark.e2e

READY = "window.mapReady === true"


def test_english_district_popup_shows_the_english_household_note(
    browser: Browser, live_server: Server
) -> None:
    browser.load(live_server.url + "/map/jena-winzerla?lang=en", wait_for_js=READY, timeout=60)
    text = browser.js("""
        window.dsmGroups['districts'].eachLayer(function (l) {
            if (l.feature && l.feature.id === 'jena-winzerla') { l.openPopup(); }
        });
        var p = document.querySelector('.leaflet-popup-content');
        return p ? p.innerText : null;
    """)
    assert text is not None
    assert "Approximation: private households on 31 Dec 2016" in text
    assert "Näherung" not in text  # (the source citation stays German, as cited)
