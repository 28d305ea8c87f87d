"""Citizen finder: ``/api/locate`` (JSON) and ``/finder`` (a page that works without JS)."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from typing import Any

from flask import Blueprint, Response, jsonify
from geopy.exc import GeopyError

from ..http.context import args as request_args
from ..http.context import services, store
from ..http.errors import ApiError
from ..http.pages import page
from ..http.params import bad, check_known, parse_int, single
from ..i18n import CALENDAR_TEXT, pick_lang, value_label
from ..store.base import Filter
from .hours import BERLIN
from .locate import locate

bp = Blueprint("finder", __name__)
MAX_ADDRESS = 200
LOCATE_PARAMS = frozenset({"lat", "lon", "address", "nearest", "lang"})


def parse_point(args: Mapping[str, Sequence[str]]) -> tuple[float, float] | None:
    lat_raw, lon_raw = single(args, "lat"), single(args, "lon")
    if lat_raw is None and lon_raw is None:
        return None
    if lat_raw is None or lon_raw is None:
        raise bad("lat" if lat_raw is None else "lon", "give both 'lat' and 'lon' (WGS 84 degrees)")
    try:
        lat, lon = float(lat_raw), float(lon_raw)
    except ValueError:
        raise bad("lat/lon", f"must be numbers, got '{lat_raw}', '{lon_raw}'") from None
    if not (math.isfinite(lat) and math.isfinite(lon)) or not -90 <= lat <= 90 or not -180 <= lon <= 180:
        raise bad(
            "lat/lon", f"lat {lat_raw} / lon {lon_raw} are not coordinates (lat -90..90, lon -180..180)"
        )
    return lon, lat


def resolve(args: Mapping[str, Sequence[str]]) -> tuple[float, float, dict[str, Any]]:
    """The point to look up and how it was found; raises ApiError for bad or unknown input."""
    point = parse_point(args)
    address = single(args, "address")
    if point is not None and address is not None:
        raise bad("address", "give either 'lat'+'lon' or 'address', not both")
    if point is not None:
        return point[0], point[1], {"method": "coordinates", "precision": "point"}
    if address is None:
        raise bad("address", "give 'lat' and 'lon', or 'address' (e.g. 'Anna-Siemsen-Str. 27, Jena')")
    address = address.strip()
    if not address:
        raise bad("address", "is empty")
    if len(address) > MAX_ADDRESS:
        raise bad("address", f"is longer than {MAX_ADDRESS} characters")
    return geocode(address)


def answer(args: Mapping[str, Sequence[str]]) -> dict[str, Any]:
    """The finder's answer for the request's parameters (each given at most once)."""
    check_known(args, LOCATE_PARAMS)
    single(args, "lang")  # accepted for links from the pages, but only once like every other
    nearest = parse_int("nearest", single(args, "nearest"), 3, 1, 10)
    lon, lat, found = resolve(args)
    index = services().locate_index()
    result = locate(index, lon, lat, dt.datetime.now(BERLIN), nearest)
    if result is None:
        names = ", ".join(sorted(str(m.properties.get("name")) for m in index.covered))
        raise ApiError(
            422,
            "OutsideCoverage",
            f"The point lon {lon:.5f} / lat {lat:.5f} lies outside the covered municipalities: {names}.",
        )
    return {"point": {"lon": round(lon, 6), "lat": round(lat, 6), **found}, **result}


def _candidate(c: Any) -> dict[str, Any]:
    return {
        "address": c.point.address,
        "score": round(c.score),
        "precision": c.precision,
        "lon": round(c.point.lon, 6),
        "lat": round(c.point.lat, 6),
    }


def geocode(address: str) -> tuple[float, float, dict[str, Any]]:
    """(lon, lat, how it was found), or ApiError 404 with the closest candidates / 300."""
    gazetteer, geocoders = services().geocoder()
    try:
        found = geocoders.geocode(address, exactly_one=True)
    except GeopyError as exc:
        raise ApiError(
            503, "GeocoderUnavailable", f"The address could not be looked up right now: {exc}"
        ) from exc
    if found is None:
        closest = gazetteer.search(address, limit=5, min_score=0)
        raise ApiError(
            404,
            "AddressNotFound",
            f"No address matches '{address}'.",
            candidates=[_candidate(c) for c in closest],
        )
    raw = found.raw
    if raw.get("ambiguous"):
        raise ApiError(
            300,
            "Ambiguous",
            f"'{address}' matches several addresses; choose one.",
            candidates=[
                {k: c.get(k) for k in ("address", "score", "precision", "lon", "lat")}
                if isinstance(c, dict)
                else c
                for c in raw.get("candidates", [])
            ],
        )
    return (
        found.longitude,
        found.latitude,
        {
            "method": "address",
            "geocoder": raw.get("geocoder"),
            "address": found.address,
            "precision": raw.get("precision", "unknown"),
            "score": round(raw["score"]) if raw.get("score") is not None else None,
            "query": address,
        },
    )


@bp.get("/api/locate")
def api_locate() -> Response:
    response = jsonify(answer(request_args()))
    # Answers depend on the clock (open now): short-lived and never shared between users.
    response.headers["Cache-Control"] = "private, max-age=60"
    return response


@bp.get("/finder")
def finder_page() -> Response:
    lang = pick_lang(single(request_args(), "lang"))
    given = {k: v for k, v in request_args().items() if k != "lang"}
    # The form is filled again with what was sent (the first value where one was repeated).
    args = {k: v[0] for k, v in given.items()}
    result = error = None
    status = 200
    if given:
        try:
            result = answer(given)
        except ApiError as exc:
            error, status = exc, exc.status
    response = page(
        "finder/finder.html", lang, status, result=result, error=error, args=args, value_label=value_label
    )
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
    features = store().all_features("contact-offices", (Filter("city", city),))
    if not features:
        raise ApiError(404, "NotFound", f"No offices are recorded for the city '{city}'.")
    return _ics(
        [f.properties for f in features],
        CALENDAR_TEXT["de"]["cal_city"].format(city=city),
        f"sprechzeiten-{city.lower()}.ics",
    )
