"""``/api`` writes: OGC API – Features Part 4 (POST, PUT, PATCH, DELETE on items) and the
change history of a feature. Thin routes: authorise, read the body, ask the store.

Every write needs a bearer token scoped to the collection. PUT, PATCH and DELETE also need
``If-Match`` with the feature's current ETag (from GET), so nobody overwrites a change they have
not seen: a stale ETag gets 412 and nothing changes. The check runs inside the store's write
transaction, where writers of a layer take turns, so two writers cannot both pass it.
"""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, Response, current_app, request, url_for
from werkzeug.exceptions import RequestEntityTooLarge

from ..catalog.layers import Layer
from ..catalog.validation import Limits, Problem, geometry_bounds, value_problem
from ..http.auth import writer
from ..http.caching import feature_etag, if_match
from ..http.context import catalog as _catalog
from ..http.context import collection_layer as _layer
from ..http.context import full_store
from ..http.context import settings as _settings
from ..http.errors import ApiError
from ..store.base import (
    Edit,
    StoredFeature,
    Token,
)
from . import documents as ogc
from . import editing

bp = Blueprint("edit", __name__, url_prefix="/api")

JSON_TYPES = ("application/geo+json", "application/json")
MERGE_PATCH = "application/merge-patch+json"


def _writer(layer: Layer) -> Token:
    return writer(layer.id)


def _actor(token: Token) -> str:
    return f"{token.name} (token {token.id})"


def _read_body() -> bytes:
    """The request body, refused with 413 when it is longer than MAX_CONTENT_LENGTH.

    Werkzeug refuses a too long Content-Length itself, but a chunked body has none: its stream
    ends at the limit, and what was read would be cut off (and answered "not valid JSON").
    So one byte past the limit is asked for; the stream raises when there is more."""
    limit = int(current_app.config["MAX_CONTENT_LENGTH"])
    try:
        data = request.stream.read(limit)
        if len(data) >= limit:
            request.stream.read(1)
    except RequestEntityTooLarge as exc:
        raise ApiError(
            413,
            "PayloadTooLarge",
            f"The request body is larger than {limit:,} bytes ({limit >> 20} MiB), "
            "the most one write may send",
        ) from exc
    return data


def _body(*types: str) -> Any:
    if request.mimetype not in types:
        raise ApiError(
            415,
            "UnsupportedMediaType",
            f"Send the feature as {' or '.join(types)} (Content-Type was '{request.mimetype or 'missing'}')",
        )
    try:
        body = json.loads(_read_body())
    except RecursionError as exc:
        nesting = _limits().nesting
        raise ApiError(
            400,
            "InvalidBody",
            f"The request body is nested more than {nesting} levels deep (setting max_nesting)",
        ) from exc
    except ValueError as exc:
        raise ApiError(400, "InvalidBody", f"The request body is not valid JSON: {exc}") from exc
    found = hostile_value(body)
    if found is not None:
        where, message = found
        raise ApiError(
            400,
            "InvalidBody",
            f"The feature was not saved: {where}: {message}",
            problems=[{"field": where, "problem": message}],
        )
    return body


def _limits() -> Limits:
    return Limits.of(_settings())


def hostile_value(body: Any) -> tuple[str, str] | None:
    """What in a parsed body is beyond the limits (catalog/validation.py), as (where, what).

    The geometry's vertices are counted first: that is quick, where walking a million
    coordinates is not.
    """
    limits = _limits()
    geometry = body.get("geometry") if isinstance(body, dict) else None
    if isinstance(geometry, dict):
        beyond = geometry_bounds(geometry, limits)
        if beyond:
            return beyond[0]
    return value_problem(body, limits)


def _refuse(problems: list[Problem]) -> None:
    if problems:
        listed = [{"field": p.field, "problem": p.message} for p in problems]
        summary = "; ".join(f"{p.field or 'feature'}: {p.message}" for p in problems)
        raise ApiError(400, "InvalidFeature", f"The feature was not saved: {summary}", problems=listed)


def _require_if_match() -> None:
    if not request.if_match:
        raise ApiError(
            428,
            "PreconditionRequired",
            "Send If-Match with the feature's ETag "
            "(from GET on the feature), so no change made since is overwritten",
        )


def _check_current(layer: Layer, feature_id: str) -> Any:
    def check(current: StoredFeature | None) -> None:
        if current is None:
            raise ApiError(404, "NotFound", f"Collection '{layer.id}' has no feature with id '{feature_id}'")
        if not if_match(request, current):
            raise ApiError(
                412,
                "PreconditionFailed",
                f"'{feature_id}' was changed since your "
                "copy (If-Match does not match its ETag); GET it again, redo the "
                "change and send the new ETag",
            )

    return check


def _feature_response(layer: Layer, feature: StoredFeature, status: int) -> Response:
    url = url_for("api.item", collection_id=layer.id, feature_id=feature.id, _external=True)
    links = [
        ogc.link(f"{url}?f=json", "self", ogc.GEOJSON, "dieses Objekt / this feature"),
        ogc.link(
            url_for("api.collection", collection_id=layer.id, _external=True),
            "collection",
            ogc.JSON,
            layer.title,
        ),
    ]
    response = Response(ogc.feature_json(feature, None, False, links), status=status, mimetype=ogc.GEOJSON)
    response.set_etag(feature_etag(feature))
    response.headers["Cache-Control"] = "no-store"
    if status == 201:
        response.headers["Location"] = url
    return response


