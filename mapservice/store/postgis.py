"""PostgreSQL/PostGIS store: several app instances over one database (psycopg 3).

Everything lives in the schema ``mapservice``: one table per layer named like the GeoPackage
tables (layer id with ``-`` → ``_``), with ``fid`` (identity), ``geom geometry(Geometry, 4326)``
(GiST index) and one typed column per catalog field; ``layer_state`` holds version, change time,
count and extent per layer; ``schema_migrations`` records the numbered migrations applied.

Opening runs the migrations and brings the layer tables up to the catalog in one transaction
under ``pg_advisory_xact_lock``, so app instances starting at once take turns: the first one
creates the schema and loads the shipped data, the others find it done.

Queries give the same results as the GeoPackage store for the same :class:`Query`:

* sort order: text sorts by the same DIN 5007-1 key as the GeoPackage's collation (SQL function
  ``mapservice.sort_key_de``: case folded, ä/ö/ü → a/o/u, ß → ss, accents dropped), ties by code
  point, then by ``fid``. An ICU collation (``de-DE-x-icu``) was not used because it breaks ties
  (case, punctuation) differently from the GeoPackage backend.
* bbox: GiST index, then the exact ``ST_Intersects`` with the box.
* arrays and objects are ``json`` columns, not ``jsonb``: ``jsonb`` would reorder object keys,
  so the API's output would differ from the GeoPackage's; ``contains`` filters cast to ``jsonb``.
* dates and date-times are text, as in the GeoPackage (reduced precision "2023-04" is allowed).
* geometries go out through the same WKB → GeoJSON writer (shapely) as the GeoPackage's, so
  the text is identical (``ST_AsGeoJSON`` rounds to 9 decimals by default, and at 17 prints
  digits the shortest round-trip form leaves out).

Differences: the extent in ``state`` is exact (the GeoPackage's comes from its float32 R-tree),
and an invalid geometry is refused by a CHECK constraint (the GeoPackage stores what it gets;
validation refuses invalid geometries before either store sees them).

Connections: one per thread and process (never carried across a fork), autocommit; a query's
count and page are read in one REPEATABLE READ, READ ONLY transaction (one snapshot).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import psycopg
import shapely
from psycopg import sql
from psycopg.types.json import Jsonb

from ..catalog.layers import Catalog, FieldDef, Layer
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
from .geopackage import _declared_geometry_type, _promote, table_name

SCHEMA = "mapservice"
# Key of the advisory lock that serialises schema changes (any fixed bigint; "mapsrvc1").
LOCK_KEY = 0x6D617073727663

_SQL_TYPES = {
    "integer": "bigint",
    "number": "double precision",
    "boolean": "boolean",
    "array": "json",
    "object": "json",
}

# Numbered migrations of the fixed part of the schema; never edit one that has shipped, add
# the next number. Layer tables follow the catalog and are created/extended on open.
MIGRATIONS: list[tuple[int, str, str]] = [
    (
        1,
        "layer state and German sort key",
        f"""
CREATE EXTENSION IF NOT EXISTS postgis;
CREATE TABLE {SCHEMA}.layer_state (
  layer text PRIMARY KEY,
  version bigint NOT NULL,
  updated_at timestamptz NOT NULL,
  count bigint NOT NULL,
  min_x double precision, min_y double precision,
  max_x double precision, max_y double precision);
CREATE FUNCTION {SCHEMA}.sort_key_de(text) RETURNS text
  LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
  AS $$ SELECT regexp_replace(
    normalize(replace(translate(lower($1 COLLATE "und-x-icu"), 'äöü', 'aou'), 'ß', 'ss'), NFKD),
    '[\\u0300-\\u036f\\u1ab0-\\u1aff\\u1dc0-\\u1dff\\u20d0-\\u20ff\\ufe20-\\ufe2f]', '', 'g')
    COLLATE "C" $$;
""",
    ),
    (
        2,
        "change log and write tokens",
        f"""
