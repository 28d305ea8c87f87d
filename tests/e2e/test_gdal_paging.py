"""End to end: GDAL's OAPIF driver (Debian's gdal-bin) copies a whole collection from
`mapservice serve` into a GeoPackage, in as few requests as the page size it chooses allows.

What the GIS clients read to choose their page size (see also README, *What you get*):

- GDAL 3.6 and 3.7 (Debian 12 has 3.6.2): only the open option PAGE_SIZE, 10 when not given
  (``OGROAPIFDataset::Open``); ``ResetReading`` asks for ``limit=<page size>`` and then the driver
  follows each page's ``next`` link as it is. Nothing the server says changes the page size.
- GDAL 3.8 and later: ``OGROAPIFDataset::DeterminePageSizeFromAPI`` takes the parameter of
  ``paths["/collections/{id}/items"].get.parameters`` whose ``$ref`` contains "limit" and reads
  its ``schema/default`` and ``schema/maximum``; the page is min(max(1000, default), maximum).
- QGIS (oapif provider, 3.22 too): ``QgsOapifApiRequest::processReply`` reads
  ``components.parameters.limit.schema`` maximum and default; ``QgsOapifProvider::init`` pages
  by the same min(max(1000, default), maximum).

The server counts nothing for the test: every GDAL run sends its own user agent and the test
reads that run's requests from the server's access log.
"""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import subprocess
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
import requests

from conftest import Server, StoreConfig

pytestmark = pytest.mark.e2e

COLLECTION = "municipalities"
ITEMS_PATH = f"/collections/{COLLECTION}/items"
# What GDAL >= 3.8 and QGIS aim for when the API's default is smaller.
GIS_CLIENT_PAGE_AIM = 1000


def gdal_tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        if os.environ.get("GDAL_TEST_REQUIRED") == "1":
            pytest.fail(f"GDAL_TEST_REQUIRED=1 but {name} is not installed")
        pytest.skip(f"{name} is not installed (Debian: apt-get install gdal-bin)")
    return found


def gdal_version() -> tuple[int, int]:
    out = subprocess.run([gdal_tool("ogrinfo"), "--version"], capture_output=True, text=True, check=True)
    found = re.match(r"GDAL (\d+)\.(\d+)", out.stdout)
    assert found, out.stdout
    return int(found[1]), int(found[2])


