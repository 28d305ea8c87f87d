"""Outlines and names of municipalities and districts, simplified for the zoom they are shown at.

Every map draws them for orientation, with or without a basemap (``static/js/dsm-context.js``).
The stored polygons are far too detailed for that: Thuringia's 849 municipalities are 3 MB of
GeoJSON. Simplified to about one screen pixel of the zoom asked for, the outlines of a view are
a few kilobytes, and each set is built once per data version and zoom and then only queried.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import shapely
from shapely import STRtree

from ..store.base import Shape, StoredFeature

OUTLINE_LAYERS = ("municipalities", "districts")
# Zooms outside this range get the nearest one: below 6 a whole Land is a few pixels, above 15
# the stored polygons (1:250 000 for municipalities) are no more exact than the simplification.
MIN_ZOOM, MAX_ZOOM = 6, 15
# Towns this large are named from two zooms further out than the rest (the finder's opening
# view over several towns, a Land's map): the same threshold as the planner's "large town".
MAJOR_POPULATION = 10_000
# One pixel at zoom z on a 256-pixel web-mercator tile, in degrees of longitude.
DEGREES_PER_PIXEL_Z0 = 360.0 / 256.0


@dataclass(frozen=True)
class OutlineSet:
    """The simplified outlines of one layer at one zoom, with a spatial index for bbox queries."""

    ids: list[str]
    names: list[str | None]
    major: list[bool]
    population: list[int | None]
    geometries: np.ndarray  # of shapely geometries, simplified (boundary lines)
    labels: list[tuple[float, float]]  # a point inside each polygon, for its name
    tree: STRtree

    def within(
        self, bbox: tuple[float, float, float, float], outlines: bool = True, major_only: bool = False
    ) -> list[StoredFeature]:
        """The outlines crossing ``bbox`` (minlon, minlat, maxlon, maxlat), as features.

        ``outlines=False``: names and label points only, for a map whose data are these
        polygons already; ``major_only``: only the towns named from further out."""
        hits = sorted(int(i) for i in self.tree.query(shapely.box(*bbox)))
        if major_only:
            hits = [i for i in hits if self.major[i]]
        return [
            StoredFeature(
                self.ids[i],
                {
                    "name": self.names[i],
                    "label": list(self.labels[i]),
                    "major": self.major[i],
                    "population": self.population[i],
                },
                shapely.to_geojson(self.geometries[i]) if outlines else None,
            )
            for i in hits
        ]


def clamp_zoom(zoom: int) -> int:
    return max(MIN_ZOOM, min(MAX_ZOOM, zoom))


def build_outlines(features: Sequence[Shape], zoom: int) -> OutlineSet:
    """Simplify each polygon's boundary to about a pixel of ``zoom``; label at a point inside."""
    located = [f for f in features if f.geometry is not None]
    polygons = np.array([f.geometry for f in located], dtype=object)
    tolerance = DEGREES_PER_PIXEL_Z0 / 2**zoom
    # The boundary, not the polygon: the map draws lines, and a line simplifies without the
    # topology repairs a polygon would need.
    lines = shapely.simplify(shapely.boundary(polygons), tolerance, preserve_topology=False)
    labels = [(round(p.x, 5), round(p.y, 5)) for p in shapely.point_on_surface(polygons)]
    rounded = shapely.set_precision(lines, 1e-5)  # 1 m is plenty for an outline; fewer digits
    return OutlineSet(
        ids=[f.id for f in located],
        names=[f.properties.get("name") for f in located],
        major=[(f.properties.get("population") or 0) >= MAJOR_POPULATION for f in located],
        population=[f.properties.get("population") for f in located],
        geometries=rounded,
        labels=labels,
        tree=STRtree(rounded),
    )


def outlines_json(features: list[StoredFeature]) -> str:
    """A plain GeoJSON FeatureCollection (no paging: a view's outlines are few)."""
    return json.dumps(
        {
            "type": "FeatureCollection",
            "features": [
                {
                    "type": "Feature",
                    "id": f.id,
                    "properties": f.properties,
                    "geometry": json.loads(f.geometry) if f.geometry else None,
                }
                for f in features
            ],
        },
        ensure_ascii=False,
        separators=(",", ":"),
    )
