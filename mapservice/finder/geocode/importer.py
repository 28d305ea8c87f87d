"""``mapservice gazetteer import``: address points from a file into the store, all or nothing.

Three inputs, each streamed (a Land's million house coordinates never sit in memory at once):

* ``hauskoordinaten`` — the official German house coordinates (*Hauskoordinaten Deutschland*,
  HK-DE, as the Länder and the ZSHH deliver them): semicolon-separated, one address per line,
  fields NBA;OI;QUA;LAN;RBZ;KRS;GMD;OTT;SSS;HNR;ADZ;EAST;NORTH;STN;PLZ;ONM;ZON;POT (newer
  deliveries add more fields at the end, e.g. PSN;AND). Files come with and without a header
  line, in UTF-8 (with or without BOM) or, in older deliveries, Latin-1/CP1252. Coordinates
  are ETRS89/UTM with a decimal comma; the east value usually carries the zone as its first two
  digits ("32680912,400", EPSG:4647/5650 style). Without that prefix the zone follows from the
  Land key (LAN): 11 Berlin, 12 Brandenburg, 13 Mecklenburg-Vorpommern, 14 Sachsen lie in zone
  33, the others in 32; ``--crs`` overrides it. House number = HNR + ADZ ("12" + "a").
  Rows marked ``L`` in NBA (to be deleted, in change deliveries) are skipped.
* ``osm`` — OpenStreetMap address points from an ``.osm.pbf`` extract (pyosmium): nodes and
  building ways with ``addr:housenumber`` and ``addr:street`` (or ``addr:place`` where a
  hamlet has no street names), ``addr:postcode``, ``addr:city``; a way stands at the centroid
  of its nodes. Elements whose nodes are missing from the extract are skipped and counted.
* ``csv`` — any CSV with configurable columns (``role=column``: street, housenumber,
  housenumber_suffix, postcode, place, x, y) and CRS, as :func:`.readers.load_csv` reads it.

Every row is checked; a problem names file, row and field. Valid rows are written in one
transaction as they come, and the first problem stops the writing: at the end of the file the
transaction is rolled back when there was any, so a failed re-import leaves the old points.
"""

from __future__ import annotations

import codecs
import csv
import functools
import math
import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pyproj.exceptions import CRSError

from ...store.base import AddressRow, AddressSource, AddressStreet, AddressSummary, BBox, Store, utc_now
from .gazetteer import compact_key
from .normalise import normalize_housenumber, normalize_place, normalize_street
from .readers import (
    COLUMN_ROLES,
    MAX_LISTED_PROBLEMS,
    REQUIRED_ROLES,
    GazetteerError,
    GazetteerProblem,
    _postcode,
    _to_wgs84,
    detect_delimiter,
    parse_number,
)

FORMATS = ("hauskoordinaten", "osm", "csv")
BATCH = 10_000
# Germany with a margin: an official house coordinate outside it has the wrong zone or columns.
GERMANY: BBox = (5.5, 47.0, 15.5, 55.2)

# Land keys (the first two digits of every official municipality key, AGS) and their names.
LAND_NAMES = {
    "01": "Schleswig-Holstein",
    "02": "Hamburg",
    "03": "Niedersachsen",
    "04": "Bremen",
    "05": "Nordrhein-Westfalen",
    "06": "Hessen",
    "07": "Rheinland-Pfalz",
    "08": "Baden-Württemberg",
    "09": "Bayern",
    "10": "Saarland",
    "11": "Berlin",
    "12": "Brandenburg",
    "13": "Mecklenburg-Vorpommern",
    "14": "Sachsen",
    "15": "Sachsen-Anhalt",
    "16": "Thüringen",
}
# Länder whose official coordinates are in UTM zone 33 (ETRS89 / UTM 33N, EPSG:25833).
ZONE_33_LANDS = frozenset({"11", "12", "13", "14"})
UTM_EPSG = {32: 25832, 33: 25833}

