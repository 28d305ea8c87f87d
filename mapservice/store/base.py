"""The one small interface every storage backend implements.

The web layer and the command line only talk to :class:`Store`; the GeoPackage backend is the
embedded default and a PostGIS backend can sit behind the same methods. Geometries leave the
store as GeoJSON text (lon/lat, RFC 7946) because the API's hot path splices them into
responses as they are; callers that need shapely objects parse them.
"""

from __future__ import annotations

import abc
import datetime as dt
import hashlib
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import shapely

from .expressions import Expression

BBox = tuple[float, float, float, float]

# The limit of a query meant to read every feature of a layer (a map's list, an index, an
# export): above any layer a city or a Land keeps, so nothing is silently cut off.
FETCH_ALL = 1_000_000


class StoreError(Exception):
    """A storage operation failed; nothing was changed."""


class StoreUnavailable(StoreError):
    """The store cannot be used until the operator acts: its file was removed, replaced or
    is damaged. The message (one line, for the operator) says what and how to restore;
    ``reading`` and ``writing`` are what an API client is told on a read or a write (no paths)."""

    def __init__(self, message: str, reading: str = "", writing: str = "") -> None:
        super().__init__(message)
        self.reading = reading
        self.writing = writing or reading


class FeatureNotFound(StoreError):
    """The feature to replace or delete does not exist (any more)."""


class FeatureExists(StoreError):
    """A feature with the id to create exists already."""


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
    # numberMatched when the caller knows it already (the published view keeps the count of
    # the published part per layer version): the store then does not count.
    matched: int | None = None
    # The cursor the previous page's "next" link carried (see SqlStore._page): where the
    # version and the query are still those it was made for, the page starts after its row
    # (an index range) instead of counting ``offset`` rows; otherwise ``offset`` holds.
    after: str | None = None
    # A CQL2 filter, checked against the layer already (see expressions.py).
    expression: Expression | None = None

    @property
    def restricted(self) -> bool:
        """Whether the query selects fewer than all features of the layer."""
        return (
            self.bbox is not None
            or bool(self.filters)
            or self.interval is not None
            or self.expression is not None
        )


@dataclass(frozen=True)
class StoredFeature:
    id: str
    properties: dict[str, Any]
    geometry: str | None  # GeoJSON geometry object as text, or None for an unknown location


@dataclass(frozen=True)
class Shape:
    """A feature with its geometry as a shapely object (None: unknown location)."""

    id: str
    properties: dict[str, Any]
    geometry: shapely.Geometry | None


@dataclass(frozen=True)
class QueryResult:
    features: list[StoredFeature]
    number_matched: int
    # The cursor of the next page (Query.after): how to get there, not part of the result.
    next_after: str | None = field(default=None, compare=False)
    # The layer version the page was read at, in the same snapshot (None: not known). A
    # route whose validators read this version knows the page is the content they name.
    version: int | None = field(default=None, compare=False)


@dataclass(frozen=True)
class EncodedPage:
    """A page of features as the GeoJSON the API sends (UTF-8), one text per feature."""

    features: list[bytes]
    number_matched: int
    # The cursor of the next page (Query.after): how to get there, not part of the result.
    next_after: str | None = field(default=None, compare=False)
    # The layer version the page was read at, in the same snapshot (None: not known). A
    # route whose validators read this version knows the page is the content they name.
    version: int | None = field(default=None, compare=False)


@dataclass(frozen=True)
class LayerState:
    """What a cache needs to know: the version changes with every write to the layer."""

    version: int
    updated_at: dt.datetime  # UTC, whole seconds (HTTP dates have no fractions)
    count: int
    extent: BBox | None = field(default=None)
    # A layer with a publication state: count and extent of its published features, kept
    # with the version by every write (None where the store has not recorded them yet).
    published_count: int | None = field(default=None)
    published_extent: BBox | None = field(default=None)


# A feature on its way in: validated properties and a shapely geometry (or None).
NewFeature = tuple[dict[str, Any], "shapely.Geometry | None"]


@dataclass(frozen=True)
class Edit:
    """One feature write. ``properties`` (with ``id``) and ``geometry`` for create/replace."""

    action: Literal["create", "replace", "delete"]
    feature_id: str
    properties: dict[str, Any] | None = None
    geometry: shapely.Geometry | None = None


