"""Parsing and checking of query parameters: pure functions, errors that say what and where."""

from __future__ import annotations

import datetime as dt
import functools
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..catalog.layers import FieldDef, Layer
from ..ogcapi import cql2
from ..ogcapi import crs as crs_module  # a module import: crs.py imports this module for bad()
from ..store.base import BBox, Filter, Query, SortKey
from ..store.expressions import And, Expression
from .errors import ApiError

FORMATS = ("json", "html")
# Parameters of /items besides the layer's own queryable fields.
# ``lang`` chooses the language of the HTML representation; the JSON ignores it.
ITEMS_PARAMS = frozenset(
    {
        "f",
        "lang",
        "bbox",
        "bbox-crs",
        "crs",
        "limit",
        "offset",
        "sortby",
        "properties",
        "skipGeometry",
        "datetime",
        "after",
        "filter",
        "filter-lang",
        "filter-crs",
    }
)
# SQLite and PostgreSQL integers are signed 64-bit; larger numbers cannot match anything.
INT64_MAX = 2**63 - 1
WHOLE_NUMBER = re.compile(r"-?[0-9]+")
# A decimal number as a URL writes it: ASCII digits only. float() alone would also take
# " 5 ", "1_0", "١" (Arabic-Indic one), "nan" and "inf".
DECIMAL_NUMBER = re.compile(r"-?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][-+]?[0-9]+)?")
# The instants a stored value can hold (years 1..9999, UTC): a bound beyond them matches
# what the end of that range matches.
LATEST = dt.datetime.max.replace(tzinfo=dt.UTC)
EARLIEST = dt.datetime.min.replace(tzinfo=dt.UTC)


def strict_float(raw: str) -> float | None:
    """``raw`` as a number if it is written as one (ASCII, no blanks or underscores), else None."""
    return float(raw) if DECIMAL_NUMBER.fullmatch(raw) else None


def bad(parameter: str, message: str, key: str | None = None, **params: Any) -> ApiError:
    """A 400 naming the parameter; ``key`` (i18n.ERROR_TEXT) words it on pages."""
    return ApiError(
        400,
        "InvalidParameterValue",
        f"Parameter '{parameter}': {message}",
        key=key,
        params={"parameter": parameter, **params},
    )


def single(args: Mapping[str, Sequence[str]], name: str) -> str | None:
    """The one value of a parameter, or None; given more than once is an error."""
    values = args.get(name)
    if isinstance(values, str):
        values = [values]  # a plain mapping of names to values: each is one value
    if not values:
        return None
    if len(values) > 1:
        raise bad(name, "given more than once")
    return values[0]


def choice(
    args: Mapping[str, Sequence[str]], name: str, allowed: Sequence[str], default: str | None = None
) -> str | None:
    """A parameter from a closed list of values, or ``default`` when it is not given."""
    value = single(args, name)
    if value is None:
        return default
    if value not in allowed:
        raise bad(name, f"'{value}' is not one of {', '.join(allowed)}")
    return value


def check_known(args: Mapping[str, Sequence[str]], allowed: set[str] | frozenset[str]) -> None:
    unknown = sorted(k for k in args if k not in allowed)
    if unknown:
        raise ApiError(
            400,
            "InvalidParameter",
            f"Unknown query parameter(s): {', '.join(unknown)}. Allowed here: {', '.join(sorted(allowed))}",
            key="unknown_params",
            params={"names": ", ".join(unknown), "allowed": ", ".join(sorted(allowed))},
        )


def parse_format(args: Mapping[str, Sequence[str]]) -> str | None:
    value = single(args, "f")
    if value is None:
        return None
    if value not in FORMATS:
        raise bad("f", f"'{value}' is not a supported format (use {' or '.join(FORMATS)})")
    return value


def parse_int(name: str, raw: str | None, default: int, low: int, high: int | None) -> int:
    if raw is None:
        return default
    # Digits only: int() would also take " 3", "+3" and "1_0".
    if not WHOLE_NUMBER.fullmatch(raw):
        raise bad(name, f"'{raw}' is not a whole number")
    value = int(raw)
    upper_bound = high if high is not None else INT64_MAX
    if value < low or value > upper_bound:
        raise bad(name, f"{value} is out of range (allowed: {low}..{upper_bound})")
    return value


