"""What the planner page, the coverage API and ``mapservice coverage`` compute from the store.

The metrics are pure functions (:mod:`.metrics`, :mod:`.gaps`);
this module feeds them the stored layers and keeps each result for as long as the data it was
computed from is unchanged. The cache key is the version of every input layer, read from the
store on each call, so a second worker or a second instance never serves numbers another one
would contradict: all of them see the same versions.
"""

from __future__ import annotations

import csv
import re
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import shapely

from ..cache import VersionedCache, data_versions
from ..catalog.layers import Catalog, Credit
from ..config import ConfigError, Settings
from ..store.base import Filter, Store
from ..survey import service as surveys
from . import gaps
from . import metrics as coverage
from .budget import Deadline

STATISTICAL = "statistical-districts"
DISTRICT_INPUTS = (
    "districts",
    "contact-offices",
    "prevention-bodies",
    "graffiti-zones",
    "video-surveillance",
    STATISTICAL,
)
MUNICIPALITY_INPUTS = ("municipalities", "prevention-bodies")
LANDS = {"16": "Thüringen", "14": "Sachsen"}


def city_key(name: str) -> str:
    """``"Frankenberg/Sa."`` → ``"frankenberg-sa"``: the city's name as a URL parameter."""
    text = name.lower().replace("ä", "ae").replace("ö", "oe").replace("ü", "ue").replace("ß", "ss")
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", text).strip("-")


@dataclass(frozen=True)
class City:
    key: str
    name: str
    ags: str
    districts: int


@dataclass(frozen=True)
class Source:
    """One input layer as the page credits it: licence, attribution and the dates of its data."""

    layer: str
    title: str
    title_en: str
    credits: Mapping[str, Credit]  # by page language: what a German and an English page show
    dates: tuple[str, ...]

    def credit(self, lang: str) -> Credit:
        return self.credits["en" if lang == "en" else "de"]


def thresholds(settings: Settings, catalog: Catalog) -> coverage.Thresholds:
    """The planner's thresholds from the settings; unknown office kinds are a setting error."""
    kinds = tuple(settings.planner_office_kinds.split())
    if "contact-offices" in catalog:
        allowed = catalog["contact-offices"].fields["kind"].values or ()
        wrong = [k for k in kinds if k not in allowed]
        if wrong:
            raise ConfigError(
                f"setting 'planner_office_kinds': unknown kind(s) {', '.join(wrong)}; "
                f"known: {', '.join(allowed)}"
            )
    return coverage.Thresholds(
        grid_m=float(settings.planner_grid_m),
        walk_m=float(settings.planner_walk_m),
        walk_share_min=settings.planner_walk_share_min_pct / 100,
        residents_per_officer=float(settings.planner_residents_per_officer),
        households_per_officer=float(settings.planner_households_per_officer),
        body_min_population=settings.planner_body_min_population,
        office_kinds=kinds,
    )


def read_figures(path: Path) -> list[dict[str, str]]:
    """The programme figures shipped beside the data (``programme_figures.csv``), or none."""
    if not path.is_file():
        return []
    with path.open(encoding="utf-8", newline="") as fh:
        return [dict(row) for row in csv.DictReader(fh)]


@dataclass(frozen=True)
class Reference:
    """One entry of the source catalog (``sources.csv``): a document as a reader cites it.

    ``date`` and ``url`` are None where the document states none (shown as unknown); ``note``
    says what it does give. ``document`` is the archived copy the data rows name in
    ``source_doc``: it links rows to the entry and is never shown to readers.
    """

    id: str
    title: str
    publisher: str
    date: str | None
    url: str | None
    document: str
    cited_by: tuple[str, ...]
    ags: tuple[str, ...]  # municipality keys of the offices and bodies citing it (not figures)
    note_de: str
    note_en: str

    def note(self, lang: str) -> str:
        return self.note_en if lang == "en" else self.note_de

    def citation(self) -> str:
        """How a figure or a feature names it: "Landespräventionsrat Thüringen: AG „Urbane
        Sicherheit“, …" (publisher and title; the date is the entry's own field)."""
        return f"{self.publisher}: {self.title}"

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "publisher": self.publisher,
            "date": self.date,
            "url": self.url,
            "note": self.note_de,
            "note_en": self.note_en,
        }


SOURCE_CATALOG_COLUMNS = (
    "id",
    "title",
    "publisher",
    "date",
    "url",
    "document",
    "cited_by",
    "ags",
    "note",
    "note_en",
)


