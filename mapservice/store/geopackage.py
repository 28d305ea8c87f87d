"""The embedded default store: one GeoPackage file, read and written with Python's sqlite3.

The file is a conformant GeoPackage 1.4 (spatial reference systems, contents, geometry
columns, R-tree spatial index with the spec's triggers, data-column titles), so the same
file opens in QGIS. Each layer is one table named after the layer id (``-`` → ``_``) with one
column per catalog field; lists and objects are JSON text (mime type application/json).

Readers and writers use WAL mode: a reader keeps seeing the previous state until a write
transaction commits, and a write is one transaction, so a crash never leaves half a layer.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import logging
import os
import shutil
import sqlite3
import struct
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import shapely

from ..catalog.layers import Catalog, FieldDef, Layer
from . import expressions, gpkg_binary, gpkg_file
from .base import ADDRESS_COLUMNS, AddressRow, BBox, NewFeature, Reclaimed, StoreError
from .sql import (
    FEATURE_COLUMN,
    PUBLISHED_SUMMARY_COLUMNS,
    REVISION_COLUMN,
    SURVEY_STATE_KEY,
    Change,
    SqlStore,
    declared_geometry_type,
    derived_fingerprint,
    quote,
    table_name,
)

APPLICATION_ID = 0x47504B47  # "GPKG"
_log = logging.getLogger(__name__)
USER_VERSION = 10400  # GeoPackage 1.4.0
STATE_TABLE = "mapservice_layer_state"
HISTORY_TABLE = "mapservice_history"
TOKEN_TABLE = "mapservice_tokens"  # noqa: S105 - a table name, not a secret
ADDRESS_TABLE = "mapservice_addresses"
ADDRESS_STREETS_TABLE = "mapservice_address_streets"
ADDRESS_SOURCES_TABLE = "mapservice_address_sources"
SURVEY_TABLE = "mapservice_surveys"
INVITATION_TABLE = "mapservice_survey_invitations"
ANSWER_TABLE = "mapservice_survey_answers"
FAILURE_TABLE = "mapservice_survey_failures"
# The address points' version lives in the layer state table under a key no layer id can
# take (layer ids are lower-case words and hyphens).
ADDRESS_STATE_KEY = ":addresses"
# A point blob is this header (little endian, no envelope, EPSG:4326) and then a WKB point.
_POINT_BLOB_HEAD = gpkg_binary.MAGIC + struct.pack("<BBi", 0, 1, 4326) + struct.pack("<BI", 1, 1)

# The change log and the write tokens (hashes only). The log is registered as an attributes
# table, so a GIS user sees it in QGIS next to the layers; the tokens are not.
_ADMIN_SCHEMA = [
    f"""CREATE TABLE IF NOT EXISTS {HISTORY_TABLE} (
  seq INTEGER PRIMARY KEY AUTOINCREMENT, at TEXT NOT NULL, layer TEXT NOT NULL,
  feature_id TEXT NOT NULL, action TEXT NOT NULL, actor TEXT NOT NULL, via TEXT NOT NULL,
  before TEXT, after TEXT, rev TEXT, depth INTEGER NOT NULL DEFAULT 0)""",
    f"CREATE INDEX IF NOT EXISTS {HISTORY_TABLE}_feature ON {HISTORY_TABLE} (layer, feature_id)",
    f"""INSERT OR IGNORE INTO gpkg_contents (table_name, data_type, identifier, description)
  VALUES ('{HISTORY_TABLE}', 'attributes', 'Änderungsprotokoll',
  'Every change of every feature: who, when, before and after (JSON)')""",
    f"""CREATE TABLE IF NOT EXISTS {TOKEN_TABLE} (
  id TEXT PRIMARY KEY, name TEXT NOT NULL, secret_hash TEXT NOT NULL,
  collections TEXT NOT NULL, created_at TEXT NOT NULL, revoked_at TEXT)""",
    # The offline gazetteer's address points: a point layer QGIS shows like any other (no
    # R-tree: the service looks points up by street key, and 1,000,000 index rows would
    # double the import time; QGIS can build one), the streets per place and source for
    # fuzzy matching, and the sources with their licence.
    f"""CREATE TABLE IF NOT EXISTS {ADDRESS_TABLE} (
  fid INTEGER PRIMARY KEY AUTOINCREMENT, geom POINT, source TEXT NOT NULL, street TEXT NOT NULL,
  housenumber TEXT, postcode TEXT, place TEXT, lon REAL NOT NULL, lat REAL NOT NULL,
  precision TEXT NOT NULL, street_key TEXT NOT NULL, place_key TEXT NOT NULL,
  housenumber_key TEXT NOT NULL, ref TEXT)""",
    f"CREATE INDEX IF NOT EXISTS {ADDRESS_TABLE}_street ON {ADDRESS_TABLE} (street_key, place_key)",
    f"CREATE INDEX IF NOT EXISTS {ADDRESS_TABLE}_source ON {ADDRESS_TABLE} (source)",
    f"""INSERT OR IGNORE INTO gpkg_contents (table_name, data_type, identifier, description, srs_id)
  VALUES ('{ADDRESS_TABLE}', 'features', 'Adressen (Gazetteer)',
  'Address points of the offline geocoder, imported with mapservice gazetteer import', 4326)""",
    f"""INSERT OR IGNORE INTO gpkg_geometry_columns
  VALUES ('{ADDRESS_TABLE}', 'geom', 'POINT', 4326, 0, 0)""",
    f"""CREATE TABLE IF NOT EXISTS {ADDRESS_STREETS_TABLE} (
  source TEXT NOT NULL, street_key TEXT NOT NULL, words TEXT NOT NULL, place_key TEXT NOT NULL,
  street TEXT NOT NULL, place TEXT, count INTEGER NOT NULL)""",
    f"CREATE INDEX IF NOT EXISTS {ADDRESS_STREETS_TABLE}_source ON {ADDRESS_STREETS_TABLE} (source)",
    f"""CREATE TABLE IF NOT EXISTS {ADDRESS_SOURCES_TABLE} (
  name TEXT PRIMARY KEY, format TEXT NOT NULL, file_name TEXT NOT NULL, row_count INTEGER NOT NULL,
  imported_at TEXT NOT NULL, licence TEXT, attribution TEXT, places TEXT NOT NULL,
  min_x REAL, min_y REAL, max_x REAL, max_y REAL)""",
    f"""INSERT OR IGNORE INTO gpkg_contents (table_name, data_type, identifier, description)
  VALUES ('{ADDRESS_SOURCES_TABLE}', 'attributes', 'Adressquellen',
  'Imported address sources: format, file, number of points, date, licence, attribution')""",
    # Surveys of municipalities (mapservice survey): not registered in gpkg_contents, since
    # answers are not public before review and the links' hashes are not for a GIS user.
    f"""CREATE TABLE IF NOT EXISTS {SURVEY_TABLE} (
  id TEXT PRIMARY KEY, title TEXT NOT NULL, created_at TEXT NOT NULL, closes_on TEXT NOT NULL,
  created_by TEXT NOT NULL, area TEXT NOT NULL, closed_at TEXT)""",
    f"""CREATE TABLE IF NOT EXISTS {INVITATION_TABLE} (
  survey_id TEXT NOT NULL REFERENCES {SURVEY_TABLE} (id), ags TEXT NOT NULL, name TEXT NOT NULL,
  token_id TEXT NOT NULL UNIQUE, secret_hash TEXT NOT NULL, opened_at TEXT,
  PRIMARY KEY (survey_id, ags))""",
    f"""CREATE TABLE IF NOT EXISTS {ANSWER_TABLE} (
  seq INTEGER PRIMARY KEY AUTOINCREMENT, survey_id TEXT NOT NULL, ags TEXT NOT NULL,
  submitted_at TEXT NOT NULL, answer TEXT NOT NULL, review TEXT NOT NULL, reviewed_at TEXT,
  reviewer TEXT, review_note TEXT,
  FOREIGN KEY (survey_id, ags) REFERENCES {INVITATION_TABLE} (survey_id, ags))""",
    f"CREATE INDEX IF NOT EXISTS {ANSWER_TABLE}_municipality ON {ANSWER_TABLE} (survey_id, ags)",
    f"""CREATE TABLE IF NOT EXISTS {FAILURE_TABLE} (client TEXT NOT NULL, at TEXT NOT NULL)""",
    f"CREATE INDEX IF NOT EXISTS {FAILURE_TABLE}_client ON {FAILURE_TABLE} (client)",
]
# Columns of the change log a file from before the compact history form (store/history.py)
# gains: the hash of each entry's after and the rows back to a whole before.
_HISTORY_ADDED = {"rev": "TEXT", "depth": "INTEGER NOT NULL DEFAULT 0"}
# Columns of the layer versions a file from before issue 16 gains: the count kept with each
# version (never counted per request) and the fingerprint of the derived columns.
_STATE_ADDED = {
    "count": "INTEGER NOT NULL DEFAULT 0",
    "derived": "TEXT",
    "published_count": "INTEGER",
    "published_min_x": "REAL",
    "published_min_y": "REAL",
    "published_max_x": "REAL",
    "published_max_y": "REAL",
}
# The fixed tables an up-to-date file has (checked before taking the write lock).
_ADMIN_TABLES = (
    HISTORY_TABLE,
    TOKEN_TABLE,
    ADDRESS_TABLE,
    ADDRESS_STREETS_TABLE,
    ADDRESS_SOURCES_TABLE,
    SURVEY_TABLE,
    INVITATION_TABLE,
    ANSWER_TABLE,
    FAILURE_TABLE,
)

WGS84_WKT = (
    'GEOGCS["WGS 84",DATUM["WGS_1984",SPHEROID["WGS 84",6378137,298.257223563,'
    'AUTHORITY["EPSG","7030"]],AUTHORITY["EPSG","6326"]],PRIMEM["Greenwich",0,'
    'AUTHORITY["EPSG","8901"]],UNIT["degree",0.0174532925199433,AUTHORITY["EPSG","9122"]],'
    'AXIS["Latitude",NORTH],AXIS["Longitude",EAST],AUTHORITY["EPSG","4326"]]'
)

_BASE_SCHEMA = f"""
CREATE TABLE gpkg_spatial_ref_sys (
  srs_name TEXT NOT NULL, srs_id INTEGER PRIMARY KEY, organization TEXT NOT NULL,
  organization_coordsys_id INTEGER NOT NULL, definition TEXT NOT NULL, description TEXT);
