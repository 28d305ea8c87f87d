"""Reading import files into records: GeoJSON, GeoPackage, zipped shapefile, CSV.

A reader only reads: it turns a file into :class:`Record` objects (label, raw column values,
a lon/lat GeoJSON geometry or an address to look up) and names what it could not read. Types
are converted and checked later, against the layer's catalog definition.
"""

from __future__ import annotations

import csv
import functools
import io
import math
import struct
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from pyproj import CRS, Transformer
from pyproj.exceptions import CRSError
from shapely.geometry import mapping, shape

from ..catalog.validation import (
    LONLAT_CRS_NAMES,
    Problem,
    ValidationError,
    feature_label,
    load_geojson,
    shown,
    value_problem,
)
from ..finder.geocode.readers import detect_delimiter, parse_number

FORMATS = {
    ".geojson": "geojson",
    ".json": "geojson",
    ".gpkg": "gpkg",
    ".zip": "shapefile-zip",
    ".shp": "shapefile",
    ".csv": "csv",
    ".txt": "csv",
    ".tsv": "csv",
}
ADDRESS_ROLES = ("street", "housenumber", "postcode", "place")
LON_NAMES = ("lon", "lng", "longitude", "laenge", "länge")
LAT_NAMES = ("lat", "latitude", "breite")


class ImportOptionError(Exception):
    """The options do not fit the file (a CRS is missing, a column does not exist, ...)."""


class RowProblem(Problem):
    """A problem in a CSV row: ``file, row 7, field 'x': ...`` (rows as a spreadsheet counts
    them, the header is row 1)."""

    def __str__(self) -> str:
        where = [self.file]
        if self.feature is not None:
            where.append(self.feature)
        if self.field is not None:
            where.append(f"field '{self.field}'")
        return f"{', '.join(where)}: {self.message}"


@dataclass(frozen=True)
class Options:
    crs: str | None = None
    x_column: str | None = None
    y_column: str | None = None
    lon_column: str | None = None
    lat_column: str | None = None
    address_columns: str | None = None
    delimiter: str | None = None
    encoding: str = "utf-8"
    layer: str | None = None
    drop_z: bool = False  # drop heights instead of refusing them


@dataclass
class Record:
    label: str
    values: dict[str, Any]
    geometry: dict[str, Any] | None = None
    address: dict[str, str] | str | None = None
    problems: list[tuple[str | None, str]] = field(default_factory=list)  # (field, message)
    unlocated: bool = False  # its coordinates or address could not be read: no geometry check


@dataclass
class Source:
    file: str
    kind: str  # "csv" (text cells), "typed" (GeoPackage/shapefile columns), "geojson" (JSON)
    columns: list[str]
    records: list[Record]
    consumed: set[str] = field(default_factory=set)  # coordinate / address columns
    rows: bool = False  # labels are CSV rows
    address_field: str = "address"  # the column problems of address look-ups are named by

    def problem(self, label: str | None, field_name: str | None, message: str) -> Problem:
        cls = RowProblem if self.rows else Problem
        return cls(self.file, label, field_name, message)


def file_format(path: Path) -> str:
    kind = FORMATS.get(path.suffix.lower())
    if kind is None:
        known = ", ".join(sorted(FORMATS))
        raise ImportOptionError(f"{path.name}: unknown file type '{path.suffix}' (known: {known})")
    return kind


@functools.lru_cache(maxsize=16)
def to_lonlat(crs: str) -> Transformer:
    try:
        source = CRS.from_user_input(crs)
    except CRSError as exc:
        raise ImportOptionError(f"--crs: unknown CRS {crs!r}: {exc}") from None
    return Transformer.from_crs(source, 4326, always_xy=True)


def _is_lonlat(crs: CRS | str) -> bool:
    try:
        parsed = CRS.from_user_input(crs)
    except CRSError:
        return False
    return bool(parsed.equals(CRS.from_epsg(4326), ignore_axis_order=True))


def _same_crs(given: str, declared: CRS) -> bool:
    source = to_lonlat(given).source_crs  # a clear message for an unknown CRS
    return source is not None and bool(source.equals(declared))


def reproject(geom: shapely.Geometry, transformer: Transformer) -> shapely.Geometry:
    def fn(xy: np.ndarray) -> np.ndarray:
        x, y = transformer.transform(xy[:, 0], xy[:, 1])
        return np.column_stack([x, y])

    return shapely.transform(geom, fn)


