"""End to end: OWSLib's OGC API – Features client against `mapservice serve` on 127.0.0.1."""

from __future__ import annotations

import gzip
import http.client
import json
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from owslib.ogcapi.features import Features

from conftest import Server

pytestmark = pytest.mark.e2e


def test_owslib_reads_landing_conformance_and_collections(live_server: Server) -> None:
    api = Features(f"{live_server.url}/api")
    assert any(link["rel"] == "service-desc" for link in api.links)
    assert "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson" in api.conformance()["conformsTo"]
    ids = {c["id"] for c in api.collections()["collections"]}
    assert {
        "districts",
        "statistical-districts",
        "municipalities",
        "contact-offices",
        "prevention-bodies",
    } <= ids
    districts = api.collection("districts")
    assert districts["itemType"] == "feature"
    queryables = api.collection_queryables("districts")
    assert "city" in queryables["properties"]


def test_owslib_items_with_bbox(live_server: Server) -> None:
    api = Features(f"{live_server.url}/api")
    result = api.collection_items("municipalities", bbox=[11.50, 50.85, 11.70, 50.98], limit=100)
    ids = {f["id"] for f in result["features"]}
    assert "16053000" in ids and result["numberMatched"] == len(ids)
    jena = api.collection_item("municipalities", "16053000")
    assert jena["properties"]["name"] == "Jena"
    assert jena["properties"]["boundary_date"] == "2016-01-01"


def test_owslib_reads_the_statistical_districts(live_server: Server) -> None:
    api = Features(f"{live_server.url}/api")
    collection = api.collection("statistical-districts")
    assert collection["itemType"] == "feature" and collection["title"] == "Statistische Bezirke"
    minx, miny, maxx, maxy = collection["extent"]["spatial"]["bbox"][0]
    assert 11.4 < minx < maxx < 11.8 and 50.8 < miny < maxy < 51.0  # Jena, lon/lat
    assert "district" in api.collection_queryables("statistical-districts")["properties"]
    result = api.collection_items("statistical-districts", limit=100)
    assert result["numberMatched"] == 41 and len(result["features"]) == 41
    assert sum(f["properties"]["households"] for f in result["features"]) == 61012
    one = api.collection_item("statistical-districts", "jena-statbez-62")
    assert one["properties"]["name"] == "Lobeda-West"
    assert one["properties"]["district"] == "jena-neulobeda"


def test_owslib_pages_to_the_last_feature_by_next_links(live_server: Server) -> None:
    api = Features(f"{live_server.url}/api")
    kwargs: dict = {"limit": 100}
    seen: list[str] = []
    pages = 0
    while True:
        page = api.collection_items("municipalities", **kwargs)
        pages += 1
        seen += [f["id"] for f in page["features"]]
        nxt = [link for link in page["links"] if link["rel"] == "next"]
        if not nxt:
            break
        assert urlsplit(nxt[0]["href"]).netloc == f"127.0.0.1:{live_server.url.rsplit(':', 1)[1]}"
        query = parse_qs(urlsplit(nxt[0]["href"]).query)
        kwargs = {k: v[0] for k, v in query.items() if k != "f"}
    assert pages == 13
    assert len(seen) == 1275 and len(set(seen)) == 1275
    assert page["numberMatched"] == 1275


def test_real_server_sends_cache_and_compression_headers(live_server: Server) -> None:
    url = f"{live_server.url}/api/collections/municipalities/items?limit=10000"
    response = requests.get(url, timeout=30)
    assert response.headers["Content-Encoding"] == "gzip"
    assert response.json()["numberReturned"] == 1275
    etag = response.headers["ETag"]
    again = requests.get(url, headers={"If-None-Match": etag}, timeout=30)
    assert again.status_code == 304
    # Raw bytes on the wire are really gzip (requests decodes transparently).
    host, port = live_server.url.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=30)
    conn.request("GET", "/api/collections/districts/items?city=Jena", headers={"Accept-Encoding": "gzip"})
    raw = conn.getresponse()
    assert raw.getheader("Content-Encoding") == "gzip"
    assert json.loads(gzip.decompress(raw.read()))["numberMatched"] == 30
    assert raw.getheader("Access-Control-Allow-Origin") == "*"
    conn.close()


def test_real_server_never_leaks_a_trace(live_server: Server) -> None:
    for path in (
        "/api/collections/municipalities/items?bbox=1,2,3",
        "/api/collections/nope/items",
        "/api/collections/districts/items/%00",
    ):
        response = requests.get(f"{live_server.url}{path}", timeout=30)
        assert response.status_code in (400, 404)
        assert set(response.json()) == {"code", "description"}
        assert "Traceback" not in response.text