INSERT INTO gpkg_spatial_ref_sys VALUES
  ('Undefined cartesian SRS', -1, 'NONE', -1, 'undefined',
   'undefined cartesian coordinate reference system'),
  ('Undefined geographic SRS', 0, 'NONE', 0, 'undefined',
   'undefined geographic coordinate reference system'),
  ('WGS 84 geodetic', 4326, 'EPSG', 4326, '{WGS84_WKT}',
   'longitude/latitude coordinates in decimal degrees on the WGS 84 spheroid');
CREATE TABLE gpkg_contents (
  table_name TEXT NOT NULL PRIMARY KEY, data_type TEXT NOT NULL, identifier TEXT UNIQUE,
  description TEXT DEFAULT '',
  last_change DATETIME NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
  min_x DOUBLE, min_y DOUBLE, max_x DOUBLE, max_y DOUBLE, srs_id INTEGER,
  CONSTRAINT fk_gc_r_srs_id FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys(srs_id));
CREATE TABLE gpkg_geometry_columns (
  table_name TEXT NOT NULL, column_name TEXT NOT NULL, geometry_type_name TEXT NOT NULL,
  srs_id INTEGER NOT NULL, z TINYINT NOT NULL, m TINYINT NOT NULL,
  CONSTRAINT pk_geom_cols PRIMARY KEY (table_name, column_name),
  CONSTRAINT fk_gc_tn FOREIGN KEY (table_name) REFERENCES gpkg_contents(table_name),
  CONSTRAINT fk_gc_srs FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys (srs_id));
