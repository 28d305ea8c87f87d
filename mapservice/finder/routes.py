"""Citizen finder: ``/api/locate`` (JSON) and ``/finder`` (a page that works without JS)."""

from __future__ import annotations

import datetime as dt
import math
import re
import unicodedata
from collections.abc import Mapping, Sequence
from typing import Any

from flask import Blueprint, Response, jsonify, url_for
from geopy.exc import GeopyError

from ..http.context import args as request_args
from ..http.context import services, store
from ..http.errors import ApiError
from ..http.pages import page
from ..http.params import bad, check_known, parse_int, single
from ..i18n import CALENDAR_TEXT, FINDER_TEXT, GEOCODE_TEXT, LAND_NAMES, LOCATE_NOTES, pick_lang, value_label
from ..maps.symbols import finder_legend
from .geocode.adapters import explain_miss
from .geocode.normalise import parse_address
from .hours import BERLIN
from .locate import locate
from .mapview import finder_map

bp = Blueprint("finder", __name__)
MAX_ADDRESS = 200
LOCATE_PARAMS = frozenset({"lat", "lon", "address", "nearest", "lang"})


def parse_point(args: Mapping[str, Sequence[str]]) -> tuple[float, float] | None:
    lat_raw, lon_raw = single(args, "lat"), single(args, "lon")
    if lat_raw is None and lon_raw is None:
        return None
    if lat_raw is None or lon_raw is None:
        raise bad(
            "lat" if lat_raw is None else "lon", "give both 'lat' and 'lon' (WGS 84 degrees)", "both_coords"
        )
    try:
        lat, lon = float(lat_raw), float(lon_raw)
    except ValueError:
        raise bad(
            "lat/lon",
            f"must be numbers, got '{lat_raw}', '{lon_raw}'",
            "not_numbers",
            lat=lat_raw,
            lon=lon_raw,
        ) from None
    if not (math.isfinite(lat) and math.isfinite(lon)) or not -90 <= lat <= 90 or not -180 <= lon <= 180:
        raise bad(
            "lat/lon",
            f"lat {lat_raw} / lon {lon_raw} are not coordinates (lat -90..90, lon -180..180)",
            "not_coords",
            lat=lat_raw,
            lon=lon_raw,
        )
    return lon, lat


def resolve(args: Mapping[str, Sequence[str]]) -> tuple[float, float, dict[str, Any]]:
    """The point to look up and how it was found; raises ApiError for bad or unknown input."""
    point = parse_point(args)
    address = single(args, "address")
    if point is not None and address is not None:
        raise bad("address", "give either 'lat'+'lon' or 'address', not both", "not_both")
    if point is not None:
        return point[0], point[1], {"method": "coordinates", "precision": "point"}
    if address is None:
        raise bad(
            "address", "give 'lat' and 'lon', or 'address' (e.g. 'Anna-Siemsen-Str. 27, Jena')", "no_input"
        )
    address = address.strip()
    if not address:
        raise bad("address", "is empty", "address_empty")
    if len(address) > MAX_ADDRESS:
        raise bad("address", f"is longer than {MAX_ADDRESS} characters", "address_long", max=MAX_ADDRESS)
    return geocode(address)


