"""The columns each store keeps next to a row (issue 16): the feature as the API sends it, its
revision and its German sort keys, on both stores.

They must always say what the row's own columns say: after every write, after a change made
outside the service (QGIS, SQL), and in a store from before they existed. A page is read off
the layer's order index, and the whole layer's count is never counted per request.
"""

from __future__ import annotations

import sqlite3
from contextlib import closing
from typing import Any

import psycopg
import pytest
import shapely.geometry
from flask import Flask
from sample_features import camera

from conftest import StoreConfig
from mapservice import create_app
from mapservice.store.base import Edit, Query, Store, revision
from mapservice.store.sql import FEATURE_COLUMN, SqlStore, encode_feature, order_terms, table_name

LAYER = "video-surveillance"


def create(fid: str, action: str = "create", **props: Any) -> Edit:
    """A test camera (invented: ``source`` says Testdaten) as the store takes it."""
    feature = camera(fid, **props)
    geometry = shapely.geometry.shape(feature["geometry"])
    return Edit(action, fid, {"id": fid, **feature["properties"]}, geometry)  # type: ignore[arg-type]


def full(app: Flask) -> SqlStore:
    store: SqlStore = app.extensions["mapservice"].store
    return store


def from_columns(store: SqlStore, layer_id: str) -> dict[str, str]:
    """Each feature's GeoJSON built the old way: from its columns, WKB through shapely."""
    layer = store.catalog[layer_id]
    with store._read() as conn:
        rows = conn.execute(f"{store._select(layer)} ORDER BY t.fid").fetchall()
    return {f.id: encode_feature(f) for f in store._rows_to_features(layer, rows)}


def execute(config: StoreConfig, sql: str) -> list[tuple[Any, ...]]:
    if config.store:
        with psycopg.connect(config.store, autocommit=True) as conn:
            cur = conn.execute(sql)  # type: ignore[arg-type]
            return cur.fetchall() if cur.description else []
    from mapservice.store.geopackage import _connect

    # The store's own connection: the R-tree triggers call its SQL functions.
    with closing(_connect(config.instance / "mapservice.gpkg")) as conn:
        rows = conn.execute(sql).fetchall()
        return rows


def table(config: StoreConfig, layer_id: str) -> str:
    return f"mapservice.{table_name(layer_id)}" if config.store else table_name(layer_id)


def test_the_stored_features_are_what_their_columns_say(app: Flask) -> None:
    store = full(app)
    for layer_id in store.layer_ids():
        built = from_columns(store, layer_id)
        page = store.query_encoded(layer_id, Query(limit=100_000))
        stored = {}
        for text in page.features:
            feature = store.get(layer_id, encode_feature_id(text))
            assert feature is not None
            stored[feature.id] = text.decode()
            assert store.feature_revision(layer_id, feature.id) == revision(feature)
        assert stored == built, layer_id
        assert page.number_matched == len(built) == store.state(layer_id).count


def encode_feature_id(text: bytes) -> str:
    from mapservice.store.sql import decode_feature

    return decode_feature(text.decode()).id


def test_writes_keep_them_current_and_an_outside_change_is_seen(fresh_store: StoreConfig) -> None:
    app = create_app(fresh_store.settings())
    store = full(app)
    try:
        for n in range(3):
            store.edit(LAYER, create(f"test-kam-{n}", name=f"Kamera {n}"), "Test")
        store.edit(LAYER, create("test-kam-1", "replace", name="Ärztehaus (Test)"), "Test")
        assert {k: v for k, v in from_columns(store, LAYER).items()} == {
            f.id: encode_feature(f) for f in store.all_features(LAYER)
        }
        names = [
            f.properties["name"] for f in store.query(LAYER, Query(sortby=()).__class__(limit=10)).features
        ]
        assert names == ["Kamera 0", "Ärztehaus (Test)", "Kamera 2"]  # default order: by id
        # A GIS user edits a row in QGIS (plain SQL on the table): the service shows the edit.
        execute(
            fresh_store,
            f"UPDATE {table(fresh_store, LAYER)} SET name = 'In QGIS geändert' WHERE id = 'test-kam-2'",
        )
        changed = store.get(LAYER, "test-kam-2")
        assert changed is not None and changed.properties["name"] == "In QGIS geändert"
        assert store.feature_revision(LAYER, "test-kam-2") == revision(changed)
        page = store.query_encoded(LAYER, Query(limit=10))
        assert b"In QGIS ge\xc3\xa4ndert" in page.features[2]
    finally:
        store.close()
    # The next start computes the row's columns anew (its revision is stored again).
    reopened = create_app(fresh_store.settings())
    try:
        rows = execute(
            fresh_store, f"SELECT mapservice_rev FROM {table(fresh_store, LAYER)} WHERE id = 'test-kam-2'"
        )
        assert rows[0][0] is not None
        assert full(reopened).feature_revision(LAYER, "test-kam-2") == revision(
            full(reopened).get(LAYER, "test-kam-2")  # type: ignore[arg-type]
        )
    finally:
        full(reopened).close()