def read(path: Path, options: Options) -> Source:
    """The file's records; ValidationError when the file itself cannot be read."""
    kind = file_format(path)
    if options.address_columns and kind != "csv":
        raise ImportOptionError("--address-columns applies to CSV files only")
    if kind != "csv" and any(
        (options.x_column, options.y_column, options.lon_column, options.lat_column, options.delimiter)
    ):
        raise ImportOptionError("coordinate columns and --delimiter apply to CSV files only")
    if options.layer and kind not in ("gpkg", "shapefile-zip"):
        raise ImportOptionError("--layer applies to GeoPackages and zipped shapefiles only")
    if kind == "geojson":
        return read_geojson(path, options)
    if kind == "csv":
        return read_csv(path, options)
    return read_ogr(path, kind, options)


# -- GeoJSON ---------------------------------------------------------------------------------


def read_geojson(path: Path, options: Options) -> Source:
    file = str(path)
    data = load_geojson(path)  # a truncated or non-JSON file raises ValidationError naming it
    crs_name = None
    crs = data.get("crs")
    if isinstance(crs, dict):
        crs_name = (crs.get("properties") or {}).get("name")
    if options.crs and not _is_lonlat(options.crs):
        raise ImportOptionError(
            "--crs: GeoJSON is lon/lat EPSG:4326 by definition (RFC 7946); "
            "a file in another CRS names it in its 'crs' member"
        )
    transformer = None
    if crs_name is not None and crs_name not in LONLAT_CRS_NAMES and not _is_lonlat(crs_name):
        try:
            transformer = Transformer.from_crs(CRS.from_user_input(crs_name), 4326, always_xy=True)
        except CRSError:
            raise ValidationError(
                [Problem(file, None, "crs", f"declares the unknown CRS {crs_name!r}")]
            ) from None
    records = []
    columns: list[str] = []
    seen_columns: set[str] = set()
    for index, feature in enumerate(data["features"]):
        label = feature_label(feature, index)
        if not isinstance(feature, dict) or feature.get("type") != "Feature":
            records.append(Record(label, {}, problems=[(None, "is not a GeoJSON Feature")]))
            continue
        props = feature.get("properties")
        if props is None:
            props = {}
        if not isinstance(props, dict):
            records.append(Record(label, {}, problems=[(None, "has no properties object")]))
            continue
        props = dict(props)
        record = Record(label, props)
        top_id = feature.get("id")
        if top_id is not None:
            if props.get("id") is None:
                props["id"] = str(top_id)
            elif (
                value_problem(top_id) is None  # else the checks name it (nested, too long, …)
                and value_problem(props["id"]) is None
                and str(top_id) != str(props["id"])
            ):
                record.problems.append(
                    (
                        "id",
                        f"feature id '{shown(str(top_id))}' differs from properties.id "
                        f"'{shown(str(props['id']))}'",
                    )
                )
        for name in props:
            if name not in seen_columns:
                seen_columns.add(name)
                columns.append(name)
        raw = feature.get("geometry")
        if transformer is not None and isinstance(raw, dict):
            try:
                raw = mapping(reproject(shape(raw), transformer))
            except Exception as exc:  # malformed coordinates: shapely raises several types
                record.problems.append(("geometry", f"geometry cannot be read: {exc}"))
                raw = None
        record.geometry = raw
        records.append(record)
    return Source(file, "geojson", columns, records)


# -- GeoPackage and shapefiles ---------------------------------------------------------------


def _zip_member(path: Path, options: Options) -> str:
    file = str(path)
    try:
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
    except (zipfile.BadZipFile, OSError) as exc:
        raise ValidationError([Problem(file, None, None, f"is not a readable zip archive: {exc}")]) from None
    shps = [n for n in names if n.lower().endswith(".shp") and not n.startswith("__MACOSX")]
    if options.layer:
        shps = [n for n in shps if Path(n).stem == options.layer]
    if not shps:
        found = ", ".join(names[:10]) or "nothing"
        wanted = f" named {options.layer}.shp" if options.layer else ""
        raise ValidationError(
            [Problem(file, None, None, f"contains no shapefile (.shp){wanted}; found: {found}")]
        )
    if len(shps) > 1:
        listed = ", ".join(Path(n).stem for n in shps)
        raise ValidationError(
            [Problem(file, None, None, f"contains several shapefiles ({listed}); choose one with --layer")]
        )
    stem = shps[0][:-4]
    lower = {n.lower() for n in names}
    missing = [ext for ext in (".dbf", ".shx") if f"{stem}{ext}".lower() not in lower]
    if missing:
        raise ValidationError(
            [
                Problem(
                    file,
                    None,
                    None,
                    f"{Path(shps[0]).name} comes without "
                    f"{' and '.join(missing)} (a shapefile "
                    "needs .shp, .shx, .dbf and .prj)",
                )
            ]
        )
    return shps[0]


