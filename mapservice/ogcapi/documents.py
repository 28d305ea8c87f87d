"""OGC API – Features documents built from the catalog: pure functions, no Flask.

``base`` is the absolute URL of the API root (e.g. ``http://127.0.0.1:8000/api``).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any
from urllib.parse import urlencode

from ..catalog.layers import Catalog, FieldDef, Layer
from ..store.base import LayerState, StoredFeature
from . import schema
from .crs import CRS84_URI, SUPPORTED_URIS

GEOJSON = "application/geo+json"
JSON = "application/json"
HTML = "text/html"
OPENAPI = "application/vnd.oai.openapi+json;version=3.0"
SCHEMA = "application/schema+json"
XML = "application/xml"
CRS84 = CRS84_URI

# Only classes the implementation really meets (tests/api/test_api.py checks each one).
CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/html",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    # Part 2: crs and bbox-crs on items and item, Content-Crs, the CRS lists per collection.
    "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables-query-parameters",
    # Part 3 filters in CQL2 (ogcapi/cql2.py; tests/api/test_cql2.py checks each class).
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/filter",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/features-filter",
    "http://www.opengis.net/spec/cql2/1.0/conf/cql2-text",
    "http://www.opengis.net/spec/cql2/1.0/conf/cql2-json",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-cql2",
    "http://www.opengis.net/spec/cql2/1.0/conf/advanced-comparison-operators",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-spatial-functions",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-spatial-functions-plus",
    "http://www.opengis.net/spec/cql2/1.0/conf/spatial-functions",
    "http://www.opengis.net/spec/cql2/1.0/conf/property-property",
    # Part 5 (draft) schemas: /collections/{id}/schema, a JSON Schema 2020-12 with x-ogc-role
    # for id and geometry, linked with rel [ogc-rel:schema]. QGIS's OAPIF provider reads the
    # schema for its fields only where this class is declared (QgsOapifProvider::init).
    "http://www.opengis.net/spec/ogcapi-features-5/1.0/conf/schemas",
    # Part 4 (writes with a token): POST/PUT/DELETE, and PATCH as JSON Merge Patch.
    "http://www.opengis.net/spec/ogcapi-features-4/1.0/conf/create-replace-delete",
    "http://www.opengis.net/spec/ogcapi-features-4/1.0/conf/update",
]

SERVICE_TITLE = "District Safety Map – Kommunale Kriminalprävention"
SERVICE_DESCRIPTION = (
    "Ortsteile, Kontaktbereichsbeamte, Sprechzeiten, Präventionsgremien, legale Graffitiflächen "
    "und Videoüberwachung als OGC API – Features. / Districts, contact officers, office hours, "
    "prevention bodies, legal graffiti zones and video surveillance as OGC API – Features."
)


def link(href: str, rel: str, type_: str, title: str | None = None) -> dict[str, str]:
    out = {"href": href, "rel": rel, "type": type_}
    if title:
        out["title"] = title
    return out


def with_query(url: str, params: Mapping[str, str | Sequence[str]]) -> str:
    pairs: list[tuple[str, str]] = []
    for key, value in params.items():
        if isinstance(value, str):
            pairs.append((key, value))
        else:
            pairs.extend((key, v) for v in value)
    return f"{url}?{urlencode(pairs)}" if pairs else url


def landing(base: str) -> dict[str, Any]:
    return {
        "title": SERVICE_TITLE,
        "description": SERVICE_DESCRIPTION,
        "links": [
            link(f"{base}?f=json", "self", JSON, "Diese Seite / this document"),
            link(f"{base}?f=html", "alternate", HTML, "Diese Seite als HTML / as HTML"),
            link(f"{base}/openapi", "service-desc", OPENAPI, "API-Definition (OpenAPI 3.0)"),
            link(f"{base}/openapi?f=html", "service-doc", HTML, "API-Dokumentation"),
            link(f"{base}/conformance", "conformance", JSON, "Konformitätsklassen"),
            link(f"{base}/collections", "data", JSON, "Sammlungen / collections"),
        ],
    }


def conformance() -> dict[str, Any]:
    return {"conformsTo": CONFORMANCE}


def collection(base: str, layer: Layer, state: LayerState) -> dict[str, Any]:
    url = f"{base}/collections/{layer.id}"
    doc: dict[str, Any] = {
        "id": layer.id,
        "title": layer.title,
        "description": layer.description,
        "itemType": "feature",
        # Listed in each collection rather than once as "#/crs" in /collections: a client that
        # reads one collection alone (OAPIF_COLLECTION:, OWSLib) finds them there.
        "crs": list(SUPPORTED_URIS),
        "storageCrs": CRS84,
        "links": [
            # With f=json, as every self link: followed from the HTML page in a browser, the
            # bare URL negotiated the HTML page again.
            link(f"{url}?f=json", "self", JSON, layer.title),
            link(f"{url}?f=html", "alternate", HTML, f"{layer.title} (HTML)"),
            link(f"{url}/items", "items", GEOJSON, "Objekte / items"),
            link(f"{url}/items?f=html", "items", HTML, "Objekte als HTML / items as HTML"),
            link(
                f"{url}/queryables",
                "http://www.opengis.net/def/rel/ogc/1.0/queryables",
                SCHEMA,
                "Abfragbare Eigenschaften / queryables",
            ),
            # Part 5: the features' schema. GIS clients build their fields from it, also for
            # a layer with no features yet (see schema.py for why there are two forms).
            link(f"{url}/schema", "describedby", SCHEMA, "Schema der Objekte / feature schema"),
            link(f"{url}/schema", "http://www.opengis.net/def/rel/ogc/1.0/schema", SCHEMA, "Schema"),
            link(f"{url}/schema?f=xsd", "describedBy", XML, "GML-Anwendungsschema / GML application schema"),
        ],
        "extent": {},
        "license": layer.licence,
        "attribution": layer.attribution,
        # The same in English where the layer file gives it (the keys above stay German).
        **(
            {"license_en": layer.licence_en, "attribution_en": layer.attribution_en}
            if layer.licence_en
            else {}
        ),
        "numberOfFeatures": state.count,
        "title_en": layer.title_en,
        "description_en": layer.description_en,
    }
    if state.extent is not None:
        doc["extent"]["spatial"] = {"bbox": [list(state.extent)], "crs": CRS84}
    if layer.temporal is not None:
        doc["extent"]["temporal"] = {
            "interval": [[None, None]],
            "trs": "http://www.opengis.net/def/uom/ISO-8601/0/Gregorian",
        }
    if not doc["extent"]:
        del doc["extent"]
    return doc


def collections(base: str, catalog: Catalog, states: Mapping[str, LayerState]) -> dict[str, Any]:
    return {
        "links": [
            link(f"{base}/collections?f=json", "self", JSON, "Sammlungen / collections"),
            link(f"{base}/collections?f=html", "alternate", HTML, "als HTML / as HTML"),
        ],
        "collections": [collection(base, layer, states[layer.id]) for layer in catalog],
    }


def _schema(fdef: FieldDef) -> dict[str, Any]:
    """JSON Schema of one field, as queryables and the OpenAPI document describe it."""
    t = fdef.type
    out: dict[str, Any]
    if t in ("integer", "number", "boolean"):
        out = {"type": t}
    elif t == "array":
        assert fdef.items is not None
        out = {"type": "array", "items": _schema(fdef.items)}
    elif t == "object":
        out = {"type": "object", "properties": {n: _schema(f) for n, f in fdef.fields.items()}}
        required = [n for n, f in fdef.fields.items() if f.required]
        if required:
            out["required"] = required
    else:
        out = {"type": "string"}
        fmt = {"datetime": "date-time", "email": "email", "url": "uri"}.get(t)
        if fmt:
            out["format"] = fmt
        if t == "date":
            out["pattern"] = r"^\d{4}(-\d{2}(-\d{2})?)?$"
    # German first (the catalog's language); the English words beside them, for clients and
    # pages in English (JSON Schema has no translations of its own).
    if fdef.title:
        out["title"] = fdef.title
        out["x-title-en"] = fdef.title_en
    if fdef.description:
        out["description"] = fdef.description
        out["x-description-en"] = fdef.description_en
    if fdef.values is not None:
        out["enum"] = list(fdef.values)
    if fdef.pattern:
        out["pattern"] = fdef.pattern
    if fdef.minimum is not None:
        out["minimum"] = fdef.minimum
    if fdef.maximum is not None:
        out["maximum"] = fdef.maximum
    return out


def feature_schema(base: str, layer: Layer) -> dict[str, Any]:
    return schema.feature_schema(base, layer, _schema)


def queryables(base: str, layer: Layer) -> dict[str, Any]:
    props: dict[str, Any] = {
        "geometry": {"format": "geometry-any", "x-ogc-role": "primary-geometry"},
    }
    for name, fdef in layer.fields.items():
        if fdef.filterable:
            props[name] = {"title": name, **_schema(fdef)}
    return {
        "$schema": "https://json-schema.org/draft/2019-09/schema",
        "$id": f"{base}/collections/{layer.id}/queryables",
        "type": "object",
        "title": layer.title,
        "properties": props,
        "additionalProperties": False,
    }


def feature_json(
    feature: StoredFeature,
    properties: Sequence[str] | None,
    skip_geometry: bool,
    links: Iterable[dict[str, str]] = (),
) -> str:
    """One GeoJSON feature as text; the stored geometry text is spliced in unparsed."""
    props = feature.properties
    if properties is not None:
        props = {k: props.get(k) for k in properties}
    geometry = "null" if skip_geometry or feature.geometry is None else feature.geometry
    parts = [
        '{"type":"Feature","id":',
        json.dumps(feature.id, ensure_ascii=False),
        ',"geometry":',
        geometry,
        ',"properties":',
        json.dumps(props, ensure_ascii=False, separators=(",", ":")),
    ]
    link_list = list(links)
    if link_list:
        parts += [',"links":', json.dumps(link_list, ensure_ascii=False, separators=(",", ":"))]
    parts.append("}")
    return "".join(parts)


def feature_collection_json(
    features: Sequence[StoredFeature],
    number_matched: int,
    timestamp: str,
    links: Sequence[dict[str, str]],
    properties: Sequence[str] | None,
    skip_geometry: bool,
) -> str:
    body = ",".join(feature_json(f, properties, skip_geometry) for f in features)
    meta = _collection_meta(len(features), number_matched, timestamp, links)
    return '{"type":"FeatureCollection","features":[' + body + "]," + meta[1:]


def encoded_collection_json(
    features: Sequence[bytes], number_matched: int, timestamp: str, links: Sequence[dict[str, str]]
) -> bytes:
    """A FeatureCollection (UTF-8) of features given as GeoJSON (the stores keep each one's)."""
    meta = _collection_meta(len(features), number_matched, timestamp, links).encode()
    # One join, so the megabytes of a large page are copied once: joining the features, then
    # adding head and tail, copied them three times more (4 of the 12 ms of 1,275 municipalities).
    parts = [b'{"type":"FeatureCollection","features":[']
    for feature in features:
        parts += (feature, b",")
    if features:
        parts.pop()
    parts += (b"],", meta[1:])
    return b"".join(parts)


def _collection_meta(
    returned: int, number_matched: int, timestamp: str, links: Sequence[dict[str, str]]
) -> str:
    return json.dumps(
        {
            "numberMatched": number_matched,
            "numberReturned": returned,
            "timeStamp": timestamp,
            "links": list(links),
        },
        ensure_ascii=False,
        separators=(",", ":"),
    )


def paging_links(
    url: str,
    args: Mapping[str, Sequence[str]],
    offset: int,
    limit: int,
    returned: int,
    matched: int,
    next_after: str | None = None,
) -> list[dict[str, str]]:
    """self / alternate / next / prev, each keeping every other query parameter.

    "next" also carries the store's cursor (``after``), so that following it costs no more
    at the end of a large collection than at the start; ``offset`` alone gives the same page.
    """

    def page(new_offset: int, fmt: str | None = None, after: str | None = None) -> str:
        params = {k: list(v) for k, v in args.items() if k not in ("offset", "f", "after")}
        params["offset"] = [str(new_offset)]
        if after is not None:
            params["after"] = [after]
        if "limit" not in params:
            params["limit"] = [str(limit)]
        if fmt is not None:
            params["f"] = [fmt]
        elif "f" in args:
            params["f"] = list(args["f"])
        return with_query(url, params)

    links = [
        link(page(offset, "json"), "self", GEOJSON, "diese Seite / this page"),
        link(page(offset, "html"), "alternate", HTML, "diese Seite als HTML / as HTML"),
    ]
    if offset + returned < matched:
        links.append(
            link(page(offset + limit, after=next_after), "next", GEOJSON, "nächste Seite / next page")
        )
    if offset > 0:
        # From beyond the end, "prev" leads to the last page that has features.
        prev = max(min(offset, matched) - limit, 0) if offset >= matched else max(offset - limit, 0)
        links.append(link(page(prev), "prev", GEOJSON, "vorige Seite / previous page"))
    return links
