"""ogcapi/crs.py on its own: the names it takes, the axis orders, the way back to CRS84 (which
CQL2's ``filter-crs`` uses) and the boxes it hands the store."""

from __future__ import annotations

import pytest
import shapely

from mapservice.http.errors import ApiError
from mapservice.ogcapi.crs import (
    CRS84,
    bbox_to_crs84,
    geometry_from_crs84,
    geometry_to_crs84,
    parse_crs,
    transformer,
)

JENA_MARKET = shapely.Point(11.5890, 50.9290)  # lon, lat


def test_uri_and_safe_curie_name_the_same_crs() -> None:
    assert parse_crs("crs", None) == CRS84
    utm = parse_crs("crs", "http://www.opengis.net/def/crs/EPSG/0/25832")
    assert parse_crs("crs", "[EPSG:25832]") == utm and utm.axes == ("Easting", "Northing")
    assert parse_crs("crs", "[OGC:CRS84]") == CRS84


@pytest.mark.parametrize("raw", ["EPSG:25832", "urn:ogc:def:crs:EPSG::25832", "25832", "", "[EPSG:31468]"])
def test_anything_else_is_a_400_naming_the_parameter(raw: str) -> None:
    with pytest.raises(ApiError) as caught:
        parse_crs("filter-crs", raw)
    assert caught.value.status == 400
    assert "Parameter 'filter-crs'" in str(caught.value.description)


def test_epsg_4326_swaps_the_axes_and_rounds_to_7_decimals() -> None:
    latlon = geometry_from_crs84(
        shapely.Point(11.58901234567, 50.92901234567), parse_crs("crs", "[EPSG:4326]")
    )
    assert (latlon.x, latlon.y) == (50.9290123, 11.5890123)


def test_there_and_back_stays_within_a_micrometre() -> None:
    for name in ("[EPSG:25832]", "[EPSG:25833]", "[EPSG:3857]", "[EPSG:4326]"):
        crs = parse_crs("crs", name)
        line = shapely.LineString([(11.5, 50.85), (11.7, 50.98)])
        back = geometry_to_crs84(geometry_from_crs84(line, crs), crs)
        # Rounding to mm (or 1e-7°) on the way out is all that is lost.
        assert shapely.hausdorff_distance(back, line) < 2e-8, name


def test_utm_is_easting_first_in_metres() -> None:
    utm = geometry_from_crs84(JENA_MARKET, parse_crs("crs", "[EPSG:25832]"))
    assert 680_000 < utm.x < 682_000 and 5_643_000 < utm.y < 5_646_000
    assert round(utm.x, 3) == utm.x


def test_transformers_are_built_once() -> None:
    utm = parse_crs("crs", "[EPSG:25832]")
    assert transformer(CRS84, utm) is transformer(CRS84, utm)


def test_a_metre_box_becomes_the_lonlat_box_that_covers_it() -> None:
    utm = parse_crs("crs", "[EPSG:25832]")
    west, south, east, north = bbox_to_crs84((680_000.0, 5_640_000.0, 684_000.0, 5_644_000.0), utm)
    footprint = geometry_to_crs84(shapely.box(680_000, 5_640_000, 684_000, 5_644_000).segmentize(100), utm)
    assert shapely.box(west, south, east, north).buffer(1e-9).contains(footprint)
    assert 11.5 < west < east < 11.7 and 50.8 < south < north < 51.0
