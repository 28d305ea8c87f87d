"""OGC API – Features Part 2 (CRS by reference): the CRSs the API speaks and the transforms.

Everything the store holds is CRS84 (lon/lat, RFC 7946). A response in another CRS is the
same features transformed on the way out; a ``bbox`` in another CRS is turned into the
lon/lat box the store selects by.

Coordinates are in each CRS's own axis order, as Part 2 requires: EPSG:4326 is lat,lon,
EPSG:25832/25833 easting,northing, EPSG:3857 x,y. The transformers are built with
``always_xy=False`` (the authority's order on both sides; CRS84 is lon,lat by definition), so
pyproj and the table below agree on that order without any swapping here.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import shapely
from pyproj import Transformer

from ..http import params  # bad(); a module import, because params.py imports this module too
from ..store.base import BBox, StoredFeature

CRS84_URI = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
EPSG_URI = "http://www.opengis.net/def/crs/EPSG/0/"

# Points per edge when a box is transformed: the edges of a box in one CRS are curves in
# another, and 21 points keep the covering box within millimetres of the curve at city scale.
DENSIFY_POINTS = 21


@dataclass(frozen=True)
class Crs:
    uri: str
    code: str  # as pyproj and the safe CURIE ([EPSG:25832]) name it
    title: str
    # The axes in the CRS's own order, as coordinates and a bbox in it are written.
    axes: tuple[str, str]
    # Decimals of an output coordinate: millimetres for metres, about 1 cm for degrees.
    decimals: int
    # Where a bbox in this CRS may lie (lon/lat): beyond it the numbers are no place the CRS
    # describes, and a transform would give a box of nonsense rather than an error.
    area: BBox

    @property
    def geographic(self) -> bool:
        return "Lat" in self.axes


CRS84 = Crs(CRS84_URI, "OGC:CRS84", "WGS 84 (lon/lat)", ("Lon", "Lat"), 7, (-180.0, -90.0, 180.0, 90.0))
SUPPORTED: tuple[Crs, ...] = (
    CRS84,
    Crs(f"{EPSG_URI}4326", "EPSG:4326", "WGS 84 (lat/lon)", ("Lat", "Lon"), 7, (-180.0, -90.0, 180.0, 90.0)),
    # The EPSG area of use of a UTM zone is 6° wide, but German states keep all their data in
    # one zone beyond it (Thuringia and Saxony reach 12.7°E, past zone 32's 12°E), and the
    # transverse Mercator stays exact there: a neighbouring zone on each side is accepted.
    Crs(
        f"{EPSG_URI}25832",
        "EPSG:25832",
        "ETRS89 / UTM zone 32N",
        ("Easting", "Northing"),
        3,
        (0.0, 36.5, 18.0, 84.0),
    ),
    Crs(
        f"{EPSG_URI}25833",
        "EPSG:25833",
        "ETRS89 / UTM zone 33N",
        ("Easting", "Northing"),
        3,
        (6.0, 34.8, 24.0, 84.0),
    ),
    Crs(
        f"{EPSG_URI}3857",
        "EPSG:3857",
        "WGS 84 / Pseudo-Mercator",
        ("Easting", "Northing"),
        3,
        (-180.0, -85.06, 180.0, 85.06),
    ),
)
SUPPORTED_URIS: tuple[str, ...] = tuple(crs.uri for crs in SUPPORTED)
_BY_NAME = {name: crs for crs in SUPPORTED for name in (crs.uri, f"[{crs.code}]")}


def parse_crs(parameter_name: str, raw: str | None) -> Crs:
    """The CRS a parameter names (a URI or a safe CURIE such as ``[EPSG:25832]``); CRS84 when
    it is not given; a 400 naming the parameter for any other."""
    if raw is None:
        return CRS84
    found = _BY_NAME.get(raw)
    if found is None:
        supported = ", ".join(SUPPORTED_URIS)
        raise params.bad(
            parameter_name,
            f"'{raw}' is not a supported CRS (supported: {supported})",
            key="unsupported_crs",
            crs=raw,
            supported=supported,
        )
    return found


@functools.cache
def transformer(source: Crs, target: Crs) -> Transformer:
    """One Transformer per pair for the process (building one reads the PROJ database; since
    pyproj 3.1 a Transformer may be shared between threads)."""
    return Transformer.from_crs(source.code, target.code, always_xy=False)


def _transform(geom: shapely.Geometry, source: Crs, target: Crs, decimals: int | None) -> shapely.Geometry:
    forward = transformer(source, target)

    def coordinates(xy: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        first, second = forward.transform(xy[:, 0], xy[:, 1])
        out = np.column_stack((first, second))
        return out if decimals is None else np.round(out, decimals)

    # One call for every coordinate of the geometry (or of an array of geometries).
    return shapely.transform(geom, coordinates)


def geometry_from_crs84(geom: shapely.Geometry, crs: Crs) -> shapely.Geometry:
    """A CRS84 geometry in ``crs`` (its axis order), rounded to the CRS's precision."""
    if crs == CRS84:
        return geom
    return _transform(geom, CRS84, crs, crs.decimals)


