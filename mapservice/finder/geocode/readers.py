"""Loading address points: house-coordinate CSV files (reprojected to lon/lat) and the contact
offices' GeoJSON features; every problem found is reported at once in a :class:`GazetteerError`."""

from __future__ import annotations

import csv
import functools
import math
import re
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pyproj import Transformer
from pyproj.exceptions import CRSError

from .gazetteer import AddressPoint

COLUMN_ROLES = ("street", "housenumber", "housenumber_suffix", "postcode", "place", "x", "y")
REQUIRED_ROLES = ("street", "x", "y")
MAX_LISTED_PROBLEMS = 200  # the message lists this many; GazetteerError.problems holds all


@dataclass(frozen=True, slots=True)
class GazetteerProblem:
    """One thing wrong in a data file. ``row`` counts the header as row 1, like an editor's line
    number (for rows without line breaks inside quotes), or names the element ("node 42" in
    an OpenStreetMap file); None when the whole file is affected."""

    path: str
    row: int | str | None
    column: str | None
    message: str

    def __str__(self) -> str:
        where = [self.path]
        if isinstance(self.row, int):
            where.append(f"row {self.row}")
        elif self.row is not None:
            where.append(self.row)
        if self.column is not None:
            where.append(f"column {self.column!r}")
        return f"{', '.join(where)}: {self.message}"


class GazetteerError(ValueError):
    """Address data that cannot be used. Lists every problem found, not just the first, so one
    round of fixing the file is enough. ``total`` counts problems beyond those kept."""

    def __init__(self, problems: Sequence[GazetteerProblem], total: int | None = None) -> None:
        self.problems = list(problems)
        self.total = max(total or 0, len(self.problems))
        lines = [str(p) for p in self.problems[:MAX_LISTED_PROBLEMS]]
        if self.total > len(lines):
            lines.append(f"... and {self.total - len(lines)} more")
        super().__init__(f"{self.total} problem(s) in address data:\n" + "\n".join(lines))


@functools.lru_cache(maxsize=16)
def _to_wgs84(crs: str | int) -> Transformer:
    return Transformer.from_crs(crs, 4326, always_xy=True)


def detect_delimiter(header: str) -> str:
    # German exports use ';' because ',' is the decimal separator; others use ','.
    return max((";", ",", "\t"), key=header.count) if any(d in header for d in ";,\t") else ","


def parse_number(text: str) -> float:
    """ "680123,45" (German decimal comma) and "680123.45" alike; ValueError when not a number."""
    s = text.strip()
    if "," in s and "." not in s:
        s = s.replace(",", ".")
    value = float(s)
    if not math.isfinite(value):
        raise ValueError(s)
    return value


def _postcode(text: str) -> str | None:
    s = text.strip()
    # Spreadsheets drop the leading zero of Saxon and Thuringian postcodes (07743 → 7743).
    return s.zfill(5) if re.fullmatch(r"\d{4}", s) else (s or None)


