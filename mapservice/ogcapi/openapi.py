"""The OpenAPI 3.0 document of ``/api``, generated from the same catalog the API serves."""

from __future__ import annotations

from typing import Any

from .. import __version__
from ..catalog.layers import Catalog, Layer
from . import cql2
from .crs import CRS84_URI, SUPPORTED_URIS
from .documents import SERVICE_DESCRIPTION, SERVICE_TITLE, _schema


def _list_param(name: str, description: str) -> dict[str, Any]:
    """A comma-separated list of strings (OpenAPI's form style without explode)."""
    return _param(
        name, description, {"type": "array", "items": {"type": "string"}}, style="form", explode=False
    )


def _param(
    name: str, description: str, schema: dict[str, Any], style: str | None = None, explode: bool | None = None
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "name": name,
        "in": "query",
        "required": False,
        "description": description,
        "schema": schema,
    }
    if style:
        out["style"] = style
    if explode is not None:
        out["explode"] = explode
    return out


def _common_parameters(max_limit: int, default_limit: int) -> dict[str, Any]:
    return {
        "f": _param(
            "f",
            "Format: json (default) or html; without it the Accept header decides.",
            {"type": "string", "enum": ["json", "html"]},
        ),
        "bbox": _param(
            "bbox",
            "Only features whose geometry intersects the box: minLon,minLat,maxLon,maxLat in "
            "CRS84 (WGS 84 lon/lat), or the minima and maxima of the axes of bbox-crs in its axis "
            "order (EPSG:4326: minLat,minLon,maxLat,maxLon; EPSG:25832: minEasting,minNorthing,...).",
            {"type": "array", "minItems": 4, "maxItems": 6, "items": {"type": "number"}},
            style="form",
            explode=False,
        ),
        "bbox-crs": _param(
            "bbox-crs",
            "CRS of bbox (default CRS84).",
            {"type": "string", "format": "uri", "enum": list(SUPPORTED_URIS), "default": CRS84_URI},
        ),
        "crs": _param(
            "crs",
            "CRS of the coordinates in the response, in its axis order (EPSG:4326 is lat/lon); "
            "the Content-Crs header names it. Default CRS84.",
            {"type": "string", "format": "uri", "enum": list(SUPPORTED_URIS), "default": CRS84_URI},
        ),
        # GIS clients choose their page size from this one definition, so it stays a component
        # named "limit" that every items path references by $ref: QGIS reads
        # components/parameters/limit, GDAL >= 3.8 follows the items path's $ref. Both page by
        # min(max(1000, default), maximum): 1,000 with the default settings
        # (tests/e2e/test_gdal_paging.py).
        "limit": _param(
            "limit",
            f"Features per page (1..{max_limit}; {default_limit} when not given).",
            {"type": "integer", "minimum": 1, "maximum": max_limit, "default": default_limit},
            style="form",
            explode=False,
        ),
        "offset": _param(
            "offset",
            "Number of features to skip (paging; use the next link).",
            {"type": "integer", "minimum": 0, "default": 0},
        ),
        "after": _param(
            "after",
            "Cursor that next links carry, so that a page deep in a large collection costs no "
            "more than the first; it only applies together with the offset it came with, and "
            "offset alone gives the same page.",
            {"type": "string", "pattern": r"^[0-9]+\.[0-9]+\.[0-9]+\.[0-9a-f]{12}$"},
        ),
        "datetime": _param(
            "datetime",
            "Instant or interval (RFC 3339, '..' for open ends). Collections "
            "without validity dates have no temporal geometry, so nothing matches.",
            {"type": "string"},
        ),
        "sortby": _list_param("sortby", "Comma-separated properties, '-' for descending."),
        "properties": _list_param("properties", "Only these properties (comma-separated)."),
        "skipGeometry": _param(
            "skipGeometry", "true: features without geometry.", {"type": "boolean", "default": False}
        ),
        # Part 3: CQL2 over the collection's queryables (ogcapi/cql2.py says what is met).
        "filter": _param(
            "filter",
            "CQL2 filter over the queryables, e.g. population > 10000 AND kreis = 'Zwickau'. "
            "Operators: = <> < <= > >=, LIKE (% and _, case-sensitive), IN, BETWEEN, IS NULL, "
            "AND, OR, NOT; S_INTERSECTS, S_WITHIN, S_CONTAINS, S_DISJOINT, S_TOUCHES, S_CROSSES, "
            "S_OVERLAPS and S_EQUALS of the property geometry against a WKT, BBOX or GeoJSON "
            "geometry; dates as DATE('2023-01-01'). At most "
            f"{cql2.MAX_NODES} conditions, {cql2.MAX_DEPTH} levels of nesting and "
            f"{cql2.MAX_LIST} values in an IN list.",
            {"type": "string", "maxLength": cql2.MAX_CHARS},
        ),
        "filter-lang": _param(
            "filter-lang",
            "Language of filter: cql2-text (default) or cql2-json.",
            {"type": "string", "enum": list(cql2.LANGUAGES), "default": cql2.TEXT},
        ),
        "filter-crs": _param(
            "filter-crs",
            "CRS of the geometries in filter, in its axis order (default CRS84).",
            {"type": "string", "format": "uri", "enum": list(SUPPORTED_URIS), "default": CRS84_URI},
        ),
    }


