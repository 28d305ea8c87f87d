"""Checks feature data against a layer's catalog definition.

Every problem is collected (not just the first), and each one names the file, the feature
and the field, so a planner can fix a whole file in one go. Used by ``mapservice check``,
by the store when it loads ``geodata/``, by imports, by the write API and by
``scripts/build_geodata.py`` before it writes ``geodata/``: one set of rules for every way in.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import shapely
from shapely.geometry import shape
from shapely.validation import explain_validity

from .layers import FieldDef, Layer

if TYPE_CHECKING:
    from ..config import Settings

EMAIL_RE = re.compile(r"^[^@\s<>\"]+@[^@\s<>\"]+\.[^@\s<>\"]+$")
URL_RE = re.compile(r"^https?://[^\s<>\"]+$")
# ISO 8601 calendar date, or reduced precision (year-month, year) where a source gives no day.
DATE_RE = re.compile(r"^\d{4}(-\d{2}(-\d{2})?)?$")
# Names GeoJSON producers use for lon/lat WGS84; anything else is rejected (RFC 7946 has no crs).
LONLAT_CRS_NAMES = frozenset(
    (
        "urn:ogc:def:crs:OGC:1.3:CRS84",
        "urn:ogc:def:crs:OGC::CRS84",
        "http://www.opengis.net/def/crs/OGC/1.3/CRS84",
        "urn:ogc:def:crs:EPSG::4326",
        "EPSG:4326",
    )
)


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the data, located as precisely as possible."""

    file: str
    feature: str | None
    field: str | None
    message: str

    def __str__(self) -> str:
        where = [self.file]
        if self.feature is not None:
            where.append(f"feature {self.feature}")
        if self.field is not None:
            where.append(f"field '{self.field}'")
        return f"{', '.join(where)}: {self.message}"