def read_sources(path: Path) -> list[Reference]:
    """The source catalog shipped beside the data (``sources.csv``), or none.

    A file without the catalog's columns, or a row without id, title or publisher, is a
    configuration error naming the file and row: a page must never cite a half entry.
    """
    if not path.is_file():
        return []
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        missing = [c for c in SOURCE_CATALOG_COLUMNS if c not in (reader.fieldnames or ())]
        if missing:
            raise ConfigError(f"{path}: source catalog without column(s) {', '.join(missing)}")
        out = []
        for n, row in enumerate(reader, 2):
            for column in ("id", "title", "publisher", "document"):
                if not (row.get(column) or "").strip():
                    raise ConfigError(f"{path}, row {n}: '{column}' is empty")
            out.append(
                Reference(
                    id=row["id"],
                    title=row["title"],
                    publisher=row["publisher"],
                    date=row["date"] or None,
                    url=row["url"] or None,
                    document=row["document"],
                    cited_by=tuple(row["cited_by"].split()),
                    ags=tuple(row["ags"].split()),
                    note_de=row["note"],
                    note_en=row["note_en"] or row["note"],
                )
            )
        return out


def cited_figures(
    figures: Sequence[Mapping[str, str]], references: Sequence[Reference]
) -> list[dict[str, str]]:
    """The figures with ``source`` (the catalog id) and ``source_title`` (its citation) in place
    of ``source_doc``, so that no page or download names an archive file. A figure whose
    document is not in the catalog keeps ``source`` empty and is shown as of unknown source."""
    by_doc = {r.document: r for r in references}
    out = []
    for figure in figures:
        row = {k: v for k, v in figure.items() if k != "source_doc"}
        ref = by_doc.get(figure.get("source_doc") or "")
        row["source"] = ref.id if ref else ""
        row["source_title"] = ref.citation() if ref else ""
        out.append(row)
    return out


