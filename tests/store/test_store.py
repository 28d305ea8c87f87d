"""The stores: behaviour tests run on both backends (GeoPackage and PostGIS, see conftest.py);
the GeoPackage is also a real file that GDAL reads, with a used spatial index (``gpkg_app``).
"""

from __future__ import annotations

import random
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyogrio
import pytest
import shapely
from flask import Flask
from sample_features import camera_edit
from shapely.geometry import Point

from conftest import StoreConfig
from mapservice import create_app
from mapservice.store import geopackage
from mapservice.store.base import Filter, Query, SortKey, StoreError


def gpkg_path(app: Flask) -> Path:
    return Path(app.instance_path) / "mapservice.gpkg"


def test_store_is_created_in_the_instance_folder_not_the_package(gpkg_app: Flask) -> None:
    path = gpkg_path(gpkg_app)
    assert path.is_file()
    import mapservice

    assert Path(mapservice.__file__).parent not in path.parents


def test_gdal_reads_the_geopackage(gpkg_app: Flask) -> None:
    path = str(gpkg_path(gpkg_app))
    layers = {name: gtype for name, gtype in pyogrio.list_layers(path)}
    assert set(layers) == {
        "districts",
        "statistical_districts",
        "municipalities",
        "contact_offices",
        "graffiti_zones",
        "video_surveillance",
        "prevention_bodies",
        "mapservice_layer_state",
        "mapservice_history",
        "mapservice_addresses",
        "mapservice_address_sources",
    }
    assert layers["mapservice_history"] is None  # the change log: a table for QGIS users
    assert layers["municipalities"] == "MultiPolygon"
    assert layers["mapservice_layer_state"] is None  # a plain table, not a map layer
    assert layers["mapservice_addresses"] == "Point"  # the gazetteer's address points
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


def test_bbox_query_uses_the_rtree(gpkg_app: Flask) -> None:
    conn = sqlite3.connect(gpkg_path(gpkg_app))
    conn.create_function("mapservice_intersects_bbox", 5, lambda *a: 1)
    plan = conn.execute(
        "EXPLAIN QUERY PLAN SELECT count(*) FROM municipalities JOIN rtree_municipalities_geom r "
        "ON r.id = municipalities.fid WHERE r.minx <= 1 AND r.maxx >= 0 AND r.miny <= 1 "
        "AND r.maxy >= 0"
    ).fetchall()
    assert any("VIRTUAL TABLE INDEX" in row[-1] for row in plan), plan
    count = conn.execute("SELECT count(*) FROM rtree_municipalities_geom").fetchone()[0]
    assert count == 1275


