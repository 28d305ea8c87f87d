"""OGC API – Features through Flask's test client, over the shipped data."""

from __future__ import annotations

import gzip
import html
import json
import re
from collections.abc import Callable
from urllib.parse import parse_qs, urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient

from conftest import get_json

COLLECTIONS = {
    "districts",
    "statistical-districts",
    "municipalities",
    "contact-offices",
    "graffiti-zones",
    "video-surveillance",
    "prevention-bodies",
}
# Around Jena: Jena itself and its neighbours, but nothing in Saxony.
JENA_BBOX = "11.50,50.85,11.70,50.98"


def rels(doc: dict) -> dict[str, dict]:
    return {link["rel"]: link for link in doc["links"]}


def test_landing_page_links_everything_a_client_needs(client: FlaskClient) -> None:
    doc = get_json(client, "/api")
    links = rels(doc)
    assert {"self", "service-desc", "service-doc", "conformance", "data"} <= set(links)
    assert links["service-desc"]["type"] == "application/vnd.oai.openapi+json;version=3.0"
    assert links["data"]["href"].endswith("/api/collections")
    assert doc["title"]


def test_conformance_declares_core_geojson_html_oas30(client: FlaskClient) -> None:
    classes = get_json(client, "/api/conformance")["conformsTo"]
    for name in ("core", "geojson", "html", "oas30"):
        assert f"http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/{name}" in classes


def test_collections_list_every_layer_with_extent_and_links(client: FlaskClient) -> None:
    doc = get_json(client, "/api/collections")
    by_id = {c["id"]: c for c in doc["collections"]}
    assert set(by_id) == COLLECTIONS
    municipalities = by_id["municipalities"]
    assert municipalities["itemType"] == "feature"
    minx, miny, maxx, maxy = municipalities["extent"]["spatial"]["bbox"][0]
    # Thuringia and Saxony lie between 9.8 and 15.1 E, 50.1 and 51.7 N.
    assert 9.5 < minx < 10.5 and 14.5 < maxx < 15.5 and 50.0 < miny < 50.5 and 51.4 < maxy < 52
    items = [x for x in municipalities["links"] if x["rel"] == "items"]
    assert any(x["type"] == "application/geo+json" for x in items)
    assert any("queryables" in x["rel"] for x in municipalities["links"])
    assert "BKG" in municipalities["attribution"]
    # Nothing is invented: the layers without published locations are empty.
    assert by_id["graffiti-zones"]["numberOfFeatures"] == 0
    assert by_id["video-surveillance"]["numberOfFeatures"] == 0
    assert by_id["statistical-districts"]["numberOfFeatures"] == 41


def test_unknown_collection_is_404_json(client: FlaskClient) -> None:
    doc = get_json(client, "/api/collections/cameras", status=404)
    assert doc["code"] == "NotFound" and "cameras" in doc["description"]
    doc = get_json(client, "/api/collections/cameras/items", status=404)
    assert "districts" in doc["description"]  # tells which collections exist


def test_items_are_rfc7946_geojson_with_counts_and_timestamp(client: FlaskClient) -> None:
    response = client.get("/api/collections/districts/items?city=Jena&limit=100")
    assert response.status_code == 200
    assert response.mimetype == "application/geo+json"
    doc = json.loads(response.data)
    assert doc["type"] == "FeatureCollection"
    assert doc["numberMatched"] == 30 and doc["numberReturned"] == 30
    assert doc["timeStamp"].endswith("Z")
    names = {f["properties"]["name"] for f in doc["features"]}
    assert {"Winzerla", "Neulobeda", "Lobeda-Altstadt", "Jena-Nord", "Jena-Zentrum"} <= names
    for feature in doc["features"]:
        assert feature["id"] == feature["properties"]["id"]
        lon, lat = feature["geometry"]["coordinates"][0][0][0]
        assert 11.4 < lon < 11.8 and 50.8 < lat < 51.0  # lon first (RFC 7946)
    assert sum(f["properties"]["households"] for f in doc["features"]) == 61012


