"""``/api/coverage/…``: the planner's metrics and gap ranking as JSON, GeoJSON and CSV.

Thin: parameters are checked here, the numbers come from :class:`mapservice.planner.service.Planning`
(cached per data version) and the formats from :mod:`mapservice.planner.export`.
"""

from __future__ import annotations

import datetime as dt
import gzip
from typing import Any

from flask import Blueprint, Response, request

from ..http.caching import Validators, add_vary, conditional
from ..http.context import args as _args
from ..http.context import planning as _planning
from ..http.context import services as _services
from ..http.context import store as _store
from ..http.errors import ApiError, error_page, error_response, wants_page
from ..http.params import bad, check_known, choice, parse_int, single
from ..maps.simplify import clamp_level, coverage_topology
from . import export, gaps
from .budget import OverBudget
from .service import DISTRICT_INPUTS, MUNICIPALITY_INPUTS, City, Planning

bp = Blueprint("coverage", __name__, url_prefix="/api/coverage")
FORMATS = ("geojson", "json", "csv")
GEOJSON = "application/geo+json"
# TopoJSON has no registered media type; clients read it as JSON.
TOPOJSON = "application/json"
# The programme figures a Land's answer cites (their ``programme`` starts with these).
FIGURES = {"16": "Landespräventionsrat Thüringen", "14": "ASSKomm"}
# A computation over its time budget is not tried again until the data changes; a client may
# look again after this many seconds (an editor may have simplified the geometry by then).
RETRY_AFTER_S = 300


def over_budget(exc: OverBudget) -> Response:
    """503 for a planner computation over its time budget: JSON for a program, a page in the
    page's language for a reader, both with Retry-After."""
    error = ApiError(
        503,
        "OverBudget",
        f"Not available: {exc}. The result is not computed again until the data changes; "
        "the operator can simplify the geometry or raise the setting planner_time_budget_s.",
        headers={"Retry-After": str(RETRY_AFTER_S)},
        key="over_budget",
        params={"area": exc.area, "seconds": f"{exc.budget_s:g}"},
    )
    response = (
        error_page(error)
        if wants_page(request)
        else error_response(error.status, error.code, error.description)
    )
    response.headers.update(error.headers)
    return response


@bp.errorhandler(OverBudget)
def _over_budget(exc: OverBudget) -> Response:
    return over_budget(exc)


def _states(layers: tuple[str, ...]) -> list[Any]:
    catalog_ids = set(_planning().catalog.ids())
    return [_store().state(layer) for layer in layers if layer in catalog_ids]


def _now() -> str:
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def _map_data(body: str, mimetype: str) -> Response:
    """A whole Land's polygons for a map: gzipped at the highest level when the client takes
    gzip. They are the largest part of a Land map's first view, built once per data version
    and level, so the few milliseconds more are spent once for every reader."""
    response = Response(body, mimetype=mimetype)
    add_vary(response, "Accept-Encoding")
    if request.accept_encodings["gzip"] > 0 or request.accept_encodings["x-gzip"] > 0:
        response.set_data(gzip.compress(response.get_data(), compresslevel=9, mtime=0))
        response.headers["Content-Encoding"] = "gzip"
    return response


