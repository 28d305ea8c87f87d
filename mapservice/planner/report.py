"""The situation report (Lagebild / Präventionsbericht) of a city or a Land, as HTML and PDF.

Everything in it comes from what the planner page shows, through the same functions: the
rows of :class:`~.service.Planning` already ranked by :mod:`.gaps` (rank, score and reasons
are taken from the rows, never recomputed), the legend classes and colours of :mod:`.view`,
the sources of ``Planning.sources``, the survey and the ASSKomm figures. Only the maps are
drawn here (:mod:`.report_svg`) and the change log is read from the store.

The PDF is rendered by WeasyPrint with a URL fetcher that serves the service's own static
files and refuses everything else: a report never asks another server for anything.
"""

from __future__ import annotations

import datetime as dt
import mimetypes
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from ..i18n import LAND_NAMES, PLANNER_PROSE, PLANNER_TEXT, REPORT_TEXT, SOURCE_TEXT, figure_text, texts
from ..localize import date as fmt_date
from ..store.base import HistoryEntry
from . import gaps, report_svg
from . import view as pv
from .service import DISTRICT_INPUTS, LANDS, MUNICIPALITY_INPUTS, City, Planning

# The layers whose changes the report lists: offices, cameras, walls and bodies.
CHANGE_LAYERS = ("contact-offices", "video-surveillance", "graffiti-zones", "prevention-bodies")
DEFAULT_SINCE_DAYS = 90


class UnknownArea(LookupError):
    """The planner has no data for the area; the message names the parameter and the choices."""


@dataclass(frozen=True)
class Area:
    key: str
    city: City | None
    land: str | None

    @property
    def inputs(self) -> tuple[str, ...]:
        return DISTRICT_INPUTS if self.city else MUNICIPALITY_INPUTS

    @property
    def metrics(self) -> tuple[pv.Metric, ...]:
        if self.city:
            return pv.DISTRICT_METRICS
        # ASSKomm is Saxony's network: its map would be empty for any other Land.
        return tuple(m for m in pv.MUNICIPALITY_METRICS if m.id != "asskomm_stage" or self.land == "14")

    def title(self, lang: str) -> str:
        return self.city.name if self.city else LAND_NAMES[lang][str(self.land)]

    def rows(self, planning: Planning) -> list[dict[str, Any]]:
        return planning.districts(self.city) if self.city else planning.municipalities(self.land)


def resolve(planning: Planning, area: str) -> Area:
    """``jena`` or ``land-16`` as the planner page takes them; UnknownArea otherwise."""
    if area.startswith("land-"):
        land = area.removeprefix("land-")
        if land not in LANDS:
            raise UnknownArea(
                f"Parameter 'area': '{area}' is not one of {', '.join('land-' + k for k in LANDS)} "
                "or a city with districts"
            )
        return Area(area, None, land)
    city = planning.city(area)
    if city is None:
        known = ", ".join(c.key for c in planning.cities())
        raise UnknownArea(
            f"Parameter 'area': no districts of '{area}' are stored. Cities with districts: {known}"
        )
    return Area(city.key, city, None)


def default_since(today: dt.date) -> dt.date:
    return today - dt.timedelta(days=DEFAULT_SINCE_DAYS)


# -- what changed ---------------------------------------------------------------------------


def _in_area(props: Mapping[str, Any], area: Area, names: set[str], district_ids: set[str]) -> bool:
    """Whether a feature of a change belongs to the area: by AGS, by city name or district."""
    covers = [str(a) for a in props.get("covers_ags") or []]
    city_ags = str(props.get("city_ags") or "")
    if area.city is not None:
        return (
            city_ags == area.city.ags
            or props.get("city") == area.city.name
            or area.city.ags in covers
            or bool(district_ids & set(props.get("covers_districts") or []))
            or bool(district_ids & set(props.get("serves_districts") or []))
        )
    code = str(area.land)
    return (
        city_ags.startswith(code)
        or any(a.startswith(code) for a in covers)
        or (not city_ags and props.get("city") in names)
    )


def changes(
    planning: Planning, area: Area, rows: Sequence[Mapping[str, Any]], since: dt.datetime
) -> list[HistoryEntry]:
    """The logged changes of offices, cameras, walls and bodies of the area since ``since``."""
    names = {str(r.get("name")) for r in rows}
    district_ids = {str(r.get("id")) for r in rows if r.get("id")}
    found: list[HistoryEntry] = []
    for layer in CHANGE_LAYERS:
        if layer not in planning.catalog:
            continue
        for entry in planning.store.changes_since(layer, since):
            sides = [d.get("properties") or {} for d in (entry.before, entry.after) if d]
            if any(_in_area(p, area, names, district_ids) for p in sides):
                found.append(entry)
    return sorted(found, key=lambda e: (e.at, e.seq))


def _change_row(entry: HistoryEntry, lang: str) -> dict[str, str]:
    words = REPORT_TEXT[lang]
    doc = entry.after or entry.before or {}
    name = (doc.get("properties") or {}).get("name")
    return {
        "date": fmt_date(entry.at.date(), lang),
        "layer": words.get(f"layer_{entry.layer}", entry.layer),
        "name": str(name) if name else entry.feature_id,
        "action": words[f"change_{entry.action}"],
        "via": words.get(f"via_{entry.via}", entry.via),
    }


# -- the rest of the content ----------------------------------------------------------------


def rank_text(row: Mapping[str, Any], lang: str) -> str:
    """ "3." or a shared "3.–20."; "ohne Rang" for a row the ranking leaves out."""
    return gaps.rank_text(row) or REPORT_TEXT[lang]["unranked"]


