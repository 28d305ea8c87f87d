"""From a point to municipality, district, responsible and nearest offices.

An index is built once per data version (STRtree over municipalities and districts; office
points in an array), so a lookup is a few tree queries and one vectorised distance.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import numpy as np
import shapely
from pyproj import Geod
from shapely import STRtree

from ..i18n import LOCATE_NOTES
from ..store.base import Store
from .hours import land_of, status

GEOD = Geod(ellps="WGS84")
WALKING_KMH = 4.5  # a common planning speed for pedestrians; straight line, so a lower bound


@dataclass(frozen=True)
class Area:
    id: str
    properties: Mapping[str, Any]
    geometry: shapely.Geometry


@dataclass(frozen=True)
class Office:
    id: str
    properties: Mapping[str, Any]
    lon: float | None
    lat: float | None


class LocateIndex:
    """Everything a lookup needs, built from plain features."""

    def __init__(
        self, municipalities: Sequence[Area], districts: Sequence[Area], offices: Sequence[Office]
    ) -> None:
        self.municipalities = list(municipalities)
        self.districts = list(districts)
        self.offices = list(offices)
        self._muni_tree = STRtree([a.geometry for a in self.municipalities])
        self._district_tree = STRtree([a.geometry for a in self.districts])
        for area in (*self.municipalities, *self.districts):
            shapely.prepare(area.geometry)
        located = [o for o in self.offices if o.lon is not None and o.lat is not None]
        self._located = located
        self._lons = np.array([o.lon for o in located], dtype=float)
        self._lats = np.array([o.lat for o in located], dtype=float)
        covered = {o.properties.get("city_ags") for o in self.offices}
        covered |= {d.properties.get("city_ags") for d in self.districts}
        self.covered = [m for m in self.municipalities if m.id in covered]

    def _containing(self, tree: STRtree, areas: Sequence[Area], point: shapely.Point) -> Area | None:
        for i in tree.query(point, predicate="intersects"):
            return areas[int(i)]
        return None

    def municipality_at(self, lon: float, lat: float) -> Area | None:
        return self._containing(self._muni_tree, self.municipalities, shapely.Point(lon, lat))

    def district_at(self, lon: float, lat: float) -> Area | None:
        return self._containing(self._district_tree, self.districts, shapely.Point(lon, lat))

    def responsible(self, district_id: str) -> list[Office]:
        return [o for o in self.offices if district_id in (o.properties.get("serves_districts") or ())]

    def nearest(self, lon: float, lat: float, count: int) -> list[tuple[Office, float]]:
        """The ``count`` nearest located offices with geodesic distance in metres."""
        if not self._located:
            return []
        n = len(self._located)
        _, _, dist = GEOD.inv(np.full(n, lon), np.full(n, lat), self._lons, self._lats)
        order = np.argsort(dist)[:count]
        return [(self._located[int(i)], float(dist[int(i)])) for i in order]


def index_from_store(store: Store) -> LocateIndex:
    """The index over the stored municipalities, districts and offices."""

    def areas(layer: str) -> list[Area]:
        features = store.all_features(layer)
        geoms = shapely.from_geojson([f.geometry for f in features])
        return [Area(f.id, f.properties, g) for f, g in zip(features, geoms, strict=True)]

    offices = []
    for f in store.all_features("contact-offices"):
        point = shapely.from_geojson(f.geometry) if f.geometry else None
        offices.append(Office(f.id, f.properties, point.x if point else None, point.y if point else None))
    return LocateIndex(areas("municipalities"), areas("districts"), offices)


def walking_minutes(metres: float) -> int:
    return max(1, math.ceil(metres / 1000 / WALKING_KMH * 60))


def route_url(from_lat: float, from_lon: float, to_lat: float, to_lon: float) -> str:
    """A link (never fetched by the service) to walking directions on openstreetmap.org."""
    route = f"{from_lat:.6f},{from_lon:.6f};{to_lat:.6f},{to_lon:.6f}"
    return "https://www.openstreetmap.org/directions?" + urlencode(
        {"engine": "fossgis_osrm_foot", "route": route}
    )


def office_summary(office: Office, now: dt.datetime) -> dict[str, Any]:
    p = office.properties
    hours = status(p.get("opening_hours"), p.get("appointments"), now, land_of(p.get("city_ags")))
    return {
        "id": office.id,
        "name": p.get("name"),
        "kind": p.get("kind"),
        "officers": p.get("officers"),
        "address": {k: p.get(k) for k in ("street", "housenumber", "postcode", "place", "room")},
        "location": None if office.lon is None else {"lon": office.lon, "lat": office.lat},
        "location_precision": p.get("location_precision"),
        "opening_hours": p.get("opening_hours"),
        **hours.as_json(),
        "registration": p.get("registration"),
        "phone": p.get("phone"),
        "phone_mobile": p.get("phone_mobile"),
        "email": p.get("email"),
        "note": p.get("note"),
        "source": p.get("source"),
        "verified_on": p.get("verified_on"),
    }


def locate(
    index: LocateIndex, lon: float, lat: float, now: dt.datetime, nearest_count: int = 3
) -> dict[str, Any] | None:
    """The answer for a point, or None when it lies in no covered municipality."""
    municipality = index.municipality_at(lon, lat)
    if municipality is None or municipality not in index.covered:
        return None
    district = index.district_at(lon, lat)
    responsible = index.responsible(district.id) if district else []
    nearest = []
    for office, metres in index.nearest(lon, lat, nearest_count):
        entry = office_summary(office, now)
        entry["distance_m"] = round(metres)
        entry["walking_minutes"] = walking_minutes(metres)
        entry["route_url"] = route_url(lat, lon, office.lat or 0.0, office.lon or 0.0)
        nearest.append(entry)
    mp = municipality.properties
    return {
        "municipality": {
            "ags": municipality.id,
            "name": mp.get("name"),
            "land": mp.get("land"),
            "kreis": mp.get("kreis"),
        },
        "district": None
        if district is None
        else {
            "id": district.id,
            "name": district.properties.get("name"),
            "city": district.properties.get("city"),
        },
        "responsible": [office_summary(o, now) for o in responsible],
        # The API speaks German first, like every page's default.
        "responsible_note": None
        if responsible
        else LOCATE_NOTES["de"]["no_officer_for_district" if district else "no_district_for_place"],
        "nearest": nearest,
        "walking_speed_kmh": WALKING_KMH,
    }
