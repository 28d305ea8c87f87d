"""Camera field of view as polygons: wedges from direction, opening angle and range.

Computed in the metric UTM zone of the camera (so ``range_m`` is metres on the ground) and
returned in lon/lat. ``direction`` follows OpenStreetMap ``camera:direction`` /
``direction``: degrees clockwise from north, a range ``300-60`` (the wedge spans it), several
separated by ``;``. Dome and panorama cameras see all around: a full circle.
"""

from __future__ import annotations

import functools
import math
import re
from typing import Any

import numpy as np
import shapely
from pyproj import Transformer
from shapely.geometry import Point, Polygon
from shapely.ops import unary_union

ARC_STEP_DEG = 5.0
_PART = re.compile(r"^\s*(\d{1,3}(?:\.\d+)?)\s*(?:-\s*(\d{1,3}(?:\.\d+)?))?\s*$")


def utm_epsg(lon: float, lat: float) -> int:
    """ETRS89 / UTM for Germany (25832 west of 12° E, 25833 east), WGS 84 / UTM elsewhere."""
    zone = int((lon + 180) // 6) + 1
    if 47 <= lat <= 56 and zone in (32, 33):
        return 25800 + zone
    return (32600 if lat >= 0 else 32700) + zone


@functools.lru_cache(maxsize=8)
def _transformers(epsg: int) -> tuple[Transformer, Transformer]:
    forward = Transformer.from_crs(4326, epsg, always_xy=True)
    back = Transformer.from_crs(epsg, 4326, always_xy=True)
    return forward, back


def _back(back: Transformer, xy: Any) -> Any:
    lon, lat = back.transform(xy[:, 0], xy[:, 1])
    return np.column_stack([lon, lat])


def parse_directions(direction: str) -> list[tuple[float, float | None]]:
    """``"90"`` → [(90, None)]; ``"300-60; 180"`` → [(300, 60), (180, None)]."""
    out: list[tuple[float, float | None]] = []
    for part in direction.split(";"):
        if not part.strip():
            continue
        found = _PART.match(part)
        if not found:
            raise ValueError(f"'{part.strip()}' is not a direction in degrees or a range a-b")
        start = float(found.group(1)) % 360
        end = float(found.group(2)) % 360 if found.group(2) else None
        out.append((start, end))
    return out


def _wedge(center_x: float, center_y: float, from_deg: float, span_deg: float, range_m: float) -> Polygon:
    steps = max(2, math.ceil(span_deg / ARC_STEP_DEG))
    arc = []
    for i in range(steps + 1):
        bearing = math.radians(from_deg + span_deg * i / steps)
        # Bearings run clockwise from north: x = sin, y = cos.
        arc.append((center_x + range_m * math.sin(bearing), center_y + range_m * math.cos(bearing)))
    return Polygon([(center_x, center_y), *arc, (center_x, center_y)])


def field_of_view(
    lon: float,
    lat: float,
    direction: str | None,
    hfov_deg: float | None,
    range_m: float | None,
    camera_type: str | None,
) -> shapely.Geometry | None:
    """The area a camera sees, in lon/lat; None when the range is unknown.

    Without a range nothing honest can be drawn; without a direction (or without an opening
    angle for a single direction) only an all-round camera (dome, panorama) has a known shape.
    """
    if range_m is None or range_m <= 0:
        return None
    forward, back = _transformers(utm_epsg(lon, lat))
    x, y = forward.transform(lon, lat)
    parts: list[Polygon] = []
    if camera_type in ("dome", "panorama") or (hfov_deg is not None and hfov_deg >= 360):
        parts.append(Point(x, y).buffer(range_m, quad_segs=18))
    elif direction:
        for start, end in parse_directions(direction):
            if end is not None:
                span = (end - start) % 360 or 360.0
                parts.append(_wedge(x, y, start, span, range_m))
            elif hfov_deg:
                parts.append(_wedge(x, y, start - hfov_deg / 2, hfov_deg, range_m))
            # A single direction without an opening angle has no known shape: nothing drawn.
    if not parts:
        return None
    metric = unary_union(parts)
    return shapely.transform(metric, lambda xy: _back(back, xy))
