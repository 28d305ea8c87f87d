"""CQL2 filters (OGC API – Features Part 3): ``filter`` checked against a layer's queryables.

CQL2 text is parsed by pygeofilter (its LALR grammar). CQL2 JSON is read by json and walked
here: it is already a syntax tree, and pygeofilter 0.4's JSON reader follows an older draft
(``between`` takes a list, ``bbox`` comes out with its axes swapped). Both become the store's
expression nodes (store/expressions.py), after every property, operator and value has been
checked, so that a store only translates them to SQL with bound parameters.

Met: basic CQL2 (comparisons, IS NULL, AND/OR/NOT), the advanced comparison operators (LIKE,
BETWEEN, IN), property-to-property comparisons and all eight spatial functions on the
feature's geometry against a WKT, GeoJSON or BBOX literal. Not met: functions, arithmetic,
CASEI/ACCENTI, temporal and array operators; each gets a 400 that names it.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import math
import re
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import shapely
import shapely.geometry

from ..catalog.layers import Layer
from ..store import expressions as ex

TEXT = "cql2-text"
JSON = "cql2-json"
LANGUAGES = (TEXT, JSON)

# Limits that keep one request cheap; every filter a person writes fits far inside them.
MAX_CHARS = 16_000
MAX_DEPTH = 20  # nested parentheses or JSON objects
MAX_NODES = 200  # predicates and AND/OR/NOT together
MAX_LIST = 500  # values of one IN list
MAX_POINTS = 10_000  # vertices of one geometry literal
INT64 = 2**63

TEXT_KINDS = frozenset({"string", "email", "url", "opening_hours"})
NUMBER_KINDS = frozenset({"integer", "number"})
TIME_KINDS = frozenset({"date", "datetime"})
REDUCED_DATE = re.compile(r"[0-9]{4}(-[0-9]{2}(-[0-9]{2})?)?")

_COMPARISON_NAMES = {
    "Equal": "=",
    "NotEqual": "<>",
    "LessThan": "<",
    "LessEqual": "<=",
    "GreaterThan": ">",
    "GreaterEqual": ">=",
}
_SPATIAL_NAMES = {
    "GeometryIntersects": "intersects",
    "GeometryDisjoint": "disjoint",
    "GeometryContains": "contains",
    "GeometryWithin": "within",
    "GeometryTouches": "touches",
    "GeometryCrosses": "crosses",
    "GeometryOverlaps": "overlaps",
    "GeometryEquals": "equals",
}
# A literal first and the geometry second: the same relation seen from the other side.
_CONVERSE = {"contains": "within", "within": "contains"}


class FilterError(ValueError):
    """A filter that cannot be used; the message says where and what (for the API), ``key``
    and ``params`` the same for pages in either language (i18n.ERROR_TEXT)."""

    def __init__(self, message: str, key: str = "filter_invalid", **params: object) -> None:
        super().__init__(message)
        self.key = key
        self.params = params


GeometryTransform = Callable[[shapely.Geometry], shapely.Geometry]


def parse_filter(
    raw: str, lang: str, layer: Layer, to_crs84: GeometryTransform | None = None
) -> ex.Expression:
    """``filter`` in ``lang`` (cql2-text or cql2-json) as a checked store expression.

    ``to_crs84`` brings the geometry literals from ``filter-crs`` to lon/lat (None: CRS84).
    """
    if to_crs84 is not None:  # a transform is not part of the key: parsed each time
        return _parse(raw, lang, layer, to_crs84)
    key = (raw, lang, id(layer))
    with _PARSED_LOCK:
        cached = _PARSED.get(key)
    if cached is not None and cached[0] is layer:  # this catalog's layer, not a later one's
        return cached[1]
    expression = _parse(raw, lang, layer)
    with _PARSED_LOCK:
        if len(_PARSED) >= PARSED_KEPT:
            _PARSED.pop(next(iter(_PARSED)))
        _PARSED[key] = (layer, expression)
    return expression


# Filters parsed lately, checked already: a map or a GIS client sends the same one again and
# again, and parsing costs a tenth of what the rest of a small page costs.
PARSED_KEPT = 256
_PARSED: dict[tuple[str, str, int], tuple[Layer, ex.Expression]] = {}
_PARSED_LOCK = threading.Lock()


def _parse(raw: str, lang: str, layer: Layer, to_crs84: GeometryTransform | None = None) -> ex.Expression:
    if len(raw) > MAX_CHARS:
        raise FilterError(
            f"is {len(raw)} characters long; at most {MAX_CHARS} are accepted",
            "filter_too_long",
            chars=len(raw),
            most=MAX_CHARS,
        )
    if "\x00" in raw:
        position = raw.index(chr(0)) + 1
        raise FilterError(f"position {position}: contains a NUL character", "filter_nul", position=position)
    builder = _Builder(layer, to_crs84)
    if lang == JSON:
        return builder.from_json(_load_json(raw), "filter", 1)
    _check_text_depth(raw)
    return builder.from_node(_parse_text(raw), 1)


def _load_json(raw: str) -> Any:
    try:
        return json.loads(raw)
    except json.JSONDecodeError as exc:
        raise FilterError(
            f"position {exc.pos + 1}: not valid JSON ({exc.msg})", "filter_json", position=exc.pos + 1
        ) from None
    except RecursionError:
        raise FilterError(
            f"nests deeper than {MAX_DEPTH} levels", "filter_too_deep", most=MAX_DEPTH
        ) from None


def _check_text_depth(raw: str) -> None:
    """Nesting beyond the limit, found before the parser builds anything."""
    depth = 0
    quote: str | None = None
    for position, char in enumerate(raw, 1):
        if quote is not None:
            if char == quote:
                quote = None
        elif char in "'\"":
            quote = char
        elif char == "(":
            depth += 1
            # Geometry literals bring up to three levels of their own (MULTIPOLYGON).
            if depth > MAX_DEPTH + 3:
                raise FilterError(
                    f"position {position}: nests deeper than {MAX_DEPTH} levels",
                    "filter_too_deep",
                    most=MAX_DEPTH,
                )
        elif char == ")":
            depth -= 1


# pygeofilter 0.4's grammar, with two terminals as CQL2 1.0 has them: a quote inside a text
# is written twice ('it''s'), and a property name may be one letter long.
_GRAMMAR_FIXES = {
    'SINGLE_QUOTED: "\'" /.*?/ "\'"': "SINGLE_QUOTED: /'(?:[^']|'')*'/",
    "attribute: /[a-zA-Z][a-zA-Z_:0-9.]+/": "attribute: /[a-zA-Z][a-zA-Z_:0-9.]*/",
}


@functools.cache
def _text_parser() -> Any:
    """pygeofilter's LALR parser of CQL2 text, built on first use (a tenth of a second: most
    workers never see a filter)."""
    import lark
    from pygeofilter.parsers.cql2_text import parser as cql2_text

    source = Path(cql2_text.__file__).with_name("grammar.lark")
    grammar = source.read_text(encoding="utf-8")
    for old, new in _GRAMMAR_FIXES.items():
        if old not in grammar:
            raise RuntimeError(f"pygeofilter's CQL2 grammar has changed: {old!r} is not in {source}")
        grammar = grammar.replace(old, new)

    class Transformer(cql2_text.CQLTransformer):  # type: ignore[misc]
        # Named after the terminal, as lark calls it.
        def SINGLE_QUOTED(self, token: str) -> str:
            return token[1:-1].replace("''", "'")

    return lark.Lark(
        grammar,
        parser="lalr",
        maybe_placeholders=False,
        transformer=Transformer(),
        import_paths=[str(source.parent.parent)],
        source_path=str(source),
    )


def _parse_text(raw: str) -> Any:
    import lark

    try:
        return _text_parser().parse(raw)
    except lark.exceptions.UnexpectedEOF:
        raise FilterError(_ENDS_EARLY, "filter_end") from None
    except lark.exceptions.UnexpectedInput as exc:
        column = getattr(exc, "column", None)
        token = getattr(exc, "token", None)
        if not isinstance(column, int) or column < 1 or getattr(token, "type", None) == "$END":
            raise FilterError(_ENDS_EARLY, "filter_end") from None
        excerpt = raw[column - 1 : column + 19]
        raise FilterError(
            f"position {column}: cannot read {excerpt!r} here (CQL2 text: a property, an "
            "operator such as = < LIKE IN BETWEEN IS NULL, a 'quoted text', a number or a "
            "geometry)",
            "filter_syntax",
            position=column,
            excerpt=excerpt,
        ) from None
    except lark.exceptions.VisitError as exc:
        raise FilterError(f"not valid CQL2 text: {exc.orig_exc}") from None
    except (ValueError, TypeError, RecursionError) as exc:
        raise FilterError(f"not valid CQL2 text: {exc}") from None


class _Builder:
    """Turns parsed CQL2 into checked store expressions, counting nodes against the limit."""

    def __init__(self, layer: Layer, to_crs84: GeometryTransform | None) -> None:
        self.layer = layer
        self.to_crs84 = to_crs84
        self.nodes = 0

    def _count(self, depth: int) -> None:
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise FilterError(f"has more than {MAX_NODES} conditions", "filter_too_many", most=MAX_NODES)
        if depth > MAX_DEPTH:
            raise FilterError(f"nests deeper than {MAX_DEPTH} levels", "filter_too_deep", most=MAX_DEPTH)

    # -- CQL2 text, as pygeofilter's syntax tree -----------------------------------------------

    def from_node(self, node: Any, depth: int) -> ex.Expression:
        from pygeofilter import ast

        self._count(depth)
        kind = type(node).__name__
        if isinstance(node, ast.And | ast.Or):
            # a AND b AND c is one level, however deep the parser's binary tree of it is.
            items = tuple(
                self.from_node(side, depth if type(side) is type(node) else depth + 1)
                for side in (node.lhs, node.rhs)
            )
            return _combine(ex.And if isinstance(node, ast.And) else ex.Or, items)
        if isinstance(node, ast.Not):
            return ex.Not(self.from_node(node.sub_node, depth + 1))
        if kind in _COMPARISON_NAMES:
            return self.compare(_COMPARISON_NAMES[kind], node.lhs, node.rhs, _text_of)
        if isinstance(node, ast.Like):
            where = f"{_shown(_text_of(node.lhs))} LIKE"
            prop = self.property(_text_of(node.lhs), where)
            return self.like(prop, node.pattern, node.not_, where)
        if isinstance(node, ast.In):
            where = f"{_shown(_text_of(node.lhs))} IN"
            prop = self.property(_text_of(node.lhs), where)
            return self.in_list(prop, [_text_of(v) for v in node.sub_nodes], node.not_, where)
        if isinstance(node, ast.Between):
            where = f"{_shown(_text_of(node.lhs))} BETWEEN"
            prop = self.property(_text_of(node.lhs), where)
            low, high = (self.value(prop, _text_of(v), where) for v in (node.low, node.high))
            self._orderable(prop, where)
            return ex.Between(prop, low, high, node.not_)
        if isinstance(node, ast.IsNull):
            lhs = _text_of(node.lhs)
            return ex.IsNull(self.property(lhs, f"{_shown(lhs)} IS NULL"), node.not_)
        if kind in _SPATIAL_NAMES:
            where = f"S_{_SPATIAL_NAMES[kind].upper()}"
            return self.spatial(_SPATIAL_NAMES[kind], _text_of(node.lhs), _text_of(node.rhs), where)
        raise _unsupported(node)

    # -- CQL2 JSON ---------------------------------------------------------------------------

    def from_json(self, node: Any, path: str, depth: int) -> ex.Expression:
        self._count(depth)
        if not isinstance(node, dict) or "op" not in node:
            raise FilterError(f"{path}: expected an object with 'op' and 'args', got {_short(node)}")
        op, args = node.get("op"), node.get("args")
        if not isinstance(op, str) or not isinstance(args, list):
            raise FilterError(f"{path}: 'op' must be a text and 'args' a list")
        unknown = sorted(set(node) - {"op", "args"})
        if unknown:
            raise FilterError(f"{path}: unknown member(s) {', '.join(unknown)}")
        where = f"{path} ({op})"
        lowered = op.lower()
        if lowered in ("and", "or"):
            if len(args) < 2:
                raise FilterError(f"{where}: needs at least two conditions")
            items = tuple(self.from_json(a, f"{path}.args[{i}]", depth + 1) for i, a in enumerate(args))
            return _combine(ex.And if lowered == "and" else ex.Or, items)
        if lowered == "not":
            _arity(args, 1, where)
            return ex.Not(self.from_json(args[0], f"{path}.args[0]", depth + 1))
        if op in ex.COMPARISONS:
            _arity(args, 2, where)
            return self.compare(op, args[0], args[1], lambda v: _json_operand(v, where), f"{path}: ")
        if lowered == "like":
            _arity(args, 2, where)
            prop = self.property(_json_operand(args[0], where), where)
            return self.like(prop, _json_operand(args[1], where), False, where)
        if lowered == "in":
            _arity(args, 2, where)
            prop = self.property(_json_operand(args[0], where), where)
            if not isinstance(args[1], list):
                raise FilterError(f"{where}: the second argument must be a list of values")
            return self.in_list(prop, [_json_operand(v, where) for v in args[1]], False, where)
        if lowered == "between":
            _arity(args, 3, where)
            prop = self.property(_json_operand(args[0], where), where)
            low, high = (self.value(prop, _json_operand(v, where), where) for v in args[1:])
            self._orderable(prop, where)
            return ex.Between(prop, low, high)
        if lowered == "isnull":
            _arity(args, 1, where)
            return ex.IsNull(self.property(_json_operand(args[0], where), where))
        if lowered.startswith("s_") and lowered[2:] in ex.SPATIAL:
            _arity(args, 2, where)
            left, right = (_json_operand(a, where) for a in args)
            return self.spatial(lowered[2:], left, right, where)
        raise FilterError(
            f"{where}: operator '{op}' is not supported ({_SUPPORTED})", "filter_operator", name=op
        )

    # -- the checks both forms share -----------------------------------------------------------

    def property(self, operand: Any, where: str) -> ex.Property:
        if not isinstance(operand, _PropertyName):
            raise FilterError(f"{where}: the first operand must be a property, got {_short(operand)}")
        name = str(operand)
        fdef = self.layer.field(name)
        if fdef is None or not fdef.filterable:
            if name == "geometry":
                raise FilterError(
                    f"{where}: the geometry is compared with the S_… functions", "filter_geometry_property"
                )
            names = ", ".join(n for n, f in self.layer.fields.items() if f.filterable and f.is_scalar)
            raise FilterError(
                f"{where}: '{name}' is not a queryable of {self.layer.id} (queryables: {names})",
                "filter_unknown_property",
                name=name,
                names=names,
            )
        if not fdef.is_scalar:
            raise FilterError(
                f"{where}: '{name}' is a list; CQL2 array functions are not supported, "
                f"use the parameter {name}=… to find features whose list holds a value",
                "filter_list_property",
                name=name,
            )
        return ex.Property(name, fdef.type)

    def value(self, prop: ex.Property, operand: Any, where: str) -> ex.Scalar:
        """A literal checked against the property's type, as the store compares it."""
        if isinstance(operand, _PropertyName | shapely.Geometry) or operand is None:
            raise FilterError(f"{where}: expected a value for '{prop.name}', got {_short(operand)}")
        kind = prop.kind
        if kind == "boolean":
            if isinstance(operand, bool):
                return operand
            raise FilterError(
                f"{where}: '{prop.name}' is true or false, not {_short(operand)}",
                "filter_boolean",
                name=prop.name,
            )
        if kind in NUMBER_KINDS:
            if isinstance(operand, bool) or not isinstance(operand, int | float):
                raise FilterError(
                    f"{where}: '{prop.name}' is a number; compare it with a number",
                    "filter_number",
                    name=prop.name,
                )
            if isinstance(operand, float) and not math.isfinite(operand):
                raise FilterError(f"{where}: {operand} is not a finite number")
            if isinstance(operand, int) and not -INT64 <= operand < INT64:
                raise FilterError(f"{where}: {operand} is out of the 64-bit integer range")
            return operand
        if kind in TIME_KINDS:
            return _time_text(prop, operand, where)
        if isinstance(operand, str):
            return operand
        raise FilterError(
            f"{where}: '{prop.name}' is a text; compare it with a 'quoted text'",
            "filter_text",
            name=prop.name,
        )

    def _orderable(self, prop: ex.Property, where: str) -> None:
        if prop.kind == "boolean":
            raise FilterError(
                f"{where}: '{prop.name}' is true or false and has no order (use = or <>)",
                "filter_no_order",
                name=prop.name,
            )

    def compare(
        self, op: str, left: Any, right: Any, read: Callable[[Any], Any], path: str = ""
    ) -> ex.Compare:
        first, second = read(left), read(right)
        where = f"{path}{_shown(first)} {op} {_shown(second)}"
        if not isinstance(first, _PropertyName) and isinstance(second, _PropertyName):
            first, second = second, first  # 10000 < population: the property first
            op = {"<": ">", "<=": ">=", ">": "<", ">=": "<="}.get(op, op)
        prop = self.property(first, where)
        if op not in ("=", "<>"):
            self._orderable(prop, where)
        assert op in ex.COMPARISONS
        if isinstance(second, _PropertyName):
            other = self.property(second, where)
            if _family(other.kind) != _family(prop.kind):
                raise FilterError(
                    f"{where}: '{prop.name}' ({prop.kind}) and '{other.name}' ({other.kind}) "
                    "cannot be compared"
                )
            return ex.Compare(op, prop, other)  # type: ignore[arg-type]
        return ex.Compare(op, prop, self.value(prop, second, where))  # type: ignore[arg-type]

    def like(self, prop: ex.Property, pattern: Any, negated: bool, where: str) -> ex.Like:
        if prop.kind not in TEXT_KINDS | TIME_KINDS:
            raise FilterError(
                f"{where}: LIKE compares texts; '{prop.name}' is {prop.kind}",
                "filter_like_text",
                name=prop.name,
            )
        if not isinstance(pattern, str):
            raise FilterError(f"{where}: the pattern must be a 'quoted text', got {_short(pattern)}")
        return ex.Like(prop, pattern, negated)

    def in_list(self, prop: ex.Property, values: Sequence[Any], negated: bool, where: str) -> ex.In:
        if not values:
            raise FilterError(f"{where}: the list is empty")
        if len(values) > MAX_LIST:
            raise FilterError(
                f"{where}: the list has {len(values)} values; at most {MAX_LIST} are accepted",
                "filter_list_too_long",
                count=len(values),
                most=MAX_LIST,
            )
        return ex.In(prop, tuple(self.value(prop, v, where) for v in values), negated)

    def spatial(self, relation: str, left: Any, right: Any, where: str) -> ex.Spatial:
        if isinstance(left, shapely.Geometry) and isinstance(right, _PropertyName):
            left, right = right, left
            relation = _CONVERSE.get(relation, relation)
        if not (isinstance(left, _PropertyName) and str(left) == "geometry"):
            raise FilterError(
                f"{where}: the first operand must be the property geometry, got {_short(left)}",
                "filter_geometry",
            )
        if not isinstance(right, shapely.Geometry):
            raise FilterError(
                f"{where}: the second operand must be a geometry (WKT, GeoJSON or BBOX)",
                "filter_geometry",
            )
        try:
            geom = right if self.to_crs84 is None else self.to_crs84(right)
        except Exception as exc:  # pyproj's errors: no place the CRS describes
            raise FilterError(
                f"{where}: the geometry cannot be brought to lon/lat ({exc})",
                "filter_geometry",
            ) from None
        if geom.is_empty or not all(math.isfinite(b) for b in geom.bounds):
            raise FilterError(
                f"{where}: the geometry is empty or lies outside the coordinate system",
                "filter_geometry",
            )
        assert relation in ex.SPATIAL
        return _spatial(relation, geom)  # type: ignore[arg-type]


