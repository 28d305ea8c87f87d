"""End to end: real clients and CRSs other than CRS84 (OGC API – Features Part 2) against
`mapservice serve` on 127.0.0.1.

What the clients do with Part 2:

- OWSLib (``Features.collection_items``) passes its keyword arguments as query parameters, so
  ``crs=`` and ``**{"bbox-crs": ...}`` reach the server as they are; it reads the GeoJSON and
  does nothing with Content-Crs.
- GDAL 3.6 (Debian 12 has 3.6.2) has no Part 2 at all: the OAPIF driver ignores ``crs`` and
  ``storageCrs`` (``OGROAPIFLayer`` takes the list and never reads it), always reports the
  layer as WGS 84 lon/lat, has no CRS open option and never sends ``crs=`` or ``bbox-crs=``.
  Its users reproject on their side (``ogr2ogr -t_srs EPSG:25832``), which is checked here to
  agree with the server's own 25832 to the millimetre.
- GDAL 3.7 and later (driver documentation, "CRS support"): the layer gets the collection's
  ``storageCrs`` (here CRS84), or the CRS of the open option ``CRS`` (or ``PREFERRED_CRS``) when
  it is in the collection's ``crs`` list; for another CRS than CRS84 it asks for ``crs=`` and
  sends spatial filters with ``bbox-crs=``. Debian 12 has no such GDAL; pyogrio's wheel bundles
  one (3.12), which is the client of that test.
"""

from __future__ import annotations

import json
import re
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest
import requests
from owslib.ogcapi.features import Features
from pyproj import Transformer
from test_gdal_paging import gdal_tool, requests_of, run_gdal

from conftest import Server, StoreConfig

pytestmark = pytest.mark.e2e

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
UTM32 = "http://www.opengis.net/def/crs/EPSG/0/25832"
LAYER = "statistical-districts"
LONLAT_TO_UTM32 = Transformer.from_crs("EPSG:4326", "EPSG:25832", always_xy=True)
MM = 0.001


def to_utm32(lon: float, lat: float) -> tuple[float, float]:
    easting, northing = LONLAT_TO_UTM32.transform(lon, lat)
    return float(easting), float(northing)


def _positions(geometry: dict[str, Any]) -> list[tuple[float, float]]:
    found: list[tuple[float, float]] = []

    def walk(node: Any) -> None:
        if isinstance(node[0], (int, float)):
            found.append((node[0], node[1]))
        else:
            for part in node:
                walk(part)

    walk(geometry["coordinates"])
    return found


def _by_id(
    features: list[dict[str, Any]], key: Any = lambda f: f["id"]
) -> dict[str, list[tuple[float, float]]]:
    return {str(key(f)): _positions(f["geometry"]) for f in features}


def _assert_same_within_a_millimetre(
    got: dict[str, list[tuple[float, float]]], want: dict[str, list[tuple[float, float]]]
) -> None:
    assert set(got) == set(want) and len(got) == 41
    for fid, positions in want.items():
        assert len(got[fid]) == len(positions), fid
        for (e, n), (e0, n0) in zip(got[fid], positions, strict=True):
            assert abs(e - e0) <= MM and abs(n - n0) <= MM, (fid, e, n, e0, n0)
            assert 660_000 < e < 700_000 and 5_620_000 < n < 5_660_000  # Jena, in metres


def _server_in_utm32(server: Server) -> dict[str, list[tuple[float, float]]]:
    doc = requests.get(f"{server.url}/api/collections/{LAYER}/items?limit=100&crs={UTM32}", timeout=30)
    assert doc.headers["Content-Crs"] == f"<{UTM32}>"
    return _by_id(doc.json()["features"])


def test_owslib_reads_items_in_25832(live_server: Server) -> None:
    api = Features(f"{live_server.url}/api")
    collection = api.collection(LAYER)
    assert UTM32 in collection["crs"] and collection["storageCrs"] == CRS84
    lonlat = api.collection_items(LAYER, limit=100)["features"]
    utm = api.collection_items(LAYER, limit=100, crs=UTM32)["features"]
    want: dict[str, list[tuple[float, float]]] = {}
    for f in lonlat:
        want[str(f["id"])] = [to_utm32(lon, lat) for lon, lat in _positions(f["geometry"])]
    _assert_same_within_a_millimetre(_by_id(utm), want)
    # A box in metres (given the OWSLib way, as a list) selects what its lon/lat box selects.
    box = LONLAT_TO_UTM32.transform_bounds(11.57, 50.91, 11.61, 50.94, densify_pts=21)
    in_metres = api.collection_items(LAYER, limit=100, bbox=[round(v, 3) for v in box], **{"bbox-crs": UTM32})
    in_degrees = api.collection_items(LAYER, limit=100, bbox=[11.57, 50.91, 11.61, 50.94])
    assert {f["id"] for f in in_degrees["features"]} <= {f["id"] for f in in_metres["features"]}
    assert 3 <= in_metres["numberMatched"] < 41