def _error_responses() -> dict[str, Any]:
    ref = {"$ref": "#/components/schemas/exception"}
    return {
        "400": {"description": "Invalid parameter", "content": {"application/json": {"schema": ref}}},
        "404": {"description": "Not found", "content": {"application/json": {"schema": ref}}},
        "500": {"description": "Server error", "content": {"application/json": {"schema": ref}}},
    }


def _json_ok(description: str, media: str = "application/json") -> dict[str, Any]:
    return {
        "200": {
            "description": description,
            "content": {media: {"schema": {"type": "object"}}, "text/html": {"schema": {"type": "string"}}},
        },
        "304": {"description": "Not modified (If-None-Match)"},
    }


def _items_path(layer: Layer) -> dict[str, Any]:
    refs = [
        {"$ref": f"#/components/parameters/{n}"}
        for n in (
            "f",
            "bbox",
            "bbox-crs",
            "crs",
            "limit",
            "offset",
            "after",
            "datetime",
            "sortby",
            "properties",
            "skipGeometry",
            "filter",
            "filter-lang",
            "filter-crs",
        )
    ]
    filters = [
        _param(
            name,
            f"Filter: {fdef.description or name}"
            + (" (list contains the value)" if fdef.type == "array" else ""),
            _schema(fdef.items) if fdef.type == "array" and fdef.items else _schema(fdef),
        )
        for name, fdef in layer.fields.items()
        if fdef.filterable
    ]
    return {
        "get": {
            "tags": [layer.id],
            "summary": f"{layer.title} – Objekte / items",
            "description": layer.description,
            "operationId": f"getItems_{layer.id.replace('-', '_')}",
            "parameters": refs + filters,
            "responses": {
                **_json_ok("GeoJSON FeatureCollection", "application/geo+json"),
                **_error_responses(),
            },
        }
    }


def _status(code: int, description: str) -> dict[str, Any]:
    return {
        str(code): {
            "description": description,
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/exception"}}},
        }
    }


_SECURED: list[dict[str, list[str]]] = [{"bearer": []}]
_FEATURE_BODY = {"required": True, "content": {"application/geo+json": {"schema": {"type": "object"}}}}


