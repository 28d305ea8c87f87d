"""`mapservice import`: registers from CSV, GeoJSON, GeoPackage and zipped shapefiles."""

from __future__ import annotations

import json
import warnings
import zipfile
from pathlib import Path
from typing import Any

import geopandas as gpd
import pyogrio
import pytest
from click.testing import CliRunner, Result
from flask import Flask
from pyproj import Transformer
from shapely.geometry import Point

from conftest import StoreConfig
from mapservice import create_app
from mapservice.catalog.layers import FieldDef
from mapservice.cli import main
from mapservice.imports.convert import Invalid, from_text, from_value
from mapservice.store.base import Query
from mapservice.store.tokens import new_token

DATA = Path(__file__).parent.parent / "data" / "import"
CAMERAS = DATA / "cameras.csv"
CAMERAS_BAD = DATA / "cameras-bad.csv"
CAMERA_LAYER = "video-surveillance"
ITEMS = f"/api/collections/{CAMERA_LAYER}/items"


def run(store: StoreConfig, *args: str | Path) -> Result:
    runner = CliRunner()
    return runner.invoke(main, ["import", *(str(a) for a in args)], env=store.env, catch_exceptions=False)


def open_app(store: StoreConfig) -> Flask:
    return create_app(store.settings())


def stored(store: StoreConfig, layer: str = CAMERA_LAYER) -> dict[str, Any]:
    """Feature id -> GeoJSON feature as the API serves it; also the layer's version.

    Read with a token for the layer, as its editors do: imported cameras are drafts, which
    anonymous readers do not see (tests/test_write_api.py).
    """
    app = open_app(store)
    try:
        full = app.extensions["mapservice"].store
        _, token = new_token(full, app.extensions["mapservice"].catalog, "Test reader", [layer])
        response = app.test_client().get(
            f"/api/collections/{layer}/items?limit=1000", headers={"Authorization": f"Bearer {token}"}
        )
        assert response.status_code == 200
        features = {f["id"]: f for f in json.loads(response.data)["features"]}
        version = app.extensions["mapservice"].store.state(layer).version
    finally:
        app.extensions["mapservice"].store.close()
    return {"features": features, "version": version}


def utm32(x: float, y: float) -> tuple[float, float]:
    lon, lat = Transformer.from_crs("EPSG:25832", "EPSG:4326", always_xy=True).transform(x, y)
    return lon, lat


# -- the walk -------------------------------------------------------------------------


def test_bad_rows_are_all_named_and_nothing_changes_then_the_fixed_file_lands(
    fresh_store: StoreConfig,
) -> None:
    before = stored(fresh_store)
    assert before["features"] == {}

    result = run(
        fresh_store, CAMERA_LAYER, CAMERAS_BAD, "--crs", "EPSG:25832", "--x-column", "x", "--y-column", "y"
    )
    assert result.exit_code == 1
    out = result.output
    assert "cameras-bad.csv, row 3, field 'direction': 'Nordost' does not match" in out
    assert "cameras-bad.csv, row 5, field 'signage': 'vielleicht' is not a yes/no value" in out
    assert "row 5, field 'range_m': -5 is below the minimum 0" in out
    assert "row 5, field 'status': 'vorübergehend' is not one of the allowed values" in out
    assert "4 problem(s)" in out
    after = stored(fresh_store)
    assert after == before  # nothing written, not even a version bump

    result = run(
        fresh_store, CAMERA_LAYER, CAMERAS, "--crs", "EPSG:25832", "--x-column", "x", "--y-column", "y"
    )
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        "video-surveillance: 5 features imported (5 added, 0 changed, 0 removed)",
        "  5 of them not published (publication draft or approved): the maps and anonymous "
        "API readers show them once it is 'published'",
    ]
    features = stored(fresh_store)["features"]
    assert sorted(features) == [
        "jena-holzmarkt-sued",
        "jena-johannisplatz",
        "jena-lobeda-marktplatz",
        "jena-loebdergraben",
        "jena-winzerla-platz",
    ]
    sued = features["jena-holzmarkt-sued"]
    lon, lat = utm32(681955.00, 5644910.93)
    assert sued["geometry"]["type"] == "Point"
    assert sued["geometry"]["coordinates"][0] == pytest.approx(lon, abs=1e-6)
    assert sued["geometry"]["coordinates"][1] == pytest.approx(lat, abs=1e-6)
    props = sued["properties"]
    assert props["name"] == "Holzmarkt Süd"
    assert props["range_m"] == 45.5  # German decimal comma
    assert props["signage"] is True  # "ja"
    assert props["valid_from"] == "2024-03-01"  # 01.03.2024
    assert props["hfov_deg"] == 90
    assert features["jena-loebdergraben"]["properties"]["signage"] is False
    johannis = features["jena-johannisplatz"]["properties"]
    assert johannis["signage"] is None and johannis["range_m"] is None  # empty cells are null
    assert johannis["name"] == "Johannisplatz (Straßenbahnhaltestelle)"


