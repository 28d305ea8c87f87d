"""The change history stays small and can be pruned (issue 15, point 6), on both stores.

A re-import logs only real changes, each as a diff against the feature's previous entry; every
entry still reads whole through ``history``, ``changes_since`` and the /history API; ``mapservice
history prune`` removes old entries, never a feature, and leaves every remaining entry whole;
a store from before the compact form keeps its old entries readable. The cameras are invented
test data (a few hundred, generated here).
"""

from __future__ import annotations

import datetime as dt
import itertools
import shutil
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
import shapely
from click.testing import CliRunner, Result
from flask import Flask
from pg import Cluster

from conftest import StoreConfig
from mapservice import create_app
from mapservice.cli import main
from mapservice.store.base import Edit, HistoryEntry, Store, feature_doc

LAYER = "video-surveillance"
HEADER = (
    "id;name;city;surveillance;surveillance_type;camera_type;direction;range_m;operator;status;"
    "publication;source;verified_on;lon;lat"
)


def cli(store: StoreConfig, *args: str | Path) -> Result:
    return CliRunner().invoke(main, [str(a) for a in args], env=store.env, catch_exceptions=False)


def imported(store: StoreConfig, csv: Path) -> None:
    result = cli(store, "import", LAYER, csv, "--by", "Test (erfunden)")
    assert result.exit_code == 0, result.output


def register(path: Path, ranges: list[int]) -> None:
    """Invented cameras around Jena, one per range; the range is the column a re-import changes."""
    rows = [
        f"test-kam-{i:04d};Testkamera {i} (erfunden);Jena;public;camera;fixed;{i % 360};{r},5;"
        f"Testbetreiber (erfunden);active;published;Testdaten (erfunden);2026-01-15;"
        f"{11.56 + i * 1e-4:.6f};{50.90 + (i % 7) * 1e-3:.6f}"
        for i, r in enumerate(ranges)
    ]
    path.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")


def raw(store: StoreConfig, where: str = "1 = 1") -> list[tuple[Any, ...]]:
    """(seq, feature_id, action, before text, after text) of the stored change-log rows."""
    table = "mapservice.history" if store.store else "mapservice_history"
    sql = (
        "SELECT seq, feature_id, action, CAST(before AS TEXT), CAST(after AS TEXT) "
        f"FROM {table} WHERE {where} ORDER BY seq"
    )
    if store.store:
        return store._postgis(sql)
    with closing(sqlite3.connect(store.instance / "mapservice.gpkg")) as conn:
        return conn.execute(sql).fetchall()


def execute(store: StoreConfig, sql: str) -> None:
    if store.store:
        import psycopg

        with psycopg.connect(store.store, autocommit=True) as conn:
            conn.execute(sql)  # type: ignore[arg-type]
        return
    from mapservice.store.geopackage import _connect

    # The store's own connection: the R-tree triggers call its SQL functions.
    with closing(_connect(store.instance / "mapservice.gpkg")) as conn:
        conn.execute(sql)


@pytest.fixture(scope="module")
def filled(new_store: Callable[[Path], StoreConfig], tmp_path_factory: pytest.TempPathFactory) -> StoreConfig:
    """A store with the shipped data, built once per backend: each test starts from a copy."""
    store = new_store(tmp_path_factory.mktemp("history-filled") / "instance")
    full(create_app(store.settings())).close()
    return store


_copies = itertools.count()