CREATE TABLE gpkg_extensions (
  table_name TEXT, column_name TEXT, extension_name TEXT NOT NULL, definition TEXT NOT NULL,
  scope TEXT NOT NULL, CONSTRAINT ge_tce UNIQUE (table_name, column_name, extension_name));
CREATE TABLE gpkg_data_columns (
  table_name TEXT NOT NULL, column_name TEXT NOT NULL, name TEXT, title TEXT,
  description TEXT, mime_type TEXT, constraint_name TEXT,
  CONSTRAINT pk_gdc PRIMARY KEY (table_name, column_name),
  CONSTRAINT gdc_tn UNIQUE (table_name, name));
CREATE TABLE gpkg_data_column_constraints (
  constraint_name TEXT NOT NULL, constraint_type TEXT NOT NULL, value TEXT, min NUMERIC,
  min_is_inclusive BOOLEAN, max NUMERIC, max_is_inclusive BOOLEAN, description TEXT,
  CONSTRAINT gdcc_ntv UNIQUE (constraint_name, constraint_type, value));
INSERT INTO gpkg_extensions VALUES
  ('gpkg_data_columns', NULL, 'gpkg_schema',
   'http://www.geopackage.org/spec/#extension_schema', 'read-write'),
  ('gpkg_data_column_constraints', NULL, 'gpkg_schema',
   'http://www.geopackage.org/spec/#extension_schema', 'read-write');
CREATE TABLE {STATE_TABLE} (
  layer TEXT PRIMARY KEY, version INTEGER NOT NULL, updated_at TEXT NOT NULL,
  count INTEGER NOT NULL DEFAULT 0, derived TEXT, published_count INTEGER,
  published_min_x REAL, published_min_y REAL, published_max_x REAL, published_max_y REAL);
INSERT INTO gpkg_contents (table_name, data_type, identifier, description) VALUES
  ('{STATE_TABLE}', 'attributes', 'Layer versions',
   'Version and time of the last change per layer (drives HTTP ETags)');
"""

_SQL_TYPES = {"integer": "INTEGER", "number": "REAL", "boolean": "BOOLEAN"}


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


# SQL functions the GeoPackage R-tree triggers call (the spec leaves them to the reader).
def _st_is_empty(blob: bytes | None) -> int | None:
    return None if blob is None else int(gpkg_binary.is_empty(blob))


def _bound(i: int) -> Any:
    def fn(blob: bytes | None) -> float | None:
        return None if blob is None else gpkg_binary.bounds(blob)[i]

    return fn


def _intersects_bbox(blob: bytes | None, minx: float, miny: float, maxx: float, maxy: float) -> int:
    """Exact test behind the R-tree's envelope pre-filter."""
    if blob is None:
        return 0
    bminx, bminy, bmaxx, bmaxy = gpkg_binary.bounds(blob)
    if bmaxx < minx or bminx > maxx or bmaxy < miny or bminy > maxy:
        return 0  # the R-tree's float32 boxes are rounded outwards: it lets a few more through
    spans_x = bminx >= minx and bmaxx <= maxx
    spans_y = bminy >= miny and bmaxy <= maxy
    if spans_x and spans_y:
        return 1  # envelope inside the box: no need to look at the shape
    if (spans_x or spans_y) and gpkg_binary.is_connected(blob):
        # The box crosses the envelope from side to side, and the shape is one piece: its
        # shadow on the other axis is the envelope's whole extent there, which the box
        # overlaps, so the shape has a point inside the box. Parsing a municipality's outline
        # cost more than the rest of the query: around Jena, 20 of the 37 candidates are
        # crossed, 9 inside, and only 8 are parsed.
        return 1
    geom = shapely.from_wkb(gpkg_binary.wkb_of(blob))
    return int(shapely.intersects(_query_box(minx, miny, maxx, maxy), geom))


@functools.lru_cache(maxsize=64)
def _query_box(minx: float, miny: float, maxx: float, maxy: float) -> shapely.Geometry:
    """A query's box, built once for all the rows the R-tree lets through: building it for
    each row cost more than the test. Not prepared: GEOS tests a rectangle given first with
    a fast path of its own, and a prepared geometry shared by threads is not safe."""
    return shapely.box(minx, miny, maxx, maxy)


@functools.lru_cache(maxsize=64)
def _prepared(wkb: bytes) -> tuple[shapely.Geometry, tuple[float, float, float, float] | None]:
    """A filter's geometry literal, parsed and prepared once for all the rows it is tested
    on, and its bounds if it is a rectangle (a BBOX)."""
    geom = shapely.from_wkb(wkb)
    shapely.prepare(geom)
    bounds = tuple(float(b) for b in geom.bounds)
    rectangle = geom.geom_type == "Polygon" and bool(shapely.equals(geom, shapely.box(*bounds)))
    return geom, (bounds[0], bounds[1], bounds[2], bounds[3]) if rectangle else None