def test_a_store_from_before_gains_them_on_its_next_start(fresh_store: StoreConfig) -> None:
    app = create_app(fresh_store.settings())
    before = {lid: from_columns(full(app), lid) for lid in full(app).layer_ids()}
    full(app).close()
    t = table(fresh_store, "districts")
    execute(fresh_store, f"ALTER TABLE {t} DROP COLUMN {FEATURE_COLUMN}")
    state = "mapservice.layer_state" if fresh_store.store else "mapservice_layer_state"
    execute(fresh_store, f"UPDATE {state} SET derived = NULL")
    reopened = create_app(fresh_store.settings())
    try:
        store = full(reopened)
        for layer_id, built in before.items():
            texts = store.query_encoded(layer_id, Query(limit=100_000)).features
            assert sorted(t.decode() for t in texts) == sorted(built.values()), layer_id
    finally:
        full(reopened).close()


def test_a_page_is_read_off_the_order_index_without_counting(app: Flask, shared_store: StoreConfig) -> None:
    store = full(app)
    for layer in store.catalog:
        from mapservice.store.base import SortKey

        order = ", ".join(order_terms(layer, [SortKey(n) for n in layer.default_sortby]))
        sql = f"SELECT t.{FEATURE_COLUMN} FROM {store.table(layer.id)} t ORDER BY {order} LIMIT 10 OFFSET 5"
        if shared_store.store:
            with psycopg.connect(shared_store.store) as conn:
                conn.execute("SET enable_seqscan = off")  # a tiny table: ask whether it *can*
                plan = " ".join(r[0] for r in conn.execute(f"EXPLAIN {sql}").fetchall())  # type: ignore[arg-type]
            assert "mapservice_order_" in plan and "Sort" not in plan, (layer.id, plan)
        else:
            with closing(sqlite3.connect(shared_store.instance / "mapservice.gpkg")) as conn:
                plan = " ".join(str(r[-1]) for r in conn.execute(f"EXPLAIN QUERY PLAN {sql}"))
            assert "mapservice_order_" in plan and "TEMP B-TREE" not in plan, (layer.id, plan)
    if not shared_store.store:
        statements: list[str] = []
        conn = store._conn()
        conn.set_trace_callback(statements.append)
        try:
            store.state("municipalities")
            store.query_encoded("municipalities", Query(limit=10, offset=100))
        finally:
            conn.set_trace_callback(None)
        assert not [s for s in statements if "count(" in s.lower()], statements


def test_the_published_view_counts_without_reading_features(fresh_store: StoreConfig) -> None:
    app = create_app(fresh_store.settings())
    store: Store = full(app)
    try:
        for n, publication in enumerate(["published", "draft", "published"]):
            store.edit(LAYER, create(f"test-kam-{n}", publication=publication), "Test")
        public = app.extensions["mapservice"].public_store
        calls: list[str] = []
        original = store.shapes
        store.shapes = lambda *a, **k: calls.append("shapes") or original(*a, **k)  # type: ignore[method-assign]
        state = public.state(LAYER)
        page = public.query(LAYER, Query(limit=10))
        assert state.count == 2 and page.number_matched == 2
        assert [f.id for f in page.features] == ["test-kam-0", "test-kam-2"]
        assert state.extent is not None and calls == []
    finally:
        store.close()


