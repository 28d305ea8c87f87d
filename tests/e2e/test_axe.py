"""axe-core in headless Chromium on every page and embed, in German and in English: 0 violations.

axe-core is a test-only npm package (tests/node/package.json, installed by `.ci/run` with
`npm ci --prefix tests/node`). Its script is run through WebDriver, which Chromium evaluates
outside the page's Content-Security-Policy, so the strict CSP of the pages stays as served;
the test also checks that the page logged no CSP violation.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from browser import Browser, browser_fixture  # noqa: F401 - fixture

from conftest import Server

pytestmark = pytest.mark.e2e

AXE = Path(__file__).resolve().parents[1] / "node" / "node_modules" / "axe-core" / "axe.min.js"
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]
MAP = "window.mapReady === true"
FINDER = "window.finderReady === true"
# Every page and embed, with what it must have finished drawing before axe looks at it.
PAGES: dict[str, str | None] = {
    "/": None,
    "/map/jena": MAP,
    "/map/zwickau": MAP,
    "/map/meerane": MAP,
    "/map/prevention-thueringen": MAP,
    "/map/prevention-sachsen": MAP,
    "/map/jena-winzerla": MAP,
    "/embed/jena": MAP,
    "/embed/jena/snippet": None,
    "/finder": FINDER,
    "/finder?address=" + quote("Anna-Siemsen-Str. 27, Jena"): FINDER,
    "/planner?area=jena": MAP,
    "/planner?area=land-16": MAP,
    "/planner?area=land-14": MAP,
    "/planner?area=16": None,  # an error page: the planner has no area "16"
    "/api": None,
    "/api/collections": None,
    "/api/collections/districts": None,
    "/api/collections/districts/items": None,
    "/api/collections/districts/items/jena-winzerla": None,
    "/api/conformance": None,
    "/api/collections/districts/queryables": None,
}
RUN = """
const done = arguments[arguments.length - 1];
axe.run(document, {runOnly: {type: 'tag', values: arguments[0]}, resultTypes: ['violations']})
  .then(r => done(r.violations.map(v => ({
      id: v.id, impact: v.impact, help: v.help,
      nodes: v.nodes.map(n => ({target: n.target.join(' '), html: n.html.slice(0, 200)}))}))))
  .catch(e => done({error: String(e)}));
"""


@pytest.fixture(scope="module")
def axe_source() -> str:
    if not AXE.is_file():
        message = f"{AXE} is missing: run `npm ci --prefix tests/node`"
        if os.environ.get("BROWSER_TEST_REQUIRED") == "1":
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    return AXE.read_text(encoding="utf-8")


def _url(path: str, lang: str) -> str:
    return path + ("&" if "?" in path else "?") + f"lang={lang}"


def axe_violations(browser: Browser, axe_source: str) -> list[dict[str, Any]]:
    if not browser.js("return typeof window.axe === 'object'"):
        browser.js(axe_source)
    browser.driver.set_script_timeout(120)
    result = browser.driver.execute_async_script(RUN, TAGS)
    assert not isinstance(result, dict), result
    return list(result)


@pytest.mark.parametrize("lang", ["de", "en"])
@pytest.mark.parametrize("path", list(PAGES))
def test_axe_finds_no_violation(
    browser: Browser, gpkg_live_server: Server, axe_source: str, path: str, lang: str
) -> None:
    # One test per page and language: xdist spreads them over both workers, which share
    # their one browser and server per worker (session fixtures).
    url = _url(path, lang)
    browser.load(gpkg_live_server.url + url, wait_for_js=PAGES[path], timeout=60)
    assert browser.js("return document.documentElement.lang") == lang, url
    violations = axe_violations(browser, axe_source)
    csp = [m for m in browser.console_errors() if "Content Security Policy" in m]
    assert csp == [], csp
    summary = [
        f"{v['id']} ({len(v['nodes'])}): {v['help']}; first: {v['nodes'][0]['target']}" for v in violations
    ]
    assert summary == [], json.dumps(violations, indent=1, ensure_ascii=False)[:4000]
