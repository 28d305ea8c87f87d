"""Smoke test in a real headless Chromium against `mapservice serve`: the pages load without
errors, request nothing from other hosts, are German, start with the skip link and render."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import pytest
from browser import Browser, browser_fixture, browser_output_fixture  # noqa: F401 - fixtures

from conftest import Server

pytestmark = pytest.mark.e2e

JENA_ITEMS = "/api/collections/districts/items?f=html&city=Jena"
PAGES = {"index": "/", "districts-jena": JENA_ITEMS}


@pytest.mark.parametrize("name", PAGES)
def test_page_loads_cleanly_from_the_own_host_only(
    browser: Browser, live_server: Server, browser_output: Path, name: str
) -> None:
    url = live_server.url + PAGES[name]
    browser.load(url, wait_for_js="document.readyState === 'complete'")
    browser.settle()  # late requests such as the favicon are part of the page too
    shot = browser.screenshot(browser_output / f"browser-smoke-{name}.png")
    assert browser.driver.title.strip()
    assert browser.js("return document.documentElement.lang") == "de"
    # Chromium asks for /favicon.ico once per host and session, so a missing favicon shows up
    # on the first page a session opens.
    assert browser.console_errors() == []
    assert browser.foreign_hosts(urlsplit(live_server.url).netloc) == set(), browser.requested_urls()
    assert browser.js_alerts_fired() == []
    assert shot.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    assert shot.stat().st_size > 5_000, shot


@pytest.mark.parametrize("name", PAGES)
def test_tab_from_the_start_focuses_the_skip_link(browser: Browser, live_server: Server, name: str) -> None:
    browser.load(live_server.url + PAGES[name])
    focused = browser.press_tab()
    assert browser.js("return arguments[0].matches('a.skip')", focused), focused.get_attribute("outerHTML")
    assert (focused.get_attribute("href") or "").endswith("#main")
    # Hidden off-screen until focused, then on screen.
    assert browser.js("return arguments[0].getBoundingClientRect().left", focused) >= 0


def test_jena_items_table_lists_the_30_districts_of_jena(browser: Browser, live_server: Server) -> None:
    browser.load(live_server.url + JENA_ITEMS)
    headers = [th.text for th in browser.find_all("table thead th")]
    city = headers.index("city")
    rows: list[list[str]] = browser.js(
        "return [...document.querySelectorAll('table tbody tr')]"
        ".map(tr => [...tr.querySelectorAll('th, td')].map(cell => cell.textContent.trim()));"
    )
    assert len(rows) == 30
    ids = [row[0] for row in rows]
    assert all(i.startswith("jena-") for i in ids), ids
    assert len(set(ids)) == 30
    assert "jena-winzerla" in ids
    assert {row[city] for row in rows} == {"Jena"}