CREATE TABLE {SCHEMA}.history (
  seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  at timestamptz NOT NULL, layer text NOT NULL, feature_id text NOT NULL,
  action text NOT NULL CHECK (action IN ('create', 'update', 'delete')),
  actor text NOT NULL, via text NOT NULL, before json, after json);
CREATE INDEX history_feature ON {SCHEMA}.history (layer, feature_id);
CREATE TABLE {SCHEMA}.tokens (
  id text PRIMARY KEY, name text NOT NULL, secret_hash text NOT NULL,
  collections json NOT NULL, created_at timestamptz NOT NULL, revoked_at timestamptz);
""",
    ),
]


def _q(name: str) -> sql.Identifier:
    return sql.Identifier(name)


def _t(layer_id: str) -> sql.Composed:
    return sql.SQL("{}.{}").format(_q(SCHEMA), _q(table_name(layer_id)))


def _sql_type(fdef: FieldDef) -> str:
    return _SQL_TYPES.get(fdef.type, "text")


def _encode_value(fdef: FieldDef, value: Any) -> Any:
    if value is None:
        return None
    if fdef.type in ("array", "object"):
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return value


def _connect(url: str) -> psycopg.Connection[Any]:
    try:
        return psycopg.connect(url, autocommit=True, application_name="mapservice")
    except psycopg.Error as exc:
        raise StoreError(f"cannot connect to the PostGIS store: {exc}") from exc


NewLayersLoader = Callable[["PostGISStore", list[str]], Mapping[str, Sequence[NewFeature]]]


class PostGISStore(Store):
    """Features in PostgreSQL/PostGIS tables; one connection per thread and process."""

    def __init__(self, url: str, catalog: Catalog) -> None:
        self.url = url
        self.catalog = catalog
        self._local = threading.local()

    # -- opening and schema ------------------------------------------------------------------

    @classmethod
    def open(cls, url: str, catalog: Catalog, load_new_layers: NewLayersLoader) -> PostGISStore:
        """Migrate the schema and create/extend layer tables; new tables get the shipped data.

        ``load_new_layers(store, layer_ids)`` returns the features of layers that have no table
        yet (all of them on the first start). It runs under the lock, so data is loaded once.
        """
        store = cls(url, catalog)
        conn = _connect(url)
        try:
            with conn.transaction():
                conn.execute("SELECT pg_advisory_xact_lock(%s)", (LOCK_KEY,))
                store._migrate(conn)
                missing_tables, missing_columns = store._schema_gaps(conn)
                new_layers = load_new_layers(store, missing_tables) if missing_tables else {}
                for layer_id in missing_tables:
                    layer = catalog[layer_id]
                    store._create_layer_table(conn, layer)
                    store._insert(conn, layer, new_layers.get(layer_id, ()))
                    store._bump(conn, layer)
                for layer_id, names in missing_columns.items():
                    layer = catalog[layer_id]
                    for name in names:
                        conn.execute(
                            sql.SQL("ALTER TABLE {} ADD COLUMN {} {}").format(
                                _t(layer_id), _q(name), sql.SQL(_sql_type(layer.fields[name]))
                            )
                        )
                    store._bump(conn, layer)
        except psycopg.Error as exc:
            raise StoreError(f"preparing the PostGIS store failed, nothing was changed: {exc}") from exc
        finally:
            conn.close()
        return store

    @staticmethod
    def _migrate(conn: psycopg.Connection[Any]) -> list[int]:
        """Apply the migrations not yet recorded; the caller holds the lock and a transaction."""
        conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(_q(SCHEMA)))
        conn.execute(
            sql.SQL(
                "CREATE TABLE IF NOT EXISTS {}.schema_migrations (version integer PRIMARY KEY, "
                "name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())"
            ).format(_q(SCHEMA))
        )
        done = {
            row[0]
            for row in conn.execute(sql.SQL("SELECT version FROM {}.schema_migrations").format(_q(SCHEMA)))
        }
        applied = []
        for number, name, script in MIGRATIONS:
            if number in done:
                continue
            conn.execute(script.encode())
            conn.execute(
                sql.SQL("INSERT INTO {}.schema_migrations (version, name) VALUES (%s, %s)").format(
                    _q(SCHEMA)
                ),
                (number, name),
            )
            applied.append(number)
        return applied

    def _schema_gaps(self, conn: psycopg.Connection[Any]) -> tuple[list[str], dict[str, list[str]]]:
        rows = conn.execute(
            "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = %s",
            (SCHEMA,),
        ).fetchall()
        have: dict[str, set[str]] = {}
        for table, column in rows:
            have.setdefault(table, set()).add(column)
        missing_tables = [lid for lid in self.catalog.ids() if table_name(lid) not in have]
        missing_columns: dict[str, list[str]] = {}
        for layer in self.catalog:
            if layer.id in missing_tables:
                continue
            gaps = [n for n in layer.fields if n not in have[table_name(layer.id)]]
            if gaps:
                missing_columns[layer.id] = gaps
        return missing_tables, missing_columns

    @staticmethod
    def _create_layer_table(conn: psycopg.Connection[Any], layer: Layer) -> None:
        t = table_name(layer.id)
        columns: list[sql.Composable] = [
            sql.SQL("fid bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY"),
            # Validation refuses invalid geometries before they reach a store; the database
            # refuses them too, so no other writer can store one.
            sql.SQL("geom geometry(Geometry, 4326) CHECK (geom IS NULL OR ST_IsValid(geom))"),
        ]
        for name, fdef in layer.fields.items():
            extra = " NOT NULL UNIQUE" if name == "id" else ""
            columns.append(sql.SQL("{} {}").format(_q(name), sql.SQL(_sql_type(fdef) + extra)))
        conn.execute(sql.SQL("CREATE TABLE {} ({})").format(_t(layer.id), sql.SQL(", ").join(columns)))
        conn.execute(
            sql.SQL("CREATE INDEX {} ON {} USING gist (geom)").format(_q(f"{t}_geom_gist"), _t(layer.id))
        )
        conn.execute(sql.SQL("COMMENT ON TABLE {} IS {}").format(_t(layer.id), sql.Literal(layer.title)))

    @staticmethod
    def _insert(conn: psycopg.Connection[Any], layer: Layer, features: Sequence[NewFeature]) -> None:
        names = list(layer.fields)
        declared = _declared_geometry_type(layer)
        casts = [sql.SQL("%s::json" if layer.fields[n].type in ("array", "object") else "%s") for n in names]
        stmt = sql.SQL("INSERT INTO {} (geom, {}) VALUES (ST_GeomFromWKB(%s, 4326), {})").format(
            _t(layer.id), sql.SQL(", ").join(_q(n) for n in names), sql.SQL(", ").join(casts)
        )
        rows = []
        # Sorted by id like the GeoPackage, so fid order (the last sort key) is the same.
        for props, geom in sorted(features, key=lambda f: str(f[0].get("id"))):
            wkb = None if geom is None else shapely.to_wkb(_promote(geom, declared))
            rows.append([wkb, *(_encode_value(layer.fields[n], props.get(n)) for n in names)])
        if rows:
            with conn.cursor() as cur:
                cur.executemany(stmt, rows)

    @staticmethod
    def _bump(conn: psycopg.Connection[Any], layer: Layer) -> None:
        """New version, change time, count and extent of the layer."""
        conn.execute(
            sql.SQL("""
