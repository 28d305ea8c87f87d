"""A tiny PMTiles basemap for tests, built from the shipped district polygons of Jena.

TEST DATA: the archive shows nothing but land (one ``earth`` polygon over its bounds), the
outline of the city of Jena and of its 30 Ortsteile (``boundaries``, the union and the
polygons of ``geodata/districts.geojson``) and the city's name at the centre of its outline
(``places``). Layer names and properties follow the Protomaps basemap schema, so that the
vendored theme paints it; everything else a real basemap has (roads, water, buildings) is
missing, and nothing is invented in its place. The metadata ``description`` says so too.

Built with the PyPI packages ``pmtiles`` (writer) and ``mapbox-vector-tile`` (encoder), zoom
6 to 13 over Jena and a margin around it: about two hundred tiles, well under a second.
"""

from __future__ import annotations

import gzip
import json
import math
from pathlib import Path
from typing import Any

import mapbox_vector_tile
import numpy as np
import pytest
import shapely
from pmtiles.tile import Compression, TileType, zxy_to_tileid
from pmtiles.writer import Writer
from shapely.geometry import box, shape

REPO = Path(__file__).resolve().parent.parent
DISTRICTS = REPO / "geodata" / "districts.geojson"
EXTENT = 4096  # MVT coordinates per tile side
MIN_ZOOM, MAX_ZOOM = 6, 13
MARGIN_DEG = 0.12  # around Jena's outline: a map page of Jena stays inside the archive
DESCRIPTION = (
    "TEST DATA made by tests/basemap_fixture.py from geodata/districts.geojson: land, the "
    "outlines of Jena and its Ortsteile, and the city's name. Not a map: no roads, water or "
    "buildings."
)
ATTRIBUTION = "Test data from OpenStreetMap (© OpenStreetMap contributors, ODbL 1.0)"


def _lon_lat_to_tile(lon: float, lat: float, z: int) -> tuple[float, float]:
    """Fractional tile x/y of a point at zoom z (Web Mercator, y down)."""
    n = 2**z
    x = (lon + 180.0) / 360.0 * n
    y = (1.0 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2.0 * n
    return x, y


def _to_tile_coords(geom: Any, z: int, tx: int, ty: int) -> Any:
    """The geometry in the MVT coordinates (0..4096, y down) of tile z/tx/ty."""

    def project(coords: Any) -> Any:
        n = 2**z
        x = (coords[:, 0] + 180.0) / 360.0 * n
        lat = coords[:, 1].clip(-85.0511, 85.0511)
        y = (1.0 - np.arcsinh(np.tan(np.radians(lat))) / math.pi) / 2.0 * n
        return np.column_stack(((x - tx) * EXTENT, (y - ty) * EXTENT))

    return shapely.transform(geom, project)


def _tile_bounds(z: int, tx: int, ty: int) -> tuple[float, float, float, float]:
    """lon/lat bounds of a tile, with a small buffer so that lines do not end at its edge."""
    n = 2**z
    pad = 0.02  # of a tile

    def lon(x: float) -> float:
        return x / n * 360.0 - 180.0

    def lat(y: float) -> float:
        return math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * y / n))))

    return lon(tx - pad), lat(ty + 1 + pad), lon(tx + 1 + pad), lat(ty - pad)