def test_dry_run_shows_added_changed_removed_and_writes_nothing(
    fresh_store: StoreConfig, tmp_path: Path
) -> None:
    assert run(fresh_store, CAMERA_LAYER, CAMERAS, "--crs", "EPSG:25832").exit_code == 0
    text = CAMERAS.read_text(encoding="utf-8")
    lines = [line for line in text.splitlines() if "jena-johannisplatz" not in line]
    lines = [line.replace("Holzmarkt Süd;", "Holzmarkt Süd (Kamera 1);") for line in lines]
    lines = [line.replace(";684502,37;5639947,12", ";684512,37;5639947,12") for line in lines]
    lines.append(
        "jena-neu;Neue Kamera;Jena;public;camera;fixed;10;;;Stadt Jena;recording;;"
        "planned;;Testdaten (erfundenes Register);2026-01-15;681387,00;5644657,26"
    )
    changed = tmp_path / "cameras-2026.csv"
    changed.write_text("\n".join(lines) + "\n", encoding="utf-8")
    before = stored(fresh_store)

    result = run(fresh_store, CAMERA_LAYER, changed, "--crs", "EPSG:25832", "--dry-run")
    assert result.exit_code == 0, result.output
    out = result.output
    assert "dry run, nothing written" in out
    assert "1 added, 2 changed, 1 removed, 2 unchanged" in out
    assert "added (1): jena-neu" in out
    assert "changed jena-holzmarkt-sued: name" in out
    assert "changed jena-lobeda-marktplatz: geometry" in out
    assert "removed (1): jena-johannisplatz" in out
    assert stored(fresh_store) == before

    result = run(fresh_store, CAMERA_LAYER, changed, "--crs", "EPSG:25832")
    assert result.output.splitlines()[0] == (
        "video-surveillance: 5 features imported (1 added, 2 changed, 1 removed)"
    )
    after = stored(fresh_store)
    assert after["version"] == before["version"] + 1
    assert "jena-johannisplatz" not in after["features"]
    assert after["features"]["jena-holzmarkt-sued"]["properties"]["name"] == ("Holzmarkt Süd (Kamera 1)")


# -- formats ----------------------------------------------------------------------------------


def test_geojson_import_and_a_truncated_file_changes_nothing(
    fresh_store: StoreConfig, tmp_path: Path
) -> None:
    walls = DATA / "legal-walls.geojson"
    result = run(fresh_store, "graffiti-zones", walls)
    assert result.exit_code == 0, result.output
    assert "graffiti-zones: 2 features imported (2 added, 0 changed, 0 removed)" in result.output
    before = stored(fresh_store, "graffiti-zones")
    wall = before["features"]["jena-wand-saalbahnhof"]
    assert wall["geometry"]["coordinates"][0] == [11.5965, 50.9375]
    assert wall["properties"]["area_m2"] == 120.5

    truncated = tmp_path / "walls.geojson"
    truncated.write_bytes(walls.read_bytes()[:600])
    result = run(fresh_store, "graffiti-zones", truncated)
    assert result.exit_code == 1
    assert "walls.geojson: is not valid JSON" in result.output
    assert stored(fresh_store, "graffiti-zones") == before


