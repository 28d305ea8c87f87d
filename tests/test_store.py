"""The embedded GeoPackage store: a real file that GDAL reads, with a used spatial index."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pyogrio
import pytest
import shapely
from flask import Flask
from shapely.geometry import Point

from mapservice import create_app
from mapservice.store.base import Filter, Query, SortKey, StoreError
from mapservice.store.geopackage import GeoPackageStore


def gpkg_path(app: Flask) -> Path:
    return Path(app.instance_path) / "mapservice.gpkg"


def test_store_is_created_in_the_instance_folder_not_the_package(app: Flask) -> None:
    path = gpkg_path(app)
    assert path.is_file()
    import mapservice

    assert Path(mapservice.__file__).parent not in path.parents


def test_gdal_reads_the_geopackage(app: Flask) -> None:
    path = str(gpkg_path(app))
    layers = {name: gtype for name, gtype in pyogrio.list_layers(path)}
    assert set(layers) == {"districts", "statistical_districts", "municipalities",
                           "contact_offices", "graffiti_zones", "video_surveillance",
                           "prevention_bodies", "mapservice_layer_state"}
    assert layers["municipalities"] == "MultiPolygon"
    assert layers["mapservice_layer_state"] is None  # a plain table, not a map layer
    info = pyogrio.read_info(path, layer="contact_offices")
    assert info["crs"] == "EPSG:4326"
    assert info["features"] == 8
    assert "serves_districts" in list(info["fields"])
    frame = pyogrio.read_dataframe(path, layer="districts")
    assert len(frame) == 132 and frame["id"].is_unique
    winzerla = frame[frame["id"] == "jena-winzerla"].iloc[0]
    assert winzerla["name"] == "Winzerla" and winzerla.geometry.is_valid
    statistical = pyogrio.read_dataframe(path, layer="statistical_districts")
    assert len(statistical) == 41 and statistical["households"].sum() == 61012
    assert set(statistical["district"]) <= set(frame["id"])
    # GDAL's own spatial filter (which uses the R-tree) agrees with the API's bbox.
    near = pyogrio.read_dataframe(path, layer="municipalities", bbox=(11.5, 50.85, 11.7, 50.98))
    assert "16053000" in set(near["id"])
    assert len(near) < 60


def test_bbox_query_uses_the_rtree(app: Flask) -> None:
    conn = sqlite3.connect(gpkg_path(app))
    conn.create_function("mapservice_intersects_bbox", 5, lambda *a: 1)
    plan = conn.execute(
        "EXPLAIN QUERY PLAN SELECT count(*) FROM municipalities JOIN rtree_municipalities_geom r "
        "ON r.id = municipalities.fid WHERE r.minx <= 1 AND r.maxx >= 0 AND r.miny <= 1 "
        "AND r.maxy >= 0"
    ).fetchall()
    assert any("VIRTUAL TABLE INDEX" in row[-1] for row in plan), plan
    count = conn.execute("SELECT count(*) FROM rtree_municipalities_geom").fetchone()[0]
    assert count == 1275


def test_query_filters_sorts_and_pages(app: Flask) -> None:
    store = app.extensions["mapservice.store"]
    result = store.query("municipalities", Query(
        filters=(Filter("kreis_ags", "14524"),), sortby=(SortKey("name"),), limit=5, offset=0))
    assert result.number_matched > 5
    names = [f.properties["name"] for f in result.features]
    assert names == sorted(names)
    second = store.query("municipalities", Query(
        filters=(Filter("kreis_ags", "14524"),), sortby=(SortKey("name"),), limit=5, offset=5))
    assert not {f.id for f in result.features} & {f.id for f in second.features}
    assert {"Zwickau", "Meerane"} <= {
        f.properties["name"] for f in store.query(
            "municipalities", Query(filters=(Filter("kreis_ags", "14524"),), limit=100)).features
    }


def test_ids_and_content_are_stable_across_restarts_and_rebuilds(tmp_path: Path) -> None:
    first = create_app({"instance_path": str(tmp_path / "a")})
    again = create_app({"instance_path": str(tmp_path / "a")})
    rebuilt = create_app({"instance_path": str(tmp_path / "b")})
    q = Query(limit=10000)
    snapshots = [
        [(f.id, f.properties, f.geometry) for f in app.extensions["mapservice.store"].query(
            "contact-offices", q).features]
        for app in (first, again, rebuilt)
    ]
    assert snapshots[0] == snapshots[1] == snapshots[2]
    state_a = first.extensions["mapservice.store"].state("districts")
    assert again.extensions["mapservice.store"].state("districts") == state_a


def test_replace_is_all_or_nothing_and_bumps_the_version(fresh_app: Flask) -> None:
    store: GeoPackageStore = fresh_app.extensions["mapservice.store"]
    before = store.state("prevention-bodies")
    old = store.query("prevention-bodies", Query(limit=100)).features
    body = {"name": "Runder Tisch", "type": "runder_tisch", "status": "active",
            "level": "stadtteil", "source": "test", "verified_on": "2026-11-01"}
    duplicate = [({**body, "id": "x"}, Point(11.5, 50.9)), ({**body, "id": "x"}, None)]
    with pytest.raises(StoreError, match="nothing was changed"):
        store.replace("prevention-bodies", duplicate)
    assert store.query("prevention-bodies", Query(limit=100)).features == old
    assert store.state("prevention-bodies").version == before.version

    after = store.replace("prevention-bodies", [({**body, "id": "x"}, Point(11.5, 50.9))])
    assert after.version == before.version + 1 and after.count == 1
    assert after.extent is not None
    feature = store.get("prevention-bodies", "x")
    assert feature is not None
    assert shapely.from_geojson(feature.geometry).equals(Point(11.5, 50.9))
    # The R-tree triggers kept the index in step with the table.
    near = store.query("prevention-bodies", Query(bbox=(11.4, 50.8, 11.6, 51.0)))
    assert [f.id for f in near.features] == ["x"]
    far = store.query("prevention-bodies", Query(bbox=(12.4, 50.8, 12.6, 51.0)))
    assert far.features == []


def test_etag_changes_when_the_data_changes(fresh_app: Flask) -> None:
    client = fresh_app.test_client()
    url = "/api/collections/prevention-bodies/items"
    first = client.get(url)
    store = fresh_app.extensions["mapservice.store"]
    store.replace("prevention-bodies", [])
    second = client.get(url, headers={"If-None-Match": first.headers["ETag"]})
    assert second.status_code == 200
    assert second.headers["ETag"] != first.headers["ETag"]
    assert second.get_json()["numberMatched"] == 0


def test_unsupported_store_setting_is_a_clear_error(tmp_path: Path) -> None:
    from mapservice.config import ConfigError

    with pytest.raises(ConfigError, match="store"):
        create_app({"instance_path": str(tmp_path), "store": str(tmp_path / "data.sqlite")})
