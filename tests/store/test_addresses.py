"""Address points in the store, on both backends: import, replace all or nothing, remove,
and the version every worker sees. The files are invented test data (tests/gazetteer_files.py)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pyogrio
import pytest
from gazetteer_files import write_hauskoordinaten, write_osm

from conftest import StoreConfig
from mapservice import create_app
from mapservice.finder.geocode.importer import import_file
from mapservice.finder.geocode.readers import GazetteerError


def test_import_replace_all_or_nothing_and_remove(
    fresh_store: StoreConfig, tmp_path: Path, backend: str
) -> None:
    app = create_app(fresh_store.settings())
    store = app.extensions["mapservice"].store
    try:
        assert store.address_sources() == [] and store.address_state().version == 0
        hk = write_hauskoordinaten(tmp_path / "hk.csv")
        source, _ = import_file(store, hk, source="hk-test")
        assert (source.name, source.format, source.row_count, source.licence) == (
            "hk-test",
            "hauskoordinaten",
            8,
            "dl-de/by-2-0",
        )
        first = store.address_state()
        assert first.version >= 1 and first.count == 8
        rows = store.addresses_on("amanger")
        assert sorted(r[1][1] for r in rows) == ["26", "28", "30"] and {r[0] for r in rows} == {"hk-test"}
        assert store.address_places("hauptmarkt") == ["zwickau"]
        assert store.addresses_on("hauptmarkt", ["jena"]) == []
        (listed,) = store.address_sources()
        assert (
            listed.places == (("Jena", 6), ("Zwickau", 2))
            and listed.attribution == "Hauskoordinaten Thüringen, Sachsen"
        )
        assert listed.bbox is not None and 11.5 < listed.bbox[0] < listed.bbox[2] < 12.6

        # A re-import with a bad row changes nothing: the old points and version stay.
        broken = tmp_path / "broken.csv"
        text = hk.read_text(encoding="utf-8-sig").replace("Holzmarkt", "", 1)
        broken.write_text(text + "N;X;A;16\n", encoding="utf-8")  # no street; a short line
        with pytest.raises(GazetteerError) as info:
            import_file(store, broken, source="hk-test")
        assert {(p.row, p.column) for p in info.value.problems} == {(5, "STN"), (10, None)}
        assert store.address_state() == first
        assert len(store.addresses_on("amanger")) == 3

        # A good re-import replaces every point of the source; another source adds to it.
        smaller = tmp_path / "smaller.csv"
        smaller.write_text(
            "\n".join(hk.read_text(encoding="utf-8-sig").splitlines()[:3]) + "\n", encoding="utf-8"
        )
        import_file(store, smaller, source="hk-test")
        assert len(store.addresses_on("amanger")) == 2 and store.addresses_on("hauptmarkt") == []
        import_file(store, write_osm(tmp_path / "jena.osm.pbf"), source="osm-test")
        assert {s.name: s.row_count for s in store.address_sources()} == {"hk-test": 2, "osm-test": 2}
        assert {r[0] for r in store.addresses_on("amanger")} == {"hk-test", "osm-test"}
        streets = {(s.key, s.place_key) for s in store.address_streets()}
        assert ("holzmarkt", "jena") in streets and ("amanger", "jena") in streets
        assert store.address_state().version > first.version

        assert store.remove_address_source("hk-test") is True
        assert store.remove_address_source("hk-test") is False
        assert [s.name for s in store.address_sources()] == ["osm-test"]
        assert {r[0] for r in store.addresses_on("amanger")} == {"osm-test"}
        assert store.address_state().count == 2
    finally:
        store.close()
    if backend == "gpkg":  # the points are a map layer to GDAL and QGIS
        path = str(fresh_store.instance / "mapservice.gpkg")
        layers = dict(pyogrio.list_layers(path))
        assert layers["mapservice_addresses"] == "Point" and layers["mapservice_address_sources"] is None
        frame = pyogrio.read_dataframe(path, layer="mapservice_addresses")
        assert len(frame) == 2 and frame.crs.to_epsg() == 4326
        assert frame.geometry.x.round(6).tolist() == frame["lon"].round(6).tolist()


def test_an_older_geopackage_gains_the_address_tables(shared_gpkg: StoreConfig, tmp_path: Path) -> None:
    """A file made before the address tables existed gets them on the next start."""
    create_app(shared_gpkg.settings()).extensions["mapservice"].store.close()  # make sure it exists
    old = tmp_path / "instance"
    old.mkdir()
    copy = old / "mapservice.gpkg"
    with sqlite3.connect(shared_gpkg.instance / "mapservice.gpkg") as source, sqlite3.connect(copy) as target:
        source.backup(target)
    with sqlite3.connect(copy) as conn:
        for table in ("mapservice_addresses", "mapservice_address_streets", "mapservice_address_sources"):
            conn.execute(f"DROP TABLE {table}")
            conn.execute("DELETE FROM gpkg_geometry_columns WHERE table_name = ?", (table,))
            conn.execute("DELETE FROM gpkg_contents WHERE table_name = ?", (table,))
    store = create_app({"instance_path": str(old), "store": ""}).extensions["mapservice"].store
    try:
        assert store.address_sources() == [] and store.address_state().count == 0
    finally:
        store.close()
