"""``/planner``: the coverage dashboard for prevention offices, police and Land networks.

A GET form picks the area (a city's districts or a Land's municipalities) and the metric, so
the page works without JavaScript: the table, the bar chart and the downloads are rendered
here; only the choropleth needs the browser.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, url_for

from ..http.caching import Validators, conditional
from ..http.context import args as _args
from ..http.context import planning as _planning
from ..http.context import settings
from ..http.errors import ApiError
from ..http.pages import page
from ..http.params import bad, check_known, choice, single
from ..http.security import allow_scripts
from ..i18n import LAND_NAMES, PLANNER_PROSE, PLANNER_TEXT, figure_text, texts, value_label
from ..localize import number
from ..maps.render import build_choropleth
from ..maps.symbols import context_group, context_options
from ..maps.views import tiles
from . import view as pv
from .coverage_routes import find_city
from .service import DISTRICT_INPUTS, LANDS, MUNICIPALITY_INPUTS, City, Planning

bp = Blueprint("planner", __name__)

# The chosen metric is added as the third column when it is not one of these.
DISTRICT_TABLE = (
    "gap_rank",
    "name",
    "households",
    "officer_recorded",
    "households_per_officer",
    "distance_mean_m",
    "walk_share",
    "graffiti_zones",
    "cameras_active",
    "prevention_status",
)
MUNICIPALITY_TABLE = (
    "gap_rank",
    "name",
    "kreis",
    "population",
    "large_town",
    "prevention_status",
    "asskomm_stage",
)
NAME_COLUMNS = {
    "name": ("Name", "Name"),
    "kreis": ("Kreis", "District (Kreis)"),
    "gap_rank": ("Rang", "Rank"),
}


def _default_area(planning: Planning) -> str:
    """The first city with any recorded office, else the first city, else Thuringia."""
    cities = planning.cities()
    for city in cities:
        if any(r["offices_considered"] for r in planning.districts(city)):
            return city.key
    return cities[0].key if cities else "land-16"


def _areas(planning: Planning, lang: str) -> list[tuple[str, str]]:
    words = PLANNER_TEXT[lang]
    out = [
        (c.key, words["area_city"].format(name=c.name, count=number(c.districts, lang)))
        for c in planning.cities()
    ]
    for code in LANDS:
        out.append((f"land-{code}", words["area_land"].format(name=LAND_NAMES[lang][code])))
    return sorted(out, key=lambda a: (a[0].startswith("land-"), a[1]))


def _unknown_area(planning: Planning, area: str, description: str) -> ApiError:
    """A 404 for an area the planner has no data for; its page links to the areas it has."""
    labels = {lang: dict(_areas(planning, lang)) for lang in ("de", "en")}
    return ApiError(
        404,
        "NotFound",
        description,
        key="unknown_area",
        params={"area": area},
        links=[
            {"de": label, "en": labels["en"][key], "href": url_for("planner.planner", area=key)}
            for key, label in labels["de"].items()
        ],
    )


def _column(metrics: tuple[pv.Metric, ...], column: str, lang: str) -> dict[str, Any]:
    """A table column: a short header with its unit, the full label as its accessible name."""
    found = pv.metric(metrics, column)
    if found is not None and found.id == column:
        unit = found.unit(lang)
        suffix = f" ({unit})" if unit and found.kind != "share" else ""
        short = found.short(lang)
        return {
            "id": column,
            "label": short + ("" if unit in short else suffix),
            "full": found.label(lang) + suffix,
            "metric": found,
        }
    de, en = NAME_COLUMNS[column]
    label = de if lang == "de" else en
    return {"id": column, "label": label, "full": label, "metric": None}


@bp.get("/planner")
def planner() -> Response:
    args = _args()
    check_known(args, {"area", "metric", "sort", "order", "lang"})
    lang = choice(args, "lang", ("de", "en"), "de") or "de"
    planning = _planning()
    area = single(args, "area") or _default_area(planning)
    land: str | None = None
    city: City | None = None
    metrics: tuple[pv.Metric, ...]
    table: tuple[str, ...]
    inputs: tuple[str, ...]
    if area.startswith("land-"):
        land = area.removeprefix("land-")
        if land not in LANDS:
            raise _unknown_area(
                planning,
                area,
                f"Parameter 'area': '{area}' is not one of {', '.join('land-' + k for k in LANDS)} "
                "or a city with districts",
            )
        metrics, table, inputs = pv.MUNICIPALITY_METRICS, MUNICIPALITY_TABLE, MUNICIPALITY_INPUTS
    else:
        try:
            city = find_city(planning, area, "area")
        except ApiError as exc:
            raise _unknown_area(planning, area, exc.description) from exc
        metrics, table, inputs = pv.DISTRICT_METRICS, DISTRICT_TABLE, DISTRICT_INPUTS
    chosen = pv.metric(metrics, single(args, "metric"))
    if chosen is None:
        raise bad("metric", f"'{single(args, 'metric')}' is not one of {', '.join(m.id for m in metrics)}")
    # ASSKomm is Saxony's network: its column would be empty for any other Land.
    columns = [c for c in table if c != "asskomm_stage" or land == "14"]
    if chosen.id not in columns:
        columns.insert(2, chosen.id)
    sort = single(args, "sort") or "gap_rank"
    if sort not in columns:
        raise bad("sort", f"'{sort}' is not one of {', '.join(columns)}")
    order = choice(args, "order", ("asc", "desc"), "asc") or "asc"

    def build() -> Response:
        rows = planning.districts(city) if city else planning.municipalities(land)
        legend = pv.classes(chosen, rows)
        t = texts(lang)
        bars, left_out = pv.bars(chosen, rows, legend, lang, t["unknown"])
        if city:
            data_url = url_for("coverage.districts", city=city.key)
            downloads = {
                f: url_for("coverage.districts", city=city.key, f=f, lang=lang)
                for f in ("csv", "geojson", "json")
            }
            title = city.name
        else:
            data_url = url_for("coverage.municipalities", land=land)
            downloads = {
                f: url_for("coverage.municipalities", land=land, f=f, lang=lang)
                for f in ("csv", "geojson", "json")
            }
            title = LAND_NAMES[lang][str(land)]
        unit = chosen.unit(lang)
        # The choropleth's polygons are the data: the orientation adds their names and the
        # other level's outlines around them.
        context_show = (
            {"districts": "names", "municipalities": "all"}
            if city
            else {"districts": "all", "municipalities": "names"}
        )
        config: dict[str, object] = {
            "url": data_url,
            "lang": lang,
            "hatch": pv.HATCH,
            "statusId": "dsm-status",
            "mapId": "dsm-map",
            "fitted": False,
            "metric": {
                "id": chosen.id,
                "kind": chosen.kind,
                "scale": chosen.scale,
                "unit": unit if chosen.kind == "number" else "",
                "label": chosen.label(lang),
            },
            "classes": [{"upper": c.upper, "value": c.value, "colour": c.colour} for c in legend],
            "labels": {str(c.value) if c.value is not None else "null": c.label(lang) for c in legend}
            if chosen.kind == "category"
            else {},
            "t": {"unknown": t["unknown"], "load_error": t["load_error"], **PLANNER_TEXT[lang]},
            "attributions": [s.credit(lang).for_map() for s in planning.sources(inputs)],
            "context": context_options(url_for("api.landing").rstrip("/"), context_show),
        }
        parts = build_choropleth(
            config,
            None,
            tiles(settings(), url_for("basemap.archive")),
            lambda path: url_for("static", filename=path),
            lang,
        )
        ordered = pv.sort_rows(rows, sort, order == "desc")
        survey = planning.survey() if land == "16" else None
        asskomm = (
            [f for f in planning.figures if f.get("programme", "").startswith("ASSKomm")]
            if land == "14"
            else []
        )
        asskomm_counts = (
            {c.value: c.count for c in pv.classes(pv.MUNICIPALITY_METRICS[4], rows)} if land == "14" else {}
        )
        response = page(
            "planner/planner.html",
            lang,
            pt=PLANNER_TEXT[lang],
            area=area,
            areas=_areas(planning, lang),
            metrics=metrics,
            chosen=chosen,
            legend=legend,
            bars=bars,
            left_out=left_out,
            rows=ordered,
            columns=[_column(metrics, c, lang) for c in columns],
            sort=sort,
            order=order,
            parts=parts,
            context_legend=[context_group(lang, context_show)],
            downloads=downloads,
            title=title,
            city=city,
            land=land,
            thresholds=planning.thresholds,
            office_kinds=[value_label(lang, "kind", k) or k for k in planning.thresholds.office_kinds],
            pp=PLANNER_PROSE[lang],
            sources=planning.sources(inputs),
            survey=survey,
            asskomm=asskomm,
            asskomm_counts=asskomm_counts,
            fmt=pv.fmt_cell,
            hatch=pv.HATCH,
            id_field="id" if city else "ags",
            figure=lambda text: figure_text(text, lang),
            unknown_count=sum(1 for r in rows if r.get(chosen.id) is None),
        )
        return allow_scripts(response, parts.script)

    return conditional(
        Validators(
            lambda: [planning.store.state(layer) for layer in inputs if layer in planning.catalog], lang
        ),
        build,
    )