# Licences known for a format; the operator can give another with --licence.
KNOWN_LICENCES = {
    "hauskoordinaten": "dl-de/by-2-0",
    "osm": "ODbL 1.0",
}
OSM_ATTRIBUTION = "© OpenStreetMap contributors"

# The HK-DE fields in delivery order (a file without a header line has them in this order).
HK_FIELDS = (
    "NBA",
    "OI",
    "QUA",
    "LAN",
    "RBZ",
    "KRS",
    "GMD",
    "OTT",
    "SSS",
    "HNR",
    "ADZ",
    "EAST",
    "NORTH",
    "STN",
    "PLZ",
    "ONM",
    "ZON",
    "POT",
)
_HK_REQUIRED = ("HNR", "EAST", "NORTH", "STN")
# Header names of the coordinate columns as deliveries spell them: "EEEEEEEE,EEE",
# "EEEEEEEE_EEE", "ZZEEEEEE,EEE", "NNNNNNN,NNN", or plainly "EAST"/"NORTH".
_EAST_NAME = re.compile(r"^(?:Z*E+[,._]?E*|EAST|OSTWERT|RECHTSWERT)$", re.IGNORECASE)
_NORTH_NAME = re.compile(r"^(?:N+[,._]?N*|NORTH|NORDWERT|HOCHWERT)$", re.IGNORECASE)
# The first fields of a headerless HK-DE line: NBA (one letter or empty), OI (16 characters).
_HK_LINE = re.compile(r"^[NLA]?;[A-Z]{2}[A-Z0-9]{14};")


class ImportOptionError(ValueError):
    """An option of the import is wrong (the message names it)."""


@dataclass(slots=True)  # not frozen: a million of them are made, and frozen costs a third more
class _Raw:
    """One address as read, before reprojection: ``x``/``y`` in ``crs``."""

    row: int | str
    street: str
    housenumber: str | None
    postcode: str | None
    place: str | None
    x: float
    y: float
    crs: str | int
    precision: str = "address"
    ref: str | None = None
    x_field: str | None = None
    y_field: str | None = None


# A reader yields addresses and problems; it reports its progress in rows.
Reader = Iterator["_Raw | GazetteerProblem"]


def parse_columns(spec: str) -> dict[str, str]:
    """ "street=strasse,x=ostwert" → {"street": "strasse", "x": "ostwert"}."""
    out: dict[str, str] = {}
    for part in spec.split(","):
        if not part.strip():
            continue
        role, sep, column = part.partition("=")
        if not sep or not role.strip() or not column.strip():
            raise ImportOptionError(f"--columns: {part.strip()!r} is not role=column")
        out[role.strip()] = column.strip()
    return out


def detect_format(path: Path) -> str:
    """The format of a file by its name and first line: ``osm`` for ``.pbf``, ``hauskoordinaten``
    for an HK-DE header or line, else ``csv``."""
    name = path.name.lower()
    if name.endswith((".pbf", ".osm.pbf")):
        return "osm"
    try:
        with open(path, "rb") as f:
            head = f.read(4096)
    except OSError:
        return "csv"
    first = head.decode("latin-1").lstrip("\ufeffï»¿").split("\n", 1)[0].strip()
    fields = [c.strip().upper() for c in first.split(";")]
    if fields[:3] == ["NBA", "OI", "QUA"] or _HK_LINE.match(first):
        return "hauskoordinaten"
    return "csv"


