"""What a map page and an embed both need: the map, its focus, legend and text alternative."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import shapely
from flask import current_app, url_for

from ..catalog.maps import MapCatalog, MapDef
from ..finder.hours import BERLIN, land_of, status
from ..http.context import catalog as _catalog
from ..http.context import store as _store
from ..http.errors import ApiError
from ..i18n import texts, value_label
from ..planner.metrics import prevention_coverage
from ..store.base import Filter, Query, StoredFeature
from .render import EmbedOptions, MapParts, Tiles, build_map

ALL = 100_000


def map_catalog() -> MapCatalog:
    """The configured maps plus one per district of the cities named in [district_maps]."""
    # Every page and embed asks for it: expanded once per version of the districts layer.
    state = _store().state("districts")
    cache: dict[str, Any] = current_app.extensions.setdefault("mapservice.maps_expanded", {})
    key = (state.version, state.updated_at)
    if cache.get("key") != key:
        maps: MapCatalog = current_app.extensions["mapservice.maps"]
        districts = _store().query("districts", Query(limit=ALL)).features
        cache["key"] = key
        cache["value"] = maps.with_districts([f.properties for f in districts])
    expanded: MapCatalog = cache["value"]
    return expanded


def get_map(map_id: str) -> MapDef:
    maps = map_catalog().maps
    if map_id not in maps:
        raise ApiError(404, "NotFound", f"There is no map '{map_id}'.")
    return maps[map_id]


def _filters(params: Mapping[str, str]) -> tuple[Filter, ...]:
    return tuple(Filter(k, v) for k, v in params.items())


def _bounds(features: list[StoredFeature]) -> tuple[float, float, float, float] | None:
    geoms = [shapely.from_geojson(f.geometry) for f in features if f.geometry]
    if not geoms:
        return None
    b = shapely.total_bounds(geoms)
    return float(b[0]), float(b[1]), float(b[2]), float(b[3])


_BOUNDS_CACHE: dict[tuple[Any, ...], tuple[float, float, float, float] | None] = {}


def focus_bounds(mapdef: MapDef, district: str | None) -> tuple[float, float, float, float] | None:
    """Bounds the map opens on; cached per data version (a whole Land is 849 polygons)."""
    store = _store()
    if district:
        feature = store.get("districts", district)
        return _bounds([feature]) if feature else None
    focus = mapdef.focus
    state = store.state(focus.collection)
    key = (focus.collection, focus.id, tuple(sorted(focus.filter.items())), state.version, state.updated_at)
    if key not in _BOUNDS_CACHE:
        if focus.id is not None:
            feature = store.get(focus.collection, focus.id)
            features = [feature] if feature else []
        else:
            features = store.query(
                focus.collection, Query(filters=_filters(focus.filter), limit=ALL)
            ).features
        _BOUNDS_CACHE[key] = _bounds(features)
    return _BOUNDS_CACHE[key]


def tiles() -> Tiles | None:
    settings = current_app.config["SETTINGS"]
    if not settings.tile_url:
        return None
    return Tiles(settings.tile_url, settings.tile_attribution, settings.tile_max_zoom)


@dataclass(frozen=True)
class LayerList:
    """The text alternative of one layer: the same facts as its popups."""

    id: str
    title: str
    rows: list[dict[str, Any]]
    located: int
    licence: str
    attribution: str


def _office_row(props: Mapping[str, Any], located: bool, now: dt.datetime, lang: str) -> dict[str, Any]:
    hours = status(props.get("opening_hours"), props.get("appointments"), now, land_of(props.get("city_ags")))
    return {
        **props,
        "located": located,
        "hours": hours,
        "kind_label": value_label(lang, "kind", props.get("kind")),
    }


def layer_lists(mapdef: MapDef, shown: list[str], lang: str) -> list[LayerList]:
    store = _store()
    catalog = _catalog()
    t = texts(lang)
    now = dt.datetime.now(BERLIN)
    out = []
    for layer_id in shown:
        params = mapdef.filters.get(layer_id, {})
        if layer_id == "prevention-coverage":
            filters = []
            if "land" in params:
                filters.append(Filter("land_code", params["land"]))
            if "ags" in params:
                filters.append(Filter("ags", params["ags"]))
            munis = store.query(
                "municipalities", Query(filters=tuple(filters), limit=ALL, sortby=())
            ).features
            bodies = [f.properties for f in store.query("prevention-bodies", Query(limit=ALL)).features]
            rows = [prevention_coverage(m.properties, bodies) for m in munis]
            for row in rows:
                row["status_label"] = value_label(lang, "prevention_status", row["prevention_status"])
            rows.sort(key=lambda r: (r["prevention_status"] == "none_known", -(r["population"] or 0)))
            source = catalog["municipalities"]
            out.append(
                LayerList(
                    layer_id,
                    t[layer_id],
                    rows,
                    len(rows),
                    source.licence,
                    source.attribution + "; " + catalog["prevention-bodies"].attribution,
                )
            )
            continue
        features = store.query(layer_id, Query(filters=_filters(params), limit=ALL)).features
        if layer_id == "contact-offices":
            rows = [_office_row(f.properties, f.geometry is not None, now, lang) for f in features]
        else:
            rows = [{**f.properties, "located": f.geometry is not None} for f in features]
        layer = catalog[layer_id]
        out.append(
            LayerList(
                layer_id,
                t[layer_id],
                rows,
                sum(1 for f in features if f.geometry is not None),
                layer.licence,
                layer.attribution,
            )
        )
    return out


def render_parts(mapdef: MapDef, options: EmbedOptions, district: str | None) -> MapParts:
    api_base = url_for("api.landing").rstrip("/")
    highlight = district or mapdef.district
    if highlight != mapdef.district:
        from dataclasses import replace

        mapdef = replace(mapdef, district=highlight)
    return build_map(
        mapdef,
        _catalog(),
        focus_bounds(mapdef, district),
        options,
        tiles(),
        api_base,
        lambda path: url_for("static", filename=path),
    )


def csp(frame_ancestors: str) -> str:
    """No request may leave the service except to the configured tile server."""
    settings = current_app.config["SETTINGS"]
    img = "'self' data:"
    if settings.tile_url.startswith(("https://", "http://")):
        from urllib.parse import urlsplit

        parts = urlsplit(settings.tile_url.replace("{s}", "a"))
        host = parts.netloc.replace("a.", "*.", 1) if "{s}" in settings.tile_url else parts.netloc
        img += f" {parts.scheme}://{host}"
    return (
        "default-src 'self'; script-src 'self' 'unsafe-inline'; "
        "style-src 'self' 'unsafe-inline'; "
        f"img-src {img}; connect-src 'self'; font-src 'self'; object-src 'none'; "
        f"base-uri 'none'; form-action 'self'; frame-ancestors {frame_ancestors}"
    )
