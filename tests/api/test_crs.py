"""OGC API – Features Part 2: items and items/{id} in other CRSs (``crs``), bbox in other
CRSs (``bbox-crs``), the ``Content-Crs`` header, and caching that keeps them apart.

The expected coordinates come from pyproj directly (``always_xy=True``, lon/lat in, easting/
northing out), not from mapservice's own table, so an axis mix-up on either side shows.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import shapely
from flask.testing import FlaskClient
from pyproj import Transformer

from conftest import get_json

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
EPSG = "http://www.opengis.net/def/crs/EPSG/0/"
UTM32 = f"{EPSG}25832"
SUPPORTED = [CRS84, f"{EPSG}4326", UTM32, f"{EPSG}25833", f"{EPSG}3857"]
DISTRICT = "/api/collections/districts/items/jena-winzerla"
STAT_ITEMS = "/api/collections/statistical-districts/items"
MM = 0.001


def positions(geometry: dict[str, Any]) -> Iterator[tuple[float, float]]:
    """Every position of a GeoJSON geometry, in order."""

    def walk(node: Any) -> Iterator[tuple[float, float]]:
        if isinstance(node[0], (int, float)):
            yield node[0], node[1]
        else:
            for part in node:
                yield from walk(part)

    yield from walk(geometry["coordinates"])


LONLAT_TO_UTM32 = Transformer.from_crs("EPSG:4326", "EPSG:25832", always_xy=True)


def to_utm32(lon: float, lat: float) -> tuple[float, float]:
    easting, northing = LONLAT_TO_UTM32.transform(lon, lat)
    return float(easting), float(northing)


def test_a_jena_district_in_25832_agrees_with_pyproj_within_a_millimetre(client: FlaskClient) -> None:
    lonlat = get_json(client, DISTRICT)["geometry"]
    response = client.get(f"{DISTRICT}?crs={UTM32}")
    assert response.status_code == 200
    utm = json.loads(response.data)["geometry"]
    assert utm["type"] == lonlat["type"]
    got, want = list(positions(utm)), [to_utm32(lon, lat) for lon, lat in positions(lonlat)]
    assert len(got) == len(want) > 10
    for (e, n), (e0, n0) in zip(got, want, strict=True):
        assert abs(e - e0) <= MM and abs(n - n0) <= MM
        assert 670_000 < e < 690_000 and 5_630_000 < n < 5_650_000  # Jena in metres
        assert round(e, 3) == e and round(n, 3) == n  # millimetres, not float noise


def test_items_in_25832_agree_with_pyproj_and_keep_ids_and_order(client: FlaskClient) -> None:
    plain = get_json(client, f"{STAT_ITEMS}?limit=50")
    utm = get_json(client, f"{STAT_ITEMS}?limit=50&crs={UTM32}")
    assert [f["id"] for f in utm["features"]] == [f["id"] for f in plain["features"]]
    assert utm["numberMatched"] == plain["numberMatched"] == 41
    for a, b in zip(plain["features"], utm["features"], strict=True):
        assert a["properties"] == b["properties"]
        first_lonlat, first_utm = next(positions(a["geometry"])), next(positions(b["geometry"]))
        e0, n0 = to_utm32(*first_lonlat)
        assert abs(first_utm[0] - e0) <= MM and abs(first_utm[1] - n0) <= MM
    # The page's links keep asking for the same CRS.
    assert all(
        f"crs={UTM32.replace(':', '%3A').replace('/', '%2F')}" in link["href"] for link in utm["links"][:2]
    )


def test_epsg_4326_is_lat_lon(client: FlaskClient) -> None:
    lonlat = list(positions(get_json(client, DISTRICT)["geometry"]))
    latlon = list(positions(get_json(client, f"{DISTRICT}?crs={EPSG}4326")["geometry"]))
    assert len(latlon) == len(lonlat)
    for (lat, lon), (lon0, lat0) in zip(latlon, lonlat, strict=True):
        assert abs(lat - lat0) < 1e-7 and abs(lon - lon0) < 1e-7
        assert 50 < lat < 51 and 11 < lon < 12


@pytest.mark.parametrize("uri", SUPPORTED)
def test_content_crs_names_the_crs_of_items_and_item(client: FlaskClient, uri: str) -> None:
    for url in (f"{STAT_ITEMS}?limit=2&crs={uri}", f"{DISTRICT}?crs={uri}"):
        response = client.get(url)
        assert response.status_code == 200, response.data[:300]
        assert response.headers["Content-Crs"] == f"<{uri}>"


def test_content_crs_is_crs84_by_default_and_the_safe_curie_is_accepted(client: FlaskClient) -> None:
    assert client.get(STAT_ITEMS).headers["Content-Crs"] == f"<{CRS84}>"
    assert client.get(DISTRICT).headers["Content-Crs"] == f"<{CRS84}>"
    curie = client.get(f"{DISTRICT}?crs=[EPSG:25832]")
    assert curie.headers["Content-Crs"] == f"<{UTM32}>"
    assert curie.get_json()["geometry"] == get_json(client, f"{DISTRICT}?crs={UTM32}")["geometry"]


def test_html_ignores_crs_and_names_none(client: FlaskClient) -> None:
    """The HTML page's map is lon/lat; its links keep crs, so it must not refuse it."""
    response = client.get(f"{STAT_ITEMS}?f=html&crs={UTM32}")
    assert response.status_code == 200 and response.mimetype == "text/html"
    assert "Content-Crs" not in response.headers


