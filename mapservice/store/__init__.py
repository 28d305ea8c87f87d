"""Storage backends behind one interface (:class:`~mapservice.store.base.Store`)."""

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
