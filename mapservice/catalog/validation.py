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
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import shapely
from shapely.geometry import shape
from shapely.validation import explain_validity

from .layers import FieldDef, Layer

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
    fields: Mapping[str, FieldDef], props: Mapping[str, Any], prefix: str = ""
) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for name in props:
        if name not in fields:
            out.append((f"{prefix}{name}", "is not declared in the layer catalog"))
    for name, fdef in fields.items():
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
    try:
        geom = shape(raw)
    except Exception as exc:  # shapely raises several types for malformed coordinates
        return None, [f"geometry cannot be read: {exc}"]
    if geom.is_empty:
        return None, ["geometry is empty (use null for an unknown location)"]
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
    return f"'{fid}' (#{index + 1})" if fid is not None else f"#{index + 1}"


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
    layer: Layer, features: Iterable[Any], file: str
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
        top_id = feature.get("id")
        if top_id is not None and props.get("id") is not None and str(top_id) != props["id"]:
            problems.append(
                Problem(
                    file, label, "id", f"feature id '{top_id}' differs from properties.id '{props['id']}'"
                )
            )
        for fpath, message in check_properties(layer.fields, props):
            problems.append(Problem(file, label, fpath, message))
        fid = props.get("id")
        if isinstance(fid, str):
            if fid in seen:
                problems.append(
                    Problem(file, label, "id", f"'{fid}' is used twice (also by feature {seen[fid]})")
                )
            seen[fid] = label
        geom, gproblems = check_geometry(layer, feature.get("geometry"))
        problems.extend(Problem(file, label, "geometry", m) for m in gproblems)
        good.append((props, geom))
    return good, problems


def load_geojson(path: Path) -> dict[str, Any]:
    """Read a GeoJSON FeatureCollection; a broken file raises ValidationError naming it."""
    try:
        with path.open("rb") as fh:
            data = json.load(fh)
    except FileNotFoundError:
        raise ValidationError([Problem(str(path), None, None, "file not found")]) from None
    except (OSError, ValueError) as exc:
        raise ValidationError([Problem(str(path), None, None, f"is not valid JSON: {exc}")]) from exc
    if not isinstance(data, dict) or data.get("type") != "FeatureCollection":
        raise ValidationError([Problem(str(path), None, None, "is not a GeoJSON FeatureCollection")])
    if not isinstance(data.get("features"), list):
        raise ValidationError([Problem(str(path), None, None, "has no 'features' list")])
    return data


def validate_file(layer: Layer, path: Path) -> list[tuple[dict[str, Any], shapely.Geometry | None]]:
    """Load and validate one GeoJSON file for ``layer``; raise ValidationError with all problems."""
    data = load_geojson(path)
    crs_problem = collection_crs_problem(data)
    if crs_problem:
        raise ValidationError([Problem(str(path), None, "crs", crs_problem)])
    good, problems = validate_features(layer, data["features"], str(path))
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