def load_csv(
    path: str | Path,
    columns: Mapping[str, str],
    crs: str | int,
    source: str,
    precision: str = "address",
    bounds: tuple[float, float, float, float] | None = None,
) -> list[AddressPoint]:
    """Address points from a CSV file of house coordinates.

    ``columns`` maps roles to the file's column names: ``street``, ``x``, ``y`` (required),
    ``housenumber``, ``housenumber_suffix``, ``postcode``, ``place`` (optional). ``x``/``y`` are
    in ``crs`` (e.g. 25832 for ETRS89 / UTM 32N, or 4326 for lon/lat) and are reprojected to
    lon/lat. The delimiter (',', ';' or tab) is taken from the header line; UTF-8 with or
    without BOM. ``bounds`` (min lon, min lat, max lon, max lat), if given, rejects points
    outside it, which catches swapped or mislabelled coordinate columns.

    Raises GazetteerError listing every bad row (empty street, missing or non-numeric
    coordinate, position outside lon/lat range or ``bounds``) with row number and column.
    """
    name = str(path)
    problems: list[GazetteerProblem] = []

    def problem(row: int | None, column: str | None, message: str) -> None:
        problems.append(GazetteerProblem(name, row, column, message))

    unknown = sorted(set(columns) - set(COLUMN_ROLES))
    for role in unknown:
        problem(None, None, f"unknown column role {role!r}; known: {', '.join(COLUMN_ROLES)}")
    for role in REQUIRED_ROLES:
        if not columns.get(role):
            problem(None, None, f"no column given for {role!r}")
    try:
        transformer = _to_wgs84(crs)
    except CRSError as exc:
        problem(None, None, f"unknown CRS {crs!r}: {exc}")
    if problems:
        raise GazetteerError(problems)

    try:
        with open(path, encoding="utf-8-sig", newline="") as f:
            text = f.read()
    except (OSError, UnicodeDecodeError) as exc:
        raise GazetteerError([GazetteerProblem(name, None, None, f"cannot read: {exc}")]) from exc
    first_line = text.split("\n", 1)[0]
    reader = csv.reader(text.splitlines(keepends=True), delimiter=detect_delimiter(first_line))
    header = [h.strip() for h in next(reader, [])]
    index: dict[str, int] = {}
    for role, column in columns.items():
        if role not in COLUMN_ROLES or not column:
            continue
        if column in header:
            index[role] = header.index(column)
        else:
            problem(1, column, f"not in the header ({', '.join(header) or 'empty file'})")
    if problems:
        raise GazetteerError(problems)

    def cell(row: list[str], role: str) -> str:
        i = index.get(role)
        return row[i].strip() if i is not None and i < len(row) else ""

    pending: list[tuple[int, list[str], float, float]] = []
    for row in reader:
        line = reader.line_num
        if not any(c.strip() for c in row):
            continue
        if len(row) != len(header):
            problem(line, None, f"{len(row)} fields, the header has {len(header)}")
        if not cell(row, "street"):
            problem(line, columns["street"], "empty street")
        xy: list[float] = []
        for role in ("x", "y"):
            raw = cell(row, role)
            if not raw:
                problem(line, columns[role], "missing coordinate")
                continue
            try:
                xy.append(parse_number(raw))
            except ValueError:
                problem(line, columns[role], f"not a number: {raw!r}")
        if len(xy) == 2:
            pending.append((line, row, xy[0], xy[1]))

    if pending:
        lons, lats = transformer.transform([p[2] for p in pending], [p[3] for p in pending])
    else:
        lons, lats = [], []
    points: list[AddressPoint] = []
    for (line, row, x, y), lon, lat in zip(pending, lons, lats, strict=True):
        bad = False
        if not (math.isfinite(lon) and -180.0 <= lon <= 180.0):
            problem(line, columns["x"], f"x={x} y={y} gives longitude {lon} (CRS {crs})")
            bad = True
        if not (math.isfinite(lat) and -90.0 <= lat <= 90.0):
            problem(line, columns["y"], f"x={x} y={y} gives latitude {lat} (CRS {crs})")
            bad = True
        if not bad and bounds is not None:
            if not bounds[0] <= lon <= bounds[2]:
                problem(line, columns["x"], f"longitude {lon:.6f} outside bounds {bounds}")
                bad = True
            if not bounds[1] <= lat <= bounds[3]:
                problem(line, columns["y"], f"latitude {lat:.6f} outside bounds {bounds}")
                bad = True
        street = cell(row, "street")
        if bad or not street:
            continue
        housenumber = cell(row, "housenumber") + cell(row, "housenumber_suffix")
        points.append(
            AddressPoint(
                street=street,
                housenumber=housenumber or None,
                postcode=_postcode(cell(row, "postcode")),
                place=cell(row, "place") or None,
                lon=float(lon),
                lat=float(lat),
                source=source,
                precision=precision,
            )
        )
    if problems:
        raise GazetteerError(problems)
    return points


def points_from_offices(
    features: Iterable[Mapping[str, Any]],
    source: str = "contact-offices",
    precisions: Collection[str] = ("address", "street"),
) -> list[AddressPoint]:
    """Address points from ``contact-offices`` GeoJSON features.

    Each keeps its ``location_precision`` (an office placed at the neighbouring house is
    "street"). Features without a point or a street are skipped, and so are precisions outside
    ``precisions``: a coordinate that stands for a whole municipality is no house coordinate,
    and answering with it would keep a GeocoderChain from asking a better geocoder.
    """
    points: list[AddressPoint] = []
    for feature in features:
        geometry = feature.get("geometry")
        props = feature.get("properties") or {}
        if not geometry or geometry.get("type") != "Point" or not props.get("street"):
            continue
        precision = props.get("location_precision") or "unknown"
        if precision not in precisions:
            continue
        lon, lat = geometry["coordinates"][:2]
        housenumber = props.get("housenumber")
        postcode = props.get("postcode")
        place = props.get("place")
        ref = feature.get("id") or props.get("id")
        points.append(
            AddressPoint(
                street=str(props["street"]),
                housenumber=str(housenumber) if housenumber else None,
                postcode=str(postcode) if postcode else None,
                place=str(place) if place else None,
                lon=float(lon),
                lat=float(lat),
                source=source,
                precision=str(precision),
                ref=str(ref) if ref else None,
            )
        )
    return points
