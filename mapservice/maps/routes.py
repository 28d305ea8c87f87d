"""Public HTML pages: the overview with its map chooser, and one page per named map."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, redirect, render_template, request, url_for

from ..catalog.layers import Catalog
from ..http.caching import Validators, conditional
from ..http.context import store as public_store
from ..http.errors import ApiError
from ..i18n import pick_lang, texts
from ..store.base import Store
from .render import EmbedOptions
from .views import csp, get_map, layer_lists, map_catalog, render_parts

bp = Blueprint("pages", __name__)


def _lang() -> str:
    return pick_lang(request.args.get("lang"))


def _states() -> list:  # type: ignore[type-arg]
    catalog: Catalog = current_app.extensions["mapservice.catalog"]
    store: Store = public_store()
    return [store.state(lid) for lid in catalog.ids()]


@bp.get("/")
def index() -> Response:
    catalog: Catalog = current_app.extensions["mapservice.catalog"]
    store: Store = public_store()
    lang = _lang()

    def build() -> Response:
        states = {lid: store.state(lid) for lid in catalog.ids()}
        maps = map_catalog().maps
        return Response(
            render_template(
                "pages/index.html", catalog=catalog, states=states, maps=maps, lang=lang, t=texts(lang)
            ),
            mimetype="text/html",
        )

    return conditional(Validators(_states, "html", lang), build)


@bp.get("/favicon.ico")
def favicon() -> Response:
    """Browsers ask for it on pages without an icon link (the API's JSON viewed raw)."""
    return current_app.send_static_file("favicon.svg")


@bp.get("/map")
def choose() -> Response:
    """The map chooser's form target: works without JavaScript."""
    map_id = request.args.get("id", "")
    get_map(map_id)  # 404 for an unknown one
    lang = request.args.get("lang")
    target = (
        url_for("pages.map_page", map_id=map_id, lang=lang)
        if lang
        else url_for("pages.map_page", map_id=map_id)
    )
    return redirect(target, code=303)  # type: ignore[return-value]


@bp.get("/map/<map_id>")
def map_page(map_id: str) -> Response:
    mapdef = get_map(map_id)
    unknown = set(request.args) - {"lang"}
    if unknown:
        raise ApiError(400, "InvalidParameter", f"Unknown parameter(s): {', '.join(sorted(unknown))}")
    lang = _lang()

    def build() -> Response:
        options = EmbedOptions(lang=lang)
        parts = render_parts(mapdef, options, None)
        lists = layer_lists(mapdef, parts.layers, lang)
        response = Response(
            render_template(
                "pages/map.html",
                mapdef=mapdef,
                parts=parts,
                lists=lists,
                lang=lang,
                t=texts(lang),
                embed=False,
                caption=True,
            ),
            mimetype="text/html",
        )
        return response

    response = conditional(Validators(_states, "map", lang), build)
    response.headers["Content-Security-Policy"] = csp("'self'")
    return response