def test_statistical_districts_of_jena_add_up_to_its_districts(client: FlaskClient) -> None:
    import shapely
    from shapely.geometry import shape

    doc = get_json(client, "/api/collections/statistical-districts/items?limit=100")
    assert doc["numberMatched"] == 41 and doc["numberReturned"] == 41
    features = doc["features"]
    # Default order: city, then the city's number of the statistical district.
    assert [f["properties"]["number"] for f in features] == sorted(
        f["properties"]["number"] for f in features
    )
    districts = get_json(client, "/api/collections/districts/items?city=Jena&limit=100")
    households = {f["id"]: f["properties"]["households"] for f in districts["features"]}
    jena = shape(get_json(client, "/api/collections/municipalities/items/16053000")["geometry"])
    assert sum(f["properties"]["households"] for f in features) == 61012
    summed: dict[str, int] = {}
    for feature in features:
        props = feature["properties"]
        assert feature["id"] == props["id"] == f"jena-statbez-{props['number']}"
        assert props["city"] == "Jena" and props["city_ags"] == "16053000"
        assert props["district"] in households  # a Jena district id
        assert 0 < props["district_overlap_share"] <= 1
        assert props["households"] >= props["households_1person"] >= (props["households_1person_60plus"]) >= 0
        assert props["households_date"] == "2016-12-31"
        assert props["source"] and props["verified_on"]
        summed[props["district"]] = summed.get(props["district"], 0) + props["households"]
        geometry = shape(feature["geometry"])
        assert geometry.geom_type in ("Polygon", "MultiPolygon") and geometry.is_valid
        minx, miny, maxx, maxy = geometry.bounds
        assert 11.4 < minx < maxx < 11.8 and 50.8 < miny < maxy < 51.0  # lon first (RFC 7946)
        assert jena.buffer(0.005).contains(geometry.representative_point())
        for polygon in getattr(geometry, "geoms", [geometry]):
            assert shapely.is_ccw(polygon.exterior)  # RFC 7946 right-hand rule
    # Each district's households are the sum over the statistical districts assigned to it.
    assert summed == households and len(households) == 30
    winzerla = get_json(client, "/api/collections/statistical-districts/items/jena-statbez-90")
    assert winzerla["properties"]["name"] == "Winzerla"
    assert winzerla["properties"]["district"] == "jena-winzerla"
    assert winzerla["properties"]["households"] == 6483


def test_statistical_districts_filter_by_district(client: FlaskClient) -> None:
    doc = get_json(
        client,
        "/api/collections/statistical-districts/items?district=jena-neulobeda&properties=number,households",
    )
    assert sorted(f["properties"]["number"] for f in doc["features"]) == [62, 63, 131]
    neulobeda = get_json(client, "/api/collections/districts/items/jena-neulobeda")
    assert (
        sum(f["properties"]["households"] for f in doc["features"]) == neulobeda["properties"]["households"]
    )
    queryables = get_json(client, "/api/collections/statistical-districts/queryables")
    assert {"district", "number", "households"} <= set(queryables["properties"])


def test_bbox_selects_only_municipalities_around_jena(client: FlaskClient) -> None:
    doc = get_json(client, f"/api/collections/municipalities/items?bbox={JENA_BBOX}")
    ids = {f["id"] for f in doc["features"]}
    assert "16053000" in ids  # Jena
    assert all(i.startswith("16") for i in ids)  # all Thuringian
    assert 3 <= doc["numberMatched"] < 60
    assert doc["numberMatched"] == len(ids)


def test_bbox_is_exact_not_just_envelopes(client: FlaskClient) -> None:
    # A tiny box in the middle of Jena's old town meets exactly one municipality.
    doc = get_json(client, "/api/collections/municipalities/items?bbox=11.589,50.927,11.591,50.929")
    assert [f["id"] for f in doc["features"]] == ["16053000"]


def test_property_filters_sort_and_select(client: FlaskClient) -> None:
    doc = get_json(
        client,
        "/api/collections/municipalities/items?land=Sachsen&kind=Stadt"
        "&sortby=-population&limit=3&properties=name,population",
    )
    assert [f["properties"]["name"] for f in doc["features"]] == ["Leipzig", "Dresden", "Chemnitz"]
    assert set(doc["features"][0]["properties"]) == {"name", "population"}
    pops = [f["properties"]["population"] for f in doc["features"]]
    assert pops == sorted(pops, reverse=True)


def test_list_fields_filter_by_membership(client: FlaskClient) -> None:
    doc = get_json(client, "/api/collections/contact-offices/items?serves_districts=jena-winzerla")
    assert [f["id"] for f in doc["features"]] == ["kobb-jena-winzerla"]
    officer = doc["features"][0]["properties"]["officers"][0]
    assert officer["name"] == "Mario Bergner"


