"""Static choropleths for the printed report: SVG drawn on the server from the geometries.

No tiles and no script: a printed page cannot load a basemap, and the report must not ask
any other server for anything. The outlines are projected once per report (longitude scaled
by the cosine of the mean latitude, which keeps shapes true at city and Land scale), thinned
to about half a drawn pixel and reused for every metric; only the fills change.
"""

from __future__ import annotations

import base64
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import shapely
from markupsafe import Markup, escape

from . import view as pv

WIDTH = 640.0
MAX_HEIGHT = 560.0
MARGIN = 4.0


@dataclass(frozen=True)
class Outlines:
    """The rows' polygons as SVG path data in one shared frame; ``None`` where a row has none."""

    paths: tuple[str | None, ...]
    width: float
    height: float


def _ring(coords: Any, out: list[str]) -> None:
    points = [f"{x:.0f} {y:.0f}" for x, y in coords]
    if len(points) >= 3:
        out.append("M" + "L".join(points) + "Z")


def _path(geom: shapely.Geometry) -> str:
    parts: list[str] = []
    for poly in getattr(geom, "geoms", [geom]):
        if poly.geom_type != "Polygon" or poly.is_empty:
            continue
        _ring(poly.exterior.coords, parts)
        for hole in poly.interiors:
            _ring(hole.coords, parts)
    return "".join(parts)


def outlines(rows: Sequence[Mapping[str, Any]]) -> Outlines:
    """Project, fit into ``WIDTH`` × at most ``MAX_HEIGHT`` and thin the rows' geometries."""
    geoms: list[shapely.Geometry | None] = []
    for row in rows:
        text = row.get("geometry")
        geoms.append(shapely.from_geojson(text) if isinstance(text, str) and text else None)
    present = [g for g in geoms if g is not None and not g.is_empty]
    if not present:
        return Outlines(tuple(None for _ in rows), WIDTH, 0.0)
    minx, miny, maxx, maxy = shapely.total_bounds(present)
    k = math.cos(math.radians((miny + maxy) / 2))
    span_x = max((maxx - minx) * k, 1e-9)
    span_y = max(maxy - miny, 1e-9)
    scale = min((WIDTH - 2 * MARGIN) / span_x, (MAX_HEIGHT - 2 * MARGIN) / span_y)
    height = span_y * scale + 2 * MARGIN

    def to_page(coords: Any) -> Any:
        coords[:, 0] = MARGIN + (coords[:, 0] - minx) * k * scale
        coords[:, 1] = MARGIN + (maxy - coords[:, 1]) * scale  # SVG's y grows downwards
        return coords

    paths: list[str | None] = []
    for g in geoms:
        if g is None or g.is_empty:
            paths.append(None)
            continue
        # One drawn unit (a quarter of a millimetre in print): finer detail cannot be seen,
        # and it would make every map slow to print.
        drawn = shapely.simplify(shapely.transform(g, to_page), 1.0, preserve_topology=True)
        paths.append(_path(drawn) or None)
    return Outlines(tuple(paths), WIDTH, height)


def hatch_pattern(pattern_id: str) -> str:
    """The "unknown" fill, the same diagonal hatch as on the planner's map and legend."""
    return (
        f'<pattern id="{pattern_id}" patternUnits="userSpaceOnUse" width="6" height="6" '
        'patternTransform="rotate(45)"><rect width="6" height="6" fill="#e0e0e0"/>'
        '<line x1="0" y1="0" x2="0" y2="6" stroke="#757575" stroke-width="2"/></pattern>'
    )


def choropleth(
    shapes: Outlines,
    rows: Sequence[Mapping[str, Any]],
    metric: pv.Metric,
    legend: Sequence[pv.Class],
    title: str,
    svg_id: str,
) -> Markup:
    """One map: every row's outline filled with its class colour (hatched when unknown)."""
    hatch = f"{svg_id}-hatch"
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {shapes.width:.0f} {shapes.height:.0f}">',
        f"<title>{escape(title)}</title>",
        f"<defs>{hatch_pattern(hatch)}</defs>",
        # One group carries the outline style, so each path is only its data and fill.
        '<g stroke="#444" stroke-width="0.4" stroke-linejoin="round" fill-rule="evenodd">',
    ]
    # One path per fill, not per row: a printer draws a pattern once per path, and a Land
    # has hundreds of unknown municipalities.
    by_fill: dict[str, list[str]] = {}
    for row, path in zip(rows, shapes.paths, strict=True):
        if path is not None:
            by_fill.setdefault(pv.colour_of(metric, row.get(metric.id), legend), []).append(path)
    for fill, paths in by_fill.items():
        paint = f"url(#{hatch})" if fill == pv.HATCH else fill
        parts.append(f'<path d="{"".join(paths)}" fill="{paint}"/>')
    parts.append("</g></svg>")
    # As an image, not inline: WeasyPrint would give each of a Land's thousands of paths a
    # CSS cascade of its own (most of a report's time), and a data: URL needs no fetching.
    data = base64.b64encode("".join(parts).encode()).decode("ascii")
    return Markup(  # noqa: S704 - a data URL and escaped text
        f'<img class="rp-map" src="data:image/svg+xml;base64,{data}" alt="{escape(title)}" '
        f'width="{shapes.width:.0f}" height="{shapes.height:.0f}">'
    )