def run_gdal(args: list[str], agent: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """A GDAL command that talks to 127.0.0.1 only, under a user agent of its own."""
    env = {k: v for k, v in os.environ.items() if k.lower() not in ("http_proxy", "https_proxy", "all_proxy")}
    env |= {
        "NO_PROXY": "127.0.0.1,localhost",
        "no_proxy": "127.0.0.1,localhost",
        "GDAL_HTTP_USERAGENT": agent,
        "GDAL_HTTP_TIMEOUT": "120",
    }
    done = subprocess.run(args, capture_output=True, text=True, env=env, cwd=cwd, timeout=300)
    assert done.returncode == 0, (args, done.stdout[-2000:], done.stderr[-2000:])
    return done


def requests_of(store: StoreConfig, agent: str) -> list[tuple[str, int]]:
    """(request line, status) of every request with this user agent in the access log.

    gunicorn writes a request's line just after its response, so the count is read until it
    stays the same."""
    log = store.instance / "server.log"
    pattern = re.compile(r'"(GET [^"]*)" (\d{3}) \S+ "[^"]*" "' + re.escape(agent) + '"')
    seen: list[tuple[str, int]] = []
    for _ in range(20):
        now = [(m[1], int(m[2])) for m in pattern.finditer(log.read_text(errors="replace"))]
        if now and now == seen:
            break
        seen = now
        time.sleep(0.1)
    return seen


def item_requests(lines: list[tuple[str, int]]) -> list[tuple[str, int]]:
    return [(line, status) for line, status in lines if f"/api{ITEMS_PATH}" in line]


def api_facts(server: Server) -> tuple[int, set[str]]:
    """numberMatched of the collection and the properties the API serves."""
    doc = requests.get(f"{server.url}/api{ITEMS_PATH}?limit=1", timeout=30).json()
    return doc["numberMatched"], set(doc["features"][0]["properties"])


def copy_with_ogr2ogr(
    server: Server, store: StoreConfig, tmp_path: Path, *options: str
) -> tuple[Path, list[tuple[str, int]]]:
    """`ogr2ogr -f GPKG out.gpkg OAPIF:<url>/api municipalities`; the file and its requests."""
    agent = f"mapservice-test-gdal-{uuid.uuid4().hex}"
    out = tmp_path / "out.gpkg"
    run_gdal(
        [gdal_tool("ogr2ogr"), *options, "-f", "GPKG", str(out), f"OAPIF:{server.url}/api", COLLECTION],
        agent,
        tmp_path,
    )
    return out, requests_of(store, agent)


def assert_copy_is_whole(server: Server, out: Path, tmp_path: Path) -> None:
    matched, properties = api_facts(server)
    with sqlite3.connect(out) as conn:
        count = conn.execute(f'SELECT count(*) FROM "{COLLECTION}"').fetchone()[0]
        columns = {row[1] for row in conn.execute(f'PRAGMA table_info("{COLLECTION}")')}
        ids = conn.execute(f'SELECT count(DISTINCT id) FROM "{COLLECTION}"').fetchone()[0]
    assert count == matched == ids, (count, matched, ids)
    assert properties <= columns, properties - columns
    summary = run_gdal([gdal_tool("ogrinfo"), "-so", str(out), COLLECTION], "ogrinfo", tmp_path).stdout
    assert f"Feature Count: {matched}" in summary
    assert re.search(r"Geometry: (Multi )?Polygon", summary), summary
    for name in ("ags", "name", "population"):
        assert re.search(rf"^{name}: ", summary, re.MULTILINE), (name, summary)


def test_ogr2ogr_copies_every_municipality(
    live_server: Server, shared_store: StoreConfig, tmp_path: Path
) -> None:
    out, lines = copy_with_ogr2ogr(live_server, shared_store, tmp_path)
    assert_copy_is_whole(live_server, out, tmp_path)
    items = item_requests(lines)
    assert items and all(status == 200 for _, status in items), items
    if gdal_version() >= (3, 8):
        # A first page for the schema, then pages of 1,000 (from the OpenAPI document).
        assert len(items) <= 3, items


def test_ogr2ogr_given_the_page_size_of_newer_drivers_needs_three_requests(
    live_server: Server, shared_store: StoreConfig, tmp_path: Path
) -> None:
    """What README tells the users of GDAL < 3.8: PAGE_SIZE set to the page that newer
    drivers take from the OpenAPI document (1,000): a schema page, then two pages."""
    document = requests.get(f"{live_server.url}/api/openapi", timeout=30).json()
    size = page_size(limit_schema_gdal_reads(document))
    out, lines = copy_with_ogr2ogr(live_server, shared_store, tmp_path, "-oo", f"PAGE_SIZE={size}")
    assert_copy_is_whole(live_server, out, tmp_path)
    items = item_requests(lines)
    assert 1 <= len(items) <= 3 and all(status == 200 for _, status in items), items
    assert all(f"limit={size}" in line for line, _ in items), items


def limit_schema_gdal_reads(document: dict[str, Any]) -> dict[str, Any]:
    """The limit schema as GDAL >= 3.8 finds it: the items path's parameter whose local $ref
    names "limit" (an inline parameter is not looked at)."""
    for parameter in document["paths"][ITEMS_PATH]["get"]["parameters"]:
        ref = parameter.get("$ref", "")
        if "limit" in ref and ref.startswith("#/"):
            target: Any = document
            for part in ref[2:].split("/"):
                target = target[part]
            schema: dict[str, Any] = target["schema"]
            return schema
    raise AssertionError("no $ref'd limit parameter on the items path: GDAL >= 3.8 pages by 1000 blindly")


def page_size(schema: dict[str, Any]) -> int:
    """GDAL >= 3.8 and QGIS alike: the default, raised to 1,000, but never above the maximum."""
    default, maximum = schema.get("default"), schema.get("maximum")
    assert isinstance(default, int) and isinstance(maximum, int), schema
    return min(max(GIS_CLIENT_PAGE_AIM, default), maximum)


def test_openapi_tells_gis_clients_pages_of_a_thousand_or_more(live_server: Server) -> None:
    document = requests.get(f"{live_server.url}/api/openapi", timeout=30).json()
    gdal_schema = limit_schema_gdal_reads(document)
    qgis_schema = document["components"]["parameters"]["limit"]["schema"]
    assert gdal_schema == qgis_schema
    assert page_size(gdal_schema) >= GIS_CLIENT_PAGE_AIM
    # The page they ask for is served whole, and a request without limit stays small.
    matched, _ = api_facts(live_server)
    size = page_size(gdal_schema)
    page = requests.get(f"{live_server.url}/api{ITEMS_PATH}?limit={size}", timeout=60).json()
    assert page["numberReturned"] == min(matched, size)
    plain = requests.get(f"{live_server.url}/api{ITEMS_PATH}", timeout=30).json()
    assert plain["numberReturned"] == gdal_schema["default"] < GIS_CLIENT_PAGE_AIM