@bp.post("/collections/<collection_id>/items")
def create(collection_id: str) -> Response:
    layer = _layer(collection_id)
    token = _writer(layer)
    doc = _body(*JSON_TYPES)
    given = doc.get("id") if isinstance(doc, dict) else None
    if given is None and isinstance(doc, dict) and isinstance(doc.get("properties"), dict):
        given = doc["properties"].get("id")
    feature_id = str(given) if given is not None else editing.new_id()
    (props, geom), problems = editing.read_feature(layer, doc, feature_id, _limits())
    _refuse(problems)
    return _save(layer, token, Edit("create", feature_id, props, geom))


@bp.put("/collections/<collection_id>/items/<feature_id>")
def replace(collection_id: str, feature_id: str) -> Response:
    layer = _layer(collection_id)
    token = _writer(layer)
    _require_if_match()
    return _save_replacement(layer, token, feature_id, _body(*JSON_TYPES))


@bp.patch("/collections/<collection_id>/items/<feature_id>")
def patch(collection_id: str, feature_id: str) -> Response:
    layer = _layer(collection_id)
    token = _writer(layer)
    _require_if_match()
    patch_doc = _body(MERGE_PATCH, *JSON_TYPES)
    if not isinstance(patch_doc, dict):
        raise ApiError(
            400, "InvalidBody", 'A merge patch is a JSON object, e.g. {"properties": {"status": "active"}}'
        )
    store = full_store()
    current = store.get(layer.id, feature_id)
    if current is None:
        raise ApiError(404, "NotFound", f"Collection '{layer.id}' has no feature with id '{feature_id}'")
    # The patch applies to the copy read here; the store's check below refuses the write if
    # the feature changed since (its ETag would differ from If-Match), so nothing is lost.
    base = {
        "type": "Feature",
        "id": current.id,
        "properties": current.properties,
        "geometry": None if current.geometry is None else json.loads(current.geometry),
    }
    merged = editing.merge_patch(base, patch_doc)
    if isinstance(merged.get("properties"), dict):
        merged["properties"] = {k: v for k, v in merged["properties"].items() if v is not None}
    return _save_replacement(layer, token, feature_id, merged)


def _save_replacement(layer: Layer, token: Token, feature_id: str, doc: Any) -> Response:
    """Check a whole new version of a feature (PUT's body, a patched copy) and store it."""
    (props, geom), problems = editing.read_feature(layer, doc, feature_id, _limits())
    _refuse(problems)
    return _save(layer, token, Edit("replace", feature_id, props, geom))


def _save(layer: Layer, token: Token, edit: Edit) -> Response:
    """Store a created or replaced feature; a replacement must still be the If-Match one."""
    store = full_store()
    _refuse(
        editing.reference_problems(store, _catalog().layers, layer, (edit.properties or {}, edit.geometry))
    )
    creating = edit.action == "create"
    check = None if creating else _check_current(layer, edit.feature_id)
    result = store.edit(layer.id, edit, _actor(token), check=check)
    assert result.after is not None
    return _feature_response(layer, result.after, 201 if creating else 200)


@bp.delete("/collections/<collection_id>/items/<feature_id>")
def delete(collection_id: str, feature_id: str) -> Response:
    layer = _layer(collection_id)
    token = _writer(layer)
    _require_if_match()
    store = full_store()
    used_by = editing.referrers(store, _catalog().layers, layer.id, feature_id)
    if used_by:
        raise ApiError(
            409, "Conflict", f"'{feature_id}' is named by {', '.join(used_by)}; change those first"
        )
    store.edit(layer.id, Edit("delete", feature_id), _actor(token), check=_check_current(layer, feature_id))
    response = Response(status=204)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/collections/<collection_id>/items/<feature_id>/history")
def history(collection_id: str, feature_id: str) -> Response:
    """Every change of the feature, oldest first. Needs a token for the collection: the log
    names people and keeps unpublished states."""
    layer = _layer(collection_id)
    _writer(layer)
    entries = full_store().history(layer.id, feature_id)
    if not entries and full_store().get(layer.id, feature_id) is None:
        raise ApiError(
            404,
            "NotFound",
            f"Collection '{layer.id}' has no feature with id '{feature_id}' and never had one",
        )
    item = url_for("api.item", collection_id=layer.id, feature_id=feature_id, _external=True)
    doc: dict[str, Any] = {
        "collection": layer.id,
        "featureId": feature_id,
        "numberOfChanges": len(entries),
        "changes": [editing.history_doc(e) for e in entries],
        "links": [
            ogc.link(f"{item}/history", "self", ogc.JSON, "Änderungen / changes"),
            ogc.link(item, "describedby", ogc.GEOJSON, "das Objekt / the feature"),
        ],
    }
    if not entries:
        doc["note"] = "unverändert seit dem ersten Laden / unchanged since the data was loaded"
    response = Response(
        json.dumps(doc, ensure_ascii=False, separators=(",", ":")), mimetype="application/json"
    )
    response.headers["Cache-Control"] = "private, no-store"
    return response