def _cut_off(name: str, head: bytes, size: int) -> str | None:
    """Whether a shapefile part is shorter than its own header says.

    GDAL reads a cut-off .shp without complaint and gives the features past the cut no
    geometry, which for a layer whose geometry is optional would import them unlocated.
    """
    suffix = name.lower()[-4:]
    expected = None
    if suffix == ".shp" and len(head) >= 28 and struct.unpack(">i", head[:4])[0] == 9994:
        expected = struct.unpack(">i", head[24:28])[0] * 2  # in 16-bit words
    elif suffix == ".dbf" and len(head) >= 12:
        records, header, record = struct.unpack("<IHH", head[4:12])
        expected = header + records * record
    if expected is not None and size < expected:
        return (
            f"{Path(name).name} is cut off: its header says {expected} bytes, it has {size} "
            "(an interrupted copy or download?)"
        )
    return None


def _check_shapefile(path: Path, member: str | None) -> None:
    """Refuse a shapefile whose .shp or .dbf is shorter than its header says."""
    problems = []
    if member is None:
        for part in (path, path.with_suffix(".dbf")):
            if part.exists():
                with part.open("rb") as fh:
                    problem = _cut_off(part.name, fh.read(32), part.stat().st_size)
                if problem:
                    problems.append(problem)
    else:
        with zipfile.ZipFile(path) as archive:
            names = {n.lower(): n for n in archive.namelist()}
            for ext in (".shp", ".dbf"):
                name = names.get(member[:-4].lower() + ext)
                if name is None:
                    continue
                with archive.open(name) as fh:
                    problem = _cut_off(name, fh.read(32), archive.getinfo(name).file_size)
                if problem:
                    problems.append(problem)
    if problems:
        raise ValidationError([Problem(str(path), None, None, p) for p in problems])


def read_ogr(path: Path, kind: str, options: Options) -> Source:
    import pyogrio

    file = str(path)
    layer = options.layer
    source: str = file
    if kind == "shapefile-zip":
        member = _zip_member(path, options)
        _check_shapefile(path, member)
        source = f"/vsizip/{path.resolve()}/{member}"
        layer = None
    elif kind == "shapefile":
        _check_shapefile(path, None)
    try:
        if kind == "gpkg":
            names = [str(n) for n in pyogrio.list_layers(file)[:, 0]]
            if layer is None and len(names) > 1:
                raise ImportOptionError(
                    f"{path.name} holds several layers ({', '.join(names)}); choose one with --layer"
                )
            if layer is not None and layer not in names:
                raise ImportOptionError(
                    f"--layer: {path.name} has no layer '{layer}' (layers: {', '.join(names)})"
                )
        frame = pyogrio.read_dataframe(source, layer=layer)
    except ImportOptionError:
        raise
    except Exception as exc:  # pyogrio/GDAL raise their own error classes for broken files
        raise ValidationError([Problem(file, None, None, f"cannot be read: {exc}")]) from None
    if frame.crs is None:
        if not options.crs:
            raise ImportOptionError(
                f"{path.name} does not say its CRS (no .prj?); give --crs, e.g. --crs EPSG:25832"
            )
        to_lonlat(options.crs)  # a clear message for an unknown CRS
        frame = frame.set_crs(options.crs)
    elif options.crs and not _same_crs(options.crs, frame.crs):
        raise ImportOptionError(f"--crs {options.crs} contradicts the file's own CRS {frame.crs.to_string()}")
    if not _is_lonlat(frame.crs):
        frame = frame.to_crs(4326)
    geometries = frame.geometry
    columns = [str(c) for c in frame.columns if c != frame.geometry.name]
    records = []
    values = frame[columns].to_dict("records")
    for index, (row, geom) in enumerate(zip(values, geometries, strict=True)):
        row = {str(k): v for k, v in row.items()}
        fid = row.get("id")
        label = f"'{fid}' (#{index + 1})" if isinstance(fid, str) and fid else f"#{index + 1}"
        raw = None if geom is None or geom.is_empty else mapping(geom)
        records.append(Record(label, row, geometry=raw))
    return Source(file, "typed", columns, records)


# -- CSV -------------------------------------------------------------------------------------