def _camera_frame(crs: str) -> gpd.GeoDataFrame:
    lonlat = [(11.5892, 50.9271), (11.6229, 50.8817)]
    frame = gpd.GeoDataFrame(
        {
            "id": ["jena-gpkg-1", "jena-gpkg-2"],
            "name": ["Kamera Löbdergraben", "Kamera Lobeda"],
            "surveillance": ["public", "public"],
            "surveillance_type": ["camera", "camera"],
            "status": ["active", "planned"],
            "range_m": [40.0, None],
            "signage": [1, 0],
            "council_resolution_date": ["2024-02-01", None],
            "source": ["Kameraregister", "Kameraregister"],
            "verified_on": ["2026-01-15", "2026-01-15"],
        },
        geometry=[Point(x, y) for x, y in lonlat],
        crs="EPSG:4326",
    )
    return frame.to_crs(crs)


def _check_cameras_at(store: StoreConfig) -> None:
    features = stored(store)["features"]
    assert sorted(features) == ["jena-gpkg-1", "jena-gpkg-2"]
    one = features["jena-gpkg-1"]
    assert one["geometry"]["coordinates"] == [
        pytest.approx(11.5892, abs=1e-6),
        pytest.approx(50.9271, abs=1e-6),
    ]
    assert one["properties"]["name"] == "Kamera Löbdergraben"
    assert one["properties"]["signage"] is True
    assert one["properties"]["council_resolution_date"] == "2024-02-01"
    assert features["jena-gpkg-2"]["properties"]["range_m"] is None


def test_geopackage_in_utm33_is_reprojected(fresh_store: StoreConfig, tmp_path: Path) -> None:
    path = tmp_path / "kameras.gpkg"
    pyogrio.write_dataframe(_camera_frame("EPSG:25833"), path, layer="kameras")
    result = run(fresh_store, CAMERA_LAYER, path)
    assert result.exit_code == 0, result.output
    _check_cameras_at(fresh_store)


def test_crs_option_must_not_contradict_the_file(fresh_store: StoreConfig, tmp_path: Path) -> None:
    path = tmp_path / "kameras.gpkg"
    pyogrio.write_dataframe(_camera_frame("EPSG:25833"), path, layer="kameras")
    result = run(fresh_store, CAMERA_LAYER, path, "--crs", "EPSG:25832")
    assert result.exit_code == 1
    assert "--crs EPSG:25832 contradicts the file's own CRS EPSG:25833" in result.output
    result = run(fresh_store, CAMERA_LAYER, path, "--crs", "EPSG:99999")
    assert result.exit_code == 1
    assert "unknown CRS 'EPSG:99999'" in result.output
    assert stored(fresh_store)["features"] == {}


def test_geopackage_with_several_layers_needs_layer(fresh_store: StoreConfig, tmp_path: Path) -> None:
    path = tmp_path / "register.gpkg"
    pyogrio.write_dataframe(_camera_frame("EPSG:25832"), path, layer="kameras")
    pyogrio.write_dataframe(_camera_frame("EPSG:4326"), path, layer="alt", append=False)
    result = run(fresh_store, CAMERA_LAYER, path)
    assert result.exit_code == 1
    assert "several layers" in result.output and "kameras" in result.output
    result = run(fresh_store, CAMERA_LAYER, path, "--layer", "kameras")
    assert result.exit_code == 0, result.output
    _check_cameras_at(fresh_store)


def _zip_shapefile(frame: gpd.GeoDataFrame, folder: Path, name: str) -> Path:
    folder.mkdir()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # GDAL warns that shapefiles cut the column names
        frame.to_file(folder / f"{name}.shp")
    archive = folder.parent / f"{name}.zip"
    with zipfile.ZipFile(archive, "w") as z:
        for part in sorted(folder.iterdir()):
            z.write(part, part.name)
    return archive