def intersects(geom: shapely.Geometry) -> ex.Spatial:
    """``S_INTERSECTS(geometry, geom)`` for a lon/lat geometry the service made itself."""
    return _spatial("intersects", geom)


def _spatial(relation: ex.Relation, geom: shapely.Geometry) -> ex.Spatial:
    wkb = shapely.to_wkb(geom, output_dimension=2, flavor="iso")
    minx, miny, maxx, maxy = (float(b) for b in geom.bounds)
    return ex.Spatial(relation, wkb, (minx, miny, maxx, maxy))


class _PropertyName(str):
    """A property reference, told apart from a text literal."""


_SUPPORTED = (
    "supported: = <> < <= > >=, LIKE, IN, BETWEEN, IS NULL, AND, OR, NOT, "
    "S_INTERSECTS, S_WITHIN, S_CONTAINS, S_DISJOINT, S_TOUCHES, S_CROSSES, S_OVERLAPS, S_EQUALS"
)


def _combine(cls: type[ex.And] | type[ex.Or], items: tuple[ex.Expression, ...]) -> ex.Expression:
    """One AND (OR) of all the conditions, however the parser grouped them."""
    flat: list[ex.Expression] = []
    for item in items:
        flat.extend(item.items if isinstance(item, cls) else (item,))
    return cls(tuple(flat))