def test_skip_geometry(client: FlaskClient) -> None:
    doc = get_json(client, "/api/collections/districts/items?limit=2&skipGeometry=true")
    assert all(f["geometry"] is None for f in doc["features"])


def test_unknown_location_stays_null(client: FlaskClient) -> None:
    doc = get_json(client, "/api/collections/contact-offices/items/kobb-jena-nord")
    assert doc["geometry"] is None
    assert doc["properties"]["location_precision"] == "unknown"
    assert doc["properties"]["phone"] is None


def test_one_feature_with_links(client: FlaskClient) -> None:
    response = client.get("/api/collections/contact-offices/items/kobb-jena-winzerla")
    assert response.mimetype == "application/geo+json"
    doc = json.loads(response.data)
    assert doc["type"] == "Feature" and doc["id"] == "kobb-jena-winzerla"
    props = doc["properties"]
    assert props["opening_hours"] == "Mo 10:00-12:00; Th 15:00-17:00"
    assert props["street"] == "Anna-Siemsen-Straße" and props["housenumber"] == "27"
    assert props["location_precision"] == "street"  # the point is a neighbouring house
    assert props["source"] and props["verified_on"]
    assert {"self", "collection"} <= set(rels(doc))


def test_unknown_feature_is_404(client: FlaskClient) -> None:
    doc = get_json(client, "/api/collections/districts/items/jena-atlantis", status=404)
    assert "jena-atlantis" in doc["description"]


def test_paging_links_keep_every_parameter_and_reach_the_end(client: FlaskClient) -> None:
    url = "/api/collections/municipalities/items?land=Thüringen&limit=200&sortby=name"
    seen: list[str] = []
    pages = 0
    matched = None
    while url:
        doc = get_json(client, url)
        matched = doc["numberMatched"]
        seen += [f["id"] for f in doc["features"]]
        pages += 1
        nxt = rels(doc).get("next")
        if nxt:
            query = parse_qs(urlsplit(nxt["href"]).query)
            assert query["land"] == ["Thüringen"] and query["sortby"] == ["name"]
            assert query["limit"] == ["200"]
            url = nxt["href"].split("localhost", 1)[1]
        else:
            url = ""
        if pages > 1:
            assert "prev" in rels(doc)
    assert matched == 849 and len(seen) == 849 and len(set(seen)) == 849
    assert pages == 5


@pytest.mark.parametrize(
    ("query", "needle"),
    [
        ("bbox=1,2,3", "4 numbers"),
        ("bbox=a,b,c,d", "not a number"),
        ("bbox=11,50,12,95", "outside"),
        ("bbox=12,50,11,51", "greater than"),
        ("bbox=11,51,12,50", "greater than"),
        ("limit=0", "limit"),
        ("limit=10001", "limit"),
        ("limit=ten", "whole number"),
        ("offset=-1", "offset"),
        ("colour=red", "colour"),
        ("sortby=colour", "sortby"),
        ("properties=colour", "colour"),
        ("f=xml", "format"),
        ("kind=Dorf", "Dorf"),
        ("population=many", "population"),
        ("datetime=yesterday", "datetime"),
        ("skipGeometry=maybe", "skipGeometry"),
    ],
)
def test_bad_items_parameters_are_400_with_a_reason(client: FlaskClient, query: str, needle: str) -> None:
    response = client.get(f"/api/collections/municipalities/items?{query}")
    assert response.status_code == 400, query
    doc = json.loads(response.data)
    assert set(doc) == {"code", "description"}
    assert needle in doc["description"], doc
    assert "Traceback" not in response.get_data(as_text=True)


def test_unknown_parameter_on_landing_is_400(client: FlaskClient) -> None:
    assert get_json(client, "/api?foo=1", status=400)["code"] == "InvalidParameter"


def test_wrong_method_and_unknown_path(client: FlaskClient) -> None:
    response = client.post("/api/collections")
    assert response.status_code == 405 and json.loads(response.data)["code"] == "MethodNotAllowed"
    assert get_json(client, "/api/nothing-here", status=404)["code"] == "NotFound"