@pytest.mark.parametrize("url", [f"{STAT_ITEMS}?limit=3", DISTRICT])
def test_a_crs_never_shares_a_cached_body_or_etag_with_another(client: FlaskClient, url: str) -> None:
    sep = "&" if "?" in url else "?"
    in_utm = f"{url}{sep}crs={UTM32}"
    first_plain, first_utm = client.get(url), client.get(in_utm)
    # The second of each comes from the response cache (or the replay of it).
    again_plain, again_utm = client.get(url), client.get(in_utm)
    for response in (first_plain, first_utm, again_plain, again_utm):
        assert response.status_code == 200
    assert first_plain.headers["ETag"] != first_utm.headers["ETag"]
    assert again_plain.headers["ETag"] == first_plain.headers["ETag"]
    assert again_utm.headers["ETag"] == first_utm.headers["ETag"]
    assert again_plain.headers["Content-Crs"] == f"<{CRS84}>"
    assert again_utm.headers["Content-Crs"] == f"<{UTM32}>"
    assert first_plain.data != first_utm.data
    assert again_plain.data == first_plain.data and again_utm.data == first_utm.data
    # A copy in one CRS does not revalidate the other.
    cross = client.get(in_utm, headers={"If-None-Match": first_plain.headers["ETag"]})
    assert cross.status_code == 200 and cross.headers["Content-Crs"] == f"<{UTM32}>"
    same = client.get(in_utm, headers={"If-None-Match": first_utm.headers["ETag"]})
    assert same.status_code == 304


def _ids(client: FlaskClient, query: str) -> set[str]:
    doc = get_json(client, f"{STAT_ITEMS}?limit=100&{query}")
    assert doc["numberMatched"] == doc["numberReturned"]
    return {f["id"] for f in doc["features"]}


