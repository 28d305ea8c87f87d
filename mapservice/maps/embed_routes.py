"""``/embed/<map_id>``: the map without page chrome for iframes, and the snippet maker."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from urllib.parse import urlencode

from flask import Blueprint, Response, url_for

from ..catalog.maps import MapDef
from ..http.caching import Validators, conditional
from ..http.context import args as request_args
from ..http.errors import ApiError
from ..http.pages import page
from ..http.params import bad, check_known, single
from ..http.security import allow_scripts
from ..i18n import pick_lang
from .render import EmbedOptions
from .routes import _states, get_map, layer_lists, map_catalog, render_parts

bp = Blueprint("embed", __name__, url_prefix="/embed")

# uMap-style switches and their defaults in an embedded map.
SWITCHES = {
    "zoomControl": True,
    "scrollWheelZoom": False,
    "locateControl": False,
    "fullscreenControl": True,
    "captionBar": True,
}
PARAMS = frozenset({*SWITCHES, "datalayers", "district", "lang"})


def _switch(args: Mapping[str, Sequence[str]], name: str) -> bool:
    raw = single(args, name)
    if raw is None or raw == "":
        return SWITCHES[name]
    if raw.lower() in ("true", "1", "on", "yes"):
        return True
    if raw.lower() in ("false", "0", "off", "no"):
        return False
    raise bad(name, f"'{raw}' is not true/false")


def parse_embed(args: Mapping[str, Sequence[str]], mapdef: MapDef) -> tuple[EmbedOptions, str | None]:
    """The embed's switches, layers and district; each parameter at most once."""
    check_known(args, PARAMS)
    layers = None
    datalayers = single(args, "datalayers")
    if datalayers:
        layers = tuple(x.strip() for x in datalayers.split(",") if x.strip())
        wrong = [x for x in layers if x not in mapdef.layers]
        if wrong:
            raise ApiError(
                400,
                "InvalidParameterValue",
                f"Parameter 'datalayers': {', '.join(wrong)} not in this map "
                f"(layers: {', '.join(mapdef.layers)})",
            )
    district = single(args, "district") or None
    if district is not None:
        maps = map_catalog().maps
        if district not in maps or maps[district].district != district:
            raise ApiError(
                400,
                "InvalidParameterValue",
                f"Parameter 'district': '{district}' is not a district with a map",
            )
    options = EmbedOptions(
        layers=layers,
        zoom_control=_switch(args, "zoomControl"),
        scroll_wheel_zoom=_switch(args, "scrollWheelZoom"),
        locate_control=_switch(args, "locateControl"),
        fullscreen_control=_switch(args, "fullscreenControl"),
        caption_bar=_switch(args, "captionBar"),
        lang=pick_lang(single(args, "lang")),
    )
    return options, district


@bp.get("/<map_id>")
def embed_map(map_id: str) -> Response:
    mapdef = get_map(map_id)
    options, district = parse_embed(request_args(), mapdef)

    def build() -> Response:
        parts = render_parts(mapdef, options, district)
        lists = layer_lists(mapdef, parts.layers, options.lang)
        response = page(
            "embed/map.html",
            options.lang,
            mapdef=mapdef,
            parts=parts,
            lists=lists,
            embed=True,
            caption=options.caption_bar,
            page_url=url_for("pages.map_page", map_id=district or mapdef.id, _external=True),
        )
        return allow_scripts(response, parts.script)

    return conditional(Validators(_states, "embed"), build)


def iframe_html(src: str, title: str, width: str, height: str, locate: bool) -> str:
    """The snippet a city editor pastes; every attribute value is escaped."""
    from markupsafe import escape

    allow = ' allow="geolocation"' if locate else ""
    return (
        f'<iframe src="{escape(src)}" title="{escape(title)}" width="{escape(width)}" '
        f'height="{escape(height)}" loading="lazy" style="border:0"{allow} '
        f'referrerpolicy="no-referrer"></iframe>'
    )


def _size(value: str | None, default: str) -> str:
    value = (value or default).strip()
    if (value.endswith("%") and value[:-1].isdigit()) or value.isdigit():
        return value
    raise ApiError(400, "InvalidParameterValue", f"'{value}' is not a size in pixels or percent")


@bp.get("/<map_id>/snippet")
def snippet(map_id: str) -> Response:
    mapdef = get_map(map_id)
    given = request_args()
    args = {k: v for k, v in given.items() if k not in ("width", "height")}
    # Unchecked checkboxes are not sent: a submitted form says "false" for every missing switch.
    submitted = single(given, "submitted") == "1"
    args.pop("submitted", None)
    layers = given.get("layer", [])
    args.pop("layer", None)
    if submitted:
        for name in SWITCHES:
            args.setdefault(name, ["false"])
        args["datalayers"] = [",".join(layers)] if layers else [""]
    options, district = parse_embed(args, mapdef)
    width = _size(single(given, "width"), "100%")
    height = _size(single(given, "height"), "500")
    params = {
        "zoomControl": str(options.zoom_control).lower(),
        "scrollWheelZoom": str(options.scroll_wheel_zoom).lower(),
        "locateControl": str(options.locate_control).lower(),
        "fullscreenControl": str(options.fullscreen_control).lower(),
        "captionBar": str(options.caption_bar).lower(),
        "lang": options.lang,
    }
    if options.layers is not None:
        params["datalayers"] = ",".join(options.layers)
    if district:
        params["district"] = district
    src = url_for("embed.embed_map", map_id=mapdef.id, _external=True) + "?" + urlencode(params)
    title = mapdef.title if options.lang == "de" else mapdef.title_en
    if district:
        title = f"{title} – {map_catalog().maps[district].title}"
    districts = sorted(
        (m for m in map_catalog().maps.values() if m.district and m.base == (mapdef.base or mapdef.id)),
        key=lambda m: m.title,
    )
    html = iframe_html(src, title, width, height, options.locate_control)
    return page(
        "embed/snippet.html",
        options.lang,
        mapdef=mapdef,
        options=options,
        district=district,
        districts=districts,
        width=width,
        height=height,
        snippet=html,
        src=src,
        iframe_title=title,
    )