def test_the_published_count_and_extent_are_kept_by_every_write(fresh_store: StoreConfig) -> None:
    """The public view's count and extent come with the version, never from a pass over the
    layer: a worker's first request after a write at a million cameras took 5 to 10 s."""
    app = create_app(fresh_store.settings())
    store = full(app)
    public = app.extensions["mapservice"].public_store
    passes: list[str] = []
    original = store.count_and_extent
    store.count_and_extent = lambda *a, **k: passes.append("pass") or original(*a, **k)  # type: ignore[method-assign]
    try:
        store.replace(LAYER, [])
        assert (public.state(LAYER).count, public.state(LAYER).extent) == (0, None)
        store.edit(LAYER, create("test-kam-w", coordinates=[11.50, 50.90], publication="published"), "Test")
        store.edit(LAYER, create("test-kam-e", coordinates=[11.70, 50.95], publication="published"), "Test")
        # A draft far off: neither counted nor in the public extent.
        store.edit(LAYER, create("test-kam-draft", publication="draft", coordinates=[12.5, 51.5]), "Test")
        state = public.state(LAYER)
        assert state.count == 2
        assert state.extent is not None
        assert state.extent == pytest.approx((11.50, 50.90, 11.70, 50.95), abs=1e-4)
        assert full(app).state(LAYER).count == 3
        # Publishing the draft counts it and widens the extent; deleting shrinks it again.
        published = create("test-kam-draft", "replace", coordinates=[12.5, 51.5], publication="published")
        store.edit(LAYER, published, "Test")
        assert public.state(LAYER).count == 3
        assert public.state(LAYER).extent == pytest.approx((11.50, 50.90, 12.5, 51.5), abs=1e-4)
        store.edit(LAYER, Edit("delete", "test-kam-draft"), "Test")
        assert public.state(LAYER).count == 2
        assert public.state(LAYER).extent == pytest.approx((11.50, 50.90, 11.70, 50.95), abs=1e-4)
        assert public.query(LAYER, Query(limit=10)).number_matched == 2
        assert passes == []
    finally:
        store.close()
    # A store from before they were kept fills them on its next start.
    state_table = "mapservice.layer_state" if fresh_store.store else "mapservice_layer_state"
    execute(fresh_store, f"UPDATE {state_table} SET published_count = NULL, published_min_x = NULL")
    if not fresh_store.store:
        execute(fresh_store, f"ALTER TABLE {state_table} DROP COLUMN published_max_y")
    reopened = create_app(fresh_store.settings())
    try:
        kept = full(reopened).state(LAYER)
        assert kept.published_count == 2
        assert kept.published_extent == pytest.approx((11.50, 50.90, 11.70, 50.95), abs=1e-4)
    finally:
        full(reopened).close()


def test_rows_removed_outside_the_service_are_counted_again_on_the_next_start(
    fresh_store: StoreConfig,
) -> None:
    """A write of one feature only adjusts the kept counts, so rows that QGIS or SQL removed
    would stay counted: the next start counts the layer again (and bumps its version)."""
    app = create_app(fresh_store.settings())
    store = full(app)
    try:
        store.replace(LAYER, [])
        for n, point in enumerate([[11.50, 50.90], [11.60, 50.92], [11.70, 50.95]]):
            store.edit(LAYER, create(f"test-kam-{n}", coordinates=point, publication="published"), "Test")
        version = store.state(LAYER).version
    finally:
        store.close()
    execute(fresh_store, f"DELETE FROM {table(fresh_store, LAYER)} WHERE id = 'test-kam-2'")
    reopened = create_app(fresh_store.settings())
    try:
        state = full(reopened).state(LAYER)
        assert state.count == 2 and state.published_count == 2
        assert state.published_extent == pytest.approx((11.50, 50.90, 11.60, 50.92), abs=1e-4)
        assert state.version > version
        public = reopened.extensions["mapservice"].public_store
        assert public.query(LAYER, Query(limit=10)).number_matched == 2
    finally:
        full(reopened).close()


def test_a_start_while_a_write_is_in_flight_counts_that_write(fresh_store: StoreConfig) -> None:
    """Another instance starting while this one writes: its recount (rows were removed
    outside) must wait for the write and include it, not store an older count over it."""
    import threading
    import time

    app = create_app(fresh_store.settings())
    store = full(app)
    try:
        store.replace(LAYER, [])
        for n in range(3):
            store.edit(LAYER, create(f"test-kam-{n}", publication="published"), "Test")
        execute(fresh_store, f"DELETE FROM {table(fresh_store, LAYER)} WHERE id = 'test-kam-2'")
        logged = store._log

        def slow_log(*args: Any, **kwargs: Any) -> None:
            logged(*args, **kwargs)
            time.sleep(1.0)  # still inside the write's transaction

        store._log = slow_log  # type: ignore[method-assign]
        writer = threading.Thread(
            target=lambda: store.edit(LAYER, create("test-kam-9", publication="published"), "Test")
        )
        writer.start()
        time.sleep(0.3)
        other = create_app(fresh_store.settings())  # its start counts the layer again
        writer.join()
        store._log = logged  # type: ignore[method-assign]
        full(other).close()
        store.edit(LAYER, create("test-kam-10", publication="published"), "Test")
        state = store.state(LAYER)
        assert state.count == state.published_count == 4
        assert store.query(LAYER, Query(limit=10)).number_matched == 4
    finally:
        store.close()


