"""The layer catalog: ``layers/*.toml`` read into typed definitions.

Each collection the service offers is declared in one TOML file (id, titles, geometry types,
fields with types, allowed values, licence and attribution). Everything else — the API's
queryables and OpenAPI document, the store's table columns, data validation — is derived from
these definitions, so a new field is added in one place.

Validation of feature data lives in :mod:`mapservice.catalog.validation`; this module only knows the
shape of the catalog itself.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SCALAR_TYPES = frozenset(
    {"string", "integer", "number", "boolean", "date", "datetime", "opening_hours", "email", "url"}
)
FIELD_TYPES = SCALAR_TYPES | {"array", "object"}
GEOMETRY_TYPES = frozenset(
    {"Point", "MultiPoint", "LineString", "MultiLineString", "Polygon", "MultiPolygon"}
)
LAYER_ID_RE = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
FIELD_NAME_RE = re.compile(r"^[a-z][a-z0-9_]*$")
# Names the stores use for their own columns, and the query parameters of /items: a field
# with one of these names would clash with them.
_STORE_COLUMNS = frozenset({"fid", "geom", "geometry"})
_QUERY_PARAMETERS = frozenset(
    {
        "f",
        "bbox",
        "limit",
        "offset",
        "sortby",
        "properties",
        "datetime",
        "skipgeometry",
        "filter",
        "lang",
        "crs",
    }
)
RESERVED_FIELD_NAMES = _STORE_COLUMNS | _QUERY_PARAMETERS


class CatalogError(Exception):
    """A catalog file is broken. The message names the file and the key."""

    def __init__(self, path: Path | str, key: str, problem: str) -> None:
        self.path = str(path)
        self.key = key
        self.problem = problem
        super().__init__(f"{self.path}: key '{key}': {problem}")


@dataclass(frozen=True)
class FieldDef:
    """One property of a layer (or of an object inside an array property)."""

    name: str
    type: str
    required: bool = False
    description: str = ""
    # A described field also has a short label and the same in English (schemas, pages).
    description_en: str = ""
    title: str = ""
    title_en: str = ""
    values: tuple[Any, ...] | None = None
    pattern: str | None = None
    minimum: float | None = None
    maximum: float | None = None
    queryable: bool = True
    references: str | None = None  # id of the layer whose feature ids the values are
    items: FieldDef | None = None
    fields: Mapping[str, FieldDef] = field(default_factory=dict)
    # Value a new feature gets when it does not give one (e.g. "draft" for a publication state).
    default: Any = None
    # The language of the field's prose values: German unless the layer file says "en" (notes
    # kept as the source wrote them, ``note_en``); pages mark values of the other language.
    lang: str = "de"

    @property
    def is_scalar(self) -> bool:
        return self.type in SCALAR_TYPES

    @property
    def is_string_list(self) -> bool:
        return self.type == "array" and self.items is not None and self.items.type == "string"

    @property
    def filterable(self) -> bool:
        """Usable as ``property=value`` in item queries: scalars and lists of strings."""
        return self.queryable and (self.is_scalar or self.is_string_list)

    @property
    def sortable(self) -> bool:
        return self.is_scalar


@dataclass(frozen=True)
class Layer:
    """A collection: the definition from one ``layers/<id>.toml`` file."""

    id: str
    title: str
    title_en: str
    description: str
    description_en: str
    geometry_types: tuple[str, ...]
    geometry_required: bool
    licence: str
    attribution: str
    fields: Mapping[str, FieldDef]
    default_sortby: tuple[str, ...]
    path: str
    # Start and end fields of the features' validity, used by the API's datetime parameter.
    temporal: tuple[str, str] | None = None
    # Sensitive layer: each feature has a ``publication`` state and anonymous readers see only
    # the published ones (in the API, on every map and in the planner).
    publication: bool = False
    # Licence and attribution in English, for English pages. Optional: a layer file without
    # them shows the German ones there, marked as German.
    licence_en: str = ""
    attribution_en: str = ""
    # A CQL2 text filter over this layer's own queryables, shown as the example beside the
    # filter box of its items page (checked when the catalog loads, so it always works).
    filter_example: str = ""

    def field(self, name: str) -> FieldDef | None:
        return self.fields.get(name)

    def credit(self, lang: str) -> Credit:
        """Licence and attribution as an English or German page shows them."""
        if lang == "en" and self.licence_en and self.attribution_en:
            return Credit(self.licence_en, self.attribution_en, "en")
        return Credit(self.licence, self.attribution, "de")


@dataclass(frozen=True)
class Credit:
    """A layer's licence and attribution in one language (``lang``: the language they are in)."""

    licence: str
    attribution: str
    lang: str

    def for_map(self) -> dict[str, str]:
        """The map's attribution entry: its text, and its language for the ``lang`` mark."""
        return {"text": f"{self.attribution} ({self.licence})", "lang": self.lang}


