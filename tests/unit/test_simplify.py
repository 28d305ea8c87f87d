"""A Land's municipalities simplified for a map zoom: every one is kept, and neighbours still
meet (no gaps, no overlaps, no lost shared boundary), on the shipped data."""

from __future__ import annotations

import json
from functools import cache

import numpy as np
import pytest
import shapely

from conftest import GEODATA
from mapservice.maps.simplify import LAND_EPSG, Topology, simplify_coverage


@cache
def municipalities(land: str) -> tuple[tuple[str, shapely.Geometry], ...]:
    doc = json.loads((GEODATA / "municipalities.geojson").read_text(encoding="utf-8"))
    return tuple(
        (f["properties"]["ags"], shapely.from_geojson(json.dumps(f["geometry"])))
        for f in doc["features"]
        if f["properties"]["land_code"] == land
    )


def _areas(geometry: shapely.Geometry) -> shapely.Geometry:
    """The polygons of a geometry made valid (a ring may cross itself where it is a pixel wide)."""
    parts = shapely.get_parts(shapely.make_valid(geometry))
    return shapely.union_all([p for p in parts if p.geom_type in ("Polygon", "MultiPolygon")])


def _holes(union: shapely.Geometry) -> list[shapely.Geometry]:
    parts = [p for p in shapely.get_parts(union) if p.geom_type == "Polygon"]
    return [shapely.Polygon(ring) for p in parts for ring in p.interiors]


@pytest.mark.parametrize(("land", "zoom"), [("16", 8), ("14", 8), ("16", 10)])
def test_neighbours_still_meet_after_simplification(land: str, zoom: int) -> None:
    stored = municipalities(land)
    topology = simplify_coverage(stored, zoom, LAND_EPSG[land])
    pixel = 360 / 256 / 2**zoom  # degrees of longitude
    simple = np.array([_areas(g) for g in topology.shapes()])
    original = np.array([g for _, g in stored])
    assert topology.ids == [fid for fid, _ in stored]  # every municipality, in order
    assert not any(shapely.is_empty(simple))

    # Lighter: far fewer points than stored.
    assert shapely.get_num_coordinates(simple).sum() < shapely.get_num_coordinates(original).sum() / 2

    union = shapely.union_all(simple)
    # No overlaps: the areas add up to the area of their union (to a millionth of a pixel per town).
    assert shapely.area(simple).sum() - union.area < 1e-4 * union.area
    # No gaps: no hole in the union that is not one of the Land's own (an enclave), larger
    # than a pixel.
    enclaves = _holes(shapely.union_all(original))
    gaps = [h for h in _holes(union) if not any(h.intersects(e) for e in enclaves)]
    assert sum(h.area for h in gaps) < pixel * pixel, [h.centroid.wkt for h in gaps]
    # Neighbours that shared more than three pixels of boundary still share one.
    tree = shapely.STRtree(original)
    lost = []
    for a, b in tree.query(original, predicate="touches").T:
        if a < b and shapely.intersection(original[a], original[b]).length > 3 * pixel:
            shared = shapely.intersection(shapely.boundary(simple[a]), shapely.boundary(simple[b]))
            if shapely.length(shared) == 0:
                lost.append((topology.ids[a], topology.ids[b]))
    assert lost == []


def test_coarser_zooms_are_lighter_and_every_feature_has_a_geometry() -> None:
    stored = municipalities("16")
    sizes = {}
    for zoom in (6, 8, 12):
        topology = simplify_coverage(stored, zoom, LAND_EPSG["16"])
        text = topology.topojson({fid: {"ags": fid} for fid, _ in stored}, name="municipalities")
        doc = json.loads(text)
        geometries = doc["objects"]["municipalities"]["geometries"]
        assert [g["id"] for g in geometries] == [fid for fid, _ in stored]
        assert all(g["type"] in ("Polygon", "MultiPolygon") and g["arcs"] for g in geometries)
        sizes[zoom] = len(text)
        # Even where a town is smaller than a pixel, its GeoJSON is readable.
        assert len(topology.shapes()) == len(stored)
    assert sizes[6] < sizes[8] < sizes[12]


def test_one_town_of_a_land_comes_with_its_own_arcs_only() -> None:
    topology = simplify_coverage(municipalities("16"), 12, LAND_EPSG["16"])
    doc = json.loads(topology.topojson({"16053000": {"name": "Jena"}}, name="municipalities"))
    (jena,) = doc["objects"]["municipalities"]["geometries"]
    used = {i if i >= 0 else ~i for ring in _rings(jena) for i in ring}
    assert used == set(range(len(doc["arcs"])))


def _rings(geometry: dict[str, object]) -> list[list[int]]:
    arcs = geometry["arcs"]
    assert isinstance(arcs, list)
    return [ring for polygon in arcs for ring in polygon] if geometry["type"] == "MultiPolygon" else arcs


def test_an_empty_layer_gives_an_empty_topology() -> None:
    topology = simplify_coverage([], 8, 25832)
    assert isinstance(topology, Topology)
    assert json.loads(topology.topojson({}))["objects"]["features"]["geometries"] == []
