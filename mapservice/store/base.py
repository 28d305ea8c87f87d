"""The one small interface every storage backend implements.

The web layer and the command line only talk to :class:`Store`; the GeoPackage backend is the
embedded default and a PostGIS backend can sit behind the same methods. Geometries leave the
store as GeoJSON text (lon/lat, RFC 7946) because the API's hot path splices them into
responses as they are; callers that need shapely objects parse them.
"""

from __future__ import annotations

import abc
import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import shapely

BBox = tuple[float, float, float, float]


class StoreError(Exception):
    """A storage operation failed; nothing was changed."""


@dataclass(frozen=True)
class Filter:
    """``field = value``; for a list-of-strings field: the list contains ``value``."""

    field: str
    value: Any
    contains: bool = False


@dataclass(frozen=True)
class SortKey:
    field: str
    ascending: bool = True


@dataclass(frozen=True)
class Query:
    bbox: BBox | None = None
    filters: Sequence[Filter] = ()
    sortby: Sequence[SortKey] = ()
    limit: int = 100
    offset: int = 0
    # datetime filter as ISO UTC bounds (None = open); matches features whose validity
    # (the layer's temporal start/end fields) overlaps it. Layers without time match nothing.
    interval: tuple[str | None, str | None] | None = None


@dataclass(frozen=True)
class StoredFeature:
    id: str
    properties: dict[str, Any]
    geometry: str | None  # GeoJSON geometry object as text, or None for an unknown location


@dataclass(frozen=True)
class QueryResult:
    features: list[StoredFeature]
    number_matched: int


@dataclass(frozen=True)
class LayerState:
    """What a cache needs to know: the version changes with every write to the layer."""

    version: int
    updated_at: dt.datetime  # UTC, whole seconds (HTTP dates have no fractions)
    count: int
    extent: BBox | None = field(default=None)


# A feature on its way in: validated properties and a shapely geometry (or None).
NewFeature = tuple[dict[str, Any], "shapely.Geometry | None"]


class Store(abc.ABC):
    """Features per layer, queried by bbox / property filters / sort / paging."""

    @abc.abstractmethod
    def layer_ids(self) -> list[str]:
        """The layers the store holds."""

    @abc.abstractmethod
    def query(self, layer_id: str, query: Query) -> QueryResult:
        """Features of a layer matching ``query``; bbox queries use a spatial index."""

    @abc.abstractmethod
    def get(self, layer_id: str, feature_id: str) -> StoredFeature | None:
        """One feature by its stable id, or None."""

    @abc.abstractmethod
    def state(self, layer_id: str) -> LayerState:
        """Version, time of last change, count and extent of a layer."""

    @abc.abstractmethod
    def replace(self, layer_id: str, features: Sequence[NewFeature]) -> LayerState:
        """Swap the whole content of a layer in one transaction: all lands or nothing changes."""

    def close(self) -> None:  # noqa: B027 - optional hook, most backends need nothing
        """Release connections."""
