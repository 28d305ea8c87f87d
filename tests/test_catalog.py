"""The layer catalog: the shipped files load, broken ones stop start-up naming file and key."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import LAYERS
from mapservice import create_app
from mapservice.catalog import CatalogError, load_catalog

EXPECTED = ["contact-offices", "districts", "graffiti-zones", "municipalities",
            "prevention-bodies", "video-surveillance"]


def test_shipped_catalog_declares_all_collections() -> None:
    catalog = load_catalog(LAYERS)
    assert catalog.ids() == EXPECTED
    offices = catalog["contact-offices"]
    assert offices.fields["kind"].values == ("contact_officer_office", "contact_officer",
                                             "police_station", "citizens_consultation",
                                             "prevention_office")
    assert offices.fields["opening_hours"].type == "opening_hours"
    assert offices.fields["officers"].items is not None
    assert offices.fields["officers"].items.fields["name"].required
    assert not offices.geometry_required  # unknown locations are allowed
    for layer in catalog:
        assert layer.licence and layer.attribution and layer.title and layer.title_en
        assert layer.fields["source"].required and layer.fields["verified_on"].required


@pytest.fixture
def layers_copy(tmp_path: Path) -> Path:
    target = tmp_path / "layers"
    shutil.copytree(LAYERS, target)
    return target


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))


@pytest.mark.parametrize(
    ("file", "old", "new", "key"),
    [
        ("districts.toml", 'title = "Ortsteile"\n', "", "title"),
        ("districts.toml", 'geometry_types = ["Polygon", "MultiPolygon"]',
         'geometry_types = ["Polygon", "Blob"]', "geometry_types"),
        ("contact-offices.toml", 'type = "opening_hours"', 'type = "hours"',
         "fields.opening_hours.type"),
        ("municipalities.toml", "required = true\npattern = \"^[0-9]{8}$\"\ndescription = \"Stabiler",
         "required = \"yes\"\npattern = \"^[0-9]{8}$\"\ndescription = \"Stabiler", "fields.id.required"),
        ("prevention-bodies.toml", 'values = ["kreis"', 'colour = "red"\nvalues = ["kreis"',
         "fields.level.colour"),
        ("districts.toml", 'id = "districts"', 'id = "Districts!"', "id"),
        ("graffiti-zones.toml", 'temporal = ["opened_on", "closed_on"]',
         'temporal = ["opened_on", "owner"]', "temporal"),
        ("districts.toml", 'default_sortby = ["city", "name"]', 'default_sortby = ["colour"]',
         "default_sortby"),
        ("contact-offices.toml", 'references = "districts"', 'references = "streets"',
         "fields.serves_districts.items.references"),
        ("districts.toml", 'pattern = "^[0-9]{8}$"', 'pattern = "^[0-9{8}$"',
         "fields.city_ags.pattern"),
        ("districts.toml", '[fields.name]\ntype = "string"', '[fields.name]\ntype = "string"\n[oops',
         "(syntax)"),
    ],
)
def test_broken_catalog_names_file_and_key(layers_copy: Path, file: str, old: str, new: str,
                                           key: str) -> None:
    _edit(layers_copy / file, old, new)
    with pytest.raises(CatalogError) as info:
        load_catalog(layers_copy)
    assert info.value.path.endswith(file)
    assert info.value.key == key
    assert file in str(info.value) and key in str(info.value)


def test_broken_catalog_stops_app_and_serve(layers_copy: Path, tmp_path: Path) -> None:
    _edit(layers_copy / "contact-offices.toml", 'type = "opening_hours"', 'type = "hours"')
    with pytest.raises(CatalogError):
        create_app({"layers_path": str(layers_copy), "instance_path": str(tmp_path / "i")})
    result = subprocess.run(
        [sys.executable, "-m", "mapservice", "serve", "--port", "1"],
        env={"MAPSERVICE_LAYERS_PATH": str(layers_copy),
             "MAPSERVICE_INSTANCE_PATH": str(tmp_path / "i"), "PATH": "/usr/bin:/bin"},
        capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 1
    assert "contact-offices.toml" in result.stderr
    assert "fields.opening_hours.type" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "i" / "mapservice.gpkg").exists()


@pytest.mark.parametrize("name", ["geom", "fid", "limit", "bbox"])
def test_field_names_that_clash_with_store_or_api_are_rejected(layers_copy: Path, name: str
                                                                ) -> None:
    _edit(layers_copy / "districts.toml", "[fields.name]",
          f'[fields.{name}]\ntype = "string"\n\n[fields.name]')
    with pytest.raises(CatalogError) as info:
        load_catalog(layers_copy)
    assert info.value.key == f"fields.{name}" and "reserved" in str(info.value)


def test_an_existing_store_is_upgraded_to_a_grown_catalog(layers_copy: Path, tmp_path: Path
                                                          ) -> None:
    instance = tmp_path / "instance"
    first = create_app({"layers_path": str(layers_copy), "instance_path": str(instance)})
    version = first.extensions["mapservice.store"].state("districts").version
    first.extensions["mapservice.store"].close()
    _edit(layers_copy / "districts.toml", "[fields.source]",
          '[fields.ward_note]\ntype = "string"\ndescription = "Neu"\n\n[fields.source]')
    second = create_app({"layers_path": str(layers_copy), "instance_path": str(instance)})
    doc = second.test_client().get("/api/collections/districts/items/jena-winzerla").get_json()
    assert doc["properties"]["ward_note"] is None  # new field, old rows kept
    assert doc["properties"]["name"] == "Winzerla"
    assert second.extensions["mapservice.store"].state("districts").version == version + 1
