"""From a point to municipality, district, responsible and nearest offices.

An index is built once per data version (STRtree over municipalities and districts; office
points in an array), so a lookup is a few tree queries and one vectorised distance.

"Responsible" are the offices whose ``serves_districts`` name the point's district and, as a
group of their own, the offices of the point's municipality that serve the whole town (kinds
in ``TOWN_KINDS`` without ``serves_districts``), with or without coordinates. "Nearest" are
located offices within a radius only: a citizen is never sent to another town 60 km away
because nothing closer is recorded; an empty list comes with a note saying so.
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

from ..i18n import LOCATE_NOTES, pick_lang
from ..store.base import Store
from .hours import land_of, status

GEOD = Geod(ellps="WGS84")
WALKING_KMH = 4.5  # a common planning speed for pedestrians; straight line, so a lower bound
# A walking time is given up to this straight-line distance. 3 km take 40 minutes at 4.5 km/h,
# and real footpaths are some 20-40 % longer than the straight line, so about 50 minutes: the
# longest walk people plan for an errand. Farther, a walking estimate from a straight line
# misleads more than it helps (people take the bus, a bike or a car), so only the distance
# ("Luftlinie") is given, and the route link leaves the means of transport to the user.
WALKING_MAX_M = 3000
# Kinds that belong to a municipality and serve all of it when they name no districts: the
# town's own prevention office and the mayor's citizens' consultation are open to every
# resident. Police contact officers serve a contact area; one whose area is not recorded (like
# kobb-jena-ost) is not responsible for the whole town, and a police station's area is not
# recorded either (it may span several municipalities). Town kinds are also never "nearest" for
# the residents of another municipality: Jena's mayor does not hold consultations for Zwickau.
TOWN_KINDS = frozenset({"prevention_office", "citizens_consultation"})
# "nearest" is limited to offices within the radius ("radius"), or in addition to offices of the
# point's own municipality ("municipality").
NEAREST_SCOPES = ("radius", "municipality")


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
        self._ags = np.array([str(o.properties.get("city_ags") or "") for o in located], dtype=object)
        self._town_kind = np.array([o.properties.get("kind") in TOWN_KINDS for o in located], dtype=bool)
        self._town: dict[str, list[Office]] = {}
        for o in self.offices:
            p = o.properties
            if p.get("kind") in TOWN_KINDS and not p.get("serves_districts") and p.get("city_ags"):
                self._town.setdefault(str(p["city_ags"]), []).append(o)
        # Municipalities with an office recorded as responsible, for districts or for all of it.
        self._assigned = set(self._town) | {
            str(o.properties["city_ags"])
            for o in self.offices
            if o.properties.get("city_ags") and o.properties.get("serves_districts")
        }
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

    def has_responsibilities(self, ags: str) -> bool:
        """Whether any office of the municipality ``ags`` is recorded as responsible: for
        districts of it, or for all of it. A city with district outlines and no such office
        (Leipzig, Chemnitz in the shipped data) is covered by the finder but answers
        "no responsible contact person is recorded"."""
        return ags in self._assigned

    def responsible_town(self, ags: str) -> list[Office]:
        """Offices of the municipality ``ags`` that serve all of it (see ``TOWN_KINDS``)."""
        return list(self._town.get(ags, ()))

    def nearest(
        self,
        lon: float,
        lat: float,
        count: int,
        max_m: float = math.inf,
        ags: str | None = None,
        scope: str = "radius",
    ) -> list[tuple[Office, float]]:
        """Up to ``count`` nearest located offices within ``max_m``, with geodesic distance in
        metres. Offices of a town kind count only for their own municipality ``ags``; with the
        scope "municipality" every office must be of ``ags``."""
        if not self._located:
            return []
        n = len(self._located)
        _, _, dist = GEOD.inv(np.full(n, lon), np.full(n, lat), self._lons, self._lats)
        own = self._ags == (ags or "")
        allowed = (dist <= max_m) & (own if scope == "municipality" else (~self._town_kind | own))
        candidates = np.flatnonzero(allowed)
        order = candidates[np.argsort(dist[candidates], kind="stable")][:count]
        return [(self._located[int(i)], float(dist[int(i)])) for i in order]


def index_from_store(store: Store) -> LocateIndex:
    """The index over the stored municipalities, districts and offices."""

    def areas(layer: str) -> list[Area]:
        return [Area(s.id, s.properties, s.geometry) for s in store.shapes(layer) if s.geometry is not None]

    offices = []
    for f in store.shapes("contact-offices"):
        point = f.geometry
        offices.append(Office(f.id, f.properties, point.x if point else None, point.y if point else None))
    return LocateIndex(areas("municipalities"), areas("districts"), offices)


def walking_minutes(metres: float) -> int | None:
    """Minutes on foot at ``WALKING_KMH``, or None beyond ``WALKING_MAX_M``."""
    if metres > WALKING_MAX_M:
        return None
    return max(1, math.ceil(metres / 1000 / WALKING_KMH * 60))


_DE_DIGITS = str.maketrans({",": ".", ".": ","})


def number_text(value: float, decimals: int, lang: str) -> str:
    """A number in the language's format: 1.234,5 in German, 1,234.5 in English."""
    text = f"{value:,.{decimals}f}"
    if pick_lang(lang) == "de":
        text = text.translate(_DE_DIGITS)
    return text


