"""Derived layers under ``/api``: camera fields of view, office hours and orientation outlines.

Computed from the stored collections on request (and cached by ETag like everything else);
never stored by hand.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from typing import Any

import shapely
from flask import Blueprint, Response

from ..finder.hours import BERLIN, land_of, status
from ..http.caching import Validators, conditional
from ..http.context import args as _args
from ..http.context import services as _services
from ..http.context import store as _store
from ..http.errors import ApiError
from ..http.params import bad, check_known, choice, parse_bbox, parse_int, single
from ..ogcapi import documents as ogc
from ..store.base import Filter, LayerState, Store, StoredFeature
from .fov import field_of_view
from .outlines import OUTLINE_LAYERS, OutlineSet, build_outlines, clamp_zoom, outlines_json

bp = Blueprint("derived", __name__, url_prefix="/api")


def _states(*layer_ids: str) -> list[LayerState]:
    return [_store().state(lid) for lid in layer_ids]


def _geojson(features: list[StoredFeature]) -> Response:
    body = ogc.feature_collection_json(features, len(features), _now_text(), [], None, False)
    return Response(body, mimetype=ogc.GEOJSON)


def _now_text() -> str:
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


@bp.get("/derived/camera-fov")
def camera_fov() -> Response:
    """Field-of-view polygons of the cameras (``city=…``), one feature per camera."""
    args = _args()
    check_known(args, {"city"})
    city = single(args, "city")
    filters = (Filter("city", city),) if city else ()

    def build() -> Response:
        cameras = _store().all_features("video-surveillance", filters)
        out = []
        for cam in cameras:
            if cam.geometry is None:
                continue
            point = shapely.from_geojson(cam.geometry)
            p = cam.properties
            try:
                fov = field_of_view(
                    point.x,
                    point.y,
                    p.get("direction"),
                    p.get("hfov_deg"),
                    p.get("range_m"),
                    p.get("camera_type"),
                )
            except ValueError as exc:  # validated on write; an old row must not break the map
                raise ApiError(500, "ServerError", f"camera {cam.id}: {exc}") from exc
            if fov is None:
                continue
            props = {
                k: p.get(k)
                for k in (
                    "id",
                    "name",
                    "surveillance",
                    "camera_type",
                    "status",
                    "direction",
                    "hfov_deg",
                    "range_m",
                )
            }
            out.append(StoredFeature(cam.id, props, shapely.to_geojson(fov)))
        return _geojson(out)

    return conditional(Validators(lambda: _states("video-surveillance"), "fov"), build)


def office_hours_doc(store: Store, city: str | None, now: dt.datetime) -> dict[str, Any]:
    filters = (Filter("city", city),) if city else ()
    offices = store.all_features("contact-offices", filters)
    return {
        "generated": now.isoformat(),
        "timezone": "Europe/Berlin",
        "offices": {
            f.id: status(
                f.properties.get("opening_hours"),
                f.properties.get("appointments"),
                now,
                land_of(f.properties.get("city_ags")),
            ).as_json()
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
        json.dumps(office_hours_doc(_store(), city, now), ensure_ascii=False), mimetype="application/json"
    )
    return conditional(Validators(lambda: _states("contact-offices"), "hours", now.isoformat()), build)


@bp.get("/derived/outlines")
def outlines() -> Response:
    """Outlines and names of ``layer`` (municipalities or districts) crossing ``bbox``,
    simplified to about a pixel at ``zoom``: the orientation every map draws. ``outlines=false``
    gives the names alone, ``major=true`` only those of the towns named from further out."""
    args = _args()
    check_known(args, {"layer", "bbox", "zoom", "outlines", "major"})
    with_outlines = choice(args, "outlines", ("true", "false"), "true") == "true"
    major_only = choice(args, "major", ("true", "false"), "false") == "true"
    layer = choice(args, "layer", OUTLINE_LAYERS)
    if layer is None:
        raise bad("layer", "give 'layer': municipalities or districts")
    bbox = parse_bbox(single(args, "bbox"), None)
    if bbox is None:
        raise bad("bbox", "give 'bbox' (minLon,minLat,maxLon,maxLat)")
    zoom = clamp_zoom(parse_int("zoom", single(args, "zoom"), 12, 0, 30))

    def outline_set() -> OutlineSet:
        return build_outlines(_services().public_store.shapes(layer), zoom)

    def build() -> Response:
        services = _services()
        # In the per-map cache: the outline sets (two layers, ten zooms) must never push the
        # finder's index or the planner's rankings out of the shared one.
        chosen = services.cached(("outlines", layer, zoom), (layer,), outline_set, services.map_bounds)
        return Response(outlines_json(chosen.within(bbox, with_outlines, major_only)), mimetype=ogc.GEOJSON)

    return conditional(
        Validators(lambda: _states(layer), "outlines", layer, zoom, bbox, with_outlines, major_only), build
    )
