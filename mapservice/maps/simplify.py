"""Polygons of a whole Land simplified for the zoom a map shows them at, neighbours still meeting.

The stored municipalities are 1:250 000 outlines: Thuringia's 849 are about 700 kB of gzipped
GeoJSON, for a map that opens at zoom 8, where one screen pixel is 385 m. Here the polygons of
a Land are simplified together, as one coverage (``shapely.coverage_simplify``: each shared
edge is simplified once, so two neighbours keep the same boundary and no gap or overlap
opens), in the Land's metric CRS (ETRS89 / UTM, the planner's), to a pixel and a half of the
zoom. The result is written as TopoJSON, each point a whole number of pixels from the one before.
Thuringia at zoom 8 is then about 45 kB gzipped, its properties included.

Leaflet draws at whole pixels and itself simplifies every line to one pixel, so a map drawn
from this level looks as it did from the full geometry. A level is computed once per data
version and zoom (``Services.cached``) and then only written out.
"""

from __future__ import annotations

import functools
import itertools
import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import shapely
from pyproj import Transformer

from ..planner.metrics import LAND_EPSG
from ..store.base import Filter
from .outlines import DEGREES_PER_PIXEL_Z0

if TYPE_CHECKING:
    from ..services import Services

# Zooms outside this range get the nearest level. Below 6 a Land is a few dozen pixels; from
# 12 on one pixel (24 m) is finer than the stored 1:250 000 outlines, which are drawn as stored.
MIN_LEVEL, MAX_LEVEL = 6, 12
# One pixel at zoom 0 in metres at the equator (web mercator, 256-pixel tiles).
_METRES_PER_PIXEL_Z0 = 156_543.034

# How far a simplified boundary may be from the stored one, and the grid its points are put
# on, in screen pixels of the level's zoom. Leaflet draws on whole pixels and simplifies every
# line by a pixel itself; 1.5 instead of 1 takes a tenth off Thuringia at zoom 8 (what keeps
# the Land planner's first view under 150 kB) and is not to be seen on a map of 849 areas.
TOLERANCE_PIXELS = 1.5
QUANTA_PER_PIXEL = 1
Point = tuple[int, int]
# Each Land is simplified in the planner's metric CRS (LAND_EPSG); both Lands together in UTM
# 32N, which still covers Saxony well enough for a pixel.
BOTH_LANDS_EPSG = 25832


def clamp_level(zoom: int) -> int:
    return max(MIN_LEVEL, min(MAX_LEVEL, zoom))


@dataclass(frozen=True)
class Topology:
    """The polygons of one layer (one Land) at one zoom: the arcs and, per feature, the arcs
    of its rings (TopoJSON's encoding: ``~i`` would be arc ``i`` reversed)."""

    ids: list[str]
    kinds: list[str]  # "Polygon" or "MultiPolygon", as stored
    rings: list[list[list[list[int]]]]  # per feature: polygons → rings → arc indexes
    arcs: list[list[list[int]]]  # first point absolute, then steps (TopoJSON delta encoding)
    scale: tuple[float, float]
    translate: tuple[float, float]
    bbox: tuple[float, float, float, float]

    def topojson(
        self,
        properties: Mapping[str, Mapping[str, Any]],
        extra: Mapping[str, Any] | None = None,
        name: str = "features",
    ) -> str:
        """The TopoJSON text: the features in ``properties`` (by id, unchanged, in that
        order) as object ``name``; ``extra`` as members beside it."""
        index = {fid: i for i, fid in enumerate(self.ids)}
        # Only the arcs the chosen features use (one town of a Land: a few), numbered anew.
        renumbered: dict[int, int] = {}

        def arc(i: int) -> int:
            plain = i if i >= 0 else ~i
            new = renumbered.setdefault(plain, len(renumbered))
            return new if i >= 0 else ~new

        geometries = []
        for fid, props in properties.items():
            i = index.get(fid)
            if i is None:  # no location: kept, as GeoJSON keeps a null geometry
                geometries.append({"type": None, "id": fid, "properties": props})
                continue
            polygons = [[[arc(a) for a in ring] for ring in polygon] for polygon in self.rings[i]]
            arcs: Any = polygons if self.kinds[i] == "MultiPolygon" else polygons[0]
            geometries.append({"type": self.kinds[i], "id": fid, "properties": props, "arcs": arcs})
        doc = {
            "type": "Topology",
            "bbox": list(self.bbox),
            "transform": {"scale": list(self.scale), "translate": list(self.translate)},
            "objects": {name: {"type": "GeometryCollection", "geometries": geometries}},
            "arcs": [self.arcs[plain] for plain in renumbered],
            **(extra or {}),
        }
        return json.dumps(doc, ensure_ascii=False, separators=(",", ":"), allow_nan=False)

    def geojson_geometries(self) -> dict[str, str]:
        """Each feature's geometry as GeoJSON text, by id, decoded from the arcs (so shared
        boundaries stay identical), with as many decimals as the quantisation has."""
        digits = max(0, math.ceil(-math.log10(min(self.scale)))) + 1
        absolute = [self._absolute(arc) for arc in self.arcs]
        out = {}
        for fid, kind, polygons in zip(self.ids, self.kinds, self.rings, strict=True):
            coordinates = [
                [_ring_points(ring, absolute, self.scale, self.translate, digits) for ring in polygon]
                for polygon in polygons
            ]
            value: Any = coordinates if kind == "MultiPolygon" else coordinates[0]
            out[fid] = json.dumps({"type": kind, "coordinates": value}, separators=(",", ":"))
        return out

    @staticmethod
    def _absolute(arc: list[list[int]]) -> list[Point]:
        x = y = 0
        points = []
        for dx, dy in arc:
            x += dx
            y += dy
            points.append((x, y))
        return points

    def shapes(self) -> list[shapely.Geometry]:
        """The features as shapely polygons in lon/lat (for checks: neighbours meet)."""
        return [shapely.from_geojson(text) for text in self.geojson_geometries().values()]


