"""The SQL core both backends share: queries, reads, writes, the change log, tokens, upgrades.

Modelled on pygeoapi's ``GenericSQLProvider``: everything that is the same in SQLite and in
PostgreSQL is written once here; a backend supplies only its dialect (placeholders, how a
geometry goes in and out, the spatial filter, the German sort, transactions and locks, its
schema) and its connection and exception types. Identifiers come from the validated catalog,
never from a request, and are quoted the same way in both databases.

The error contract is one: every database failure on a read or a write leaves the store as
a :class:`~mapservice.store.base.StoreError` naming the layer, and a failed write changed
nothing (it is one transaction).
"""

from __future__ import annotations

import abc
import dataclasses
import datetime as dt
import functools
import hashlib
import json
import os
import threading
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from contextlib import AbstractContextManager
from typing import Any

import shapely

from ..catalog.layers import PUBLICATION_FIELD, PUBLISHED, Catalog, FieldDef, Layer
from . import expressions as ex
from . import history as changelog
from .base import (
    ADDRESS_COLUMNS,
    FETCH_ALL,
    LOGGED_ACTION,
    AddressRow,
    AddressSource,
    AddressState,
    AddressStreet,
    AddressSummary,
    BBox,
    Edit,
    EditResult,
    EncodedPage,
    Filter,
    HistoryEntry,
    HistoryPrune,
    Invitation,
    LayerState,
    NewFeature,
    Precondition,
    Query,
    QueryResult,
    Shape,
    SortKey,
    Store,
    StoredFeature,
    StoreError,
    Survey,
    SurveyAnswer,
    SurveyWrite,
    Token,
    changes,
    feature_doc,
    plan_edit,
    revision,
    utc_now,
)

# The survey data's version lives in the layer state table under a key no layer id can take.
SURVEY_STATE_KEY = ":surveys"

# Field types stored as numbers or booleans; every other scalar is text and sorts in German.
NON_TEXT_TYPES = frozenset({"integer", "number", "boolean", "array", "object"})

# Columns the store keeps next to each row, computed on every write from what it reads back
# (so they are always of the row's current version): the feature as the API sends it (a
# page is a concatenation of these, no geometry is decoded or encoded per request), its
# revision (the strong ETag), and a German sort key per text field, so that ordering is an
# index scan and never a collation function called per row and request.
FEATURE_COLUMN = "mapservice_feature"
REVISION_COLUMN = "mapservice_rev"
SORT_COLUMN_PREFIX = "mapservice_sort_"

_FOLD = str.maketrans({"ä": "a", "ö": "o", "ü": "u", "ß": "ss"})


@functools.lru_cache(maxsize=65536)
def sort_key_de(text: str) -> str:
    """DIN 5007-1 order: case and umlauts do not separate words (Zöllnitz before Zwönitz).

    Cached: an import of a million rows meets the same cities and states again and again."""
    if text.isascii():
        return text.lower()  # nothing to fold or decompose
    folded = text.casefold().translate(_FOLD)
    return "".join(c for c in unicodedata.normalize("NFKD", folded) if not unicodedata.combining(c))


def order_key(value: str | None) -> str:
    """The stored sort key of a text value: compared by code point, it orders as DIN 5007-1,
    ties by the value's own code points, unknown values last.

    "0" + key + U+0001 + value: U+0001 sorts below every character a key holds, so a key that
    is a prefix of another sorts first, as in the dictionary.
    """
    if value is None:
        return "1"
    return "0" + sort_key_de(value) + "\x01" + value


def sort_column(field: str) -> str:
    return SORT_COLUMN_PREFIX + field


def text_sort_fields(layer: Layer) -> list[str]:
    """The fields that get a stored sort key: every sortable field kept as text."""
    return [n for n, f in layer.fields.items() if f.sortable and f.type not in NON_TEXT_TYPES]


def derived_columns(layer: Layer) -> list[str]:
    return [FEATURE_COLUMN, REVISION_COLUMN, *(sort_column(n) for n in text_sort_fields(layer))]


def order_terms(layer: Layer, sortby: Sequence[SortKey], prefix: str = "t.") -> list[str]:
    """ORDER BY terms for ``sortby`` then fid: a total order, so pages never overlap or skip.

    The layer's default order, ascending, is exactly the column list of its order index, so
    a page is read off the index (see :meth:`SqlStore._order_index`).
    """
    terms: list[str] = []
    for key in sortby:
        fdef = layer.fields[key.field]
        if fdef.type in NON_TEXT_TYPES:
            column = f"{prefix}{quote(key.field)}"
            if not fdef.required:
                terms.append(f"({column} IS NULL)")  # unknown values last in both directions
            terms.append(column if key.ascending else f"{column} DESC")
        else:
            column = f"{prefix}{quote(sort_column(key.field))}"
            if key.ascending:
                terms.append(column)  # the key of an unknown value is "1": last
            else:
                terms += [f"({column} = '1')", f"{column} DESC"]
    terms.append(f"{prefix}fid")
    return terms


# The form of the derived columns: a new number makes every store compute them anew on its
# next start (change it with encode_feature, order_key or revision).
DERIVED_FORM = 1


def derived_fingerprint(layer: Layer) -> str:
    """What a layer's derived columns depend on besides its rows: fields, order, their form."""
    parts = [
        DERIVED_FORM,
        [[n, f.type, f.sortable] for n, f in layer.fields.items()],
        list(layer.default_sortby),
        layer.publication,
    ]
    return hashlib.sha256(json.dumps(parts).encode()).hexdigest()[:16]


def encode_feature(feature: StoredFeature) -> str:
    """A feature as GeoJSON text, exactly as the API sends it (geometry text spliced in)."""
    geometry = "null" if feature.geometry is None else feature.geometry
    return (
        '{"type":"Feature","id":'
        + json.dumps(feature.id, ensure_ascii=False)
        + ',"geometry":'
        + geometry
        + ',"properties":'
        + json.dumps(feature.properties, ensure_ascii=False, separators=(",", ":"))
        + "}"
    )


_FEATURE_HEAD = '{"type":"Feature","id":'
_GEOMETRY_KEY = ',"geometry":'
_PROPERTIES_KEY = ',"properties":'
_decoder = json.JSONDecoder()


def decode_feature(text: str) -> StoredFeature:
    """The feature :func:`encode_feature` wrote; the geometry stays text (it is spliced on).

    No GeoJSON geometry text holds ``,"properties":``, so the first one ends the geometry.
    """
    feature_id, end = _decoder.raw_decode(text, len(_FEATURE_HEAD))
    start = end + len(_GEOMETRY_KEY)
    split = text.index(_PROPERTIES_KEY, start)
    geometry = text[start:split]
    properties = json.loads(text[split + len(_PROPERTIES_KEY) : -1])
    return StoredFeature(str(feature_id), properties, None if geometry == "null" else geometry)


def _geojson_texts(geometries: Sequence[shapely.Geometry | None]) -> list[str | None]:
    """GeoJSON text of each geometry: one WKB → GeoJSON writer (shapely) for both databases."""
    present = [i for i, g in enumerate(geometries) if g is not None]
    texts: list[str | None] = [None] * len(geometries)
    if present:
        for i, text in zip(present, shapely.to_geojson([geometries[i] for i in present]), strict=True):
            texts[i] = str(text)
    return texts


# Features of the layers a store has no table for yet (on the first start: all of them).
NewLayersLoader = Callable[["SqlStore", list[str]], Mapping[str, Sequence[NewFeature]]]


def table_name(layer_id: str) -> str:
    return layer_id.replace("-", "_")


def quote(name: str) -> str:
    """Quote an identifier (the same rule in SQLite and PostgreSQL)."""
    return '"' + name.replace('"', '""') + '"'


def declared_geometry_type(layer: Layer) -> str:
    """One geometry type per table keeps QGIS from splitting the layer into sub-layers."""
    kinds = set(layer.geometry_types)
    for single, multi in (
        ("Point", "MultiPoint"),
        ("LineString", "MultiLineString"),
        ("Polygon", "MultiPolygon"),
    ):
        if kinds <= {single, multi}:
            return (multi if multi in kinds else single).upper()
    return "GEOMETRY"


def promote(geom: shapely.Geometry, declared: str) -> shapely.Geometry:
    """A single geometry as the multi type its table declares."""
    if declared.startswith("MULTI") and not geom.geom_type.startswith("Multi"):
        cls = {
            "MULTIPOINT": shapely.MultiPoint,
            "MULTILINESTRING": shapely.MultiLineString,
            "MULTIPOLYGON": shapely.MultiPolygon,
        }[declared]
        return cls([geom])
    return geom


# Columns of the state table that keep a sensitive layer's published count and extent.
PUBLISHED_SUMMARY_COLUMNS = (
    "published_count",
    "published_min_x",
    "published_min_y",
    "published_max_x",
    "published_max_y",
)


# One feature's write: how it was and how it is (None: absent).
Change = tuple["StoredFeature | None", "StoredFeature | None"]

# A bound within this share of its value of the extent's edge counts as on the edge (the
# GeoPackage keeps the extent as its R-tree does: float32, rounded outwards).
EDGE_TOLERANCE = 1e-6


def _counted_bounds(
    feature: StoredFeature | None, counted: Callable[[StoredFeature], bool]
) -> tuple[bool, BBox | None]:
    """Whether a summary counts a feature, and its bounds (None: no geometry)."""
    if feature is None or not counted(feature):
        return False, None
    if feature.geometry is None:
        return True, None
    geom = shapely.from_geojson(feature.geometry)
    if geom.is_empty:
        return True, None
    minx, miny, maxx, maxy = (float(v) for v in geom.bounds)
    return True, (minx, miny, maxx, maxy)


def is_published(feature: StoredFeature) -> bool:
    return bool(feature.properties.get(PUBLICATION_FIELD) == PUBLISHED)


def every_feature(feature: StoredFeature) -> bool:
    return True


def _on_edge(bounds: BBox, extent: BBox) -> bool:
    """Whether bounds reach an edge of the extent (so that without them it could shrink)."""

    def tolerance(value: float) -> float:
        return EDGE_TOLERANCE * max(1.0, abs(value))

    return (
        bounds[0] <= extent[0] + tolerance(extent[0])
        or bounds[1] <= extent[1] + tolerance(extent[1])
        or bounds[2] >= extent[2] - tolerance(extent[2])
        or bounds[3] >= extent[3] - tolerance(extent[3])
    )


def _union(a: BBox, b: BBox) -> BBox:
    return (min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3]))