def test_bbox_in_25832_selects_what_its_lonlat_equivalent_selects(client: FlaskClient) -> None:
    """A box in metres around central Jena (the one covering a lon/lat box), asked for in
    25832 and as the lon/lat box that covers it, selects the same statistical districts, and
    exactly those whose own geometry in 25832 touches the metre box.

    The store selects by a lon/lat box covering the metre box's footprint (a quadrilateral
    rotated by about 2°, the meridian convergence in zone 32): a feature reaching only into
    the thin slivers between the two would be selected too (crs.bbox_to_crs84). None of the
    districts does for this box, so the selection here is the exact one."""
    to_lonlat = Transformer.from_crs("EPSG:25832", "EPSG:4326", always_xy=True)
    box = LONLAT_TO_UTM32.transform_bounds(11.57, 50.91, 11.61, 50.94, densify_pts=21)
    metres = _ids(client, f"bbox={','.join(f'{v:.3f}' for v in box)}&bbox-crs={UTM32}")
    lonlat_box = to_lonlat.transform_bounds(*(round(v, 3) for v in box), densify_pts=21)
    assert metres == _ids(client, "bbox=" + ",".join(repr(v) for v in lonlat_box))
    assert _ids(client, "bbox=11.57,50.91,11.61,50.94") <= metres
    every = get_json(client, f"{STAT_ITEMS}?limit=100&crs={UTM32}")["features"]
    rectangle = shapely.box(*box)
    touching = {f["id"] for f in every if shapely.geometry.shape(f["geometry"]).intersects(rectangle)}
    assert metres == touching and 3 <= len(touching) < 41


def test_bbox_in_25832_around_a_point_selects_exactly_that_point(client: FlaskClient) -> None:
    offices = get_json(client, "/api/collections/contact-offices/items")["features"]
    lon, lat = offices[0]["geometry"]["coordinates"]
    e, n = to_utm32(lon, lat)
    box = f"{e - 2:.3f},{n - 2:.3f},{e + 2:.3f},{n + 2:.3f}"
    doc = get_json(client, f"/api/collections/contact-offices/items?bbox={box}&bbox-crs={UTM32}")
    assert [f["id"] for f in doc["features"]] == [offices[0]["id"]]
    beside = f"{e + 3:.3f},{n - 2:.3f},{e + 7:.3f},{n + 2:.3f}"  # 3 m east of it
    doc = get_json(client, f"/api/collections/contact-offices/items?bbox={beside}&bbox-crs={UTM32}")
    assert offices[0]["id"] not in {f["id"] for f in doc["features"]}


def test_bbox_in_25832_leaves_out_what_lies_only_in_the_covering_lonlat_box(client: FlaskClient) -> None:
    """The lon/lat box covering a metre box reaches beyond its edges (the 2° rotation of zone
    32 in Jena: 140 m along a 4 km edge). An office 1 m outside an edge of a 4 km metre box,
    near one end of that edge, is not selected, also where the covering lon/lat box holds it."""
    to_lonlat = Transformer.from_crs("EPSG:25832", "EPSG:4326", always_xy=True)
    office = get_json(client, "/api/collections/contact-offices/items")["features"][0]
    lon, lat = office["geometry"]["coordinates"]
    e, n = to_utm32(lon, lat)
    side = 4000.0
    along = [(-1.0, side - 1.0), (1.0 - side, 1.0)]  # the office near one end, then the other
    boxes = []
    for low, high in along:
        boxes += [
            (e + 1, n + low, e + 1 + side, n + high),  # office west of the box
            (e - 1 - side, n + low, e - 1, n + high),  # east of it
            (e + low, n + 1, e + high, n + 1 + side),  # south of it
            (e + low, n - 1 - side, e + high, n - 1),  # north of it
        ]
    in_covering_box = 0
    for box in boxes:
        metres = f"bbox={','.join(f'{v:.3f}' for v in box)}&bbox-crs={UTM32}"
        doc = get_json(client, f"/api/collections/contact-offices/items?{metres}")
        assert office["id"] not in {f["id"] for f in doc["features"]}, box
        west, south, east, north = to_lonlat.transform_bounds(*box, densify_pts=21)
        in_covering_box += west <= lon <= east and south <= lat <= north
    assert in_covering_box >= 2, "the office lies in the covering box of some of them"


def test_bbox_in_epsg_4326_is_lat_lon(client: FlaskClient) -> None:
    lonlat = _ids(client, "bbox=11.57,50.91,11.61,50.94")
    assert _ids(client, f"bbox=50.91,11.57,50.94,11.61&bbox-crs={EPSG}4326") == lonlat
    # The same numbers in lon/lat order are a box near the equator: nothing of Jena.
    assert _ids(client, f"bbox=11.57,50.91,11.61,50.94&bbox-crs={EPSG}4326") == set()


