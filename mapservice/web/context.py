"""The app's shared objects as the blueprints reach them (one place, typed)."""

from __future__ import annotations

from flask import current_app, request

from ..catalog import Catalog
from ..planning import Planning
from ..store.base import Store


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


def planning() -> Planning:
    found: Planning = current_app.extensions["mapservice.planning"]
    return found


def args() -> dict[str, list[str]]:
    """Query parameters with every repetition kept (repeats are an error for most)."""
    return {k: request.args.getlist(k) for k in request.args}