def summary_after(
    kept: tuple[int, BBox | None],
    change: Change,
    counted: Callable[[StoredFeature], bool] = every_feature,
) -> tuple[int, BBox | None] | None:
    """The count and extent of the features ``counted`` selects after one feature went from
    ``before`` to ``after``, or None when only a pass over the layer can tell (a counted
    feature on the edge of the extent moved or went: the extent may shrink)."""
    count, extent = kept
    was, old = _counted_bounds(change[0], counted)
    now, new = _counted_bounds(change[1], counted)
    if old is not None and old != new and (extent is None or _on_edge(old, extent)):
        return None
    count += int(now) - int(was)
    if new is not None:
        extent = new if extent is None else _union(extent, new)
    if count == 0:
        extent = None
    return count, extent


def _bbox(values: Sequence[Any]) -> BBox | None:
    """min x, min y, max x, max y as read from a table, or None where any is unknown."""
    if len(values) < 4 or None in values:
        return None
    return (float(values[0]), float(values[1]), float(values[2]), float(values[3]))


def _as_time(value: Any) -> dt.datetime:
    """A stored time as aware UTC (SQLite keeps ISO text, PostgreSQL timestamptz)."""
    parsed = dt.datetime.fromisoformat(value) if isinstance(value, str) else value
    return parsed.astimezone(dt.UTC)


def _as_read(fdef: FieldDef, value: Any) -> Any:
    """A property value as the database gives it back (numbers as float, booleans as bool)."""
    if value is None:
        return None
    if fdef.type == "number":
        return float(value)
    if fdef.type == "integer":
        return int(value)
    if fdef.type == "boolean":
        return bool(value)
    return value


def _as_json(value: Any) -> Any:
    """A stored JSON value (SQLite keeps text, psycopg decodes ``json`` columns itself)."""
    return json.loads(value) if isinstance(value, str) else value


class _StoreErrors:
    """``with store._errors(what):`` turns a database error into a StoreError naming ``what``.

    A class rather than ``@contextmanager``: it wraps every read, and a generator-based
    context manager costs several microseconds a time on a path that takes about thirty.
    """

    __slots__ = ("store", "what", "wrote")

    def __init__(self, store: SqlStore, what: str, wrote: bool) -> None:
        self.store = store
        self.what = what
        self.wrote = wrote

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: Any) -> None:
        if exc is not None and isinstance(exc, self.store.db_errors):
            self.store._fail_closed(exc, self.wrote)
            outcome = ", nothing was changed" if self.wrote else ""
            raise StoreError(f"{self.store.label}{self.what} failed{outcome}: {exc}") from exc


