"""Property test of the write API (issue 15): features generated from each layer's catalog
definition, valid ones and ones made hostile in one place, are POSTed, PUT and PATCHed.

For every body: never a 5xx; a body known to be valid is stored (2xx, and a GET shows what was
sent); a body known to be invalid is refused (4xx); and a refused write leaves the collection
exactly as it was (numberMatched, the target feature's ETag and body). Some hostile bodies
have no fixed answer (a Z coordinate, an unclosed ring, text with control characters in a
free-text field): they may be stored or refused, but a stored one must read back.

Runs on both stores, with the Flask test client against a real store; the examples are fixed
(``derandomize``), so a failure is the same on every run. Everything written is invented test
data in new stores.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import math
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import shapely
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st

from conftest import StoreConfig
from mapservice import create_app
from mapservice.catalog.layers import FieldDef, Layer, load_catalog
from mapservice.catalog.validation import DEFAULT_LIMITS
from mapservice.cli import main
from mapservice.store.base import Query

REPO = Path(__file__).resolve().parents[2]
CATALOG = load_catalog(REPO / "layers")
LAYERS = [layer.id for layer in CATALOG]
GEOJSON = "application/geo+json"
# The defaults of the settings max_text_length and max_vertices (the app here has them).
MAX_TEXT = DEFAULT_LIMITS.text
MAX_VERTICES = DEFAULT_LIMITS.vertices
# Random examples per layer and store, besides the fixed ones; sized so that both stores
# together stay within about a minute.
EXAMPLES = 20
METHODS = ["POST", "PUT", "PATCH"]

# Valid text chosen to be awkward for outputs; all are accepted in a free-text field.
AWKWARD_TEXT = [
    "Zeile 1\r\nZeile 2",
    "a\nb",
    "</script><script>alert(1)</script>",
    '=HYPERLINK("http://example.invalid/","Klick")',
    "\u202eTestname (RTL override)",
    "Prävention – العربية – עברית",
    "a\u2028b\u2029c",
    "Test\x07\x1b[31m rot",
    "\ufeffmit BOM",
    "😀" * 50,
    "x" * MAX_TEXT,
]
# Text that no field may hold.
UNSTORABLE_TEXT = ["\ud800", "a\udfffb", "Test\x00Name", "x" * (MAX_TEXT + 1)]
# JSON number literals that Python's json reads but no field may hold.
RAW_NUMBERS = ["1e309", "-1e309", "NaN", "Infinity", "-Infinity"]


class Raw:
    """A JSON literal written as it is (1e309, NaN, deep brackets), not by json.dumps."""

    def __init__(self, text: str) -> None:
        self.text = text


_RAW_MARK = "\x01RAW\x01"


def dumps(doc: Any) -> str:
    literals: list[str] = []

    def mark(value: Any) -> Any:
        if isinstance(value, Raw):
            literals.append(value.text)
            return f"{_RAW_MARK}{len(literals) - 1}{_RAW_MARK}"
        if isinstance(value, dict):
            return {k: mark(v) for k, v in value.items()}
        if isinstance(value, list):
            return [mark(v) for v in value]
        return value

    # ensure_ascii keeps lone surrogates writable (as \ud800); the literals are spliced in.
    text = json.dumps(mark(doc), ensure_ascii=True)
    return re.sub(r'"\\u0001RAW\\u0001(\d+)\\u0001RAW\\u0001"', lambda m: literals[int(m[1])], text)


# -- valid values from the catalog --------------------------------------------------------------

FREE_TEXT = st.text(
    alphabet=st.characters(exclude_categories=("Cs",), exclude_characters="\x00"), min_size=1, max_size=40
).filter(lambda s: s == s.strip() and bool(s))
OPENING_HOURS = [
    "Mo-Fr 08:00-16:00",
    "Mo 10:00-12:00; Th 15:00-17:00",
    "24/7",
    "Tu,Th 09:00-12:00,13:00-15:30",
]


def plain(text: str) -> bool:
    return text == text.strip() and bool(text)


def value_strategy(fdef: FieldDef, ids: dict[str, list[str]]) -> st.SearchStrategy[Any]:
    """Values the catalog accepts for the field."""
    t = fdef.type
    if fdef.values is not None and t != "array":
        return st.sampled_from(list(fdef.values))
    target = fdef.references
    if target is not None:
        return st.sampled_from(ids[target]) if ids[target] else st.nothing()
    if t == "string":
        if fdef.pattern:
            return st.from_regex(fdef.pattern, fullmatch=True).filter(plain)
        return st.one_of(FREE_TEXT, st.sampled_from(AWKWARD_TEXT))
    if t == "date":
        return st.dates().map(lambda d: d.isoformat()).filter(lambda s: len(s) == 10)
    if t == "datetime":
        zones = st.sampled_from([dt.timezone(dt.timedelta(hours=h)) for h in (-14, -5, 0, 1, 2, 14)])
        return st.datetimes(timezones=zones).map(lambda d: d.isoformat())
    if t == "opening_hours":
        return st.sampled_from(OPENING_HOURS)
    if t == "email":
        return st.from_regex(r"[a-z0-9.]{1,10}@example\.invalid", fullmatch=True).filter(
            lambda s: not s.startswith(".")
        )
    if t == "url":
        return st.from_regex(r"https://example\.invalid/[a-z0-9/]{0,20}", fullmatch=True)
    if t == "boolean":
        return st.booleans()
    if t == "integer":
        low = int(fdef.minimum) if fdef.minimum is not None else -(2**63)
        high = int(fdef.maximum) if fdef.maximum is not None else 2**63 - 1
        return st.integers(low, high)
    if t == "number":
        low = fdef.minimum if fdef.minimum is not None else -1e300
        high = fdef.maximum if fdef.maximum is not None else 1e300
        return st.floats(low, high, allow_nan=False, allow_infinity=False) | st.integers(int(low), int(high))
    if t == "array":
        assert fdef.items is not None
        # A list holds distinct items (objects compare by content).
        return st.lists(
            value_strategy(fdef.items, ids),
            min_size=1,
            max_size=3,
            unique_by=lambda v: json.dumps(v, sort_keys=True),
        )
    if t == "object":
        return properties_strategy(fdef.fields, ids)
    raise AssertionError(f"no strategy for field type {t}")


def properties_strategy(
    fields: dict[str, FieldDef] | Any, ids: dict[str, list[str]]
) -> st.SearchStrategy[Any]:
    required = {n: value_strategy(f, ids) for n, f in fields.items() if f.required and n != "id"}
    optional = {n: value_strategy(f, ids) for n, f in fields.items() if not f.required and n != "id"}
    # A reference to an empty layer cannot be valid: such a field is left out.
    optional = {n: s for n, s in optional.items() if not s.is_empty}
    return st.fixed_dictionaries(required, optional=optional)


# A valid value of each pattern the layers use, for the plain feature below.
PATTERN_VALUES = {"^[0-9]{8}$": "16053000", "^[0-9]{5}$": "07743", "^[0-9]{12}$": "160530000000"}
PLAIN_VALUES = {
    "string": "Testwert",
    "date": "2026-11-01",
    "datetime": "2026-12-01T10:00:00+01:00",
    "opening_hours": "Mo 10:00-12:00",
    "email": "test@example.invalid",
    "url": "https://example.invalid/",
    "boolean": True,
}


def plain_value(fdef: FieldDef, ids: dict[str, list[str]]) -> Any:
    if fdef.values is not None and fdef.type != "array":
        return fdef.values[0]
    if fdef.references is not None:
        return ids[fdef.references][0]
    if fdef.pattern is not None:
        return PATTERN_VALUES[fdef.pattern]
    if fdef.type in ("integer", "number"):
        return int(fdef.minimum) if fdef.minimum is not None else 1
    if fdef.type == "array":
        assert fdef.items is not None
        return [plain_value(fdef.items, ids)]
    if fdef.type == "object":
        return plain_properties(fdef.fields, ids)
    return PLAIN_VALUES[fdef.type]


def plain_properties(fields: Any, ids: dict[str, list[str]]) -> dict[str, Any]:
    """The required properties with plain valid values: the feature the fixed examples change."""
    return {n: plain_value(f, ids) for n, f in fields.items() if f.required and n != "id"}


# Germany, well inside lon/lat.
LON = st.floats(6.0, 15.0, allow_nan=False)
LAT = st.floats(47.5, 55.0, allow_nan=False)


def ring(lon: float, lat: float, size: float, vertices: int = 4) -> list[list[float]]:
    """A closed, counter-clockwise, valid ring: a regular polygon around (lon, lat)."""
    points = [
        [lon + size * math.cos(2 * math.pi * i / vertices), lat + size * math.sin(2 * math.pi * i / vertices)]
        for i in range(vertices)
    ]
    return [*points, points[0]]


def geometry_of(kind: str, lon: float, lat: float, vertices: int = 4) -> dict[str, Any]:
    if kind == "Point":
        return {"type": "Point", "coordinates": [lon, lat]}
    if kind == "MultiPoint":
        return {"type": "MultiPoint", "coordinates": [[lon, lat], [lon + 0.01, lat]]}
    if kind == "LineString":
        return {"type": "LineString", "coordinates": [[lon, lat], [lon + 0.01, lat + 0.01]]}
    if kind == "MultiLineString":
        return {"type": "MultiLineString", "coordinates": [[[lon, lat], [lon + 0.01, lat + 0.01]]]}
    if kind == "Polygon":
        return {"type": "Polygon", "coordinates": [ring(lon, lat, 0.01, vertices)]}
    if kind == "MultiPolygon":
        return {
            "type": "MultiPolygon",
            "coordinates": [[ring(lon, lat, 0.01, vertices)], [ring(lon + 0.1, lat, 0.01)]],
        }
    raise AssertionError(kind)


def geometry_strategy(layer: Layer) -> st.SearchStrategy[Any]:
    return st.builds(geometry_of, st.sampled_from(layer.geometry_types), LON, LAT)


# -- hostile changes to a valid feature -----------------------------------------------------------

REMOVE = object()  # the property is left out (POST, PUT) or set to null (PATCH)


@dataclass
class Change:
    """One change to a valid feature: where, the new value, and whether the result is valid
    (True, False, or None when either answer is right)."""

    what: str
    valid: bool | None
    prop: str | None = None  # a property to set (REMOVE: to drop)
    value: Any = None
    geometry: Any = field(default=REMOVE)  # a new geometry (REMOVE: unchanged)
    body: Any = field(default=REMOVE)  # a whole new body (REMOVE: the feature)


def _text_validity(fdef: FieldDef, text: str) -> bool | None:
    if text in UNSTORABLE_TEXT:
        return False
    if not text.strip():
        return not fdef.required or fdef.default is not None  # blank is missing
    if text != text.strip():
        return False
    if fdef.type == "string" and fdef.values is None and fdef.pattern is None and fdef.references is None:
        return True
    if fdef.values is not None:
        return text in fdef.values
    if fdef.pattern is not None and not re.search(fdef.pattern, text):
        return False
    return None


WRONG_TYPES: dict[str, list[Any]] = {
    "string": [1, 1.5, True, [], {"a": 1}, ["x"]],
    "number": ["1", True, [1], {}],
    "integer": ["1", True, 1.5, [1], {}],
    "boolean": [1, 0, "true", [True]],
    "array": ["x", 1, {}, [None], [[]]],
    "object": ["x", 1, [1]],
}
for _t in ("date", "datetime", "opening_hours", "email", "url"):
    WRONG_TYPES[_t] = WRONG_TYPES["string"]


def property_changes(layer: Layer) -> st.SearchStrategy[Change]:
    names = sorted(n for n in layer.fields if n != "id")

    @st.composite
    def build(draw: Callable[..., Any]) -> Change:
        name = draw(st.sampled_from(names))
        fdef = layer.fields[name]
        kind = draw(st.sampled_from(["text", "number", "wrong", "remove", "nested", "raw"]))
        if kind == "text":
            text = draw(st.sampled_from([*AWKWARD_TEXT, *UNSTORABLE_TEXT, "", "   ", " lead", "trail\n"]))
            return Change(f"text {text[:30]!r} in {name}", _text_validity(fdef, text), name, text)
        if kind == "number":
            number = draw(st.sampled_from([2**63, -(2**63) - 1, 2**63 - 1, -0.0, 1e308, 0.1, -1]))
            valid: bool | None = False
            if fdef.type in ("integer", "number") and fdef.values is None:
                fits = (fdef.minimum is None or number >= fdef.minimum) and (
                    fdef.maximum is None or number <= fdef.maximum
                )
                in_range = -(2**63) <= number < 2**63 if isinstance(number, int) else True
                is_int = isinstance(number, int)
                valid = fits and in_range and (is_int or fdef.type == "number")
            return Change(f"number {number!r} in {name}", valid, name, number)
        if kind == "wrong":
            value = draw(st.sampled_from(WRONG_TYPES[fdef.type]))
            return Change(f"wrong type {value!r} in {name}", False, name, value)
        if kind == "remove":
            return Change(f"no {name}", not (fdef.required and fdef.default is None), name, REMOVE)
        if kind == "nested":
            depth = draw(st.sampled_from([65, 100, 300]))
            value: Any = "x"
            for _ in range(depth):
                value = [value]
            return Change(f"{name} nested {depth} deep", False, name, value)
        literal = draw(st.sampled_from([*RAW_NUMBERS, "[" * 5000 + "]" * 5000]))
        return Change(f"literal {literal[:12]} in {name}", False, name, Raw(literal))

    return build()


def geometry_options(layer: Layer) -> list[Change]:
    first = layer.geometry_types[0]
    other = next(t for t in ("MultiPoint", "LineString", "Polygon", "Point") if t not in layer.geometry_types)
    options: list[Change] = [
        Change(f"geometry type {other}", False, geometry=geometry_of(other, 11.59, 50.93)),
        Change("lon 200", False, geometry=geometry_of(first, 200.0, 50.93)),
        Change("lat -95", False, geometry=geometry_of(first, 11.59, -95.0)),
        Change("NaN coordinates", False, geometry={"type": "Point", "coordinates": [Raw("NaN"), Raw("NaN")]}),
        Change(
            "Infinity coordinate", False, geometry={"type": "Point", "coordinates": [Raw("Infinity"), 50.0]}
        ),
        Change("1e309 coordinate", False, geometry={"type": "Point", "coordinates": [Raw("1e309"), 50.0]}),
        Change("text coordinates", False, geometry={"type": first, "coordinates": ["11.5", "50.9"]}),
        Change("no coordinates", False, geometry={"type": first}),
        Change("empty coordinates", False, geometry={"type": first, "coordinates": []}),
        Change("geometry as WKT", False, geometry="POINT (11.59 50.93)"),
        Change("geometry as a list", False, geometry=[11.59, 50.93]),
        Change(
            "GeometryCollection",
            False,
            geometry={"type": "GeometryCollection", "geometries": [geometry_of(first, 11.59, 50.93)]},
        ),
        Change(
            "deep coordinates", False, geometry={"type": first, "coordinates": Raw("[" * 3000 + "]" * 3000)}
        ),
        Change("Z value", None, geometry={"type": "Point", "coordinates": [11.59, 50.93, 155.0]}),
        Change("geometry null", not layer.geometry_required, geometry=None),
    ]
    if "Polygon" in layer.geometry_types:
        options += [
            Change(
                "unclosed ring",
                None,
                geometry={"type": "Polygon", "coordinates": [ring(11.59, 50.93, 0.01)[:-1]]},
            ),
            Change(
                "self-intersecting ring",
                False,
                geometry={
                    "type": "Polygon",
                    "coordinates": [[[11.0, 50.0], [11.1, 50.1], [11.1, 50.0], [11.0, 50.1], [11.0, 50.0]]],
                },
            ),
            Change("5,000 vertices", True, geometry=geometry_of("Polygon", 11.59, 50.93, 5000)),
            Change(
                f"{MAX_VERTICES + 1000:,} vertices",
                False,
                geometry=geometry_of("Polygon", 11.59, 50.93, MAX_VERTICES + 1000),
            ),
            Change(
                "Z values in a ring",
                None,
                geometry={"type": "Polygon", "coordinates": [[[*p, 1.0] for p in ring(11.59, 50.93, 0.01)]]},
            ),
        ]
    if "LineString" in layer.geometry_types:
        options.append(
            Change("one-point line", False, geometry={"type": "LineString", "coordinates": [[11.5, 50.9]]})
        )
    return options


BODY_OPTIONS = [
    Change("body is a list", False, body=[]),
    Change("body is a text", False, body="Feature"),
    Change("body is a number", False, body=Raw("1e309")),
    Change("body is null", False, body=None),
    Change("body is NaN", False, body=Raw("NaN")),
    Change("a FeatureCollection", False, body={"type": "FeatureCollection", "features": []}),
    Change("body nested 5,000 deep", False, body=Raw("[" * 5000 + "]" * 5000)),
]
KEY_OPTIONS = [
    Change("undeclared property", False, "zz_not_in_catalog", "x"),
    Change("property name with a surrogate", False, "name\ud800", "x"),
    Change("property name with NUL", False, "name\x00", "x"),
]


def changes(layer: Layer) -> st.SearchStrategy[Change | None]:
    return st.one_of(
        st.none(),  # the valid feature as generated
        property_changes(layer),
        st.sampled_from(geometry_options(layer)),
        st.sampled_from(BODY_OPTIONS),
        st.sampled_from(KEY_OPTIONS),
    )


def _first_field(layer: Layer, test: Callable[[FieldDef], bool]) -> str | None:
    return next((n for n, f in layer.fields.items() if n != "id" and test(f)), None)


def all_changes(layer: Layer) -> list[Change]:
    """Every hostile value once, in a field of this layer where it means something; the
    random examples combine them further, this list makes sure none is left out."""
    text = _first_field(layer, lambda f: f.type == "string" and f.values is None and f.pattern is None)
    closed = _first_field(layer, lambda f: f.values is not None)
    number = _first_field(layer, lambda f: f.type in ("number", "integer")) or text
    out: list[Change] = []
    for name in (text, closed):
        if name is None:
            continue
        fdef = layer.fields[name]
        for value in [*UNSTORABLE_TEXT, *AWKWARD_TEXT, "", " lead"] if name == text else UNSTORABLE_TEXT[:3]:
            out.append(Change(f"text {value[:30]!r} in {name}", _text_validity(fdef, value), name, value))
    if number is not None:
        fdef = layer.fields[number]
        for literal in RAW_NUMBERS:
            out.append(Change(f"literal {literal} in {number}", False, number, Raw(literal)))
        for big in (2**63, -(2**63) - 1):
            out.append(Change(f"number {big} in {number}", False, number, big))
    return [*out, *geometry_options(layer), *BODY_OPTIONS, *KEY_OPTIONS]


# -- the store, the token and the requests --------------------------------------------------------


@dataclass
class World:
    app: Flask
    client: FlaskClient
    headers: dict[str, str]
    ids: dict[str, list[str]]
    targets: dict[str, str]  # layer -> the feature PUT and PATCH change (made by the first)
    counter: Iterator[int] = field(default_factory=itertools.count)


@pytest.fixture(scope="module")
def world(backend: str, new_store: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    store_config: StoreConfig = new_store(tmp_path_factory.mktemp("property") / "instance")
    app = create_app(store_config.settings())
    result = CliRunner().invoke(main, ["token", "create", "--name", "Test", "--all"], env=store_config.env)
    assert result.exit_code == 0, result.output
    store = app.extensions["mapservice"].store
    ids = {layer: sorted(f.id for f in store.query(layer, Query(limit=100_000)).features) for layer in LAYERS}
    # The target of PUT and PATCH: a stored feature (none is deleted here, so it may be named).
    targets = {layer: ids[layer][-1] for layer in LAYERS if ids[layer]}
    yield World(app, app.test_client(), {"Authorization": f"Bearer {result.stdout.strip()}"}, ids, targets)
    store.close()


def items(layer_id: str) -> str:
    return f"/api/collections/{layer_id}/items"


def matched(world: World, layer_id: str) -> int:
    response = world.client.get(f"{items(layer_id)}?limit=1&skipGeometry=true", headers=world.headers)
    assert response.status_code == 200, response.data[:300]
    return int(response.get_json()["numberMatched"])


def current(world: World, layer_id: str, fid: str) -> tuple[int, str | None, bytes]:
    response = world.client.get(f"{items(layer_id)}/{fid}", headers=world.headers)
    assert response.status_code < 500, response.data[:300]
    return response.status_code, response.headers.get("ETag"), response.data


def apply(change: Change | None, doc: dict[str, Any], patch: bool) -> Any:
    """The body to send: the feature (or, for PATCH, a merge patch) with the change made."""
    body: dict[str, Any] = (
        {"properties": dict(doc["properties"]), "geometry": doc["geometry"]}
        if patch
        else json.loads(json.dumps(doc))
    )
    if change is None:
        return body
    if change.body is not REMOVE:
        return change.body
    if change.geometry is not REMOVE:
        body["geometry"] = change.geometry
    if change.prop is not None:
        if change.value is REMOVE:
            if patch:
                body["properties"][change.prop] = None
            else:
                body["properties"].pop(change.prop, None)
        else:
            body["properties"][change.prop] = change.value
    return body


def same_value(fdef: FieldDef | None, sent: Any, got: Any) -> bool:
    if sent is None or (isinstance(sent, str) and not sent.strip()):
        # Blank is missing; a field with a default then has the default.
        return got == (fdef.default if fdef is not None else None)
    if fdef is not None and fdef.type == "number":
        # A number is a double: 2**63 - 1 reads back as 9.223372036854776e18.
        return isinstance(got, (int, float)) and float(sent) == float(got)
    return bool(sent == got)


def shows(world: World, layer: Layer, fid: str, sent: dict[str, Any]) -> None:
    """The stored feature reads back as written."""
    response = world.client.get(f"{items(layer.id)}/{fid}", headers=world.headers)
    assert response.status_code == 200, response.data[:300]
    got = json.loads(response.data)
    for name, value in sent["properties"].items():
        got_value = got["properties"].get(name)
        assert same_value(layer.fields.get(name), value, got_value), (name, value, got_value)
    if isinstance(sent.get("geometry"), dict):
        assert got["geometry"] is not None, "the geometry was lost"
        wrote = shapely.force_2d(shapely.geometry.shape(sent["geometry"]))
        read = shapely.force_2d(shapely.geometry.shape(got["geometry"]))
        # Topological equality: a store may keep a Polygon as a MultiPolygon of one.
        assert read.equals(wrote), (wrote.wkt[:200], read.wkt[:200])
    if layer.id == "contact-offices":
        feed = world.client.get(f"/calendar/offices/{fid}.ics")
        assert feed.status_code == 200, feed.data[:300]


def check(world: World, layer: Layer, change: Change | None, method: str, doc: dict[str, Any]) -> None:
    valid = True if change is None else change.valid
    if method != "POST" and layer.id not in world.targets:
        # An empty layer: the first valid feature is created to be changed.
        made = world.client.post(
            items(layer.id),
            data=dumps({**doc, "id": "test-target"}),
            content_type=GEOJSON,
            headers=world.headers,
        )
        assert made.status_code == 201, made.data[:500]
        world.targets[layer.id] = "test-target"
    if method == "POST":
        fid = f"test-prop-{next(world.counter)}"
        if layer.fields["id"].pattern and not re.fullmatch(layer.fields["id"].pattern, fid):
            fid = f"{99_000_000 + next(world.counter)}"  # municipalities: an 8-digit key
        doc = {**doc, "id": fid, "properties": {**doc["properties"], "id": fid}}
    else:
        fid = world.targets[layer.id]
        doc = {**doc, "id": fid, "properties": {**doc["properties"], "id": fid}}
    body = apply(change, doc, patch=method == "PATCH")
    text = dumps(body)
    count_before = matched(world, layer.id)
    state_before = current(world, layer.id, fid)
    headers = dict(world.headers)
    content_type = GEOJSON
    if method != "POST":
        assert state_before[1] is not None
        headers["If-Match"] = state_before[1]
        if method == "PATCH":
            content_type = "application/merge-patch+json"
    response = world.client.open(
        items(layer.id) + ("" if method == "POST" else f"/{fid}"),
        method=method,
        data=text.encode("utf-8", "surrogatepass"),
        content_type=content_type,
        headers=headers,
    )
    what = f"{method} {layer.id}: {change.what if change else 'valid feature'}"
    assert response.status_code < 500, (what, response.status_code, response.data[:500])
    if 200 <= response.status_code < 300:
        assert valid is not False, (what, "was stored", response.data[:300])
        assert response.status_code == (201 if method == "POST" else 200), what
        expected = body
        if method == "PATCH":
            merged = json.loads(state_before[2])
            props = {**merged["properties"], **body["properties"]}
            expected = {"properties": props, "geometry": body.get("geometry", merged["geometry"])}
        shows(world, layer, fid, expected)
        assert matched(world, layer.id) == count_before + (1 if method == "POST" else 0)
    else:
        assert valid is not True, (what, response.status_code, response.data[:500])
        assert 400 <= response.status_code < 500
        assert response.get_json()["description"], response.data[:300]
        assert matched(world, layer.id) == count_before, what
        assert current(world, layer.id, fid) == state_before, what


@pytest.mark.parametrize("layer_id", LAYERS)
def test_writes_never_fail_and_a_refused_write_changes_nothing(world: World, layer_id: str) -> None:
    layer = CATALOG[layer_id]
    features = st.fixed_dictionaries(
        {
            "type": st.just("Feature"),
            "properties": properties_strategy(layer.fields, world.ids),
            "geometry": geometry_strategy(layer),
        }
    )

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[
            HealthCheck.too_slow,
            HealthCheck.data_too_large,
            HealthCheck.function_scoped_fixture,
        ],
    )
    @given(doc=features, change=changes(layer), method=st.sampled_from(METHODS))
    def run(doc: dict[str, Any], change: Change | None, method: str) -> None:
        event(change.what if change else "valid feature")
        check(world, layer, change, method, doc)

    # Every hostile value is also tried once on one of the layers (in turn), on the smallest
    # valid feature, so that none depends on the luck of the draw.
    smallest = {
        "type": "Feature",
        "properties": plain_properties(layer.fields, world.ids),
        "geometry": geometry_of(layer.geometry_types[0], 11.59, 50.93),
    }
    index = LAYERS.index(layer_id)
    for i, change in enumerate(all_changes(layer)):
        if i % len(LAYERS) == index:
            run = example(doc=smallest, change=change, method=METHODS[i % len(METHODS)])(run)
    run()