def test_the_kept_counts_and_extents_equal_a_count_after_any_edits(fresh_store: StoreConfig) -> None:
    """Writes of one feature update the layer's count and extent, and those of its published
    part, from its before and after (a pass over the layer only when a feature on the edge of
    an extent moves or goes): after each of a random run of creates, replaces, publications
    and deletes they equal a count over the layer."""
    import random

    from mapservice.catalog.layers import PUBLICATION_FIELD, PUBLISHED
    from mapservice.store.base import Filter

    rng = random.Random(16)
    app = create_app(fresh_store.settings())
    store = full(app)
    try:
        store.replace(LAYER, [])
        present: set[str] = set()
        for step in range(60):
            fid = f"test-kam-{rng.randrange(8)}"
            if fid in present and rng.random() < 0.3:
                store.edit(LAYER, Edit("delete", fid), "Test")
                present.discard(fid)
            else:
                point = [round(11.5 + rng.random() * 0.2, 6), round(50.9 + rng.random() * 0.1, 6)]
                publication = rng.choice(["published", "published", "draft"])
                action = "replace" if fid in present else "create"
                store.edit(LAYER, create(fid, action, coordinates=point, publication=publication), "Test")
                present.add(fid)
            kept = store.state(LAYER)
            count, extent = store.count_and_extent(LAYER, [Filter(PUBLICATION_FIELD, PUBLISHED)])
            assert kept.published_count == count, step
            if extent is None:
                assert kept.published_extent is None, step
            else:
                assert kept.published_extent == pytest.approx(extent, abs=1e-5), step
            count, extent = store.count_and_extent(LAYER)
            assert kept.count == count == len(present), step
            if extent is None:
                assert kept.extent is None, step
            else:
                assert kept.extent == pytest.approx(extent, abs=1e-5), step
    finally:
        store.close()


def _next(page: dict[str, Any]) -> str | None:
    for link in page["links"]:
        if link["rel"] == "next":
            href: str = link["href"]
            return href.split("localhost", 1)[1]
    return None


def test_next_links_carry_a_cursor_that_gives_the_offset_pages(app: Flask) -> None:
    client = app.test_client()
    for query in (
        "limit=100",
        "limit=50&sortby=-name",
        "limit=40&bbox=10.5,50.5,12.5,51.2",
        "limit=30&land_code=16",
    ):
        url: str | None = f"/api/collections/municipalities/items?{query}"
        followed: list[str] = []
        offset = 0
        while url is not None:
            page = client.get(url).get_json()
            ids = [f["id"] for f in page["features"]]
            limit = int(query.split("&")[0].removeprefix("limit="))
            by_offset = client.get(
                f"/api/collections/municipalities/items?{query}&offset={offset}"
            ).get_json()
            assert ids == [f["id"] for f in by_offset["features"]], (query, offset)
            assert page["numberMatched"] == by_offset["numberMatched"]
            followed += ids
            offset += limit
            url = _next(page)
            if url is not None and "sortby" not in query:
                assert "after=" in url  # the default order and filters: a cursor
        assert len(followed) == len(set(followed)) == page["numberMatched"], query
    # A cursor is only taken for the version, offset and query it was made for.
    first = client.get("/api/collections/municipalities/items?limit=10").get_json()
    cursor = _next(first)
    assert cursor is not None
    elsewhere = cursor.replace("offset=10", "offset=20")
    assert [f["id"] for f in client.get(elsewhere).get_json()["features"]] == [
        f["id"]
        for f in client.get("/api/collections/municipalities/items?limit=10&offset=20").get_json()["features"]
    ]
    other_query = cursor + "&land_code=14"
    expected = client.get("/api/collections/municipalities/items?limit=10&offset=10&land_code=14").get_json()
    assert [f["id"] for f in client.get(other_query).get_json()["features"]] == [
        f["id"] for f in expected["features"]
    ]
    bad = client.get("/api/collections/municipalities/items?limit=10&offset=10&after=1;DROP TABLE x")
    assert bad.status_code == 400 and "after" in bad.get_json()["description"]


def test_a_cursor_page_starts_after_its_row_instead_of_counting_the_offset(
    app: Flask, shared_store: StoreConfig
) -> None:
    store = full(app)
    page = store.query_encoded("municipalities", Query(limit=100, offset=0))
    assert page.next_after is not None
    statements: list[str] = []
    if not shared_store.store:
        conn = store._conn()
        conn.set_trace_callback(statements.append)
    try:
        following = store.query_encoded("municipalities", Query(limit=100, offset=100, after=page.next_after))
    finally:
        if not shared_store.store:
            store._conn().set_trace_callback(None)
    assert following.features == store.query_encoded("municipalities", Query(limit=100, offset=100)).features
    if not shared_store.store:
        select = next(s for s in statements if "ORDER BY" in s)
        assert "OFFSET 0" in select and ") > (" in select