def text_encoding(path: Path) -> str:
    """UTF-8 (the BOM is dropped) if the whole file decodes so, else CP1252 (or Latin-1 for
    bytes CP1252 leaves undefined): older HK-DE deliveries are Latin-1."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        with open(path, "rb") as f:
            while chunk := f.read(1 << 20):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
        return "utf-8-sig"
    except UnicodeDecodeError:
        pass
    try:
        with open(path, "rb") as f:
            while chunk := f.read(1 << 20):
                chunk.decode("cp1252")
        return "cp1252"
    except UnicodeDecodeError:
        return "latin-1"


def count_lines(path: Path) -> int:
    """Line breaks in a file (the rows of a text file with a header, plus one)."""
    with open(path, "rb") as f:
        return sum(chunk.count(b"\n") for chunk in iter(lambda: f.read(1 << 20), b""))


# -- readers -------------------------------------------------------------------------------------


def _hauskoordinaten(path: Path, crs: str | None, lands: Counter[str]) -> Reader:
    name = str(path)
    encoding = text_encoding(path)
    with open(path, encoding=encoding, newline="") as f:
        reader = csv.reader(f, delimiter=";")
        first = next(reader, None)
        if first is None:
            yield GazetteerProblem(name, None, None, "empty file")
            return
        header = [c.strip().upper() for c in first]
        index: dict[str, int] = {}
        if header[:1] == ["NBA"]:
            for i, column in enumerate(header):
                if _EAST_NAME.match(column):
                    index.setdefault("EAST", i)
                elif _NORTH_NAME.match(column):
                    index.setdefault("NORTH", i)
                else:
                    index.setdefault(column, i)
            missing = [c for c in _HK_REQUIRED if c not in index]
            if missing:
                yield GazetteerProblem(
                    name, 1, None, f"no column {', '.join(missing)} in the header ({';'.join(first)})"
                )
                return
            rows: Iterable[list[str]] = reader
            has_header = True
        else:
            has_header = False
            index = {column: i for i, column in enumerate(HK_FIELDS)}
            rows = _chain_first(first, reader)
        names = {i: c for c, i in index.items()}

        # Column positions, looked up once: the loop below runs a million times.
        i_nba, i_oi, i_qua, i_lan, i_adz, i_plz, i_onm = (
            index.get(c, -1) for c in ("NBA", "OI", "QUA", "LAN", "ADZ", "PLZ", "ONM")
        )
        i_hnr, i_east, i_north, i_stn = (index[c] for c in _HK_REQUIRED)
        needed = max(i_hnr, i_east, i_north, i_stn)

        def cell(row: list[str], i: int) -> str:
            return row[i].strip() if 0 <= i < len(row) else ""

        for row in rows:
            line = reader.line_num
            if not any(row):
                continue
            if cell(row, i_nba).upper() == "L":
                continue  # a deletion record of a change delivery: the address is gone
            problems: list[GazetteerProblem] = []
            if len(row) <= needed:
                yield GazetteerProblem(name, line, None, f"{len(row)} fields, too few for an HK-DE line")
                continue
            street = row[i_stn].strip()
            if not street:
                problems.append(GazetteerProblem(name, line, names[i_stn], "empty street"))
            number = row[i_hnr].strip()
            if not number:
                problems.append(GazetteerProblem(name, line, names[i_hnr], "empty house number"))
            land = cell(row, i_lan)
            values: dict[str, float] = {}
            for column, i in (("EAST", i_east), ("NORTH", i_north)):
                raw = row[i].strip()
                header_name = first[i].strip() if has_header else column
                if not raw:
                    problems.append(GazetteerProblem(name, line, header_name, "missing coordinate"))
                    continue
                try:
                    values[column] = parse_number(raw)
                except ValueError:
                    problems.append(GazetteerProblem(name, line, header_name, f"not a number: {raw!r}"))
            row_crs: str | int | None = crs
            if "EAST" in values:
                east = values["EAST"]
                if east >= 10_000_000:  # "32680912,400": zone 32, easting 680912.400
                    zone = int(east // 1_000_000)
                    if zone not in UTM_EPSG:
                        problems.append(
                            GazetteerProblem(name, line, "EAST", f"zone {zone} is not a UTM zone of Germany")
                        )
                    else:
                        values["EAST"] = east - zone * 1_000_000
                        row_crs = UTM_EPSG[zone]
                elif row_crs is None:
                    if land in LAND_NAMES:
                        row_crs = 25833 if land in ZONE_33_LANDS else 25832
                    else:
                        problems.append(
                            GazetteerProblem(
                                name,
                                line,
                                "LAN",
                                f"no UTM zone in EAST and no Land key ({land!r}) to tell it: give --crs",
                            )
                        )
            if problems:
                yield from problems
                continue
            assert row_crs is not None
            if land in LAND_NAMES:
                lands[land] += 1
            yield _Raw(
                row=line,
                street=street,
                housenumber=number + cell(row, i_adz),
                postcode=_postcode(cell(row, i_plz)),
                place=cell(row, i_onm) or None,
                x=values["EAST"],
                y=values["NORTH"],
                crs=row_crs,
                ref=cell(row, i_oi) or None,
                x_field="EAST",
                y_field="NORTH",
                precision=_hk_precision(cell(row, i_qua)),
            )


_HK_COLUMN_OF_ROLE = {"street": "STN", "housenumber": "HNR", "postcode": "PLZ", "place": "ONM", "ref": "OI"}
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def _control_character_field(raw: _Raw) -> str | None:
    """The name of the first text field of ``raw`` holding a control character, if any."""
    for name in ("street", "housenumber", "postcode", "place", "ref"):
        value = getattr(raw, name)
        if value and _CONTROL.search(value):
            return name
    return None


# QUA, the quality of a house coordinate: "A" lies surely inside the building (LDBV Bayern's
# product description), "B" on the address's parcel. Whatever else a delivery may carry is
# taken as approximate, never as house-exact: the finder then says "ungefähre Lage".
_HK_EXACT_QUALITIES = frozenset({"", "A", "B"})


def _hk_precision(quality: str) -> str:
    return "address" if quality.upper() in _HK_EXACT_QUALITIES else "street"


def _chain_first(first: list[str], rest: Iterable[list[str]]) -> Iterator[list[str]]:
    yield first
    yield from rest


def _csv(path: Path, columns: Mapping[str, str], crs: str | int) -> Reader:
    name = str(path)
    encoding = text_encoding(path)
    with open(path, encoding=encoding, newline="") as f:
        first_line = f.readline()
        f.seek(0)
        reader = csv.reader(f, delimiter=detect_delimiter(first_line))
        header = [h.strip() for h in next(reader, [])]
        index: dict[str, int] = {}
        bad = False
        for role, column in columns.items():
            if column in header:
                index[role] = header.index(column)
            else:
                yield GazetteerProblem(
                    name, 1, column, f"not in the header ({', '.join(header) or 'empty file'})"
                )
                bad = True
        if bad:
            return

        def cell(row: list[str], role: str) -> str:
            i = index.get(role)
            return row[i].strip() if i is not None and i < len(row) else ""

        for row in reader:
            line = reader.line_num
            if not any(c.strip() for c in row):
                continue
            problems: list[GazetteerProblem] = []
            if len(row) != len(header):
                problems.append(
                    GazetteerProblem(name, line, None, f"{len(row)} fields, the header has {len(header)}")
                )
            street = cell(row, "street")
            if not street:
                problems.append(GazetteerProblem(name, line, columns["street"], "empty street"))
            xy: list[float] = []
            for role in ("x", "y"):
                raw = cell(row, role)
                if not raw:
                    problems.append(GazetteerProblem(name, line, columns[role], "missing coordinate"))
                    continue
                try:
                    xy.append(parse_number(raw))
                except ValueError:
                    problems.append(GazetteerProblem(name, line, columns[role], f"not a number: {raw!r}"))
            if problems:
                yield from problems
                continue
            number = cell(row, "housenumber") + cell(row, "housenumber_suffix")
            yield _Raw(
                row=line,
                street=street,
                housenumber=number or None,
                postcode=_postcode(cell(row, "postcode")),
                place=cell(row, "place") or None,
                x=xy[0],
                y=xy[1],
                crs=crs,
                x_field=columns["x"],
                y_field=columns["y"],
            )


@dataclass
class _OsmCounts:
    skipped: int = 0  # address elements without a usable location
    elements: int = 0


def _osm(path: Path, counts: _OsmCounts) -> Reader:
    import osmium  # only an OSM import needs it

    name = str(path)
    try:
        processor = (
            osmium.FileProcessor(str(path))
            .with_locations()
            .with_filter(osmium.filter.KeyFilter("addr:housenumber"))
        )
        for obj in processor:
            counts.elements += 1
            tags = obj.tags
            street = tags.get("addr:street") or tags.get("addr:place")
            number = tags.get("addr:housenumber")
            if not street or not number:
                continue  # an entrance or a part of an address: not an address point
            if isinstance(obj, osmium.osm.Node):
                where = f"node {obj.id}"
                if not obj.location.valid():
                    counts.skipped += 1
                    continue
                lon, lat = obj.location.lon, obj.location.lat
            elif isinstance(obj, osmium.osm.Way):
                where = f"way {obj.id}"
                if "building" not in tags:
                    continue
                coords = [(n.location.lon, n.location.lat) for n in obj.nodes if n.location.valid()]
                if len(coords) < len(obj.nodes) or not coords:
                    counts.skipped += 1  # the extract cut the way: no honest position
                    continue
                if len(coords) > 1 and coords[0] == coords[-1]:
                    coords = coords[:-1]  # a closed way repeats its first node
                lon = sum(c[0] for c in coords) / len(coords)
                lat = sum(c[1] for c in coords) / len(coords)
            else:
                continue  # relations (multipolygon buildings) would need their members' ways
            yield _Raw(
                row=where,
                street=street.strip(),
                housenumber=number.strip(),
                postcode=_postcode(tags.get("addr:postcode") or ""),
                place=(tags.get("addr:city") or "").strip() or None,
                x=lon,
                y=lat,
                crs=4326,
                ref=where.replace(" ", "/"),
                x_field="lon",
                y_field="lat",
            )
    except RuntimeError as exc:  # libosmium's errors: not an OSM file, truncated, …
        yield GazetteerProblem(name, None, None, f"cannot read as OpenStreetMap data: {exc}")


# -- the import ----------------------------------------------------------------------------------


@dataclass
class AddressImport:
    """One file on its way into the store: read with :meth:`batches`, then :meth:`summary`."""

    path: Path
    format: str
    source: str
    columns: Mapping[str, str] = field(default_factory=dict)
    crs: str | None = None
    licence: str | None = None
    attribution: str | None = None
    progress: Callable[[int], None] | None = None
    problems: list[GazetteerProblem] = field(default_factory=list)
    problem_count: int = 0
    skipped: int = 0
    _lands: Counter[str] = field(default_factory=Counter)
    _places: Counter[str] = field(default_factory=Counter)
    _streets: dict[tuple[str, str], list[Any]] = field(default_factory=dict)
    _rows: int = 0
    _bbox: list[float] = field(default_factory=lambda: [math.inf, math.inf, -math.inf, -math.inf])

    def __post_init__(self) -> None:
        if self.format not in FORMATS:
            raise ImportOptionError(f"--format: {self.format!r} is not one of {', '.join(FORMATS)}")
        if not self.source.strip():
            raise ImportOptionError("--source: the name must not be empty")
        if self.format == "csv":
            unknown = sorted(set(self.columns) - set(COLUMN_ROLES))
            if unknown:
                raise ImportOptionError(
                    f"--columns: unknown role(s) {', '.join(unknown)}; known: {', '.join(COLUMN_ROLES)}"
                )
            missing = [r for r in REQUIRED_ROLES if not self.columns.get(r)]
            if missing:
                raise ImportOptionError(f"--columns: no column given for {', '.join(missing)}")
        elif self.columns:
            raise ImportOptionError(f"--columns applies to --format csv only, not {self.format}")
        if self.crs is not None:
            try:
                _to_wgs84(self.crs)
            except CRSError as exc:
                raise ImportOptionError(f"--crs: unknown CRS {self.crs!r}: {exc}") from None

    def _reader(self) -> Reader:
        if self.format == "hauskoordinaten":
            return _hauskoordinaten(self.path, self.crs, self._lands)
        if self.format == "osm":
            self._osm_counts = _OsmCounts()
            return _osm(self.path, self._osm_counts)
        return _csv(self.path, self.columns, self.crs or "EPSG:4326")

    def _problem(self, problem: GazetteerProblem) -> None:
        self.problem_count += 1
        if len(self.problems) < MAX_LISTED_PROBLEMS:
            self.problems.append(problem)

    def batches(self) -> Iterator[list[AddressRow]]:
        """Valid rows in batches; raises GazetteerError at the end if any row was bad (and stops
        yielding at the first, since nothing will be kept)."""
        pending: list[_Raw] = []
        for item in self._reader():
            if isinstance(item, GazetteerProblem):
                self._problem(item)
                continue
            pending.append(item)
            if len(pending) >= BATCH:
                rows = self._convert(pending)
                if self.progress is not None:
                    self.progress(len(pending))
                pending = []
                if not self.problem_count:
                    yield rows
        rows = self._convert(pending)
        if self.progress is not None and pending:
            self.progress(len(pending))
        if self.format == "osm":
            self.skipped = self._osm_counts.skipped
        if self.problem_count:
            raise GazetteerError(self.problems, self.problem_count)
        if not self._rows:
            raise GazetteerError(
                [GazetteerProblem(str(self.path), None, None, "no address points in the file")]
            )
        yield rows

    def _convert(self, pending: Sequence[_Raw]) -> list[AddressRow]:
        """Reproject, check the position, compute the lookup keys."""
        out: list[AddressRow] = []
        by_crs: dict[str | int, list[_Raw]] = {}
        for raw in pending:
            by_crs.setdefault(raw.crs, []).append(raw)
        bounds = GERMANY if self.format == "hauskoordinaten" else None
        for crs, group in by_crs.items():
            if crs == 4326:
                lons, lats = [r.x for r in group], [r.y for r in group]
            else:
                lons, lats = _to_wgs84(crs).transform([r.x for r in group], [r.y for r in group])
            for raw, lon, lat in zip(group, lons, lats, strict=True):
                lon, lat = float(lon), float(lat)
                if not (
                    math.isfinite(lon) and math.isfinite(lat) and -180 <= lon <= 180 and -90 <= lat <= 90
                ):
                    self._problem(
                        GazetteerProblem(
                            str(self.path),
                            raw.row,
                            raw.x_field,
                            f"x={raw.x} y={raw.y} is no position (CRS {crs})",
                        )
                    )
                    continue
                if bounds is not None and not (
                    bounds[0] <= lon <= bounds[2] and bounds[1] <= lat <= bounds[3]
                ):
                    self._problem(
                        GazetteerProblem(
                            str(self.path),
                            raw.row,
                            raw.x_field,
                            f"lon {lon:.5f} lat {lat:.5f} lies outside Germany (CRS {crs}): "
                            "wrong zone or --crs?",
                        )
                    )
                    continue
                control = _control_character_field(raw)
                if control is not None:
                    # PostgreSQL refuses NUL in text, and no address has control characters.
                    column = self._column_of(control)
                    self._problem(
                        GazetteerProblem(str(self.path), raw.row, column, "contains a control character")
                    )
                    continue
                out.append(self._row(raw, lon, lat))
        return out

    def _column_of(self, role: str) -> str:
        """The file's own name of the field that holds ``role`` (for problem reports)."""
        if self.format == "hauskoordinaten":
            return _HK_COLUMN_OF_ROLE.get(role, role)
        if self.format == "osm":
            return "id" if role == "ref" else f"addr:{role}"
        return self.columns.get(role, role)

    def _row(self, raw: _Raw, lon: float, lat: float) -> AddressRow:
        words = _normalised_street(raw.street)
        key = compact_key(words)
        place_key = _normalised_place(raw.place) if raw.place else ""
        number_key = _normalised_number(raw.housenumber) if raw.housenumber else ""
        entry = self._streets.get((key, place_key))
        if entry is None:
            self._streets[(key, place_key)] = [words, raw.street, raw.place, 1]
        else:
            entry[3] += 1
        if raw.place:
            self._places[raw.place] += 1
        self._rows += 1
        b = self._bbox
        b[0], b[1], b[2], b[3] = min(b[0], lon), min(b[1], lat), max(b[2], lon), max(b[3], lat)
        return (
            raw.street,
            raw.housenumber,
            raw.postcode,
            raw.place,
            round(lon, 7),
            round(lat, 7),
            raw.precision,
            key,
            place_key,
            number_key,
            raw.ref,
        )

    def summary(self) -> AddressSummary:
        streets = [
            AddressStreet(key, words, place_key, street, place, count)
            for (key, place_key), (words, street, place, count) in self._streets.items()
            if key
        ]
        bbox = None if not self._rows else (self._bbox[0], self._bbox[1], self._bbox[2], self._bbox[3])
        # The HK-DE attribution names the Land, known only once the rows are read.
        attribution = self.land_attribution() if self.format == "hauskoordinaten" else None
        return AddressSummary(self._rows, streets, tuple(self._places.most_common()), bbox, attribution)

    def described(self) -> AddressSource:
        """The source as it will be stored (row count, places and extent are filled in by the
        store from :meth:`summary`)."""
        licence = self.licence or KNOWN_LICENCES.get(self.format)
        attribution = self.attribution
        if attribution is None and self.format == "osm":
            attribution = OSM_ATTRIBUTION
        return AddressSource(
            name=self.source,
            format=self.format,
            file_name=self.path.name,
            row_count=0,
            imported_at=utc_now().replace(microsecond=0),
            licence=licence,
            attribution=attribution,
        )

    def land_attribution(self) -> str | None:
        """ "Hauskoordinaten Thüringen" from the Land keys of the rows read (HK-DE only)."""
        names = [LAND_NAMES[k] for k, _ in self._lands.most_common()]
        return f"Hauskoordinaten {', '.join(names)}" if names else None


# A Land has some ten thousand street names and a million rows: normalise each name once.
_normalised_street = functools.lru_cache(maxsize=500_000)(normalize_street)
_normalised_number = functools.lru_cache(maxsize=100_000)(normalize_housenumber)
_normalised_place = functools.lru_cache(maxsize=100_000)(normalize_place)


def import_file(
    store: Store,
    path: Path,
    fmt: str | None = None,
    source: str | None = None,
    *,
    columns: Mapping[str, str] | None = None,
    crs: str | None = None,
    licence: str | None = None,
    attribution: str | None = None,
    progress: Callable[[int], None] | None = None,
) -> tuple[AddressSource, AddressImport]:
    """Read ``path`` and replace the points of its source in ``store``: all or nothing.

    The source is named ``source`` (default: the file name). Raises GazetteerError (bad rows,
    nothing written), ImportOptionError (a wrong option) or StoreError.
    """
    job = AddressImport(
        path=path,
        format=fmt or detect_format(path),
        source=source or path.name,
        columns=dict(columns or {}),
        crs=crs,
        licence=licence,
        attribution=attribution,
        progress=progress,
    )
    stored = store.replace_addresses(job.described(), job.batches(), job.summary)
    return stored, job
