"""Limits on one feature and one write (issue 15): the rules themselves, without a store.

The API and `mapservice import` on both stores are in tests/api/test_limits.py (this file has
another name: pytest needs distinct basenames across test folders).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sample_features import zone_properties

from mapservice.catalog.layers import load_catalog
from mapservice.catalog.validation import (
    DEFAULT_LIMITS,
    Limits,
    ValidationError,
    count_vertices,
    drop_heights,
    geometry_bounds,
    load_geojson,
    too_many_features,
    validate_features,
    value_problem,
)
from mapservice.config import ConfigError, Settings, load_settings
from mapservice.imports.readers import Options, read_csv

CATALOG = load_catalog(Path(__file__).resolve().parents[2] / "layers")


def zone(geometry: Any, **props: Any) -> dict[str, Any]:
    """A legal graffiti zone in Jena (test data)."""
    return {
        "type": "Feature",
        "id": "test-zone",
        "geometry": geometry,
        "properties": zone_properties(id="test-zone", **props),
    }


def problems_of(feature: dict[str, Any], limits: Limits = DEFAULT_LIMITS) -> list[tuple[str | None, str]]:
    _, found = validate_features(CATALOG["graffiti-zones"], [feature], "test.geojson", limits)
    for problem in found:
        str(problem).encode("utf-8")  # every message can be printed and sent as JSON
    return [(p.field, p.message) for p in found]


def test_the_defaults_are_the_settings_and_a_limit_below_one_is_refused() -> None:
    assert Limits.of(Settings()) == DEFAULT_LIMITS == Limits(20_000, 64, 20_000, 100_000)
    assert Limits.of(load_settings({"max_vertices": 50})).vertices == 50
    with pytest.raises(ConfigError, match="max_features_per_write"):
        load_settings({"max_features_per_write": 0})


def test_a_city_register_of_50000_cameras_is_one_write_and_more_than_the_limit_is_not() -> None:
    assert too_many_features(50_000) is None  # the history benchmark imports this 7 times
    assert too_many_features(100_001) == (
        "has 100,001 features, at most 100,000 are allowed in one write (setting max_features_per_write)"
    )


def test_vertices_are_counted_for_every_geometry_type() -> None:
    ring = [[11.5, 50.9], [11.6, 50.9], [11.6, 51.0], [11.5, 50.9]]
    assert count_vertices({"type": "Point", "coordinates": [11.5, 50.9]}) == 1
    assert count_vertices({"type": "Polygon", "coordinates": [ring, ring]}) == 8
    assert count_vertices({"type": "MultiPolygon", "coordinates": [[ring], [ring, ring]]}) == 12
    nested = {"type": "GeometryCollection", "geometries": [{"type": "LineString", "coordinates": ring}]}
    assert count_vertices({"type": "GeometryCollection", "geometries": [nested, nested]}) == 8


def test_a_geometry_over_the_vertex_limit_is_named_with_the_count_and_the_setting() -> None:
    ring = [[11.5 + i * 1e-6, 50.9 + (i % 2) * 1e-6] for i in range(30)] + [[11.5, 50.9]]
    geometry = {"type": "LineString", "coordinates": ring}
    limits = Limits(vertices=30)
    assert problems_of(zone(geometry), limits) == [
        ("geometry", "31 vertices, at most 30 are allowed (setting max_vertices)")
    ]
    assert geometry_bounds(geometry, Limits(vertices=31)) == []


@pytest.mark.parametrize(
    ("props", "field", "message"),
    [
        ({"name": "Fläche \ud800"}, "name", "text with a lone surrogate (not valid Unicode)"),
        ({"area_m2": 2**63}, "area_m2", "9223372036854775808 is outside the 64-bit integer range"),
        ({"area_m2": -(2**63) - 1}, "area_m2", "-9223372036854775809 is outside the 64-bit integer range"),
        (
            {"rules": "x" * 10_000_001},
            "rules",
            "text of 10,000,001 characters, at most 20,000 are allowed (setting max_text_length)",
        ),
        ({"bad\udc80key": "x"}, "bad\\udc80key", "a property name with a lone surrogate (not valid Unicode)"),
        ({"owner": "Stadt\x00Jena"}, "owner", "text with a NUL character (\\u0000), which cannot be stored"),
    ],
)
def test_hostile_values_are_problems_of_their_field(props: dict[str, Any], field: str, message: str) -> None:
    assert problems_of(zone({"type": "Point", "coordinates": [11.58, 50.92]}, **props)) == [(field, message)]


def test_nesting_beyond_the_limit_is_named_where_it_happens() -> None:
    deep: Any = "x"
    for _ in range(100):
        deep = [deep]
    found = problems_of(zone({"type": "Point", "coordinates": [11.58, 50.92]}, owner=deep))
    assert found == [("owner" + "[0]" * 62, "nested more than 64 levels deep (setting max_nesting)")]
    # A GeometryCollection nested 3,000 deep: no RecursionError, one problem.
    collection: dict[str, Any] = {"type": "Point", "coordinates": [11.58, 50.92]}
    for _ in range(3000):
        collection = {"type": "GeometryCollection", "geometries": [collection]}
    [(where, what)] = problems_of(zone(collection))
    assert where.startswith("geometry.geometries[0].") and what.endswith("(setting max_nesting)")


def test_an_integer_of_ten_thousand_digits_is_described_not_printed() -> None:
    found = value_problem({"n": 10**10_000}, DEFAULT_LIMITS)
    assert found == ("n", "an integer of about 10,001 digits is outside the 64-bit integer range")


@pytest.mark.parametrize(
    ("geometry", "where"),
    [
        ({"type": "Point", "coordinates": [11.58, 50.92, 155.0]}, "geometry.coordinates"),
        (
            {
                "type": "Polygon",
                "coordinates": [[[11.5, 50.9], [11.6, 50.9], [11.6, 51.0], [11.5, 50.9, 0], [11.5, 50.9]]],
            },
            "geometry.coordinates[0][3]",
        ),
        (
            {
                "type": "MultiPolygon",
                "coordinates": [[[[11.5, 50.9, 1], [11.6, 50.9], [11.6, 51], [11.5, 50.9]]]],
            },
            "geometry.coordinates[0][0][0]",
        ),
    ],
)
def test_a_height_is_refused_naming_the_position(geometry: dict[str, Any], where: str) -> None:
    assert problems_of(zone(geometry)) == [
        (where, "has a third value (height); only longitude and latitude are stored")
    ]
    assert problems_of(zone(drop_heights(geometry))) == []


def test_a_geojson_file_nested_3000_deep_is_a_problem_of_the_file(tmp_path: Path) -> None:
    path = tmp_path / "deep.geojson"
    path.write_text('{"type": "FeatureCollection", "features": ' + "[" * 3000 + "]" * 3000 + "}")
    with pytest.raises(ValidationError) as caught:
        load_geojson(path)
    [problem] = caught.value.problems
    assert problem.file == str(path) and "nested too deeply" in problem.message


def test_undecodable_csv_bytes_are_named_by_row_and_column(tmp_path: Path) -> None:
    path = tmp_path / "kameras.csv"
    path.write_bytes(
        "id;name;city\njena-a;Holzmarkt;Jena\njena-b;Stra\xdfe;Jena\njena-c;ok;Jena\n".encode("latin-1")
    )
    with pytest.raises(ValidationError) as caught:
        read_csv(path, Options())
    [problem] = caught.value.problems
    assert str(problem).startswith(
        f"{path}, row 3, field 'name': is not utf-8 text (invalid continuation byte: byte 0xdf"
    )
    assert "--encoding" in str(problem)
    assert read_csv(path, Options(encoding="cp1252")).records[1].values["name"] == "Straße"


def test_a_csv_cell_longer_than_the_csv_module_allows_is_read(tmp_path: Path) -> None:
    path = tmp_path / "lang.csv"
    path.write_text("id;name\njena-a;" + "x" * 200_000 + "\n", encoding="utf-8")
    [record] = read_csv(path, Options()).records
    assert len(record.values["name"]) == 200_000  # refused later by max_text_length, per row


def test_a_coordinate_that_is_not_a_finite_number_is_refused() -> None:
    # Python's JSON parser takes NaN and Infinity, and so would the API without this rule.
    found = problems_of(zone({"type": "Point", "coordinates": [float("inf"), 50.92]}))
    assert found == [("geometry", "geometry has a coordinate that is not a finite number (NaN or Infinity)")]
