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
import json
import os
import sqlite3
import threading
import unicodedata
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import shapely

from ..catalog.layers import Catalog, FieldDef, Layer
from . import gpkg_binary
from .base import (
    LOGGED_ACTION,
    BBox,
    Edit,
    EditResult,
    HistoryEntry,
    LayerState,
    NewFeature,
    Precondition,
    Query,
    QueryResult,
    Store,
    StoredFeature,
    StoreError,
    Token,
    changes,
    feature_doc,
    plan_edit,
    utc_now,
)

APPLICATION_ID = 0x47504B47  # "GPKG"
USER_VERSION = 10400  # GeoPackage 1.4.0
STATE_TABLE = "mapservice_layer_state"
HISTORY_TABLE = "mapservice_history"
TOKEN_TABLE = "mapservice_tokens"  # noqa: S105 - a table name, not a secret

# The change log and the write tokens (hashes only). The log is registered as an attributes
# table, so a GIS user sees it in QGIS next to the layers; the tokens are not.
_ADMIN_SCHEMA = [
    f"""CREATE TABLE IF NOT EXISTS {HISTORY_TABLE} (
  seq INTEGER PRIMARY KEY AUTOINCREMENT, at TEXT NOT NULL, layer TEXT NOT NULL,
  feature_id TEXT NOT NULL, action TEXT NOT NULL, actor TEXT NOT NULL, via TEXT NOT NULL,
  before TEXT, after TEXT)""",
    f"CREATE INDEX IF NOT EXISTS {HISTORY_TABLE}_feature ON {HISTORY_TABLE} (layer, feature_id)",
    f"""INSERT OR IGNORE INTO gpkg_contents (table_name, data_type, identifier, description)
  VALUES ('{HISTORY_TABLE}', 'attributes', 'Änderungsprotokoll',
  'Every change of every feature: who, when, before and after (JSON)')""",
    f"""CREATE TABLE IF NOT EXISTS {TOKEN_TABLE} (
  id TEXT PRIMARY KEY, name TEXT NOT NULL, secret_hash TEXT NOT NULL,
  collections TEXT NOT NULL, created_at TEXT NOT NULL, revoked_at TEXT)""",
]

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
  layer TEXT PRIMARY KEY, version INTEGER NOT NULL, updated_at TEXT NOT NULL);
INSERT INTO gpkg_contents (table_name, data_type, identifier, description) VALUES
  ('{STATE_TABLE}', 'attributes', 'Layer versions',
   'Version and time of the last change per layer (drives HTTP ETags)');