INSERT INTO {schema}.layer_state AS s
  (layer, version, updated_at, count, min_x, min_y, max_x, max_y)
SELECT %s, 1, date_trunc('second', clock_timestamp()), n,
       ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e)
FROM (SELECT count(*) AS n, ST_Extent(geom) AS e FROM {t}) agg
ON CONFLICT (layer) DO UPDATE SET version = s.version + 1, updated_at = excluded.updated_at,
  count = excluded.count, min_x = excluded.min_x, min_y = excluded.min_y,
  max_x = excluded.max_x, max_y = excluded.max_y
""").format(schema=_q(SCHEMA), t=_t(layer.id)),
            (layer.id,),
        )

    # -- connections -------------------------------------------------------------------------

    def _conn(self) -> psycopg.Connection[Any]:
        # Keyed by process id as well: a connection must never cross a fork (gunicorn workers).
        pid = os.getpid()
        conn = getattr(self._local, "conn", None)
        # A connection inherited from the parent is dropped unused; psycopg frees it without
        # ending the parent's session (it only says goodbye to the server from its own pid).
        if conn is None or conn.closed or getattr(self._local, "pid", None) != pid:
            conn = _connect(self.url)
            self._local.conn = conn
            self._local.pid = pid
        return conn

    @contextmanager
    def _session(self, snapshot: bool = False) -> Iterator[psycopg.Connection[Any]]:
        """The thread's connection; ``snapshot``: several statements see one state.

        A single statement needs no transaction (autocommit): it is one round trip.
        """
        conn = self._conn()
        try:
            if snapshot:
                with conn.transaction():
                    conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                    yield conn
            else:
                yield conn
        except psycopg.OperationalError:
            # A broken connection (server restart) is dropped, so the next call reconnects.
            conn.close()
            raise

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            if getattr(self._local, "pid", None) == os.getpid():  # never the parent's session
                conn.close()
            self._local.conn = None

    # -- reading -----------------------------------------------------------------------------

    def _layer(self, layer_id: str) -> Layer:
        try:
            return self.catalog[layer_id]
        except KeyError:
            raise StoreError(f"unknown layer '{layer_id}'") from None

    def layer_ids(self) -> list[str]:
        return self.catalog.ids()

    def feature_ids(self, layer_id: str) -> set[str]:
        """The ids of a layer's stored features (only the id column is read)."""
        layer = self._layer(layer_id)
        with self._session() as conn:
            rows = conn.execute(sql.SQL("SELECT id FROM {}").format(_t(layer.id))).fetchall()
        return {str(row[0]) for row in rows}

    @staticmethod
    def _select(layer: Layer) -> sql.Composed:
        return sql.SQL("SELECT ST_AsBinary(t.geom), {} FROM {} t").format(
            sql.SQL(", ").join(sql.SQL("t.{}").format(_q(n)) for n in layer.fields), _t(layer.id)
        )

    @staticmethod
    def _rows_to_features(layer: Layer, rows: list[tuple[Any, ...]]) -> list[StoredFeature]:
        names = list(layer.fields)
        present = [i for i, r in enumerate(rows) if r[0] is not None]
        texts: list[str | None] = [None] * len(rows)
        if present:
            # The same WKB → GeoJSON writer as the GeoPackage store, so the text is identical.
            geoms = shapely.from_wkb([rows[i][0] for i in present])
            for i, text in zip(present, shapely.to_geojson(geoms), strict=True):
                texts[i] = str(text)
        out = []
        for row, text in zip(rows, texts, strict=True):
            props = dict(zip(names, row[1:], strict=True))
            out.append(StoredFeature(id=props["id"], properties=props, geometry=text))
        return out

    def _where(self, layer: Layer, query: Query) -> tuple[sql.Composable, list[Any]]:
        clauses: list[sql.Composable] = []
        params: list[Any] = []
        if query.bbox is not None:
            # ST_Intersects uses the GiST index (&&) and then tests the exact geometry.
            clauses.append(sql.SQL("ST_Intersects(t.geom, ST_MakeEnvelope(%s, %s, %s, %s, 4326))"))
            params += list(query.bbox)
        for flt in query.filters:
            fdef = layer.fields[flt.field]
            col = sql.SQL("t.{}").format(_q(flt.field))
            if flt.contains:
                clauses.append(sql.SQL("{}::jsonb @> %s").format(col))
                params.append(Jsonb([flt.value]))
            else:
                clauses.append(sql.SQL("{} = %s::{}").format(col, sql.SQL(_sql_type(fdef))))
                params.append(flt.value)
        if query.interval is not None:
            clauses.extend(self._temporal_clauses(layer, query.interval, params))
        if not clauses:
            return sql.SQL(""), params
        return sql.SQL(" WHERE ") + sql.SQL(" AND ").join(clauses), params

    @staticmethod
    def _temporal_clauses(
        layer: Layer, interval: tuple[str | None, str | None], params: list[Any]
    ) -> list[sql.Composable]:
        if layer.temporal is None:
            return [sql.SQL("false")]  # no temporal geometry: nothing intersects the time
        start_col, end_col = (sql.SQL("t.{}").format(_q(n)) for n in layer.temporal)
        start, end = interval
        clauses: list[sql.Composable] = []
        # Reduced precision dates ("2023-04") compare with the same-length prefix of the bound;
        # an unknown start or end counts as open (as in the GeoPackage store).
        if end is not None:
            clauses.append(
                sql.SQL('({c} IS NULL OR {c} COLLATE "C" <= substr(%s::text, 1, length({c})))').format(
                    c=start_col
                )
            )
            params.append(end)
        if start is not None:
            clauses.append(
                sql.SQL('({c} IS NULL OR {c} COLLATE "C" >= substr(%s::text, 1, length({c})))').format(
                    c=end_col
                )
            )
            params.append(start)
        return clauses

    def query(self, layer_id: str, query: Query) -> QueryResult:
        layer = self._layer(layer_id)
        where, params = self._where(layer, query)
        order: list[sql.Composable] = []
        for k in query.sortby:
            col = sql.SQL("t.{}").format(_q(k.field))
            direction = sql.SQL("ASC" if k.ascending else "DESC")
            order.append(sql.SQL("{} IS NULL").format(col))
            if _sql_type(layer.fields[k.field]) == "text":
                # COLLATE "C": code point order of the keys, whatever the database's locale.
                order.append(sql.SQL('{}.sort_key_de({}) COLLATE "C" {}').format(_q(SCHEMA), col, direction))
                order.append(sql.SQL('{} COLLATE "C" {}').format(col, direction))
            else:
                order.append(sql.SQL("{} {}").format(col, direction))
        order.append(sql.SQL("t.fid"))  # a total order, so pages never overlap or skip
        try:
            with self._session(snapshot=True) as conn:
                matched = conn.execute(
                    sql.SQL("SELECT count(*) FROM {} t").format(_t(layer.id)) + where, params
                ).fetchone()
                rows = conn.execute(
                    self._select(layer)
                    + where
                    + sql.SQL(" ORDER BY ")
                    + sql.SQL(", ").join(order)
                    + sql.SQL(" LIMIT %s OFFSET %s"),
                    [*params, query.limit, query.offset],
                ).fetchall()
        except psycopg.Error as exc:
            raise StoreError(f"querying layer '{layer.id}' failed: {exc}") from exc
        assert matched is not None
        return QueryResult(self._rows_to_features(layer, rows), int(matched[0]))

    def get(self, layer_id: str, feature_id: str) -> StoredFeature | None:
        layer = self._layer(layer_id)
        if "\x00" in feature_id:
            return None  # PostgreSQL text cannot hold NUL, so no stored id has one
        try:
            with self._session() as conn:
                rows = conn.execute(
                    self._select(layer) + sql.SQL(" WHERE t.id = %s::text"), (feature_id,)
                ).fetchall()
        except psycopg.Error as exc:
            raise StoreError(f"reading layer '{layer.id}' failed: {exc}") from exc
        return self._rows_to_features(layer, rows)[0] if rows else None

    def state(self, layer_id: str) -> LayerState:
        layer = self._layer(layer_id)
        try:
            with self._session() as conn:
                row = conn.execute(
                    sql.SQL(
                        "SELECT version, updated_at, count, min_x, min_y, max_x, max_y "
                        "FROM {}.layer_state WHERE layer = %s"
                    ).format(_q(SCHEMA)),
                    (layer.id,),
                ).fetchone()
        except psycopg.Error as exc:
            raise StoreError(f"reading the state of layer '{layer.id}' failed: {exc}") from exc
        if row is None:
            raise StoreError(f"no state recorded for layer '{layer.id}'")
        extent: BBox | None = None
        if None not in row[3:]:
            extent = (float(row[3]), float(row[4]), float(row[5]), float(row[6]))
        updated_at: dt.datetime = row[1]
        return LayerState(
            version=int(row[0]), updated_at=updated_at.astimezone(dt.UTC), count=int(row[2]), extent=extent
        )

    # -- writing -----------------------------------------------------------------------------

    @staticmethod
    def _lock_layer(conn: psycopg.Connection[Any], layer: Layer) -> None:
        """Writers of one layer take turns: the state row stays locked until commit."""
        conn.execute(
            sql.SQL("SELECT 1 FROM {}.layer_state WHERE layer = %s FOR UPDATE").format(_q(SCHEMA)),
            (layer.id,),
        )

    def _all(
        self, conn: psycopg.Connection[Any], layer: Layer, feature_id: str | None = None
    ) -> list[StoredFeature]:
        if feature_id is None:
            rows = conn.execute(self._select(layer) + sql.SQL(" ORDER BY t.fid")).fetchall()
        elif "\x00" in feature_id:
            return []  # PostgreSQL text cannot hold NUL, so no stored id has one
        else:
            rows = conn.execute(
                self._select(layer) + sql.SQL(" WHERE t.id = %s::text"), (feature_id,)
            ).fetchall()
        return self._rows_to_features(layer, rows)

    def replace(
        self, layer_id: str, features: Sequence[NewFeature], actor: str | None = None, via: str = "import"
    ) -> LayerState:
        layer = self._layer(layer_id)
        conn = self._conn()
        try:
            with conn.transaction():
                self._lock_layer(conn, layer)
                before = self._all(conn, layer) if actor is not None else []
                conn.execute(sql.SQL("DELETE FROM {}").format(_t(layer.id)))
                self._insert(conn, layer, features)
                self._bump(conn, layer)
                if actor is not None:
                    at = utc_now()
                    for action, fid, old, new in changes(before, self._all(conn, layer)):
                        self._log(conn, at, layer, fid, action, actor, via, old, new)
        except psycopg.Error as exc:
            raise StoreError(f"writing layer '{layer.id}' failed, nothing was changed: {exc}") from exc
        return self.state(layer_id)

    def edit(
        self, layer_id: str, edit: Edit, actor: str, via: str = "api", check: Precondition | None = None
    ) -> EditResult:
        layer = self._layer(layer_id)
        conn = self._conn()
        try:
            with conn.transaction():
                # Locked first: the read below then sees every write committed before ours.
                self._lock_layer(conn, layer)
                found = self._all(conn, layer, edit.feature_id)
                before = found[0] if found else None
                step = plan_edit(edit, layer.id, before, check)
                if step == "insert":
                    self._insert(conn, layer, [(edit.properties or {}, edit.geometry)])
                elif step == "delete":
                    conn.execute(
                        sql.SQL("DELETE FROM {} WHERE id = %s").format(_t(layer.id)), (edit.feature_id,)
                    )
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
        except psycopg.Error as exc:
            raise StoreError(f"writing to layer '{layer.id}' failed, nothing was changed: {exc}") from exc
        return EditResult(before, after, self.state(layer_id))

    @staticmethod
    def _update(conn: psycopg.Connection[Any], layer: Layer, edit: Edit) -> None:
        """Replace one row's values in place (it keeps its fid, so its place in the order)."""
        names = list(layer.fields)
        props = edit.properties or {}
        declared = _declared_geometry_type(layer)
        wkb = None if edit.geometry is None else shapely.to_wkb(_promote(edit.geometry, declared))
        assignments = [sql.SQL("geom = ST_GeomFromWKB(%s, 4326)")] + [
            sql.SQL("{} = %s::json" if layer.fields[n].type in ("array", "object") else "{} = %s").format(
                _q(n)
            )
            for n in names
        ]
        conn.execute(
            sql.SQL("UPDATE {} SET {} WHERE id = %s").format(_t(layer.id), sql.SQL(", ").join(assignments)),
            [wkb, *(_encode_value(layer.fields[n], props.get(n)) for n in names), edit.feature_id],
        )

    @staticmethod
    def _log(
        conn: psycopg.Connection[Any],
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
            sql.SQL(
                "INSERT INTO {}.history (at, layer, feature_id, action, actor, via, before, after) "
                "VALUES (%s, %s, %s, %s, %s, %s, %s::json, %s::json)"
            ).format(_q(SCHEMA)),
            (at, layer.id, feature_id, action, actor, via, text(before), text(after)),
        )

    def history(self, layer_id: str, feature_id: str) -> list[HistoryEntry]:
        layer = self._layer(layer_id)
        if "\x00" in feature_id:
            return []
        try:
            with self._session() as conn:
                rows = conn.execute(
                    sql.SQL(
                        "SELECT seq, at, action, actor, via, before, after FROM {}.history "
                        "WHERE layer = %s AND feature_id = %s ORDER BY seq"
                    ).format(_q(SCHEMA)),
                    (layer.id, feature_id),
                ).fetchall()
        except psycopg.Error as exc:
            raise StoreError(f"reading the history of '{feature_id}' failed: {exc}") from exc
        return [
            HistoryEntry(
                seq=int(r[0]),
                layer=layer.id,
                feature_id=feature_id,
                action=r[2],
                actor=r[3],
                via=r[4],
                at=r[1].astimezone(dt.UTC),
                before=r[5],
                after=r[6],
            )
            for r in rows
        ]

    # -- tokens ------------------------------------------------------------------------------

    def add_token(self, token: Token) -> None:
        try:
            with self._session() as conn:
                conn.execute(
                    sql.SQL(
                        "INSERT INTO {}.tokens (id, name, secret_hash, collections, created_at) "
                        "VALUES (%s, %s, %s, %s::json, %s)"
                    ).format(_q(SCHEMA)),
                    (
                        token.id,
                        token.name,
                        token.secret_hash,
                        json.dumps(list(token.collections)),
                        token.created_at,
                    ),
                )
        except psycopg.Error as exc:
            raise StoreError(f"storing token '{token.id}' failed: {exc}") from exc

    def tokens(self) -> list[Token]:
        try:
            with self._session() as conn:
                rows = conn.execute(
                    sql.SQL(
                        "SELECT id, name, secret_hash, collections, created_at, revoked_at "
                        "FROM {}.tokens ORDER BY created_at, id"
                    ).format(_q(SCHEMA))
                ).fetchall()
        except psycopg.Error as exc:
            raise StoreError(f"reading the tokens failed: {exc}") from exc
        return [
            Token(
                id=r[0],
                name=r[1],
                secret_hash=r[2],
                collections=tuple(r[3]),
                created_at=r[4].astimezone(dt.UTC),
                revoked_at=None if r[5] is None else r[5].astimezone(dt.UTC),
            )
            for r in rows
        ]

    def revoke_token(self, token_id: str) -> bool:
        try:
            with self._session() as conn:
                cur = conn.execute(
                    sql.SQL(
                        "UPDATE {}.tokens SET revoked_at = now() WHERE id = %s AND revoked_at IS NULL"
                    ).format(_q(SCHEMA)),
                    (token_id,),
                )
        except psycopg.Error as exc:
            raise StoreError(f"revoking token '{token_id}' failed: {exc}") from exc
        return cur.rowcount == 1