@dataclass(frozen=True)
class EditResult:
    before: StoredFeature | None
    after: StoredFeature | None
    state: LayerState


# Called with the stored feature (or None) inside the write transaction, before anything is
# written; it raises to refuse the write (e.g. a stale If-Match), and then nothing changes.
Precondition = Callable[[StoredFeature | None], None]


@dataclass(frozen=True)
class HistoryEntry:
    """One change of one feature: who, when, how (api or import), before and after.

    ``before``/``after`` are ``{"properties": {...}, "geometry": GeoJSON or None}`` as stored,
    None for the side that did not exist (a create has no before, a delete no after).
    """

    seq: int
    layer: str
    feature_id: str
    action: Literal["create", "update", "delete"]
    actor: str
    via: str
    at: dt.datetime
    before: dict[str, Any] | None
    after: dict[str, Any] | None


@dataclass(frozen=True)
class HistoryPrune:
    """What pruning the change log did: entries removed and left, features whose history
    lost entries, and entries that were given their whole before (the rest of each feature's
    history still reads whole). The features themselves are never touched."""

    removed: int
    kept: int
    features: int
    folded: int


@dataclass(frozen=True)
class Reclaimed:
    """Space given back after a prune: what was compacted, its size before and after."""

    what: str
    before_bytes: int
    after_bytes: int
    note: str = ""
    vacuumed: bool = True  # False: skipped, the note says why


@dataclass(frozen=True)
class Token:
    """A write token as stored: only the SHA-256 of its secret, never the secret."""

    id: str
    name: str
    secret_hash: str
    collections: tuple[str, ...]
    created_at: dt.datetime
    revoked_at: dt.datetime | None = None


# -- surveys of municipalities (mapservice/survey) -------------------------------------------


@dataclass(frozen=True)
class Survey:
    """A survey sent to municipalities: who was asked (``area``, as given to the command) and
    until when (``closes_on``, the last day answers are taken)."""

    id: str
    title: str
    created_at: dt.datetime
    closes_on: dt.date
    created_by: str
    area: dict[str, Any]
    closed_at: dt.datetime | None = None


@dataclass(frozen=True)
class Invitation:
    """One municipality asked in a survey and its personal link (only its hash is kept)."""

    survey_id: str
    ags: str
    name: str
    token_id: str
    secret_hash: str
    opened_at: dt.datetime | None = None


# What became of an answer: waiting for review, approved and published, rejected, or replaced
# by a later answer of the same municipality before anyone reviewed it.
REVIEW_STATES = ("pending", "approved", "rejected", "superseded")


@dataclass(frozen=True)
class SurveyAnswer:
    """One answer as sent; ``answer`` is the form's content (mapservice/survey/answers.py)."""

    seq: int
    survey_id: str
    ags: str
    submitted_at: dt.datetime
    answer: dict[str, Any]
    review: str = "pending"
    reviewed_at: dt.datetime | None = None
    reviewer: str | None = None
    review_note: str | None = None


@dataclass(frozen=True)
class SurveyWrite:
    """Edits of one layer and a survey step, written in one transaction: all or nothing."""

    layer_id: str
    edits: Sequence[Edit]
    actor: str
    via: str


# -- address points of the offline gazetteer ---------------------------------------------------

# The columns of one stored address point, in this order: what it says (street, house number,
# postcode, place), where it is (lon/lat, EPSG:4326), how good that is (precision: "address" or
# "street"), the precomputed lookup keys (compact street key, place key, house-number key) and a
# reference to the record it came from (an official object id, an OSM element), if any.
ADDRESS_COLUMNS = (
    "street",
    "housenumber",
    "postcode",
    "place",
    "lon",
    "lat",
    "precision",
    "street_key",
    "place_key",
    "housenumber_key",
    "ref",
)
AddressRow = tuple[str, str | None, str | None, str | None, float, float, str, str, str, str, str | None]


@dataclass(frozen=True)
class AddressStreet:
    """One street in one place of a source, for fuzzy matching without reading every point:
    ``key`` is the compact street key, ``words`` the spaced one, ``count`` its points."""

    key: str
    words: str
    place_key: str
    street: str
    place: str | None
    count: int