def _attachment(body: str, mimetype: str, filename: str) -> Response:
    response = Response(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def find_city(planning: Planning, wanted: str, parameter: str = "city") -> City:
    city = planning.city(wanted)
    if city is None:
        known = ", ".join(c.key for c in planning.cities())
        raise ApiError(
            404,
            "NotFound",
            f"Parameter '{parameter}': no districts of '{wanted}' are stored. Cities with districts: {known}",
        )
    return city


def _sources(planning: Planning, layers: tuple[str, ...]) -> list[dict[str, Any]]:
    return [
        {
            "layer": s.layer,
            "title": s.title,
            "licence": s.credit("de").licence,
            "attribution": s.credit("de").attribution,
            # English where the layer file gives it, else the German again.
            "licence_en": s.credit("en").licence,
            "attribution_en": s.credit("en").attribution,
            "dates": list(s.dates),
        }
        for s in planning.sources(layers)
    ]


def csv_dialect(args: Any, fmt: str | None) -> str:
    """The CSV variant: ``dialect=excel-de|rfc4180`` when given, else ``excel-de`` for an explicit
    ``lang=de`` (what the German planner page links), else the comma CSV programs expect."""
    dialect = choice(args, "dialect", export.CSV_DIALECTS)
    if dialect is not None and fmt != "csv":
        raise bad("dialect", "applies only to f=csv")
    if dialect is None:
        dialect = "excel-de" if single(args, "lang") == "de" else "rfc4180"
    return dialect


def _references(
    planning: Planning, layers: tuple[str, ...], area: str | None, figures: Any = ()
) -> list[dict[str, Any]]:
    return [r.as_json() for r in planning.references_for(layers, list(figures), area)]


@bp.get("/districts")
def districts() -> Response:
    """Metrics and gap ranking per district of one city: ``city=jena``, ``f=``, ``lang=``."""
    args = _args()
    check_known(args, {"city", "f", "lang", "weighting", "dialect"})
    weighting = choice(args, "weighting", gaps.WEIGHTINGS, "people") or "people"
    wanted = single(args, "city")
    if not wanted:
        raise bad("city", "required: the city whose districts to rank, e.g. city=jena")
    fmt = choice(args, "f", FORMATS, "geojson")
    lang = choice(args, "lang", ("de", "en"), "de") or "de"
    planning = _planning()
    city = find_city(planning, wanted)
    dialect = csv_dialect(args, fmt)

    def build() -> Response:
        rows = planning.districts(city, weighting)
        if fmt == "csv":
            return _attachment(
                export.csv_text(rows, export.DISTRICT_COLUMNS, lang, dialect),
                "text/csv",
                f"abdeckung-{city.key}.csv",
            )
        extra = {
            "city": {"key": city.key, "name": city.name, "ags": city.ags},
            "thresholds": export.thresholds_json(planning.thresholds),
            "sources": _sources(planning, DISTRICT_INPUTS),
            "references": _references(planning, DISTRICT_INPUTS, city.ags),
            "timeStamp": _now(),
        }
        if fmt == "json":
            return Response(export.json_text("districts", rows, extra), mimetype="application/json")
        return Response(export.geojson_text(rows, "id", extra), mimetype=GEOJSON)

    return conditional(
        Validators(lambda: _states(DISTRICT_INPUTS), fmt or "", lang, city.ags, weighting, dialect), build
    )


@bp.get("/municipalities")
def municipalities() -> Response:
    """Prevention coverage and gap ranking per municipality: ``land=14|16``, ``ags=…``,
    ``large_towns=true``, ``f=``, ``lang=``.

    ``zoom=`` gives the polygons simplified for that map zoom (neighbours still meeting,
    maps/simplify.py), ``f=topojson`` the same as TopoJSON, which the maps load; the
    properties are the same in every format."""
    args = _args()
    check_known(args, {"land", "ags", "f", "large_towns", "lang", "weighting", "dialect", "zoom"})
    weighting = choice(args, "weighting", gaps.WEIGHTINGS, "people") or "people"
    land = choice(args, "land", ("14", "16"))
    fmt = choice(args, "f", (*FORMATS, "topojson"), "geojson")
    raw_zoom = single(args, "zoom")
    if raw_zoom is not None and fmt not in ("geojson", "topojson"):
        raise bad("zoom", "applies only to f=geojson and f=topojson")
    level = None if raw_zoom is None else clamp_level(parse_int("zoom", raw_zoom, 0, 0, 30))
    if fmt == "topojson" and level is None:
        raise bad("zoom", "f=topojson needs the map zoom it is for, e.g. zoom=8")
    lang = choice(args, "lang", ("de", "en"), "de") or "de"
    ags = single(args, "ags")
    if ags is not None and not (len(ags) == 8 and ags.isdigit()):
        raise bad("ags", f"'{ags}' is not an 8-digit municipality key")
    large_only = choice(args, "large_towns", ("true", "false"), "false") == "true"
    planning = _planning()
    dialect = csv_dialect(args, fmt)

    def build() -> Response:
        rows = planning.municipalities(land, weighting)
        if ags:
            rows = [r for r in rows if r["ags"] == ags]
        if large_only:
            rows = [r for r in rows if r["large_town"]]
        if fmt == "csv":
            name = f"praevention-gemeinden{'-' + land if land else ''}.csv"
            text = export.csv_text(rows, export.MUNICIPALITY_COLUMNS, lang, dialect)
            return _attachment(text, "text/csv", name)
        extra: dict[str, Any] = {
            "thresholds": export.thresholds_json(planning.thresholds),
            "sources": _sources(planning, MUNICIPALITY_INPUTS),
            "timeStamp": _now(),
        }
        if land in (None, "16"):
            extra["survey"] = planning.survey()
        live = planning.live_survey(land)
        if live is not None:
            extra["liveSurvey"] = live
        shown = [
            f for f in planning.figures if land is None or f.get("programme", "").startswith(FIGURES[land])
        ]
        extra["references"] = _references(planning, MUNICIPALITY_INPUTS, land, shown)
        if fmt == "json":
            return Response(export.json_text("municipalities", rows, extra), mimetype="application/json")
        if level is not None:
            # One Land's coverage is simplified together: a single municipality (``ags``) is
            # cut from its Land's, so it meets its neighbours on every map.
            area = ags[:2] if ags and ags[:2] in FIGURES else land
            topology = coverage_topology(_services(), area, level)
            if fmt == "topojson":
                props = {r["ags"]: export.properties(r) for r in rows}
                body = topology.topojson(props, {"numberReturned": len(rows), **extra}, "municipalities")
                return _map_data(body, TOPOJSON)
            simple = topology.geojson_geometries()
            rows = [{**r, "geometry": simple.get(r["ags"])} for r in rows]
        return Response(export.geojson_text(rows, "ags", extra), mimetype=GEOJSON)

    return conditional(
        Validators(lambda: _states(MUNICIPALITY_INPUTS), fmt or "", lang, weighting, dialect, level), build
    )