def test_content_crs_over_gunicorn_gzip_and_revalidation(live_server: Server) -> None:
    url = f"{live_server.url}/api/collections/districts/items/jena-winzerla"
    for query, uri in (("", CRS84), (f"?crs={UTM32}", UTM32), ("?crs=[EPSG:25832]", UTM32)):
        first = requests.get(url + query, headers={"Accept-Encoding": "gzip"}, timeout=30)
        again = requests.get(url + query, headers={"If-None-Match": first.headers["ETag"]}, timeout=30)
        assert first.status_code == 200 and first.headers["Content-Crs"] == f"<{uri}>"
        assert again.status_code == 304
    bad = requests.get(f"{url}?crs=EPSG:25832", timeout=30)
    assert bad.status_code == 400 and "Parameter 'crs'" in bad.json()["description"]


def _layer_epsg(server: Server, tmp_path: Path, *options: str) -> int:
    """The EPSG code of the layer's SRS as ``ogrinfo -so`` reports it."""
    agent = f"mapservice-test-crs-{uuid.uuid4().hex}"
    out = run_gdal([gdal_tool("ogrinfo"), "-so", *options, f"OAPIF:{server.url}/api", LAYER], agent, tmp_path)
    wkt = out.stdout.split("Layer SRS WKT:", 1)[1].split("Data axis")[0]
    found = re.findall(r'ID\["EPSG",(\d+)\]\]\s*$', wkt)
    assert found, out.stdout
    return int(found[-1])


def _copy_as_geojson(server: Server, tmp_path: Path, *options: str) -> tuple[dict[str, Any], str]:
    agent = f"mapservice-test-crs-{uuid.uuid4().hex}"
    out = tmp_path / f"{agent}.geojson"
    # RFC7946=NO: the GeoJSON driver would otherwise write lon/lat whatever the layer's CRS.
    command = [gdal_tool("ogr2ogr"), *options, "-f", "GeoJSON", "-lco", "RFC7946=NO", str(out)]
    run_gdal([*command, "-oo", "PAGE_SIZE=100", f"OAPIF:{server.url}/api", LAYER], agent, tmp_path)
    return json.loads(out.read_text()), agent


def test_gdal_reprojecting_on_its_side_agrees_with_the_servers_25832(
    live_server: Server, shared_store: StoreConfig, tmp_path: Path
) -> None:
    """What a GDAL 3.6 user does (and any GDAL without -oo CRS): the layer is lon/lat."""
    assert _layer_epsg(live_server, tmp_path) == 4326
    copied, agent = _copy_as_geojson(live_server, tmp_path, "-t_srs", "EPSG:25832")
    assert "25832" in copied["crs"]["properties"]["name"]
    _assert_same_within_a_millimetre(
        _by_id(copied["features"], lambda f: f["properties"]["id"]), _server_in_utm32(live_server)
    )
    sent = [line for line, _ in requests_of(shared_store, agent)]
    assert sent and not any("crs=" in line and "CRS84" not in line for line in sent), sent


# GDAL >= 3.7 as a client: the one pyogrio's wheel bundles (Debian 12's gdal-bin is 3.6),
# with the driver's open options passed as keyword arguments. Run in a process of its own, so
# that its user agent (a GDAL config option read from the environment) marks its requests.
PYOGRIO_CLIENT = """
import json, sys
import pyogrio
url, layer = sys.argv[1:3]
info = pyogrio.read_info(url, layer=layer, CRS="EPSG:25832")
frame = pyogrio.read_dataframe(url, layer=layer, CRS="EPSG:25832", PAGE_SIZE="100")
print(json.dumps({
    "gdal": pyogrio.__gdal_version__,
    "crs": info["crs"],
    "features": json.loads(frame.to_json())["features"],
}))
"""


def test_gdal_3_7_and_later_read_the_layer_in_25832_with_the_crs_open_option(
    live_server: Server, shared_store: StoreConfig, tmp_path: Path
) -> None:
    agent = f"mapservice-test-crs-{uuid.uuid4().hex}"
    done = run_gdal(
        [sys.executable, "-c", PYOGRIO_CLIENT, f"OAPIF:{live_server.url}/api", LAYER], agent, tmp_path
    )
    result = json.loads(done.stdout)
    assert tuple(result["gdal"][:2]) >= (3, 7), result["gdal"]
    assert result["crs"] == "EPSG:25832"
    _assert_same_within_a_millimetre(
        _by_id(result["features"], lambda f: f["properties"]["id"]), _server_in_utm32(live_server)
    )
    # The pages it reads (PAGE_SIZE=100) ask for 25832 (the URI, URL-encoded or not); its
    # first look at the layer (limit=20, for the fields) reads CRS84.
    pages = [
        line
        for line, status in requests_of(shared_store, agent)
        if f"/collections/{LAYER}/items" in line and "limit=100" in line
    ]
    assert pages and all(re.search(r"[?&]crs=[^& ]*25832", line) for line in pages), pages