def distance_text(metres: float, lang: str) -> str:
    """650 m; 2,4 km / 2.4 km; 12 km. Rounded to 10 m: the distance is a straight line to an
    office whose location may be approximate, so single metres would be false precision (and
    "0 m" would be wrong), hence "unter 10 m"."""
    tens = round(metres / 10) * 10
    if tens < 10:
        return LOCATE_NOTES[pick_lang(lang)]["under_10_m"]
    if tens < 1000:
        return f"{tens} m"
    km = metres / 1000
    return f"{number_text(km, 1 if km < 9.95 else 0, lang)} km"


# An office located only this precisely (its street, district or town) is shown as
# approximate: a distance to it is "about", and below APPROXIMATE_NEAR_M only "close by", as
# the office could as well be on the other side (a point on its street is no closer to the
# truth than that).
APPROXIMATE_PRECISIONS = frozenset({"street", "district", "municipality"})
APPROXIMATE_NEAR_M = 250


def route_url(from_lat: float, from_lon: float, to_lat: float, to_lon: float, walking: bool = True) -> str:
    """A link (never fetched by the service, followed only when clicked) to directions on
    openstreetmap.org: on foot within walking distance, else without a preset engine."""
    route = f"{from_lat:.6f},{from_lon:.6f};{to_lat:.6f},{to_lon:.6f}"
    query = {"engine": "fossgis_osrm_foot", "route": route} if walking else {"route": route}
    return "https://www.openstreetmap.org/directions?" + urlencode(query)


def office_summary(office: Office, now: dt.datetime, lang: str = "de") -> dict[str, Any]:
    p = office.properties
    hours = status(p.get("opening_hours"), p.get("appointments"), now, land_of(p.get("city_ags")))
    return {
        "id": office.id,
        "name": p.get("name"),
        "kind": p.get("kind"),
        "officers": p.get("officers"),
        "address": {k: p.get(k) for k in ("street", "housenumber", "postcode", "place", "room", "room_en")},
        "location": None if office.lon is None else {"lon": office.lon, "lat": office.lat},
        "location_precision": p.get("location_precision"),
        "opening_hours": p.get("opening_hours"),
        **hours.as_json(),
        "dates_ended_text": hours.dates_ended_text(lang),
        "registration": p.get("registration"),
        "registration_en": p.get("registration_en"),
        "phone": p.get("phone"),
        "phone_mobile": p.get("phone_mobile"),
        "email": p.get("email"),
        "note": p.get("note"),
        "note_en": p.get("note_en"),
        "source": p.get("source"),
        "verified_on": p.get("verified_on"),
    }


def locate(
    index: LocateIndex,
    lon: float,
    lat: float,
    now: dt.datetime,
    nearest_count: int = 3,
    radius_km: float = 25,
    scope: str = "radius",
    lang: str = "de",
) -> dict[str, Any] | None:
    """The answer for a point, or None when it lies in no covered municipality.

    Texts (notes, ``distance_text``, ``walking_text``, ``dates_ended_text``) are in ``lang``.
    """
    lang = pick_lang(lang)
    notes = LOCATE_NOTES[lang]
    municipality = index.municipality_at(lon, lat)
    if municipality is None or municipality not in index.covered:
        return None
    mp = municipality.properties
    district = index.district_at(lon, lat)
    responsible = index.responsible(district.id) if district else []
    town = index.responsible_town(municipality.id)
    nearest = []
    radius_m = radius_km * 1000
    for office, metres in index.nearest(lon, lat, nearest_count, radius_m, municipality.id, scope):
        entry = office_summary(office, now, lang)
        minutes = walking_minutes(metres)
        entry["distance_m"] = round(metres)
        entry["distance_approximate"] = entry["location_precision"] in APPROXIMATE_PRECISIONS
        # "unter 10 m, etwa 1 min zu Fuß" to a point that stands for a whole street claimed a
        # precision the data does not have.
        if entry["distance_approximate"] and metres < APPROXIMATE_NEAR_M:
            entry["distance_text"], minutes = notes["near_approximate"], None
        elif entry["distance_approximate"]:
            entry["distance_text"] = notes["about"].format(distance=distance_text(metres, lang))
        else:
            entry["distance_text"] = distance_text(metres, lang)
        entry["walking_minutes"] = minutes
        entry["walking_text"] = None if minutes is None else notes["walking"].format(minutes=minutes)
        entry["route_url"] = route_url(lat, lon, office.lat or 0.0, office.lon or 0.0, minutes is not None)
        nearest.append(entry)
    radius_text = number_text(radius_km, 0 if float(radius_km).is_integer() else 1, lang)
    where = {"radius": radius_text, "municipality": mp.get("name")}
    if responsible:
        responsible_note = None
    else:
        key = "no_officer_for_district" if district else "no_district_for_place"
        responsible_note = notes[key + "_town" if town else key]
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
        "responsible": [office_summary(o, now, lang) for o in responsible],
        "responsible_note": responsible_note,
        # Offices of the municipality for all of it (prevention office, mayor's consultation),
        # located or not: a group of their own, so "responsible" keeps meaning the district's.
        "responsible_town": [office_summary(o, now, lang) for o in town],
        "nearest": nearest,
        "nearest_note": None if nearest else notes[f"nearest_none_{scope}"].format(**where),
        "nearest_rule": notes[f"nearest_rule_{scope}"].format(**where),
        "nearest_radius_km": radius_km,
        "nearest_scope": scope,
        "walking_speed_kmh": WALKING_KMH,
        "walking_max_m": WALKING_MAX_M,
        "distance_rule": notes["distance_rule"].format(
            max=f"{number_text(WALKING_MAX_M / 1000, 0, lang)} km", speed=number_text(WALKING_KMH, 1, lang)
        ),
    }
