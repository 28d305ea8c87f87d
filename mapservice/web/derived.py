"""Derived layers under ``/api``: prevention coverage, camera fields of view, office hours.

Computed from the stored collections on request (and cached by ETag like everything else);
never stored by hand.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections.abc import Callable, Sequence
from typing import Any

import shapely
from flask import Blueprint, Response

from .. import ogc
from ..geo.coverage import prevention_coverage
from ..geo.fov import field_of_view
from ..geo.hours import BERLIN, land_of, status
from ..store.base import Filter, LayerState, Query, Store, StoredFeature
from .context import args as _args
from .context import store as _store
from .errors import ApiError
from .http import Validators, conditional
from .params import bad, check_known, single

bp = Blueprint("derived", __name__, url_prefix="/api")
ALL = 100_000


def _states(*layer_ids: str) -> list[LayerState]:
    return [_store().state(lid) for lid in layer_ids]


def _choice(args: dict[str, list[str]], name: str, allowed: Sequence[str],
            default: str | None = None) -> str | None:
    value = single(args, name)
    if value is None:
        return default
    if value not in allowed:
        raise bad(name, f"'{value}' is not one of {', '.join(allowed)}")
    return value


def _geojson(features: list[StoredFeature]) -> Response:
    body = ogc.feature_collection_json(features, len(features), _now_text(), [], None, False)
    return Response(body, mimetype=ogc.GEOJSON)


def _now_text() -> str:
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def csv_cell(value: Any) -> str:
    """Text for a CSV cell; cells a spreadsheet would run as a formula are defused."""
    if value is None:
        return ""
    if isinstance(value, (list, dict)):
        value = json.dumps(value, ensure_ascii=False)
    text = str(value)
    if text[:1] in ("=", "+", "-", "@", "\t", "\r"):
        text = "'" + text
    return text


def csv_response(rows: list[dict[str, Any]], columns: Sequence[str], filename: str) -> Response:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([csv_cell(row.get(c)) for c in columns])
    response = Response("\ufeff" + out.getvalue(), mimetype="text/csv")  # BOM: Excel reads UTF-8
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


COVERAGE_COLUMNS = ("ags", "name", "kind", "land", "kreis", "population", "population_date",
                    "large_town", "prevention_status", "asskomm_stage", "bodies")


@bp.get("/coverage/municipalities")
def coverage_municipalities() -> Response:
    """Prevention status per municipality: ``land=14|16``, ``ags=…``, ``f=geojson|json|csv``."""
    args = _args()
    check_known(args, {"land", "ags", "f", "large_towns"})
    land = _choice(args, "land", ("14", "16"))
    fmt = _choice(args, "f", ("geojson", "json", "csv"), "geojson")
    ags = single(args, "ags")
    if ags is not None and not (len(ags) == 8 and ags.isdigit()):
        raise bad("ags", f"'{ags}' is not an 8-digit municipality key")
    large_only = _choice(args, "large_towns", ("true", "false"), "false") == "true"
    filters = []
    if land:
        filters.append(Filter("land_code", land))
    if ags:
        filters.append(Filter("ags", ags))

    def build() -> Response:
        store = _store()
        municipalities = store.query("municipalities", Query(filters=tuple(filters), limit=ALL,
                                                             sortby=()))
        bodies = [f.properties for f in store.query("prevention-bodies", Query(limit=ALL)).features]
        features = []
        for feature in municipalities.features:
            props = prevention_coverage(feature.properties, bodies)
            if large_only and not props["large_town"]:
                continue
            features.append(StoredFeature(feature.id, props, feature.geometry))
        if fmt == "csv":
            return csv_response([f.properties for f in features], COVERAGE_COLUMNS,
                                f"praevention-gemeinden{'-' + land if land else ''}.csv")
        if fmt == "json":
            return Response(json.dumps({"municipalities": [f.properties for f in features]},
                                       ensure_ascii=False), mimetype="application/json")
        return _geojson(features)

    return conditional(
        Validators(lambda: _states("municipalities", "prevention-bodies"), fmt), build)


@bp.get("/derived/camera-fov")
def camera_fov() -> Response:
    """Field-of-view polygons of the cameras (``city=…``), one feature per camera."""
    args = _args()
    check_known(args, {"city"})
    city = single(args, "city")
    filters = (Filter("city", city),) if city else ()

    def build() -> Response:
        cameras = _store().query("video-surveillance", Query(filters=filters, limit=ALL)).features
        out = []
        for cam in cameras:
            if cam.geometry is None:
                continue
            point = shapely.from_geojson(cam.geometry)
            p = cam.properties
            try:
                fov = field_of_view(point.x, point.y, p.get("direction"), p.get("hfov_deg"),
                                    p.get("range_m"), p.get("camera_type"))
            except ValueError as exc:  # validated on write; an old row must not break the map
                raise ApiError(500, "ServerError", f"camera {cam.id}: {exc}") from exc
            if fov is None:
                continue
            props = {k: p.get(k) for k in ("id", "name", "surveillance", "camera_type",
                                           "status", "direction", "hfov_deg", "range_m")}
            out.append(StoredFeature(cam.id, props, shapely.to_geojson(fov)))
        return _geojson(out)

    return conditional(Validators(lambda: _states("video-surveillance"), "fov"), build)


def office_hours_doc(store: Store, city: str | None, now: dt.datetime) -> dict[str, Any]:
    filters = (Filter("city", city),) if city else ()
    offices = store.query("contact-offices", Query(filters=filters, limit=ALL)).features
    return {
        "generated": now.isoformat(),
        "timezone": "Europe/Berlin",
        "offices": {
            f.id: status(f.properties.get("opening_hours"), f.properties.get("appointments"), now,
                         land_of(f.properties.get("city_ags"))).as_json()
            for f in offices
        },
    }


@bp.get("/office-hours")
def office_hours() -> Response:
    """Open now / next opening of every office (``city=…``), as of this minute."""
    args = _args()
    check_known(args, {"city"})
    city = single(args, "city")
    now = dt.datetime.now(BERLIN).replace(second=0, microsecond=0)
    build: Callable[[], Response] = lambda: Response(  # noqa: E731
        json.dumps(office_hours_doc(_store(), city, now), ensure_ascii=False),
        mimetype="application/json")
    return conditional(Validators(lambda: _states("contact-offices"), "hours", now.isoformat()),
                       build)