@dataclass(frozen=True)
class Catalog:
    """All layers, in file-name order."""

    layers: Mapping[str, Layer]

    def __iter__(self) -> Any:
        return iter(self.layers.values())

    def __contains__(self, layer_id: object) -> bool:
        return layer_id in self.layers

    def __getitem__(self, layer_id: str) -> Layer:
        return self.layers[layer_id]

    def ids(self) -> list[str]:
        return list(self.layers)


# --------------------------------------------------------------------------------------------
# Parsing


def _require(table: Mapping[str, Any], key: str, kind: type, path: Path, prefix: str = "") -> Any:
    full = f"{prefix}{key}"
    if key not in table:
        raise CatalogError(path, full, "missing")
    value = table[key]
    if not isinstance(value, kind) or (kind is not bool and isinstance(value, bool)):
        raise CatalogError(path, full, f"must be a {kind.__name__}, got {type(value).__name__}")
    return value


def _optional(
    table: Mapping[str, Any],
    key: str,
    kind: type | tuple[type, ...],
    default: Any,
    path: Path,
    prefix: str = "",
) -> Any:
    if key not in table:
        return default
    value = table[key]
    kinds = kind if isinstance(kind, tuple) else (kind,)
    if not isinstance(value, kinds) or (bool not in kinds and isinstance(value, bool)):
        names = " or ".join(k.__name__ for k in kinds)
        raise CatalogError(path, f"{prefix}{key}", f"must be a {names}, got {type(value).__name__}")
    return value


_FIELD_KEYS = frozenset(
    {
        "type",
        "required",
        "description",
        "description_en",
        "title",
        "title_en",
        "values",
        "pattern",
        "minimum",
        "maximum",
        "queryable",
        "references",
        "items",
        "fields",
        "default",
        "lang",
    }
)