def test_a_bbox_query_selects_exactly_the_municipalities_shapely_finds_in_the_box(
    gpkg_app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Boxes of every size around Thuringia and Saxony: from the R-tree's shortcut (a box
    that holds a municipality's whole R-tree box) to the exact test of a cut outline."""
    store = gpkg_app.extensions["mapservice"].store
    shapes = store.shapes("municipalities")
    tree = shapely.STRtree([s.geometry for s in shapes])
    tested: list[int] = []
    real_test = geopackage._intersects_bbox

    def exact_test(*args: Any) -> int:
        tested.append(1)
        return real_test(*args)

    # The store's next connection registers the counting test (one per thread).
    store.close()
    monkeypatch.setattr(geopackage, "_intersects_bbox", exact_test)
    index = sqlite3.connect(gpkg_path(gpkg_app))
    boxes = "SELECT count(*) FROM rtree_municipalities_geom WHERE "
    rtree = boxes + "minx <= ? AND maxx >= ? AND miny <= ? AND maxy >= ?"
    inside = boxes + "minx >= ? AND maxx <= ? AND miny >= ? AND maxy <= ?"
    rng = random.Random(16)
    candidates = held_whole = 0
    for _ in range(60):
        x, y = rng.uniform(9.9, 15.0), rng.uniform(50.2, 51.6)
        w, h = rng.choice([0.005, 0.03, 0.1, 0.3]) * rng.uniform(0.5, 2), rng.uniform(0.005, 0.3)
        box = (x, y, x + w, y + h)
        page = store.query("municipalities", Query(bbox=box, limit=2000))
        truth = {shapes[i].id for i in tree.query(shapely.box(*box), predicate="intersects")}
        assert {f.id for f in page.features} == truth, box
        assert page.number_matched == len(truth)
        candidates += index.execute(rtree, (box[2], box[0], box[3], box[1])).fetchone()[0]
        held_whole += index.execute(inside, (box[0], box[2], box[1], box[3])).fetchone()[0]
    index.close()
    store.close()  # the next test's connection gets the real test again
    assert held_whole > 50
    # Only the candidates whose R-tree box the query box does not hold are tested.
    assert len(tested) <= candidates - held_whole


def test_the_exact_bbox_test_agrees_with_shapely_on_every_kind_of_shape(gpkg_app: Flask) -> None:
    """The GeoPackage's exact test behind the R-tree answers from the envelope where it can
    (inside the box, or crossed by it from side to side when the shape is one piece). It must
    give what shapely gives, for the shipped outlines and for shapes where the envelope says
    nothing: two islands with the box between them, a bent line, a ring around a hole."""
    from mapservice.store import gpkg_binary
    from mapservice.store.geopackage import _intersects_bbox

    islands = shapely.MultiPolygon([shapely.box(0, 0, 1, 1), shapely.box(2, 2, 3, 3)])
    bent = shapely.LineString([(0, 0), (3, 0), (3, 3)])
    ring = shapely.box(0, 0, 3, 3).difference(shapely.box(1, 1, 2, 2))
    single = shapely.MultiPolygon([shapely.Polygon([(0, 0), (3, 0), (0, 3)])])
    two_points = shapely.MultiPoint([(0, 0), (3, 3)])
    shapes = [islands, bent, ring, single, two_points]
    # The box crosses the islands' envelope from side to side and meets neither of them.
    assert not _intersects_bbox(gpkg_binary.encode(islands), -1, 1.5, 4, 1.8)
    steps = [-1.0, -0.01, 0.0, 0.5, 1.2, 1.5, 1.8, 2.5, 3.0, 3.01, 4.0]
    boxes = [
        (x0, y0, x1, y1) for x0 in steps for x1 in steps if x0 < x1 for y0 in steps for y1 in steps if y0 < y1
    ]
    for shape in shapes:
        blob = gpkg_binary.encode(shape)
        wrong = [b for b in boxes if _intersects_bbox(blob, *b) != shapely.intersects(shapely.box(*b), shape)]
        assert wrong == [], (shape.wkt, wrong[:5])
    # The shipped municipalities around Jena, with boxes crossing them in every way.
    conn = sqlite3.connect(gpkg_path(gpkg_app))
    rows = conn.execute(
        "SELECT t.geom FROM municipalities t JOIN rtree_municipalities_geom r ON r.id = t.fid "
        "WHERE r.minx <= 11.8 AND r.maxx >= 11.4 AND r.miny <= 51.05 AND r.maxy >= 50.8"
    ).fetchall()
    assert len(rows) > 30
    grid = [
        (11.4 + i * 0.05, 50.8 + j * 0.05, 11.4 + i * 0.05 + w, 50.8 + j * 0.05 + h)
        for i in range(8)
        for j in range(5)
        for w, h in ((0.02, 0.3), (0.3, 0.02), (0.12, 0.08))
    ]
    shortcuts = 0
    for (blob,) in rows:
        shape = shapely.from_wkb(gpkg_binary.wkb_of(blob))
        for box in grid:
            expected = shapely.intersects(shapely.box(*box), shape)
            assert _intersects_bbox(blob, *box) == expected, box
            shortcuts += gpkg_binary.is_connected(blob)
    assert shortcuts > 0  # single-part outlines are stored as MultiPolygons of one


def test_query_filters_sorts_and_pages(app: Flask) -> None:
    store = app.extensions["mapservice"].store
    result = store.query(
        "municipalities",
        Query(filters=(Filter("kreis_ags", "14524"),), sortby=(SortKey("name"),), limit=5, offset=0),
    )
    assert result.number_matched > 5
    names = [f.properties["name"] for f in result.features]
    assert names == sorted(names)
    second = store.query(
        "municipalities",
        Query(filters=(Filter("kreis_ags", "14524"),), sortby=(SortKey("name"),), limit=5, offset=5),
    )
    assert not {f.id for f in result.features} & {f.id for f in second.features}
    assert {"Zwickau", "Meerane"} <= {
        f.properties["name"]
        for f in store.query(
            "municipalities", Query(filters=(Filter("kreis_ags", "14524"),), limit=100)
        ).features
    }


def test_ids_and_content_are_stable_across_restarts_and_rebuilds(
    new_store: Callable[[Path], StoreConfig], tmp_path: Path
) -> None:
    a, b = new_store(tmp_path / "a"), new_store(tmp_path / "b")
    first = create_app(a.settings())
    again = create_app(a.settings())
    rebuilt = create_app(b.settings())
    q = Query(limit=10000)
    snapshots = [
        [
            (f.id, f.properties, f.geometry)
            for f in app.extensions["mapservice"].store.query("contact-offices", q).features
        ]
        for app in (first, again, rebuilt)
    ]
    assert snapshots[0] == snapshots[1] == snapshots[2]
    state_a = first.extensions["mapservice"].store.state("districts")
    assert again.extensions["mapservice"].store.state("districts") == state_a
    for app in (first, again, rebuilt):
        app.extensions["mapservice"].store.close()


def test_replace_is_all_or_nothing_and_bumps_the_version(fresh_app: Flask) -> None:
    store = fresh_app.extensions["mapservice"].store
    before = store.state("prevention-bodies")
    old = store.query("prevention-bodies", Query(limit=100)).features
    body = {
        "name": "Runder Tisch",
        "type": "runder_tisch",
        "status": "active",
        "level": "stadtteil",
        "source": "test",
        "verified_on": "2026-11-01",
    }
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
    # The spatial index (GeoPackage: R-tree triggers) kept in step with the table.
    near = store.query("prevention-bodies", Query(bbox=(11.4, 50.8, 11.6, 51.0)))
    assert [f.id for f in near.features] == ["x"]
    far = store.query("prevention-bodies", Query(bbox=(12.4, 50.8, 12.6, 51.0)))
    assert far.features == []


def test_etag_changes_when_the_data_changes(fresh_app: Flask) -> None:
    client = fresh_app.test_client()
    url = "/api/collections/prevention-bodies/items"
    first = client.get(url)
    store = fresh_app.extensions["mapservice"].store
    store.replace("prevention-bodies", [])
    second = client.get(url, headers={"If-None-Match": first.headers["ETag"]})
    assert second.status_code == 200
    assert second.headers["ETag"] != first.headers["ETag"]
    assert second.get_json()["numberMatched"] == 0


def test_unsupported_store_setting_is_a_clear_error(tmp_path: Path) -> None:
    from mapservice.config import ConfigError

    with pytest.raises(ConfigError, match="store"):
        create_app({"instance_path": str(tmp_path), "store": str(tmp_path / "data.sqlite")})
    with pytest.raises(ConfigError, match="mysql://"):
        create_app({"instance_path": str(tmp_path), "store": "mysql://localhost/db"})


def test_text_sorts_in_german_order_and_nulls_last(app: Flask) -> None:
    from mapservice.store.sql import sort_key_de

    store = app.extensions["mapservice"].store
    for ascending in (True, False):
        result = store.query("municipalities", Query(sortby=(SortKey("name", ascending),), limit=10000))
        keys = [(sort_key_de(f.properties["name"]), f.properties["name"]) for f in result.features]
        assert keys == sorted(keys, reverse=not ascending)
        assert any(ch in name for _, name in keys for ch in "äöüÄÖÜß")
    by_population = store.query(
        "districts", Query(sortby=(SortKey("population", False),), limit=10000)
    ).features
    values = [f.properties["population"] for f in by_population]
    known = [v for v in values if v is not None]
    assert known == sorted(known, reverse=True)
    assert values == known + [None] * (len(values) - len(known))  # unknown last


def test_list_filter_contains_and_get(app: Flask) -> None:
    store = app.extensions["mapservice"].store
    result = store.query(
        "contact-offices", Query(filters=(Filter("serves_districts", "jena-neulobeda", contains=True),))
    )
    assert [f.id for f in result.features] == ["kobb-jena-lobeda"]
    assert result.number_matched == 1
    feature = store.get("contact-offices", "kobb-jena-lobeda")
    assert feature == result.features[0]
    assert feature.properties["serves_districts"] == ["jena-neulobeda", "jena-lobeda-altstadt"]
    assert store.get("contact-offices", "no-such-office") is None
    assert (
        store.query(
            "contact-offices", Query(filters=(Filter("serves_districts", "jena", contains=True),))
        ).number_matched
        == 0
    )
    with pytest.raises(StoreError, match="unknown layer"):
        store.get("no-such-layer", "x")


def test_bbox_pages_and_counts(app: Flask) -> None:
    store = app.extensions["mapservice"].store
    bbox = (11.5, 50.85, 11.7, 50.98)
    everything = store.query("municipalities", Query(bbox=bbox, limit=10000))
    box = shapely.box(*bbox)
    assert everything.number_matched == len(everything.features) > 0
    assert all(shapely.from_geojson(f.geometry).intersects(box) for f in everything.features)
    page = store.query("municipalities", Query(bbox=bbox, limit=3, offset=2))
    assert page.number_matched == everything.number_matched
    assert page.features == everything.features[2:5]


def test_temporal_interval_filter(fresh_app: Flask) -> None:
    store = fresh_app.extensions["mapservice"].store
    base = {
        "name": "Wand",
        "status": "active",
        "legal_status": "legal",
        "source": "test",
        "verified_on": "2026-11-01",
    }
    zones = {
        "old": ("2019-03-01", "2020-12-31"),
        "month": ("2023-04", None),
        "open": (None, None),
        "year": ("2021", "2022"),
    }
    store.replace(
        "graffiti-zones",
        [
            ({**base, "id": zid, "opened_on": start, "closed_on": end}, Point(11.58, 50.92))
            for zid, (start, end) in zones.items()
        ],
    )

    def ids(interval: tuple[str | None, str | None]) -> list[str]:
        return [f.id for f in store.query("graffiti-zones", Query(interval=interval)).features]

    assert ids(("2020-06-01", "2020-06-30")) == ["old", "open"]
    assert ids(("2023-04-15", None)) == ["month", "open"]
    assert ids((None, "2021-01-05")) == ["old", "open", "year"]
    assert ids(("2022-12-31", "2023-03-31")) == ["open", "year"]
    # A layer without temporal fields matches no interval.
    assert store.query("districts", Query(interval=(None, None))).features == []


def _break_the_districts_table(app: Flask, backend: str) -> None:
    """What a lost or damaged store looks like to the service: a table it needs is gone."""
    store = app.extensions["mapservice"].store
    if backend == "gpkg":
        with sqlite3.connect(gpkg_path(app)) as conn:
            conn.execute('ALTER TABLE "districts" RENAME TO "districts_lost"')
    else:
        import psycopg

        with psycopg.connect(store.url, autocommit=True) as conn:
            conn.execute('ALTER TABLE mapservice."districts" RENAME TO "districts_lost"')


def test_a_failing_store_read_is_a_json_503_on_both_stores(fresh_app: Flask, backend: str) -> None:
    """Every database failure on a read is a StoreError (not sqlite3/psycopg errors), and the
    client gets one JSON error with no internals in it, never a generic 500 page."""
    client = fresh_app.test_client()
    assert client.get("/api/collections/districts/items?limit=1").status_code == 200
    _break_the_districts_table(fresh_app, backend)
    store = fresh_app.extensions["mapservice"].store
    with pytest.raises(StoreError, match="querying layer 'districts' failed"):
        store.query("districts", Query(limit=1))
    with pytest.raises(StoreError, match="reading layer 'districts' failed"):
        store.get("districts", "jena-winzerla")
    for url in (
        "/api/collections/districts/items?limit=5&offset=1",
        "/api/collections/districts/items/jena-nord",
    ):
        response = client.get(url)
        assert response.status_code == 503, url
        body = response.get_json()
        assert body["code"] == "StoreUnavailable"
        assert "districts_lost" not in body["description"] and "sqlite" not in body["description"].lower()
        assert response.headers["Cache-Control"] == "no-store"


def test_a_token_is_found_by_its_id_on_both_stores(fresh_app: Flask) -> None:
    from mapservice.store.tokens import authenticate, new_token

    services = fresh_app.extensions["mapservice"]
    record, plain = new_token(services.store, services.catalog, "Planungsamt (Test)", ["graffiti-zones"])
    new_token(services.store, services.catalog, "Ordnungsamt (Test)", ["video-surveillance"])
    found = services.store.token(record.id)
    assert found == record
    assert services.store.token("00000000") is None
    assert authenticate(services.store, plain) == record
    assert services.store.revoke_token(record.id)
    revoked = services.store.token(record.id)
    assert revoked is not None and revoked.revoked_at is not None
    assert authenticate(services.store, plain) is None


def test_a_nul_in_a_filter_value_matches_nothing_on_both_stores(app: Flask) -> None:
    """PostgreSQL text cannot hold NUL: such a filter finds nothing, as on the GeoPackage,
    instead of failing like a lost database."""
    client = app.test_client()
    for url in ("/api/collections/contact-offices/items?city=Je%00na", "/api/office-hours?city=Je%00na"):
        response = client.get(url)
        assert response.status_code == 200, (url, response.get_data(as_text=True))
    assert client.get("/api/collections/contact-offices/items?city=Je%00na").get_json()["numberMatched"] == 0
    assert client.get("/calendar/cities/Je%00na.ics").status_code == 404


def test_shapes_are_the_features_with_shapely_geometries(app: Flask) -> None:
    services = app.extensions["mapservice"]
    for layer in ("districts", "contact-offices"):
        features = services.store.all_features(layer, [Filter("city", "Jena")])
        shapes = services.store.shapes(layer, [Filter("city", "Jena")])
        assert [s.id for s in shapes] == [f.id for f in features]
        assert [s.properties for s in shapes] == [f.properties for f in features]
        for shape, feature in zip(shapes, features, strict=True):
            if feature.geometry is None:
                assert shape.geometry is None  # an office without a known location stays unknown
            else:
                assert shape.geometry is not None
                assert shape.geometry.equals_exact(shapely.from_geojson(feature.geometry), 1e-9)
    assert any(s.geometry is None for s in services.store.shapes("contact-offices"))


def test_a_page_whose_statement_fails_leaves_no_old_snapshot_behind(
    fresh_store: StoreConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After a failed page, the reader's next reads see what others wrote since: no open
    statement or transaction keeps the snapshot the failed page was read in."""
    reader_app, writer_app = create_app(fresh_store.settings()), create_app(fresh_store.settings())
    reader, writer = reader_app.extensions["mapservice"].store, writer_app.extensions["mapservice"].store
    layer = "video-surveillance"
    before = reader.state(layer).version
    m = reader.mark
    overflow = f"SELECT abs(-9223372036854775807 - 1), 1 LIMIT {m} OFFSET {m}"  # fails when run
    with monkeypatch.context() as patch:
        patch.setattr(reader, "_page_sql", lambda *_: overflow)
        # The error is kept, as a log handler or an error page may keep it, and its
        # traceback the frames of the failed read with them.
        with pytest.raises(StoreError, match=f"querying layer '{layer}' failed") as failed:
            reader.query(layer, Query(limit=5))
    fid = "test-cam-after-failed-page"
    writer.edit(layer, camera_edit(fid, "Testkamera nach Fehler"), "test")
    assert reader.state(layer).version == before + 1
    page = reader.query(layer, Query(limit=1000))
    assert fid in {f.id for f in page.features} and page.version == before + 1
    assert failed.traceback  # still held while the reads above ran
    reader.close()
    writer.close()