def answer(args: Mapping[str, Sequence[str]], lang: str | None = None) -> dict[str, Any]:
    """The finder's answer for the request's parameters (each given at most once).

    Texts in the answer are in ``lang``, else in the request's ``lang``, else German.
    """
    check_known(args, LOCATE_PARAMS)
    asked_lang = single(args, "lang")  # each parameter at most once, like every other
    nearest = parse_int("nearest", single(args, "nearest"), 3, 1, 10)
    lon, lat, found = resolve(args)
    index = services().locate_index()
    settings = services().settings
    result = locate(
        index,
        lon,
        lat,
        dt.datetime.now(BERLIN),
        nearest,
        settings.nearest_radius_km,
        settings.nearest_scope,
        pick_lang(lang or asked_lang),
    )
    if result is None:
        names = ", ".join(sorted(str(m.properties.get("name")) for m in index.covered))
        raise ApiError(
            422,
            "OutsideCoverage",
            f"The point lon {lon:.5f} / lat {lat:.5f} lies outside the covered municipalities: {names}.",
            key="outside",
            params={"lat": lat, "lon": lon, "names": names},
        )
    for group in ("responsible", "responsible_town", "nearest"):
        for office in result[group]:
            # Only a feed with a coming event is worth subscribing to (see HoursStatus).
            office["calendar_url"] = (
                url_for("finder.office_ics", office_id=office["id"]) if office["calendar_events"] else None
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


class AddressError(ApiError):
    """A 404 or 300 of the address search, with its reason and the words of its text, so the
    finder page can say it in the reader's language (the JSON description is English)."""

    def __init__(
        self, status: int, code: str, reason: str, params: dict[str, str], candidates: list[dict[str, Any]]
    ) -> None:
        self.reason = reason
        self.params = params
        super().__init__(status, code, self.text("en"), candidates=candidates, params=params)

    def text(self, lang: str) -> str:
        return GEOCODE_TEXT[pick_lang(lang)][self.reason].format(**self.params)


def geocode(address: str) -> tuple[float, float, dict[str, Any]]:
    """(lon, lat, how it was found), or AddressError 404 (the street is not in the address
    directory, or not in the place asked for; candidates of similar streets) / 300 (several
    addresses, a street without house number, a house number not on the street)."""
    gazetteer, geocoders = services().geocoder()
    try:
        found = geocoders.geocode(address, exactly_one=True)
    except GeopyError as exc:
        raise ApiError(
            503, "GeocoderUnavailable", f"The address could not be looked up right now: {exc}"
        ) from exc
    if found is None:
        miss = explain_miss(gazetteer, address)
        reason = miss.reason
        if reason == "street_unknown" and miss.place:
            reason = "street_unknown_in"
        raise AddressError(
            404,
            "AddressNotFound",
            reason,
            {"street": miss.street or "", "place": miss.place or "", "address": address},
            [_candidate(c) for c in miss.candidates],
        )
    raw = found.raw
    if raw.get("ambiguous"):
        reason = str(raw.get("reason") or "places")
        raise AddressError(
            300,
            "Ambiguous",
            reason if reason in ("places", "no_housenumber", "housenumber") else "places",
            {
                "street": str(raw.get("street") or ""),
                "housenumber": parse_address(address).housenumber or "",
                "address": address,
            },
            [
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
    index = services().locate_index()
    assigned = [m for m in index.covered if index.has_responsibilities(m.id)]
    if given:
        try:
            result = answer(given, lang)
        except ApiError as exc:
            error, status = exc, exc.status
    response = page(
        "finder/finder.html",
        lang,
        status,
        result=result,
        error=error,
        args=args,
        value_label=value_label,
        lt=LOCATE_NOTES[lang],
        finder_map=finder_map(index, url_for("api.landing").rstrip("/")),
        finder_legend=finder_legend(lang),
        gt=GEOCODE_TEXT[lang],
        ft=FINDER_TEXT[lang],
        land_names=LAND_NAMES[lang],
        finder_js_texts={k[3:]: v for k, v in FINDER_TEXT[lang].items() if k.startswith("js_")},
        coverage=services().address_coverage(),
        responsible_cities=sorted(str(m.properties.get("name")) for m in assigned),
        unassigned_cities=sorted(str(m.properties.get("name")) for m in index.covered if m not in assigned),
    )
    response.headers["Cache-Control"] = "private, max-age=60"
    # Its CSP is every page's (http/security.py): the finder has no inline script.
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
    # The id is the stored one, which older data or an import may have written with quotes or
    # line breaks: the filename keeps only what a header can carry.
    filename = f"{_file_part(office_id, 'sprechzeiten')}.ics"
    return _ics([feature.properties], str(feature.properties.get("name") or office_id), filename)


@bp.get("/calendar/cities/<city>.ics")
def city_ics(city: str) -> Response:
    # People type city names in any case (jena.ics, JENA.ics), so they are matched without
    # regard to case; the feed is named with the city's name as recorded.
    wanted = city.casefold()
    features = [
        f
        for f in store().all_features("contact-offices")
        if str(f.properties.get("city") or "").casefold() == wanted
    ]
    if not features:
        raise ApiError(404, "NotFound", f"No offices are recorded for the city '{city}'.")
    name = str(features[0].properties.get("city"))
    # A known city whose offices have no dated or regular hours gets a valid calendar without
    # events rather than a 404: a subscription keeps working and shows dates once published.
    return _ics(
        [f.properties for f in features],
        CALENDAR_TEXT["de"]["cal_city"].format(city=name),
        f"sprechzeiten-{_file_part(name)}.ics",
    )


_UMLAUTS = {ord("ä"): "ae", ord("ö"): "oe", ord("ü"): "ue", ord("ß"): "ss"}


def _file_part(name: str, fallback: str = "stadt") -> str:
    """A readable ASCII filename part: "Görlitz" → "goerlitz", no quotes or slashes."""
    text = name.lower().translate(_UMLAUTS)
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", text).strip("-") or fallback
