"""The coverage API's polygons simplified for a map zoom (``zoom=``, ``f=topojson``): the same
facts as the full GeoJSON, a fraction of the bytes, and the orientation names on their own."""

from __future__ import annotations

import gzip
import json

from flask import Flask

from conftest import get_json

COVERAGE = "/api/coverage/municipalities"


def test_simplified_levels_keep_every_property(gpkg_app: Flask) -> None:
    client = gpkg_app.test_client()
    full = get_json(client, f"{COVERAGE}?land=16")
    topo = get_json(client, f"{COVERAGE}?land=16&zoom=8&f=topojson")
    simple = get_json(client, f"{COVERAGE}?land=16&zoom=8")
    assert topo["type"] == "Topology" and topo["numberReturned"] == 849
    geometries = topo["objects"]["municipalities"]["geometries"]
    by_id = {f["id"]: f["properties"] for f in full["features"]}
    assert {g["id"]: g["properties"] for g in geometries} == by_id  # popups keep their facts
    assert {f["id"]: f["properties"] for f in simple["features"]} == by_id
    assert topo["sources"] == full["sources"] and topo["references"] == full["references"]
    assert all(f["geometry"]["type"] in ("Polygon", "MultiPolygon") for f in simple["features"])


def test_a_land_at_its_opening_zoom_is_a_fraction_of_the_full_polygons(gpkg_app: Flask) -> None:
    client = gpkg_app.test_client()
    gzip_ok = {"Accept-Encoding": "gzip"}
    full = client.get(f"{COVERAGE}?land=16", headers=gzip_ok)
    light = client.get(f"{COVERAGE}?land=16&zoom=8&f=topojson", headers=gzip_ok)
    assert light.headers["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in light.headers["Vary"]
    assert len(light.data) * 10 < len(full.data)
    assert json.loads(gzip.decompress(light.data))["type"] == "Topology"
    # Revalidation works as for every other answer.
    again = client.get(
        f"{COVERAGE}?land=16&zoom=8&f=topojson", headers={"If-None-Match": light.headers["ETag"]}
    )
    assert again.status_code == 304


def test_one_town_is_cut_from_its_land(gpkg_app: Flask) -> None:
    client = gpkg_app.test_client()
    doc = get_json(client, f"{COVERAGE}?ags=16053000&zoom=12&f=topojson")
    (jena,) = doc["objects"]["municipalities"]["geometries"]
    assert jena["properties"]["name"] == "Jena"
    assert len(doc["arcs"]) < 5  # its own rings, not the Land's


def test_zoom_is_checked(gpkg_app: Flask) -> None:
    client = gpkg_app.test_client()
    for url in (
        f"{COVERAGE}?land=16&f=topojson",  # needs the zoom
        f"{COVERAGE}?land=16&zoom=8&f=csv",
        f"{COVERAGE}?land=16&zoom=eight",
    ):
        assert client.get(url).status_code == 400, url
    # Out of range is clamped: zoom 30 is the finest level, zoom 0 the coarsest.
    assert client.get(f"{COVERAGE}?land=14&zoom=30&f=topojson").status_code == 200


def test_orientation_names_without_outlines(gpkg_app: Flask) -> None:
    client = gpkg_app.test_client()
    base = "/api/derived/outlines?layer=municipalities&zoom=8&bbox=9.8,50.2,12.7,51.7"
    everything = get_json(client, base)["features"]
    names = get_json(client, base + "&outlines=false")["features"]
    major = get_json(client, base + "&outlines=false&major=true")["features"]
    assert [f["id"] for f in names] == [f["id"] for f in everything]
    assert all(f["geometry"] is None and f["properties"]["label"] for f in names)
    assert major and {f["id"] for f in major} == {f["id"] for f in names if f["properties"]["major"]}
    assert "Jena" in {f["properties"]["name"] for f in major}