def _ring_points(
    ring: list[int],
    absolute: list[list[Point]],
    scale: tuple[float, float],
    translate: tuple[float, float],
    digits: int,
) -> list[list[float]]:
    points: list[Point] = []
    for index in ring:
        arc = absolute[index] if index >= 0 else absolute[~index][::-1]
        points.extend(arc if not points else arc[1:])  # an arc starts where the last ended
    # A ring smaller than a pixel may have collapsed; GeoJSON readers want four positions.
    points += [points[0]] * (4 - len(points))
    return [
        [round(x * scale[0] + translate[0], digits), round(y * scale[1] + translate[1], digits)]
        for x, y in points
    ]


@functools.lru_cache(maxsize=8)
def _transformers(epsg: int) -> tuple[Transformer, Transformer]:
    return (
        Transformer.from_crs(4326, epsg, always_xy=True),
        Transformer.from_crs(epsg, 4326, always_xy=True),
    )


def tolerance_m(zoom: int, latitude: float) -> float:
    """One screen pixel at ``zoom`` and ``latitude``, in metres on the ground."""
    return _METRES_PER_PIXEL_Z0 * math.cos(math.radians(latitude)) / 2.0**zoom


def simplify_coverage(
    features: Iterable[tuple[str, shapely.Geometry | None]], zoom: int, epsg: int
) -> Topology:
    """The polygons (id, geometry in lon/lat) simplified together to a pixel of ``zoom`` in the
    metric CRS ``epsg``, as a topology quantised to pixels.

    The polygons must form a coverage (no overlaps; neighbours share their vertices), as the
    municipalities of a Land do; other polygons are simplified one by one instead, which keeps
    each valid but may open slivers between them.
    """
    located = [(fid, g) for fid, g in features if g is not None and not g.is_empty]
    ids = [fid for fid, _ in located]
    geoms = np.array([g for _, g in located], dtype=object)
    if len(geoms) == 0:
        return Topology([], [], [], [], (1.0, 1.0), (0.0, 0.0), (0.0, 0.0, 0.0, 0.0))
    minx, miny, maxx, maxy = (float(v) for v in shapely.total_bounds(geoms))
    middle = (miny + maxy) / 2
    forward, inverse = _transformers(epsg)
    metric = shapely.transform(geoms, lambda c: np.column_stack(forward.transform(c[:, 0], c[:, 1])))
    tolerance = tolerance_m(zoom, middle) * TOLERANCE_PIXELS
    if bool(shapely.coverage_is_valid(metric)):
        simple = shapely.coverage_simplify(metric, tolerance)
    else:
        simple = shapely.simplify(metric, tolerance, preserve_topology=True)
    lonlat = shapely.transform(simple, lambda c: np.column_stack(inverse.transform(c[:, 0], c[:, 1])))
    # Every feature keeps a shape: one the simplification emptied is drawn as stored.
    lonlat = np.where(shapely.is_empty(lonlat), geoms, lonlat)
    # One pixel, the grid Leaflet draws on: east-west in degrees of longitude, north-south the
    # same distance on the map.
    step_x = DEGREES_PER_PIXEL_Z0 / 2**zoom / QUANTA_PER_PIXEL
    step_y = step_x * math.cos(math.radians(middle))
    rings = [
        [[_quantise(ring, minx, miny, step_x, step_y) for ring in polygon] for polygon in _polygons(g)]
        for g in lonlat
    ]
    arcs, encoded = _arcs(rings)
    return Topology(
        ids=ids,
        kinds=[str(g.geom_type) for _, g in located],
        rings=encoded,
        arcs=[_deltas(arc) for arc in arcs],
        scale=(step_x, step_y),
        translate=(minx, miny),
        bbox=(round(minx, 6), round(miny, 6), round(maxx, 6), round(maxy, 6)),
    )


