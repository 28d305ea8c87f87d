"""Builds the Folium maps named in ``layers/maps.toml``.

Folium creates the Leaflet map, the layer groups, the layer switcher and the plugins; the data
itself is not inlined but fetched by ``static/js/dsm-map.js`` from the service's own ``/api``,
which keeps the page small and lets the browser and any CDN cache the layers.

Folium's own header links Leaflet and plugins from CDNs and locks the viewport zoom; neither
is acceptable here (no third-party requests, text must be zoomable), so the header is not used:
every asset a map needs is mapped to its vendored copy under ``/static/vendor``.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from jinja2 import Template
from markupsafe import Markup

from .. import lazy
from ..catalog.layers import Catalog
from ..catalog.maps import MapDef
from ..i18n import VALUES, pick_lang, texts
from .basemap import Basemap, consent_notice, script_config, scripts
from .symbols import LegendGroup, context_options, legend, symbols_config

if TYPE_CHECKING:
    import folium

# Folium asset names → vendored files. An asset not listed here fails loudly instead of
# silently pulling something from a CDN.
VENDOR_JS = {
    "leaflet": "vendor/leaflet/leaflet.js",
    "markerclusterjs": "vendor/leaflet.markercluster/leaflet.markercluster.js",
    "Control.Fullscreen.js": "vendor/leaflet.fullscreen/Control.FullScreen.js",
    "Control_locate_min_js": "vendor/leaflet.locatecontrol/L.Control.Locate.min.js",
}
VENDOR_CSS = {
    "leaflet_css": "vendor/leaflet/leaflet.css",
    "markerclustercss": "vendor/leaflet.markercluster/MarkerCluster.css",
    "markerclusterdefaultcss": "vendor/leaflet.markercluster/MarkerCluster.Default.css",
    "Control.FullScreen.css": "vendor/leaflet.fullscreen/Control.FullScreen.css",
    "Control_locate_min_css": "vendor/leaflet.locatecontrol/L.Control.Locate.min.css",
}
# Folium's jQuery, Bootstrap and awesome-markers are not needed by anything drawn here.
UNUSED_ASSETS = {
    "jquery",
    "bootstrap",
    "awesome_markers",
    "bootstrap_css",
    "glyphicons_css",
    "awesome_markers_font_css",
    "awesome_markers_css",
    "awesome_rotate_css",
}

LOADER = Template("""
{% macro script(this, kwargs) %}
    DSM.start({
        map: {{ this.map_name }},
        lang: {{ this.config.lang|tojson }},
        t: {{ this.config.t|tojson }},
        v: {{ this.config.v|tojson }},
        highlight: {{ this.config.highlight|tojson }},
        hoursUrl: {{ this.config.hours_url|tojson }},
        statusId: {{ this.config.status_id|tojson }},
        attributions: {{ this.config.attributions|tojson }},
        basemap: {{ this.config.basemap|tojson }},
        symbols: {{ this.config.symbols|tojson }},
        context: {{ this.config.context|tojson }},
        layers: [
        {%- for layer in this.layers %}
            {id: {{ layer.id|tojson }}, url: {{ layer.url|tojson }},
             group: {{ layer.group }}
             {%- if layer.levels %}, levels: true{% endif %}
             {%- if layer.fov_group %}, fovUrl: {{ layer.fov_url|tojson }},
             fovGroup: {{ layer.fov_group }}{% endif %}},
        {%- endfor %}
        ]
    });
{% endmacro %}
""")


_preloaded = threading.Event()


def preload() -> None:
    """Import Folium now. It takes about a second (it compiles some eighty templates), so the
    service imports it on first use, and each worker does so in a background thread right
    after it starts (``mapservice serve``): the finder answers at once, a map page soon.

    Every map function calls it first: the imports and the loader classes are made once, by
    one thread, under the import lock (see mapservice/lazy.py), and a request that comes while
    the background thread is at it waits for the finished modules."""
    if _preloaded.is_set():
        return
    with lazy.IMPORT_LOCK:
        if _preloaded.is_set():
            return
        lazy.load("folium")
        lazy.load("folium.plugins")
        _loader_class("DataLoader", LOADER)
        _loader_class("ChoroplethLoader", CHOROPLETH)
        _preloaded.set()


@functools.cache
def _loader_class(name: str, template: Template) -> Any:
    """A Folium element that emits ``template`` (its ``this`` has the attributes given)."""
    import folium

    class Loader(folium.MacroElement):
        _template = template

        def __init__(self, map_name: str, **attributes: object) -> None:
            super().__init__()  # type: ignore[no-untyped-call]
            self._name = name
            self.map_name = map_name
            for key, value in attributes.items():
                setattr(self, key, value)

    Loader.__name__ = Loader.__qualname__ = name
    return Loader


@dataclass(frozen=True)
class EmbedOptions:
    """What a page or an embedding page may switch (uMap-style URL parameters)."""

    layers: tuple[str, ...] | None = None  # None: all of the map's layers
    zoom_control: bool = True
    scroll_wheel_zoom: bool = True
    locate_control: bool = False
    fullscreen_control: bool = True
    caption_bar: bool = True
    lang: str = "de"


@dataclass(frozen=True)
class MapParts:
    css: list[str]
    js: list[str]
    html: Markup
    script: Markup
    layers: list[str]
    legend: list[LegendGroup]
    # The consent notice of an external tile server (maps/basemap.py); empty otherwise.
    basemap_notice: Markup = field(default_factory=Markup)


# The basemap (own PMTiles archive, or tile server) under every map; see maps/basemap.py.
Tiles = Basemap
# Where a page's consent notice is (one map per page; dsm-basemap.js moves it into the map).
NOTICE_ID = "dsm-basemap-notice"


def layer_url(api_base: str, layer: str, filters: Mapping[str, str]) -> str:
    if layer == "prevention-coverage":
        return f"{api_base}/coverage/municipalities?{urlencode(filters)}"
    return f"{api_base}/collections/{layer}/items?{urlencode({**filters, 'limit': '10000'})}"


def _assets(root: folium.Element, static: Callable[[str], str]) -> tuple[list[str], list[str]]:
    js: dict[str, str] = {}
    css: dict[str, str] = {}

    def visit(element: folium.Element) -> None:
        for name, _url in getattr(element, "default_js", []):
            if name in UNUSED_ASSETS:
                continue
            js.setdefault(name, static(VENDOR_JS[name]))
        for name, _url in getattr(element, "default_css", []):
            if name in UNUSED_ASSETS:
                continue
            css.setdefault(name, static(VENDOR_CSS[name]))
        for child in element._children.values():
            visit(child)

    visit(root)
    return list(css.values()), list(js.values())


def build_map(
    mapdef: MapDef,
    catalog: Catalog,
    bounds: tuple[float, float, float, float] | None,
    options: EmbedOptions,
    tiles: Tiles | None,
    api_base: str,
    static: Callable[[str], str],
) -> MapParts:
    """The Leaflet map of a named map, as the pieces a page template places."""
    preload()
    import folium
    from folium.plugins import LocateControl, MarkerCluster

    lang = pick_lang(options.lang)
    t = texts(lang)
    shown = [lay for lay in mapdef.layers if options.layers is None or lay in options.layers]
    fmap = folium.Map(
        location=None,
        tiles=None,
        zoom_control=options.zoom_control,
        scrollWheelZoom=options.scroll_wheel_zoom,
        control_scale=True,
        width="100%",
        height="100%",
        # Leaflet only learns maxZoom from a tile layer; the cluster plugin needs it on the map.
        maxZoom=tiles.max_zoom if tiles else 19,
    )
    _fit(fmap, bounds)
    loader_layers: list[dict[str, str]] = []
    attributions: list[dict[str, str]] = []
    for layer_id in shown:
        filters = mapdef.filters.get(layer_id, {})
        group: folium.Element
        if layer_id == "video-surveillance":
            group = MarkerCluster(  # type: ignore[no-untyped-call]
                name=t[layer_id], disableClusteringAtZoom=16
            ).add_to(fmap)
            fov = folium.FeatureGroup(name=t["camera-fov"]).add_to(fmap)
            city = filters.get("city")
            fov_url = f"{api_base}/derived/camera-fov" + (f"?{urlencode({'city': city})}" if city else "")
            loader_layers.append(
                {
                    "id": layer_id,
                    "url": layer_url(api_base, layer_id, filters),
                    "group": group.get_name(),
                    "fov_group": fov.get_name(),
                    "fov_url": fov_url,
                }
            )
        else:
            group = folium.FeatureGroup(name=t[layer_id]).add_to(fmap)
            loaded = {
                "id": layer_id,
                "url": layer_url(api_base, layer_id, filters),
                "group": group.get_name(),
            }
            if layer_id == "prevention-coverage" and "ags" not in filters:
                # A Land's municipalities: simplified for the zoom (maps/simplify.py). One
                # town's outline is light as stored.
                loaded["levels"] = "true"
            loader_layers.append(loaded)
        sources = ["municipalities", "prevention-bodies"] if layer_id == "prevention-coverage" else [layer_id]
        for source in sources:
            layer = catalog[source]
            credit = layer.credit(lang).for_map()
            if credit not in attributions:
                attributions.append(credit)
    # Collapsed behind its button: open, it covered the zoom buttons and popups at 320 px.
    folium.LayerControl(collapsed=True).add_to(fmap)
    if options.fullscreen_control:
        _fullscreen(fmap, lang)
    if options.locate_control:
        LocateControl(
            position="topleft",
            icon="dsm-locate-icon",  # type: ignore[no-untyped-call]
            iconLoading="dsm-locate-icon dsm-locate-loading",
            strings={"title": "Meinen Standort zeigen" if lang == "de" else "Show my location"},
        ).add_to(fmap)
    office_filters = mapdef.filters.get("contact-offices", {})
    show = _context_show(mapdef, shown)
    config: dict[str, object] = {
        "lang": lang,
        "t": t,
        "v": VALUES[lang],
        "highlight": mapdef.district,
        "hours_url": (
            f"{api_base}/office-hours?{urlencode({'city': office_filters['city']})}"
            if "contact-offices" in shown and "city" in office_filters
            else (f"{api_base}/office-hours" if "contact-offices" in shown else None)
        ),
        "status_id": "dsm-status",
        "attributions": attributions,
        "basemap": script_config(tiles, lang, NOTICE_ID),
        "symbols": symbols_config(),
        "context": context_options(api_base, show),
    }
    # Emits the call that fetches and draws every layer once the map exists.
    _loader_class("DataLoader", LOADER)(fmap.get_name(), layers=loader_layers, config=config).add_to(fmap)
    return _parts(fmap, static, "js/dsm-map.js", shown, legend(shown, lang, show), tiles, lang)


def _context_show(mapdef: MapDef, shown: list[str]) -> dict[str, str]:
    """Which orientation outlines a map needs besides its data (see ``DSM.context``)."""
    show = {"municipalities": "all", "districts": "all"}
    if "districts" in shown:
        show["districts"] = "none"  # drawn and named by the districts layer itself
    coverage = mapdef.filters.get("prevention-coverage", {})
    if "prevention-coverage" in shown and "ags" not in coverage:
        show["municipalities"] = "names"  # a whole Land's municipalities are the data
    return show


def _parts(
    fmap: folium.Map,
    static: Callable[[str], str],
    script: str,
    layers: list[str],
    legend_groups: list[LegendGroup],
    tiles: Tiles | None = None,
    lang: str = "de",
) -> MapParts:
    """Render a Folium map into the pieces a page places, with vendored assets only."""
    import folium

    root = fmap.get_root()
    assert isinstance(root, folium.Figure)
    root.render()
    css, js = _assets(fmap, static)
    js.append(static("js/dsm-core.js"))
    js += [static(path) for path in scripts(tiles)]
    js.append(static("js/dsm-basemap.js"))
    if script == "js/dsm-map.js":  # the planner's choropleth has no markers
        js.append(static("js/dsm-markers.js"))
    js.append(static("js/dsm-context.js"))
    js.append(static(script))
    css.append(static("css/dsm-map.css"))
    # Folium's output is built from our configuration and escaped JSON, never from data.
    return MapParts(
        css=css,
        js=js,
        html=Markup(root.html.render()),  # noqa: S704
        script=Markup(root.script.render()),  # noqa: S704
        layers=layers,
        legend=legend_groups,
        basemap_notice=consent_notice(tiles, lang, NOTICE_ID),
    )


def _fit(fmap: folium.Map, bounds: tuple[float, float, float, float] | None) -> None:
    # The basemap is not Folium's TileLayer: an external server may be asked only after the
    # reader's consent, so static/js/dsm-basemap.js adds it (``config["basemap"]``).
    if bounds is not None:
        minx, miny, maxx, maxy = bounds
        fmap.fit_bounds([[miny, minx], [maxy, maxx]])


def _fullscreen(fmap: folium.Map, lang: str) -> None:
    from folium.plugins import Fullscreen

    Fullscreen(  # type: ignore[no-untyped-call]
        position="topleft",
        title="Vollbild" if lang == "de" else "Full screen",
        title_cancel="Vollbild beenden" if lang == "de" else "Exit full screen",
    ).add_to(fmap)


def focus_bounds(
    geometries: Sequence[tuple[float, float, float, float]],
) -> tuple[float, float, float, float] | None:
    if not geometries:
        return None
    return (
        min(g[0] for g in geometries),
        min(g[1] for g in geometries),
        max(g[2] for g in geometries),
        max(g[3] for g in geometries),
    )


CHOROPLETH = Template("""
{% macro script(this, kwargs) %}
    DSM.planner({{ this.map_name }}, {{ this.config|tojson }});
{% endmacro %}
""")


def build_choropleth(
    config: dict[str, object],
    bounds: tuple[float, float, float, float] | None,
    tiles: Tiles | None,
    static: Callable[[str], str],
    lang: str,
) -> MapParts:
    """The planner's choropleth: a Folium map whose one layer is coloured by a metric.

    ``config`` carries the data URL, the metric, its classes and colours and the texts; the
    classes come from the server so that map, table and bar chart agree.
    """
    preload()
    import folium

    fmap = folium.Map(
        location=None,
        tiles=None,
        control_scale=True,
        width="100%",
        height="100%",
        maxZoom=tiles.max_zoom if tiles else 19,
    )
    _fit(fmap, bounds)
    _fullscreen(fmap, lang)
    config = {**config, "basemap": script_config(tiles, lang, NOTICE_ID)}
    # Emits the call that fetches the coverage GeoJSON and colours it by the chosen metric.
    _loader_class("ChoroplethLoader", CHOROPLETH)(fmap.get_name(), config=config).add_to(fmap)
    return _parts(fmap, static, "js/dsm-planner.js", [], [], tiles, lang)
