"""``/planner``: the coverage dashboard for prevention offices, police and Land networks.

A GET form picks the area (a city's districts or a Land's municipalities) and the metric, so
the page works without JavaScript: the table, the bar chart and the downloads are rendered
here; only the choropleth needs the browser.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from flask import Blueprint, Response, current_app, request, url_for

from ..http.caching import Validators, conditional
from ..http.context import args as _args
from ..http.context import planning as _planning
from ..http.context import services as _services
from ..http.context import settings
from ..http.errors import ApiError
from ..http.pages import page
from ..http.params import bad, check_known, choice, single
from ..http.security import allow_scripts
from ..i18n import LAND_NAMES, PLANNER_PROSE, PLANNER_TEXT, SOURCE_TEXT, figure_text, texts, value_label
from ..localize import number
from ..maps.render import build_choropleth
from ..maps.simplify import coverage_bounds
from ..maps.symbols import context_group, context_options
from ..maps.views import tiles
from . import gaps
from . import report as rp
from . import view as pv
from .budget import OverBudget
from .coverage_routes import find_city, over_budget
from .service import DISTRICT_INPUTS, LANDS, MUNICIPALITY_INPUTS, City, Planning

bp = Blueprint("planner", __name__)
bp.register_error_handler(OverBudget, over_budget)

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
# Columns that are not metrics; their headers are PLANNER_TEXT["col_<id>"].
NAME_COLUMNS = ("name", "kreis", "gap_rank", "gap_weighted")


def _default_area(planning: Planning) -> str:
    """The first city with any recorded office, else the first city, else Thuringia."""
    cities = planning.cities()
    for city in cities:
        try:
            rows = planning.districts(city)
        except OverBudget:
            continue  # that city's page says so when asked for; the default is one that works
        if any(r["offices_considered"] for r in rows):
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
    label = PLANNER_TEXT[lang][f"col_{column}"]
    return {"id": column, "label": label, "full": label, "metric": None}


def data_gaps(rows: Sequence[Mapping[str, Any]], lang: str) -> dict[str, Any]:
    """How much of the ranking the data carries: rows ranked on complete data, on part of it,
    not at all for lack of data, and not at all because no criterion applies; and how often
    each criterion is unknown. The planner page and the report say it in words."""
    applies = [r for r in rows if r.get("gap_applies", True)]
    unknown: Counter[str] = Counter(u["criterion"] for r in applies for u in r.get("gap_unknown") or ())
    words = PLANNER_TEXT[lang]
    return {
        "rows": len(rows),
        "complete": sum(1 for r in applies if r["gap_rank"] is not None and r["gap_complete"]),
        "incomplete": sum(1 for r in applies if r["gap_rank"] is not None and not r["gap_complete"]),
        "unranked": sum(1 for r in applies if r["gap_rank"] is None),
        "not_applicable": len(rows) - len(applies),
        "applicable": len(applies),
        "criteria": [
            (words.get(f"criterion_{c}", c), n) for c, n in sorted(unknown.items(), key=lambda x: -x[1])
        ],
    }


@bp.get("/planner")
def planner() -> Response:
    args = _args()
    check_known(args, {"area", "metric", "sort", "order", "lang", "weighting"})
    lang = choice(args, "lang", ("de", "en"), "de") or "de"
    weighting = choice(args, "weighting", gaps.WEIGHTINGS, "people") or "people"
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
    if land is not None and planning.live_survey(land) is None:  # no survey: no survey map
        metrics = tuple(m for m in metrics if m.id != "survey_status")
    chosen = pv.metric(metrics, single(args, "metric"))
    if chosen is None:
        raise bad("metric", f"'{single(args, 'metric')}' is not one of {', '.join(m.id for m in metrics)}")
    live_survey = planning.live_survey(land) if land else None
    # ASSKomm is Saxony's network: its column would be empty for any other Land; the survey
    # column is there when the Land has run a survey with this service.
    columns = [c for c in table if c != "asskomm_stage" or land == "14"]
    if live_survey is not None:
        columns.append("survey_status")
    if weighting == "people":  # the value the ranking follows, beside the rank
        columns.insert(1, "gap_weighted")
    if chosen.id not in columns:
        columns.insert(2, chosen.id)
    sort = single(args, "sort") or "gap_rank"
    if sort not in columns:
        raise bad("sort", f"'{sort}' is not one of {', '.join(columns)}")
    order = choice(args, "order", ("asc", "desc"), "asc") or "asc"

    def build() -> Response:
        rows = planning.districts(city, weighting) if city else planning.municipalities(land, weighting)
        legend = pv.classes(chosen, rows)
        t = texts(lang)
        other_weighting = None if weighting == "people" else weighting  # the default stays out
        # The chart shows the rows a criterion applies to: 785 bars of "0 points" for the
        # small Thuringian towns would hide the rest.
        charted = [r for r in rows if r.get("gap_applies", True)] if chosen.id == "gap_score" else rows
        bars, left_out = pv.bars(chosen, charted, legend, lang, t["unknown"], PLANNER_TEXT[lang]["at_least"])
        if city:
            data_url = url_for("coverage.districts", city=city.key)
            downloads = {
                f: url_for("coverage.districts", city=city.key, f=f, lang=lang, weighting=other_weighting)
                for f in ("csv", "geojson", "json")
            }
            title = city.name
        else:
            data_url = url_for("coverage.municipalities", land=land)
            downloads = {
                f: url_for("coverage.municipalities", land=land, f=f, lang=lang, weighting=other_weighting)
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
        # A Land's map opens on the Land, so that it can ask for its polygons simplified for
        # the zoom it shows (maps/simplify.py) instead of fitting itself to the full ones.
        bounds = coverage_bounds(_services(), land) if land else None
        config: dict[str, object] = {
            "url": data_url,
            "levels": bounds is not None,
            "lang": lang,
            "hatch": pv.HATCH,
            "statusId": "dsm-status",
            "mapId": "dsm-map",
            "fitted": bounds is not None,
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
            bounds,
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
            references=planning.references_for(
                inputs, [*(survey or {}).get("survey", ()), *asskomm], city.ags if city else land
            ),
            reference=planning.reference,
            st=SOURCE_TEXT[lang],
            survey=survey,
            live_survey=live_survey,
            asskomm=asskomm,
            asskomm_counts=asskomm_counts,
            fmt=pv.fmt_cell,
            weighting=weighting,
            rank_text=gaps.rank_text,
            gaps_summary=data_gaps(rows, lang),
            hatch=pv.HATCH,
            id_field="id" if city else "ags",
            figure=lambda text: figure_text(text, lang),
            unknown_count=sum(1 for r in rows if r.get(chosen.id) is None),
            lower_bound_count=sum(1 for r in rows if pv.is_lower_bound(chosen, r)),
            is_lower_bound=pv.is_lower_bound,
        )
        return allow_scripts(response, parts.script)

    return conditional(
        Validators(
            lambda: [planning.store.state(layer) for layer in inputs if layer in planning.catalog],
            lang,
            weighting,
        ),
        build,
    )


# -- the printable situation report (planner/report.py) ------------------------------------------


@bp.get("/planner/report")
def report() -> Response:
    """The situation report of a city or a Land: HTML (``f=html``, default) or PDF (``f=pdf``)."""
    args = _args()
    check_known(args, {"area", "since", "f", "lang"})
    lang = choice(args, "lang", ("de", "en"), "de") or "de"
    fmt = choice(args, "f", ("html", "pdf"), "html") or "html"
    planning = _planning()
    wanted = single(args, "area") or _default_area(planning)
    try:
        area = rp.resolve(planning, wanted)
    except rp.UnknownArea as exc:
        raise _unknown_area(planning, wanted, str(exc)) from exc
    today = dt.date.today()
    since_text = single(args, "since")
    try:
        since = dt.date.fromisoformat(since_text) if since_text else rp.default_since(today)
    except ValueError as exc:
        raise bad("since", f"'{since_text}' is not a date (YYYY-MM-DD)") from exc
    if since > today:
        raise bad("since", f"'{since_text}' is in the future")

    def build() -> Response:
        html = rp.render(planning, area, lang, since, today)
        if fmt == "html":
            return Response(html, mimetype="text/html")
        try:
            body = rp.pdf(
                html, request.url_root, Path(str(current_app.static_folder)), url_for("static", filename="")
            )
        except OSError as exc:  # WeasyPrint loads Pango when it first renders
            raise ApiError(
                503,
                "PdfUnavailable",
                "This server cannot make PDFs: WeasyPrint needs the Pango library "
                "(Debian: libpango-1.0-0). The HTML report works (f=html) and prints as well.",
                key="pdf_unavailable",
            ) from exc
        response = Response(body, mimetype="application/pdf")
        response.headers["Content-Disposition"] = f'inline; filename="{rp.filename(area, today, lang)}"'
        return response

    return conditional(
        Validators(
            lambda: [
                planning.store.state(layer)
                for layer in rp.CHANGE_LAYERS + area.inputs
                if layer in planning.catalog
            ],
            lang,
            fmt,
            since.isoformat(),
            today.isoformat(),
        ),
        build,
    )