class Planning:
    """Coverage metrics over one store, cached per version of their input layers."""

    def __init__(
        self,
        store: Store,
        catalog: Catalog,
        th: coverage.Thresholds,
        figures: Sequence[dict[str, str]],
        cache: VersionedCache | None = None,
        references: Sequence[Reference] = (),
        budget_s: float | None = None,
    ) -> None:
        self.store = store
        self.catalog = catalog
        self.thresholds = th
        self.references = list(references)
        self.figures = cited_figures(figures, self.references)
        self.cache = cache if cache is not None else VersionedCache()
        # Seconds one computation may take (setting planner_time_budget_s); None: no limit.
        self.budget_s = budget_s

    # -- plumbing ---------------------------------------------------------------------------

    def _cached(self, name: Any, layers: Sequence[str], compute: Callable[[], Any]) -> Any:
        present = [layer for layer in layers if layer in self.catalog]
        return self.cache.get(("planner", name), data_versions(self.store, present), compute)

    def _features(self, layer: str, filters: Sequence[Filter] = ()) -> list[Any]:
        if layer not in self.catalog:
            return []
        return self.store.all_features(layer, filters)

    def _frame(self, layer: str, columns: Sequence[str], filters: Sequence[Filter] = ()) -> Any:
        if layer not in self.catalog:
            return coverage.features_frame((), columns)
        # Shapely objects straight from the stored WKB: a GeoJSON round trip of a heavy polygon
        # costs seconds, most of them holding the GIL.
        shapes = self.store.shapes(layer, filters)
        return coverage.features_frame(((f.id, f.properties, f.geometry) for f in shapes), columns)

    # -- what the planner asks --------------------------------------------------------------

    def cities(self) -> list[City]:
        """Cities with districts, in the order of their names."""

        def compute() -> list[City]:
            counts: dict[tuple[str, str], int] = {}
            for f in self._features("districts"):
                key = (f.properties["city"], f.properties["city_ags"])
                counts[key] = counts.get(key, 0) + 1
            return sorted(
                (City(city_key(name), name, ags, n) for (name, ags), n in counts.items()), key=lambda c: c.key
            )

        value: list[City] = self._cached("cities", ("districts",), compute)
        return value

    def city(self, wanted: str) -> City | None:
        """A city by its key (``jena``), name or AGS."""
        wanted_key = city_key(wanted)
        return next((c for c in self.cities() if wanted_key in (c.key, c.ags)), None)

    def districts(self, city: City, weighting: str = "people") -> list[dict[str, Any]]:
        """Metrics and gap ranking of every district of a city, worst first (``weighting``:
        "people" weighs each shortfall by the residents or households, "none" does not)."""

        def compute() -> list[dict[str, Any]]:
            # Started when the computation starts (reading the layers counts), not before the
            # wait for another thread's computation of the same value.
            deadline = Deadline(city.name, self.budget_s)
            by_city = (Filter("city_ags", city.ags),)
            districts = self._frame("districts", coverage.DISTRICT_INPUT_COLUMNS, by_city)
            offices = self._frame("contact-offices", coverage.OFFICE_COLUMNS, by_city)
            statistical = self._frame(STATISTICAL, coverage.STATISTICAL_COLUMNS, by_city)
            by_name = (Filter("city", city.name),)
            graffiti = self._frame("graffiti-zones", coverage.GRAFFITI_COLUMNS, by_name)
            cameras = self._frame("video-surveillance", coverage.CAMERA_COLUMNS, by_name)
            bodies = [f.properties for f in self._features("prevention-bodies")]
            rows = coverage.district_metrics(
                districts, offices, bodies, graffiti, cameras, statistical, self.thresholds, deadline
            )
            ranked = gaps.rank(rows, lambda r: gaps.district_findings(r, self.thresholds), weighting)
            for row in ranked:  # the same GeoJSON text the store gives, for every output
                row["geometry"] = shapely.to_geojson(row["geometry"])
            return ranked

        value: list[dict[str, Any]] = self._cached(
            ("districts", city.ags, weighting), DISTRICT_INPUTS, compute
        )
        return value

    def municipalities(self, land: str | None, weighting: str = "people") -> list[dict[str, Any]]:
        """Prevention coverage and gap ranking per municipality (one Land or both), worst first."""

        def compute() -> list[dict[str, Any]]:
            filters = (Filter("land_code", land),) if land else ()
            features = self._features("municipalities", filters)
            bodies = [f.properties for f in self._features("prevention-bodies")]
            rows = coverage.municipality_metrics((f.properties for f in features), bodies)
            statuses = surveys.statuses(self.store)
            for row in rows:  # asked, answered, no_answer in the newest survey of its Land
                row["survey_status"] = statuses.get(row["ags"])
            for row, feature in zip(rows, features, strict=True):
                row["geometry"] = feature.geometry  # GeoJSON text, spliced into GeoJSON as is
            return gaps.rank(rows, lambda r: gaps.municipality_findings(r, self.thresholds), weighting)

        value: list[dict[str, Any]] = self._cached(
            ("municipalities", land, weighting), MUNICIPALITY_INPUTS, compute
        )
        return value

    def live_survey(self, land: str | None) -> dict[str, Any] | None:
        """The figures of the newest survey run with this service for the Land (None: none),
        computed from its answers; public: counts only, nothing of an unreviewed answer."""

        def compute() -> dict[str, Any] | None:
            found = surveys.latest_survey_for(self.store, land)
            if found is None:
                return None
            figures = surveys.progress(self.store, found)
            figures.pop("municipalities")
            return figures

        value: dict[str, Any] | None = self._cached(("live-survey", land), MUNICIPALITY_INPUTS, compute)
        return value

    def survey(self) -> dict[str, Any]:
        """The Thuringian survey population from the data beside the survey's own figures."""
        return coverage.survey_comparison(self.municipalities("16"), self.figures)

    def reference(self, wanted: str) -> Reference | None:
        """A catalog entry by its id (a figure's ``source``)."""
        return next((r for r in self.references if r.id == wanted), None)

    def references_for(
        self, layers: Sequence[str], figures: Sequence[Mapping[str, str]] = (), area: str | None = None
    ) -> list[Reference]:
        """The catalog entries a view cites, in catalog order: those cited by its layers' rows
        (only rows in ``area`` when given: a city's key ``16053000`` or a Land's ``16``), and
        those of the figures it shows."""
        wanted = {f.get("source") for f in figures}

        def cited(r: Reference) -> bool:
            here = area is None or any(key.startswith(area) for key in r.ags)
            return bool(set(r.cited_by) & set(layers)) and here

        return [r for r in self.references if cited(r) or r.id in wanted]

    def sources(self, layers: Sequence[str]) -> list[Source]:
        """Licence, attribution and data dates of the layers a view is computed from."""

        def compute() -> list[Source]:
            out = []
            for layer_id in layers:
                if layer_id not in self.catalog:
                    continue
                layer = self.catalog[layer_id]
                dates: set[str] = set()
                for f in self._features(layer_id):
                    for name in ("verified_on", "households_date", "population_date", "boundary_date"):
                        if f.properties.get(name):
                            dates.add(str(f.properties[name]))
                out.append(
                    Source(
                        layer_id,
                        layer.title,
                        layer.title_en,
                        {lang: layer.credit(lang) for lang in ("de", "en")},
                        tuple(sorted(dates)),
                    )
                )
            return out

        value: list[Source] = self._cached(("sources", tuple(layers)), layers, compute)
        return value