def build_archive(target: Path) -> dict[str, Any]:
    """Write the test archive to ``target``; returns its header values (zooms, bounds)."""
    features = json.loads(DISTRICTS.read_text())["features"]
    jena = [shape(f["geometry"]) for f in features if f["properties"].get("city") == "Jena"]
    if len(jena) != 30:
        raise RuntimeError(f"{DISTRICTS}: expected Jena's 30 Ortsteile, found {len(jena)}")
    city = shapely.union_all(jena)
    minx, miny, maxx, maxy = city.bounds
    bounds = (minx - MARGIN_DEG, miny - MARGIN_DEG, maxx + MARGIN_DEG, maxy + MARGIN_DEG)
    area = box(*bounds)
    centre = city.representative_point()
    outlines = [(city.boundary, 8)] + [(d.boundary, 10) for d in jena]  # admin levels in OSM Germany

    tiles: list[tuple[int, bytes]] = []
    for z in range(MIN_ZOOM, MAX_ZOOM + 1):
        # Half an MVT unit at this zoom (in degrees of latitude, the shorter side here): the
        # encoder snaps to whole units anyway, so the tiles look the same and encode fast.
        tolerance = 360.0 / 2**z / EXTENT * math.cos(math.radians(centre.y)) / 2
        lines = [(shapely.simplify(line, tolerance, preserve_topology=False), lv) for line, lv in outlines]
        x0, y0 = _lon_lat_to_tile(bounds[0], bounds[3], z)
        x1, y1 = _lon_lat_to_tile(bounds[2], bounds[1], z)
        for tx in range(int(x0), int(x1) + 1):
            for ty in range(int(y0), int(y1) + 1):
                rect = _tile_bounds(z, tx, ty)
                clip = box(*rect)
                layers = [
                    {
                        "name": "earth",
                        "features": [
                            {
                                "geometry": _to_tile_coords(shapely.clip_by_rect(area, *rect), z, tx, ty),
                                "properties": {"kind": "earth"},
                            }
                        ],
                    },
                    {
                        "name": "boundaries",
                        "features": [
                            {
                                "geometry": _to_tile_coords(shapely.clip_by_rect(line, *rect), z, tx, ty),
                                "properties": {"kind": "locality", "kind_detail": level},
                            }
                            for line, level in lines
                            if line.intersects(clip)
                        ],
                    },
                ]
                if centre.intersects(clip) and z >= 9:
                    layers.append(
                        {
                            "name": "places",
                            "features": [
                                {
                                    "geometry": _to_tile_coords(centre, z, tx, ty),
                                    "properties": {
                                        "kind": "locality",
                                        "name": "Jena",
                                        "name:de": "Jena",
                                        "name:en": "Jena",
                                    },
                                }
                            ],
                        }
                    )
                data = mapbox_vector_tile.encode(
                    layers, default_options={"y_coord_down": True, "extents": EXTENT}
                )
                tiles.append((zxy_to_tileid(z, tx, ty), gzip.compress(data, mtime=0)))

    header = {
        "tile_type": TileType.MVT,
        "tile_compression": Compression.GZIP,
        "min_lon_e7": int(bounds[0] * 1e7),
        "min_lat_e7": int(bounds[1] * 1e7),
        "max_lon_e7": int(bounds[2] * 1e7),
        "max_lat_e7": int(bounds[3] * 1e7),
        "center_zoom": 11,
        "center_lon_e7": int(centre.x * 1e7),
        "center_lat_e7": int(centre.y * 1e7),
    }
    metadata = {
        "name": "District Safety Map test basemap",
        "description": DESCRIPTION,
        "attribution": ATTRIBUTION,
        "type": "baselayer",
        "vector_layers": [
            {"id": "earth", "fields": {"kind": "String"}},
            {"id": "boundaries", "fields": {"kind": "String", "kind_detail": "Number"}},
            {"id": "places", "fields": {"kind": "String", "name": "String"}},
        ],
    }
    with target.open("wb") as fh:
        writer = Writer(fh)
        for tile_id, data in sorted(tiles):
            writer.write_tile(tile_id, data)
        writer.finalize(header, metadata)
    return {
        "min_zoom": MIN_ZOOM,
        "max_zoom": MAX_ZOOM,
        "bounds": bounds,
        "tiles": len(tiles),
    }


@pytest.fixture(scope="session", name="basemap_archive")
def basemap_archive_fixture(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The test archive, built once per session (import this function to use the fixture)."""
    target = tmp_path_factory.mktemp("basemap") / "jena-test.pmtiles"
    build_archive(target)
    return target