def _parse_field(name: str, table: Any, path: Path, prefix: str) -> FieldDef:
    if not isinstance(table, dict):
        raise CatalogError(path, prefix.rstrip("."), "must be a table")
    if not FIELD_NAME_RE.match(name):
        raise CatalogError(path, prefix.rstrip("."), "field names are lower-case snake_case")
    if name.lower() in RESERVED_FIELD_NAMES and prefix == f"fields.{name}.":
        raise CatalogError(
            path, prefix.rstrip("."), f"'{name}' is reserved (a store column or an API parameter)"
        )
    unknown = sorted(set(table) - _FIELD_KEYS)
    if unknown:
        raise CatalogError(path, f"{prefix}{unknown[0]}", "unknown key")
    ftype = _require(table, "type", str, path, prefix)
    if ftype not in FIELD_TYPES:
        raise CatalogError(
            path, f"{prefix}type", f"unknown type '{ftype}' (one of {', '.join(sorted(FIELD_TYPES))})"
        )
    values = _optional(table, "values", list, None, path, prefix)
    if values is not None and not values:
        raise CatalogError(path, f"{prefix}values", "must not be empty")
    pattern = _optional(table, "pattern", str, None, path, prefix)
    if pattern is not None:
        try:
            re.compile(pattern)
        except re.error as exc:
            raise CatalogError(path, f"{prefix}pattern", f"invalid regular expression: {exc}") from exc
    items: FieldDef | None = None
    subfields: dict[str, FieldDef] = {}
    if ftype == "array":
        if "items" not in table:
            raise CatalogError(path, f"{prefix}items", "missing (an array needs an item type)")
        items = _parse_field(name, table["items"], path, f"{prefix}items.")
    elif "items" in table:
        raise CatalogError(path, f"{prefix}items", "only arrays have items")
    if ftype == "object":
        raw = _require(table, "fields", dict, path, prefix)
        subfields = {k: _parse_field(k, v, path, f"{prefix}fields.{k}.") for k, v in raw.items()}
    elif "fields" in table:
        raise CatalogError(path, f"{prefix}fields", "only objects have fields")
    lang = _optional(table, "lang", str, "de", path, prefix)
    if lang not in ("de", "en"):
        raise CatalogError(path, f"{prefix}lang", f"'{lang}' is not de or en")
    default = table.get("default")
    if default is not None:
        if ftype not in SCALAR_TYPES:
            raise CatalogError(path, f"{prefix}default", "only single-value fields have a default")
        if values is not None and default not in values:
            raise CatalogError(path, f"{prefix}default", f"'{default}' is not one of the values")
    description = _optional(table, "description", str, "", path, prefix)
    words = {
        key: _optional(table, key, str, "", path, prefix) for key in ("description_en", "title", "title_en")
    }
    for key, text in words.items():
        if description and not text.strip():
            raise CatalogError(
                path, f"{prefix}{key}", "missing (a described field has title, title_en and description_en)"
            )
    return FieldDef(
        name=name,
        type=ftype,
        default=default,
        required=_optional(table, "required", bool, False, path, prefix),
        description=description,
        description_en=words["description_en"],
        title=words["title"],
        title_en=words["title_en"],
        values=tuple(values) if values is not None else None,
        pattern=pattern,
        minimum=_optional(table, "minimum", (int, float), None, path, prefix),
        maximum=_optional(table, "maximum", (int, float), None, path, prefix),
        queryable=_optional(table, "queryable", bool, True, path, prefix),
        references=_optional(table, "references", str, None, path, prefix),
        items=items,
        fields=subfields,
        lang=lang,
    )


_LAYER_KEYS = frozenset(
    {
        "id",
        "title",
        "title_en",
        "description",
        "description_en",
        "geometry_types",
        "geometry_required",
        "licence",
        "attribution",
        "licence_en",
        "attribution_en",
        "default_sortby",
        "temporal",
        "fields",
        "publication",
        "filter_example",
    }
)

PUBLICATION_FIELD = "publication"
PUBLICATION_STATES = ("draft", "approved", "published")
PUBLISHED = "published"