def _write_operations(layer: Layer, op: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """Part 4: POST on items; PUT, PATCH (JSON Merge Patch), DELETE and history on an item."""
    denied = {
        **_status(401, "No or an invalid token"),
        **_status(403, "The token may not write this collection"),
    }
    stale = {
        **_status(412, "If-Match is not the feature's current ETag: nothing changed"),
        **_status(428, "If-Match is missing"),
    }
    invalid = {
        **_status(400, "The feature breaks the catalog; every problem is listed"),
        **_status(415, "Not a JSON body"),
    }
    fid = {"name": "featureId", "in": "path", "required": True, "schema": {"type": "string"}}
    match = {
        "name": "If-Match",
        "in": "header",
        "required": True,
        "description": "The ETag from GET on the feature",
        "schema": {"type": "string"},
    }
    ok = {
        "200": {
            "description": "The feature as stored, with its new ETag",
            "content": {"application/geo+json": {"schema": {"type": "object"}}},
        }
    }
    create = {
        "post": {
            "tags": [layer.id],
            "summary": f"{layer.title} – Objekt anlegen / create an item",
            "operationId": f"createItem_{op}",
            "security": _SECURED,
            "requestBody": _FEATURE_BODY,
            "responses": {
                "201": {"description": "Created; Location and ETag name it"},
                **invalid,
                **denied,
                **_status(409, "The id exists already"),
            },
        }
    }
    on_item = {"tags": [layer.id], "security": _SECURED, "parameters": [fid, match]}
    changed = {**ok, **invalid, **denied, **_status(404, "No such feature"), **stale}
    merge_patch = {"application/merge-patch+json": {"schema": {"type": "object"}}}
    item = {
        "put": {
            **on_item,
            "summary": "Objekt ersetzen / replace the item",
            "operationId": f"replaceItem_{op}",
            "requestBody": _FEATURE_BODY,
            "responses": changed,
        },
        "patch": {
            **on_item,
            "summary": "Objekt ändern / update the item",
            "description": "RFC 7396 JSON Merge Patch, e.g. "
            '{"properties": {"status": "active"}}; null removes a value.',
            "operationId": f"updateItem_{op}",
            "requestBody": {"required": True, "content": merge_patch},
            "responses": changed,
        },
        "delete": {
            **on_item,
            "summary": "Objekt löschen / delete the item",
            "operationId": f"deleteItem_{op}",
            "responses": {
                "204": {"description": "Deleted"},
                **denied,
                **_status(404, "No such feature"),
                **_status(409, "Other features name it"),
                **stale,
            },
        },
    }
    return create, item


def openapi_document(base: str, catalog: Catalog, max_limit: int, default_limit: int) -> dict[str, Any]:
    f_ref = [{"$ref": "#/components/parameters/f"}]
    paths: dict[str, Any] = {
        "/": {
            "get": {
                "tags": ["Capabilities"],
                "summary": "Landing page",
                "operationId": "getLandingPage",
                "parameters": f_ref,
                "responses": {**_json_ok("Landing page"), **_error_responses()},
            }
        },
        "/conformance": {
            "get": {
                "tags": ["Capabilities"],
                "summary": "Conformance classes",
                "operationId": "getConformanceDeclaration",
                "parameters": f_ref,
                "responses": {**_json_ok("Conformance"), **_error_responses()},
            }
        },
        "/openapi": {
            "get": {
                "tags": ["Capabilities"],
                "summary": "This document",
                "operationId": "getOpenAPI",
                "parameters": f_ref,
                "responses": {
                    **_json_ok("OpenAPI 3.0 document", "application/vnd.oai.openapi+json;version=3.0"),
                    **_error_responses(),
                },
            }
        },
        "/collections": {
            "get": {
                "tags": ["Capabilities"],
                "summary": "Collections",
                "operationId": "getCollections",
                "parameters": f_ref,
                "responses": {**_json_ok("Collections"), **_error_responses()},
            }
        },
    }
    for layer in catalog:
        c = f"/collections/{layer.id}"
        op = layer.id.replace("-", "_")
        paths[c] = {
            "get": {
                "tags": [layer.id],
                "summary": layer.title,
                "operationId": f"describeCollection_{op}",
                "parameters": f_ref,
                "responses": {**_json_ok("Collection"), **_error_responses()},
            }
        }
        create, item_writes = _write_operations(layer, op)
        paths[f"{c}/items"] = {**_items_path(layer), **create}
        paths[f"{c}/items/{{featureId}}/history"] = {
            "get": {
                "tags": [layer.id],
                "summary": "Änderungen / change history",
                "description": "Every change: who, when, before and after. Needs a token for the "
                "collection (the log names people and unpublished states).",
                "operationId": f"getItemHistory_{op}",
                "security": _SECURED,
                "parameters": [
                    {"name": "featureId", "in": "path", "required": True, "schema": {"type": "string"}}
                ],
                "responses": {
                    "200": {"description": "The changes, oldest first"},
                    **_error_responses(),
                    **_status(401, "No or an invalid token"),
                    **_status(403, "The token is for other collections"),
                },
            }
        }
        paths[f"{c}/items/{{featureId}}"] = {
            **item_writes,
            "get": {
                "tags": [layer.id],
                "summary": f"{layer.title} – ein Objekt / one item",
                "operationId": f"getItem_{op}",
                "parameters": [
                    {"name": "featureId", "in": "path", "required": True, "schema": {"type": "string"}},
                    *f_ref,
                    {"$ref": "#/components/parameters/crs"},
                ],
                "responses": {**_json_ok("GeoJSON Feature", "application/geo+json"), **_error_responses()},
            },
        }
        paths[f"{c}/queryables"] = {
            "get": {
                "tags": [layer.id],
                "summary": "Queryables",
                "operationId": f"getQueryables_{op}",
                "parameters": f_ref,
                "responses": {**_json_ok("JSON Schema", "application/schema+json"), **_error_responses()},
            }
        }
        paths[f"{c}/schema"] = {
            "get": {
                "tags": [layer.id],
                "summary": "Schema der Objekte / feature schema (Part 5; f=xsd: GML-Anwendungsschema)",
                "operationId": f"getSchema_{op}",
                "parameters": [
                    {
                        "name": "f",
                        "in": "query",
                        "required": False,
                        "schema": {"type": "string", "enum": ["json", "xsd"], "default": "json"},
                    }
                ],
                "responses": {
                    **_json_ok("JSON Schema", "application/schema+json"),
                    **_error_responses(),
                },
            }
        }
    return {
        "openapi": "3.0.3",
        "info": {
            "title": SERVICE_TITLE,
            "description": SERVICE_DESCRIPTION,
            "version": __version__,
            "license": {"name": "Code: MIT; data: see each collection's license"},
        },
        "servers": [{"url": base}],
        "tags": [{"name": "Capabilities"}, *({"name": lay.id, "description": lay.title} for lay in catalog)],
        "paths": paths,
        "components": {
            "securitySchemes": {
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "A write token from 'mapservice token create', scoped to "
                    "collections. Reading needs none; with one, the collection's "
                    "unpublished features are included.",
                }
            },
            "parameters": _common_parameters(max_limit, default_limit),
            "schemas": {
                "exception": {
                    "type": "object",
                    "required": ["code"],
                    "properties": {"code": {"type": "string"}, "description": {"type": "string"}},
                }
            },
        },
    }
