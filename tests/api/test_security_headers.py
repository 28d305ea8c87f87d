"""Every HTML page: a strict CSP (no inline script unless allowed by its hash) and the same
security headers; only embeds may be framed by other sites, and only by the configured ones."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from flask import Flask

from mapservice import create_app
from mapservice.http.security import script_hash
from tests.conftest import StoreConfig

ORIGINS = "https://www.jena.de https://stadt.example.org"

PAGES = [
    "/",
    "/map/jena",
    "/map/zwickau",
    "/map/meerane",
    "/map/prevention-thueringen",
    "/map/prevention-sachsen",
    "/map/jena-winzerla",
    "/embed/jena",
    "/embed/jena?district=jena-winzerla",
    "/embed/jena/snippet",
    "/finder",
    "/finder?address=Anna-Siemsen-Str.%2027%2C%20Jena",
    "/planner?area=jena",
    "/planner?area=land-16",
    "/planner?area=land-14",
    "/api",
    "/api/collections",
    "/api/collections/districts",
    "/api/collections/districts/items",
    "/api/collections/districts/items/jena-winzerla",
    "/api/conformance",
    "/api/collections/districts/queryables",
]

INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*application/json)[^>]*>(.*?)</script>", re.S)


@pytest.fixture(scope="module")
def app(shared_gpkg: StoreConfig) -> Iterator[Flask]:
    app = create_app(shared_gpkg.settings(embed_allowed_origins=ORIGINS))
    yield app
    app.extensions["mapservice"].store.close()


def _directives(csp: str) -> dict[str, str]:
    return {d.split()[0]: d.strip() for d in csp.split(";") if d.strip()}


@pytest.mark.parametrize("lang", ["de", "en"])
def test_every_html_page_has_a_strict_csp_and_security_headers(app: Flask, lang: str) -> None:
    client = app.test_client()
    for path in PAGES:
        url = path + ("&" if "?" in path else "?") + f"lang={lang}"
        response = client.get(url, headers={"Accept": "text/html"})
        assert response.status_code == 200, url
        assert response.mimetype == "text/html", url
        assert response.headers["X-Content-Type-Options"] == "nosniff", url
        assert response.headers["Referrer-Policy"] == "no-referrer", url
        policy = _directives(response.headers["Content-Security-Policy"])
        assert "'unsafe-inline'" not in policy["script-src"], url
        assert policy["default-src"] == "default-src 'self'", url
        assert policy["object-src"] == "object-src 'none'", url
        framing = policy["frame-ancestors"]
        if path.startswith("/embed/jena") and "snippet" not in path:
            assert framing == f"frame-ancestors 'self' {ORIGINS}", url
        else:
            assert framing == "frame-ancestors 'self'", url
        # Each inline script the page runs is allowed by exactly its hash, so it still runs.
        for script in INLINE_SCRIPT.findall(response.get_data(as_text=True)):
            assert script_hash(script) in policy["script-src"], url


def test_cached_page_keeps_its_script_hash_and_304_sends_no_policy(app: Flask) -> None:
    client = app.test_client()
    first = client.get("/map/jena")
    second = client.get("/map/jena")  # from the response cache
    assert "'sha256-" in first.headers["Content-Security-Policy"]
    assert second.headers["Content-Security-Policy"] == first.headers["Content-Security-Policy"]
    assert second.data == first.data
    # A 304 updates the browser's stored headers: a hash-less default CSP would block the map.
    revalidated = client.get("/map/jena", headers={"If-None-Match": first.headers["ETag"]})
    assert revalidated.status_code == 304
    assert "Content-Security-Policy" not in revalidated.headers


def test_error_pages_and_json_get_the_headers(app: Flask) -> None:
    client = app.test_client()
    missing = client.get("/map/no-such-map", headers={"Accept": "text/html"})
    assert missing.status_code == 404
    assert missing.headers["X-Content-Type-Options"] == "nosniff"
    if missing.mimetype == "text/html":
        assert "'unsafe-inline'" not in _directives(missing.headers["Content-Security-Policy"])["script-src"]
    data = client.get("/api/collections/districts/items?f=json")
    assert data.headers["X-Content-Type-Options"] == "nosniff"
    assert data.headers["Referrer-Policy"] == "no-referrer"