def parse_layer(raw: Mapping[str, Any], path: Path) -> Layer:
    """Turn one parsed TOML document into a :class:`Layer`, or raise :class:`CatalogError`."""
    unknown = sorted(set(raw) - _LAYER_KEYS)
    if unknown:
        raise CatalogError(path, unknown[0], "unknown key")
    layer_id = _require(raw, "id", str, path)
    if not LAYER_ID_RE.match(layer_id):
        raise CatalogError(path, "id", f"'{layer_id}' is not a lower-case, dash-separated id")
    if layer_id != path.stem:
        raise CatalogError(path, "id", f"'{layer_id}' differs from the file name '{path.stem}'")
    gtypes = _require(raw, "geometry_types", list, path)
    if not gtypes:
        raise CatalogError(path, "geometry_types", "must not be empty")
    for gtype in gtypes:
        if gtype not in GEOMETRY_TYPES:
            raise CatalogError(path, "geometry_types", f"unknown geometry type '{gtype}'")
    raw_fields = _require(raw, "fields", dict, path)
    fields = {name: _parse_field(name, table, path, f"fields.{name}.") for name, table in raw_fields.items()}
    for must in ("id", "source", "verified_on"):
        if must not in fields or not fields[must].required:
            raise CatalogError(path, f"fields.{must}", "every layer declares this field as required")
    if fields["id"].type != "string":
        raise CatalogError(path, "fields.id.type", "feature ids are strings")
    sortby = tuple(_optional(raw, "default_sortby", list, ["id"], path))
    for name in sortby:
        if name not in fields or not fields[name].sortable:
            raise CatalogError(path, "default_sortby", f"'{name}' is not a sortable field")
    temporal = _optional(raw, "temporal", list, None, path)
    if temporal is not None:
        if len(temporal) != 2:
            raise CatalogError(path, "temporal", "names two fields: start and end")
        for name in temporal:
            # Dates only: they compare as text; date-times with offsets would not.
            if name not in fields or fields[name].type != "date":
                raise CatalogError(path, "temporal", f"'{name}' is not a date field")
    publication = _optional(raw, "publication", bool, False, path)
    if publication:
        pub = fields.get(PUBLICATION_FIELD)
        if pub is None or pub.type != "string" or pub.values != PUBLICATION_STATES:
            raise CatalogError(
                path,
                f"fields.{PUBLICATION_FIELD}",
                "a layer with publication = true declares this string field with "
                f"values = {list(PUBLICATION_STATES)}",
            )
    layer = Layer(
        id=layer_id,
        publication=publication,
        temporal=(temporal[0], temporal[1]) if temporal else None,
        title=_require(raw, "title", str, path),
        title_en=_require(raw, "title_en", str, path),
        description=_require(raw, "description", str, path),
        description_en=_require(raw, "description_en", str, path),
        geometry_types=tuple(gtypes),
        geometry_required=_optional(raw, "geometry_required", bool, True, path),
        licence=_require(raw, "licence", str, path),
        attribution=_require(raw, "attribution", str, path),
        licence_en=_optional(raw, "licence_en", str, "", path),
        attribution_en=_optional(raw, "attribution_en", str, "", path),
        fields=fields,
        default_sortby=sortby,
        path=str(path),
        filter_example=_optional(raw, "filter_example", str, "", path),
    )
    if layer.filter_example:
        from ..ogcapi.cql2 import FilterError, parse_filter  # cql2 reads layers: imported late

        try:
            parse_filter(layer.filter_example, "cql2-text", layer)
        except FilterError as exc:
            raise CatalogError(path, "filter_example", f"is not a filter over this layer: {exc}") from exc
    return layer


def load_layer_file(path: Path) -> Layer:
    try:
        with path.open("rb") as fh:
            raw = tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise CatalogError(path, "(syntax)", f"not valid TOML: {exc}") from exc
    except OSError as exc:
        raise CatalogError(path, "(file)", f"cannot be read: {exc}") from exc
    return parse_layer(raw, path)


def layer_files(directory: Path) -> list[Path]:
    """The collection files of a catalog folder. ``maps.toml`` names maps, not a collection."""
    return sorted(p for p in directory.glob("*.toml") if p.name != "maps.toml")


def load_catalog(directory: Path, only: Iterable[str] | None = None) -> Catalog:
    """Read every layer file in ``directory``. The first broken file raises CatalogError."""
    files = layer_files(directory)
    if not files:
        raise CatalogError(directory, "(folder)", "contains no layer files (*.toml)")
    wanted = set(only) if only is not None else None
    layers: dict[str, Layer] = {}
    for path in files:
        layer = load_layer_file(path)
        if wanted is None or layer.id in wanted:
            layers[layer.id] = layer
    for layer in layers.values():
        for name, fdef in layer.fields.items():
            for key, target in (
                (f"fields.{name}.references", fdef.references),
                (f"fields.{name}.items.references", fdef.items.references if fdef.items else None),
            ):
                if target is not None and target not in layers and wanted is None:
                    raise CatalogError(layer.path, key, f"names the unknown layer '{target}'")
    return Catalog(layers)
