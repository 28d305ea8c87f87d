"""Limits on one feature and one write (issue 15) through the write API and `mapservice import`,
on both stores: the 800k-vertex comb, hostile values, heights, too many features.

Every feature here is invented test data. Nothing is written but by the --drop-z import, so
one store per backend serves the module.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from flask import Flask
from flask.testing import FlaskClient
from sample_features import zone_properties

from conftest import StoreConfig
from mapservice import create_app
from mapservice.cli import main
from mapservice.store.tokens import new_token

ZONES = "graffiti-zones"
ITEMS = f"/api/collections/{ZONES}/items"
GEOJSON = "application/geo+json"
COMB_TEETH = 200_000  # 4 vertices a tooth, 3 more to close: 800,003


def comb_geometry_text(teeth: int) -> str:
    """A valid polygon shaped like a comb in Jena, as GeoJSON text: teeth 1e-7 degrees wide
    from longitude 11.575 eastwards (built as text with integer formatting: quick)."""
    base, root, tip = "50.9245", "50.925", "50.927"
    parts = [f"[11.5750000,{base}]"]
    for i in range(teeth):
        a, b = f"11.{5750000 + 2 * i}", f"11.{5750001 + 2 * i}"
        parts.append(f"[{a},{root}],[{a},{tip}],[{b},{tip}],[{b},{root}]")
    parts += [f"[11.{5750000 + 2 * teeth},{base}]", parts[0]]
    return '{"type":"Polygon","coordinates":[[' + ",".join(parts) + "]]}"


def zone(fid: str = "test-zone", geometry: Any = None, **props: Any) -> dict[str, Any]:
    return {
        "type": "Feature",
        "id": fid,
        "geometry": geometry or {"type": "Point", "coordinates": [11.5861, 50.9271]},
        "properties": zone_properties(**props),
    }


@pytest.fixture(scope="module")
def comb_feature_text() -> str:
    feature = json.dumps(zone("test-comb", {"type": "Point", "coordinates": [0, 0]}))
    return feature.replace('{"type": "Point", "coordinates": [0, 0]}', comb_geometry_text(COMB_TEETH))


@pytest.fixture(scope="module")
def store(new_store: Callable[[Path], StoreConfig], tmp_path_factory: pytest.TempPathFactory) -> StoreConfig:
    return new_store(tmp_path_factory.mktemp("limits"))


@pytest.fixture(scope="module")
def app(store: StoreConfig) -> Iterator[Flask]:
    app = create_app(store.settings())
    yield app
    app.extensions["mapservice"].store.close()


@pytest.fixture(scope="module")
def token(app: Flask) -> str:
    services = app.extensions["mapservice"]
    _, secret = new_token(services.store, services.catalog, "Test (limits)", [ZONES])
    return secret


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def version(app: Flask) -> int:
    return int(app.extensions["mapservice"].store.state(ZONES).version)


def refused(client: FlaskClient, token: str, body: str, app: Flask) -> str:
    before = version(app)
    response = client.post(
        ITEMS, data=body, content_type=GEOJSON, headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 400, response.data[:300]
    assert version(app) == before
    description: str = response.get_json()["description"]
    return description


def run_import(store: StoreConfig, path: Path, *args: str, **env: str) -> Result:
    return CliRunner().invoke(
        main, ["import", ZONES, str(path), *args], env={**store.env, **env}, catch_exceptions=False
    )


# -- the API -------------------------------------------------------------------------------------


def test_the_800k_vertex_comb_is_refused_by_the_api_and_nothing_is_stored(
    client: FlaskClient, token: str, app: Flask, comb_feature_text: str
) -> None:
    description = refused(client, token, comb_feature_text, app)
    assert "geometry: 800,003 vertices, at most 20,000 are allowed (setting max_vertices)" in description
    assert client.get(f"{ITEMS}/test-comb", headers={"Authorization": f"Bearer {token}"}).status_code == 404


def test_a_height_is_refused_by_the_api_naming_the_position(
    client: FlaskClient, token: str, app: Flask
) -> None:
    ring = [[11.58, 50.92], [11.59, 50.92], [11.59, 50.93], [11.58, 50.93, 160.5], [11.58, 50.92]]
    body = json.dumps(zone(geometry={"type": "Polygon", "coordinates": [ring]}))
    assert (
        "geometry.coordinates[0][3]: has a third value (height); only longitude and latitude are stored"
        in refused(client, token, body, app)
    )


def test_the_limits_are_settings(store: StoreConfig, token: str) -> None:
    app = create_app(store.settings(max_text_length=40, max_vertices=4))
    try:
        client = app.test_client()
        long_name = json.dumps(zone(name="Testfläche mit einem Namen, der zu lang ist"))
        assert "properties.name: text of 43 characters, at most 40 are allowed (setting max_text_length)" in (
            refused(client, token, long_name, app)
        )
        ring = [[11.58, 50.92], [11.59, 50.92], [11.59, 50.93], [11.58, 50.92]]
        five = [ring[0], ring[1], [11.595, 50.925], ring[2], ring[0]]
        assert "geometry: 5 vertices, at most 4 are allowed" in refused(
            client, token, json.dumps(zone(geometry={"type": "Polygon", "coordinates": [five]})), app
        )
    finally:
        app.extensions["mapservice"].store.close()


# -- mapservice import ---------------------------------------------------------------------------


def test_the_800k_vertex_comb_is_refused_by_the_import(
    store: StoreConfig, app: Flask, comb_feature_text: str, tmp_path: Path
) -> None:
    path = tmp_path / "comb.geojson"
    path.write_text('{"type":"FeatureCollection","features":[' + comb_feature_text + "]}", encoding="utf-8")
    before = version(app)
    result = run_import(store, path)
    assert result.exit_code == 1
    assert (
        f"{path}, feature 'test-comb' (#1), field 'geometry': 800,003 vertices, at most 20,000 are "
        "allowed (setting max_vertices)" in result.output
    )
    assert version(app) == before


def test_hostile_values_in_an_import_are_problems_with_file_feature_and_field(
    store: StoreConfig, app: Flask, tmp_path: Path
) -> None:
    path = tmp_path / "hostile.geojson"
    features = [
        zone("test-a", name="Fläche \\ud800"),  # written as the JSON escape of a lone surrogate
        zone("test-b", area_m2="BIG"),
        zone("test-c", rules="R" * 10_000_000),
        zone("test-d", owner="DEEP"),
    ]
    text = json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False)
    text = text.replace("\\\\ud800", "\\ud800").replace('"BIG"', str(2**63))
    path.write_text(text.replace('"DEEP"', "[" * 70 + "]" * 70), encoding="utf-8")
    before = version(app)
    result = run_import(store, path)
    assert result.exit_code == 1, result.output
    out = result.output
    assert "4 problem(s)" in out
    assert f"{path}, feature 'test-a' (#1), field 'name': text with a lone surrogate" in out
    assert f"{path}, feature 'test-b' (#2), field 'area_m2': 9223372036854775808 is outside the 64-bit" in out
    assert (
        f"{path}, feature 'test-c' (#3), field 'rules': text of 10,000,000 characters, at most 20,000 "
        "are allowed (setting max_text_length)" in out
    )
    assert f"{path}, feature 'test-d' (#4), field 'owner" in out and "(setting max_nesting)" in out
    assert version(app) == before


def test_a_file_nested_3000_deep_is_named_not_a_traceback(store: StoreConfig, tmp_path: Path) -> None:
    path = tmp_path / "deep.geojson"
    path.write_text(
        json.dumps({"type": "FeatureCollection", "features": ["DEEP"]}).replace(
            '"DEEP"', "[" * 3000 + "]" * 3000
        )
    )
    result = run_import(store, path)
    assert result.exit_code == 1
    assert f"{path}: is nested too deeply to be read" in result.output


def test_heights_are_refused_unless_drop_z_which_says_so(
    store: StoreConfig, app: Flask, tmp_path: Path
) -> None:
    path = tmp_path / "walls.geojson"
    walls = [
        zone("test-wall-a", {"type": "Point", "coordinates": [11.5861, 50.9271, 151.2]}),
        zone("test-wall-b", {"type": "Point", "coordinates": [11.5901, 50.9301]}),
    ]
    path.write_text(json.dumps({"type": "FeatureCollection", "features": walls}), encoding="utf-8")
    before = version(app)
    result = run_import(store, path)
    assert result.exit_code == 1
    assert (
        f"{path}, feature 'test-wall-a' (#1), field 'geometry.coordinates': has a third value (height); "
        "only longitude and latitude are stored; import with --drop-z to drop the heights"
    ) in result.output
    assert version(app) == before

    result = run_import(store, path, "--drop-z")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[:2] == [
        f"{ZONES}: 2 features imported (2 added, 0 changed, 0 removed)",
        "  heights (Z coordinates) of 1 of them were dropped (--drop-z): only longitude and "
        "latitude are stored",
    ]
    stored = app.extensions["mapservice"].store.get(ZONES, "test-wall-a")
    assert stored is not None and json.loads(stored.geometry)["coordinates"] == [11.5861, 50.9271]


def test_more_features_than_a_write_may_bring_are_refused(
    store: StoreConfig, app: Flask, tmp_path: Path
) -> None:
    path = tmp_path / "three.geojson"
    features = [zone(f"test-many-{i}") for i in range(3)]
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}), encoding="utf-8")
    before = version(app)
    result = run_import(store, path, MAPSERVICE_MAX_FEATURES_PER_WRITE="2")
    assert result.exit_code == 1
    assert (
        f"{path}: has 3 features, at most 2 are allowed in one write (setting max_features_per_write)"
        in result.output
    )
    assert version(app) == before


def test_a_csv_with_a_byte_that_is_not_text_names_the_row_and_field(
    store: StoreConfig, tmp_path: Path
) -> None:
    path = tmp_path / "flaechen.csv"
    header = "id;name;city;status;legal_status;source;verified_on;lon;lat\n"
    rows = "test-csv-a;Gro\xdfe Wand;Jena;active;legal;Testdaten;2026-11-01;11.5861;50.9271\n"
    path.write_bytes((header + rows).encode("cp1252"))
    result = run_import(store, path)
    assert result.exit_code == 1
    assert f"{path}, row 2, field 'name': is not utf-8 text" in result.output
    assert "--encoding" in result.output
