"""End to end: GDAL's OAPIF driver (Debian's gdal-bin) builds each layer's fields from the
collection's schema (OGC API – Features Part 5), not from the first page of features.

Before the schema, the first districts GDAL sees are Chemnitz's with empty values, so
``households`` and ``population`` came out as String; and the empty layers (no features yet)
came out with no fields and no geometry type, so nobody could digitise the first camera.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import requests
from test_gdal_paging import gdal_tool, run_gdal

from conftest import Server

pytestmark = pytest.mark.e2e


def fields_and_geometry(server: Server, layer: str, tmp_path: Path) -> tuple[dict[str, str], str, int]:
    """What ``ogrinfo -so`` reports of a layer: field → type, geometry type, feature count."""
    out = run_gdal(
        [gdal_tool("ogrinfo"), "-so", f"OAPIF:{server.url}/api", layer], "mapservice-test-schema", tmp_path
    ).stdout
    fields = dict(re.findall(r"^(\w+): (\w+(?:\(\w+\))?) \(", out, re.MULTILINE))
    geometry = re.search(r"^Geometry: (.+)$", out, re.MULTILINE)
    count = re.search(r"^Feature Count: (\d+)$", out, re.MULTILINE)
    assert geometry and count, out
    return fields, geometry[1], int(count[1])


def test_gdal_reads_number_fields_as_numbers(live_server: Server, tmp_path: Path) -> None:
    fields, geometry, count = fields_and_geometry(live_server, "districts", tmp_path)
    assert count > 0
    assert geometry == "Multi Polygon"
    assert fields["households"] == "Integer", fields
    assert fields["population"] == "Integer", fields
    assert fields["official_number"] == "Integer", fields
    assert fields["area_km2"] == "Real", fields
    assert fields["name"] == "String", fields
    # Dates the sources give as a month only ("2023-03") stay text: as Date, GDAL drops them.
    assert fields["verified_on"] == "String", fields
    assert list(fields).count("id") == 1


@pytest.mark.parametrize("layer", ["video-surveillance", "graffiti-zones"])
def test_an_empty_layer_arrives_with_its_fields_and_geometry_type(
    live_server: Server, tmp_path: Path, layer: str
) -> None:
    schema = requests.get(f"{live_server.url}/api/collections/{layer}/schema", timeout=30).json()
    declared = [name for name, prop in schema["properties"].items() if "x-ogc-role" not in prop]
    fields, geometry, count = fields_and_geometry(live_server, layer, tmp_path)
    if count:
        pytest.fail(f"{layer} is no longer empty in the demo data: this test needs an empty layer")
    assert declared and set(declared) <= set(fields), set(declared) - set(fields)
    role = schema["properties"]["geometry"]
    assert role["x-ogc-role"] == "primary-geometry"
    # graffiti-zones declares points, lines and polygons: one table of any geometry.
    expected = {
        "geometry-point": "Point",
        "geometry-multipolygon": "Multi Polygon",
        "geometry-any": "Unknown (any)",
    }
    assert geometry == expected[role["format"]], (geometry, role)
    if layer == "video-surveillance":
        assert fields["signage"] == "Integer(Boolean)", fields
        assert fields["retention_hours"] == "Real", fields