class SqlStore(Store):
    """A :class:`Store` over one SQL database; subclasses give the dialect.

    Connections: one per thread and process, never carried across a fork (gunicorn workers).
    """

    # -- the dialect ---------------------------------------------------------------------------

    mark = "?"  # the driver's placeholder
    holds_nul = True  # whether text may contain NUL (PostgreSQL's cannot, so no id has one)
    json_mark = "?"  # the placeholder of a JSON value
    history_table = ""
    token_table = ""
    address_table = ""  # the points
    address_streets_table = ""  # one row per street, place and source (fuzzy matching)
    address_sources_table = ""  # one row per source (name, format, licence, places)
    survey_table = ""  # surveys of municipalities
    invitation_table = ""  # one row per municipality asked, with its link's token hash
    answer_table = ""  # the answers as sent and their review
    failure_table = ""  # failed link attempts of the last minutes (rate limit)
    db_errors: tuple[type[Exception], ...] = ()

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self._local = threading.local()

    @property
    def label(self) -> str:
        """What error messages name the store by ("" where that would show a password)."""
        return ""

    @abc.abstractmethod
    def _connect(self) -> Any: ...

    def _usable(self, conn: Any) -> bool:
        return True

    def _fail_closed(self, exc: BaseException, wrote: bool) -> None:
        """Raise StoreUnavailable when ``exc`` says the store itself is damaged (not a retry)."""

    @abc.abstractmethod
    def _read(self, snapshot: bool = False, batched: bool = False) -> AbstractContextManager[Any]:
        """The thread's connection; ``snapshot``: several statements see one state.
        ``batched``: statements are sent without waiting for the answer of the one before
        until a row is fetched (PostGIS: pipeline mode), so the reader executes all that it
        can before it fetches anything."""

    @abc.abstractmethod
    def _write(self, layer: Layer | None = None) -> AbstractContextManager[Any]:
        """One write transaction; writers of ``layer`` take turns until it commits."""

    @abc.abstractmethod
    def table(self, layer_id: str) -> str:
        """The quoted table of a layer."""

    @abc.abstractmethod
    def _geometry_out(self, column: str) -> str:
        """SQL giving the geometry column as something :meth:`_wkb` takes."""

    @abc.abstractmethod
    def _wkb(self, value: Any) -> bytes:
        """The WKB of a geometry as :meth:`_geometry_out` gives it."""

    @abc.abstractmethod
    def _geometry_in(self) -> str:
        """SQL taking one WKB parameter (or what :meth:`_geometry_param` gives) as a geometry."""

    def _geometry_param(self, geom: shapely.Geometry) -> Any:
        return shapely.to_wkb(geom)

    def _value_in(self, fdef: FieldDef) -> str:
        return self.json_mark if fdef.type in ("array", "object") else self.mark

    def encode_value(self, fdef: FieldDef, value: Any) -> Any:
        """A property value as the database stores it (lists and objects as JSON text)."""
        if value is None:
            return None
        if fdef.type in ("array", "object"):
            return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
        return value

    def _decoder(self, fdef: FieldDef) -> Callable[[Any], Any] | None:
        """How a stored value becomes the property again (None: as the driver gives it)."""
        return None

    @abc.abstractmethod
    def _equals(self, column: str, fdef: FieldDef, value: Any) -> tuple[str, Any]:
        """``column = value`` as SQL and its parameter."""

    @abc.abstractmethod
    def _contains(self, column: str, value: Any) -> tuple[str, Any]:
        """A JSON list column contains ``value``, as SQL and its parameter."""

    @abc.abstractmethod
    def _bbox(self, layer: Layer, bbox: BBox) -> tuple[str, list[str], list[Any]]:
        """The FROM source (the layer's table as ``t``), clauses and parameters of "intersects
        this lon/lat box", the spatial index read first."""

    def _text_column(self, column: str) -> str:
        """A text column compared by code point (the ISO dates of temporal filters)."""
        return column

    def _text_param(self) -> str:
        return self.mark

    def _time_param(self, at: dt.datetime, timespec: str = "auto") -> Any:
        return at

    @abc.abstractmethod
    def _bump(self, conn: Any, layer: Layer, change: Change | None = None) -> None:
        """New version and change time of the layer, with its count and extent, and its
        published summary (``change``: the one feature's before and after, if that is all
        the write changed)."""

    def _read_state(self, conn: Any, layer: Layer) -> tuple[Any, ...] | None:
        """(version, updated_at, count, min_x, min_y, max_x, max_y, then the
        PUBLISHED_SUMMARY_COLUMNS) of a layer, or None."""
        row: tuple[Any, ...] | None = self._state_rows(conn, layer).fetchone()
        return row

    @abc.abstractmethod
    def _state_rows(self, conn: Any, layer: Layer) -> Any:
        """What :meth:`_read_state` takes its row from with ``fetchone()``: on PostGIS the
        cursor, its row not yet fetched, so that a batched read sends the next statement
        before waiting for this one; on the GeoPackage the row, read already."""

    def _keep_published_summary(self, conn: Any, layer: Layer, change: Change | None = None) -> None:
        """Count and extent of a sensitive layer's published features, kept with its version.

        Part of every write's _bump, in the write's transaction: the public view reads them
        with the version (one row), where it used to count and measure the published part
        once per worker and version, a pass over the whole layer in the first request after
        every write (5 to 10 s at a million cameras). A write of one feature updates them
        from its before and after; a pass over the layer is needed only when a published
        feature on the edge of the extent moved or went, and after bulk writes.
        """
        if not layer.publication:
            return
        if change is not None:
            kept = self._read_published_summary(conn, layer)
            updated = None if kept is None else summary_after(kept, change, is_published)
            if updated is not None:
                self._write_published_summary(conn, layer, updated[0], updated[1])
                return
        source, where, params = self._where(layer, Query(filters=(Filter(PUBLICATION_FIELD, PUBLISHED),)))
        row = conn.execute(self._count_extent_sql(layer, source, where), params).fetchone()
        self._write_published_summary(conn, layer, int(row[0]), _bbox(row[1:5]))

    def _write_published_summary(self, conn: Any, layer: Layer, count: int, extent: BBox | None) -> None:
        assignments = ", ".join(f"{name} = {self.mark}" for name in PUBLISHED_SUMMARY_COLUMNS)
        conn.execute(
            f"UPDATE {self.state_table} SET {assignments} WHERE layer = {self.mark}",
            [count, *(extent or (None, None, None, None)), layer.id],
        )

    def _read_published_summary(self, conn: Any, layer: Layer) -> tuple[int, BBox | None] | None:
        """The kept count and extent, or None where none is kept yet."""
        columns = ", ".join(PUBLISHED_SUMMARY_COLUMNS)
        row = conn.execute(
            f"SELECT {columns} FROM {self.state_table} WHERE layer = {self.mark}", (layer.id,)
        ).fetchone()
        if row is None or row[0] is None:
            return None
        return int(row[0]), _bbox(row[1:5])

    def _layer_summary_after(
        self, conn: Any, layer: Layer, change: Change | None
    ) -> tuple[int, BBox | None] | None:
        """The layer's count and extent after a write of one feature, from those kept with its
        version (a write then costs the same at a million features as at ten); None where a
        pass over the layer must tell (a bulk write, or a feature on the extent's edge moved
        or went)."""
        if change is None:
            return None
        row = self._read_state(conn, layer)
        if row is None:
            return None
        return summary_after((int(row[2]), _bbox(row[3:7])), change)

    @abc.abstractmethod
    def _executemany(self, conn: Any, statement: str, rows: list[list[Any]]) -> None: ...

    # -- schema: the one upgrade path -----------------------------------------------------------

    @abc.abstractmethod
    def _schema_transaction(self) -> AbstractContextManager[Any]:
        """The transaction of a schema change; store instances starting at once take turns."""

    @abc.abstractmethod
    def _migrate(self, conn: Any) -> list[int]:
        """Create or update the fixed tables (state, change log, tokens) where needed; the
        numbers of the migrations applied."""

    @abc.abstractmethod
    def _schema_gaps(self, conn: Any) -> tuple[list[str], dict[str, list[str]]]:
        """Layers of the catalog without a table, and fields without a column."""

    @abc.abstractmethod
    def _create_layer_table(self, conn: Any, layer: Layer) -> None: ...

    @abc.abstractmethod
    def _add_column(self, conn: Any, layer: Layer, name: str) -> None: ...

    def _up_to_date(self) -> bool:
        """A read-only look before the schema transaction (False: always take it)."""
        return False

    # -- the derived columns and their indexes ---------------------------------------------------

    state_table = ""  # the table of layer versions: its ``derived`` column holds the fingerprint

    @abc.abstractmethod
    def _layer_columns(self, conn: Any, layer: Layer) -> set[str]:
        """The columns the layer's table has."""

    @abc.abstractmethod
    def _add_derived_column(self, conn: Any, layer: Layer, name: str) -> None:
        """A text column for derived values (a sort key compares by code point)."""

    def _create_table(self, conn: Any, layer: Layer) -> None:
        self._create_layer_table(conn, layer)
        self._add_derived(conn, layer)

    def _add_derived(self, conn: Any, layer: Layer) -> None:
        """The derived columns the table lacks, and its indexes."""
        have = self._layer_columns(conn, layer)
        for name in derived_columns(layer):
            if name not in have:
                self._add_derived_column(conn, layer, name)
        t = table_name(layer.id)
        order = order_terms(layer, [SortKey(n) for n in layer.default_sortby], prefix="")
        # Named by its columns: a catalog with another default order gets a new index.
        digest = hashlib.sha256(repr(order).encode()).hexdigest()[:8]
        indexes = {f"mapservice_order_{t}_{digest}": order}
        if layer.publication:
            # The public view asks for the published ones in this order: one index gives both.
            indexes[f"mapservice_published_{t}_{digest}"] = [quote(PUBLICATION_FIELD), *order]
        rev = quote(REVISION_COLUMN)
        stale = f"CREATE INDEX IF NOT EXISTS {quote(f'mapservice_stale_{t}')} ON {self.table(layer.id)} (fid)"
        conn.execute(f"{stale} WHERE {rev} IS NULL")
        self._create_stale_trigger(conn, layer)
        for name, columns in indexes.items():
            conn.execute(
                f"CREATE INDEX IF NOT EXISTS {quote(name)} ON {self.table(layer.id)} ({', '.join(columns)})"
            )

    def _has_stale_rows(self, conn: Any, layer: Layer) -> bool:
        """Rows changed outside the service (a partial index holds just them)."""
        row = conn.execute(
            f"SELECT 1 FROM {self.table(layer.id)} WHERE {quote(REVISION_COLUMN)} IS NULL LIMIT 1"
        ).fetchone()
        return row is not None

    def _count_drifted(self, conn: Any, layer: Layer) -> bool:
        """Rows added or removed outside the service (QGIS, SQL): the kept count is not the
        table's. Writes of one feature only adjust what is kept (_bump), so a start checks."""
        state = self._read_state(conn, layer)
        counted = conn.execute(f"SELECT count(*) FROM {self.table(layer.id)}").fetchone()
        return state is None or int(state[2]) != int(counted[0])

    @abc.abstractmethod
    def _create_stale_trigger(self, conn: Any, layer: Layer) -> None:
        """A trigger that clears the stored feature and revision of a row whose fields or
        geometry another program (QGIS, SQL) changed without giving it a new revision."""

    def _derived_stale(self, conn: Any, layer: Layer) -> bool:
        """Whether the rows' derived values were made for other fields, order or code."""
        row = conn.execute(
            f"SELECT derived FROM {self.state_table} WHERE layer = {self.mark}", (layer.id,)
        ).fetchone()
        return row is None or row[0] != derived_fingerprint(layer)

    def upgrade(self, load_new_layers: NewLayersLoader) -> None:
        """Bring the schema up to the code and the catalog, in one transaction.

        New layers get the features ``load_new_layers`` gives for them (the shipped data); new
        fields start null in the rows already stored. Nothing stored is touched otherwise.
        """
        if self._up_to_date():
            return
        compacted: list[Layer] = []
        try:
            with self._schema_transaction() as conn:
                self._migrate(conn)
                # Writers of other instances wait until this commits, and what it counts
                # below includes every write committed before: a count taken while a write
                # is in flight would be stored over that write's own (issue 16 review).
                self._lock_layers(conn)
                missing_tables, missing_columns = self._schema_gaps(conn)
                new_layers = load_new_layers(self, missing_tables) if missing_tables else {}
                for layer_id in missing_tables:
                    layer = self.catalog[layer_id]
                    self._create_table(conn, layer)
                    self._compact_features(conn, layer)
                    self._insert(conn, layer, new_layers.get(layer_id, ()))
                    self._bump(conn, layer)
                for layer in self.catalog:
                    if layer.id in missing_tables:
                        continue
                    for name in missing_columns.get(layer.id, ()):
                        self._add_column(conn, layer, name)
                        if layer.publication and name == PUBLICATION_FIELD:
                            # The layer has just become sensitive: what it held was public
                            # until now and stays so; only what arrives from now on is a draft.
                            conn.execute(
                                f"UPDATE {self.table(layer.id)} SET {quote(name)} = {self.mark}",
                                (PUBLISHED,),
                            )
                    if self._derived_stale(conn, layer):
                        self._add_derived(conn, layer)
                        self._refresh_derived(conn, layer)
                        self._bump(conn, layer)
                    elif self._has_stale_rows(conn, layer):
                        self._refresh_derived(conn, layer, only_stale=True)
                        self._bump(conn, layer)  # they changed unseen: caches must not keep them
                    elif self._count_drifted(conn, layer):
                        self._bump(conn, layer)  # rows added or removed outside: counted again
                    elif layer.publication and self._read_published_summary(conn, layer) is None:
                        self._keep_published_summary(conn, layer)  # a store from before it was kept
                    if self._compact_features(conn, layer):
                        compacted.append(layer)
        except self.db_errors as exc:
            raise StoreError(f"{self.label}upgrading the store failed, nothing was changed: {exc}") from exc
        for layer in compacted:
            with self._errors(f"updating the statistics of layer '{layer.id}'"):
                self._after_bulk_write(layer)

    def _compact_features(self, conn: Any, layer: Layer) -> bool:
        """Store the layer's feature texts in the form fastest to read back, rewriting those
        kept in another; True when rows were rewritten. Nothing to do on most stores."""
        return False

    # -- connections ----------------------------------------------------------------------------

    def _conn(self) -> Any:
        # Keyed by process id as well: a connection must never cross a fork (gunicorn workers).
        pid = os.getpid()
        conn = getattr(self._local, "conn", None)
        if conn is None or not self._usable(conn) or getattr(self._local, "pid", None) != pid:
            conn = self._connect()
            self._local.conn = conn
            self._local.pid = pid
        return conn

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            if getattr(self._local, "pid", None) == os.getpid():  # never the parent's session
                conn.close()
            self._local.conn = None

    def _errors(self, what: str, wrote: bool = False) -> _StoreErrors:
        """Every database failure becomes a StoreError saying what failed."""
        return _StoreErrors(self, what, wrote)

    # -- reading --------------------------------------------------------------------------------

    def _layer(self, layer_id: str) -> Layer:
        try:
            return self.catalog[layer_id]
        except KeyError:
            raise StoreError(f"unknown layer '{layer_id}'") from None

    def layer_ids(self) -> list[str]:
        return self.catalog.ids()

    def _columns(self, layer: Layer) -> str:
        return ", ".join([self._geometry_out("t.geom"), *(f"t.{quote(n)}" for n in layer.fields)])

    def _select(self, layer: Layer) -> str:
        return f"SELECT {self._columns(layer)} FROM {self.table(layer.id)} t"

    def _decode_rows(
        self, layer: Layer, rows: Sequence[Sequence[Any]]
    ) -> tuple[list[dict[str, Any]], list[shapely.Geometry | None]]:
        """Properties and shapely geometries of selected rows (geometry first, as _select)."""
        names = list(layer.fields)
        decoders = [self._decoder(layer.fields[n]) for n in names]
        present = [i for i, row in enumerate(rows) if row[0] is not None]
        geometries: list[shapely.Geometry | None] = [None] * len(rows)
        if present:
            decoded = shapely.from_wkb([self._wkb(rows[i][0]) for i in present])
            for i, geom in zip(present, decoded, strict=True):
                geometries[i] = geom
        props = [
            {n: (d(v) if d is not None else v) for n, d, v in zip(names, decoders, row[1:], strict=True)}
            for row in rows
        ]
        return props, geometries

    def _rows_to_features(self, layer: Layer, rows: Sequence[Sequence[Any]]) -> list[StoredFeature]:
        props, geometries = self._decode_rows(layer, rows)
        texts = _geojson_texts(geometries)
        return [StoredFeature(p["id"], p, text) for p, text in zip(props, texts, strict=True)]

    def _encoded_columns(self) -> str:
        return f"{self._as_utf8(f't.{quote(FEATURE_COLUMN)}')}, t.fid"

    def _select_encoded(self, layer: Layer) -> str:
        return f"SELECT {self._encoded_columns()} FROM {self.table(layer.id)} t"

    @abc.abstractmethod
    def _as_utf8(self, column: str) -> str:
        """SQL giving a text column such that :meth:`_fetch_encoded` returns its UTF-8 bytes:
        a page of megabytes is then joined as it is, never decoded into str and encoded again."""

    def _fetch_encoded(self, conn: Any, statement: str, params: Sequence[Any]) -> list[Any]:
        """The rows of a statement selecting :meth:`_encoded_columns`."""
        return list(self._encoded_rows(conn, statement, params).fetchall())

    def _encoded_rows(self, conn: Any, statement: str, params: Sequence[Any]) -> Any:
        """The cursor of a statement selecting :meth:`_encoded_columns`, not yet fetched."""
        return conn.execute(statement, params)

    def _texts(self, conn: Any, layer: Layer, rows: Sequence[Sequence[Any]]) -> list[bytes]:
        """The feature texts of rows :meth:`_select_encoded` gave. A row changed outside the
        service (QGIS, SQL) has none (a trigger cleared it): it is built from its columns."""
        stale = [row[1] for row in rows if row[0] is None]
        if not stale:
            return [bytes(row[0]) for row in rows]
        built: dict[Any, bytes] = {}
        for start in range(0, len(stale), 500):
            found = self._rows_by_fid(conn, layer, stale[start : start + 500])
            for fid, feature in zip(
                [r[0] for r in found], self._rows_to_features(layer, [r[1:] for r in found]), strict=True
            ):
                built[fid] = encode_feature(feature).encode()
        return [bytes(row[0]) if row[0] is not None else built[row[1]] for row in rows]

    def _rows_by_fid(self, conn: Any, layer: Layer, fids: Sequence[Any]) -> list[Any]:
        """fid, then the columns :meth:`_select` gives, of the rows with these fids."""
        return list(
            conn.execute(
                f"SELECT t.fid, {self._columns(layer)} FROM {self.table(layer.id)} t "
                f"WHERE t.fid IN ({', '.join([self.mark] * len(fids))})",
                list(fids),
            ).fetchall()
        )

    def shapes(self, layer_id: str, filters: Sequence[Filter] = ()) -> list[Shape]:
        layer = self._layer(layer_id)
        source, where, params = self._where(layer, Query(filters=tuple(filters), limit=FETCH_ALL))
        with self._errors(f"reading layer '{layer.id}'"), self._read(snapshot=True) as conn:
            rows = conn.execute(
                f"SELECT {self._columns(layer)} FROM {source}{where} ORDER BY t.fid", params
            ).fetchall()
        props, geometries = self._decode_rows(layer, rows)
        return [Shape(p["id"], p, g) for p, g in zip(props, geometries, strict=True)]

    def _where(self, layer: Layer, query: Query) -> tuple[str, str, list[Any]]:
        source = f"{self.table(layer.id)} t"
        clauses: list[str] = []
        params: list[Any] = []
        if query.bbox is not None:
            source, bbox_clauses, bbox_params = self._bbox(layer, query.bbox)
            clauses += bbox_clauses
            params += bbox_params
        elif query.expression is not None:
            bounds = ex.index_bounds(query.expression)
            indexed = self._index_source(layer, bounds) if bounds is not None else None
            if indexed is not None:
                source, index_clauses, index_params = indexed
                clauses += index_clauses
                params += index_params
        for flt in query.filters:
            if not self.holds_nul and isinstance(flt.value, str) and "\x00" in flt.value:
                clauses.append("1 = 0")  # no stored text can hold NUL, so nothing matches
                continue
            clause, param = self._filter(layer, flt)
            clauses.append(clause)
            params.append(param)
        if query.interval is not None:
            clauses.extend(self._temporal_clauses(layer, query.interval, params))
        if query.expression is not None:
            clauses.append(self._expression(layer, query.expression, params))
        where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
        return source, where, params

    # -- CQL2 expressions (checked by the API already: every value becomes a parameter) ---------

    def _expression(self, layer: Layer, node: ex.Expression, params: list[Any]) -> str:
        """SQL of a filter expression; its parameters are appended in the order of the text.
        Nulls are left to SQL's three-valued logic, which both databases share."""
        if isinstance(node, ex.And | ex.Or):
            joiner = " AND " if isinstance(node, ex.And) else " OR "
            return f"({joiner.join(self._expression(layer, item, params) for item in node.items)})"
        if isinstance(node, ex.Not):
            return f"(NOT {self._expression(layer, node.item, params)})"
        if isinstance(node, ex.Spatial):
            return self._spatial(layer, node, params)
        column = f"t.{quote(node.left.name if isinstance(node, ex.Compare) else node.prop.name)}"
        if isinstance(node, ex.IsNull):
            return f"({column} IS {'NOT ' if node.negated else ''}NULL)"
        if isinstance(node, ex.Like):
            sql, param = self._like(column, node.pattern)
            params.append(param)
            return f"(NOT {sql})" if node.negated else f"({sql})"
        if isinstance(node, ex.In):
            marks = ", ".join(self._literal(v, params) for v in node.values)
            return f"({column} {'NOT ' if node.negated else ''}IN ({marks}))"
        if isinstance(node, ex.Between):
            column = self._ordered(column, node.prop)
            low, high = self._literal(node.low, params), self._literal(node.high, params)
            return f"({column} {'NOT ' if node.negated else ''}BETWEEN {low} AND {high})"
        ordered = node.op not in ("=", "<>")
        left = self._ordered(column, node.left) if ordered else column
        if isinstance(node.right, ex.Property):
            right = f"t.{quote(node.right.name)}"
            right = self._ordered(right, node.right) if ordered else right
        else:
            right = self._literal(node.right, params)
        return f"({left} {node.op} {right})"

    def _ordered(self, column: str, prop: ex.Property) -> str:
        """A column as it is ordered: texts (and ISO dates) by code point on every store."""
        return column if prop.kind in ("integer", "number", "boolean") else self._text_column(column)

    def _literal(self, value: ex.Scalar, params: list[Any]) -> str:
        params.append(int(value) if isinstance(value, bool) and not self.native_booleans else value)
        return self._literal_mark(value)

    native_booleans = True  # False where booleans are kept as 0 and 1 (SQLite)

    def _literal_mark(self, value: ex.Scalar) -> str:
        """The placeholder of a literal (with its SQL type where the driver needs one)."""
        return self.mark

    @abc.abstractmethod
    def _like(self, column: str, pattern: str) -> tuple[str, Any]:
        """A case-sensitive ``column LIKE pattern`` in this database's syntax, and its parameter."""

    @abc.abstractmethod
    def _spatial(self, layer: Layer, node: ex.Spatial, params: list[Any]) -> str:
        """``relation(t.geom, literal)``; unknown (NULL) for a feature without a location."""

    def _index_source(self, layer: Layer, bounds: BBox) -> tuple[str, list[str], list[Any]] | None:
        """FROM source, clauses and parameters that read the spatial index for the features
        whose box meets ``bounds`` (None: the database's planner does that by itself)."""
        return None

    def _filter(self, layer: Layer, flt: Filter) -> tuple[str, Any]:
        column = f"t.{quote(flt.field)}"
        if flt.contains:
            return self._contains(column, flt.value)
        return self._equals(column, layer.fields[flt.field], flt.value)

    def _temporal_clauses(
        self, layer: Layer, interval: tuple[str | None, str | None], params: list[Any]
    ) -> list[str]:
        if layer.temporal is None:
            return ["1 = 0"]  # no temporal geometry, so nothing intersects the requested time
        start_col, end_col = (f"t.{quote(n)}" for n in layer.temporal)
        start, end = interval
        clauses = []
        # Dates may be reduced precision ("2023-04"); comparing the common prefix of ISO texts
        # orders them correctly, and an unknown start or end counts as open.
        mark = self._text_param()
        if end is not None:
            prefix = f"substr({mark}, 1, length({start_col}))"
            clauses.append(f"({start_col} IS NULL OR {self._text_column(start_col)} <= {prefix})")
            params.append(end)
        if start is not None:
            prefix = f"substr({mark}, 1, length({end_col}))"
            clauses.append(f"({end_col} IS NULL OR {self._text_column(end_col)} >= {prefix})")
            params.append(start)
        return clauses

    def _page(self, layer: Layer, query: Query) -> tuple[list[bytes], int, str | None, int]:
        """The feature texts of one page, numberMatched, the cursor of the next page and the
        layer version they were read at."""
        source, where, params = self._where(layer, query)
        m = self.mark
        terms = order_terms(layer, query.sortby)
        # A cursor names the query it continues (the same on every store, so that the API's
        # documents are too): box, conditions, time and order.
        parts: tuple[Any, ...] = (
            layer.id,
            query.bbox,
            tuple(query.filters),
            tuple(query.sortby),
            query.interval,
        )
        if query.expression is not None:  # appended only here, so older cursors stay valid
            parts = (*parts, query.expression)
        signature = hashlib.sha256(repr(parts).encode()).hexdigest()[:12]
        # Keyset paging needs an order of plain columns (ascending, no null flags).
        keyset = all(term.startswith("t.") and " " not in term for term in terms)
        with (
            self._errors(f"querying layer '{layer.id}'"),
            self._read(snapshot=True, batched=True) as conn,
        ):
            # Every statement reads one snapshot, so the count matches the page. Without a
            # cursor the page does not depend on the state: both are sent before either is
            # read (one round trip on PostGIS, where the snapshot is batched).
            state_rows = self._state_rows(conn, layer)
            # A cursor names the version it was made for: then the state decides the page.
            after_cursor = keyset and query.after is not None
            state = state_rows.fetchone() if after_cursor else None
            start = None
            if after_cursor:
                version = int(state[0]) if state is not None else 0
                start = self._cursor_start(conn, layer, query, version, signature, terms)
            if start is not None:
                key_clause = f"({', '.join(terms)}) > ({', '.join([m] * len(start))})"
                page_where = f"{where} AND {key_clause}" if where else f" WHERE {key_clause}"
                page_params, offset = [*params, *start], 0
            else:
                page_where, page_params, offset = where, params, query.offset
            page_rows = self._encoded_rows(
                conn,
                self._page_sql(layer, source, page_where, query.sortby, offset),
                [*page_params, query.limit, offset],
            )
            if not after_cursor:
                state = state_rows.fetchone()
            version = int(state[0]) if state is not None else 0
            rows = list(page_rows.fetchall())
            if query.matched is not None:
                matched = query.matched
            elif not query.restricted:
                # The whole layer: its count is kept with its version, never counted here.
                matched = int(state[2]) if state is not None else 0
            elif query.limit > 0 and (0 < len(rows) < query.limit or (not rows and query.offset == 0)):
                matched = query.offset + len(rows)  # the page holds the last match
            else:
                counted = conn.execute(f"SELECT count(*) FROM {source}{where}", params).fetchone()
                matched = int(counted[0])
            texts = self._texts(conn, layer, rows)
        next_after = None
        end = query.offset + len(rows)
        if keyset and rows and end < matched:
            next_after = f"{version}.{end}.{rows[-1][1]}.{signature}"
        return texts, matched, next_after, version

    def _page_sql(self, layer: Layer, source: str, where: str, sortby: Sequence[SortKey], offset: int) -> str:
        """The statement of one page: the encoded columns of the rows ``where`` selects, in
        the page's order, with the limit and offset as the last two parameters."""
        terms = ", ".join(order_terms(layer, sortby))
        m = self.mark
        return f"SELECT {self._encoded_columns()} FROM {source}{where} ORDER BY {terms} LIMIT {m} OFFSET {m}"

    def _cursor_start(
        self, conn: Any, layer: Layer, query: Query, version: int, signature: str, terms: list[str]
    ) -> list[Any] | None:
        """The order values of the row a page's cursor names, or None where ``offset`` holds."""
        if query.after is None:
            return None
        parts = query.after.split(".")
        if len(parts) != 4 or parts != [str(version), str(query.offset), parts[2], signature]:
            return None  # another version, offset or query: the cursor says nothing of this one
        try:
            fid = int(parts[2])
        except ValueError:
            return None
        row = conn.execute(
            f"SELECT {', '.join(terms)} FROM {self.table(layer.id)} t WHERE t.fid = {self.mark}", (fid,)
        ).fetchone()
        return None if row is None else list(row)

    def query(self, layer_id: str, query: Query) -> QueryResult:
        layer = self._layer(layer_id)
        texts, matched, next_after, version = self._page(layer, query)
        return QueryResult([decode_feature(text.decode()) for text in texts], matched, next_after, version)

    def query_encoded(self, layer_id: str, query: Query) -> EncodedPage:
        layer = self._layer(layer_id)
        texts, matched, next_after, version = self._page(layer, query)
        return EncodedPage(texts, matched, next_after, version)

    def count_and_extent(self, layer_id: str, filters: Sequence[Filter] = ()) -> tuple[int, BBox | None]:
        layer = self._layer(layer_id)
        source, where, params = self._where(layer, Query(filters=tuple(filters)))
        with self._errors(f"counting layer '{layer.id}'"), self._read(snapshot=True) as conn:
            row = conn.execute(self._count_extent_sql(layer, source, where), params).fetchone()
        return int(row[0]), _bbox(row[1:5])

    @abc.abstractmethod
    def _count_extent_sql(self, layer: Layer, source: str, where: str) -> str:
        """SQL giving (count, min x, min y, max x, max y) of the rows ``source``/``where`` select."""

    def _all(self, conn: Any, layer: Layer, feature_id: str | None = None) -> list[StoredFeature]:
        if feature_id is None:
            rows = self._fetch_encoded(conn, f"{self._select_encoded(layer)} ORDER BY t.fid", ())
        elif "\x00" in feature_id and not self.holds_nul:
            return []
        else:
            rows = self._fetch_encoded(
                conn, f"{self._select_encoded(layer)} WHERE t.id = {self._text_param()}", (feature_id,)
            )
        return [decode_feature(text.decode()) for text in self._texts(conn, layer, rows)]

    def get(self, layer_id: str, feature_id: str) -> StoredFeature | None:
        layer = self._layer(layer_id)
        with self._errors(f"reading layer '{layer.id}'"), self._read() as conn:
            found = self._all(conn, layer, feature_id)
        return found[0] if found else None

    def feature_revision(self, layer_id: str, feature_id: str) -> str | None:
        layer = self._layer(layer_id)
        if "\x00" in feature_id and not self.holds_nul:
            return None
        with self._errors(f"reading layer '{layer.id}'"), self._read() as conn:
            row = conn.execute(
                f"SELECT {quote(REVISION_COLUMN)} FROM {self.table(layer.id)} "
                f"WHERE id = {self._text_param()}",
                (feature_id,),
            ).fetchone()
        if row is not None and row[0] is None:  # changed outside the service: from its columns
            return super().feature_revision(layer_id, feature_id)
        return None if row is None else str(row[0])

    def feature_ids(self, layer_id: str) -> set[str]:
        layer = self._layer(layer_id)
        with self._errors(f"reading layer '{layer.id}'"), self._read() as conn:
            rows = conn.execute(f"SELECT id FROM {self.table(layer.id)}").fetchall()
        return {str(row[0]) for row in rows}

    def state(self, layer_id: str) -> LayerState:
        layer = self._layer(layer_id)
        with self._errors(f"reading the state of layer '{layer.id}'"):
            row = self._read_state_of(layer)
        if row is None:
            raise StoreError(f"{self.label}no state recorded for layer '{layer.id}'")
        published = row[7:12]
        return LayerState(
            version=int(row[0]),
            updated_at=_as_time(row[1]),
            count=int(row[2]),
            extent=_bbox(row[3:7]),
            published_count=None if published[0] is None else int(published[0]),
            published_extent=_bbox(published[1:]),
        )

    def _read_state_of(self, layer: Layer) -> tuple[Any, ...] | None:
        with self._read(snapshot=True) as conn:
            return self._read_state(conn, layer)

    # -- writing --------------------------------------------------------------------------------

    def _derived_values(
        self, layer: Layer, rows: Sequence[tuple[dict[str, Any], shapely.Geometry | None]]
    ) -> list[list[Any]]:
        """The derived columns (:func:`derived_columns`) of rows about to be written.

        Computed from the values as the database gives them back (a number column gives a
        float, a boolean a bool), so the stored feature is what reading the row would build.
        """
        names = list(layer.fields)
        sort_fields = text_sort_fields(layer)
        texts = _geojson_texts([geom for _, geom in rows])
        out = []
        for (props, _), text in zip(rows, texts, strict=True):
            stored = {n: _as_read(layer.fields[n], props.get(n)) for n in names}
            feature = StoredFeature(str(stored["id"]), stored, text)
            out.append(
                [encode_feature(feature), revision(feature), *(order_key(stored[n]) for n in sort_fields)]
            )
        return out

    def _insert(self, conn: Any, layer: Layer, features: Sequence[NewFeature]) -> None:
        names = list(layer.fields)
        derived = derived_columns(layer)
        declared = declared_geometry_type(layer)
        columns = ", ".join(["geom", *(quote(n) for n in names), *(quote(n) for n in derived)])
        values = ", ".join(
            [
                self._geometry_in(),
                *(self._value_in(layer.fields[n]) for n in names),
                *([self.mark] * len(derived)),
            ]
        )
        statement = f"INSERT INTO {self.table(layer.id)} ({columns}) VALUES ({values})"
        # Sorted by id so the row order (and so fid, the last sort key) does not depend on
        # the order of the input.
        ordered = [
            (props, None if geom is None else promote(geom, declared))
            for props, geom in sorted(features, key=lambda f: str(f[0].get("id")))
        ]
        rows = []
        for (props, geom), extra in zip(ordered, self._derived_values(layer, ordered), strict=True):
            geometry = None if geom is None else self._geometry_param(geom)
            rows.append(
                [geometry, *(self.encode_value(layer.fields[n], props.get(n)) for n in names), *extra]
            )
        if rows:
            self._executemany(conn, statement, rows)

    def _update(self, conn: Any, layer: Layer, edit: Edit) -> None:
        """Replace one row's values in place (it keeps its fid, so its place in the order)."""
        names = list(layer.fields)
        derived = derived_columns(layer)
        props = edit.properties or {}
        declared = declared_geometry_type(layer)
        geom = None if edit.geometry is None else promote(edit.geometry, declared)
        geometry = None if geom is None else self._geometry_param(geom)
        assignments = ", ".join(
            [
                f"geom = {self._geometry_in()}",
                *(f"{quote(n)} = {self._value_in(layer.fields[n])}" for n in names),
                *(f"{quote(n)} = {self.mark}" for n in derived),
            ]
        )
        # The revision first cleared, so the trigger that marks rows changed outside the service
        # (same revision, other columns: see _add_derived) never takes this write for one.
        conn.execute(
            f"UPDATE {self.table(layer.id)} SET {quote(REVISION_COLUMN)} = NULL WHERE id = {self.mark}",
            (edit.feature_id,),
        )
        conn.execute(
            f"UPDATE {self.table(layer.id)} SET {assignments} WHERE id = {self.mark}",
            [
                geometry,
                *(self.encode_value(layer.fields[n], props.get(n)) for n in names),
                *self._derived_values(layer, [(props, geom)])[0],
                edit.feature_id,
            ],
        )

    def _refresh_derived(self, conn: Any, layer: Layer, only_stale: bool = False) -> None:
        """Compute the derived columns of stored rows anew, in batches: of every row (a store
        from before they existed, or a catalog whose fields changed), or ``only_stale``: of the
        rows changed outside the service since (their revision is null)."""
        derived = derived_columns(layer)
        assignments = ", ".join(f"{quote(n)} = {self.mark}" for n in derived)
        table = self.table(layer.id)
        statement = f"UPDATE {table} SET {assignments} WHERE fid = {self.mark}"
        which = f" WHERE {quote(REVISION_COLUMN)} IS NULL" if only_stale else ""
        fids = [row[0] for row in conn.execute(f"SELECT fid FROM {table}{which} ORDER BY fid").fetchall()]
        for start in range(0, len(fids), 2000):
            rows = self._rows_by_fid(conn, layer, fids[start : start + 2000])
            props, geometries = self._decode_rows(layer, [row[1:] for row in rows])
            values = self._derived_values(layer, list(zip(props, geometries, strict=True)))
            self._executemany(
                conn, statement, [[*extra, row[0]] for row, extra in zip(rows, values, strict=True)]
            )

    def replace(
        self, layer_id: str, features: Sequence[NewFeature], actor: str | None = None, via: str = "import"
    ) -> LayerState:
        layer = self._layer(layer_id)
        with self._errors(f"writing layer '{layer.id}'", wrote=True), self._write(layer) as conn:
            before = self._all(conn, layer) if actor is not None else []
            conn.execute(f"DELETE FROM {self.table(layer.id)}")
            self._insert(conn, layer, features)
            self._bump(conn, layer)
            if actor is not None:
                self._log_all(conn, utc_now(), layer, actor, via, changes(before, self._all(conn, layer)))
        with self._errors(f"updating the statistics of layer '{layer.id}'"):
            self._after_bulk_write(layer)
        return self.state(layer_id)

    def _after_bulk_write(self, layer: Layer) -> None:
        """After a layer's whole content was swapped (an import): what the database needs."""

    def edit(
        self, layer_id: str, edit: Edit, actor: str, via: str = "api", check: Precondition | None = None
    ) -> EditResult:
        layer = self._layer(layer_id)
        with self._errors(f"writing to layer '{layer.id}'", wrote=True), self._write(layer) as conn:
            # Writers take turns, so the check sees exactly what the write replaces.
            found = self._all(conn, layer, edit.feature_id)
            before = found[0] if found else None
            step = plan_edit(edit, layer.id, before, check)
            if step == "insert":
                self._insert(conn, layer, [(edit.properties or {}, edit.geometry)])
            elif step == "delete":
                conn.execute(f"DELETE FROM {self.table(layer.id)} WHERE id = {self.mark}", (edit.feature_id,))
            else:
                self._update(conn, layer, edit)
            found = self._all(conn, layer, edit.feature_id)
            after = found[0] if found else None
            self._bump(conn, layer, (before, after))
            self._log(
                conn, utc_now(), layer, edit.feature_id, LOGGED_ACTION[edit.action], actor, via, before, after
            )
        return EditResult(before, after, self.state(layer_id))

    # -- the change log -------------------------------------------------------------------------
    # Each change is stored as small as it reads whole again (store/history.py has the form).

    _HISTORY_COLUMNS = "seq, at, action, actor, via, before, after, feature_id, depth"

    def _log(
        self,
        conn: Any,
        at: dt.datetime,
        layer: Layer,
        feature_id: str,
        action: str,
        actor: str,
        via: str,
        before: StoredFeature | None,
        after: StoredFeature | None,
    ) -> None:
        self._log_all(conn, at, layer, actor, via, [(action, feature_id, before, after)])

    def _log_all(
        self,
        conn: Any,
        at: dt.datetime,
        layer: Layer,
        actor: str,
        via: str,
        logged: Sequence[tuple[str, str, StoredFeature | None, StoredFeature | None]],
    ) -> None:
        """One row per change: the before left out where it is the previous entry's after, the
        after as a diff where that is shorter (see :mod:`mapservice.store.history`)."""
        if not logged:
            return
        heads = self._history_heads(conn, layer, logged[0][1] if len(logged) == 1 else None)
        rows: list[list[Any]] = []
        when = self._time_param(at, "milliseconds")
        for action, feature_id, old, new in logged:
            before, after = feature_doc(old), feature_doc(new)
            before_text = after_text = after_rev = None
            depth = 0
            if before is not None:
                before_text = changelog.dumps(before)
                head = heads.get(feature_id)
                if (
                    head is not None
                    and head[0] == changelog.rev(before_text)
                    and head[1] + 1 < changelog.KEYFRAME
                ):
                    before_text, depth = None, head[1] + 1
            if after is not None:
                after_text = changelog.dumps(after)
                after_rev = changelog.rev(after_text)
                if before is not None:
                    same = old is not None and new is not None and old.geometry == new.geometry
                    after_text = changelog.diff(before, after, after_text, same) or after_text
            rows.append(
                [when, layer.id, feature_id, action, actor, via, before_text, after_text, after_rev, depth]
            )
        m, j = self.mark, self.json_mark
        self._executemany(
            conn,
            f"INSERT INTO {self.history_table} (at, layer, feature_id, action, actor, via, before, after, "
            f"rev, depth) VALUES ({m}, {m}, {m}, {m}, {m}, {m}, {j}, {j}, {m}, {m})",
            rows,
        )

    def _history_heads(
        self, conn: Any, layer: Layer, feature_id: str | None
    ) -> dict[str, tuple[str | None, int]]:
        """(rev, depth) of the last entry of each feature of ``layer`` (or of one feature)."""
        m = self.mark
        params: list[Any] = [layer.id]
        one = ""
        if feature_id is not None:
            one = f" AND feature_id = {m}"
            params.append(feature_id)
        rows = conn.execute(
            f"SELECT feature_id, rev, depth FROM {self.history_table} WHERE seq IN "
            f"(SELECT max(seq) FROM {self.history_table} WHERE layer = {m}{one} GROUP BY feature_id)",
            params,
        ).fetchall()
        return {str(r[0]): (r[1], int(r[2])) for r in rows}

    @staticmethod
    def _history_row(r: Sequence[Any]) -> changelog.Row:
        return changelog.Row(
            seq=int(r[0]),
            at=r[1],
            action=r[2],
            actor=r[3],
            via=r[4],
            before=_as_json(r[5]),
            after=_as_json(r[6]),
            feature_id=str(r[7]),
            depth=int(r[8]),
        )

    @staticmethod
    def _entry(layer_id: str, whole: changelog.Whole) -> HistoryEntry:
        r = whole.row
        return HistoryEntry(
            seq=r.seq,
            layer=layer_id,
            feature_id=r.feature_id,
            action=r.action,  # type: ignore[arg-type]
            actor=r.actor,
            via=r.via,
            at=_as_time(r.at),
            before=whole.before,
            after=whole.after,
        )

    def _rebuild(self, layer_id: str, rows: Sequence[changelog.Row]) -> list[changelog.Whole]:
        try:
            return changelog.rebuild(rows)
        except changelog.Broken as exc:
            raise StoreError(f"{self.label}the change log of '{layer_id}' is damaged: {exc}") from None

    def history(self, layer_id: str, feature_id: str) -> list[HistoryEntry]:
        layer = self._layer(layer_id)
        if "\x00" in feature_id and not self.holds_nul:
            return []
        m = self.mark
        with self._errors(f"reading the history of '{feature_id}'"), self._read() as conn:
            rows = conn.execute(
                f"SELECT {self._HISTORY_COLUMNS} FROM {self.history_table} "
                f"WHERE layer = {m} AND feature_id = {m} ORDER BY seq",
                (layer.id, feature_id),
            ).fetchall()
        return [
            self._entry(layer.id, w) for w in self._rebuild(layer.id, [self._history_row(r) for r in rows])
        ]

    def changes_since(self, layer_id: str, since: dt.datetime) -> list[HistoryEntry]:
        layer = self._layer(layer_id)
        m = self.mark
        # Both backends compare times in their own column type: PostGIS as timestamptz, the
        # GeoPackage as ISO text in UTC with milliseconds, which sorts like the time itself.
        at = self._time_param(since.astimezone(dt.UTC), "milliseconds")
        with self._errors(f"reading the changes of '{layer.id}'"), self._read(snapshot=True) as conn:
            rows = [
                self._history_row(r)
                for r in conn.execute(
                    f"SELECT {self._HISTORY_COLUMNS} FROM {self.history_table} "
                    f"WHERE layer = {m} AND at >= {m} ORDER BY seq",
                    (layer.id, at),
                ).fetchall()
            ]
            earlier = self._earlier_rows(conn, layer, at, changelog.needs_base(rows))
        # The earlier rows are read only to rebuild the first rows since; they are not listed.
        listed = {r.seq for r in rows}
        wholes = self._rebuild(layer.id, [*earlier, *rows])
        return [self._entry(layer.id, w) for w in wholes if w.row.seq in listed]

    def _earlier_rows(self, conn: Any, layer: Layer, at: Any, feature_ids: set[str]) -> list[changelog.Row]:
        """The rows before ``at`` that the first rows since ``at`` of ``feature_ids`` are
        rebuilt from: the last few of each feature, back to one that reads whole by itself."""
        m = self.mark
        out: list[changelog.Row] = []
        ids = sorted(feature_ids)
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            rows = conn.execute(
                f"SELECT {self._HISTORY_COLUMNS} FROM (SELECT {self._HISTORY_COLUMNS}, row_number() OVER "
                f"(PARTITION BY feature_id ORDER BY seq DESC) AS back FROM {self.history_table} "
                f"WHERE layer = {m} AND at < {m} AND feature_id IN ({', '.join([m] * len(chunk))})) t "
                f"WHERE back <= {m} ORDER BY seq",
                [layer.id, at, *chunk, changelog.KEYFRAME],
            ).fetchall()
            found = [self._history_row(r) for r in rows]
            # A row that reads whole starts each chain; anything older is not needed.
            starts: dict[str, int] = {}
            for row in found:
                if not changelog.implicit_before(row):
                    starts[row.feature_id] = row.seq
            missing = [fid for fid in chunk if fid not in starts]
            out += [r for r in found if r.feature_id in starts and r.seq >= starts[r.feature_id]]
            for fid in missing:  # times out of order (clocks of several hosts): read it all
                rows = conn.execute(
                    f"SELECT {self._HISTORY_COLUMNS} FROM {self.history_table} "
                    f"WHERE layer = {m} AND feature_id = {m} AND at < {m} ORDER BY seq",
                    (layer.id, fid, at),
                ).fetchall()
                out += [self._history_row(r) for r in rows]
        return out

    def prune_history(self, before: dt.datetime | None = None, keep: int | None = None) -> HistoryPrune:
        if before is None and keep is None:
            raise StoreError("pruning the change log needs a date (before) or a number of entries to keep")
        if keep is not None and keep < 0:
            raise StoreError(f"the number of entries to keep must be 0 or more, not {keep}")
        h, m, j = self.history_table, self.mark, self.json_mark
        conditions: list[str] = []
        params: list[Any] = []
        if before is not None:
            conditions.append(f"at < {m}")
            params.append(self._time_param(before.astimezone(dt.UTC), "milliseconds"))
        if keep is not None:
            conditions.append(
                f"seq IN (SELECT seq FROM (SELECT seq, row_number() OVER (PARTITION BY layer, feature_id "
                f"ORDER BY seq DESC) AS back FROM {h}) ranked WHERE back > {m})"
            )
            params.append(keep)
        gone = " AND ".join(conditions)
        with self._errors("pruning the change log", wrote=True), self._write() as conn:
            # No write may chain a new entry to one this removes before the folds are in.
            self._lock_layers(conn)
            total = int(conn.execute(f"SELECT count(*) FROM {h}").fetchone()[0])
            doomed = {
                int(r[0]): (str(r[1]), str(r[2]))
                for r in conn.execute(
                    f"SELECT seq, layer, feature_id FROM {h} WHERE {gone}", params
                ).fetchall()
            }
            touched = sorted(set(doomed.values()))
            folds: list[list[Any]] = []
            depths: list[list[Any]] = []
            for layer_id in sorted({lid for lid, _ in touched}):
                ids = [fid for lid, fid in touched if lid == layer_id]
                for start in range(0, len(ids), 500):
                    chunk = ids[start : start + 500]
                    rows = conn.execute(
                        f"SELECT {self._HISTORY_COLUMNS} FROM {h} WHERE layer = {m} "
                        f"AND feature_id IN ({', '.join([m] * len(chunk))}) ORDER BY seq",
                        [layer_id, *chunk],
                    ).fetchall()
                    self._refold(layer_id, [self._history_row(r) for r in rows], doomed, folds, depths)
            # The rows left that read their before from a removed one get it whole first.
            if folds:
                self._executemany(conn, f"UPDATE {h} SET before = {j}, depth = 0 WHERE seq = {m}", folds)
            if depths:
                self._executemany(conn, f"UPDATE {h} SET depth = {m} WHERE seq = {m}", depths)
            if doomed:
                conn.execute(f"DELETE FROM {h} WHERE {gone}", params)
        return HistoryPrune(
            removed=len(doomed),
            kept=total - len(doomed),
            features=len({k for k in doomed.values()}),
            folded=len(folds),
        )

    def _lock_layers(self, conn: Any) -> None:
        """Inside a write transaction: the writers of every layer wait until it commits (a
        backend whose write transactions all take turns needs nothing)."""

    def _refold(
        self,
        layer_id: str,
        rows: Sequence[changelog.Row],
        doomed: Mapping[int, tuple[str, str]],
        folds: list[list[Any]],
        depths: list[list[Any]],
    ) -> None:
        """The updates that keep the rows left of these features whole: a whole before where
        the row before it goes, and the depth (rows back to a whole before) counted anew."""
        previous_kept: dict[str, bool] = {}
        depth: dict[str, int] = {}
        for whole in self._rebuild(layer_id, rows):
            row = whole.row
            if row.seq in doomed:
                previous_kept[row.feature_id] = False
                continue
            if not changelog.implicit_before(row):
                new_depth = 0
            elif not previous_kept.get(row.feature_id, False):
                folds.append([changelog.dumps(whole.before), row.seq])
                new_depth = -1  # written by the fold
            else:
                new_depth = depth[row.feature_id] + 1
            if new_depth >= 0 and new_depth != row.depth:
                depths.append([new_depth, row.seq])
            depth[row.feature_id] = max(new_depth, 0)
            previous_kept[row.feature_id] = True

    # -- tokens ---------------------------------------------------------------------------------

    _TOKEN_COLUMNS = "id, name, secret_hash, collections, created_at, revoked_at"  # noqa: S105

    @staticmethod
    def _token(row: Sequence[Any]) -> Token:
        return Token(
            id=row[0],
            name=row[1],
            secret_hash=row[2],
            collections=tuple(_as_json(row[3])),
            created_at=_as_time(row[4]),
            revoked_at=None if row[5] is None else _as_time(row[5]),
        )

    def add_token(self, token: Token) -> None:
        m = self.mark
        with self._errors(f"storing token '{token.id}'", wrote=True), self._write() as conn:
            conn.execute(
                f"INSERT INTO {self.token_table} (id, name, secret_hash, collections, created_at) "
                f"VALUES ({m}, {m}, {m}, {self.json_mark}, {m})",
                (
                    token.id,
                    token.name,
                    token.secret_hash,
                    json.dumps(list(token.collections)),
                    self._time_param(token.created_at),
                ),
            )

    def tokens(self) -> list[Token]:
        rows = self._fetch(
            "reading the tokens",
            f"SELECT {self._TOKEN_COLUMNS} FROM {self.token_table} ORDER BY created_at, id",
        )
        return [self._token(r) for r in rows]

    def token(self, token_id: str) -> Token | None:
        """One token by its id (the primary key): every authenticated request asks."""
        rows = self._fetch(
            "reading the tokens",
            f"SELECT {self._TOKEN_COLUMNS} FROM {self.token_table} WHERE id = {self.mark}",
            (token_id,),
        )
        return self._token(rows[0]) if rows else None

    def revoke_token(self, token_id: str) -> bool:
        m = self.mark
        with self._errors(f"revoking token '{token_id}'", wrote=True), self._write() as conn:
            cur = conn.execute(
                f"UPDATE {self.token_table} SET revoked_at = {m} WHERE id = {m} AND revoked_at IS NULL",
                (self._time_param(utc_now()), token_id),
            )
            return bool(cur.rowcount == 1)

    # -- surveys --------------------------------------------------------------------------------
    # Four fixed tables (created by each dialect's schema): the surveys, one invitation per
    # municipality asked (the link's token hash), the answers as sent with their review, and
    # the failed link attempts of the last minutes (a hash of the client, for the rate limit).

    _SURVEY_COLUMNS = "id, title, created_at, closes_on, created_by, area, closed_at"
    _INVITATION_COLUMNS = "survey_id, ags, name, token_id, secret_hash, opened_at"
    _ANSWER_COLUMNS = "seq, survey_id, ags, submitted_at, answer, review, reviewed_at, reviewer, review_note"

    @abc.abstractmethod
    def _bump_surveys(self, conn: Any) -> None:
        """New version and change time of the survey data (a row of the state table)."""

    @staticmethod
    def _survey(row: Sequence[Any]) -> Survey:
        return Survey(
            id=row[0],
            title=row[1],
            created_at=_as_time(row[2]),
            closes_on=dt.date.fromisoformat(str(row[3])),
            created_by=row[4],
            area=dict(_as_json(row[5])),
            closed_at=None if row[6] is None else _as_time(row[6]),
        )

    @staticmethod
    def _invitation(row: Sequence[Any]) -> Invitation:
        return Invitation(
            survey_id=row[0],
            ags=row[1],
            name=row[2],
            token_id=row[3],
            secret_hash=row[4],
            opened_at=None if row[5] is None else _as_time(row[5]),
        )

    @staticmethod
    def _answer(row: Sequence[Any]) -> SurveyAnswer:
        return SurveyAnswer(
            seq=int(row[0]),
            survey_id=row[1],
            ags=row[2],
            submitted_at=_as_time(row[3]),
            answer=dict(_as_json(row[4])),
            review=row[5],
            reviewed_at=None if row[6] is None else _as_time(row[6]),
            reviewer=row[7],
            review_note=row[8],
        )

    def add_survey(self, survey: Survey, invitations: Sequence[Invitation]) -> None:
        m, j = self.mark, self.json_mark
        with self._errors(f"storing survey '{survey.id}'", wrote=True), self._write() as conn:
            conn.execute(
                f"INSERT INTO {self.survey_table} ({self._SURVEY_COLUMNS}) "
                f"VALUES ({m}, {m}, {m}, {m}, {m}, {j}, {m})",
                (
                    survey.id,
                    survey.title,
                    self._time_param(survey.created_at),
                    survey.closes_on.isoformat(),
                    survey.created_by,
                    json.dumps(survey.area, ensure_ascii=False),
                    None,
                ),
            )
            self._executemany(
                conn,
                f"INSERT INTO {self.invitation_table} ({self._INVITATION_COLUMNS}) "
                f"VALUES ({m}, {m}, {m}, {m}, {m}, {m})",
                [[i.survey_id, i.ags, i.name, i.token_id, i.secret_hash, None] for i in invitations],
            )
            self._bump_surveys(conn)

    def _fetch(self, doing: str, statement: str, params: Sequence[Any] = ()) -> list[Any]:
        """The rows of one read of the fixed tables; a text with NUL (which PostgreSQL cannot
        hold, so no row has it) finds nothing instead of failing."""
        if not self.holds_nul and any(isinstance(p, str) and "\x00" in p for p in params):
            return []
        with self._errors(doing), self._read() as conn:
            return list(conn.execute(statement, params).fetchall())

    def surveys(self) -> list[Survey]:
        rows = self._fetch(
            "reading the surveys",
            f"SELECT {self._SURVEY_COLUMNS} FROM {self.survey_table} ORDER BY created_at, id",
        )
        return [self._survey(r) for r in rows]

    def survey(self, survey_id: str) -> Survey | None:
        rows = self._fetch(
            "reading the surveys",
            f"SELECT {self._SURVEY_COLUMNS} FROM {self.survey_table} WHERE id = {self.mark}",
            (survey_id,),
        )
        return self._survey(rows[0]) if rows else None

    def close_survey(self, survey_id: str, at: dt.datetime) -> bool:
        m = self.mark
        with self._errors(f"closing survey '{survey_id}'", wrote=True), self._write() as conn:
            cur = conn.execute(
                f"UPDATE {self.survey_table} SET closed_at = {m} WHERE id = {m} AND closed_at IS NULL",
                (self._time_param(at), survey_id),
            )
            closed = bool(cur.rowcount == 1)
            if closed:
                self._bump_surveys(conn)
        return closed

    def invitations(self, survey_id: str) -> list[Invitation]:
        rows = self._fetch(
            "reading the invitations of a survey",
            f"SELECT {self._INVITATION_COLUMNS} FROM {self.invitation_table} "
            f"WHERE survey_id = {self.mark} ORDER BY ags",
            (survey_id,),
        )
        return [self._invitation(r) for r in rows]

    def invitation(self, token_id: str) -> Invitation | None:
        rows = self._fetch(
            "reading the invitations of a survey",
            f"SELECT {self._INVITATION_COLUMNS} FROM {self.invitation_table} WHERE token_id = {self.mark}",
            (token_id,),
        )
        return self._invitation(rows[0]) if rows else None

    def mark_opened(self, survey_id: str, ags: str, at: dt.datetime) -> None:
        m = self.mark
        with self._errors("recording that a survey link was opened", wrote=True), self._write() as conn:
            cur = conn.execute(
                f"UPDATE {self.invitation_table} SET opened_at = {m} "
                f"WHERE survey_id = {m} AND ags = {m} AND opened_at IS NULL",
                (self._time_param(at), survey_id, ags),
            )
            if cur.rowcount == 1:
                self._bump_surveys(conn)

    def answers(self, survey_id: str, ags: str | None = None) -> list[SurveyAnswer]:
        m = self.mark
        where, params = f"survey_id = {m}", [survey_id]
        if ags is not None:
            where, params = f"{where} AND ags = {m}", [survey_id, ags]
        rows = self._fetch(
            "reading the answers of a survey",
            f"SELECT {self._ANSWER_COLUMNS} FROM {self.answer_table} WHERE {where} ORDER BY seq",
            params,
        )
        return [self._answer(r) for r in rows]

    def _apply_edits(self, conn: Any, write: SurveyWrite) -> None:
        """The edits of ``write`` inside the caller's transaction, each logged like an API write."""
        layer = self._layer(write.layer_id)
        at = utc_now()
        for edit in write.edits:
            found = self._all(conn, layer, edit.feature_id)
            before = found[0] if found else None
            step = plan_edit(edit, layer.id, before, None)
            if step == "insert":
                self._insert(conn, layer, [(edit.properties or {}, edit.geometry)])
            elif step == "delete":
                conn.execute(f"DELETE FROM {self.table(layer.id)} WHERE id = {self.mark}", (edit.feature_id,))
            else:
                self._update(conn, layer, edit)
            found = self._all(conn, layer, edit.feature_id)
            after = found[0] if found else None
            self._log(
                conn,
                at,
                layer,
                edit.feature_id,
                LOGGED_ACTION[edit.action],
                write.actor,
                write.via,
                before,
                after,
            )
        if write.edits:
            self._bump(conn, layer)

    def submit_answer(self, answer: SurveyAnswer, write: SurveyWrite) -> SurveyAnswer:
        m, j = self.mark, self.json_mark
        layer = self._layer(write.layer_id)
        with self._errors(f"storing the answer of {answer.ags}", wrote=True), self._write(layer) as conn:
            conn.execute(
                f"UPDATE {self.answer_table} SET review = 'superseded' "
                f"WHERE survey_id = {m} AND ags = {m} AND review = 'pending'",
                (answer.survey_id, answer.ags),
            )
            self._apply_edits(conn, write)
            row = conn.execute(
                f"INSERT INTO {self.answer_table} (survey_id, ags, submitted_at, answer, review) "
                f"VALUES ({m}, {m}, {m}, {j}, 'pending') RETURNING seq",
                (
                    answer.survey_id,
                    answer.ags,
                    self._time_param(answer.submitted_at),
                    json.dumps(answer.answer, ensure_ascii=False),
                ),
            ).fetchone()
            self._bump_surveys(conn)
        return dataclasses.replace(answer, seq=int(row[0]), review="pending")

    def review_answer(
        self, seq: int, decision: str, reviewer: str, note: str | None, write: SurveyWrite
    ) -> SurveyAnswer:
        if decision not in ("approved", "rejected"):
            raise StoreError(f"a review decides 'approved' or 'rejected', not '{decision}'")
        m = self.mark
        layer = self._layer(write.layer_id)
        with self._errors(f"storing the review of answer {seq}", wrote=True), self._write(layer) as conn:
            # Only a pending answer is decided, once: a second reviewer (or a newer answer
            # that superseded it meanwhile) finds it decided and nothing is written.
            cur = conn.execute(
                f"UPDATE {self.answer_table} SET review = {m}, reviewed_at = {m}, reviewer = {m}, "
                f"review_note = {m} WHERE seq = {m} AND review = 'pending'",
                (decision, self._time_param(utc_now()), reviewer, note, seq),
            )
            if cur.rowcount != 1:
                raise StoreError(f"answer {seq} is not waiting for review (it was decided or replaced)")
            self._apply_edits(conn, write)
            row = conn.execute(
                f"SELECT {self._ANSWER_COLUMNS} FROM {self.answer_table} WHERE seq = {m}", (seq,)
            ).fetchone()
            self._bump_surveys(conn)
        return self._answer(row)

    def count_survey_failure(
        self, client: str, at: dt.datetime, window: dt.timedelta, record: bool = True
    ) -> int:
        m = self.mark
        since = self._time_param(at - window)
        count = f"SELECT count(*) FROM {self.failure_table} WHERE client = {m} AND at >= {m}"
        if not record:  # every request of a link looks: a read, no write transaction
            return int(self._fetch("counting failed survey links", count, (client, since))[0][0])
        with self._errors("recording a failed survey link", wrote=True), self._write() as conn:
            # Old records go when a new one comes, so the table holds the last window only.
            conn.execute(f"DELETE FROM {self.failure_table} WHERE at < {m}", (since,))
            conn.execute(
                f"INSERT INTO {self.failure_table} (client, at) VALUES ({m}, {m})",
                (client, self._time_param(at)),
            )
            row = conn.execute(count, (client, since)).fetchone()
        return int(row[0])

    def survey_state(self) -> LayerState:
        with self._errors("reading the version of the surveys"), self._read() as conn:
            row = conn.execute(
                f"SELECT version, updated_at FROM {self.state_table} WHERE layer = {self.mark}",
                (SURVEY_STATE_KEY,),
            ).fetchone()
        if row is None:
            return LayerState(version=0, updated_at=dt.datetime(1970, 1, 1, tzinfo=dt.UTC), count=0)
        return LayerState(version=int(row[0]), updated_at=_as_time(row[1]), count=0)

    # -- address points of the offline gazetteer ------------------------------------------------

    _SOURCE_COLUMNS = (
        "name, format, file_name, row_count, imported_at, licence, attribution, places, "
        "min_x, min_y, max_x, max_y"
    )

    @abc.abstractmethod
    def _insert_addresses(self, conn: Any, source: str, rows: Sequence[AddressRow]) -> None:
        """Append points of ``source`` (the geometry is made from lon/lat by the dialect)."""

    @abc.abstractmethod
    def _lock_addresses(self, conn: Any) -> None:
        """Inside a write transaction: address writers take turns from here to the commit."""

    @abc.abstractmethod
    def _bump_addresses(self, conn: Any, bbox: BBox | None) -> None:
        """New version and change time of the address points (and the table's extent)."""

    @abc.abstractmethod
    def _read_address_version(self, conn: Any) -> tuple[Any, Any] | None:
        """(version, updated_at) of the address points, or None before the first import."""

    def replace_addresses(
        self,
        source: AddressSource,
        batches: Iterable[Sequence[AddressRow]],
        summary: Callable[[], AddressSummary],
    ) -> AddressSource:
        m = self.mark
        with self._errors(f"importing address source '{source.name}'", wrote=True), self._write() as conn:
            self._lock_addresses(conn)
            conn.execute(f"DELETE FROM {self.address_table} WHERE source = {m}", (source.name,))
            conn.execute(f"DELETE FROM {self.address_streets_table} WHERE source = {m}", (source.name,))
            conn.execute(f"DELETE FROM {self.address_sources_table} WHERE name = {m}", (source.name,))
            for batch in batches:  # raises on a bad row: the transaction is rolled back
                if batch:
                    self._insert_addresses(conn, source.name, batch)
            done = summary()
            stored = dataclasses.replace(
                source,
                row_count=done.row_count,
                places=tuple(done.places),
                bbox=done.bbox,
                attribution=source.attribution or done.attribution,
            )
            if done.streets:
                self._executemany(
                    conn,
                    f"INSERT INTO {self.address_streets_table} "
                    "(source, street_key, words, place_key, street, place, count) "
                    f"VALUES ({', '.join([m] * 7)})",
                    [
                        [source.name, s.key, s.words, s.place_key, s.street, s.place, s.count]
                        for s in done.streets
                    ],
                )
            bbox = list(stored.bbox) if stored.bbox is not None else [None] * 4
            conn.execute(
                f"INSERT INTO {self.address_sources_table} ({self._SOURCE_COLUMNS}) "
                f"VALUES ({m}, {m}, {m}, {m}, {m}, {m}, {m}, {self.json_mark}, {m}, {m}, {m}, {m})",
                (
                    stored.name,
                    stored.format,
                    stored.file_name,
                    stored.row_count,
                    self._time_param(stored.imported_at),
                    stored.licence,
                    stored.attribution,
                    json.dumps([list(p) for p in stored.places], ensure_ascii=False),
                    *bbox,
                ),
            )
            self._bump_addresses(conn, self._addresses_extent(conn))
        return stored

    def _addresses_extent(self, conn: Any) -> BBox | None:
        row = conn.execute(
            f"SELECT min(min_x), min(min_y), max(max_x), max(max_y) FROM {self.address_sources_table}"
        ).fetchone()
        return None if row is None or row[0] is None else (row[0], row[1], row[2], row[3])

    def remove_address_source(self, name: str) -> bool:
        if "\x00" in name and not self.holds_nul:
            return False
        m = self.mark
        with self._errors(f"removing address source '{name}'", wrote=True), self._write() as conn:
            self._lock_addresses(conn)
            cur = conn.execute(f"DELETE FROM {self.address_sources_table} WHERE name = {m}", (name,))
            if cur.rowcount != 1:
                return False
            conn.execute(f"DELETE FROM {self.address_table} WHERE source = {m}", (name,))
            conn.execute(f"DELETE FROM {self.address_streets_table} WHERE source = {m}", (name,))
            self._bump_addresses(conn, self._addresses_extent(conn))
        return True

    def address_sources(self) -> list[AddressSource]:
        with self._errors("reading the address sources"), self._read() as conn:
            rows = conn.execute(
                f"SELECT {self._SOURCE_COLUMNS} FROM {self.address_sources_table} ORDER BY name"
            ).fetchall()
        out = []
        for r in rows:
            bbox = None if r[8] is None else (float(r[8]), float(r[9]), float(r[10]), float(r[11]))
            out.append(
                AddressSource(
                    name=r[0],
                    format=r[1],
                    file_name=r[2],
                    row_count=int(r[3]),
                    imported_at=_as_time(r[4]),
                    licence=r[5],
                    attribution=r[6],
                    places=tuple((str(p), int(n)) for p, n in (_as_json(r[7]) or [])),
                    bbox=bbox,
                )
            )
        return out

    def address_state(self) -> AddressState:
        with self._errors("reading the version of the address points"), self._read(snapshot=True) as conn:
            version = self._read_address_version(conn)
            count = conn.execute(
                f"SELECT coalesce(sum(row_count), 0) FROM {self.address_sources_table}"
            ).fetchone()[0]
        if version is None:
            return AddressState(0, dt.datetime(1970, 1, 1, tzinfo=dt.UTC), int(count))
        return AddressState(int(version[0]), _as_time(version[1]), int(count))

    def address_places(self, street_key: str) -> list[str]:
        if "\x00" in street_key and not self.holds_nul:
            return []
        with self._errors("reading the address points"), self._read() as conn:
            rows = conn.execute(
                f"SELECT DISTINCT place_key FROM {self.address_table} WHERE street_key = {self.mark}",
                (street_key,),
            ).fetchall()
        return sorted(str(r[0]) for r in rows)

    def addresses_on(
        self, street_key: str, place_keys: Sequence[str] | None = None, housenumber_key: str | None = None
    ) -> list[tuple[str, AddressRow]]:
        if not self.holds_nul and ("\x00" in street_key or any("\x00" in k for k in place_keys or ())):
            return []
        m = self.mark
        sql = f"SELECT source, {', '.join(ADDRESS_COLUMNS)} FROM {self.address_table} WHERE street_key = {m}"
        params: list[Any] = [street_key]
        if place_keys is not None:
            if not place_keys:
                return []
            sql += f" AND place_key IN ({', '.join([m] * len(place_keys))})"
            params += list(place_keys)
        if housenumber_key is not None:
            sql += f" AND housenumber_key = {m}"
            params.append(housenumber_key)
        with self._errors("reading the address points"), self._read() as conn:
            rows = conn.execute(sql, params).fetchall()
        return [(r[0], tuple(r[1:])) for r in rows]

    def address_streets(self) -> list[AddressStreet]:
        with self._errors("reading the address streets"), self._read() as conn:
            rows = conn.execute(
                f"SELECT street_key, words, place_key, street, place, count FROM {self.address_streets_table}"
            ).fetchall()
        return [AddressStreet(r[0], r[1], r[2], r[3], r[4], int(r[5])) for r in rows]
