"""What a map page and an embed both need: the map, its focus, legend and text alternative.

Pure over the app's services; the routes add what only a request knows (URLs, language).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import shapely

from ..catalog.layers import Credit
from ..catalog.maps import MapDef
from ..config import Settings
from ..finder.hours import BERLIN, land_of, status
from ..i18n import CATEGORY_TEXT, texts, value_label
from ..planner.metrics import prevention_coverage
from ..store.base import Filter, StoredFeature
from ..survey.service import statuses as survey_statuses
from .basemap import Basemap, basemap_of
from .render import EmbedOptions, MapParts, build_map

if TYPE_CHECKING:
    from ..services import Services

Bounds = tuple[float, float, float, float]


def _filters(params: Mapping[str, str]) -> tuple[Filter, ...]:
    return tuple(Filter(k, v) for k, v in params.items())


def _bounds(features: list[StoredFeature]) -> Bounds | None:
    geoms = [shapely.from_geojson(f.geometry) for f in features if f.geometry]
    if not geoms:
        return None
    b = shapely.total_bounds(geoms)
    return float(b[0]), float(b[1]), float(b[2]), float(b[3])


def focus_bounds(services: Services, mapdef: MapDef, district: str | None) -> Bounds | None:
    """Bounds the map opens on; cached per data version (a whole Land is 849 polygons)."""
    store = services.public_store
    if district:
        feature = store.get("districts", district)
        return _bounds([feature]) if feature else None
    focus = mapdef.focus

    def compute() -> Bounds | None:
        if focus.id is not None:
            feature = store.get(focus.collection, focus.id)
            return _bounds([feature] if feature else [])
        return _bounds(store.all_features(focus.collection, _filters(focus.filter)))

    name = ("focus", focus.collection, focus.id, tuple(sorted(focus.filter.items())))
    return services.cached(name, (focus.collection,), compute, services.map_bounds)


ARCHIVE_PATH = "/basemap/basemap.pmtiles"  # maps/basemap_routes.py; routes pass url_for's


def tiles(settings: Settings, archive_url: str = ARCHIVE_PATH) -> Basemap | None:
    """The basemap of every map: the own archive (served at ``archive_url``), a tile server, or none."""
    return basemap_of(settings, archive_url)


@dataclass(frozen=True)
class LayerList:
    """The text alternative of one layer: the same facts as its popups."""

    id: str
    title: str
    rows: list[dict[str, Any]]
    located: int
    credit: Credit  # licence and attribution in the page's language where the layer has it


def _office_row(props: Mapping[str, Any], located: bool, now: dt.datetime, lang: str) -> dict[str, Any]:
    hours = status(props.get("opening_hours"), props.get("appointments"), now, land_of(props.get("city_ags")))
    return {
        **props,
        "located": located,
        "hours": hours,
        "kind_label": value_label(lang, "kind", props.get("kind")),
    }


def layer_lists(services: Services, mapdef: MapDef, shown: list[str], lang: str) -> list[LayerList]:
    """The list or table beside the map: one per layer shown, with licence and attribution."""
    store = services.public_store
    catalog = services.catalog
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
            munis = store.all_features("municipalities", filters)
            bodies = [f.properties for f in store.all_features("prevention-bodies")]
            rows = [prevention_coverage(m.properties, bodies) for m in munis]
            asked = survey_statuses(store)
            which = 1 if lang == "en" else 0
            for row in rows:
                row["status_label"] = value_label(lang, "prevention_status", row["prevention_status"])
                if asked:  # a survey was run: each row says whether it was asked and answered
                    row["survey_label"] = CATEGORY_TEXT["survey_status"][asked.get(row["ags"])][which]
            rows.sort(key=lambda r: (r["prevention_status"] == "none_known", -(r["population"] or 0)))
            own, bodies_credit = (
                catalog["municipalities"].credit(lang),
                catalog["prevention-bodies"].credit(lang),
            )
            out.append(
                LayerList(
                    layer_id,
                    t[layer_id],
                    rows,
                    len(rows),
                    Credit(
                        own.licence,
                        own.attribution + "; " + bodies_credit.attribution,
                        own.lang if own.lang == bodies_credit.lang else "de",
                    ),
                )
            )
            continue
        features = store.all_features(layer_id, _filters(params))
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
                layer.credit(lang),
            )
        )
    return out


def render_parts(
    services: Services,
    mapdef: MapDef,
    options: EmbedOptions,
    district: str | None,
    api_base: str,
    static_url: Callable[[str], str],
    archive_url: str = ARCHIVE_PATH,
) -> MapParts:
    """The map of ``mapdef`` (``district`` highlighted), reading its layers from ``api_base``."""
    highlight = district or mapdef.district
    if highlight != mapdef.district:
        mapdef = replace(mapdef, district=highlight)
    return build_map(
        mapdef,
        services.catalog,
        focus_bounds(services, mapdef, district),
        options,
        tiles(services.settings, archive_url),
        api_base,
        static_url,
    )