@dataclass(frozen=True)
class AddressSource:
    """One imported address source, as ``mapservice gazetteer list`` and the finder show it.

    ``places`` are (place, number of points), most points first; ``bbox`` the points' extent.
    """

    name: str
    format: str
    file_name: str
    row_count: int
    imported_at: dt.datetime
    licence: str | None
    attribution: str | None
    places: tuple[tuple[str, int], ...] = ()
    bbox: BBox | None = None


@dataclass(frozen=True)
class AddressSummary:
    """What an import learnt while its rows streamed in: counted once, stored with the source."""

    row_count: int
    streets: Sequence[AddressStreet]
    places: tuple[tuple[str, int], ...]
    bbox: BBox | None
    attribution: str | None = None  # used where the source was given none


@dataclass(frozen=True)
class AddressState:
    """Version of the address points as a whole: changes with every import or removal."""

    version: int
    updated_at: dt.datetime
    count: int


def feature_doc(feature: StoredFeature | None) -> dict[str, Any] | None:
    """A stored feature as history keeps it."""
    if feature is None:
        return None
    geometry = None if feature.geometry is None else json.loads(feature.geometry)
    return {"properties": feature.properties, "geometry": geometry}


def revision(feature: StoredFeature) -> str:
    """A hash of the feature's content: changes with every change of a property or geometry."""
    text = json.dumps(
        [feature.properties, feature.geometry],
        sort_keys=True,
        ensure_ascii=False,
        separators=(",", ":"),
        default=str,
    )
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def changes(
    before: Sequence[StoredFeature], after: Sequence[StoredFeature]
) -> list[tuple[str, str, StoredFeature | None, StoredFeature | None]]:
    """(action, id, before, after) for every feature a layer swap created, updated or deleted."""
    old = {f.id: f for f in before}
    new = {f.id: f for f in after}
    out: list[tuple[str, str, StoredFeature | None, StoredFeature | None]] = []
    for fid in sorted(old.keys() | new.keys()):
        a, b = old.get(fid), new.get(fid)
        if a is None:
            out.append(("create", fid, None, b))
        elif b is None:
            out.append(("delete", fid, a, None))
        elif (a.properties, a.geometry) != (b.properties, b.geometry):
            out.append(("update", fid, a, b))
    return out


# The change log's word for each edit action.
LOGGED_ACTION: dict[str, Literal["create", "update", "delete"]] = {
    "create": "create",
    "replace": "update",
    "delete": "delete",
}