def _address_spec(spec: str, header: list[str]) -> dict[str, str]:
    """``street,housenumber,postcode,place`` (columns named like the roles), ``role=column``
    pairs, or one column holding the whole address (role ``text``)."""
    parts = [p.strip() for p in spec.split(",") if p.strip()]
    roles: dict[str, str] = {}
    for part in parts:
        if "=" in part:
            role, column = (s.strip() for s in part.split("=", 1))
        elif part in ADDRESS_ROLES:
            role, column = part, part
        elif len(parts) == 1:
            role, column = "text", part
        else:
            raise ImportOptionError(
                f"--address-columns: '{part}' is no address role; use "
                f"role=column pairs (roles: {', '.join(ADDRESS_ROLES)}) "
                "or a single column with the whole address"
            )
        if role not in (*ADDRESS_ROLES, "text"):
            raise ImportOptionError(
                f"--address-columns: unknown role '{role}' (roles: {', '.join(ADDRESS_ROLES)})"
            )
        roles[role] = column
    if "text" not in roles and "street" not in roles:
        raise ImportOptionError("--address-columns: a street column is needed")
    return roles


def _find(header: list[str], names: tuple[str, ...]) -> str | None:
    lower = {h.lower(): h for h in header}
    for name in names:
        if name in lower:
            return lower[name]
    return None


def _location_columns(header: list[str], options: Options) -> tuple[str, str, str] | None:
    """(x column, y column, CRS) or None when the rows have no coordinates."""
    if (options.x_column or options.y_column) and (options.lon_column or options.lat_column):
        raise ImportOptionError("give either --x-column/--y-column or --lon-column/--lat-column")
    if options.x_column or options.y_column:
        if not (options.x_column and options.y_column):
            raise ImportOptionError("give both --x-column and --y-column")
        if not options.crs:
            raise ImportOptionError("--crs is required with --x-column/--y-column (e.g. --crs EPSG:25832)")
        found = (options.x_column, options.y_column, options.crs)
    elif options.lon_column or options.lat_column:
        if not (options.lon_column and options.lat_column):
            raise ImportOptionError("give both --lon-column and --lat-column")
        found = (options.lon_column, options.lat_column, options.crs or "EPSG:4326")
    else:
        lon, lat = _find(header, LON_NAMES), _find(header, LAT_NAMES)
        x, y = _find(header, ("x", "rechtswert", "easting")), _find(header, ("y", "hochwert", "northing"))
        if lon and lat:
            found = (lon, lat, options.crs or "EPSG:4326")
        elif x and y:
            if not options.crs:
                raise ImportOptionError(
                    f"the columns {x}/{y} are projected coordinates: --crs is "
                    "required (e.g. --crs EPSG:25832)"
                )
            found = (x, y, options.crs)
        else:
            return None
    missing = [c for c in found[:2] if c not in header]
    if missing:
        raise ImportOptionError(f"column {', '.join(missing)} not in the header ({', '.join(header)})")
    to_lonlat(found[2])
    return found


def _encoding_hint(given: str) -> str:
    if given.lower().replace("_", "-") in ("utf-8", "utf8", "utf-8-sig"):
        return "give --encoding, e.g. cp1252 (Excel on Windows)"
    return "check the file's encoding (saved as UTF-8, use --encoding utf-8)"


def _undecodable(file: str, raw: bytes, exc: UnicodeDecodeError, options: Options) -> list[Problem]:
    """Each row with bytes that are not text in the encoding, with the column they are in.

    Rows are lines here (as a spreadsheet counts them); a line is decoded on its own, which
    for the byte-oriented encodings of CSV files (UTF-8, cp1252, Latin-1) is exact.
    """
    encoding = exc.encoding
    hint = _encoding_hint(options.encoding)
    lines = raw.split(b"\n")
    header = lines[0].decode(encoding, "replace").lstrip("\ufeff").rstrip("\r")
    delimiter = options.delimiter or detect_delimiter(header)
    delimiter = "\t" if delimiter == "\\t" else delimiter
    names = next(csv.reader([header], delimiter=delimiter), []) if len(delimiter) == 1 else []
    problems: list[Problem] = []
    for number, line in enumerate(lines, 1):
        try:
            line.decode(encoding)
        except UnicodeDecodeError as bad:
            before = line[: bad.start].decode(encoding, "replace")
            column = None
            if len(delimiter) == 1 and number > 1:
                cells = next(csv.reader([before], delimiter=delimiter), [""])
                index = len(cells) - 1 if before else 0
                column = names[index].strip() if index < len(names) else None
            problems.append(
                RowProblem(
                    file,
                    f"row {number}",
                    column,
                    f"is not {options.encoding} text ({bad.reason}: byte "
                    f"0x{line[bad.start]:02x} at position {bad.start + 1} of the line); {hint}",
                )
            )
    if not problems:  # a multi-byte encoding that does not split at line ends
        problems.append(
            Problem(
                file, None, None, f"is not {options.encoding} text ({exc.reason} at byte {exc.start}); {hint}"
            )
        )
    return problems