@pytest.fixture
def fresh_store(
    filled: StoreConfig, backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[StoreConfig]:
    """A new store of the current backend with the shipped data (a copy of ``filled``)."""
    instance = tmp_path / "instance"
    instance.mkdir()
    if backend == "gpkg":
        shutil.copyfile(filled.instance / "mapservice.gpkg", instance / "mapservice.gpkg")
        yield StoreConfig(instance)
        return
    cluster: Cluster = request.getfixturevalue("postgis_cluster")
    name = f"history_copy_{next(_copies)}"
    cluster.admin(f"CREATE DATABASE {name} TEMPLATE {filled.store.rsplit('/', 1)[1]}")
    yield StoreConfig(instance, cluster.url(name))
    cluster.drop_database(cluster.url(name))


@pytest.fixture
def app(fresh_store: StoreConfig) -> Iterator[Flask]:
    app = create_app(fresh_store.settings())
    yield app
    app.extensions["mapservice"].store.close()


def full(app: Flask) -> Store:
    store: Store = app.extensions["mapservice"].store
    return store


def cameras(n: int, **props: Any) -> list[tuple[dict[str, Any], shapely.Geometry]]:
    return [
        (
            {
                "id": f"test-kam-{i:04d}",
                "name": f"Testkamera {i} (erfunden)",
                "city": "Jena",
                "range_m": 20.5,
                **props,
            },
            shapely.Point(11.56 + i * 1e-4, 50.9),
        )
        for i in range(n)
    ]


def edit(store: Store, fid: str, geometry: shapely.Geometry | None = None, **props: Any) -> None:
    now = store.get(LAYER, fid)
    assert now is not None
    geom = shapely.from_geojson(now.geometry) if geometry is None and now.geometry else geometry
    store.edit(LAYER, Edit("replace", fid, {**now.properties, **props}, geom), actor="Test (erfunden)")


def tick() -> dt.datetime:
    """A time strictly between the entries written before and after it (they have ms)."""
    start = dt.datetime.now(dt.UTC)
    while dt.datetime.now(dt.UTC) - start < dt.timedelta(milliseconds=3):
        pass
    cut = dt.datetime.now(dt.UTC)
    while dt.datetime.now(dt.UTC) - cut < dt.timedelta(milliseconds=3):
        pass
    return cut


def test_a_reimport_logs_only_the_changed_rows_and_each_as_a_small_diff(
    fresh_store: StoreConfig, tmp_path: Path
) -> None:
    csv = tmp_path / "kameras.csv"
    ranges = [10 + i % 60 for i in range(300)]
    register(csv, ranges)
    imported(fresh_store, csv)
    created = raw(fresh_store)
    assert len(created) == 300 and {r[2] for r in created} == {"create"}
    # The same file again: nothing changed, nothing logged.
    imported(fresh_store, csv)
    assert len(raw(fresh_store)) == 300
    app = create_app(fresh_store.settings())
    try:
        store = full(app)
        was = store.get(LAYER, "test-kam-0007")
        assert was is not None
        for i in (7, 50, 51, 120, 200, 299):  # 2 % of the rows get another range
            ranges[i] += 1
        register(csv, ranges)
        imported(fresh_store, csv)
        logged = raw(fresh_store, f"seq > {created[-1][0]}")
        assert [r[1] for r in logged] == [f"test-kam-{i:04d}" for i in (7, 50, 51, 120, 200, 299)]
        whole = len(next(r for r in created if r[1] == "test-kam-0007")[4])
        for _, _, action, before, after in logged:
            # The before is the create's after (not stored again); the after only says range_m.
            assert action == "update" and before is None
            assert '"range_m"' in after and '"name"' not in after and '"geometry"' not in after
            assert len(after) * 5 < whole
        # Read back whole, exactly as the features were.
        now = store.get(LAYER, "test-kam-0007")
        entries = store.history(LAYER, "test-kam-0007")
        assert [e.action for e in entries] == ["create", "update"]
        assert entries[0].after == feature_doc(was) == entries[1].before
        assert entries[1].after == feature_doc(now)
        assert entries[1].after is not None and entries[1].after["properties"]["range_m"] == 18.5
    finally:
        full(app).close()


def test_diff_entries_read_back_whole_everywhere(app: Flask, fresh_store: StoreConfig) -> None:
    store = full(app)
    store.replace(LAYER, cameras(40), actor="Import (Test)")
    fid = "test-kam-0003"
    expected: list[tuple[dict[str, Any] | None, dict[str, Any] | None]] = []
    after_create = feature_doc(store.get(LAYER, fid))
    cut = None
    for n in range(20):  # more than one keyframe's worth of entries
        before = feature_doc(store.get(LAYER, fid))
        if n == 5:
            edit(store, fid, shapely.Point(11.6, 50.95))  # the geometry only
        elif n == 17:
            # A change made outside the service (QGIS): the next entry must not hide it.
            table = "mapservice.video_surveillance" if fresh_store.store else "video_surveillance"
            execute(fresh_store, f"UPDATE {table} SET operator = 'in QGIS geändert' WHERE id = '{fid}'")
            before = feature_doc(store.get(LAYER, fid))
            edit(store, fid, name=f"Testkamera umbenannt {n}")
        else:
            edit(store, fid, range_m=21.5 + n, status="active" if n % 2 else "planned")
        expected.append((before, feature_doc(store.get(LAYER, fid))))
        if n == 12:
            cut = tick()
    entries = store.history(LAYER, fid)
    assert entries[0].action == "create" and entries[0].after == after_create
    assert [(e.before, e.after) for e in entries[1:]] == expected
    assert (
        entries[18].before is not None and entries[18].before["properties"]["operator"] == "in QGIS geändert"
    )
    # Since a time in the middle: the first listed entry is rebuilt from rows before it.
    assert cut is not None
    since = store.changes_since(LAYER, cut)
    assert [(e.seq, e.before, e.after) for e in since] == [(e.seq, e.before, e.after) for e in entries[14:]]
    # Stored: all diffs; a whole before only at the keyframe and after the outside change.
    rows = raw(fresh_store, f"feature_id = '{fid}' AND action = 'update'")
    assert [n for n, r in enumerate(rows) if r[3] is not None] == [15, 17]
    assert all(r[4].startswith('{"diff"') for r in rows)


def test_prune_before_a_date_keeps_the_features_and_the_later_entries(
    app: Flask, fresh_store: StoreConfig
) -> None:
    store = full(app)
    store.replace(LAYER, cameras(200), actor="Import (Test)")
    edit(store, "test-kam-0001", range_m=30.5)
    edit(store, "test-kam-0002", range_m=31.5)
    cut = tick()
    edit(store, "test-kam-0001", range_m=40.5)  # its before is the entry the prune removes
    store.edit(LAYER, Edit("delete", "test-kam-0002"), actor="Test (erfunden)")
    features = store.all_features(LAYER)
    later = store.changes_since(LAYER, cut)
    assert len(later) == 2
    token = cli(
        fresh_store, "token", "create", "--name", "Test (erfunden)", "--collection", LAYER
    ).stdout.strip()
    client = app.test_client()
    url = f"/api/collections/{LAYER}/items/test-kam-0001/history"
    old_doc = client.get(url, headers={"Authorization": f"Bearer {token}"}).get_json()

    result = cli(fresh_store, "history", "prune", "--before", cut.isoformat())
    assert result.exit_code == 0, result.output
    assert "removed 202 of 204 entries" in result.output and "No feature was changed" in result.output
    if not fresh_store.store:
        assert "VACUUM: shrank from" in result.output
    assert store.all_features(LAYER) == features  # the current state is untouched
    assert store.changes_since(LAYER, dt.datetime(2000, 1, 1, tzinfo=dt.UTC)) == later
    doc = client.get(url, headers={"Authorization": f"Bearer {token}"}).get_json()
    assert doc["numberOfChanges"] == 1 and doc["changes"] == old_doc["changes"][-1:]
    assert doc["changes"][0]["before"]["properties"]["range_m"] == 30.5
    assert doc["changes"][0]["changed"] == ["range_m"]
    deleted = store.history(LAYER, "test-kam-0002")
    assert [e.action for e in deleted] == ["delete"] and deleted[0].before is not None
    assert store.history(LAYER, "test-kam-0150") == []  # only its create was older
    # A bad date is a usage error naming it; nothing is removed.
    bad = cli(fresh_store, "history", "prune", "--before", "letzte Woche")
    assert bad.exit_code == 1 and "'letzte Woche' is not a date" in bad.output
    assert len(raw(fresh_store)) == 2


def test_prune_keep_never_removes_a_feature(app: Flask, fresh_store: StoreConfig) -> None:
    store = full(app)
    store.replace(LAYER, cameras(100), actor="Import (Test)")
    for n in range(3):
        store.replace(LAYER, cameras(100, range_m=25.5 + n), actor="Import (Test)")
    features = store.all_features(LAYER)
    last: dict[str, HistoryEntry] = {f.id: store.history(LAYER, f.id)[-1] for f in features[:5]}
    result = cli(fresh_store, "history", "prune", "--keep", "1", "--no-vacuum")
    assert result.exit_code == 0, result.output
    assert (
        "removed 300 of 400 entries" in result.output
        and "100 of them now hold their whole before" in result.output
    )
    assert store.all_features(LAYER) == features
    for fid, entry in last.items():
        assert store.history(LAYER, fid) == [entry]
    assert cli(fresh_store, "history", "prune", "--keep", "0").exit_code == 0
    assert raw(fresh_store) == [] and store.all_features(LAYER) == features
    # The next change logs whole again (there is no entry left to refer to).
    edit(store, "test-kam-0004", range_m=99.5)
    entry = store.history(LAYER, "test-kam-0004")[0]
    assert entry.before == feature_doc(features[4]) and entry.after is not None
    assert entry.after["properties"]["range_m"] == 99.5


def test_a_store_from_before_the_compact_form_reads_its_old_entries(fresh_store: StoreConfig) -> None:
    first = create_app(fresh_store.settings())
    store = full(first)
    store.replace(LAYER, cameras(30), actor="Import (Test)")
    edit(store, "test-kam-0001", range_m=33.5)
    store.close()
    # Back to the old schema: whole before and after in every row, no rev/depth columns.
    table = "mapservice.history" if fresh_store.store else "mapservice_history"
    rows = raw(fresh_store)
    execute(fresh_store, f"DELETE FROM {table}")
    execute(fresh_store, f"ALTER TABLE {table} DROP COLUMN rev")
    execute(fresh_store, f"ALTER TABLE {table} DROP COLUMN depth")
    if fresh_store.store:
        execute(fresh_store, "DELETE FROM mapservice.schema_migrations WHERE version = 4")
    expected = {}
    for seq, fid, action, _, after in rows:
        doc_after = store_doc(after, expected.get(fid))
        old_before = "NULL" if action == "create" else sql_text(expected[fid])
        execute(
            fresh_store,
            f"INSERT INTO {table} (at, layer, feature_id, action, actor, via, before, after) VALUES "
            f"('2026-01-{1 + seq // 10:02d}T00:00:00.000+00:00', '{LAYER}', '{fid}', '{action}', "
            "'Alt (Test)', 'import', "
            f"{old_before}, {sql_text(doc_after)})",
        )
        expected[fid] = doc_after
    app = create_app(fresh_store.settings())  # the upgrade adds the columns
    try:
        store = full(app)
        entries = store.history(LAYER, "test-kam-0001")
        assert [e.action for e in entries] == ["create", "update"]
        assert entries[1].after is not None and entries[1].after["properties"]["range_m"] == 33.5
        edit(store, "test-kam-0001", range_m=44.5)
        entries = store.history(LAYER, "test-kam-0001")
        assert entries[2].before == entries[1].after
        assert entries[2].after is not None and entries[2].after["properties"]["range_m"] == 44.5
        assert cli(fresh_store, "history", "prune", "--before", "2026-01-03").exit_code == 0
        assert store.history(LAYER, "test-kam-0001")[-1] == entries[2]
    finally:
        full(app).close()


def store_doc(text: str, before: dict[str, Any] | None) -> dict[str, Any]:
    import json

    from mapservice.store import history

    doc: dict[str, Any] = json.loads(text)
    if history.is_diff(doc):
        assert before is not None
        return history.apply(before, doc["diff"])
    return doc


def sql_text(doc: dict[str, Any] | None) -> str:
    import json

    return "NULL" if doc is None else "'" + json.dumps(doc, ensure_ascii=False).replace("'", "''") + "'"