def _family(kind: str) -> str:
    if kind in NUMBER_KINDS:
        return "number"
    if kind in TEXT_KINDS:
        return "text"
    return kind


def _arity(args: list[Any], count: int, where: str) -> None:
    if len(args) != count:
        raise FilterError(f"{where}: needs {count} argument(s), got {len(args)}")


def _time_text(prop: ex.Property, operand: Any, where: str) -> str:
    """A date or instant as the ISO text the stores keep (UTC for instants)."""
    if isinstance(operand, dt.datetime):
        if prop.kind != "datetime":
            raise FilterError(
                f"{where}: '{prop.name}' is a date; use DATE('YYYY-MM-DD')", "filter_date", name=prop.name
            )
        moment = operand if operand.tzinfo else operand.replace(tzinfo=dt.UTC)
        return moment.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")
    if isinstance(operand, dt.date):
        if prop.kind != "date":
            raise FilterError(
                f"{where}: '{prop.name}' is a date-time; use TIMESTAMP('…Z')", "filter_date", name=prop.name
            )
        return operand.isoformat()
    if isinstance(operand, str) and prop.kind == "date" and REDUCED_DATE.fullmatch(operand):
        return operand
    raise FilterError(
        f"{where}: '{prop.name}' is a {prop.kind}; compare it with DATE('YYYY-MM-DD')",
        "filter_date",
        name=prop.name,
    )


