"""The app's shared objects as the blueprints reach them (one place, typed)."""

from __future__ import annotations

from flask import current_app, request

from ..catalog.layers import Catalog, Layer
from ..planner.service import Planning
from ..store.base import Store
from .errors import ApiError


def store() -> Store:
    """What anonymous readers may see (unpublished sensitive features hidden)."""
    found: Store = current_app.extensions["mapservice.public_store"]
    return found


def full_store() -> Store:
    """Everything, for writes and for readers with a write token for the collection."""
    found: Store = current_app.extensions["mapservice.store"]
    return found


def catalog() -> Catalog:
    found: Catalog = current_app.extensions["mapservice.catalog"]
    return found


def collection_layer(collection_id: str) -> Layer:
    """The catalog entry of a collection named in a URL; 404 naming the collections if none."""
    found = catalog()
    if collection_id not in found:
        raise ApiError(
            404,
            "NotFound",
            f"Collection '{collection_id}' does not exist. Collections: {', '.join(found.ids())}",
        )
    return found[collection_id]


def planning() -> Planning:
    found: Planning = current_app.extensions["mapservice.planning"]
    return found


def args() -> dict[str, list[str]]:
    """Query parameters with every repetition kept (repeats are an error for most)."""
    return {k: request.args.getlist(k) for k in request.args}