class ValidationError(Exception):
    """Raised with every problem found, so callers can report all of them at once."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        lines = "\n".join(f"  - {p}" for p in problems[:50])
        more = f"\n  … and {len(problems) - 50} more" if len(problems) > 50 else ""
        super().__init__(f"{len(problems)} problem(s) in the data:\n{lines}{more}")


# -- bounds on what one feature and one write may hold ----------------------------------------
#
# Beyond them a value cannot be stored safely (SQLite and PostgreSQL integers are 64-bit; a
# lone surrogate cannot be encoded as UTF-8) or is no plausible feature (a name of megabytes,
# JSON nested like no GeoJSON is, a polygon of a million vertices that keeps the planner busy
# for minutes). The same bounds hold for the write API, imports, the data folder and
# scripts/build_geodata.py; the numbers are settings (README, "Settings").

INT64 = 2**63


@dataclass(frozen=True)
class Limits:
    """The bounds; the defaults are those of the settings of the same meaning."""

    vertices: int = 20_000  # max_vertices
    nesting: int = 64  # max_nesting
    text: int = 20_000  # max_text_length
    features: int = 100_000  # max_features_per_write

    @classmethod
    def of(cls, settings: Settings) -> Limits:
        return cls(
            settings.max_vertices,
            settings.max_nesting,
            settings.max_text_length,
            settings.max_features_per_write,
        )


DEFAULT_LIMITS = Limits()


def shown(text: str, most: int = 60) -> str:
    """A text safe to put in a message: lone surrogates escaped, cut after ``most`` characters."""
    safe = text[: most + 1].encode("utf-8", "backslashreplace").decode("utf-8").replace("\x00", "\\u0000")
    return safe if len(safe) <= most else f"{safe[:most]}…"


def _step(where: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{where}[{key}]"
    name = shown(key)
    return f"{where}.{name}" if where else name


# A value being walked: (value, the entry of its container, its key there, depth).
_Entry = tuple[Any, Any, str | int | None, int]


def _describe_int(value: int) -> str:
    if abs(value) < 10**30:
        return str(value)
    # str() of a huge integer is slow, and refused beyond 4,300 digits.
    return f"an integer of about {int(value.bit_length() * 0.30103) + 1:,} digits"


def value_problem(
    value: Any, limits: Limits = DEFAULT_LIMITS, where: str = "", depth: int = 0
) -> tuple[str, str] | None:
    """What makes a parsed value unstorable, as (where, message), e.g. ``properties.name``.

    ``depth`` is the level ``value`` is at (a feature object is level 0, its properties
    object 1, a property's value 2). Walked with an explicit stack, as a recursive walk would
    itself fail on deep nesting; only containers are pushed and a path is built only for the
    problem reported, so the walk stays quick on the coordinates of a large geometry.
    """

    def path(entry: _Entry | None, key: str | int | None) -> str:
        keys: list[str | int] = [] if key is None else [key]
        while entry is not None and entry[2] is not None:
            keys.append(entry[2])
            entry = entry[1]
        out = where
        for k in reversed(keys):
            out = _step(out, k)
        return out or "body"

    def scalar(item: Any, parent: _Entry | None, key: str | int | None) -> tuple[str, str] | None:
        if isinstance(item, str):
            if len(item) > limits.text:
                return path(parent, key), (
                    f"text of {len(item):,} characters, at most {limits.text:,} are allowed "
                    "(setting max_text_length)"
                )
            if not item.isascii():
                try:
                    item.encode("utf-8")
                except UnicodeEncodeError:
                    return path(parent, key), "text with a lone surrogate (not valid Unicode)"
            if "\x00" in item:  # PostgreSQL cannot store it in text; no name or note needs it
                return path(parent, key), "text with a NUL character (\\u0000), which cannot be stored"
        elif isinstance(item, int) and not isinstance(item, bool) and not -INT64 <= item < INT64:
            return path(parent, key), f"{_describe_int(item)} is outside the 64-bit integer range"
        return None

    found = scalar(value, None, None)
    if found:
        return found
    stack: list[_Entry] = [(value, None, None, depth)]
    while stack:
        entry = stack.pop()
        item, _, _, level = entry
        children: Iterable[tuple[str | int, Any]]
        if isinstance(item, dict):
            children = item.items()
        elif isinstance(item, list | tuple):
            children = enumerate(item)
        else:
            continue
        if level >= limits.nesting:
            return path(entry, None), f"nested more than {limits.nesting} levels deep (setting max_nesting)"
        for key, child in children:
            if isinstance(key, str) and not key.isascii():
                try:
                    key.encode("utf-8")
                except UnicodeEncodeError:
                    return path(entry, key), "a property name with a lone surrogate (not valid Unicode)"
            if isinstance(key, str) and "\x00" in key:
                return path(
                    entry, key
                ), "a property name with a NUL character (\\u0000), which cannot be stored"
            if isinstance(child, dict | list | tuple):
                stack.append((child, entry, key, level + 1))
            elif not isinstance(child, float):
                found = scalar(child, entry, key)
                if found:
                    return found
    return None


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def count_vertices(raw: Any) -> int:
    """Positions in a GeoJSON geometry (any type, GeometryCollections too), without parsing it.

    Counts a line or ring by its length, so it stays quick on a million vertices; whatever is
    malformed is left to the parser, which says what is wrong.
    """
    count = 0
    stack = [raw]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            if isinstance(item.get("geometries"), list | tuple):
                stack.extend(item["geometries"])
            elif "coordinates" in item:
                stack.append(item["coordinates"])
        elif isinstance(item, list | tuple) and item:
            first = item[0]
            if _is_number(first):
                count += 1
            elif isinstance(first, list | tuple) and first and _is_number(first[0]):
                count += len(item)
            else:
                stack.extend(item)
    return count


def height_position(raw: Any) -> str | None:
    """The path of the first position with more than two values (``coordinates[0][3]``)."""
    stack: list[tuple[Any, str]] = [(raw, "")]
    while stack:
        item, where = stack.pop()
        if isinstance(item, dict):
            if isinstance(item.get("geometries"), list | tuple):
                stack.extend((g, f"{where}geometries[{i}].") for i, g in enumerate(item["geometries"]))
            elif "coordinates" in item:
                stack.append((item["coordinates"], f"{where}coordinates"))
        elif isinstance(item, list | tuple) and item:
            if _is_number(item[0]):
                if len(item) > 2:
                    return where
            elif isinstance(item[0], list | tuple) and item[0] and _is_number(item[0][0]):
                for i, position in enumerate(item):
                    if isinstance(position, list | tuple) and len(position) > 2:
                        return f"{where}[{i}]"
            else:
                stack.extend((child, f"{where}[{i}]") for i, child in reversed(list(enumerate(item))))
    return None


def drop_heights(raw: Any) -> Any:
    """The GeoJSON geometry with every position cut to longitude and latitude."""
    if isinstance(raw, dict):
        out = dict(raw)
        if isinstance(raw.get("geometries"), list | tuple):
            out["geometries"] = [drop_heights(g) for g in raw["geometries"]]
        elif "coordinates" in raw:
            out["coordinates"] = _drop(raw["coordinates"])
        return out
    return raw


def _drop(coords: Any) -> Any:
    if isinstance(coords, list | tuple) and coords:
        if _is_number(coords[0]):
            return list(coords[:2])
        return [_drop(c) for c in coords]
    return coords


HEIGHT_MESSAGE = "has a third value (height); only longitude and latitude are stored"


def _plain_text(text: str, limits: Limits) -> bool:
    """Whether a text is certainly within the limits (a quick look; value_problem says why not)."""
    if len(text) > limits.text or "\x00" in text:
        return False
    if text.isascii():
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def property_bounds(props: Mapping[str, Any], limits: Limits = DEFAULT_LIMITS) -> dict[str, tuple[str, str]]:
    """The properties beyond the limits: name -> (field path, message).

    Run before the other checks, which must not see such values (a message quoting a lone
    surrogate cannot be printed, one quoting megabytes should not be).
    """
    out: dict[str, tuple[str, str]] = {}
    for name, value in props.items():
        if _plain_text(name, limits) and (
            value is None
            or isinstance(value, float | bool)
            or (isinstance(value, int) and -INT64 <= value < INT64)
            or (isinstance(value, str) and _plain_text(value, limits))
        ):
            continue  # the common case, answered without the walk (an import has many rows)
        found = value_problem({name: value}, limits, depth=1)
        if found is not None:
            out[name] = found
    return out


def _plain_point(raw: Any) -> bool:
    """A lon/lat GeoJSON Point and nothing else: the common case, answered without the walks."""
    if not isinstance(raw, dict) or raw.keys() != {"type", "coordinates"} or raw["type"] != "Point":
        return False
    xy = raw["coordinates"]
    return (
        isinstance(xy, list | tuple)
        and len(xy) == 2
        and all(type(c) is float or (type(c) is int and -INT64 <= c < INT64) for c in xy)
    )


def geometry_bounds(raw: Any, limits: Limits = DEFAULT_LIMITS) -> list[tuple[str, str]]:
    """The geometry's vertices, nesting and values within the limits; heights refused."""
    if raw is None or _plain_point(raw):
        return []
    vertices = count_vertices(raw)
    if vertices > limits.vertices:
        return [
            (
                "geometry",
                f"{vertices:,} vertices, at most {limits.vertices:,} are allowed (setting max_vertices)",
            )
        ]
    found = value_problem(raw, limits, "geometry", depth=1)
    if found is not None:
        return [found]
    height = height_position(raw)
    if height is not None:
        return [(f"geometry.{height}", HEIGHT_MESSAGE)]
    return []


def parse_date(value: str) -> bool:
    if not DATE_RE.match(value):
        return False
    parts = [int(p) for p in value.split("-")]
    try:
        dt.date(parts[0], parts[1] if len(parts) > 1 else 1, parts[2] if len(parts) > 2 else 1)
    except ValueError:
        return False
    return True


def parse_datetime(value: str) -> dt.datetime | None:
    """An ISO 8601 date-time with a UTC offset; a naive time would be ambiguous."""
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None


def opening_hours_error(value: str) -> str | None:
    """None if ``value`` is valid OpenStreetMap ``opening_hours`` syntax, else why not."""
    import opening_hours  # imported lazily: a compiled extension only validation needs

    try:
        opening_hours.OpeningHours(value)
    except Exception as exc:  # the parser raises its own ParserError with a caret diagram
        lines = [line.strip() for line in str(exc).strip().splitlines()]
        found = re.search(r"--> \d+:(\d+)", str(exc))
        where = found.group(1) if found else None
        expected = lines[-1].lstrip("= ") if lines else "syntax error"
        at = f"at character {where}: " if where else ""
        return f"'{value}' is not valid opening_hours syntax ({at}{expected})"
    return None


def check_value(fdef: FieldDef, value: Any, path: str) -> list[tuple[str, str]]:
    """Problems of one value as (field path, message) pairs; ``None`` is checked by the caller."""
    out: list[tuple[str, str]] = []
    t = fdef.type
    if t in ("string", "date", "datetime", "opening_hours", "email", "url"):
        if not isinstance(value, str):
            return [(path, f"must be a text ({t}), got {json.dumps(value, ensure_ascii=False)}")]
        text = value.strip()
        # A stray blank makes a value differ from its twin in filters (``city=Jena`` does not
        # find " Jena"), in references and in allowed values without anyone seeing why, and
        # in a phone number or a note it is a typo: refused in every text field.
        if text != value:
            out.append((path, f"'{value}' has leading or trailing blanks"))
            # The other rules judge the text without its blanks: one stray blank is one
            # problem, not also a wrong date, pattern or allowed value.
            value = text
        if t == "date" and not parse_date(value):
            out.append((path, f"'{value}' is not a date (YYYY-MM-DD, or YYYY-MM / YYYY)"))
        elif t == "datetime" and parse_datetime(value) is None:
            out.append((path, f"'{value}' is not an ISO 8601 date-time with UTC offset"))
        elif t == "opening_hours":
            err = opening_hours_error(value)
            if err:
                out.append((path, err))
        elif t == "email" and not EMAIL_RE.match(value):
            out.append((path, f"'{value}' is not an e-mail address"))
        elif t == "url" and not URL_RE.match(value):
            out.append((path, f"'{value}' is not an http(s) URL"))
        if fdef.pattern and not re.search(fdef.pattern, value):
            out.append((path, f"'{value}' does not match the pattern {fdef.pattern}"))
    elif t in ("integer", "number"):
        ok = isinstance(value, int) if t == "integer" else isinstance(value, (int, float))
        if isinstance(value, bool) or not ok or (isinstance(value, float) and not math.isfinite(value)):
            return [
                (
                    path,
                    f"must be {'an integer' if t == 'integer' else 'a number'}, got "
                    f"{json.dumps(value, ensure_ascii=False)}",
                )
            ]
        if fdef.minimum is not None and value < fdef.minimum:
            out.append((path, f"{value} is below the minimum {fdef.minimum:g}"))
        if fdef.maximum is not None and value > fdef.maximum:
            out.append((path, f"{value} is above the maximum {fdef.maximum:g}"))
    elif t == "boolean":
        if not isinstance(value, bool):
            return [(path, f"must be true or false, got {json.dumps(value, ensure_ascii=False)}")]
    elif t == "array":
        if not isinstance(value, list):
            return [(path, f"must be a list, got {json.dumps(value, ensure_ascii=False)}")]
        assert fdef.items is not None
        first_at: dict[str, str] = {}
        for i, item in enumerate(value):
            item_path = f"{path}[{i}]"
            if item is None:
                out.append((item_path, "list items must not be null"))
                continue
            if isinstance(item, str) and item.strip() == "":
                out.append((item_path, "list items must not be empty"))
                continue
            out.extend(check_value(fdef.items, item, item_path))
            # A list is a set of distinct things (districts served, municipalities covered); a
            # repeated item would be counted twice. Objects compare by content, not key order.
            key = json.dumps(item, sort_keys=True, ensure_ascii=False, default=str)
            if key in first_at:
                shown = f"'{item}'" if isinstance(item, str) else json.dumps(item, ensure_ascii=False)
                out.append((item_path, f"{shown} is listed twice (also as {first_at[key]})"))
            else:
                first_at[key] = item_path
    elif t == "object":
        if not isinstance(value, dict):
            return [(path, f"must be an object, got {json.dumps(value, ensure_ascii=False)}")]
        out.extend(check_properties(fdef.fields, value, f"{path}."))
    if fdef.values is not None and t != "array" and value not in fdef.values:
        allowed = ", ".join(str(v) for v in fdef.values)
        out.append((path, f"'{value}' is not one of the allowed values: {allowed}"))
    return out


def with_defaults(layer: Layer, props: Mapping[str, Any]) -> dict[str, Any]:
    """The properties with each field's catalog default filled in where no value is given."""
    out = dict(props)
    for name, fdef in layer.fields.items():
        value = out.get(name)
        if fdef.default is not None and (value is None or (isinstance(value, str) and value.strip() == "")):
            out[name] = fdef.default
    return out


def check_properties(
    fields: Mapping[str, FieldDef],
    props: Mapping[str, Any],
    prefix: str = "",
    skip: Collection[str] = (),
) -> list[tuple[str, str]]:
    """Problems of the properties; fields in ``skip`` are not looked at (already reported)."""
    out: list[tuple[str, str]] = []
    for name in props:
        if name not in fields and name not in skip:
            out.append((f"{prefix}{shown(name)}", "is not declared in the layer catalog"))
    for name, fdef in fields.items():
        if name in skip:
            continue
        value = props.get(name)
        if value is None or (isinstance(value, str) and value.strip() == ""):
            if fdef.required:
                out.append((f"{prefix}{name}", "is required but missing or empty"))
            continue
        out.extend(check_value(fdef, value, f"{prefix}{name}"))
    return out


def _coords_outside_lonlat(geom: shapely.Geometry) -> bool:
    minx, miny, maxx, maxy = geom.bounds
    return bool(minx < -180 or maxx > 180 or miny < -90 or maxy > 90)


def _numeric_positions(coordinates: Any) -> bool:
    """Whether every leaf of a GeoJSON ``coordinates`` array is a number (none is a text)."""
    stack = [coordinates]
    while stack:
        item = stack.pop()
        if isinstance(item, list | tuple):
            stack.extend(item)
        elif item is not None and not _is_number(item):
            return False
    return True


def check_geometry(layer: Layer, raw: Any) -> tuple[shapely.Geometry | None, list[str]]:
    """Parse a GeoJSON geometry and say what is wrong with it for this layer."""
    if raw is None:
        if layer.geometry_required:
            return None, ["geometry is required for this layer but is null"]
        return None, []
    if not isinstance(raw, dict) or "type" not in raw:
        return None, ["geometry is not a GeoJSON geometry object"]
    if raw["type"] not in layer.geometry_types:
        return None, [
            f"geometry type {raw['type']} is not allowed here (allowed: {', '.join(layer.geometry_types)})"
        ]
    if not _numeric_positions(raw.get("coordinates")):
        # shapely would read "11.5" as 11.5; GeoJSON positions are numbers (RFC 7946, 3.1.1).
        return None, ["geometry has a coordinate that is not a number"]
    try:
        geom = shape(raw)
    except Exception as exc:  # shapely raises several types for malformed coordinates
        return None, [f"geometry cannot be read: {exc}"]
    if geom.is_empty:
        return None, ["geometry is empty (use null for an unknown location)"]
    if not np.isfinite(shapely.get_coordinates(geom)).all():
        # JSON parsers take NaN and Infinity; neither is a place, and PostGIS refuses them.
        return None, ["geometry has a coordinate that is not a finite number (NaN or Infinity)"]
    if _coords_outside_lonlat(geom):
        return geom, [
            "coordinates are outside the lon/lat range (-180..180, -90..90): the file must be "
            f"in EPSG:4326 / CRS84, bounds are {tuple(round(b, 1) for b in geom.bounds)}"
        ]
    if not geom.is_valid:
        return geom, [f"geometry is invalid: {explain_validity(geom)}"]
    return geom, []


def feature_label(feature: Any, index: int) -> str:
    fid = None
    if isinstance(feature, dict):
        fid = feature.get("id")
        props = feature.get("properties")
        if fid is None and isinstance(props, dict):
            fid = props.get("id")
    if fid is None or isinstance(fid, dict | list) or value_problem(fid) is not None:
        return f"#{index + 1}"
    return f"'{shown(str(fid))}' (#{index + 1})"


def collection_crs_problem(collection: Mapping[str, Any]) -> str | None:
    crs = collection.get("crs")
    if crs is None:
        return None
    name = crs.get("properties", {}).get("name") if isinstance(crs, dict) else None
    if name in LONLAT_CRS_NAMES:
        return None
    return (
        f"declares the CRS {name!r}; features must be in EPSG:4326 / CRS84 lon/lat "
        "(reproject the file, e.g. with ogr2ogr -t_srs EPSG:4326, or import it with its CRS)"
    )


def validate_features(
    layer: Layer, features: Iterable[Any], file: str, limits: Limits = DEFAULT_LIMITS
) -> tuple[list[tuple[dict[str, Any], shapely.Geometry | None]], list[Problem]]:
    """Validate GeoJSON features; returns the parsed (properties, geometry) pairs and problems."""
    good: list[tuple[dict[str, Any], shapely.Geometry | None]] = []
    problems: list[Problem] = []
    seen: dict[str, str] = {}
    for index, feature in enumerate(features):
        label = feature_label(feature, index)
        if not isinstance(feature, dict) or feature.get("type") != "Feature":
            problems.append(Problem(file, label, None, "is not a GeoJSON Feature"))
            continue
        props = feature.get("properties")
        if not isinstance(props, dict):
            problems.append(Problem(file, label, None, "has no properties object"))
            continue
        props = with_defaults(layer, props)
        raw = feature.get("geometry")
        beyond = property_bounds(props, limits)
        top_bound = value_problem(feature.get("id"), limits, "id")
        geometry_beyond = geometry_bounds(raw, limits)
        for fpath, message in [*beyond.values(), *([top_bound] if top_bound else []), *geometry_beyond]:
            problems.append(Problem(file, label, fpath, message))
        # Such values are not looked at again, nor passed on (to the reference check).
        props = {k: v for k, v in props.items() if k not in beyond}
        top_id = feature.get("id")
        if (
            top_bound is None
            and top_id is not None
            and props.get("id") is not None
            and str(top_id) != props["id"]
        ):
            problems.append(
                Problem(
                    file,
                    label,
                    "id",
                    f"feature id '{shown(str(top_id))}' differs from properties.id "
                    f"'{shown(str(props['id']))}'",
                )
            )
        for fpath, message in check_properties(layer.fields, props, skip=beyond):
            problems.append(Problem(file, label, fpath, message))
        fid = props.get("id")
        if isinstance(fid, str):
            if fid in seen:
                problems.append(
                    Problem(file, label, "id", f"'{fid}' is used twice (also by feature {seen[fid]})")
                )
            seen[fid] = label
        geom = None
        if not geometry_beyond:
            geom, gproblems = check_geometry(layer, raw)
            problems.extend(Problem(file, label, "geometry", m) for m in gproblems)
        # A blank value counts as missing (check_properties); it is stored as missing too, not as
        # "" in a number column (where PostgreSQL would refuse it and SQLite keep a text).
        good.append(
            ({k: None if isinstance(v, str) and not v.strip() else v for k, v in props.items()}, geom)
        )
    return good, problems


def load_geojson(path: Path) -> dict[str, Any]:
    """Read a GeoJSON FeatureCollection; a broken file raises ValidationError naming it."""
    try:
        with path.open("rb") as fh:
            data = json.load(fh)
    except FileNotFoundError:
        raise ValidationError([Problem(str(path), None, None, "file not found")]) from None
    except RecursionError:
        raise ValidationError(
            [
                Problem(
                    str(path),
                    None,
                    None,
                    "is nested too deeply to be read (GeoJSON needs 6 levels of lists and objects)",
                )
            ]
        ) from None
    except (OSError, ValueError) as exc:
        raise ValidationError([Problem(str(path), None, None, f"is not valid JSON: {exc}")]) from exc
    if not isinstance(data, dict) or data.get("type") != "FeatureCollection":
        raise ValidationError([Problem(str(path), None, None, "is not a GeoJSON FeatureCollection")])
    if not isinstance(data.get("features"), list):
        raise ValidationError([Problem(str(path), None, None, "has no 'features' list")])
    return data


def too_many_features(count: int, limits: Limits = DEFAULT_LIMITS) -> str | None:
    if count <= limits.features:
        return None
    return (
        f"has {count:,} features, at most {limits.features:,} are allowed in one write "
        "(setting max_features_per_write)"
    )


def validate_file(
    layer: Layer, path: Path, limits: Limits = DEFAULT_LIMITS
) -> list[tuple[dict[str, Any], shapely.Geometry | None]]:
    """Load and validate one GeoJSON file for ``layer``; raise ValidationError with all problems."""
    data = load_geojson(path)
    crs_problem = collection_crs_problem(data)
    if crs_problem:
        raise ValidationError([Problem(str(path), None, "crs", crs_problem)])
    too_many = too_many_features(len(data["features"]), limits)
    if too_many:
        raise ValidationError([Problem(str(path), None, None, too_many)])
    good, problems = validate_features(layer, data["features"], str(path), limits)
    if problems:
        raise ValidationError(problems)
    return good


def check_references(
    layers: Iterable[Layer],
    data: Mapping[str, Sequence[tuple[dict[str, Any], shapely.Geometry | None]]],
    files: Mapping[str, str],
) -> list[Problem]:
    """Fields that name features of another layer (``references``) must name existing ones."""
    ids = {lid: {props.get("id") for props, _ in feats} for lid, feats in data.items()}
    problems: list[Problem] = []
    for layer in layers:
        for index, (props, _) in enumerate(data.get(layer.id, ())):
            label = feature_label({"properties": props}, index)
            for name, fdef in layer.fields.items():
                target = fdef.references or (fdef.items.references if fdef.items else None)
                value = props.get(name)
                if target is None or value is None or target not in ids:
                    continue
                for v in value if isinstance(value, list) else [value]:
                    if v not in ids[target]:
                        problems.append(
                            Problem(
                                files.get(layer.id, layer.id),
                                label,
                                name,
                                f"'{v}' is not a feature id of layer '{target}'",
                            )
                        )
    return problems