def _text_of(node: Any) -> Any:
    """An operand of pygeofilter's tree as a property name, a value or a shapely geometry."""
    from pygeofilter import ast, values

    if isinstance(node, ast.Attribute):
        return _PropertyName(node.name)
    if isinstance(node, values.Geometry):
        return _geometry(node.geometry, "the geometry")
    if isinstance(node, values.Envelope):
        return shapely.box(node.x1, node.y1, node.x2, node.y2)
    if isinstance(node, ast.Function) and node.name.lower() == "bbox":
        return _bbox(list(node.arguments), "BBOX")
    if isinstance(node, ast.Node):
        raise _unsupported(node)
    return node


def _json_operand(node: Any, where: str) -> Any:
    if isinstance(node, dict):
        if set(node) == {"property"} and isinstance(node["property"], str):
            return _PropertyName(node["property"])
        if set(node) == {"date"} and isinstance(node["date"], str):
            try:
                return dt.date.fromisoformat(node["date"])
            except ValueError:
                raise FilterError(f"{where}: '{node['date']}' is not a date (YYYY-MM-DD)") from None
        if set(node) == {"timestamp"} and isinstance(node["timestamp"], str):
            try:
                return dt.datetime.fromisoformat(node["timestamp"])
            except ValueError:
                raise FilterError(f"{where}: '{node['timestamp']}' is not an RFC 3339 timestamp") from None
        if set(node) == {"bbox"} and isinstance(node["bbox"], list):
            return _bbox(node["bbox"], where)
        if ("type" in node and "coordinates" in node) or node.get("type") == "GeometryCollection":
            return _geometry(node, where)
        if "op" in node:
            raise FilterError(f"{where}: functions and nested operators are not supported as operands")
        raise FilterError(f"{where}: cannot read the operand {_short(node)}")
    if isinstance(node, list):
        raise FilterError(f"{where}: a list is only an operand of IN")
    return node