"""

_SQL_TYPES = {"integer": "INTEGER", "number": "REAL", "boolean": "BOOLEAN"}


def table_name(layer_id: str) -> str:
    return layer_id.replace("-", "_")


def _q(name: str) -> str:
    """Quote an identifier. Names come from the validated catalog, never from a request."""
    return '"' + name.replace('"', '""') + '"'


def _declared_geometry_type(layer: Layer) -> str:
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


def _promote(geom: shapely.Geometry, declared: str) -> shapely.Geometry:
    if declared.startswith("MULTI") and not geom.geom_type.startswith("Multi"):
        cls = {
            "MULTIPOINT": shapely.MultiPoint,
            "MULTILINESTRING": shapely.MultiLineString,
            "MULTIPOLYGON": shapely.MultiPolygon,
        }[declared]
        return cls([geom])
    return geom


def _encode_value(fdef: FieldDef, value: Any) -> Any:
    if value is None:
        return None
    if fdef.type in ("array", "object"):
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    if fdef.type == "boolean":
        return 1 if value else 0
    return value


def _decoder(fdef: FieldDef) -> Any:
    if fdef.type in ("array", "object"):
        return lambda v: None if v is None else json.loads(v)
    if fdef.type == "boolean":
        return lambda v: None if v is None else bool(v)
    return None


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
    if bminx >= minx and bmaxx <= maxx and bminy >= miny and bmaxy <= maxy:
        return 1  # envelope inside the box: no need to look at the shape
    geom = shapely.from_wkb(gpkg_binary.wkb_of(blob))
    return int(shapely.intersects(geom, shapely.box(minx, miny, maxx, maxy)))


_FOLD = str.maketrans({"ä": "a", "ö": "o", "ü": "u", "ß": "ss"})


def sort_key_de(text: str) -> str:
    """DIN 5007-1 order: case and umlauts do not separate words (Zöllnitz before Zwönitz)."""
    folded = text.casefold().translate(_FOLD)
    return "".join(c for c in unicodedata.normalize("NFKD", folded) if not unicodedata.combining(c))


def _collate_de(a: str, b: str) -> int:
    ka, kb = sort_key_de(a), sort_key_de(b)
    if ka == kb:
        return (a > b) - (a < b)
    return (ka > kb) - (ka < kb)


def _connect(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, timeout=30, isolation_level=None, check_same_thread=True)
    conn.execute("PRAGMA busy_timeout = 30000")
    conn.execute("PRAGMA foreign_keys = ON")
    conn.create_function("ST_IsEmpty", 1, _st_is_empty, deterministic=True)
    for i, name in enumerate(("ST_MinX", "ST_MinY", "ST_MaxX", "ST_MaxY")):
        conn.create_function(name, 1, _bound(i), deterministic=True)
    conn.create_function("mapservice_intersects_bbox", 5, _intersects_bbox, deterministic=True)
    conn.create_collation("mapservice_de", _collate_de)
    return conn


class GeoPackageStore(Store):
    """Features in one GeoPackage file; one SQLite connection per thread and process."""

    def __init__(self, path: Path | str, catalog: Catalog) -> None:
        self.path = Path(path)
        self.catalog = catalog
        if not self.path.exists():
            raise StoreError(f"{self.path}: the GeoPackage does not exist")
        self._local = threading.local()

    def schema_gaps(self) -> tuple[list[str], dict[str, list[str]]]:
        """Layers of the catalog without a table, and fields without a column."""
        conn = _connect(self.path)  # short-lived: nothing may stay open across a fork
        try:
            missing_tables = [lid for lid in self.catalog.ids() if not self._has_table(conn, lid)]
            missing_columns: dict[str, list[str]] = {}
            for layer in self.catalog:
                if layer.id in missing_tables:
                    continue
                have = {row[1] for row in conn.execute(f"PRAGMA table_info({_q(table_name(layer.id))})")}
                gaps = [name for name in layer.fields if name not in have]
                if gaps:
                    missing_columns[layer.id] = gaps
        finally:
            conn.close()
        return missing_tables, missing_columns

    def has_admin_tables(self) -> bool:
        """Whether the file has the change log and token tables (files made before them not)."""
        conn = _connect(self.path)  # short-lived: nothing may stay open across a fork
        try:
            row = conn.execute(
                "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name IN (?, ?)",
                (HISTORY_TABLE, TOKEN_TABLE),
            ).fetchone()
        finally:
            conn.close()
        return bool(row[0] == 2)

    def add_admin_tables(self) -> None:
        with self._write() as conn:
            for statement in _ADMIN_SCHEMA:
                conn.execute(statement)
        self.close()  # opened before the server forks its workers: leave nothing open

    def feature_ids(self, layer_id: str) -> set[str]:
        """The ids of a layer's stored features (only the id column is read)."""
        layer = self._layer(layer_id)
        conn = _connect(self.path)  # short-lived, like schema_gaps: used before forking
        try:
            rows = conn.execute(f"SELECT id FROM {_q(table_name(layer.id))}").fetchall()
        finally:
            conn.close()
        return {str(row[0]) for row in rows}

    def upgrade(
        self, new_layers: Mapping[str, Sequence[NewFeature]], new_columns: Mapping[str, Sequence[str]]
    ) -> None:
        """Bring an existing file up to the catalog: add tables and (nullable) columns.

        Existing rows are kept; a new field is null in them until data is imported.
        """
        with self._write() as conn:
            for layer_id, features in new_layers.items():
                layer = self.catalog[layer_id]
                self._create_layer_table(conn, layer)
                self._insert(conn, layer, features)
                self._bump(conn, layer)
            for layer_id, names in new_columns.items():
                layer = self.catalog[layer_id]
                t = table_name(layer_id)
                for name in names:
                    fdef = layer.fields[name]
                    conn.execute(
                        f"ALTER TABLE {_q(t)} ADD COLUMN {_q(name)} {_SQL_TYPES.get(fdef.type, 'TEXT')}"
                    )
                    conn.execute(
                        "INSERT OR REPLACE INTO gpkg_data_columns (table_name, column_name, name,"
                        " title, description, mime_type) VALUES (?, ?, ?, ?, ?, ?)",
                        (
                            t,
                            name,
                            name,
                            name,
                            fdef.description,
                            "application/json" if fdef.type in ("array", "object") else None,
                        ),
                    )
                self._bump(conn, layer)

    # -- connections -------------------------------------------------------------------------

    def _conn(self) -> sqlite3.Connection:
        # Keyed by process id as well: a connection must never cross a fork (gunicorn workers).
        pid = os.getpid()
        conn = getattr(self._local, "conn", None)
        if conn is None or getattr(self._local, "pid", None) != pid:
            conn = _connect(self.path)
            self._local.conn = conn
            self._local.pid = pid
        return conn

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        conn = self._conn()
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
            conn.execute("COMMIT")
        except BaseException:
            # Also after a failed COMMIT: the connection must not stay inside a transaction.
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None

    @staticmethod
    def _has_table(conn: sqlite3.Connection, layer_id: str) -> bool:
        row = conn.execute(
            "SELECT 1 FROM gpkg_contents WHERE table_name = ?", (table_name(layer_id),)
        ).fetchone()
        return row is not None

    # -- creation ----------------------------------------------------------------------------

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
        conn = _connect(tmp)
        try:
            conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
            conn.execute(f"PRAGMA user_version = {USER_VERSION}")
            conn.executescript(_BASE_SCHEMA)
            conn.execute("BEGIN")
            for statement in _ADMIN_SCHEMA:
                conn.execute(statement)
            for layer in catalog:
                cls._create_layer_table(conn, layer)
                cls._insert(conn, layer, data.get(layer.id, ()))
                cls._bump(conn, layer)
            conn.execute("COMMIT")
            conn.execute("PRAGMA journal_mode = WAL")
        except BaseException:
            conn.close()
            tmp.unlink(missing_ok=True)
            raise
        conn.close()
        os.replace(tmp, path)
        return cls(path, catalog)

    @staticmethod
    def _create_layer_table(conn: sqlite3.Connection, layer: Layer) -> None:
        t = table_name(layer.id)
        columns = ["fid INTEGER PRIMARY KEY AUTOINCREMENT", "geom " + _declared_geometry_type(layer)]
        for name, fdef in layer.fields.items():
            sql_type = _SQL_TYPES.get(fdef.type, "TEXT")
            extra = " NOT NULL UNIQUE" if name == "id" else ""
            columns.append(f"{_q(name)} {sql_type}{extra}")
        conn.execute(f"CREATE TABLE {_q(t)} ({', '.join(columns)})")
        conn.execute(
            "INSERT INTO gpkg_contents (table_name, data_type, identifier, description, srs_id)"
            " VALUES (?, 'features', ?, ?, 4326)",
            (t, layer.title, layer.description),
        )
        conn.execute(
            "INSERT INTO gpkg_geometry_columns VALUES (?, 'geom', ?, 4326, 0, 0)",
            (t, _declared_geometry_type(layer)),
        )
        for name, fdef in layer.fields.items():
            mime = "application/json" if fdef.type in ("array", "object") else None
            conn.execute(
                "INSERT INTO gpkg_data_columns (table_name, column_name, name, title, description,"
                " mime_type) VALUES (?, ?, ?, ?, ?, ?)",
                (t, name, name, name, fdef.description, mime),
            )
        rtree = _q(f"rtree_{t}_geom")
        tq = _q(t)
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
                f"CREATE TRIGGER {_q(f'rtree_{t}_geom_{name}')} "
                f"{event.format(t=tq)} WHEN ({when}) BEGIN {body}; END"
            )
        conn.execute(
            "INSERT INTO gpkg_extensions VALUES (?, 'geom', 'gpkg_rtree_index', "
            "'http://www.geopackage.org/spec120/#extension_rtree', 'write-only')",
            (t,),
        )

    @staticmethod
    def _insert(conn: sqlite3.Connection, layer: Layer, features: Sequence[NewFeature]) -> None:
        names = list(layer.fields)
        declared = _declared_geometry_type(layer)
        cols = ", ".join(["geom", *(_q(n) for n in names)])
        marks = ", ".join("?" * (len(names) + 1))
        sql = f"INSERT INTO {_q(table_name(layer.id))} ({cols}) VALUES ({marks})"
        rows = []
        # Sorted by id so row order (and so the file) does not depend on the input's order.
        for props, geom in sorted(features, key=lambda f: str(f[0].get("id"))):
            blob = None if geom is None else gpkg_binary.encode(_promote(geom, declared))
            rows.append([blob, *(_encode_value(layer.fields[n], props.get(n)) for n in names)])
        conn.executemany(sql, rows)

    @staticmethod
    def _bump(conn: sqlite3.Connection, layer: Layer) -> None:
        """New version and change time for the layer, and its extent in gpkg_contents."""
        t = table_name(layer.id)
        now = _utc_now()
        conn.execute(
            f"INSERT INTO {STATE_TABLE} (layer, version, updated_at) VALUES (?, 1, ?) "
            "ON CONFLICT(layer) DO UPDATE SET version = version + 1, updated_at = excluded.updated_at",
            (layer.id, now.isoformat()),
        )
        ext = conn.execute(
            f"SELECT min(minx), min(miny), max(maxx), max(maxy) FROM {_q(f'rtree_{t}_geom')}"
        ).fetchone()
        conn.execute(
            "UPDATE gpkg_contents SET last_change = ?, min_x = ?, min_y = ?, max_x = ?, max_y = ?"
            " WHERE table_name = ?",
            (now.strftime("%Y-%m-%dT%H:%M:%S.000Z"), *ext, t),
        )

    # -- reading -----------------------------------------------------------------------------

    def _layer(self, layer_id: str) -> Layer:
        try:
            return self.catalog[layer_id]
        except KeyError:
            raise StoreError(f"unknown layer '{layer_id}'") from None

    def layer_ids(self) -> list[str]:
        return self.catalog.ids()

    def _rows_to_features(
        self, layer: Layer, rows: list[sqlite3.Row | tuple[Any, ...]]
    ) -> list[StoredFeature]:
        names = list(layer.fields)
        decoders = [_decoder(layer.fields[n]) for n in names]
        blobs = [r[0] for r in rows]
        present = [i for i, b in enumerate(blobs) if b is not None]
        texts: list[str | None] = [None] * len(rows)
        if present:
            geoms = shapely.from_wkb([gpkg_binary.wkb_of(blobs[i]) for i in present])
            for i, text in zip(present, shapely.to_geojson(geoms), strict=True):
                texts[i] = str(text)
        out = []
        for row, text in zip(rows, texts, strict=True):
            props = {
                n: (dec(v) if dec is not None else v)
                for n, dec, v in zip(names, decoders, row[1:], strict=True)
            }
            out.append(StoredFeature(id=props["id"], properties=props, geometry=text))
        return out

    def _where(self, layer: Layer, query: Query) -> tuple[str, str, list[Any]]:
        t = _q(table_name(layer.id))
        joins = ""
        clauses: list[str] = []
        params: list[Any] = []
        if query.bbox is not None:
            minx, miny, maxx, maxy = query.bbox
            joins = f" JOIN {_q(f'rtree_{table_name(layer.id)}_geom')} r ON r.id = {t}.fid"
            clauses.append("r.minx <= ? AND r.maxx >= ? AND r.miny <= ? AND r.maxy >= ?")
            params += [maxx, minx, maxy, miny]
            clauses.append(f"mapservice_intersects_bbox({t}.geom, ?, ?, ?, ?)")
            params += [minx, miny, maxx, maxy]
        for flt in query.filters:
            fdef = layer.fields[flt.field]
            col = f"{t}.{_q(flt.field)}"
            if flt.contains:
                clauses.append(f"EXISTS (SELECT 1 FROM json_each({col}) WHERE value = ?)")
                params.append(flt.value)
            else:
                clauses.append(f"{col} = ?")
                params.append(_encode_value(fdef, flt.value))
        if query.interval is not None:
            clauses.extend(self._temporal_clauses(layer, t, query.interval, params))
        where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
        return joins, where, params

    @staticmethod
    def _temporal_clauses(
        layer: Layer, t: str, interval: tuple[str | None, str | None], params: list[Any]
    ) -> list[str]:
        if layer.temporal is None:
            return ["0"]  # no temporal geometry, so nothing intersects the requested time
        start_col, end_col = (f"{t}.{_q(n)}" for n in layer.temporal)
        start, end = interval
        clauses = []
        # Dates may be reduced precision ("2023-04"); comparing the common prefix of ISO texts
        # orders them correctly, an unknown start or end counts as open.
        if end is not None:
            clauses.append(f"({start_col} IS NULL OR {start_col} <= substr(?, 1, length({start_col})))")
            params.append(end)
        if start is not None:
            clauses.append(f"({end_col} IS NULL OR {end_col} >= substr(?, 1, length({end_col})))")
            params.append(start)
        return clauses

    def query(self, layer_id: str, query: Query) -> QueryResult:
        layer = self._layer(layer_id)
        t = _q(table_name(layer.id))
        joins, where, params = self._where(layer, query)
        conn = self._conn()
        # Both statements read one snapshot, so the count matches the page.
        conn.execute("BEGIN")
        try:
            matched = conn.execute(f"SELECT count(*) FROM {t}{joins}{where}", params).fetchone()[0]
            order = []
            for k in query.sortby:
                col = f"{t}.{_q(k.field)}"
                text = _SQL_TYPES.get(layer.fields[k.field].type, "TEXT") == "TEXT"
                collate = " COLLATE mapservice_de" if text else ""
                order.append(f"{col} IS NULL, {col}{collate} {'ASC' if k.ascending else 'DESC'}")
            order.append(f"{t}.fid")  # a total order, so pages never overlap or skip
            cols = ", ".join([f"{t}.geom", *(f"{t}.{_q(n)}" for n in layer.fields)])
            rows = conn.execute(
                f"SELECT {cols} FROM {t}{joins}{where} ORDER BY {', '.join(order)} LIMIT ? OFFSET ?",
                [*params, query.limit, query.offset],
            ).fetchall()
        finally:
            conn.execute("COMMIT")
        return QueryResult(self._rows_to_features(layer, rows), matched)

    def get(self, layer_id: str, feature_id: str) -> StoredFeature | None:
        layer = self._layer(layer_id)
        t = _q(table_name(layer.id))
        cols = ", ".join(["geom", *(_q(n) for n in layer.fields)])
        rows = self._conn().execute(f"SELECT {cols} FROM {t} WHERE id = ?", (feature_id,)).fetchall()
        return self._rows_to_features(layer, rows)[0] if rows else None

    def state(self, layer_id: str) -> LayerState:
        layer = self._layer(layer_id)
        t = table_name(layer.id)
        conn = self._conn()
        conn.execute("BEGIN")
        try:
            row = conn.execute(
                f"SELECT version, updated_at FROM {STATE_TABLE} WHERE layer = ?", (layer.id,)
            ).fetchone()
            ext = conn.execute(
                "SELECT min_x, min_y, max_x, max_y FROM gpkg_contents WHERE table_name = ?", (t,)
            ).fetchone()
            count = conn.execute(f"SELECT count(*) FROM {_q(t)}").fetchone()[0]
        finally:
            conn.execute("COMMIT")
        if row is None:
            raise StoreError(f"{self.path}: no state recorded for layer '{layer.id}'")
        extent: BBox | None = None
        if ext is not None and None not in ext:
            extent = (float(ext[0]), float(ext[1]), float(ext[2]), float(ext[3]))
        return LayerState(
            version=int(row[0]),
            updated_at=dt.datetime.fromisoformat(row[1]),
            count=int(count),
            extent=extent,
        )

    # -- writing -----------------------------------------------------------------------------

    def _all(
        self, conn: sqlite3.Connection, layer: Layer, feature_id: str | None = None
    ) -> list[StoredFeature]:
        cols = ", ".join(["geom", *(_q(n) for n in layer.fields)])
        t = _q(table_name(layer.id))
        if feature_id is None:
            rows = conn.execute(f"SELECT {cols} FROM {t} ORDER BY fid").fetchall()
        else:
            rows = conn.execute(f"SELECT {cols} FROM {t} WHERE id = ?", (feature_id,)).fetchall()
        return self._rows_to_features(layer, rows)

    def replace(
        self, layer_id: str, features: Sequence[NewFeature], actor: str | None = None, via: str = "import"
    ) -> LayerState:
        layer = self._layer(layer_id)
        try:
            with self._write() as conn:
                before = self._all(conn, layer) if actor is not None else []
                conn.execute(f"DELETE FROM {_q(table_name(layer.id))}")
                self._insert(conn, layer, features)
                self._bump(conn, layer)
                if actor is not None:
                    at = utc_now()
                    for action, fid, old, new in changes(before, self._all(conn, layer)):
                        self._log(conn, at, layer, fid, action, actor, via, old, new)
        except sqlite3.Error as exc:
            raise StoreError(
                f"{self.path}: writing layer '{layer.id}' failed, nothing was changed: {exc}"
            ) from exc
        return self.state(layer_id)

    def edit(
        self, layer_id: str, edit: Edit, actor: str, via: str = "api", check: Precondition | None = None
    ) -> EditResult:
        layer = self._layer(layer_id)
        t = _q(table_name(layer.id))
        try:
            # BEGIN IMMEDIATE: writers take turns, so the check sees what the write replaces.
            with self._write() as conn:
                found = self._all(conn, layer, edit.feature_id)
                before = found[0] if found else None
                step = plan_edit(edit, layer.id, before, check)
                if step == "insert":
                    self._insert(conn, layer, [(edit.properties or {}, edit.geometry)])
                elif step == "delete":
                    conn.execute(f"DELETE FROM {t} WHERE id = ?", (edit.feature_id,))
                else:
                    self._update(conn, layer, edit)
                found = self._all(conn, layer, edit.feature_id)
                after = found[0] if found else None
                self._bump(conn, layer)
                self._log(
                    conn,
                    utc_now(),
                    layer,
                    edit.feature_id,
                    LOGGED_ACTION[edit.action],
                    actor,
                    via,
                    before,
                    after,
                )
        except sqlite3.Error as exc:
            raise StoreError(
                f"{self.path}: writing to layer '{layer.id}' failed, nothing was changed: {exc}"
            ) from exc
        return EditResult(before, after, self.state(layer_id))

    @staticmethod
    def _update(conn: sqlite3.Connection, layer: Layer, edit: Edit) -> None:
        """Replace one row's values in place (it keeps its fid, so its place in the order)."""
        names = list(layer.fields)
        props = edit.properties or {}
        declared = _declared_geometry_type(layer)
        blob = None if edit.geometry is None else gpkg_binary.encode(_promote(edit.geometry, declared))
        assignments = ", ".join(["geom = ?", *(f"{_q(n)} = ?" for n in names)])
        conn.execute(
            f"UPDATE {_q(table_name(layer.id))} SET {assignments} WHERE id = ?",
            [blob, *(_encode_value(layer.fields[n], props.get(n)) for n in names), edit.feature_id],
        )

    @staticmethod
    def _log(
        conn: sqlite3.Connection,
        at: dt.datetime,
        layer: Layer,
        feature_id: str,
        action: str,
        actor: str,
        via: str,
        before: StoredFeature | None,
        after: StoredFeature | None,
    ) -> None:
        def text(feature: StoredFeature | None) -> str | None:
            doc = feature_doc(feature)
            return None if doc is None else json.dumps(doc, ensure_ascii=False)

        conn.execute(
            f"INSERT INTO {HISTORY_TABLE} (at, layer, feature_id, action, actor, via, before, "
            "after) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                at.isoformat(timespec="milliseconds"),
                layer.id,
                feature_id,
                action,
                actor,
                via,
                text(before),
                text(after),
            ),
        )

    def history(self, layer_id: str, feature_id: str) -> list[HistoryEntry]:
        layer = self._layer(layer_id)
        rows = (
            self._conn()
            .execute(
                f"SELECT seq, at, action, actor, via, before, after FROM {HISTORY_TABLE} "
                "WHERE layer = ? AND feature_id = ? ORDER BY seq",
                (layer.id, feature_id),
            )
            .fetchall()
        )
        return [
            HistoryEntry(
                seq=r[0],
                layer=layer.id,
                feature_id=feature_id,
                action=r[2],
                actor=r[3],
                via=r[4],
                at=dt.datetime.fromisoformat(r[1]),
                before=None if r[5] is None else json.loads(r[5]),
                after=None if r[6] is None else json.loads(r[6]),
            )
            for r in rows
        ]

    # -- tokens ------------------------------------------------------------------------------

    def add_token(self, token: Token) -> None:
        try:
            with self._write() as conn:
                conn.execute(
                    f"INSERT INTO {TOKEN_TABLE} (id, name, secret_hash, collections, created_at)"
                    " VALUES (?, ?, ?, ?, ?)",
                    (
                        token.id,
                        token.name,
                        token.secret_hash,
                        json.dumps(list(token.collections)),
                        token.created_at.isoformat(),
                    ),
                )
        except sqlite3.Error as exc:
            raise StoreError(f"{self.path}: storing token '{token.id}' failed: {exc}") from exc

    def tokens(self) -> list[Token]:
        rows = (
            self._conn()
            .execute(
                f"SELECT id, name, secret_hash, collections, created_at, revoked_at FROM {TOKEN_TABLE}"
                " ORDER BY created_at, id"
            )
            .fetchall()
        )
        return [
            Token(
                id=r[0],
                name=r[1],
                secret_hash=r[2],
                collections=tuple(json.loads(r[3])),
                created_at=dt.datetime.fromisoformat(r[4]),
                revoked_at=None if r[5] is None else dt.datetime.fromisoformat(r[5]),
            )
            for r in rows
        ]

    def revoke_token(self, token_id: str) -> bool:
        with self._write() as conn:
            cur = conn.execute(
                f"UPDATE {TOKEN_TABLE} SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL",
                (utc_now().isoformat(), token_id),
            )
            return cur.rowcount == 1