def test_etag_304_last_modified_cache_control(client: FlaskClient) -> None:
    url = "/api/collections/districts/items?limit=5"
    first = client.get(url)
    etag = first.headers["ETag"]
    assert first.headers["Last-Modified"]
    assert "max-age=" in first.headers["Cache-Control"] and "public" in first.headers["Cache-Control"]
    second = client.get(url, headers={"If-None-Match": etag})
    assert second.status_code == 304 and second.data == b""
    assert second.headers["ETag"] == etag
    other = client.get("/api/collections/districts/items?limit=6", headers={"If-None-Match": etag})
    assert other.status_code == 200
    for path in (
        "/api",
        "/api/conformance",
        "/api/collections",
        "/api/collections/districts",
        "/api/collections/districts/queryables",
        "/api/openapi",
        "/api/collections/districts/items/jena-winzerla",
        "/",
    ):
        response = client.get(path)
        assert response.status_code == 200, path
        assert {"ETag", "Last-Modified", "Cache-Control"} <= set(response.headers.keys()), path
        again = client.get(path, headers={"If-None-Match": response.headers["ETag"]})
        assert again.status_code == 304, path


def test_gzip_and_cors(client: FlaskClient) -> None:
    response = client.get(
        "/api/collections/municipalities/items?limit=50", headers={"Accept-Encoding": "gzip, deflate"}
    )
    assert response.headers["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in response.headers["Vary"]
    doc = json.loads(gzip.decompress(response.data))
    assert doc["numberReturned"] == 50
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    plain = client.get("/api/collections/municipalities/items?limit=50")
    assert "Content-Encoding" not in plain.headers


def test_html_by_f_or_accept(client: FlaskClient) -> None:
    by_param = client.get("/api/collections/districts/items?f=html&city=Jena")
    assert by_param.mimetype == "text/html"
    text = by_param.get_data(as_text=True)
    assert "Winzerla" in text and "<table" in text
    browser = client.get("/api/collections", headers={"Accept": "text/html,*/*;q=0.8"})
    assert browser.mimetype == "text/html"
    default = client.get("/api/collections", headers={"Accept": "*/*"})
    assert default.mimetype == "application/json"
    assert "Accept" in default.headers["Vary"]


@pytest.mark.parametrize(
    ("lang", "said", "not_said"),
    [("de", "Keine Objekte gefunden.", "0 Objekte"), ("en", "No features found.", "0 features")],
)
def test_an_empty_items_page_says_nothing_was_found(
    client: FlaskClient, lang: str, said: str, not_said: str
) -> None:
    # A filter that matches nothing: no "0 shown from no. 1", and the columns stay for the next filter.
    text = client.get(f"/api/collections/districts/items?f=html&lang={lang}&city=Nirgendwo").get_data(
        as_text=True
    )
    assert said in text and not_said not in text
    assert "<code>city</code>" in text
    matches = client.get(f"/api/collections/districts/items?f=html&lang={lang}&city=Jena").get_data(
        as_text=True
    )
    assert said not in matches


def test_queryables_describe_the_filterable_fields(client: FlaskClient) -> None:
    response = client.get("/api/collections/contact-offices/queryables")
    assert response.mimetype == "application/schema+json"
    doc = json.loads(response.data)
    assert doc["properties"]["kind"]["enum"][0] == "contact_officer_office"
    assert doc["properties"]["serves_districts"]["type"] == "array"
    assert "phone" not in doc["properties"]  # declared not queryable


def test_openapi_document_is_valid_openapi_30(client: FlaskClient) -> None:
    from openapi_spec_validator import validate

    response = client.get("/api/openapi")
    assert response.mimetype == "application/vnd.oai.openapi+json"
    doc = json.loads(response.data)
    validate(doc)
    assert "/collections/municipalities/items" in doc["paths"]
    names = {p.get("name") for p in doc["paths"]["/collections/municipalities/items"]["get"]["parameters"]}
    assert {"land", "kind", "population"} <= names
    names = {
        p.get("name") for p in doc["paths"]["/collections/statistical-districts/items"]["get"]["parameters"]
    }
    assert {"district", "number", "households"} <= names
    assert client.get("/api/openapi?f=html").mimetype == "text/html"


def test_datetime_filters_layers_with_validity_and_matches_none_without(client: FlaskClient) -> None:
    doc = get_json(client, "/api/collections/districts/items?datetime=2026-01-01")
    assert doc["numberMatched"] == 0
    doc = get_json(client, "/api/collections/video-surveillance/items?datetime=2026-01-01/..")
    assert doc["numberMatched"] == 0


def test_data_values_are_escaped_in_html(fresh_app: Flask) -> None:
    from shapely.geometry import Point

    store = fresh_app.extensions["mapservice"].store
    evil = "<img src=x onerror=alert(1)>"
    store.replace(
        "prevention-bodies",
        [
            (
                {
                    "id": "evil",
                    "name": evil,
                    "type": "kpr",
                    "status": "active",
                    "level": "gemeinde",
                    "source": '"><script>alert(1)</script>',
                    "verified_on": "2026-01-01",
                    "publication": "published",
                },
                Point(11.5, 50.9),
            )
        ],
    )
    client2 = fresh_app.test_client()
    for url in (
        "/api/collections/prevention-bodies/items?f=html",
        "/api/collections/prevention-bodies/items/evil?f=html",
    ):
        text = client2.get(url).get_data(as_text=True)
        assert evil not in text and "<script>alert(1)</script>" not in text
        assert "&lt;img src=x onerror=alert(1)&gt;" in text


def test_cors_preflight_allows_conditional_requests(client: FlaskClient) -> None:
    response = client.options(
        "/api/collections/districts/items",
        headers={
            "Origin": "https://www.jena.de",
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "if-none-match",
        },
    )
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "If-None-Match" in response.headers["Access-Control-Allow-Headers"]
    assert "GET" in response.headers["Access-Control-Allow-Methods"]


@pytest.mark.parametrize(
    "query",
    [
        "offset=999999999999999999999999999999",
        "population=99999999999999999999999",
        # (Valid RFC 3339 times at the calendar's edges are accepted: tests/api/test_hardening.py.)
        "datetime=10000-01-01T00:00:00Z",
        "properties=",
    ],
)
def test_extreme_values_are_400_not_500(client: FlaskClient, query: str) -> None:
    response = client.get(f"/api/collections/municipalities/items?{query}")
    assert response.status_code == 400, (query, response.data[:300])
    assert json.loads(response.data)["code"] == "InvalidParameterValue"


def test_missing_feature_is_404_even_with_preconditions(client: FlaskClient) -> None:
    response = client.get("/api/collections/districts/items/nope", headers={"If-None-Match": "*"})
    assert response.status_code == 404


def test_cached_responses_keep_their_content_type_and_304_varies(client: FlaskClient) -> None:
    first = client.get("/api/collections?f=html")
    second = client.get("/api/collections?f=html")
    assert first.headers["Content-Type"] == second.headers["Content-Type"] == "text/html; charset=utf-8"
    again = client.get("/api/collections?f=html", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304 and "Accept-Encoding" in again.headers["Vary"]


def test_prev_from_beyond_the_end_leads_to_the_last_page(client: FlaskClient) -> None:
    doc = get_json(client, "/api/collections/municipalities/items?offset=5000&limit=100")
    assert doc["numberReturned"] == 0 and "next" not in rels(doc)
    prev = parse_qs(urlsplit(rels(doc)["prev"]["href"]).query)
    assert prev["offset"] == ["1175"]


def test_sorting_follows_german_alphabet(client: FlaskClient) -> None:
    from mapservice.store.sql import sort_key_de

    doc = get_json(client, "/api/collections/municipalities/items?sortby=name&limit=10000&properties=name")
    names = [f["properties"]["name"] for f in doc["features"]]
    assert names == sorted(names, key=sort_key_de)
    # Binary order would put "Zöllnitz" after "Zwönitz" (ö > w); German order does not.
    assert names.index("Zöllnitz") < names.index("Zwickau") < names.index("Zwönitz")


def test_etag_depends_on_settings_and_proxy_prefix(
    make_app: Callable[..., Flask], client: FlaskClient
) -> None:
    url = "/api/collections/districts/items"
    other = make_app(default_limit=20).test_client()
    assert client.get(url).headers["ETag"] != other.get(url).headers["ETag"]
    proxied = make_app(proxy_hops=1).test_client()
    a = proxied.get(url, headers={"X-Forwarded-Prefix": "/stadt-a"})
    b = proxied.get(url, headers={"X-Forwarded-Prefix": "/stadt-b"})
    assert a.headers["ETag"] != b.headers["ETag"]
    assert "/stadt-b/api/" in json.loads(b.data)["links"][0]["href"]


def test_each_collection_links_its_feature_schema(client: FlaskClient) -> None:
    doc = get_json(client, "/api/collections/districts")
    links = {(link["rel"], link["type"]): link["href"] for link in doc["links"]}
    schema_url = links[("describedby", "application/schema+json")]
    assert links[("http://www.opengis.net/def/rel/ogc/1.0/schema", "application/schema+json")] == schema_url
    response = client.get(urlsplit(schema_url).path)
    assert response.mimetype == "application/schema+json"
    schema = json.loads(response.data)
    props = schema["properties"]
    assert props["id"]["x-ogc-role"] == "id"
    assert props["geometry"] == {
        "format": "geometry-multipolygon",
        "x-ogc-role": "primary-geometry",
        "title": "geometry",
    }
    assert props["population"]["type"] == "integer" and props["population"]["minimum"] == 0
    assert props["area_km2"]["type"] == "number"
    xsd = client.get(urlsplit(links[("describedBy", "application/xml")]).path + "?f=xsd")
    assert xsd.mimetype == "application/xml"
    assert b'name="population" type="xs:integer"' in xsd.data
    assert b'type="gml:MultiSurfacePropertyType"' in xsd.data


def test_feature_schema_rejects_an_unknown_format(client: FlaskClient) -> None:
    response = client.get("/api/collections/districts/schema?f=csv")
    assert response.status_code == 400
    assert "'f'" in json.loads(response.data)["description"]


def test_part_5_schemas_are_declared_as_qgis_needs_them(client: FlaskClient) -> None:
    """QGIS takes a layer's fields from the schema only where the conformance declares Part 5
    schemas and the collection links it with the Part 5 relation as application/schema+json."""
    assert (
        "http://www.opengis.net/spec/ogcapi-features-5/1.0/conf/schemas"
        in get_json(client, "/api/conformance")["conformsTo"]
    )
    links = get_json(client, "/api/collections/video-surveillance")["links"]
    schema = [
        link
        for link in links
        if link["rel"] == "http://www.opengis.net/def/rel/ogc/1.0/schema"
        and link["type"] == "application/schema+json"
    ]
    assert len(schema) == 1
    doc = get_json(client, urlsplit(schema[0]["href"]).path)
    assert doc["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert doc["properties"]["geometry"]["format"] == "geometry-point"
    assert doc["properties"]["signage"]["type"] == "boolean"


@pytest.mark.parametrize("lang", ["de", "en"])
def test_api_documentation_page_words_every_operation_and_parameter_in_its_language(
    client: FlaskClient, lang: str
) -> None:
    """The OpenAPI document is English; its HTML page takes each operation's and parameter's
    text from i18n.OPENAPI_TEXT, or it would show the document's English on a German page."""
    from mapservice.i18n import OPENAPI_TEXT

    words = OPENAPI_TEXT[lang]
    doc = get_json(client, "/api/openapi")
    fields = {name for layer in doc["tags"] for name in ()} | {
        n
        for c in get_json(client, "/api/collections")["collections"]
        for n in get_json(client, f"/api/collections/{c['id']}/queryables")["properties"]
    }
    missing = []
    for item in doc["paths"].values():
        for op in item.values():
            kind = op["operationId"].split("_")[0]
            if f"op_{kind}" not in words:
                missing.append(f"op_{kind}")
            for param in op.get("parameters", []):
                if "$ref" in param:
                    param = doc["components"]["parameters"][param["$ref"].rsplit("/", 1)[-1]]
                name = param["name"]
                worded = f"p_{kind}_{name}" in words or f"p_{name}" in words
                if param["in"] == "query" and name not in fields and not worded:
                    missing.append(f"p_{name} ({kind})")
    assert not missing, sorted(set(missing))


@pytest.mark.parametrize(
    ("lang", "json_label"), [("de", "diese Seite als JSON"), ("en", "this page as JSON")]
)
def test_the_html_pages_name_their_json_link_as_json(client: FlaskClient, lang: str, json_label: str) -> None:
    # The "self" link of a JSON document leads to the JSON: on its HTML page, "diese Seite"
    # alone named a link that does not lead to the page one is reading.
    for path in ("/api", "/api/collections/districts", "/api/collections/districts/items/jena-winzerla"):
        page = client.get(f"{path}?f=html&lang={lang}").get_data(as_text=True)
        found = re.search(r'<a href="([^"]+)" rel="self" type="application/(?:geo\+)?json">([^<]+)</a>', page)
        assert found is not None, path
        assert found.group(2) == json_label, (path, found.groups())
        # Followed as a browser follows it (Accept: text/html), the link gives the JSON.
        followed = client.get(html.unescape(found.group(1)), headers={"Accept": "text/html"})
        assert followed.mimetype in ("application/json", "application/geo+json"), (path, found.group(1))