def _bbox(numbers: list[Any], where: str) -> shapely.Geometry:
    if len(numbers) not in (4, 6) or not all(
        isinstance(n, int | float) and not isinstance(n, bool) and math.isfinite(n) for n in numbers
    ):
        raise FilterError(f"{where}: a BBOX has 4 (or 6) finite numbers", "filter_geometry")
    if len(numbers) == 6:
        numbers = [numbers[0], numbers[1], numbers[3], numbers[4]]
    minx, miny, maxx, maxy = (float(n) for n in numbers)
    if minx > maxx or miny > maxy:
        raise FilterError(
            f"{where}: a BBOX is minx, miny, maxx, maxy (its minimum is greater than its maximum)"
        )
    return shapely.box(minx, miny, maxx, maxy)


def _geometry(geojson: Any, where: str) -> shapely.Geometry:
    try:
        geom = shapely.geometry.shape(geojson)
    except (ValueError, TypeError, KeyError, AttributeError, IndexError) as exc:
        raise FilterError(f"{where}: not a valid geometry ({exc})", "filter_geometry") from None
    except Exception as exc:  # shapely.errors.GEOSException and relatives
        raise FilterError(f"{where}: not a valid geometry ({exc})", "filter_geometry") from None
    points = shapely.get_num_coordinates(geom)
    if points > MAX_POINTS:
        raise FilterError(
            f"{where}: the geometry has {points} points; at most {MAX_POINTS} are accepted",
            "filter_geometry_points",
            count=points,
            most=MAX_POINTS,
        )
    return geom


_ENDS_EARLY = "ends too early (an operand or a closing parenthesis is missing)"


def _unsupported(node: Any) -> FilterError:
    name = getattr(node, "name", None)
    if isinstance(name, str) and type(node).__name__ == "Function":
        function = f"{name.upper()}()"
        return FilterError(
            f"the function {function} is not supported here ({_SUPPORTED})", "filter_function", name=function
        )
    return FilterError(
        f"the operation {type(node).__name__} is not supported here ({_SUPPORTED})", "filter_unsupported"
    )


def _shown(operand: Any) -> str:
    """An operand as the filter would write it, for messages."""
    if isinstance(operand, _PropertyName):
        return str(operand)
    if isinstance(operand, str):
        return "'" + (operand if len(operand) <= 30 else operand[:29] + "…") + "'"
    if isinstance(operand, shapely.Geometry):
        return str(operand.geom_type).upper()
    return _short(operand)


def _short(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= 40 else text[:37] + "…"