def parse_bbox(raw: str | None, crs: str | None) -> BBox | None:
    """``bbox`` in the CRS ``bbox-crs`` names (CRS84 by default) as a lon/lat box."""
    box_crs = crs_module.parse_crs("bbox-crs", crs)
    numbers = _bbox_numbers(raw, box_crs)
    return None if numbers is None else crs_module.bbox_to_crs84(numbers, box_crs)


def _bbox_numbers(raw: str | None, box_crs: crs_module.Crs) -> BBox | None:
    """The four numbers of ``bbox`` as given (in ``box_crs``'s axis order), checked."""
    if raw is None:
        return None
    parts = raw.split(",")
    if len(parts) not in (4, 6):
        first, second = box_crs.axes
        axes = f"min{first},min{second},max{first},max{second}"
        raise bad("bbox", f"needs 4 numbers ({axes} in {box_crs.code}), got {len(parts)}")
    parsed = [strict_float(p) for p in parts]
    numbers = [n for n in parsed if n is not None]
    if len(numbers) != len(parts):
        raise bad("bbox", f"'{raw}' contains something that is not a number")
    if not all(math.isfinite(n) for n in numbers):
        raise bad("bbox", "numbers must be finite")
    if len(numbers) == 6:  # minx, miny, minz, maxx, maxy, maxz: heights play no part here
        numbers = [numbers[0], numbers[1], numbers[3], numbers[4]]
    minx, miny, maxx, maxy = numbers
    return (minx, miny, maxx, maxy)


def _parse_instant(text: str) -> dt.datetime:
    value = dt.datetime.fromisoformat(text)
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def parse_datetime(raw: str | None) -> tuple[str | None, str | None] | None:
    """An instant or an interval (RFC 3339, ``..`` for open ends) as ISO UTC text bounds."""
    if raw is None:
        return None
    parts = raw.split("/")
    if len(parts) > 2:
        raise bad("datetime", f"'{raw}' is neither an instant nor an interval start/end")
    bounds: list[str | None] = []
    for part in parts:
        if part in ("", ".."):
            if len(parts) == 1:
                raise bad("datetime", "an instant cannot be open")
            bounds.append(None)
            continue
        try:
            local = _parse_instant(part)
            try:
                instant = local.astimezone(dt.UTC)
            except OverflowError:  # 9999-12-31T23:59:59-14:00 is valid but past year 9999 in UTC
                instant = LATEST if local.year == dt.MAXYEAR else EARLIEST
        except ValueError:
            raise bad(
                "datetime", f"'{part}' is not an RFC 3339 date or date-time within years 1..9999"
            ) from None
        bounds.append(instant.isoformat())
    if len(bounds) == 1:
        return bounds[0], bounds[0]
    start, end = bounds
    if start and end and start > end:
        raise bad("datetime", "the interval ends before it starts")
    return start, end


def parse_sortby(raw: str | None, layer: Layer) -> list[SortKey]:
    if raw is None:
        return [SortKey(name) for name in layer.default_sortby]
    keys = []
    for item in raw.split(","):
        item = item.strip()
        ascending = not item.startswith("-")
        name = item.lstrip("+-").strip()
        fdef = layer.field(name)
        if fdef is None or not fdef.sortable:
            sortable = ", ".join(n for n, f in layer.fields.items() if f.sortable)
            raise bad("sortby", f"'{name}' is not a sortable property of {layer.id} (sortable: {sortable})")
        keys.append(SortKey(name, ascending))
    return keys


def parse_properties(raw: str | None, layer: Layer) -> list[str] | None:
    if raw is None:
        return None
    names = [n.strip() for n in raw.split(",") if n.strip()]
    if not names:
        raise bad("properties", "names no property (leave the parameter out to get all)")
    for name in names:
        if name not in layer.fields:
            raise bad("properties", f"'{name}' is not a property of {layer.id}")
    return names


def parse_bool(name: str, raw: str | None) -> bool:
    if raw is None:
        return False
    if raw.lower() in ("true", "1"):
        return True
    if raw.lower() in ("false", "0"):
        return False
    raise bad(name, f"'{raw}' is not true or false")