@pytest.mark.parametrize(
    ("url", "parameter", "needle"),
    [
        (f"{STAT_ITEMS}?crs=EPSG:25832", "crs", "not a supported CRS"),
        (f"{STAT_ITEMS}?crs={EPSG}31468", "crs", "31468"),
        (f"{DISTRICT}?crs={EPSG}9999", "crs", "not a supported CRS"),
        (f"{STAT_ITEMS}?crs={UTM32}&crs={UTM32}", "crs", "more than once"),
        (f"{STAT_ITEMS}?bbox=1,2,3,4&bbox-crs=urn:ogc:def:crs:EPSG::25832", "bbox-crs", "not a supported"),
        (f"{STAT_ITEMS}?bbox-crs={EPSG}31467", "bbox-crs", "31467"),
        # Out of the area of the CRS, each axis named in the CRS's own terms.
        (f"{STAT_ITEMS}?bbox=-9e6,5e6,7e5,6e6&bbox-crs={UTM32}", "bbox", "minEasting -9000000 is outside"),
        (f"{STAT_ITEMS}?bbox=6e5,5e6,7e5,2e7&bbox-crs={UTM32}", "bbox", "maxNorthing 20000000 is outside"),
        (f"{STAT_ITEMS}?bbox=95,11,96,12&bbox-crs={EPSG}4326", "bbox", "minLat 95 is outside -90..90"),
        (f"{STAT_ITEMS}?bbox=50,181,51,182&bbox-crs={EPSG}4326", "bbox", "minLon 181 is outside"),
        (f"{STAT_ITEMS}?bbox=0,9e7,1,9.1e7&bbox-crs={EPSG}3857", "bbox", "minNorthing 90000000 is outside"),
        (f"{STAT_ITEMS}?bbox=7e5,5e6,6e5,6e6&bbox-crs={UTM32}", "bbox", "minEasting 700000 is greater"),
        (f"{STAT_ITEMS}?bbox=1,2,3&bbox-crs={EPSG}4326", "bbox", "minLat,minLon,maxLat,maxLon"),
    ],
)
def test_bad_crs_and_bbox_crs_are_400_naming_the_parameter(
    client: FlaskClient, url: str, parameter: str, needle: str
) -> None:
    doc = get_json(client, url, 400)
    assert doc["code"] == "InvalidParameterValue"
    assert f"Parameter '{parameter}'" in doc["description"] and needle in doc["description"], doc


def test_unsupported_crs_is_worded_on_the_html_page_in_both_languages(client: FlaskClient) -> None:
    de = client.get(f"{STAT_ITEMS}?f=html&crs=EPSG:31468")
    en = client.get(f"{STAT_ITEMS}?f=html&lang=en&crs=EPSG:31468")
    assert de.status_code == en.status_code == 400
    assert "Koordinatensystem „EPSG:31468“ (crs) wird nicht unterstützt" in de.get_data(as_text=True)
    assert "coordinate reference system &#39;EPSG:31468&#39; (crs) is not supported" in en.get_data(
        as_text=True
    )


def test_collections_conformance_and_openapi_declare_part_2(client: FlaskClient) -> None:
    classes = get_json(client, "/api/conformance")["conformsTo"]
    assert "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs" in classes
    for collection in get_json(client, "/api/collections")["collections"]:
        assert collection["crs"] == SUPPORTED and collection["storageCrs"] == CRS84
    api = get_json(client, "/api/openapi")
    parameters = api["components"]["parameters"]
    assert parameters["crs"]["schema"]["enum"] == SUPPORTED
    assert parameters["bbox-crs"]["schema"]["enum"] == SUPPORTED
    item = api["paths"]["/collections/districts/items/{featureId}"]["get"]["parameters"]
    items = api["paths"]["/collections/districts/items"]["get"]["parameters"]
    assert {"$ref": "#/components/parameters/crs"} in item and {
        "$ref": "#/components/parameters/crs"
    } in items