# relation(feature, literal) asked as converse(literal, feature): a prepared geometry speeds
# up only the predicates it is the first argument of.
_CONVERSE = {
    "intersects": shapely.intersects,
    "disjoint": shapely.disjoint,
    "touches": shapely.touches,
    "crosses": shapely.crosses,
    "overlaps": shapely.overlaps,
    "equals": shapely.equals,
    "contains": shapely.within,
    "within": shapely.contains,
}


def _relate(blob: bytes | None, relation: str, wkb: bytes) -> int | None:
    """``relation(feature, literal)`` of a CQL2 spatial filter; NULL without a location, as
    PostGIS gives it."""
    if blob is None:
        return None
    literal, rectangle = _prepared(wkb)
    if relation == "intersects" and rectangle is not None and not gpkg_binary.is_empty(blob):
        # Inside the box by its envelope: no need to look at the shape (as for ``bbox``).
        minx, miny, maxx, maxy = gpkg_binary.bounds(blob)
        if minx >= rectangle[0] and miny >= rectangle[1] and maxx <= rectangle[2] and maxy <= rectangle[3]:
            return 1
    feature = shapely.from_wkb(gpkg_binary.wkb_of(blob))
    return int(_CONVERSE[relation](literal, feature))


def _connect(path: Path, create: bool = False) -> sqlite3.Connection:
    # mode=rw: a missing file is an error, never a new empty database in place of a lost one.
    conn = sqlite3.connect(
        gpkg_file.uri(path, "rwc" if create else "rw"),
        uri=True,
        timeout=30,
        isolation_level=None,
        check_same_thread=True,
    )
    conn.execute("PRAGMA busy_timeout = 30000")
    conn.execute("PRAGMA foreign_keys = ON")
    conn.create_function("ST_IsEmpty", 1, _st_is_empty, deterministic=True)
    for i, name in enumerate(("ST_MinX", "ST_MinY", "ST_MaxX", "ST_MaxY")):
        conn.create_function(name, 1, _bound(i), deterministic=True)
    conn.create_function("mapservice_intersects_bbox", 5, _intersects_bbox, deterministic=True)
    conn.create_function("mapservice_relate", 3, _relate, deterministic=True)
    return conn


def _file_size(path: Path) -> int:
    """The file and its write-ahead log."""
    wal = path.with_name(path.name + "-wal")
    return path.stat().st_size + (wal.stat().st_size if wal.exists() else 0)


def _columns(conn: sqlite3.Connection, table: str) -> set[str]:
    return {row[1] for row in conn.execute(f"PRAGMA table_info({quote(table)})")}


class _FetchedRow:
    """A statement's one row, already read, with the cursor's ``fetchone``."""

    __slots__ = ("row",)

    def __init__(self, row: tuple[Any, ...] | None) -> None:
        self.row = row

    def fetchone(self) -> tuple[Any, ...] | None:
        return self.row


class _Read:
    """The connection for a read; ``snapshot``: its statements see one state (BEGIN … COMMIT).

    A class rather than ``@contextmanager``, which costs several microseconds on every read.
    """

    __slots__ = ("conn", "snapshot")

    def __init__(self, conn: sqlite3.Connection, snapshot: bool) -> None:
        self.conn = conn
        self.snapshot = snapshot

    def __enter__(self) -> sqlite3.Connection:
        if self.snapshot:
            self.conn.execute("BEGIN")
        return self.conn

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: Any) -> None:
        if self.snapshot:
            self.conn.execute("COMMIT")