def _typed_filter_value(fdef: FieldDef, name: str, raw: str) -> object:
    item = fdef.items if fdef.type == "array" and fdef.items is not None else fdef
    value: object = raw
    if item.type == "integer":
        if not WHOLE_NUMBER.fullmatch(raw):
            raise bad(name, f"'{raw}' is not a whole number")
        value = int(raw)
        if not -INT64_MAX - 1 <= value <= INT64_MAX:
            raise bad(name, f"{raw} is out of the 64-bit integer range")
    elif item.type == "number":
        number = strict_float(raw)
        if number is None or not math.isfinite(number):
            raise bad(name, f"'{raw}' is not a number")
        value = number
    elif item.type == "boolean":
        value = parse_bool(name, raw)
    if item.values is not None and value not in item.values:
        raise bad(name, f"'{raw}' is not one of {', '.join(str(v) for v in item.values)}")
    return value


_CURSOR = re.compile(r"[0-9]{1,19}\.[0-9]{1,19}\.[0-9]{1,19}\.[0-9a-f]{12}")


def parse_cursor(raw: str | None) -> str | None:
    """``after``: the cursor a "next" link carries (version.offset.row.query), or a 400."""
    if raw is None:
        return None
    if not _CURSOR.fullmatch(raw):
        raise bad("after", "is not a cursor of this service (it comes from a 'next' link; leave it out)")
    return raw


def parse_filter(args: Mapping[str, Sequence[str]], layer: Layer) -> Expression | None:
    """``filter`` in ``filter-lang`` (CQL2 text by default), its geometries in ``filter-crs``."""
    lang = choice(args, "filter-lang", cql2.LANGUAGES, cql2.TEXT)
    filter_crs = crs_module.parse_crs("filter-crs", single(args, "filter-crs"))
    raw = single(args, "filter")
    if raw is None or not raw.strip():  # an empty filter (a form sent empty) selects all
        return None
    to_crs84 = None
    if filter_crs != crs_module.CRS84:
        to_crs84 = functools.partial(crs_module.geometry_to_crs84, crs=filter_crs)
    try:
        return cql2.parse_filter(raw, lang or cql2.TEXT, layer, to_crs84)
    except cql2.FilterError as exc:
        raise bad("filter", str(exc), exc.key, **exc.params) from None


def parse_selection(args: Mapping[str, Sequence[str]], layer: Layer) -> tuple[BBox | None, Expression | None]:
    """``bbox`` (in ``bbox-crs``) and ``filter`` as the store's lon/lat box and expression.

    A box in UTM is not a lon/lat box: the store reads its index with the lon/lat box that
    covers it and tests the box's own outline as a spatial condition after that."""
    box_crs = crs_module.parse_crs("bbox-crs", single(args, "bbox-crs"))
    numbers = _bbox_numbers(single(args, "bbox"), box_crs)
    expression = parse_filter(args, layer)
    if numbers is None:
        return None, expression
    bbox = crs_module.bbox_to_crs84(numbers, box_crs)
    outline = crs_module.bbox_outline_crs84(numbers, box_crs)
    if outline is None:
        return bbox, expression
    exact = cql2.intersects(outline)
    return bbox, exact if expression is None else And((exact, expression))


@dataclass(frozen=True)
class ItemsRequest:
    query: Query
    properties: list[str] | None
    skip_geometry: bool
    fmt: str | None
    crs: crs_module.Crs


def parse_items(
    args: Mapping[str, Sequence[str]], layer: Layer, default_limit: int, max_limit: int
) -> ItemsRequest:
    """All parameters of ``/collections/{id}/items``; unknown ones are an error."""
    filterable = {n for n, f in layer.fields.items() if f.filterable}
    check_known(args, ITEMS_PARAMS | filterable)
    filters = []
    for name in sorted(filterable & set(args)):
        raw = single(args, name)
        assert raw is not None
        fdef = layer.fields[name]
        filters.append(Filter(name, _typed_filter_value(fdef, name, raw), contains=fdef.type == "array"))
    interval = parse_datetime(single(args, "datetime"))
    bbox, expression = parse_selection(args, layer)
    query = Query(
        bbox=bbox,
        filters=tuple(filters),
        sortby=tuple(parse_sortby(single(args, "sortby"), layer)),
        limit=parse_int("limit", single(args, "limit"), default_limit, 1, max_limit),
        offset=parse_int("offset", single(args, "offset"), 0, 0, None),
        interval=interval,
        after=parse_cursor(single(args, "after")),
        expression=expression,
    )
    return ItemsRequest(
        query=query,
        properties=parse_properties(single(args, "properties"), layer),
        skip_geometry=parse_bool("skipGeometry", single(args, "skipGeometry")),
        fmt=parse_format(args),
        crs=crs_module.parse_crs("crs", single(args, "crs")),
    )
