"""Explicit conversion of cell values (CSV text, shapefile/GeoPackage columns) to catalog types.

Every conversion either yields a value of the field's type or a problem message; nothing
raises. The converted value is then checked by :mod:`mapservice.catalog.validation` like any GeoJSON
property (pattern, allowed values, minimum/maximum, ...).
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from typing import Any

from ..catalog.layers import FieldDef
from ..catalog.validation import shown
from ..finder.geocode.readers import parse_number

TRUE_WORDS = frozenset({"true", "yes", "ja", "wahr", "1"})
FALSE_WORDS = frozenset({"false", "no", "nein", "falsch", "0"})
INTEGER_RE = re.compile(r"^[+-]?\d+$")
GERMAN_DATE_RE = re.compile(r"^(\d{1,2})\.(\d{1,2})\.(\d{4})$")
# GDAL writes date-time columns as "2026/01/15 00:00:00"; spreadsheets "2026-01-15 00:00:00".
MIDNIGHT_DATE_RE = re.compile(r"^(\d{4})[-/](\d{2})[-/](\d{2})[ T]00:00(:00)?$")
TEXT_TYPES = frozenset({"string", "date", "datetime", "opening_hours", "email", "url"})


class Invalid(Exception):
    """A value that cannot be converted; the message says why (without the field name)."""


def _json(text: str, kind: type, what: str) -> Any:
    try:
        value = json.loads(text)
    except RecursionError:
        raise Invalid(f"is JSON nested too deeply to be read ({what})") from None
    except ValueError as exc:
        raise Invalid(f"{shown(text)!r} is not valid JSON ({what}): {exc.args[0]}") from None
    if not isinstance(value, kind):
        raise Invalid(f"{text!r} is not a JSON {what}")
    return value


def _integer(text: str) -> int:
    try:
        return int(text)
    except ValueError:  # Python refuses to convert more than 4,300 digits
        raise Invalid(
            f"an integer of {len(text.lstrip('+-')):,} digits is outside the 64-bit integer range"
        ) from None


def from_text(fdef: FieldDef, text: str) -> Any:
    """A CSV cell as the field's type; empty text is None. Raises Invalid."""
    s = text.strip()
    if s == "":
        return None
    t = fdef.type
    if t in TEXT_TYPES:
        if t == "date":
            german = GERMAN_DATE_RE.match(s)
            if german:  # 21.03.2024, as German spreadsheets write it
                day, month, year = (int(g) for g in german.groups())
                try:
                    return dt.date(year, month, day).isoformat()
                except ValueError:
                    raise Invalid(f"'{shown(s)}' is not a date") from None
            midnight = MIDNIGHT_DATE_RE.match(s)
            if midnight:
                return "-".join(midnight.groups()[:3])
        return s
    if t == "integer":
        if not INTEGER_RE.match(s):
            raise Invalid(f"'{shown(s)}' is not an integer")
        return _integer(s)
    if t == "number":
        if INTEGER_RE.match(s):
            return _integer(s)
        try:
            return parse_number(s)
        except ValueError:
            raise Invalid(f"'{shown(s)}' is not a number") from None
    if t == "boolean":
        word = s.lower()
        if word in TRUE_WORDS:
            return True
        if word in FALSE_WORDS:
            return False
        raise Invalid(f"'{shown(s)}' is not a yes/no value (true/false, ja/nein, yes/no, 1/0)")
    if t == "array":
        assert fdef.items is not None
        if s.startswith("["):
            items = _json(s, list, "list")
            return [from_value(fdef.items, item) if isinstance(item, str) else item for item in items]
        if fdef.items.type == "object":
            raise Invalid(f"'{shown(s)}' is not a JSON list of objects")
        out = []
        for part in s.split("|"):
            if part.strip() == "":
                raise Invalid(f"'{shown(s)}' has an empty list item (items are separated by |)")
            out.append(from_text(fdef.items, part))
        return out
    if t == "object":
        return _json(s, dict, "object")
    raise Invalid(f"fields of type {t} cannot be read from text")  # pragma: no cover


def plain(value: Any) -> Any:
    """numpy / pandas scalars and arrays as plain Python values; NaN and NaT are None."""
    if value is None:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    module = type(value).__module__
    if module.startswith(("numpy", "pandas")):
        if hasattr(value, "tolist") and not hasattr(value, "to_pydatetime"):
            value = value.tolist()  # numpy scalar or array
            if isinstance(value, list):
                return [plain(v) for v in value]
            return plain(value)
        if hasattr(value, "to_pydatetime"):  # pandas Timestamp / NaT
            import pandas as pd

            return None if pd.isna(value) else value.to_pydatetime()
    return value


def from_value(fdef: FieldDef, value: Any) -> Any:
    """A typed column value (GeoPackage, shapefile) as the field's type. Raises Invalid."""
    value = plain(value)
    if value is None:
        return None
    if isinstance(value, str):
        return from_text(fdef, value)
    t = fdef.type
    if isinstance(value, dt.datetime):
        if t == "date":
            return value.date().isoformat()
        if t == "datetime" and value.tzinfo is not None:
            return value.isoformat()
        if t == "datetime":
            raise Invalid(f"'{value.isoformat()}' has no UTC offset")
        return value
    if isinstance(value, dt.date):
        return value.isoformat() if t in ("date", "string") else value
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and t == "boolean" and value in (0, 1):
        return bool(value)  # shapefiles have no boolean type
    if isinstance(value, int) and t == "string":
        return str(value)  # numeric ids and postcodes in a dBase column
    if isinstance(value, float) and t == "integer" and value.is_integer():
        return int(value)
    if isinstance(value, list) and t == "array" and fdef.items is not None:
        items = fdef.items
        return [from_value(items, v) if items.type != "object" else v for v in value]
    return value