def test_zipped_shapefile_with_cut_column_names(fresh_store: StoreConfig, tmp_path: Path) -> None:
    walls = gpd.read_file(DATA / "legal-walls.geojson").to_crs("EPSG:25832")
    walls["polygon"] = walls.geometry.buffer(2)  # shapefiles hold one geometry type
    walls = walls.set_geometry("polygon").drop(columns="geometry")
    archive = _zip_shapefile(walls, tmp_path / "shp", "waende")
    result = run(fresh_store, "graffiti-zones", archive)
    assert result.exit_code == 0, result.output
    features = stored(fresh_store, "graffiti-zones")["features"]
    wall = features["jena-wand-saalbahnhof"]
    assert wall["geometry"]["type"] == "Polygon"
    assert wall["properties"]["legal_status"] == "legal"  # from the cut column legal_stat
    assert wall["properties"]["verified_on"] == "2026-01-15"
    assert wall["properties"]["signage"] is True
    assert wall["properties"]["area_m2"] == 120.5
    lon, lat = wall["geometry"]["coordinates"][0][0]
    assert 11.596 < lon < 11.598 and 50.937 < lat < 50.938


def test_shapefile_whose_cut_names_are_ambiguous_says_so(fresh_store: StoreConfig, tmp_path: Path) -> None:
    archive = _zip_shapefile(_camera_frame("EPSG:25832"), tmp_path / "shp", "kameras")
    result = run(fresh_store, CAMERA_LAYER, archive)
    assert result.exit_code == 1
    assert "'surveillan'" in result.output
    assert "shapefiles cut column names to 10 characters" in result.output


def test_zip_without_shapefile_is_a_clear_error(fresh_store: StoreConfig, tmp_path: Path) -> None:
    assert run(fresh_store, CAMERA_LAYER, CAMERAS, "--crs", "EPSG:25832").exit_code == 0
    before = stored(fresh_store)
    archive = tmp_path / "leer.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("kameras.dbf", b"")
        z.writestr("liesmich.txt", "nur die Tabelle")
    result = run(fresh_store, CAMERA_LAYER, archive)
    assert result.exit_code == 1
    assert "leer.zip: contains no shapefile (.shp)" in result.output
    assert "kameras.dbf" in result.output
    not_zip = tmp_path / "kaputt.zip"
    not_zip.write_bytes(b"PK\x03\x04 broken")
    result = run(fresh_store, CAMERA_LAYER, not_zip)
    assert result.exit_code == 1
    assert "kaputt.zip: is not a readable zip archive" in result.output
    assert stored(fresh_store) == before


def test_addresses_are_found_in_the_offline_gazetteer(fresh_store: StoreConfig) -> None:
    result = run(fresh_store, CAMERA_LAYER, DATA / "offices-addresses.csv", "--address-columns", "address")
    assert result.exit_code == 0, result.output
    features = stored(fresh_store)["features"]
    # The offices' own coordinates (geodata/contact-offices.geojson).
    assert features["jena-winzerla-kobb"]["geometry"]["coordinates"] == [11.576314, 50.900698]
    assert features["jena-anger-polizei"]["geometry"]["coordinates"] == [11.5915304, 50.9329637]
    assert "address" not in features["jena-winzerla-kobb"]["properties"]


def test_an_address_not_found_names_the_row(fresh_store: StoreConfig) -> None:
    result = run(
        fresh_store,
        CAMERA_LAYER,
        DATA / "addresses-unknown.csv",
        "--address-columns",
        "street,housenumber,place",
    )
    assert result.exit_code == 1
    assert (
        "addresses-unknown.csv, row 3, field 'street': address 'Gibtsnichtweg 5, Jena' "
        "not found in the offline gazetteer"
    ) in result.output
    assert "row 2" not in result.output
    assert stored(fresh_store)["features"] == {}


# -- errors ------------------------------------------------------------------------------------


