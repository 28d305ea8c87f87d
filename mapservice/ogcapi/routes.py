"""``/api``: OGC API – Features. Thin routes: parse, ask the store, hand to ogc.py, render."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from typing import Any

from flask import Blueprint, Response, request, url_for

from ..http.auth import may_read_all
from ..http.caching import Validators, conditional, etag_of_revision
from ..http.context import args as _args
from ..http.context import catalog as _catalog
from ..http.context import collection_layer as _layer
from ..http.context import full_store, services
from ..http.context import store as _store
from ..http.errors import ApiError
from ..http.pages import render
from ..http.params import bad, check_known, parse_format, parse_items, single
from ..i18n import OPENAPI_TEXT, pick_lang
from ..store.base import LayerState, Store, revision
from . import documents as ogc
from .crs import CRS84, Crs, features_in, parse_crs
from .openapi import openapi_document
from .schema import gml_application_schema

bp = Blueprint("api", __name__, url_prefix="/api")


def _base() -> str:
    return url_for("api.landing", _external=True).rstrip("/")


def _wants_html(fmt: str | None) -> bool:
    if fmt is not None:
        return fmt == "html"
    best = request.accept_mimetypes.best_match(
        ["application/json", "application/geo+json", "text/html"], default="application/json"
    )
    return best == "text/html"


def _states(layer_ids: Sequence[str]) -> dict[str, LayerState]:
    store = _store()
    return {lid: store.state(lid) for lid in layer_ids}


def _state_fn(layer_ids: Sequence[str]) -> Any:
    return lambda: list(_states(layer_ids).values())


def _lang(args: Mapping[str, Sequence[str]]) -> str:
    """The language of an HTML page: ``lang`` (de, en), German by default."""
    return pick_lang(single(args, "lang"))


def _json(doc: Any, mimetype: str = "application/json") -> Response:
    return Response(json.dumps(doc, ensure_ascii=False, separators=(",", ":")), mimetype=mimetype)


def _respond(
    doc_args: Mapping[str, Any],
    states: Any,
    build_doc: Any,
    template: str,
    mimetype: str = "application/json",
) -> Response:
    """JSON or HTML of a document, with validators and content negotiation."""
    check_known(doc_args, {"f", "lang"})
    fmt = parse_format(doc_args)
    html = _wants_html(fmt)
    lang = _lang(doc_args)

    def build() -> Response:
        doc = build_doc()
        if html:
            body = render(template, lang, doc=doc, catalog=_catalog(), oa=OPENAPI_TEXT[pick_lang(lang)])
            return Response(body, mimetype="text/html")
        return _json(doc, mimetype)

    response = conditional(Validators(states, "html" if html else "json", lang, replayable=True), build)
    response.vary.add("Accept")
    return response


@bp.get("", strict_slashes=False)
def landing() -> Response:
    base = _base()
    return _respond(_args(), [], lambda: ogc.landing(base), "api/landing.html")


@bp.get("/conformance")
def conformance() -> Response:
    return _respond(_args(), [], ogc.conformance, "api/conformance.html")


@bp.get("/openapi")
def openapi() -> Response:
    settings = services().settings
    base = _base()
    return _respond(
        _args(),
        [],
        lambda: openapi_document(base, _catalog(), settings.max_limit, settings.default_limit),
        "api/openapi.html",
        "application/vnd.oai.openapi+json;version=3.0",
    )


@bp.get("/collections")
def collections() -> Response:
    catalog = _catalog()
    states = _states(catalog.ids())
    base = _base()
    return _respond(
        _args(),
        _state_fn(catalog.ids()),
        lambda: ogc.collections(base, catalog, states),
        "api/collections.html",
    )


def _reader_store(layer_id: str) -> Store:
    """The public view, or everything for a reader with a token for this collection."""
    return full_store() if may_read_all(layer_id) else _store()


@bp.get("/collections/<collection_id>")
def collection(collection_id: str) -> Response:
    layer = _layer(collection_id)
    state = _reader_store(layer.id).state(layer.id)
    base = _base()
    return _respond(
        _args(), _state_fn([layer.id]), lambda: ogc.collection(base, layer, state), "api/collection.html"
    )


@bp.get("/collections/<collection_id>/queryables")
def queryables(collection_id: str) -> Response:
    layer = _layer(collection_id)
    base = _base()
    return _respond(
        _args(), [], lambda: ogc.queryables(base, layer), "api/queryables.html", "application/schema+json"
    )


@bp.get("/collections/<collection_id>/schema")
def feature_schema(collection_id: str) -> Response:
    """Part 5 JSON Schema, or with ``f=xsd`` the same as a GML application schema (schema.py)."""
    layer = _layer(collection_id)
    args = _args()
    check_known(args, {"f"})
    fmt = single(args, "f")
    if fmt not in (None, "json", "xsd"):
        raise bad("f", f"'{fmt}' is not a schema format (use json or xsd)")
    base = _base()

    def build() -> Response:
        if fmt == "xsd":
            return Response(gml_application_schema(layer), mimetype="application/xml")
        return _json(ogc.feature_schema(base, layer), "application/schema+json")

    return conditional(Validators([], fmt or "json", "de", replayable=True), build)


def _with_content_crs(response: Response, crs: Crs) -> Response:
    """Part 2: a GeoJSON response names the CRS of its coordinates. Set on every answer, as a
    cached or replayed one is rebuilt from its body alone."""
    response.headers["Content-Crs"] = f"<{crs.uri}>"
    return response


def _timestamp() -> str:
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


@bp.get("/collections/<collection_id>/items")
def items(collection_id: str) -> Response:
    layer = _layer(collection_id)
    settings = services().settings
    args = _args()
    req = parse_items(args, layer, settings.default_limit, settings.max_limit)
    html = _wants_html(req.fmt)
    store = _reader_store(layer.id)
    url = url_for("api.items", collection_id=layer.id, _external=True)

    def build() -> Response:
        # The plain GeoJSON page is a concatenation of the features' stored texts (CRS84).
        whole = not html and req.properties is None and not req.skip_geometry and req.crs == CRS84
        if whole:
            page = store.query_encoded(layer.id, req.query)
            returned, matched, next_after = len(page.features), page.number_matched, page.next_after
            read_at = page.version
        else:
            result = store.query(layer.id, req.query)
            returned, matched, next_after = len(result.features), result.number_matched, result.next_after
            read_at = result.version
        if store is _store():  # the store whose states the validators hold: its versions
            validators.body_read_at(read_at)
        # The HTML page's own links lead on to HTML pages.
        link_args = {**args, "f": ["html"]} if html else args
        links = ogc.paging_links(
            url, link_args, req.query.offset, req.query.limit, returned, matched, next_after
        )
        links.append(
            ogc.link(
                url_for("api.collection", collection_id=layer.id, _external=True),
                "collection",
                ogc.JSON,
                layer.title,
            )
        )
        if whole:
            encoded = ogc.encoded_collection_json(page.features, matched, _timestamp(), links)
            return Response(encoded, mimetype=ogc.GEOJSON)
        if html:
            return Response(
                render(
                    "api/items.html",
                    _lang(args),
                    layer=layer,
                    features=result.features,
                    links=links,
                    matched=matched,
                    offset=req.query.offset,
                    properties=req.properties or list(layer.fields),
                    filter_text=single(args, "filter")
                    if single(args, "filter-lang") in (None, "cql2-text")
                    else None,
                ),
                mimetype="text/html",
            )
        features = result.features if req.skip_geometry else features_in(result.features, req.crs)
        body = ogc.feature_collection_json(
            features, matched, _timestamp(), links, req.properties, req.skip_geometry
        )
        return Response(body, mimetype=ogc.GEOJSON)

    validators = Validators(_state_fn([layer.id]), "html" if html else "json", _lang(args), replayable=True)
    response = conditional(validators, build)
    response.vary.add("Accept")
    # The HTML page shows lon/lat on its map whatever ``crs`` says (its links keep it).
    return response if html else _with_content_crs(response, req.crs)


@bp.get("/collections/<collection_id>/items/<feature_id>")
def item(collection_id: str, feature_id: str) -> Response:
    layer = _layer(collection_id)
    args = _args()
    check_known(args, {"f", "lang", "crs"})
    html = _wants_html(parse_format(args))
    crs = parse_crs("crs", single(args, "crs"))
    lang = _lang(args)
    store = _reader_store(layer.id)
    states = _state_fn([layer.id])
    # The layer version first, then the feature: a write in between shows in the version.
    versions = states()
    # Looked up before the preconditions: a missing feature is 404, never 304. Its revision
    # (a short column) is all a revalidation needs; the feature is read to build a body.
    feature_revision = store.feature_revision(layer.id, feature_id)
    if feature_revision is None:
        raise _no_feature(layer.id, feature_id)
    # The GeoJSON has the feature's own strong ETag: a write sends it back in If-Match. In
    # another CRS it is other bytes, so another strong ETag (a write compares the CRS84 one).
    validators = Validators(
        states,
        "html" if html else "json",
        lang,
        strong_etag=None if html else etag_of_revision(feature_revision, "" if crs == CRS84 else crs.uri),
        replayable=True,
        versions_read=versions,
    )

    def build() -> Response:
        feature = store.get(layer.id, feature_id)
        if feature is None:  # deleted since its revision was read
            raise _no_feature(layer.id, feature_id)
        if revision(feature) != feature_revision:
            validators.body_is_newer()  # changed since: this body must not carry that ETag
        url = url_for("api.item", collection_id=layer.id, feature_id=feature_id, _external=True)
        coll = url_for("api.collection", collection_id=layer.id, _external=True)
        links = [
            ogc.link(f"{url}?f=json", "self", ogc.GEOJSON, "dieses Objekt / this feature"),
            ogc.link(f"{url}?f=html", "alternate", ogc.HTML, "als HTML / as HTML"),
            ogc.link(coll, "collection", ogc.JSON, layer.title),
        ]
        if html:
            return Response(
                render("api/item.html", lang, layer=layer, feature=feature, links=links),
                mimetype="text/html",
            )
        (in_crs,) = features_in([feature], crs)
        return Response(ogc.feature_json(in_crs, None, False, links), mimetype=ogc.GEOJSON)

    response = conditional(validators, build)
    response.vary.add("Accept")
    return response if html else _with_content_crs(response, crs)


def _no_feature(layer_id: str, feature_id: str) -> ApiError:
    return ApiError(
        404,
        "NotFound",
        f"Collection '{layer_id}' has no feature with id '{feature_id}'",
        key="no_feature",
    )
