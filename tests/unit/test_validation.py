"""Data validation: broken files give messages naming the file, the feature and the field."""

from __future__ import annotations

import importlib.util
import json
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient

from conftest import GEODATA, LAYERS, REPO, StoreConfig
from mapservice.catalog.geodata import load_geodata
from mapservice.catalog.layers import load_catalog
from mapservice.catalog.validation import ValidationError, check_properties
from mapservice.cli import main

Feature = dict[str, Any]
GEOJSON = "application/geo+json"
MERGE_PATCH = "application/merge-patch+json"


@pytest.fixture
def data_copy(tmp_path: Path) -> Path:
    target = tmp_path / "geodata"
    shutil.copytree(GEODATA, target)
    return target


def edit_feature(directory: Path, layer: str, fid: str, change: Callable[[Feature], None]) -> None:
    path = directory / f"{layer}.geojson"
    doc = json.loads(path.read_text())
    for feature in doc["features"]:
        if feature["id"] == fid:
            change(feature)
            break
    else:
        raise AssertionError(f"{fid} not in {layer}")
    path.write_text(json.dumps(doc, ensure_ascii=False))


def run_check(directory: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mapservice", "check", "--data", str(directory)],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_shipped_data_passes_check() -> None:
    result = run_check(GEODATA)
    assert result.returncode == 0, result.stderr
    assert "municipalities: 1275 features" in result.stdout
    assert "districts: 132 features" in result.stdout
    assert "statistical-districts: 41 features (41 with a location)" in result.stdout


def bowtie(feature: Feature) -> None:
    feature["geometry"] = {
        "type": "Polygon",
        "coordinates": [[[11.55, 50.90], [11.60, 50.95], [11.60, 50.90], [11.55, 50.95], [11.55, 50.90]]],
    }


def missing_name(feature: Feature) -> None:
    del feature["properties"]["name"]


def sheriff(feature: Feature) -> None:
    feature["properties"]["kind"] = "sheriff"


def bad_hours(feature: Feature) -> None:
    feature["properties"]["opening_hours"] = "Mo 25:00-12:00"


def utm_point(feature: Feature) -> None:
    feature["geometry"] = {"type": "Point", "coordinates": [678912.0, 5642100.0]}


def unknown_district(feature: Feature) -> None:
    feature["properties"]["serves_districts"] = ["jena-atlantis"]


def unknown_ortsteil(feature: Feature) -> None:
    feature["properties"]["district"] = "jena-atlantis"


def bad_date(feature: Feature) -> None:
    feature["properties"]["verified_on"] = "31.12.2018"


@pytest.mark.parametrize(
    ("layer", "fid", "change", "field", "needle"),
    [
        ("districts", "jena-winzerla", bowtie, "geometry", "Self-intersection"),
        ("municipalities", "16053000", missing_name, "name", "required"),
        ("contact-offices", "kobb-jena-winzerla", sheriff, "kind", "'sheriff' is not one of"),
        ("contact-offices", "kobb-jena-winzerla", bad_hours, "opening_hours", "not valid opening_hours"),
        ("contact-offices", "kobb-jena-lobeda", utm_point, "geometry", "EPSG:4326"),
        ("contact-offices", "kobb-jena-lobeda", unknown_district, "serves_districts", "jena-atlantis"),
        ("municipalities", "14524190", bad_date, "verified_on", "not a date"),
        # a reference on a plain string field, not a list
        (
            "statistical-districts",
            "jena-statbez-90",
            unknown_ortsteil,
            "district",
            "'jena-atlantis' is not a feature id of layer 'districts'",
        ),
    ],
)
def test_broken_feature_is_named_with_file_feature_and_field(
    data_copy: Path,
    layer: str,
    fid: str,
    change: Callable[[Feature], None],
    field: str,
    needle: str,
) -> None:
    edit_feature(data_copy, layer, fid, change)
    result = run_check(data_copy)
    assert result.returncode == 1
    lines = [line for line in result.stderr.splitlines() if needle in line]
    assert lines, result.stderr
    line = lines[0]
    assert f"{layer}.geojson" in line and f"'{fid}'" in line and f"field '{field}'" in line
    assert "Traceback" not in result.stderr


def test_file_in_another_crs_is_rejected_with_a_hint(data_copy: Path) -> None:
    path = data_copy / "districts.geojson"
    doc = json.loads(path.read_text())
    doc["crs"] = {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::25832"}}
    path.write_text(json.dumps(doc))
    result = run_check(data_copy)
    assert result.returncode == 1
    assert "districts.geojson" in result.stderr and "EPSG::25832" in result.stderr
    assert "EPSG:4326" in result.stderr


def test_all_problems_are_reported_at_once(data_copy: Path) -> None:
    edit_feature(data_copy, "contact-offices", "kobb-jena-winzerla", sheriff)
    edit_feature(data_copy, "contact-offices", "kobb-jena-lobeda", bad_hours)
    edit_feature(data_copy, "districts", "jena-winzerla", bowtie)
    with pytest.raises(ValidationError) as info:
        load_geodata(load_catalog(LAYERS), data_copy)
    fields = {(p.feature, p.field) for p in info.value.problems}
    assert ("'kobb-jena-winzerla' (#5)", "kind") in fields or any(f == "kind" for _, f in fields)
    assert {f for _, f in fields} >= {"kind", "opening_hours", "geometry"}
    assert len(info.value.problems) == 3


def test_duplicate_ids_and_undeclared_fields(data_copy: Path) -> None:
    path = data_copy / "prevention-bodies.geojson"
    doc = json.loads(path.read_text())
    doc["features"][1]["properties"]["id"] = doc["features"][0]["properties"]["id"]
    doc["features"][1]["id"] = doc["features"][0]["id"]
    doc["features"][2]["properties"]["colour"] = "red"
    path.write_text(json.dumps(doc))
    with pytest.raises(ValidationError) as info:
        load_geodata(load_catalog(LAYERS), data_copy)
    messages = [str(p) for p in info.value.problems]
    assert any("used twice" in m for m in messages)
    assert any("field 'colour'" in m and "not declared" in m for m in messages)


def test_broken_json_names_the_file(data_copy: Path) -> None:
    (data_copy / "districts.geojson").write_text('{"type": "FeatureCollection", "features": [')
    result = run_check(data_copy)
    assert result.returncode == 1
    assert "districts.geojson" in result.stderr and "not valid JSON" in result.stderr


# -- one set of rules for the write API, the import and the build ------------------------------

WALLS = "/api/collections/graffiti-zones/items"
OFFICES = "/api/collections/contact-offices/items"
CATALOG = load_catalog(LAYERS)


def wall(**props: Any) -> Feature:
    """A legal graffiti wall as a city would send it (invented test data)."""
    return {
        "type": "Feature",
        "id": "jena-testwand",
        "geometry": {"type": "LineString", "coordinates": [[11.5965, 50.9375], [11.5971, 50.9377]]},
        "properties": {
            "name": "Testwand am Saalbahnhof",
            "city": "Jena",
            "status": "active",
            "legal_status": "legal",
            "source": "Testdaten",
            "verified_on": "2026-01-15",
            **props,
        },
    }


@pytest.fixture
def writer(fresh_app: Flask, fresh_store: StoreConfig) -> tuple[FlaskClient, dict[str, str]]:
    """A client of an app on a new store, and the headers of a token for walls and offices."""
    made = CliRunner().invoke(
        main,
        [
            "token",
            "create",
            "--name",
            "Test",
            "--collection",
            "graffiti-zones",
            "--collection",
            "contact-offices",
        ],
        env=fresh_store.env,
    )
    assert made.exit_code == 0, made.output
    return fresh_app.test_client(), {"Authorization": f"Bearer {made.stdout.strip()}"}


def problems_of(response: Any) -> dict[str, str]:
    return {p["field"]: p["problem"] for p in response.get_json()["problems"]}


def test_the_api_refuses_a_text_with_a_leading_blank_and_names_the_field(
    writer: tuple[FlaskClient, dict[str, str]],
) -> None:
    client, headers = writer
    refused = client.post(WALLS, data=json.dumps(wall(city=" Jena")), content_type=GEOJSON, headers=headers)
    assert refused.status_code == 400, refused.data
    assert problems_of(refused) == {"city": "' Jena' has leading or trailing blanks"}
    assert client.get(f"{WALLS}/jena-testwand", headers=headers).status_code == 404
    # Without the blank the same feature is fine: the blank was the only problem.
    accepted = client.post(WALLS, data=json.dumps(wall()), content_type=GEOJSON, headers=headers)
    assert accepted.status_code == 201, accepted.data
    assert accepted.get_json()["properties"]["city"] == "Jena"


def test_the_api_refuses_a_list_with_a_duplicate_item(writer: tuple[FlaskClient, dict[str, str]]) -> None:
    client, headers = writer
    url = f"{OFFICES}/kobb-jena-lobeda"
    tag = client.get(url, headers=headers).headers["ETag"]
    patch = {"properties": {"serves_districts": ["jena-neulobeda", "jena-lobeda-altstadt", "jena-neulobeda"]}}
    refused = client.patch(
        url, data=json.dumps(patch), content_type=MERGE_PATCH, headers={**headers, "If-Match": tag}
    )
    assert refused.status_code == 400, refused.data
    assert problems_of(refused) == {
        "serves_districts[2]": "'jena-neulobeda' is listed twice (also as serves_districts[0])"
    }
    assert client.get(url, headers=headers).headers["ETag"] == tag  # nothing changed


def refused_import(store: StoreConfig, *args: str | Path) -> list[str]:
    """The problems `mapservice import` (run as tests/api/test_import.py runs it) refuses with."""
    result = CliRunner().invoke(
        main, ["import", *(str(a) for a in args)], env=store.env, catch_exceptions=False
    )
    assert result.exit_code == 1, result.output
    return [line.removeprefix("  - ") for line in result.output.splitlines() if line.startswith("  - ")]


def test_the_import_refuses_a_leading_blank_and_a_duplicate_list_item(
    fresh_store: StoreConfig, tmp_path: Path
) -> None:
    walls = tmp_path / "walls.geojson"
    walls.write_text(
        json.dumps({"type": "FeatureCollection", "features": [wall(city=" Jena")]}), encoding="utf-8"
    )
    assert refused_import(fresh_store, "graffiti-zones", walls) == [
        f"{walls}, feature 'jena-testwand' (#1), field 'city': ' Jena' has leading or trailing blanks"
    ]
    # A CSV cell is trimmed when it is read, but two equal items in one cell are two items.
    header = "id;name;type;status;level;covers_districts;source;verified_on"
    row = "kpr-a;Präventionsrat A;kpr;active;stadtteil;jena-winzerla|jena-winzerla;Quelle;2026-01"
    bodies = tmp_path / "bodies.csv"
    bodies.write_text(f"{header}\n{row}\n", encoding="utf-8")
    assert refused_import(fresh_store, "prevention-bodies", bodies, "--dry-run") == [
        f"{bodies}, row 2, field 'covers_districts[1]': 'jena-winzerla' is listed twice "
        "(also as covers_districts[0])"
    ]


def shipped_properties(layer: str) -> Feature:
    doc = json.loads((GEODATA / f"{layer}.geojson").read_text(encoding="utf-8"))
    properties: Feature = doc["features"][0]["properties"]
    return properties


@pytest.mark.parametrize(
    ("layer", "props", "field", "message"),
    [
        ("districts", {"name": "Winzerla "}, "name", "'Winzerla ' has leading or trailing blanks"),
        (
            "districts",
            {"verified_on": " 2017-11"},
            "verified_on",
            "' 2017-11' has leading or trailing blanks",
        ),
        (
            "contact-offices",
            {"serves_districts": ["jena-nord", ""]},
            "serves_districts[1]",
            "list items must not be empty",
        ),
        (
            "contact-offices",
            {"officers": [{"name": "A", "role": None}, {"role": None, "name": "A"}]},
            "officers[1]",
            '{"role": null, "name": "A"} is listed twice (also as officers[0])',
        ),
        ("contact-offices", {"officers": [{"name": " A"}]}, "officers[0].name", "' A' has leading"),
    ],
)
def test_each_rule_gives_one_problem_naming_the_field(
    layer: str, props: Feature, field: str, message: str
) -> None:
    found = check_properties(CATALOG[layer].fields, {**shipped_properties(layer), **props})
    assert len(found) == 1, found
    assert found[0][0] == field and found[0][1].startswith(message)


def test_prose_nobody_filters_by_is_held_to_the_same_rule() -> None:
    """A note or a phone number nobody filters by is still refused with a blank at its end."""
    layer = CATALOG["contact-offices"]
    assert layer.fields["note"].queryable is False
    found = check_properties(layer.fields, {**shipped_properties("contact-offices"), "note": "Termine: "})
    assert [(field, message) for field, message in found] == [
        ("note", "'Termine: ' has leading or trailing blanks")
    ]


@pytest.fixture(scope="module")
def build_script() -> Iterator[ModuleType]:
    """scripts/build_geodata.py as a module (it is a script, not part of the package)."""
    spec = importlib.util.spec_from_file_location("build_geodata", REPO / "scripts" / "build_geodata.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    try:
        spec.loader.exec_module(module)
        yield module
    finally:
        del sys.modules[spec.name]


def test_the_build_refuses_what_the_api_refuses(build_script: ModuleType) -> None:
    layer = CATALOG["graffiti-zones"]
    blank = build_script.make_feature(
        layer, {**wall()["properties"], "id": "jena-testwand", "city": " Jena"}, wall()["geometry"], "test"
    )
    problems = build_script.validation_problems(CATALOG.layers, {"graffiti-zones": [blank]})
    assert [str(p) for p in problems] == [
        "graffiti-zones.geojson, feature 'jena-testwand' (#1), field 'city': "
        "' Jena' has leading or trailing blanks"
    ]


def test_the_build_writes_keys_in_catalog_order_whatever_order_they_come_in(build_script: ModuleType) -> None:
    """Key order is layout of the shipped files, not a rule for values: the build makes it."""
    layer = CATALOG["contact-offices"]
    values = {
        **dict(reversed(shipped_properties("contact-offices").items())),
        "officers": [{"role": "KOBB", "name": "A"}],
        "note": "",
    }
    feature = build_script.make_feature(layer, values, None, "test")
    assert list(feature) == ["type", "id", "properties", "geometry"]
    assert list(feature["properties"]) == list(layer.fields)
    assert feature["properties"]["officers"] == [{"name": "A", "role": "KOBB", "role_en": None}]
    assert list(feature["properties"]["officers"][0]) == ["name", "role", "role_en"]
    assert feature["properties"]["note"] is None  # unknown is written as null, not as empty text
    assert build_script.validation_problems(CATALOG.layers, {"contact-offices": [feature]}) == []


# Prose of the shipped data that each page shows in its own language: field → its English twin.
PROSE_PAIRS = {
    "prevention-bodies": [
        "covers_note",
        "agreement_date_note",
        "partners",
        "contact",
        "working_groups",
        "events",
    ],
    "contact-offices": [
        "note",
        "registration",
        "location_source",
        "appointments.note",
        "room",
        "officers.role",
    ],
    "districts": ["households_note"],
}


def _english_fields(fields: Any, prefix: str = "") -> Iterator[str]:
    """Dotted names of every field (nested ones too) whose values the layer file calls English."""
    for name, fdef in fields.items():
        if fdef.lang == "en":
            yield prefix + name
        if fdef.items is not None and fdef.items.fields:
            yield from _english_fields(fdef.items.fields, f"{prefix}{name}.")


def _values(properties: Feature, dotted: str) -> list[Any]:
    """The value of ``field`` or, for ``list.field``, that field of every list item."""
    head, _, rest = dotted.partition(".")
    if not rest:
        return [properties.get(head)]
    return [item.get(rest) for item in properties.get(head) or []]


def test_every_english_field_is_the_twin_of_a_german_one() -> None:
    """A field of English values alone would put English on German pages: each has a German twin."""
    for layer in CATALOG:
        english = set(_english_fields(layer.fields))
        assert english == {f"{name}_en" for name in PROSE_PAIRS.get(layer.id, [])}, layer.id


@pytest.mark.parametrize("layer_id", sorted(PROSE_PAIRS))
def test_shipped_prose_is_there_in_german_and_in_english(layer_id: str) -> None:
    doc = json.loads((GEODATA / f"{layer_id}.geojson").read_text(encoding="utf-8"))
    checked = 0
    for feature in doc["features"]:
        for name in PROSE_PAIRS[layer_id]:
            pairs = zip(
                _values(feature["properties"], name),
                _values(feature["properties"], f"{name}_en"),
                strict=True,
            )
            for de, en in pairs:
                assert (de is None) == (en is None), f"{layer_id} {feature['id']} {name}: {de!r} / {en!r}"
                checked += de is not None
    assert checked  # the layer really has such prose