def _rows(reader: Any, file: str) -> Any:
    """The reader's rows; a row the csv module cannot read is a problem naming it."""
    try:
        yield from reader
    except csv.Error as exc:
        raise ValidationError(
            [RowProblem(file, f"row {reader.line_num + 1}", None, f"cannot be read: {exc}")]
        ) from None


def read_csv(path: Path, options: Options) -> Source:
    file = str(path)
    encoding = (
        "utf-8-sig" if options.encoding.lower().replace("_", "-") in ("utf-8", "utf8") else options.encoding
    )
    try:
        raw = path.read_bytes()
        text = raw.decode(encoding)
    except LookupError:
        raise ImportOptionError(f"--encoding: unknown encoding '{options.encoding}'") from None
    except UnicodeDecodeError as exc:
        raise ValidationError(_undecodable(file, raw, exc, options)) from None
    except OSError as exc:
        raise ValidationError([Problem(file, None, None, f"cannot be read: {exc}")]) from None
    delimiter = options.delimiter or detect_delimiter(text.split("\n", 1)[0])
    if delimiter == "\\t":
        delimiter = "\t"
    if len(delimiter) != 1:
        raise ImportOptionError(f"--delimiter: one character, got {delimiter!r}")
    # A text longer than the csv module's default limit (131,072 characters) is read, so that
    # the limit on text length (max_text_length) names its row and field.
    csv.field_size_limit(max(csv.field_size_limit(), len(text) + 1))
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    header = [h.strip() for h in next(_rows(reader, file), [])]
    if not any(header):
        raise ValidationError([RowProblem(file, None, None, "is empty (no header row)")])
    dupes = sorted({h for h in header if header.count(h) > 1})
    if dupes or "" in header:
        what = f"repeats the column(s) {', '.join(dupes)}" if dupes else "has a column without a name"
        raise ValidationError([RowProblem(file, "row 1", None, f"the header {what}")])
    location = _location_columns(header, options)
    address = _address_spec(options.address_columns, header) if options.address_columns else None
    if address:
        missing = [c for c in address.values() if c not in header]
        if missing:
            raise ImportOptionError(
                f"--address-columns: {', '.join(missing)} not in the header ({', '.join(header)})"
            )
    source = Source(file, "csv", header, [], rows=True)
    if location:
        source.consumed |= {location[0], location[1]}
    if address:
        source.consumed |= set(address.values())
        source.address_field = address.get("text") or address["street"]
    pending: list[tuple[Record, float, float]] = []
    for row in _rows(reader, file):
        line = reader.line_num
        if not any(c.strip() for c in row):
            continue
        record = Record(f"row {line}", {})
        if len(row) != len(header):
            record.problems.append((None, f"has {len(row)} fields, the header has {len(header)}"))
        record.values = {h: (row[i] if i < len(row) else "") for i, h in enumerate(header)}
        source.records.append(record)
        xy: list[float] = []
        if location:
            cells = [record.values[location[0]].strip(), record.values[location[1]].strip()]
            if any(cells):
                for column, cell in zip(location[:2], cells, strict=True):
                    try:
                        xy.append(parse_number(cell))
                    except ValueError:
                        record.unlocated = True
                        record.problems.append(
                            (column, f"'{cell}' is not a coordinate" if cell else "coordinate is missing")
                        )
        if len(xy) == 2:
            pending.append((record, xy[0], xy[1]))
        elif address and not record.problems:
            values = {role: record.values[c].strip() for role, c in address.items()}
            if "text" in values:
                record.address = values["text"] or None
            elif any(values.values()):
                record.address = {k: v for k, v in values.items() if v}
    if location and pending:
        transformer = to_lonlat(location[2])
        lons, lats = transformer.transform([p[1] for p in pending], [p[2] for p in pending])
        for (record, x, y), lon, lat in zip(pending, lons, lats, strict=True):
            if not (math.isfinite(lon) and math.isfinite(lat)):
                record.unlocated = True
                record.problems.append(("geometry", f"x={x} y={y} is not a position in {location[2]}"))
                continue
            record.geometry = {"type": "Point", "coordinates": [float(lon), float(lat)]}
    return source


def describe(address: Mapping[str, str] | str) -> str:
    if isinstance(address, str):
        return address
    head = " ".join(address[k] for k in ("street", "housenumber") if address.get(k))
    tail = " ".join(address[k] for k in ("postcode", "place") if address.get(k))
    return ", ".join(p for p in (head, tail) if p)
