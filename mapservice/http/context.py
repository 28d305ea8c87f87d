"""The app's services as a request reaches them: one typed accessor instead of string keys."""

from __future__ import annotations

from flask import current_app, request, url_for

from ..catalog.layers import Catalog, Layer
from ..config import Settings
from ..planner.service import Planning
from ..services import Services
from ..store.base import Store
from .errors import ApiError


def services() -> Services:
    found: Services = current_app.extensions["mapservice"]
    return found


def settings() -> Settings:
    return services().settings


def store() -> Store:
    """What anonymous readers may see (unpublished sensitive features hidden)."""
    return services().public_store


def full_store() -> Store:
    """Everything, for writes and for readers with a write token for the collection."""
    return services().store


def catalog() -> Catalog:
    return services().catalog


def planning() -> Planning:
    return services().planning


def collection_layer(collection_id: str) -> Layer:
    """The catalog entry of a collection named in a URL; 404 naming the collections if none."""
    found = catalog()
    if collection_id not in found:
        raise ApiError(
            404,
            "NotFound",
            f"Collection '{collection_id}' does not exist. Collections: {', '.join(found.ids())}",
            key="unknown_collection",
            params={"collection": collection_id},
            links=[
                {
                    "de": found[i].title,
                    "en": found[i].title_en,
                    "href": url_for("api.items", collection_id=i, f="html"),
                }
                for i in found.ids()
            ],
        )
    return found[collection_id]


def args() -> dict[str, list[str]]:
    """Query parameters with every repetition kept (repeats are an error for most)."""
    return {k: request.args.getlist(k) for k in request.args}
