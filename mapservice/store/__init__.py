"""Storage behind one interface (:class:`~mapservice.store.base.Store`): the shared SQL core,
the GeoPackage and PostGIS dialects, the public view, write tokens, opening and upgrades."""

from .base import (
    Filter,
    LayerState,
    Query,
    QueryResult,
    SortKey,
    Store,
    StoredFeature,
    StoreError,
)

__all__ = [
    "Filter",
    "LayerState",
    "Query",
    "QueryResult",
    "SortKey",
    "Store",
    "StoreError",
    "StoredFeature",
]
