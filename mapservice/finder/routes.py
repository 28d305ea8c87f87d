"""Citizen finder: ``/api/locate`` (JSON) and ``/finder`` (a page that works without JS)."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from typing import Any

import shapely
from flask import Blueprint, Response, current_app, jsonify, render_template, request

from ..http.context import store
from ..http.errors import ApiError
from ..i18n import pick_lang, texts, value_label
from ..store.base import Query
from .hours import BERLIN
from .locate import Area, LocateIndex, Office, locate

bp = Blueprint("finder", __name__)
ALL = 100_000
MAX_ADDRESS = 200
LOCATE_PARAMS = frozenset({"lat", "lon", "address", "nearest"})


def locate_index() -> LocateIndex:
    """Built once per data version of the three layers it reads, per worker process."""
    s = store()
    versions = tuple(
        (lid, st.version, st.updated_at)
        for lid, st in ((lid, s.state(lid)) for lid in ("municipalities", "districts", "contact-offices"))
    )
    cache: dict[Any, LocateIndex] = current_app.extensions.setdefault("mapservice.locate", {})
    if versions not in cache:
        cache.clear()

        def areas(layer: str) -> list[Area]:
            features = s.query(layer, Query(limit=ALL, sortby=())).features
            geoms = shapely.from_geojson([f.geometry for f in features])
            return [Area(f.id, f.properties, g) for f, g in zip(features, geoms, strict=True)]

        offices = []
        for f in s.query("contact-offices", Query(limit=ALL)).features:
            point = shapely.from_geojson(f.geometry) if f.geometry else None
            offices.append(Office(f.id, f.properties, point.x if point else None, point.y if point else None))
        cache[versions] = LocateIndex(areas("municipalities"), areas("districts"), offices)
    return cache[versions]


def _bad(message: str) -> ApiError:
    return ApiError(400, "InvalidParameterValue", message)


def parse_point(args: Mapping[str, str]) -> tuple[float, float] | None:
    lat_raw, lon_raw = args.get("lat"), args.get("lon")
    if lat_raw is None and lon_raw is None:
        return None
    if lat_raw is None or lon_raw is None:
        raise _bad("Give both 'lat' and 'lon' (WGS 84 degrees).")
    try:
        lat, lon = float(lat_raw), float(lon_raw)
    except ValueError:
        raise _bad(f"'lat'/'lon' must be numbers, got '{lat_raw}', '{lon_raw}'") from None
    if not (math.isfinite(lat) and math.isfinite(lon)) or not -90 <= lat <= 90 or not -180 <= lon <= 180:
        raise _bad(f"lat {lat_raw} / lon {lon_raw} are not coordinates (lat -90..90, lon -180..180)")
    return lon, lat


def parse_nearest(raw: str | None) -> int:
    if raw is None:
        return 3
    if not raw.isdigit() or not 1 <= int(raw) <= 10:
        raise _bad(f"'nearest' must be a whole number 1..10, got '{raw}'")
    return int(raw)


def resolve(args: Mapping[str, str]) -> tuple[float, float, dict[str, Any]]:
    """The point to look up and how it was found; raises ApiError for bad or unknown input."""
    point = parse_point(args)
    address = args.get("address")
    if point is not None and address is not None:
        raise _bad("Give either 'lat'+'lon' or 'address', not both.")
    if point is not None:
        return point[0], point[1], {"method": "coordinates", "precision": "point"}
    if address is None:
        raise _bad("Give 'lat' and 'lon', or 'address' (e.g. 'Anna-Siemsen-Str. 27, Jena').")
    address = address.strip()
    if not address:
        raise _bad("'address' is empty.")
    if len(address) > MAX_ADDRESS:
        raise _bad(f"'address' is longer than {MAX_ADDRESS} characters.")
    from .geocode.chain import geocode

    return geocode(address)


def answer(args: Mapping[str, str]) -> dict[str, Any]:
    unknown = sorted(set(args) - LOCATE_PARAMS - {"lang"})
    if unknown:
        raise ApiError(
            400,
            "InvalidParameter",
            f"Unknown parameter(s): {', '.join(unknown)}. Allowed: lat, lon, address, nearest",
        )
    nearest = parse_nearest(args.get("nearest"))
    lon, lat, found = resolve(args)
    index = locate_index()
    result = locate(index, lon, lat, dt.datetime.now(BERLIN), nearest)
    if result is None:
        names = ", ".join(sorted(str(m.properties.get("name")) for m in index.covered))
        raise ApiError(
            422,
            "OutsideCoverage",
            f"The point lon {lon:.5f} / lat {lat:.5f} lies outside the covered municipalities: {names}.",
        )
    return {"point": {"lon": round(lon, 6), "lat": round(lat, 6), **found}, **result}


@bp.get("/api/locate")
def api_locate() -> Response:
    response = jsonify(answer(request.args))
    # Answers depend on the clock (open now): short-lived and never shared between users.
    response.headers["Cache-Control"] = "private, max-age=60"
    return response


@bp.get("/finder")
def finder_page() -> Response:
    lang = pick_lang(request.args.get("lang"))
    args = {k: v for k, v in request.args.items() if k != "lang"}
    result = error = None
    status = 200
    if args:
        try:
            result = answer(args)
        except ApiError as exc:
            error, status = exc, exc.status
    html = render_template(
        "finder/finder.html",
        result=result,
        error=error,
        lang=lang,
        t=texts(lang),
        args=args,
        value_label=value_label,
    )
    response = Response(html, status=status, mimetype="text/html")
    response.headers["Cache-Control"] = "private, max-age=60"
    response.headers["Content-Security-Policy"] = (
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; "
        "form-action 'self'; frame-ancestors 'self'"
    )
    return response


def _ics(offices: list[Mapping[str, Any]], name: str, filename: str) -> Response:
    from .calendar import office_calendar

    body = office_calendar(offices, dt.datetime.now(BERLIN), name)
    response = Response(body, mimetype="text/calendar")
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "public, max-age=3600"
    return response


@bp.get("/calendar/offices/<office_id>.ics")
def office_ics(office_id: str) -> Response:
    feature = store().get("contact-offices", office_id)
    if feature is None:
        raise ApiError(404, "NotFound", f"There is no office '{office_id}'.")
    return _ics([feature.properties], str(feature.properties.get("name")), f"{office_id}.ics")


@bp.get("/calendar/cities/<city>.ics")
def city_ics(city: str) -> Response:
    from ..store.base import Filter

    features = store().query("contact-offices", Query(filters=(Filter("city", city),), limit=ALL)).features
    if not features:
        raise ApiError(404, "NotFound", f"No offices are recorded for the city '{city}'.")
    return _ics([f.properties for f in features], f"Sprechzeiten {city}", f"sprechzeiten-{city.lower()}.ics")