def plan_edit(
    edit: Edit, layer_id: str, before: StoredFeature | None, check: Precondition | None
) -> Literal["insert", "update", "delete"]:
    """The step a backend takes for ``edit``, given the feature as stored now.

    Every backend calls this inside its write transaction, before writing anything, so they
    all refuse the same edits: ``check``'s exception, FeatureExists, FeatureNotFound.
    """
    if check is not None:
        check(before)
    if edit.action == "create":
        if before is not None:
            raise FeatureExists(f"'{edit.feature_id}' exists already in '{layer_id}'")
        return "insert"
    if before is None:
        raise FeatureNotFound(f"'{layer_id}' has no feature '{edit.feature_id}'")
    return "delete" if edit.action == "delete" else "update"


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Store(abc.ABC):
    """Features per layer, queried by bbox / property filters / sort / paging."""

    @abc.abstractmethod
    def layer_ids(self) -> list[str]:
        """The layers the store holds."""

    @abc.abstractmethod
    def query(self, layer_id: str, query: Query) -> QueryResult:
        """Features of a layer matching ``query``; bbox queries use a spatial index."""

    def query_encoded(self, layer_id: str, query: Query) -> EncodedPage:
        """What :meth:`query` gives, as GeoJSON feature texts (the SQL stores keep them)."""
        from .sql import encode_feature  # the one encoder; sql.py imports this module

        result = self.query(layer_id, query)
        return EncodedPage(
            [encode_feature(f).encode() for f in result.features],
            result.number_matched,
            result.next_after,
            result.version,
        )

    def count_and_extent(self, layer_id: str, filters: Sequence[Filter] = ()) -> tuple[int, BBox | None]:
        """How many features match ``filters``, and the lon/lat box around their geometries."""
        shapes = self.shapes(layer_id, filters)
        geoms = [s.geometry for s in shapes if s.geometry is not None]
        if not geoms:
            return len(shapes), None
        minx, miny, maxx, maxy = shapely.total_bounds(geoms)
        return len(shapes), (float(minx), float(miny), float(maxx), float(maxy))

    def all_features(self, layer_id: str, filters: Sequence[Filter] = ()) -> list[StoredFeature]:
        """Every feature of a layer (matching ``filters``), in stored order."""
        return self.query(layer_id, Query(filters=tuple(filters), limit=FETCH_ALL)).features

    def shapes(self, layer_id: str, filters: Sequence[Filter] = ()) -> list[Shape]:
        """Every feature (matching ``filters``) with a shapely geometry, for in-memory indexes.

        The SQL stores decode their WKB straight into shapely: going through GeoJSON text would
        cost the finder's start almost a second for the 1,275 municipalities."""
        features = self.all_features(layer_id, filters)
        geoms = shapely.from_geojson([f.geometry for f in features]) if features else []
        return [Shape(f.id, f.properties, g) for f, g in zip(features, geoms, strict=True)]

    @abc.abstractmethod
    def get(self, layer_id: str, feature_id: str) -> StoredFeature | None:
        """One feature by its stable id, or None."""

    def feature_revision(self, layer_id: str, feature_id: str) -> str | None:
        """The :func:`revision` of one feature (what its strong ETag is made of), or None.

        The SQL stores keep it next to the row, so a revalidation reads one short column
        instead of the whole feature."""
        feature = self.get(layer_id, feature_id)
        return None if feature is None else revision(feature)

    @abc.abstractmethod
    def feature_ids(self, layer_id: str) -> set[str]:
        """The ids of a layer's stored features (only the id column is read)."""

    @abc.abstractmethod
    def state(self, layer_id: str) -> LayerState:
        """Version, time of last change, count and extent of a layer."""

    @abc.abstractmethod
    def replace(
        self, layer_id: str, features: Sequence[NewFeature], actor: str | None = None, via: str = "import"
    ) -> LayerState:
        """Swap the whole content of a layer in one transaction: all lands or nothing changes.

        With an ``actor``, every feature created, updated or deleted gets a history entry in
        the same transaction (the shipped data's first load has none).
        """

    @abc.abstractmethod
    def edit(
        self, layer_id: str, edit: Edit, actor: str, via: str = "api", check: Precondition | None = None
    ) -> EditResult:
        """Create, replace or delete one feature and log it, in one transaction.

        Writers of a layer take turns, so ``check`` sees the feature exactly as the write
        replaces it. Raises FeatureExists / FeatureNotFound; ``check``'s exception passes.
        """

    @abc.abstractmethod
    def history(self, layer_id: str, feature_id: str) -> list[HistoryEntry]:
        """Every logged change of a feature, oldest first (also after it was deleted)."""

    @abc.abstractmethod
    def changes_since(self, layer_id: str, since: dt.datetime) -> list[HistoryEntry]:
        """Every logged change of a layer at or after ``since`` (aware), oldest first.

        What a report's "what changed since" lists: creates, updates and deletes, each with
        the feature before and after.
        """

    def prune_history(self, before: dt.datetime | None = None, keep: int | None = None) -> HistoryPrune:
        """Remove change-log entries older than ``before`` (aware) and/or all but the last
        ``keep`` of each feature (with both: only entries both remove), in one transaction.

        Never touches a feature: the layers hold the current state. Every entry left reads
        whole as before (one that was a change against a removed entry gets its whole before).
        """
        raise StoreError("this store keeps no change log")

    def reclaim_space(self) -> Reclaimed | None:
        """Give the space of removed entries back (GeoPackage: VACUUM); None: nothing to do."""
        return None

    @abc.abstractmethod
    def add_token(self, token: Token) -> None:
        """Store a new write token (its hash); an existing id is a StoreError."""

    @abc.abstractmethod
    def tokens(self) -> list[Token]:
        """All tokens, revoked ones too, oldest first."""

    @abc.abstractmethod
    def token(self, token_id: str) -> Token | None:
        """One token by its id, looked up directly (every authenticated request asks)."""

    @abc.abstractmethod
    def revoke_token(self, token_id: str) -> bool:
        """Mark a token revoked from now on; False when there is no such active token."""

    # -- surveys ------------------------------------------------------------------------------

    @abc.abstractmethod
    def add_survey(self, survey: Survey, invitations: Sequence[Invitation]) -> None:
        """Store a new survey with one invitation per municipality, in one transaction."""

    @abc.abstractmethod
    def surveys(self) -> list[Survey]:
        """All surveys, oldest first."""

    @abc.abstractmethod
    def survey(self, survey_id: str) -> Survey | None:
        """One survey by its id."""

    @abc.abstractmethod
    def close_survey(self, survey_id: str, at: dt.datetime) -> bool:
        """Close a survey now; False when it does not exist or is closed already."""

    @abc.abstractmethod
    def invitations(self, survey_id: str) -> list[Invitation]:
        """The municipalities asked in a survey, by AGS."""

    @abc.abstractmethod
    def invitation(self, token_id: str) -> Invitation | None:
        """The invitation of a link's token id (looked up directly, like a write token)."""

    @abc.abstractmethod
    def mark_opened(self, survey_id: str, ags: str, at: dt.datetime) -> None:
        """Record the first time the link was opened (later openings change nothing)."""

    @abc.abstractmethod
    def answers(self, survey_id: str, ags: str | None = None) -> list[SurveyAnswer]:
        """The answers of a survey (of one municipality), oldest first."""

    @abc.abstractmethod
    def submit_answer(self, answer: SurveyAnswer, write: SurveyWrite) -> SurveyAnswer:
        """Store an answer (earlier pending ones of the municipality become superseded) and
        its draft features, in one transaction; returns the answer with its number."""

    @abc.abstractmethod
    def review_answer(
        self, seq: int, decision: str, reviewer: str, note: str | None, write: SurveyWrite
    ) -> SurveyAnswer:
        """Approve or reject a pending answer and write what follows from it, in one
        transaction; a StoreError when the answer is no longer pending."""

    @abc.abstractmethod
    def count_survey_failure(
        self, client: str, at: dt.datetime, window: dt.timedelta, record: bool = True
    ) -> int:
        """Record a failed link attempt of ``client`` (a hash; with ``record`` False only look)
        and return how many it made within ``window``; older records are dropped."""

    @abc.abstractmethod
    def survey_state(self) -> LayerState:
        """Version and change time of all survey data (a step in any survey bumps it)."""

    # -- address points (the offline gazetteer) -----------------------------------------------

    @abc.abstractmethod
    def replace_addresses(
        self,
        source: AddressSource,
        batches: Iterable[Sequence[AddressRow]],
        summary: Callable[[], AddressSummary],
    ) -> AddressSource:
        """Replace every point of ``source.name`` with ``batches``, in ONE transaction.

        The batches are written as they come; if iterating them raises (a bad row found
        further down the file), the transaction is rolled back and the old points stay.
        ``summary()`` is called after the last batch (row count, streets, places, extent).
        """

    @abc.abstractmethod
    def remove_address_source(self, name: str) -> bool:
        """Delete a source and its points in one transaction; False when there is none."""

    @abc.abstractmethod
    def address_sources(self) -> list[AddressSource]:
        """The imported sources, by name."""

    @abc.abstractmethod
    def address_state(self) -> AddressState:
        """Version of all address points (a re-import anywhere is seen by every worker)."""

    @abc.abstractmethod
    def address_places(self, street_key: str) -> list[str]:
        """The place keys in which a street (compact key) has points, by the index."""

    @abc.abstractmethod
    def addresses_on(
        self, street_key: str, place_keys: Sequence[str] | None = None, housenumber_key: str | None = None
    ) -> list[tuple[str, AddressRow]]:
        """(source, point) of a street (compact key), in the given places only if ``place_keys``,
        with that house number only if ``housenumber_key``."""

    @abc.abstractmethod
    def address_streets(self) -> list[AddressStreet]:
        """Every street of every source (the small table, not the points)."""

    def close(self) -> None:  # noqa: B027 - optional hook, most backends need nothing
        """Release connections."""
