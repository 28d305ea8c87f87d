"""Data validation: broken files give messages naming the file, the feature and the field."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from conftest import GEODATA, LAYERS
from mapservice.catalog.geodata import load_geodata
from mapservice.catalog.layers import load_catalog
from mapservice.catalog.validation import ValidationError

Feature = dict[str, Any]


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