def unknowns(rows: Sequence[Mapping[str, Any]], lang: str) -> list[dict[str, Any]]:
    """The missing facts by criterion, each with the areas it is missing for, the most common
    first. Named as the planner page names the criteria; a criterion it does not name, by the
    reason its first row gives."""
    groups: dict[str, list[str]] = {}
    first: dict[str, str] = {}
    for row in rows:
        for item in row.get("gap_unknown") or []:
            criterion = str(item.get("criterion"))
            groups.setdefault(criterion, []).append(str(row.get("name")))
            first.setdefault(criterion, str(item.get(lang)))
    words = PLANNER_TEXT[lang]

    def label(c: str) -> str:
        text = words.get(f"criterion_{c}", first[c])
        return text[:1].upper() + text[1:]  # a heading, while the planner's are mid-sentence

    out = [
        {
            "criterion": c,
            "text": label(c),
            "names": sorted(names, key=str.casefold),
        }
        for c, names in groups.items()
    ]
    return sorted(out, key=lambda g: (-len(g["names"]), g["text"]))


def context(
    planning: Planning,
    area: Area,
    lang: str,
    since: dt.date,
    today: dt.date,
) -> dict[str, Any]:
    """Everything templates/planner/report.html shows, in ``lang``."""
    words = REPORT_TEXT[lang]
    rows = area.rows(planning)
    shapes = report_svg.outlines(rows)
    maps = []
    live_survey = planning.live_survey(area.land) if area.land else None
    # The survey's map only where the Land has run a survey with this service.
    metrics = [m for m in area.metrics if m.id != "survey_status" or live_survey is not None]
    for i, m in enumerate(metrics):
        legend = pv.classes(m, rows)
        title = words["map_of"].format(metric=m.label(lang))
        maps.append(
            {
                "metric": m,
                "title": title,
                "svg": report_svg.choropleth(shapes, rows, m, legend, title, f"rp-map-{i}"),
                "legend": legend,
                "unknown_count": sum(1 for r in rows if r.get(m.id) is None),
            }
        )
    since_at = dt.datetime.combine(since, dt.time(), dt.UTC)
    land = area.land
    asskomm = (
        [f for f in planning.figures if f.get("programme", "").startswith("ASSKomm")] if land == "14" else []
    )
    survey = planning.survey() if land == "16" else None
    survey_figures = survey["survey"] if survey else []
    # Lazily: the planner's routes import this module for their report route.
    from .routes import data_gaps

    return {
        "rt": words,
        "pt": PLANNER_TEXT[lang],
        "pp": PLANNER_PROSE[lang],
        "area": area,
        "title": area.title(lang),
        "today": today,
        "since": since,
        "sources": planning.sources(area.inputs),
        "maps": maps,
        "hatch": pv.HATCH,
        # Rows to which no criterion applies (small municipalities) are counted, not listed:
        # a Land's table would otherwise be hundreds of rows without a finding.
        "rows": [r for r in rows if r.get("gap_applies", True)],
        "thresholds": planning.thresholds,
        "rank_text": gaps.rank_text,
        "score_metric": pv.GAP,
        "fmt": pv.fmt_cell,
        "unknowns": unknowns(rows, lang),
        "survey": survey,
        "live_survey": live_survey,
        "asskomm": asskomm,
        "asskomm_counts": (
            {c.value: c.count for c in pv.classes(pv.MUNICIPALITY_METRICS[4], rows)} if land == "14" else {}
        ),
        "figure": lambda text: figure_text(text, lang),
        "data_gaps": data_gaps(rows, lang),
        "references": planning.references_for(
            area.inputs, [*survey_figures, *asskomm], area.city.ags if area.city else area.land
        ),
        "reference": planning.reference,
        "st": SOURCE_TEXT[lang],
        "changes": [_change_row(e, lang) for e in changes(planning, area, rows, since_at)],
    }


def render(planning: Planning, area: Area, lang: str, since: dt.date, today: dt.date) -> str:
    """The report as an HTML page (inside a request context: it links like every page)."""
    from ..http.pages import render as render_page

    return render_page(
        "planner/report.html", lang, t=texts(lang), **context(planning, area, lang, since, today)
    )


def filename(area: Area, today: dt.date, lang: str) -> str:
    word = "lagebild" if lang == "de" else "situation-report"
    return f"{word}-{area.key}-{today.isoformat()}.pdf"


# -- PDF --------------------------------------------------------------------------------------


def _static_fetcher(static_folder: Path, static_prefix: str) -> Any:
    """A WeasyPrint URL fetcher that serves only ``static_prefix`` from ``static_folder``."""
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    root = static_folder.resolve()

    class StaticOnly(URLFetcher):  # type: ignore[misc]
        def fetch(self, url: str, headers: Any = None) -> Any:
            parts = urlsplit(url)
            path = unquote(parts.path)
            if parts.scheme == "data":
                return super().fetch(url, headers)
            if path.startswith(static_prefix):
                file = (root / path.removeprefix(static_prefix)).resolve()
                if file.is_relative_to(root) and file.is_file():
                    mime = mimetypes.guess_type(file.name)[0] or "application/octet-stream"
                    return URLFetcherResponse(url, file.read_bytes(), {"Content-Type": mime})
            # Never the network: anything else is refused, and WeasyPrint leaves it out.
            raise ValueError(f"the report fetches nothing but its own static files: {url}")

    return StaticOnly()


def pdf(html: str, base_url: str, static_folder: Path, static_prefix: str) -> bytes:
    """The report's HTML rendered as PDF (print media, the template's @page rules)."""
    from weasyprint import HTML

    document = HTML(string=html, base_url=base_url, url_fetcher=_static_fetcher(static_folder, static_prefix))
    out: bytes = document.write_pdf()
    return out
