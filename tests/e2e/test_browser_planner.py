"""The planner page in a real headless Chromium against `mapservice serve` on 127.0.0.1.

The walk of the issue: a planner opens /planner, picks "distance to nearest office", sees
Jena's districts ranked with reasons, downloads the CSV, and switches to Thuringia.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests
from browser import Browser, browser_fixture, browser_output_fixture, wait_until  # noqa: F401 - fixtures
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import Select

from conftest import Server

pytestmark = pytest.mark.e2e

READY = "window.mapReady === true"
HATCH = "url(#dsm-hatch)"


def _host(server: Server) -> str:
    return urlsplit(server.url).netloc


def test_planner_walk_distance_ranking_csv_and_thuringia(
    browser: Browser, live_server: Server, browser_output: Path
) -> None:
    browser.load(live_server.url + "/planner", wait_for_js=READY, timeout=60)
    assert browser.js("return window.mapError || null") is None
    assert "Jena" in browser.find("h1").text
    # Pick the metric with the keyboard-usable form, as a planner would.
    Select(browser.find("#pl-metric")).select_by_value("distance_mean_m")
    browser.find(".pl-form button[type=submit]").click()
    wait_until(lambda: "metric=distance_mean_m" in browser.driver.current_url, timeout=10)
    browser.load(browser.driver.current_url, wait_for_js=READY, timeout=60)
    assert browser.console_errors() == []
    assert browser.foreign_hosts(_host(live_server)) == set(), browser.requested_urls()
    assert browser.js("return window.dsmCounts.choropleth") == 30
    # Every district is coloured; none is hatched here (Jena has located offices).
    fills = browser.js("return window.dsmFills")
    assert len(fills) == 30 and HATCH not in fills.values()
    assert len(set(fills.values())) >= 3  # a real choropleth, not one colour
    # The SVG paths carry the fills the legend names.
    painted = browser.js("""return Array.from(document.querySelectorAll('path.leaflet-interactive'))
                            .map(function (p) { return p.getAttribute('fill'); });""")
    assert len(painted) == 30 and set(painted) == set(fills.values())
    # The legend's swatches look as the fills are drawn: the same colour at the same opacity.
    drawn = browser.js("""var p = document.querySelector('path.leaflet-interactive');
                          return [p.getAttribute('fill'), p.getAttribute('fill-opacity')];""")
    swatches = browser.js("""
        var legend = document.querySelectorAll('.dsm-legend > ul:first-of-type .sw:not(.sw-unknown)');
        return Array.from(legend).map(function (s) { return getComputedStyle(s).backgroundColor; });""")
    assert drawn[1] == "0.75" and swatches
    alphas = [float(s.rstrip(")").split(",")[3]) for s in swatches if s.startswith("rgba(")]
    assert len(alphas) == len(swatches) and all(abs(a - 0.75) < 0.01 for a in alphas), swatches
    # The table: ranked, with reasons in words.
    rows = browser.find_all(".pl-table tbody tr")
    assert len(rows) == 30
    first = rows[0].text
    assert "Gehentfernung" in first or "Kein" in first
    assert browser.find(".pl-table th[aria-sort]").text.startswith("Rang")
    browser.screenshot(browser_output / "planner-jena-distance.png")

    # Sorting by the distance column is a link: keyboard users follow it with Enter.
    link = next(a for a in browser.find_all(".pl-table thead a") if a.text.startswith("Mittlere Entfernung"))
    link.send_keys(Keys.ENTER)
    wait_until(lambda: "sort=distance_mean_m" in browser.driver.current_url, timeout=10)
    browser.load(browser.driver.current_url, wait_for_js=READY, timeout=60)
    header = browser.find(".pl-table th[aria-sort]")
    assert header.get_attribute("aria-sort") == "descending"
    cells = [
        r.find_elements("css selector", "td.pl-chosen")[0].text
        for r in browser.find_all(".pl-table tbody tr")
    ]
    metres = [int(c.replace(".", "").removesuffix(" m")) for c in cells]
    assert metres == sorted(metres, reverse=True)

    # "show on the map" buttons appear once the map has loaded and zoom to the district.
    button = browser.find(".pl-table tbody tr button.pl-show")
    assert button.is_displayed()
    button.send_keys(Keys.ENTER)
    wait_until(lambda: browser.find_all(".leaflet-popup-content"), timeout=5)

    # At 1280 px the whole table fits its box: no column is cut off (issue 14).
    box = browser.js("var w = document.querySelector('.pl-wrap'); return [w.scrollWidth, w.clientWidth];")
    assert box[0] <= box[1], box

    # The CSV download of the German page is the German Excel variant, with the same ranking.
    href = browser.find("a[download]").get_attribute("href")
    response = requests.get(href, timeout=30)
    assert response.headers["Content-Type"].startswith("text/csv")
    text = response.content.decode("utf-8-sig")
    table = list(csv.DictReader(io.StringIO(text), delimiter=";"))
    assert len(table) == 30 and table[0]["Rang"] == "1"

    # Thuringia: large towns whose prevention body is unknown, with the survey beside it.
    Select(browser.find("#pl-area")).select_by_value("land-16")
    Select(browser.find("#pl-metric")).select_by_value("gap_score") if browser.find_all(
        "#pl-metric option[value=gap_score]"
    ) else None
    browser.find(".pl-form button[type=submit]").click()
    wait_until(lambda: "area=land-16" in browser.driver.current_url, timeout=10)
    browser.load(browser.driver.current_url, wait_for_js=READY, timeout=60)
    assert browser.console_errors() == []
    assert browser.js("return window.dsmCounts.choropleth") == 849
    # No body is on record for any town: none is ranked for missing data. The towns whose
    # body is unknown come first, and the page names the missing data as the biggest gap.
    top = browser.find(".pl-table tbody tr").text
    assert "ohne Rang" in top and "Präventionsgremium: unbekannt" in top
    gaps_box = browser.find("#gaps-h").find_element("xpath", "..").text
    assert "Die größte Lücke sind die Daten selbst" in gaps_box
    assert "0 mit vollständigen Angaben bewertet" in gaps_box
    survey = browser.find("#survey-h").find_element("xpath", "..").text
    assert "36" in survey and "24" in survey and "Erfurt" in survey
    browser.screenshot(browser_output / "planner-thueringen.png")


def test_unknown_is_hatched_not_zero(browser: Browser, live_server: Server, browser_output: Path) -> None:
    # Leipzig: no office of the city is recorded, so every distance is unknown.
    browser.load(
        live_server.url + "/planner?area=leipzig&metric=distance_mean_m&lang=en",
        wait_for_js=READY,
        timeout=60,
    )
    assert browser.console_errors() == []
    fills = browser.js("return window.dsmFills")
    assert len(fills) == 63 and set(fills.values()) == {HATCH}
    cells = browser.find_all(".pl-table td.pl-chosen")
    assert cells and all(c.text == "unknown" for c in cells)
    assert browser.find(".dsm-legend").text.count("unknown") >= 1
    bars = browser.js("""return Array.from(document.querySelectorAll('.pl-chart rect'))
                         .map(function (r) { return r.getAttribute('fill'); });""")
    assert bars and set(bars) == {HATCH}
    browser.screenshot(browser_output / "planner-leipzig-unknown.png")


def test_a_lower_bound_gap_score_says_so_on_the_map(browser: Browser, live_server: Server) -> None:
    # Leipzig's gap scores are all lower bounds (criteria unknown): the map's popup of a
    # district says "at least 0", as the table and the chart do, never a plain "0".
    browser.load(live_server.url + "/planner?area=leipzig&lang=en", wait_for_js=READY, timeout=60)
    assert browser.console_errors() == []
    button = browser.find(".pl-table tbody tr button.pl-show")
    button.send_keys(Keys.ENTER)
    wait_until(lambda: browser.find_all(".leaflet-popup-content"), timeout=5)
    popup = browser.js("return document.querySelector('.leaflet-popup-content').textContent")
    assert "at least 0 points" in popup, popup
    assert "(gap score at least 0)" in popup, popup


def test_the_lower_bound_gap_table_fits_1280_px(browser: Browser, live_server: Server) -> None:
    # "mindestens 2,13" beside its number widened the score column until Jena's German table
    # no longer fitted its box at 1280 px; the word now stands on a line of its own.
    browser.load(live_server.url + "/planner?area=jena&lang=de", wait_for_js=READY, timeout=60)
    box = browser.js("var w = document.querySelector('.pl-wrap'); return [w.scrollWidth, w.clientWidth];")
    assert box[0] <= box[1], box
    cell = browser.find(".pl-table td.pl-chosen").text
    assert cell.startswith("mindestens") and "\n" in cell, cell
