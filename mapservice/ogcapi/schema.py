"""A collection's schema, for GIS clients that build their fields from it: pure functions.

Two forms of the same catalog entry, because the clients in use read different ones:

- ``/collections/{id}/schema`` is OGC API – Features Part 5 ("Schemas"): a JSON Schema of the
  feature's properties, with ``x-ogc-role`` for the id and the geometry. Newer clients read it.
- ``/collections/{id}/schema?f=xsd`` is the same as a GML application schema. GDAL up to at
  least 3.6 (Debian 12) reads a JSON Schema only in the nested GeoJSON form and takes no
  geometry type from it, but its XML path (``GMLParseXSD``) gives it every field's type and the
  geometry type, so that an empty layer arrives in QGIS and ogr2ogr with its fields
  (``OGROAPIFLayer::GetSchema``; the link relation it looks for is spelt ``describedBy``).
"""

from __future__ import annotations

from typing import Any
from xml.sax.saxutils import quoteattr

from ..catalog.layers import FieldDef, Layer
from ..store.sql import declared_geometry_type

# Part 5: the geometry's format word per declared type (Part 5, "geometry-…" formats).
_GEOMETRY_FORMAT = {
    "POINT": "geometry-point",
    "MULTIPOINT": "geometry-multipoint",
    "LINESTRING": "geometry-linestring",
    "MULTILINESTRING": "geometry-multilinestring",
    "POLYGON": "geometry-polygon",
    "MULTIPOLYGON": "geometry-multipolygon",
    "GEOMETRY": "geometry-any",
}
# GML 3.2 property types of the same (GDAL maps them onto its geometry types).
_GML_GEOMETRY = {
    "POINT": "gml:PointPropertyType",
    "MULTIPOINT": "gml:MultiPointPropertyType",
    "LINESTRING": "gml:CurvePropertyType",
    "MULTILINESTRING": "gml:MultiCurvePropertyType",
    "POLYGON": "gml:SurfacePropertyType",
    "MULTIPOLYGON": "gml:MultiSurfacePropertyType",
    "GEOMETRY": "gml:GeometryPropertyType",
}
# XML Schema types of the catalog's scalar types; everything else is text (lists and objects
# are sent as JSON, which GDAL keeps as text too). Not "date": the catalog's dates may be
# reduced ("2023-03", a month the source names), and GDAL reads those as null in a Date field.
_XSD_TYPE = {
    "integer": "xs:integer",
    "number": "xs:double",
    "boolean": "xs:boolean",
    "datetime": "xs:dateTime",
}
# A URN, not a web address: nobody should try to fetch it, and it names no host of ours.
TARGET_NAMESPACE = "urn:x-mapservice:schema"


def feature_schema(base: str, layer: Layer, field_schema: Any) -> dict[str, Any]:
    """Part 5 JSON Schema of a layer's features; ``field_schema`` gives one field's schema
    (the queryables' own, so that both documents describe a field alike)."""
    declared = declared_geometry_type(layer)
    props: dict[str, Any] = {
        "id": {"type": "string", "title": "id", "x-ogc-role": "id", "readOnly": True},
        "geometry": {
            "format": _GEOMETRY_FORMAT[declared],
            "x-ogc-role": "primary-geometry",
            "title": "geometry",
        },
    }
    for name, fdef in layer.fields.items():
        if name == "id":
            continue
        props[name] = {"title": name, **field_schema(fdef)}
    required = [name for name, fdef in layer.fields.items() if fdef.required and name != "id"]
    doc: dict[str, Any] = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"{base}/collections/{layer.id}/schema",
        "type": "object",
        "title": layer.title,
        "description": layer.description,
        "properties": props,
    }
    if required:
        doc["required"] = required
    return doc


def _xsd_element(name: str, fdef: FieldDef) -> str:
    xsd = _XSD_TYPE.get(fdef.type, "xs:string")
    return f'<xs:element name={quoteattr(name)} type="{xsd}" minOccurs="0" nillable="true"/>'


def gml_application_schema(layer: Layer) -> str:
    """The layer as a GML 3.2 application schema (XSD): one feature type, its geometry and fields."""
    declared = declared_geometry_type(layer)
    type_name = f"{layer.id}Type"
    elements = [
        f'<xs:element name="geometry" type="{_GML_GEOMETRY[declared]}" minOccurs="0" nillable="true"/>',
        # Not the id: GDAL takes it from the features and would list it twice.
        *(_xsd_element(name, fdef) for name, fdef in layer.fields.items() if name != "id"),
    ]
    body = "\n".join(f"          {e}" for e in elements)
    # No schemaLocation on the GML import: a client must not fetch schemas.opengis.net to read
    # this (the service reaches no third party, and neither should its documents).
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:gml="http://www.opengis.net/gml/3.2"
  xmlns:ms="{TARGET_NAMESPACE}" targetNamespace="{TARGET_NAMESPACE}"
  elementFormDefault="qualified" version="1.0">
  <xs:import namespace="http://www.opengis.net/gml/3.2"/>
  <xs:element name={quoteattr(layer.id)} type={quoteattr("ms:" + type_name)}
    substitutionGroup="gml:AbstractFeature"/>
  <xs:complexType name={quoteattr(type_name)}>
    <xs:complexContent>
      <xs:extension base="gml:AbstractFeatureType">
        <xs:sequence>
{body}
        </xs:sequence>
      </xs:extension>
    </xs:complexContent>
  </xs:complexType>
</xs:schema>
"""