def test_unknown_collection_lists_the_collections(fresh_store: StoreConfig) -> None:
    result = run(fresh_store, "kameras", CAMERAS)
    assert result.exit_code == 1
    assert "unknown collection 'kameras'" in result.output
    assert "video-surveillance" in result.output and "contact-offices" in result.output


def test_projected_columns_need_crs(fresh_store: StoreConfig) -> None:
    result = run(fresh_store, CAMERA_LAYER, CAMERAS, "--x-column", "x", "--y-column", "y")
    assert result.exit_code == 1
    assert "--crs is required" in result.output
    result = run(fresh_store, CAMERA_LAYER, CAMERAS)  # x/y found by name: still needs the CRS
    assert result.exit_code == 1
    assert "--crs is required" in result.output


def test_unknown_columns_are_named_unless_ignored(fresh_store: StoreConfig, tmp_path: Path) -> None:
    text = CAMERAS.read_text(encoding="utf-8").splitlines()
    text = [line + (";Bemerkung" if i == 0 else ";egal") for i, line in enumerate(text)]
    path = tmp_path / "extra.csv"
    path.write_text("\n".join(text) + "\n", encoding="utf-8")
    result = run(fresh_store, CAMERA_LAYER, path, "--crs", "EPSG:25832")
    assert result.exit_code == 1
    assert "column(s) 'Bemerkung' are not fields of 'video-surveillance'" in result.output
    result = run(fresh_store, CAMERA_LAYER, path, "--crs", "EPSG:25832", "--ignore-columns")
    assert result.exit_code == 0, result.output


def test_swapped_and_metric_coordinates_are_caught(fresh_store: StoreConfig, tmp_path: Path) -> None:
    head = "id;name;surveillance;surveillance_type;status;source;verified_on;lon;lat\n"
    path = tmp_path / "lonlat.csv"
    path.write_text(
        head + "jena-a;A;public;camera;active;Register;2026-01-15;50,9271;11,5892\n"
        "jena-b;B;public;camera;active;Register;2026-01-15;681955;5644910\n",
        encoding="utf-8",
    )
    result = run(fresh_store, CAMERA_LAYER, path)
    assert result.exit_code == 1
    assert "row 2, field 'geometry'" in result.output
    assert "are longitude and latitude swapped?" in result.output
    assert "row 3, field 'geometry': coordinates are outside the lon/lat range" in result.output


def test_latin1_file_needs_its_encoding(fresh_store: StoreConfig, tmp_path: Path) -> None:
    path = tmp_path / "latin1.csv"
    path.write_bytes(CAMERAS.read_text(encoding="utf-8").encode("cp1252"))
    result = run(fresh_store, CAMERA_LAYER, path, "--crs", "EPSG:25832")
    assert result.exit_code == 1
    assert "is not utf-8 text" in result.output and "--encoding" in result.output
    result = run(fresh_store, CAMERA_LAYER, path, "--crs", "EPSG:25832", "--encoding", "cp1252")
    assert result.exit_code == 0, result.output
    assert stored(fresh_store)["features"]["jena-holzmarkt-sued"]["properties"]["name"] == ("Holzmarkt Süd")


def test_references_to_unknown_districts_are_problems(fresh_store: StoreConfig, tmp_path: Path) -> None:
    app = open_app(fresh_store)
    store = app.extensions["mapservice"].store
    district = store.query("districts", Query(limit=1)).features[0].id
    store.close()
    path = tmp_path / "bodies.csv"
    path.write_text(
        "id;name;type;status;level;covers_districts;source;verified_on\n"
        f"kpr-a;Präventionsrat A;kpr;active;stadtteil;{district};Quelle;2026-01\n"
        f"kpr-b;Präventionsrat B;kpr;active;stadtteil;{district}|gibt-es-nicht;Quelle;2026-01\n",
        encoding="utf-8",
    )
    result = run(fresh_store, "prevention-bodies", path, "--dry-run")
    assert result.exit_code == 1
    assert (
        "bodies.csv, row 3, field 'covers_districts': 'gibt-es-nicht' is not a feature id "
        "of layer 'districts'"
    ) in result.output
    assert "row 2" not in result.output


