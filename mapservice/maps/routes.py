"""Public HTML pages: the overview with its map chooser, and one page per named map."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, redirect, url_for

from ..catalog.maps import MapCatalog, MapDef
from ..http.caching import Validators, conditional
from ..http.context import args as request_args
from ..http.context import services
from ..http.errors import ApiError
from ..http.pages import page
from ..http.params import check_known, single
from ..http.security import allow_scripts
from ..i18n import pick_lang
from ..store.base import LayerState
from . import views
from .render import EmbedOptions, MapParts

bp = Blueprint("pages", __name__)


def _lang() -> str:
    return pick_lang(single(request_args(), "lang"))


def _states() -> list[LayerState]:
    found = services()
    return [found.public_store.state(lid) for lid in found.catalog.ids()]


def map_catalog() -> MapCatalog:
    return services().expanded_maps()


def get_map(map_id: str) -> MapDef:
    maps = map_catalog().maps
    if map_id not in maps:
        raise ApiError(
            404,
            "NotFound",
            f"There is no map '{map_id}'.",
            key="unknown_map",
            params={"map": map_id},
            links=[
                {"de": m.title, "en": m.title_en, "href": url_for("pages.map_page", map_id=m.id)}
                for m in maps.values()
            ],
        )
    return maps[map_id]


def render_parts(mapdef: MapDef, options: EmbedOptions, district: str | None) -> MapParts:
    return views.render_parts(
        services(),
        mapdef,
        options,
        district,
        url_for("api.landing").rstrip("/"),
        lambda path: url_for("static", filename=path),
        url_for("basemap.archive"),
    )


def layer_lists(mapdef: MapDef, shown: list[str], lang: str) -> list[views.LayerList]:
    return views.layer_lists(services(), mapdef, shown, lang)


@bp.get("/")
def index() -> Response:
    catalog = services().catalog
    store = services().public_store
    lang = _lang()

    def build() -> Response:
        states = {lid: store.state(lid) for lid in catalog.ids()}
        maps = map_catalog().maps
        return page("pages/index.html", lang, catalog=catalog, states=states, maps=maps)

    return conditional(Validators(_states, "html", lang), build)


@bp.get("/favicon.ico")
def favicon() -> Response:
    """Browsers ask for it on pages without an icon link (the API's JSON viewed raw)."""
    return current_app.send_static_file("favicon.svg")


@bp.get("/map")
def choose() -> Response:
    """The map chooser's form target: works without JavaScript."""
    args = request_args()
    map_id = single(args, "id") or ""
    get_map(map_id)  # 404 for an unknown one
    lang = single(args, "lang")
    target = (
        url_for("pages.map_page", map_id=map_id, lang=lang)
        if lang
        else url_for("pages.map_page", map_id=map_id)
    )
    return redirect(target, code=303)  # type: ignore[return-value]


@bp.get("/map/<map_id>")
def map_page(map_id: str) -> Response:
    mapdef = get_map(map_id)
    check_known(request_args(), {"lang"})
    lang = _lang()

    def build() -> Response:
        options = EmbedOptions(lang=lang)
        parts = render_parts(mapdef, options, None)
        lists = layer_lists(mapdef, parts.layers, lang)
        response = page(
            "pages/map.html", lang, mapdef=mapdef, parts=parts, lists=lists, embed=False, caption=True
        )
        return allow_scripts(response, parts.script)

    return conditional(Validators(_states, "map", lang), build)