def geometry_to_crs84(geom: shapely.Geometry, crs: Crs) -> shapely.Geometry:
    """A geometry given in ``crs`` (its axis order) in CRS84, unrounded."""
    if crs == CRS84:
        return geom
    return _transform(geom, crs, CRS84, None)


def features_in(features: Sequence[StoredFeature], crs: Crs) -> list[StoredFeature]:
    """Features from the store (CRS84 GeoJSON texts) with their geometries in ``crs``."""
    if crs == CRS84:
        return list(features)
    present = [i for i, f in enumerate(features) if f.geometry is not None]
    shapes = shapely.from_geojson([features[i].geometry for i in present])
    texts = shapely.to_geojson(geometry_from_crs84(shapes, crs))
    out = list(features)
    for i, text in zip(present, texts, strict=True):
        out[i] = dataclasses.replace(features[i], geometry=str(text))
    return out


@functools.cache
def _axis_limits(crs: Crs) -> tuple[tuple[float, float], tuple[float, float]]:
    """The range of each axis (in the CRS's order) over the area where a bbox may lie."""
    west, south, east, north = crs.area
    if crs.geographic:
        lon, lat = (west, east), (south, north)
        return (lat, lon) if crs.axes[0] == "Lat" else (lon, lat)
    low_1, low_2, high_1, high_2 = transformer(CRS84, crs).transform_bounds(
        west, south, east, north, densify_pts=DENSIFY_POINTS
    )
    return (low_1, high_1), (low_2, high_2)


def _number(value: float) -> str:
    return f"{value:.10g}"


def bbox_to_crs84(box: BBox, crs: Crs) -> BBox:
    """``bbox`` given in ``crs`` (min and max of each axis, in the CRS's axis order) as the
    lon/lat box that covers it, or a 400 naming the axis that is out of range.

    The store's spatial index reads lon/lat boxes. A box in a projected CRS is a curved,
    slightly rotated quadrilateral in lon/lat (in Jena about 2° against the meridians of zone
    32): the covering box is the index's first cut, and :func:`bbox_outline_crs84` the exact
    test after it, so that a feature reaching only into the slivers between the two is not
    selected.
    """
    minimum, maximum = box[:2], box[2:]
    for axis, low, high, (limit_low, limit_high) in zip(
        crs.axes, minimum, maximum, _axis_limits(crs), strict=True
    ):
        for name, value in ((f"min{axis}", low), (f"max{axis}", high)):
            if not limit_low <= value <= limit_high:
                where = "" if crs == CRS84 else f" where {crs.code} applies"
                allowed = f"{_number(limit_low)}..{_number(limit_high)}"
                raise params.bad("bbox", f"{name} {_number(value)} is outside {allowed}{where}")
        if low > high:
            raise params.bad("bbox", f"min{axis} {_number(low)} is greater than max{axis} {_number(high)}")
    if crs == CRS84:
        return box
    west, south, east, north = transformer(crs, CRS84).transform_bounds(*box, densify_pts=DENSIFY_POINTS)
    return (west, south, east, north)


def bbox_outline_crs84(box: BBox, crs: Crs) -> shapely.Geometry | None:
    """The ``bbox`` given in ``crs`` as the lon/lat polygon it covers, where that is not the
    lon/lat box itself: in a transverse Mercator (UTM) its edges are neither meridians nor
    parallels. None for lon/lat and Web Mercator, whose axes follow them."""
    if crs.geographic or crs.code == "EPSG:3857":
        return None
    minimum_side = min(box[2] - box[0], box[3] - box[1])
    rectangle = shapely.box(*box)
    if minimum_side > 0:
        # Straight in metres, curved in degrees: points along the edges keep the curve.
        rectangle = shapely.segmentize(rectangle, minimum_side / (DENSIFY_POINTS - 1))
    return geometry_to_crs84(rectangle, crs)
