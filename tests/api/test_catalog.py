"""The layer catalog: the shipped files load, broken ones stop start-up naming file and key."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pyogrio
import pytest
import shapely
from flask.testing import FlaskClient

from conftest import LAYERS, StoreConfig, get_json
from mapservice import create_app
from mapservice.catalog.layers import CatalogError, load_catalog
from mapservice.catalog.validation import ValidationError
from mapservice.store.base import Query

EXPECTED = [
    "contact-offices",
    "districts",
    "graffiti-zones",
    "municipalities",
    "prevention-bodies",
    "statistical-districts",
    "video-surveillance",
]


def test_shipped_catalog_declares_all_collections() -> None:
    catalog = load_catalog(LAYERS)
    assert catalog.ids() == EXPECTED
    offices = catalog["contact-offices"]
    assert offices.fields["kind"].values == (
        "contact_officer_office",
        "contact_officer",
        "police_station",
        "citizens_consultation",
        "prevention_office",
    )
    assert offices.fields["opening_hours"].type == "opening_hours"
    assert offices.fields["officers"].items is not None
    assert offices.fields["officers"].items.fields["name"].required
    assert not offices.geometry_required  # unknown locations are allowed
    for layer in catalog:
        assert layer.licence and layer.attribution and layer.title and layer.title_en
        assert layer.fields["source"].required and layer.fields["verified_on"].required
    statistical = catalog["statistical-districts"]
    assert statistical.fields["district"].type == "string"
    assert statistical.fields["district"].references == "districts"  # on a plain string field
    assert statistical.fields["district"].filterable


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
        (
            "districts.toml",
            'geometry_types = ["Polygon", "MultiPolygon"]',
            'geometry_types = ["Polygon", "Blob"]',
            "geometry_types",
        ),
        ("contact-offices.toml", 'type = "opening_hours"', 'type = "hours"', "fields.opening_hours.type"),
        (
            "municipalities.toml",
            'required = true\npattern = "^[0-9]{8}$"\ndescription = "Stabiler',
            'required = "yes"\npattern = "^[0-9]{8}$"\ndescription = "Stabiler',
            "fields.id.required",
        ),
        (
            "prevention-bodies.toml",
            'values = ["kreis"',
            'colour = "red"\nvalues = ["kreis"',
            "fields.level.colour",
        ),
        ("districts.toml", 'id = "districts"', 'id = "Districts!"', "id"),
        (
            "graffiti-zones.toml",
            'temporal = ["opened_on", "closed_on"]',
            'temporal = ["opened_on", "owner"]',
            "temporal",
        ),
        (
            "districts.toml",
            'default_sortby = ["city", "name"]',
            'default_sortby = ["colour"]',
            "default_sortby",
        ),
        (
            "contact-offices.toml",
            'references = "districts"',
            'references = "streets"',
            "fields.serves_districts.items.references",
        ),
        (
            "statistical-districts.toml",
            'references = "districts"',
            'references = "wards"',
            "fields.district.references",
        ),
        ("districts.toml", 'pattern = "^[0-9]{8}$"', 'pattern = "^[0-9{8}$"', "fields.city_ags.pattern"),
        (
            "municipalities.toml",
            'title_en = "Population"\n',
            "",
            "fields.population.title_en",
        ),
        (
            "contact-offices.toml",
            'description_en = "Role, in English"\n',
            "",
            "fields.officers.items.fields.role_en.description_en",
        ),
        (
            "districts.toml",
            '[fields.name]\ntype = "string"',
            '[fields.name]\ntype = "string"\n[oops',
            "(syntax)",
        ),
    ],
)
def test_broken_catalog_names_file_and_key(
    layers_copy: Path, file: str, old: str, new: str, key: str
) -> None:
    _edit(layers_copy / file, old, new)
    with pytest.raises(CatalogError) as info:
        load_catalog(layers_copy)
    assert info.value.path.endswith(file)
    assert info.value.key == key
    assert file in str(info.value) and key in str(info.value)


def test_broken_catalog_stops_app_and_serve(layers_copy: Path, fresh_store: StoreConfig) -> None:
    _edit(layers_copy / "contact-offices.toml", 'type = "opening_hours"', 'type = "hours"')
    with pytest.raises(CatalogError):
        create_app(fresh_store.settings(layers_path=str(layers_copy)))
    result = subprocess.run(
        [sys.executable, "-m", "mapservice", "serve", "--port", "1"],
        env={"MAPSERVICE_LAYERS_PATH": str(layers_copy), **fresh_store.env, "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert "contact-offices.toml" in result.stderr
    assert "fields.opening_hours.type" in result.stderr
    assert "Traceback" not in result.stderr
    assert not fresh_store.exists()


@pytest.mark.parametrize("name", ["geom", "fid", "limit", "bbox"])
def test_field_names_that_clash_with_store_or_api_are_rejected(layers_copy: Path, name: str) -> None:
    _edit(
        layers_copy / "districts.toml", "[fields.name]", f'[fields.{name}]\ntype = "string"\n\n[fields.name]'
    )
    with pytest.raises(CatalogError) as info:
        load_catalog(layers_copy)
    assert info.value.key == f"fields.{name}" and "reserved" in str(info.value)


def test_an_existing_store_is_upgraded_to_a_grown_catalog(
    layers_copy: Path, fresh_store: StoreConfig
) -> None:
    settings = fresh_store.settings(layers_path=str(layers_copy))
    first = create_app(settings)
    version = first.extensions["mapservice"].store.state("districts").version
    first.extensions["mapservice"].store.close()
    _edit(
        layers_copy / "districts.toml",
        "[fields.source]",
        '[fields.ward_note]\ntype = "string"\ndescription = "Neu"\ndescription_en = "New"\n'
        'title = "Neu"\ntitle_en = "New"\n\n[fields.source]',
    )
    second = create_app(settings)
    doc = second.test_client().get("/api/collections/districts/items/jena-winzerla").get_json()
    assert doc["properties"]["ward_note"] is None  # new field, old rows kept
    assert doc["properties"]["name"] == "Winzerla"
    assert second.extensions["mapservice"].store.state("districts").version == version + 1


def test_an_existing_store_gets_a_new_layer_from_the_shipped_data(
    layers_copy: Path, fresh_store: StoreConfig, backend: str
) -> None:
    """A store made before ``statistical-districts`` existed gets its table on start."""
    settings = fresh_store.settings(layers_path=str(layers_copy))
    new_layer = layers_copy / "statistical-districts.toml"
    kept = new_layer.read_text()
    new_layer.unlink()
    first = create_app(settings)
    store = first.extensions["mapservice"].store
    assert "statistical-districts" not in first.extensions["mapservice"].catalog
    versions = {lid: store.state(lid).version for lid in ("districts", "municipalities")}
    store.close()
    assert "districts" in fresh_store.tables()
    assert "statistical_districts" not in fresh_store.tables()

    new_layer.write_text(kept)
    second = create_app(settings)
    client = second.test_client()
    doc = client.get("/api/collections/statistical-districts/items?limit=100").get_json()
    assert doc["numberMatched"] == 41
    assert sum(f["properties"]["households"] for f in doc["features"]) == 61012
    # The spatial index of the new table works, and nothing stored before was touched.
    near = client.get("/api/collections/statistical-districts/items?bbox=11.55,50.87,11.58,50.89").get_json()
    assert 0 < near["numberMatched"] < 41
    store = second.extensions["mapservice"].store
    assert {lid: store.state(lid).version for lid in versions} == versions
    assert store.state("statistical-districts").count == 41
    if backend == "gpkg":  # the file's new table is a map layer to GDAL too
        layers = dict(pyogrio.list_layers(str(fresh_store.instance / "mapservice.gpkg")))
        assert layers["statistical_districts"] == "MultiPolygon"


def test_a_new_layer_must_reference_features_of_the_existing_store(
    layers_copy: Path, fresh_store: StoreConfig
) -> None:
    """The shipped file of a new layer is checked against the districts *stored*, not shipped."""
    settings = fresh_store.settings(layers_path=str(layers_copy))
    new_layer = layers_copy / "statistical-districts.toml"
    kept = new_layer.read_text()
    new_layer.unlink()
    first = create_app(settings)
    store = first.extensions["mapservice"].store
    others = [f for f in store.query("districts", Query(limit=1000)).features if f.id != "jena-woellnitz"]
    store.replace("districts", [(f.properties, shapely.from_geojson(f.geometry)) for f in others])
    store.close()

    new_layer.write_text(kept)
    with pytest.raises(ValidationError) as info:
        create_app(settings)
    message = str(info.value)
    assert "statistical-districts.geojson" in message and "'jena-woellnitz'" in message
    assert "field 'district'" in message
    assert "statistical_districts" not in fresh_store.tables()  # nothing half-written


def test_every_field_has_its_title_and_description_in_german_and_english(client: FlaskClient) -> None:
    """The Part 5 schema and the queryables give each described field a German title and
    description and the English ones beside them."""
    checked = 0
    for collection in get_json(client, "/api/collections")["collections"]:
        schema = get_json(client, f"/api/collections/{collection['id']}/schema")
        queryables = get_json(client, f"/api/collections/{collection['id']}/queryables")
        for name, prop in schema["properties"].items():
            if name in ("id", "geometry"):
                continue
            for key in ("title", "x-title-en", "description", "x-description-en"):
                assert isinstance(prop.get(key), str) and prop[key].strip(), (collection["id"], name, key)
            if name in queryables["properties"]:
                assert queryables["properties"][name]["x-description-en"] == prop["x-description-en"]
            checked += 1
    assert checked > 120
    population = get_json(client, "/api/collections/municipalities/schema")["properties"]["population"]
    assert (population["title"], population["x-title-en"]) == ("Einwohner", "Population")


@pytest.mark.parametrize(("lang", "text"), [("de", "Private Haushalte"), ("en", "Private households")])
def test_field_descriptions_on_pages_are_in_the_pages_language(
    client: FlaskClient, lang: str, text: str
) -> None:
    for url in (
        f"/api/collections/districts/queryables?f=html&lang={lang}",
        f"/api/collections/districts/items/jena-winzerla?f=html&lang={lang}",
    ):
        page = client.get(url).get_data(as_text=True)
        assert text in page, url
        other = "Private households" if lang == "de" else "Private Haushalte"
        assert other not in page, url


def test_queryables_page_heads_its_columns_in_words(client: FlaskClient) -> None:
    for lang, word in (("de", "Werte"), ("en", "Values")):
        page = client.get(f"/api/collections/districts/queryables?f=html&lang={lang}").get_data(as_text=True)
        assert f'<th scope="col">{word}</th>' in page
        assert "built-in method" not in page
