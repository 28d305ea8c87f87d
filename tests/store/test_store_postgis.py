"""PostGIS-specific store behaviour: migrations, concurrent first starts, transactions, parity."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from flask import Flask
from pg import Cluster
from shapely.geometry import Point, Polygon

from conftest import REPO, StoreConfig, start_server, stop_server
from mapservice import create_app
from mapservice.config import Settings
from mapservice.store.base import Filter, Query, SortKey, StoreError
from mapservice.store.open import open_store
from mapservice.store.postgis import MIGRATIONS, PostGISStore


@pytest.fixture
def pg_app(shared_postgis: StoreConfig) -> Iterator[Flask]:
    """App on the PostGIS database that the postgis runs of the read-only tests share."""
    app = create_app(shared_postgis.settings())
    yield app
    app.extensions["mapservice"].store.close()


def _rows(url: str, statement: str) -> list[tuple[Any, ...]]:
    with psycopg.connect(url) as conn:
        return conn.execute(statement).fetchall()  # type: ignore[arg-type]


def test_migrations_are_recorded_once_and_reopening_changes_nothing(
    postgis_cluster: Cluster, tmp_path: Path
) -> None:
    url = postgis_cluster.new_database()
    first = create_app({"store": url, "instance_path": str(tmp_path)})
    states = {
        lid: first.extensions["mapservice"].store.state(lid)
        for lid in first.extensions["mapservice"].catalog.ids()
    }
    again = create_app({"store": url, "instance_path": str(tmp_path)})
    store: PostGISStore = again.extensions["mapservice"].store
    assert {lid: store.state(lid) for lid in states} == states  # no reload, no version bump
    assert _rows(url, "SELECT version FROM mapservice.schema_migrations ORDER BY version") == [
        (number,) for number, _, _ in MIGRATIONS
    ]
    with psycopg.connect(url, autocommit=True) as conn, conn.transaction():
        assert PostGISStore._migrate(conn) == []
    indexes = {
        row[0] for row in _rows(url, "SELECT indexname FROM pg_indexes WHERE schemaname = 'mapservice'")
    }
    assert "municipalities_geom_gist" in indexes
    for app in (first, again):
        app.extensions["mapservice"].store.close()


def test_concurrent_first_starts_create_one_schema_and_load_once(
    postgis_cluster: Cluster, tmp_path: Path
) -> None:
    url = postgis_cluster.new_database()
    # Three processes and three threads open the same empty database at the same moment.
    # The processes import everything, say they are ready, and start when the file "go" appears.
    script = (
        "import os, pathlib, sys, time; from mapservice import create_app; "
        "d = pathlib.Path(sys.argv[2]); d.mkdir(); (d / 'ready').touch()\n"
        "while not (d.parent / 'go').exists(): time.sleep(0.005)\n"
        "app = create_app({'store': sys.argv[1], 'instance_path': sys.argv[2]}); "
        "print(app.extensions['mapservice'].store.state('municipalities').count)"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", script, url, str(tmp_path / f"p{i}")],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(3)
    ]
    deadline = time.monotonic() + 60
    while not all((tmp_path / f"p{i}" / "ready").exists() for i in range(3)):
        assert time.monotonic() < deadline and all(p.poll() is None for p in processes)
        time.sleep(0.01)
    catalog = create_app_catalog()
    barrier = threading.Barrier(4)
    results: list[Any] = []

    def start(i: int) -> None:
        barrier.wait()
        try:
            store = open_store(Settings(store=url), catalog, tmp_path / f"t{i}")
            results.append(store.state("municipalities").count)
            store.close()
        except Exception as exc:  # reported below
            results.append(exc)

    threads = [threading.Thread(target=start, args=(i,)) for i in range(3)]
    for thread in threads:
        thread.start()
    (tmp_path / "go").touch()
    barrier.wait()
    for thread in threads:
        thread.join(120)
    outputs = [p.communicate(timeout=120) for p in processes]
    assert [p.returncode for p in processes] == [0, 0, 0], [err[-2000:] for _, err in outputs]
    assert [out.strip() for out, _ in outputs] == ["1275"] * 3
    assert results == [1275] * 3
    # Loaded once: every layer is at version 1, and the migrations were applied once.
    versions = _rows(url, "SELECT layer, version FROM mapservice.layer_state ORDER BY layer")
    assert versions and all(version == 1 for _, version in versions)
    assert _rows(url, "SELECT count(*) FROM mapservice.schema_migrations") == [(len(MIGRATIONS),)]
    assert _rows(url, "SELECT count(*) FROM mapservice.municipalities") == [(1275,)]


def create_app_catalog() -> Any:
    from mapservice.catalog.layers import load_catalog

    return load_catalog(REPO / "layers")


BODY = {
    "name": "Runder Tisch",
    "type": "runder_tisch",
    "status": "active",
    "level": "stadtteil",
    "source": "test",
    "verified_on": "2026-11-01",
}


@pytest.mark.parametrize("bad", ["invalid geometry", "duplicate id", "missing id"])
def test_replace_is_all_or_nothing(postgis_cluster: Cluster, tmp_path: Path, bad: str) -> None:
    app = create_app({"store": postgis_cluster.new_database(), "instance_path": str(tmp_path)})
    store: PostGISStore = app.extensions["mapservice"].store
    before = store.state("prevention-bodies")
    old = store.query("prevention-bodies", Query(limit=1000)).features
    good = [({**BODY, "id": f"ok-{i}"}, Point(11.5 + i / 100, 50.9)) for i in range(50)]
    broken = {
        "invalid geometry": ({**BODY, "id": "bowtie"}, Polygon([(0, 0), (1, 1), (1, 0), (0, 1), (0, 0)])),
        "duplicate id": ({**BODY, "id": "ok-3"}, None),
        "missing id": ({**BODY, "id": None}, Point(11.5, 50.9)),
    }[bad]
    with pytest.raises(StoreError, match="nothing was changed"):
        store.replace("prevention-bodies", [*good[:25], broken, *good[25:]])
    assert store.query("prevention-bodies", Query(limit=1000)).features == old
    assert store.state("prevention-bodies") == before
    # The connection is usable afterwards, and a good write lands whole.
    after = store.replace("prevention-bodies", good)
    assert after.version == before.version + 1 and after.count == 50
    store.close()


def test_app_runs_end_to_end_on_postgis(pg_app: Flask, gpkg_app: Flask) -> None:
    pg_client, gpkg_client = pg_app.test_client(), gpkg_app.test_client()
    response = pg_client.get("/api/collections/districts/items?limit=5")
    assert response.status_code == 200, response.data[:500]
    expected = gpkg_client.get("/api/collections/districts/items?limit=5").get_json()
    assert [f["id"] for f in response.get_json()["features"]] == [f["id"] for f in expected["features"]]
    for url in (
        "/api/collections/districts/items?limit=5",
        "/api/collections/municipalities/items?sortby=-name&limit=20&offset=7",
        "/api/collections/municipalities/items?bbox=11.5,50.85,11.7,50.98&limit=50",
        "/api/collections/contact-offices/items?serves_districts=jena-winzerla",
        "/api/collections/contact-offices/items/kobb-jena-lobeda",
    ):
        ours, theirs = pg_client.get(url), gpkg_client.get(url)
        assert ours.status_code == theirs.status_code == 200, url
        a, b = ours.get_json(), theirs.get_json()
        for doc in (a, b):
            doc.pop("timeStamp", None)
        assert a == b, url
        # Same bytes for the features, object keys in the same order.
        assert ours.data.split(b'"features"')[-1][:5000] == theirs.data.split(b'"features"')[-1][:5000], url


def _parity_queries(layer: Any, sample: dict[str, Any] | None) -> Iterator[Query]:
    yield Query(limit=10000)
    yield Query(limit=7, offset=3)
    yield Query(bbox=(11.5, 50.85, 11.7, 50.98), limit=10000)
    yield Query(bbox=(12.3, 50.6, 12.6, 50.8), sortby=(SortKey("id", False),), limit=10000)
    yield Query(interval=("2024-01-01", None), limit=10000)
    for name, fdef in layer.fields.items():
        if fdef.sortable:
            yield Query(sortby=(SortKey(name),), limit=10000)
            yield Query(sortby=(SortKey(name, False), SortKey("id")), limit=25, offset=10)
        if sample is not None and fdef.filterable and sample.get(name) is not None:
            value = sample[name]
            if fdef.is_string_list:
                if value:
                    yield Query(filters=(Filter(name, value[0], contains=True),), limit=10000)
            else:
                yield Query(filters=(Filter(name, value),), limit=10000)


def test_every_query_gives_the_same_result_as_the_geopackage(pg_app: Flask, gpkg_app: Flask) -> None:
    pg_store = pg_app.extensions["mapservice"].store
    gpkg_store = gpkg_app.extensions["mapservice"].store
    compared = 0
    for layer in gpkg_app.extensions["mapservice"].catalog:
        first = gpkg_store.query(layer.id, Query(limit=1)).features
        for query in _parity_queries(layer, first[0].properties if first else None):
            assert pg_store.query(layer.id, query) == gpkg_store.query(layer.id, query), (layer.id, query)
            compared += 1
        assert pg_store.state(layer.id).count == gpkg_store.state(layer.id).count
    assert compared > 100


def test_connections_are_per_thread_and_never_cross_a_fork(pg_app: Flask) -> None:
    store: PostGISStore = pg_app.extensions["mapservice"].store
    main = store._conn()
    assert store.query("districts", Query(limit=1)).number_matched == 132
    other: list[Any] = []
    thread = threading.Thread(target=lambda: other.append(store._conn()))
    thread.start()
    thread.join()
    assert other[0] is not main
    pid = os.fork()
    if pid == 0:  # the child: a connection of its own, the parent's is left alone
        try:
            ok = store._conn() is not main and store.query("districts", Query(limit=1)).number_matched == 132
            store.close()
        except BaseException:
            ok = False
        os._exit(0 if ok else 1)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    # The parent's connection survived the child's new connection and its close.
    assert store._conn() is main
    assert store.query("districts", Query(limit=1)).number_matched == 132
    other[0].close()


@pytest.mark.e2e
def test_gunicorn_workers_serve_from_postgis(postgis_cluster: Cluster, tmp_path: Path) -> None:
    """preload_app: the master opens the store, then forks; each worker connects on its own."""
    import requests

    url = postgis_cluster.new_database()
    server, log = start_server(tmp_path, {"MAPSERVICE_STORE": url}, workers=2)
    try:
        for _ in range(20):  # spread over both workers
            response = requests.get(f"{server.url}/api/collections/districts/items?limit=5", timeout=10)
            assert response.status_code == 200
            assert len(response.json()["features"]) == 5
    finally:
        stop_server(server, log)
    assert not list(tmp_path.glob("*.gpkg"))  # nothing was written to the instance folder
    # The workers' connections ended with them (the server may take a moment to notice).
    deadline = time.monotonic() + 10
    while _rows(
        url,
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
        " AND application_name = 'mapservice'",
    ) != [(0,)]:
        assert time.monotonic() < deadline, "sessions left open after the server stopped"
        time.sleep(0.1)


def _compression(url: str, table: str) -> dict[str | None, int]:
    """How many stored feature texts of a table each compression method holds (None: none)."""
    rows = _rows(
        url,
        f"SELECT pg_column_compression(mapservice_feature), count(*) FROM mapservice.{table} GROUP BY 1",
    )
    return {method: count for method, count in rows}


def test_large_feature_texts_are_kept_with_lz4_and_an_older_store_is_rewritten_unchanged(
    postgis_cluster: Cluster, tmp_path: Path
) -> None:
    """A municipality's GeoJSON (several kB) is compressed by PostgreSQL; pglz, its default,
    took 12 of the 29 ms of a page of all 1,275 (issue 16). Values are kept with lz4, and a
    store from before is rewritten on its next start, without a new version or changed text."""
    url = postgis_cluster.new_database()
    settings = {"store": url, "instance_path": str(tmp_path)}
    first = create_app(settings)
    store: PostGISStore = first.extensions["mapservice"].store
    methods = dict(
        _rows(
            url,
            "SELECT attrelid::regclass::text, attcompression FROM pg_attribute "
            "WHERE attname = 'mapservice_feature' AND NOT attisdropped",
        )
    )
    assert methods and set(methods.values()) == {"l"}, methods
    assert _compression(url, "municipalities").get("lz4", 0) > 1000
    assert "pglz" not in _compression(url, "municipalities")
    page = store.query_encoded("municipalities", Query(limit=10_000))
    states = {lid: store.state(lid) for lid in first.extensions["mapservice"].catalog.ids()}
    store.close()

    # A store of a version before: its texts compressed with pglz.
    with psycopg.connect(url, autocommit=True) as conn:
        for table in ("municipalities", "districts"):
            conn.execute(
                f"ALTER TABLE mapservice.{table} ALTER COLUMN mapservice_feature SET COMPRESSION pglz"
            )  # type: ignore[arg-type]
            conn.execute(f"UPDATE mapservice.{table} SET mapservice_feature = mapservice_feature || ''")  # type: ignore[arg-type]
    assert _compression(url, "municipalities").get("pglz", 0) > 1000

    again = create_app(settings)
    store = again.extensions["mapservice"].store
    assert "pglz" not in _compression(url, "municipalities")
    assert "pglz" not in _compression(url, "districts")
    assert _compression(url, "municipalities").get("lz4", 0) > 1000
    assert {lid: store.state(lid) for lid in states} == states  # same versions: caches stay valid
    assert store.query_encoded("municipalities", Query(limit=10_000)) == page
    # The rewrite was not taken for a change made outside the service (that clears the text).
    assert _rows(url, "SELECT count(*) FROM mapservice.municipalities WHERE mapservice_rev IS NULL") == [(0,)]
    store.close()


def test_feature_texts_arrive_as_utf8_from_a_win1252_database(
    postgis_cluster: Cluster, gpkg_app: Flask, tmp_path: Path
) -> None:
    """The page is joined from the stored texts' bytes as the server sends them: every
    connection asks for UTF-8, whatever the database's encoding."""
    name = f"win1252_{os.getpid()}"
    postgis_cluster.admin(
        f"CREATE DATABASE {name} TEMPLATE template0 ENCODING 'WIN1252' LC_COLLATE 'C' LC_CTYPE 'C'"
    )
    url = postgis_cluster.url(name)
    try:
        app = create_app({"store": url, "instance_path": str(tmp_path)})
        store = app.extensions["mapservice"].store
        query = Query(filters=(Filter("land", "Thüringen"),), limit=10_000)
        page = store.query_encoded("municipalities", query)
        assert any("ü".encode() in text for text in page.features)  # UTF-8, not WIN1252's b"\xfc"
        assert page == gpkg_app.extensions["mapservice"].store.query_encoded("municipalities", query)
        store.close()
    finally:
        postgis_cluster.drop_database(url)


def test_a_page_whose_statement_fails_leaves_the_connection_ready_for_the_next(
    pg_app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A page's snapshot is read in pipeline mode, where a failed statement makes the server
    skip what follows: the transaction must still end, or every later read on that thread's
    connection would fail with 'current transaction is aborted'."""
    store: PostGISStore = pg_app.extensions["mapservice"].store
    jena = Query(bbox=(11.45, 50.85, 11.70, 51.0), limit=1000)
    before = store.query_encoded("municipalities", jena)
    monkeypatch.setattr(
        store, "_page_sql", lambda *_: "SELECT 1 / 0, 1 FROM mapservice.municipalities t LIMIT %s OFFSET %s"
    )
    with pytest.raises(StoreError, match="querying layer 'municipalities' failed: division by zero"):
        store.query_encoded("municipalities", Query(limit=5))
    monkeypatch.undo()
    conn = store._conn()
    assert conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
    after = store.query_encoded("municipalities", jena)
    assert after.features == before.features and after.number_matched == before.number_matched > 0
    assert after.version == before.version == store.state("municipalities").version