def _polygons(geometry: shapely.Geometry) -> list[list[Sequence[tuple[float, float]]]]:
    parts = list(geometry.geoms) if geometry.geom_type == "MultiPolygon" else [geometry]
    return [[p.exterior.coords, *(r.coords for r in p.interiors)] for p in parts if not p.is_empty]


def _quantise(ring: Sequence[tuple[float, float]], x0: float, y0: float, sx: float, sy: float) -> list[Point]:
    out: list[Point] = []
    for x, y in ring:
        point = (round((x - x0) / sx), round((y - y0) / sy))
        if not out or point != out[-1]:
            out.append(point)
    return out


def _arcs(features: list[list[list[list[Point]]]]) -> tuple[list[list[Point]], list[list[list[list[int]]]]]:
    """One arc per ring.

    TopoJSON could keep each boundary two neighbours share once, but the arc numbers and the
    absolute first point of every arc cost more than they save: Thuringia at zoom 8 was 34 kB
    gzipped that way and is 23 kB with a ring per arc (gzip finds most of the second copy).
    Neighbours meet all the same: both rings have the same points, from one simplification."""
    arcs: list[list[Point]] = []
    encoded = []
    for polygons in features:
        feature = []
        for polygon in polygons:
            rings = []
            for ring in polygon:
                rings.append([len(arcs)])
                arcs.append(ring if len(ring) > 1 else ring * 2)  # a ring smaller than a pixel
            feature.append(rings)
        encoded.append(feature)
    return arcs, encoded


def _deltas(points: list[Point]) -> list[list[int]]:
    out = [[points[0][0], points[0][1]]]
    for (x0, y0), (x1, y1) in itertools.pairwise(points):
        out.append([x1 - x0, y1 - y0])
    return out


def coverage_topology(services: Services, land: str | None, zoom: int) -> Topology:
    """The municipalities of ``land`` (both Lands: None) at the level of ``zoom``, keyed by
    their AGS; computed once per data version and level.

    In the per-map cache, as the orientation outlines are: up to a dozen levels of two Lands
    must never push the finder's index or the planner's rankings out of the shared one."""
    level = clamp_level(zoom)

    def compute() -> Topology:
        filters = (Filter("land_code", land),) if land else ()
        shapes = services.public_store.shapes("municipalities", filters)
        keyed = ((str(s.properties.get("ags") or s.id), s.geometry) for s in shapes)
        return simplify_coverage(keyed, level, LAND_EPSG.get(land or "", BOTH_LANDS_EPSG))

    name = ("coverage-topology", land, level)
    return services.cached(name, ("municipalities",), compute, services.map_bounds)


def coverage_bounds(services: Services, land: str) -> tuple[float, float, float, float] | None:
    """The bounds of a Land's municipalities (minlon, minlat, maxlon, maxlat), which its map
    opens on; cached per data version like the levels."""

    def compute() -> tuple[float, float, float, float] | None:
        shapes = services.public_store.shapes("municipalities", (Filter("land_code", land),))
        located = [s.geometry for s in shapes if s.geometry is not None]
        if not located:
            return None
        minx, miny, maxx, maxy = (float(v) for v in shapely.total_bounds(located))
        return minx, miny, maxx, maxy

    return services.cached(("coverage-bounds", land), ("municipalities",), compute, services.map_bounds)