class GeoPackageStore(SqlStore):
    """Features in one GeoPackage file; one SQLite connection per thread and process."""

    mark = "?"
    json_mark = "?"
    holds_nul = True
    history_table = HISTORY_TABLE
    state_table = STATE_TABLE
    token_table = TOKEN_TABLE
    address_table = ADDRESS_TABLE
    address_streets_table = ADDRESS_STREETS_TABLE
    address_sources_table = ADDRESS_SOURCES_TABLE
    survey_table = SURVEY_TABLE
    invitation_table = INVITATION_TABLE
    answer_table = ANSWER_TABLE
    failure_table = FAILURE_TABLE
    db_errors = (sqlite3.Error,)

    def __init__(self, path: Path | str, catalog: Catalog) -> None:
        super().__init__(catalog)
        self.path = Path(path)
        # The file as opened (before gunicorn forks, so every worker compares with the same):
        # a file removed or replaced since must take no write (see gpkg_file).
        self._identity = gpkg_file.identity(self.path)
        if self._identity is None:
            raise StoreError(f"{self.path}: the GeoPackage does not exist")
        self._checked_at = time.monotonic()
        self._lost = False
        self._damage_logged = False

    @property
    def label(self) -> str:
        return f"{self.path}: "

    # -- connections and transactions ---------------------------------------------------------

    def _connect(self) -> sqlite3.Connection:
        try:
            return _connect(self.path)
        except sqlite3.OperationalError:
            # A thread's first connection after the file was removed (mode=rw makes no new
            # one): the identity check says what happened, as on every other path.
            self._check_file(writing=True)
            raise

    # Seconds between two checks of the file's identity on reads (writes check every time).
    read_check_seconds = 1.0

    def _check_file(self, writing: bool = False) -> None:
        """Raise StoreUnavailable when the file is gone or another file than the one opened.

        Reads check at most once a second: one stat is cheap, but a read takes ~30 µs.
        """
        if not self._lost:
            now = time.monotonic()
            if not writing and now - self._checked_at < self.read_check_seconds:
                return
            self._checked_at = now
            if gpkg_file.identity(self.path) == self._identity:
                return
            self._lost = True  # until the service is restarted: the open inode is not the store
            error = gpkg_file.lost(self.path)
            _log.error("%s", error)  # once per process: one line, no trace
            raise error
        raise gpkg_file.lost(self.path)

    def _fail_closed(self, exc: BaseException, wrote: bool) -> None:
        # SQLITE_CORRUPT, SQLITE_NOTADB: a damaged file; retrying will not help, restoring will.
        code = getattr(exc, "sqlite_errorcode", None)
        if code is None or code & 0xFF not in (sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB):
            return  # the primary code: extended ones (SQLITE_CORRUPT_INDEX, …) are damage too
        outcome = "; nothing was written" if wrote else ""
        error = gpkg_file.damaged(
            self.path, f"is damaged ({exc}){outcome}", advice=f"{gpkg_file.RESTORE} and restart"
        )
        if not self._damage_logged:
            self._damage_logged = True
            _log.error("%s", error)  # once per process: one line, no trace
        raise error from exc

    def _read(self, snapshot: bool = False, batched: bool = False) -> _Read:
        # ``batched`` changes nothing here: SQLite runs in this process, with no round trips.
        self._check_file(writing=False)
        return _Read(self._conn(), snapshot)

    @contextmanager
    def _write(self, layer: Layer | None = None) -> Iterator[sqlite3.Connection]:
        self._check_file(writing=True)
        # BEGIN IMMEDIATE takes the file's write lock at once: writers take turns.
        conn = self._conn()
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
            # Once more under the lock: a file removed while this ran takes no commit.
            self._check_file(writing=True)
            conn.execute("COMMIT")
        except BaseException:
            # Also after a failed COMMIT: the connection must not stay inside a transaction.
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise

    def _executemany(self, conn: sqlite3.Connection, statement: str, rows: list[list[Any]]) -> None:
        conn.executemany(statement, rows)

    # -- the dialect ----------------------------------------------------------------------------

    def table(self, layer_id: str) -> str:
        return quote(table_name(layer_id))

    def _geometry_out(self, column: str) -> str:
        return column  # the GeoPackage blob; its WKB is cut out in Python

    def _wkb(self, value: Any) -> bytes:
        return gpkg_binary.wkb_of(value)

    def _geometry_in(self) -> str:
        return "?"

    def _geometry_param(self, geom: shapely.Geometry) -> Any:
        return gpkg_binary.encode(geom)

    def encode_value(self, fdef: FieldDef, value: Any) -> Any:
        if fdef.type == "boolean" and value is not None:
            return 1 if value else 0
        return super().encode_value(fdef, value)

    def _decoder(self, fdef: FieldDef) -> Callable[[Any], Any] | None:
        if fdef.type in ("array", "object"):
            return lambda v: None if v is None else json.loads(v)
        if fdef.type == "boolean":
            return lambda v: None if v is None else bool(v)
        return None

    def _equals(self, column: str, fdef: FieldDef, value: Any) -> tuple[str, Any]:
        return f"{column} = ?", self.encode_value(fdef, value)

    def _contains(self, column: str, value: Any) -> tuple[str, Any]:
        return f"EXISTS (SELECT 1 FROM json_each({column}) WHERE value = ?)", value

    def _bbox(self, layer: Layer, bbox: BBox) -> tuple[str, list[str], list[Any]]:
        source, clauses, params = self._index_source(layer, bbox)
        # A row whose R-tree box lies inside the query box meets it: the box, rounded
        # outwards, holds the shape. SQLite stops at the OR, so the test (a call into Python
        # per row) runs only for the rest.
        inside = "(r.minx >= ? AND r.maxx <= ? AND r.miny >= ? AND r.maxy <= ?)"
        test = "mapservice_intersects_bbox(t.geom, ?, ?, ?, ?)"
        minx, miny, maxx, maxy = bbox
        return source, [*clauses, f"({inside} OR {test})"], [*params, minx, maxx, miny, maxy, *bbox]

    def _index_source(self, layer: Layer, bounds: BBox) -> tuple[str, list[str], list[Any]]:
        minx, miny, maxx, maxy = bounds
        rtree = quote(f"rtree_{table_name(layer.id)}_geom")
        # CROSS JOIN: SQLite keeps the R-tree as the outer loop. Left to itself, it may walk
        # the order index and probe the R-tree once per row, which at a million rows is seconds.
        return (
            f"{rtree} r CROSS JOIN {self.table(layer.id)} t ON t.fid = r.id",
            ["r.minx <= ? AND r.maxx >= ? AND r.miny <= ? AND r.maxy >= ?"],
            [maxx, minx, maxy, miny],
        )

    native_booleans = False

    def _like(self, column: str, pattern: str) -> tuple[str, Any]:
        # GLOB, not LIKE: SQLite's LIKE ignores the case of ASCII letters, CQL2's does not.
        # GLOB has no escape character; a bracket holding one character stands for it.
        glob = expressions.like_pattern(pattern, "*", "?", lambda c: f"[{c}]" if c in "*?[" else c)
        return f"{column} GLOB ?", glob

    def _spatial(self, layer: Layer, node: expressions.Spatial, params: list[Any]) -> str:
        # The exact test in Python; a filter that depends on it as a whole reads the R-tree
        # first (SqlStore._where, _index_source), so it runs on the candidates only.
        params += [node.relation, node.wkb]
        return "mapservice_relate(t.geom, ?, ?)"

    def _count_extent_sql(self, layer: Layer, source: str, where: str) -> str:
        # The extent from the R-tree, as the layer's own (float32 bounds, rounded outwards).
        rtree = quote(f"rtree_{table_name(layer.id)}_geom")
        return (
            f"SELECT count(*), min(e.minx), min(e.miny), max(e.maxx), max(e.maxy) "
            f"FROM {source} LEFT JOIN {rtree} e ON e.id = t.fid{where}"
        )

    def _as_utf8(self, column: str) -> str:
        return f"CAST({column} AS BLOB)"  # the stored UTF-8 as it is

    def _create_stale_trigger(self, conn: sqlite3.Connection, layer: Layer) -> None:
        t = table_name(layer.id)
        name = quote(f"mapservice_stale_{t}")
        feature, rev = quote(FEATURE_COLUMN), quote(REVISION_COLUMN)
        columns = ", ".join(["geom", *(quote(n) for n in layer.fields)])
        conn.execute(f"DROP TRIGGER IF EXISTS {name}")
        # Plain SQL only: QGIS and GDAL run it when they edit the file.
        conn.execute(
            f"CREATE TRIGGER {name} AFTER UPDATE OF {columns} ON {quote(t)} WHEN NEW.{rev} IS OLD.{rev} "
            f"BEGIN UPDATE {quote(t)} SET {feature} = NULL, {rev} = NULL WHERE fid = NEW.fid; END"
        )

    def _layer_columns(self, conn: sqlite3.Connection, layer: Layer) -> set[str]:
        return _columns(conn, table_name(layer.id))

    def _add_derived_column(self, conn: sqlite3.Connection, layer: Layer, name: str) -> None:
        conn.execute(f"ALTER TABLE {self.table(layer.id)} ADD COLUMN {quote(name)} TEXT")

    def _time_param(self, at: dt.datetime, timespec: str = "auto") -> Any:
        return at.isoformat(timespec=timespec)

    def _bump(self, conn: sqlite3.Connection, layer: Layer, change: Change | None = None) -> None:
        """New version and change time for the layer, its count, and its extent in gpkg_contents."""
        t = table_name(layer.id)
        now = _utc_now()
        known = self._layer_summary_after(conn, layer, change)
        if known is None:
            count = conn.execute(f"SELECT count(*) FROM {quote(t)}").fetchone()[0]
            ext: tuple[Any, ...] = conn.execute(
                f"SELECT min(minx), min(miny), max(maxx), max(maxy) FROM {quote(f'rtree_{t}_geom')}"
            ).fetchone()
        else:
            count, extent = known
            ext = extent or (None, None, None, None)
        conn.execute(
            f"INSERT INTO {STATE_TABLE} (layer, version, updated_at, count, derived) "
            f"VALUES (?, 1, ?, ?, ?) "
            "ON CONFLICT(layer) DO UPDATE SET version = version + 1, updated_at = excluded.updated_at, "
            "count = excluded.count, derived = excluded.derived",
            (layer.id, now.isoformat(), count, derived_fingerprint(layer)),
        )
        conn.execute(
            "UPDATE gpkg_contents SET last_change = ?, min_x = ?, min_y = ?, max_x = ?, max_y = ? "
            "WHERE table_name = ?",
            (now.strftime("%Y-%m-%dT%H:%M:%S.000Z"), *ext, t),
        )
        self._keep_published_summary(conn, layer, change)

    def _state_rows(self, conn: sqlite3.Connection, layer: Layer) -> _FetchedRow:
        # One statement: the count is kept with the version (see _bump), never counted here.
        # Read to its end at once: SQLite has no round trip to save, and a statement left
        # open would hold the snapshot past COMMIT if the page statement after it failed.
        rows = conn.execute(
            f"SELECT s.version, s.updated_at, s.count, c.min_x, c.min_y, c.max_x, c.max_y, "
            f"{', '.join(f's.{name}' for name in PUBLISHED_SUMMARY_COLUMNS)} "
            f"FROM {STATE_TABLE} s LEFT JOIN gpkg_contents c ON c.table_name = ? WHERE s.layer = ?",
            (table_name(layer.id), layer.id),
        ).fetchall()
        return _FetchedRow(rows[0] if rows else None)

    # -- address points -------------------------------------------------------------------------

    def _insert_addresses(self, conn: sqlite3.Connection, source: str, rows: Sequence[AddressRow]) -> None:
        head = _POINT_BLOB_HEAD
        pack = struct.Struct("<2d").pack
        conn.executemany(
            f"INSERT INTO {ADDRESS_TABLE} (geom, source, {', '.join(ADDRESS_COLUMNS)}) "
            f"VALUES (?, ?, {', '.join('?' * len(ADDRESS_COLUMNS))})",
            [(head + pack(r[4], r[5]), source, *r) for r in rows],
        )

    def _lock_addresses(self, conn: sqlite3.Connection) -> None:
        pass  # BEGIN IMMEDIATE has taken the file's write lock already

    def _bump_addresses(self, conn: sqlite3.Connection, bbox: BBox | None) -> None:
        now = _utc_now()
        conn.execute(
            f"INSERT INTO {STATE_TABLE} (layer, version, updated_at) VALUES (?, 1, ?) "
            "ON CONFLICT(layer) DO UPDATE SET version = version + 1, updated_at = excluded.updated_at",
            (ADDRESS_STATE_KEY, now.isoformat()),
        )
        conn.execute(
            "UPDATE gpkg_contents SET last_change = ?, min_x = ?, min_y = ?, max_x = ?, max_y = ? "
            "WHERE table_name = ?",
            (now.strftime("%Y-%m-%dT%H:%M:%S.000Z"), *(bbox or (None,) * 4), ADDRESS_TABLE),
        )

    def _bump_surveys(self, conn: sqlite3.Connection) -> None:
        conn.execute(
            f"INSERT INTO {STATE_TABLE} (layer, version, updated_at) VALUES (?, 1, ?) "
            "ON CONFLICT(layer) DO UPDATE SET version = version + 1, updated_at = excluded.updated_at",
            (SURVEY_STATE_KEY, _utc_now().isoformat()),
        )

    def _read_address_version(self, conn: sqlite3.Connection) -> tuple[Any, Any] | None:
        row = conn.execute(
            f"SELECT version, updated_at FROM {STATE_TABLE} WHERE layer = ?", (ADDRESS_STATE_KEY,)
        ).fetchone()
        return None if row is None else (row[0], row[1])

    # -- space ----------------------------------------------------------------------------------

    def reclaim_space(self) -> Reclaimed | None:
        """VACUUM: the file is written anew without its free pages (same file, same inode).

        SQLite builds the new content first (in the temporary folder and, in WAL mode, in the
        -wal next to the file), so it needs about the file's size free on disk; with less,
        nothing is done and the note says so.
        """
        with self._errors("compacting the file (checkpoint)", wrote=True), self._read() as conn:
            # The write-ahead log back into the file first: "before" is the file as it is.
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        before = _file_size(self.path)
        free = shutil.disk_usage(self.path.parent).free
        if free < before:
            return Reclaimed(
                str(self.path),
                before,
                before,
                f"VACUUM skipped: it needs about {before / 1e6:.1f} MB free disk space, "
                f"{free / 1e6:.1f} MB are free",
                vacuumed=False,
            )
        with self._errors("compacting the file (VACUUM)", wrote=True), self._read() as conn:
            conn.execute("VACUUM")
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return Reclaimed(str(self.path), before, _file_size(self.path))

    # -- schema ---------------------------------------------------------------------------------

    def _schema_transaction(self) -> Any:
        return self._write()

    def _migrate(self, conn: sqlite3.Connection) -> list[int]:
        # A file from before the change log and the write tokens gains them. The statements
        # are idempotent, so the file records no migration numbers.
        for statement in _ADMIN_SCHEMA:
            conn.execute(statement)
        for name in _HISTORY_ADDED.keys() - _columns(conn, HISTORY_TABLE):
            conn.execute(f"ALTER TABLE {HISTORY_TABLE} ADD COLUMN {name} {_HISTORY_ADDED[name]}")
        missing_state = _STATE_ADDED.keys() - _columns(conn, STATE_TABLE)
        for name in sorted(missing_state):
            conn.execute(f"ALTER TABLE {STATE_TABLE} ADD COLUMN {name} {_STATE_ADDED[name]}")
        if "count" in missing_state:
            for layer in self.catalog:
                if self._has_table(conn, layer.id):
                    conn.execute(
                        f"UPDATE {STATE_TABLE} SET count = (SELECT count(*) FROM {self.table(layer.id)}) "
                        "WHERE layer = ?",
                        (layer.id,),
                    )
        return []

    def _schema_gaps(self, conn: sqlite3.Connection) -> tuple[list[str], dict[str, list[str]]]:
        missing_tables = [lid for lid in self.catalog.ids() if not self._has_table(conn, lid)]
        missing_columns: dict[str, list[str]] = {}
        for layer in self.catalog:
            if layer.id in missing_tables:
                continue
            have = {row[1] for row in conn.execute(f"PRAGMA table_info({quote(table_name(layer.id))})")}
            gaps = [name for name in layer.fields if name not in have]
            if gaps:
                missing_columns[layer.id] = gaps
        return missing_tables, missing_columns

    def _up_to_date(self) -> bool:
        # Most starts change nothing: look first without taking the write lock.
        conn = _connect(self.path)  # short-lived: nothing may stay open across a fork
        try:
            admin = conn.execute(
                "SELECT count(*) FROM sqlite_master WHERE type = 'table' "
                f"AND name IN ({', '.join('?' * len(_ADMIN_TABLES))})",
                _ADMIN_TABLES,
            ).fetchone()[0]
            missing_tables, missing_columns = self._schema_gaps(conn)
            history_gaps = _HISTORY_ADDED.keys() - _columns(conn, HISTORY_TABLE)
            state_gaps = _STATE_ADDED.keys() - _columns(conn, STATE_TABLE)
            stale = not state_gaps and any(
                self._derived_stale(conn, layer)
                or self._has_stale_rows(conn, layer)
                or self._count_drifted(conn, layer)
                for layer in self.catalog
            )
        finally:
            conn.close()
        return (
            admin == len(_ADMIN_TABLES)
            and not missing_tables
            and not missing_columns
            and not history_gaps
            and not state_gaps
            and not stale
        )

    def _add_column(self, conn: sqlite3.Connection, layer: Layer, name: str) -> None:
        t = table_name(layer.id)
        fdef = layer.fields[name]
        conn.execute(f"ALTER TABLE {quote(t)} ADD COLUMN {quote(name)} {_SQL_TYPES.get(fdef.type, 'TEXT')}")
        conn.execute(
            "INSERT OR REPLACE INTO gpkg_data_columns (table_name, column_name, name, title, description, "
            "mime_type) VALUES (?, ?, ?, ?, ?, ?)",
            (
                t,
                name,
                name,
                name,
                fdef.description,
                "application/json" if fdef.type in ("array", "object") else None,
            ),
        )

    @staticmethod
    def _has_table(conn: sqlite3.Connection, layer_id: str) -> bool:
        row = conn.execute(
            "SELECT 1 FROM gpkg_contents WHERE table_name = ?", (table_name(layer_id),)
        ).fetchone()
        return row is not None

    @classmethod
    def create(
        cls, path: Path, catalog: Catalog, data: Mapping[str, Sequence[NewFeature]]
    ) -> GeoPackageStore:
        """Write a new GeoPackage next to ``path`` and move it into place in one step.

        A crash part-way leaves no file at ``path`` (only a temporary one), so the next start
        simply builds it again.
        """
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        tmp.unlink(missing_ok=True)
        conn = _connect(tmp, create=True)
        builder = cls(tmp, catalog)
        try:
            conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
            conn.execute(f"PRAGMA user_version = {USER_VERSION}")
            conn.executescript(_BASE_SCHEMA)
            conn.execute("BEGIN")
            for statement in _ADMIN_SCHEMA:
                conn.execute(statement)
            for layer in catalog:
                builder._create_table(conn, layer)
                builder._insert(conn, layer, data.get(layer.id, ()))
                builder._bump(conn, layer)
            conn.execute("COMMIT")
            conn.execute("PRAGMA journal_mode = WAL")
        except BaseException:
            conn.close()
            tmp.unlink(missing_ok=True)
            raise
        conn.close()
        os.replace(tmp, path)
        return cls(path, catalog)

    def _create_layer_table(self, conn: sqlite3.Connection, layer: Layer) -> None:
        t = table_name(layer.id)
        columns = ["fid INTEGER PRIMARY KEY AUTOINCREMENT", "geom " + declared_geometry_type(layer)]
        for name, fdef in layer.fields.items():
            sql_type = _SQL_TYPES.get(fdef.type, "TEXT")
            extra = " NOT NULL UNIQUE" if name == "id" else ""
            columns.append(f"{quote(name)} {sql_type}{extra}")
        conn.execute(f"CREATE TABLE {quote(t)} ({', '.join(columns)})")
        conn.execute(
            "INSERT INTO gpkg_contents (table_name, data_type, identifier, description, srs_id)"
            " VALUES (?, 'features', ?, ?, 4326)",
            (t, layer.title, layer.description),
        )
        conn.execute(
            "INSERT INTO gpkg_geometry_columns VALUES (?, 'geom', ?, 4326, 0, 0)",
            (t, declared_geometry_type(layer)),
        )
        for name, fdef in layer.fields.items():
            mime = "application/json" if fdef.type in ("array", "object") else None
            conn.execute(
                "INSERT INTO gpkg_data_columns (table_name, column_name, name, title, description,"
                " mime_type) VALUES (?, ?, ?, ?, ?, ?)",
                (t, name, name, name, fdef.description, mime),
            )
        rtree = quote(f"rtree_{t}_geom")
        tq = quote(t)
        conn.execute(f"CREATE VIRTUAL TABLE {rtree} USING rtree(id, minx, maxx, miny, maxy)")
        values = (
            "VALUES (NEW.fid, ST_MinX(NEW.geom), ST_MaxX(NEW.geom), ST_MinY(NEW.geom), ST_MaxY(NEW.geom))"
        )
        triggers = {
            "insert": (
                "AFTER INSERT ON {t}",
                "NEW.geom NOT NULL AND NOT ST_IsEmpty(NEW.geom)",
                f"INSERT OR REPLACE INTO {rtree} {values}",
            ),
            "update1": (
                "AFTER UPDATE OF geom ON {t}",
                "OLD.fid = NEW.fid AND (NEW.geom NOTNULL AND NOT ST_IsEmpty(NEW.geom))",
                f"INSERT OR REPLACE INTO {rtree} {values}",
            ),
            "update2": (
                "AFTER UPDATE OF geom ON {t}",
                "OLD.fid = NEW.fid AND (NEW.geom ISNULL OR ST_IsEmpty(NEW.geom))",
                f"DELETE FROM {rtree} WHERE id = OLD.fid",
            ),
            "update3": (
                "AFTER UPDATE ON {t}",
                "OLD.fid != NEW.fid AND (NEW.geom NOTNULL AND NOT ST_IsEmpty(NEW.geom))",
                f"DELETE FROM {rtree} WHERE id = OLD.fid; INSERT OR REPLACE INTO {rtree} {values}",
            ),
            "update4": (
                "AFTER UPDATE ON {t}",
                "OLD.fid != NEW.fid AND (NEW.geom ISNULL OR ST_IsEmpty(NEW.geom))",
                f"DELETE FROM {rtree} WHERE id IN (OLD.fid, NEW.fid)",
            ),
            "delete": ("AFTER DELETE ON {t}", "OLD.geom NOT NULL", f"DELETE FROM {rtree} WHERE id = OLD.fid"),
        }
        # One statement each: executescript() would commit the surrounding transaction.
        for name, (event, when, body) in triggers.items():
            conn.execute(
                f"CREATE TRIGGER {quote(f'rtree_{t}_geom_{name}')} "
                f"{event.format(t=tq)} WHEN ({when}) BEGIN {body}; END"
            )
        conn.execute(
            "INSERT INTO gpkg_extensions VALUES (?, 'geom', 'gpkg_rtree_index', "
            "'http://www.geopackage.org/spec120/#extension_rtree', 'write-only')",
            (t,),
        )