def test_removing_features_other_layers_name_is_refused(fresh_store: StoreConfig, tmp_path: Path) -> None:
    app = open_app(fresh_store)
    store = app.extensions["mapservice"].store
    keep = store.get("districts", store.query("districts", Query(limit=1)).features[0].id)
    before = store.state("districts").version
    store.close()
    assert keep is not None
    path = tmp_path / "one-district.geojson"
    path.write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "features": [
                    {
                        "type": "Feature",
                        "id": keep.id,
                        "properties": keep.properties,
                        "geometry": json.loads(keep.geometry or "null"),
                    }
                ],
            }
        ),
        encoding="utf-8",
    )
    result = run(fresh_store, "districts", path)
    assert result.exit_code == 1
    assert "stored layer 'contact-offices', feature 'kobb-jena-lobeda'" in result.output
    assert "the import would remove a feature this stored feature names" in result.output
    assert stored(fresh_store, "districts")["version"] == before


def test_geojson_naming_a_projected_crs_is_reprojected(fresh_store: StoreConfig, tmp_path: Path) -> None:
    x, y = 681955.00, 5644910.93
    path = tmp_path / "utm.geojson"
    path.write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::25832"}},
                "features": [
                    {
                        "type": "Feature",
                        "id": "jena-utm",
                        "properties": {
                            "surveillance": "public",
                            "surveillance_type": "camera",
                            "status": "active",
                            "source": "Register",
                            "verified_on": "2026-01-15",
                        },
                        "geometry": {"type": "Point", "coordinates": [x, y]},
                    }
                ],
            }
        ),
        encoding="utf-8",
    )
    result = run(fresh_store, CAMERA_LAYER, path)
    assert result.exit_code == 0, result.output
    coords = stored(fresh_store)["features"]["jena-utm"]["geometry"]["coordinates"]
    assert coords == [pytest.approx(c, abs=1e-6) for c in utm32(x, y)]


def test_progress_bar_on_request(fresh_store: StoreConfig) -> None:
    result = run(fresh_store, CAMERA_LAYER, CAMERAS, "--crs", "EPSG:25832", "--progress")
    assert result.exit_code == 0
    assert "checking" in result.stderr


# -- conversion of cells -----------------------------------------------------------------------


def test_text_cells_convert_to_catalog_types_or_say_why_not() -> None:
    integer = FieldDef("n", "integer")
    number = FieldDef("x", "number")
    boolean = FieldDef("b", "boolean")
    date = FieldDef("d", "date")
    strings = FieldDef("s", "array", items=FieldDef("s", "string"))
    objects = FieldDef("o", "array", items=FieldDef("o", "object"))
    assert from_text(integer, " 42 ") == 42
    assert from_text(number, "12,5") == 12.5 and from_text(number, "1e3") == 1000.0
    assert from_text(boolean, "Ja") is True and from_text(boolean, "0") is False
    assert from_text(date, "21.03.2024") == "2024-03-21"
    assert from_text(date, "2024-03") == "2024-03"
    assert from_text(date, "2026/01/15 00:00:00") == "2026-01-15"
    assert from_text(strings, "jena-nord|jena-ost") == ["jena-nord", "jena-ost"]
    assert from_text(strings, '["a", "b"]') == ["a", "b"]
    assert from_text(objects, '[{"name": "X"}]') == [{"name": "X"}]
    assert from_text(integer, "  ") is None
    for fdef, text in (
        (integer, "4.5"),
        (number, "viele"),
        (boolean, "vielleicht"),
        (date, "31.02.2024"),
        (strings, "a||b"),
        (strings, "[1,"),
        (objects, "X"),
    ):
        with pytest.raises(Invalid):
            from_text(fdef, text)
    assert from_value(integer, 3.0) == 3
    assert from_value(FieldDef("s", "string"), 7743) == "7743"
