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
count and page are read in one REPEATABLE READ, READ ONLY transaction (one snapshot), sent in
pipeline mode: BEGIN, the layer state and the page in one round trip, the COMMIT in a
second. Queries,
writes, the change log and tokens are the shared core in :mod:`mapservice.store.sql`; this
module is the PostgreSQL dialect and the schema.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import psycopg
from psycopg.abc import Buffer
from psycopg.adapt import Loader
from psycopg.types.json import Jsonb

from ..catalog.layers import Catalog, FieldDef, Layer
from .base import ADDRESS_COLUMNS, AddressRow, BBox, Reclaimed, SortKey, StoreError
from .expressions import Scalar, Spatial, like_pattern
from .sql import (
    FEATURE_COLUMN,
    PUBLISHED_SUMMARY_COLUMNS,
    REVISION_COLUMN,
    SURVEY_STATE_KEY,
    Change,
    NewLayersLoader,
    SqlStore,
    derived_fingerprint,
    order_terms,
    quote,
    table_name,
)

SCHEMA = "mapservice"
# After an import: how often VACUUM runs again when it could not mark the new rows visible.
VACUUM_RETRIES = 3
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
    (
        3,
        "address points of the offline gazetteer",
        f"""
CREATE TABLE {SCHEMA}.addresses (
  fid bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  source text NOT NULL, street text NOT NULL, housenumber text, postcode text, place text,
  lon double precision NOT NULL, lat double precision NOT NULL, precision text NOT NULL,
  street_key text NOT NULL, place_key text NOT NULL, housenumber_key text NOT NULL, ref text,
  geom geometry(Point, 4326) GENERATED ALWAYS AS (ST_SetSRID(ST_MakePoint(lon, lat), 4326)) STORED);
CREATE INDEX addresses_street ON {SCHEMA}.addresses (street_key, place_key);
CREATE INDEX addresses_source ON {SCHEMA}.addresses (source);
COMMENT ON TABLE {SCHEMA}.addresses IS 'Address points of the offline geocoder';
CREATE TABLE {SCHEMA}.address_streets (
  source text NOT NULL, street_key text NOT NULL, words text NOT NULL, place_key text NOT NULL,
  street text NOT NULL, place text, count bigint NOT NULL);
CREATE INDEX address_streets_source ON {SCHEMA}.address_streets (source);
CREATE TABLE {SCHEMA}.address_sources (
  name text PRIMARY KEY, format text NOT NULL, file_name text NOT NULL, row_count bigint NOT NULL,
  imported_at timestamptz NOT NULL, licence text, attribution text, places json NOT NULL,
  min_x double precision, min_y double precision, max_x double precision, max_y double precision);
""",
    ),
    (
        4,
        "compact change log: hash of each after, rows back to a whole before",
        f"""
ALTER TABLE {SCHEMA}.history ADD COLUMN rev text, ADD COLUMN depth integer NOT NULL DEFAULT 0;
""",
    ),
    (
        5,
        "fingerprint of the derived columns (stored feature, revision, sort keys)",
        f"""
ALTER TABLE {SCHEMA}.layer_state ADD COLUMN derived text;
""",
    ),
    (
        6,
        "surveys of municipalities: invitations (token hashes), answers, failed attempts",
        f"""
CREATE TABLE {SCHEMA}.surveys (
  id text PRIMARY KEY, title text NOT NULL, created_at timestamptz NOT NULL, closes_on text NOT NULL,
  created_by text NOT NULL, area json NOT NULL, closed_at timestamptz);
CREATE TABLE {SCHEMA}.survey_invitations (
  survey_id text NOT NULL REFERENCES {SCHEMA}.surveys (id), ags text NOT NULL, name text NOT NULL,
  token_id text NOT NULL UNIQUE, secret_hash text NOT NULL, opened_at timestamptz,
  PRIMARY KEY (survey_id, ags));
CREATE TABLE {SCHEMA}.survey_answers (
  seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, survey_id text NOT NULL, ags text NOT NULL,
  submitted_at timestamptz NOT NULL, answer json NOT NULL,
  review text NOT NULL CHECK (review IN ('pending', 'approved', 'rejected', 'superseded')),
  reviewed_at timestamptz, reviewer text, review_note text,
  FOREIGN KEY (survey_id, ags) REFERENCES {SCHEMA}.survey_invitations (survey_id, ags));
CREATE INDEX survey_answers_municipality ON {SCHEMA}.survey_answers (survey_id, ags);
CREATE TABLE {SCHEMA}.survey_failures (client text NOT NULL, at timestamptz NOT NULL);
CREATE INDEX survey_failures_client ON {SCHEMA}.survey_failures (client);
""",
    ),
    (
        7,
        "count and extent of the published features, kept with the version",
        f"""
ALTER TABLE {SCHEMA}.layer_state ADD COLUMN published_count bigint,
  ADD COLUMN published_min_x double precision, ADD COLUMN published_min_y double precision,
  ADD COLUMN published_max_x double precision, ADD COLUMN published_max_y double precision;
""",
    ),
]
# The address points' version: a row of layer_state under a key no layer id can take.
ADDRESS_STATE_KEY = ":addresses"
# Advisory lock of address writers (any fixed bigint other than LOCK_KEY; "mapsadr1").
ADDRESS_LOCK_KEY = 0x6D617073616472


_SCHEMA = quote(SCHEMA)


def _sql_type(fdef: FieldDef) -> str:
    return _SQL_TYPES.get(fdef.type, "text")


def _connect(url: str) -> psycopg.Connection[Any]:
    try:
        return psycopg.connect(url, autocommit=True, application_name="mapservice", client_encoding="utf8")
    except psycopg.Error as exc:
        raise StoreError(f"cannot connect to the PostGIS store: {exc}") from exc


class PostGISStore(SqlStore):
    """Features in PostgreSQL/PostGIS tables; one connection per thread and process."""

    mark = "%s"
    json_mark = "%s::json"
    holds_nul = False  # PostgreSQL text cannot hold NUL, so no stored id has one
    history_table = f"{_SCHEMA}.history"
    state_table = f"{_SCHEMA}.layer_state"
    token_table = f"{_SCHEMA}.tokens"
    address_table = f"{_SCHEMA}.addresses"
    address_streets_table = f"{_SCHEMA}.address_streets"
    address_sources_table = f"{_SCHEMA}.address_sources"
    survey_table = f"{_SCHEMA}.surveys"
    invitation_table = f"{_SCHEMA}.survey_invitations"
    answer_table = f"{_SCHEMA}.survey_answers"
    failure_table = f"{_SCHEMA}.survey_failures"
    db_errors = (psycopg.Error,)

    def __init__(self, url: str, catalog: Catalog) -> None:
        super().__init__(catalog)
        self.url = url

    @classmethod
    def open(cls, url: str, catalog: Catalog, load_new_layers: NewLayersLoader) -> PostGISStore:
        """Migrate the schema and create/extend layer tables; new tables get the shipped data.

        ``load_new_layers(store, layer_ids)`` returns the features of layers that have no table
        yet (all of them on the first start). It runs under the lock, so data is loaded once.
        """
        store = cls(url, catalog)
        store.upgrade(load_new_layers)
        return store

    # -- connections and transactions ---------------------------------------------------------

    def _connect(self) -> psycopg.Connection[Any]:
        return _connect(self.url)

    def _usable(self, conn: Any) -> bool:
        return not conn.closed

    @contextmanager
    def _dropping_broken(self, conn: psycopg.Connection[Any]) -> Iterator[None]:
        try:
            yield
        except psycopg.OperationalError:
            # A broken connection (server restart) is dropped, so the next call reconnects.
            conn.close()
            raise

    @contextmanager
    def _read(self, snapshot: bool = False, batched: bool = False) -> Iterator[psycopg.Connection[Any]]:
        # A single statement needs no transaction (autocommit): it is one round trip.
        conn = self._conn()
        with self._dropping_broken(conn):
            if not snapshot or conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
                yield conn  # one statement, or inside a write: its transaction holds
                return
            # Pipeline mode: BEGIN, the layer state and the page go out together, then the
            # COMMIT; four round trips became two (a cold page of 29 municipalities in the
            # store: 0.80 -> 0.66 ms).
            try:
                with conn.pipeline() if batched else contextlib.nullcontext():
                    # One statement opens the snapshot (psycopg's transaction() would send
                    # BEGIN, then the isolation level: a round trip more on every page).
                    conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                    yield conn
                    conn.execute("COMMIT")
            except BaseException:
                # Out of the pipeline first: an aborted pipeline would skip the ROLLBACK and
                # leave the connection in a failed transaction for the next request.
                with contextlib.suppress(psycopg.Error):
                    if conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
                        conn.execute("ROLLBACK")
                raise

    @contextmanager
    def _write(self, layer: Layer | None = None) -> Iterator[psycopg.Connection[Any]]:
        conn = self._conn()
        with self._dropping_broken(conn), conn.transaction():
            if layer is not None:
                # Locked first: what the write reads then includes every write committed
                # before it, and the next writer of the layer waits for this one's commit.
                conn.execute(f"SELECT 1 FROM {_SCHEMA}.layer_state WHERE layer = %s FOR UPDATE", (layer.id,))
            yield conn

    def _lock_layers(self, conn: psycopg.Connection[Any]) -> None:
        # The rows every layer's writers lock first (see _write), in one order.
        conn.execute(
            f"SELECT 1 FROM {_SCHEMA}.layer_state WHERE layer = ANY(%s) ORDER BY layer FOR UPDATE",
            (self.catalog.ids(),),
        )

    def _executemany(self, conn: psycopg.Connection[Any], statement: str, rows: list[list[Any]]) -> None:
        with conn.cursor() as cur:
            cur.executemany(statement.encode(), rows)

    # -- the dialect ----------------------------------------------------------------------------

    def table(self, layer_id: str) -> str:
        return f"{_SCHEMA}.{quote(table_name(layer_id))}"

    def _geometry_out(self, column: str) -> str:
        return f"ST_AsBinary({column})"

    def _wkb(self, value: Any) -> bytes:
        return bytes(value)

    def _geometry_in(self) -> str:
        return "ST_GeomFromWKB(%s, 4326)"

    def _equals(self, column: str, fdef: FieldDef, value: Any) -> tuple[str, Any]:
        return f"{column} = %s::{_sql_type(fdef)}", value

    def _contains(self, column: str, value: Any) -> tuple[str, Any]:
        return f"{column}::jsonb @> %s", Jsonb([value])

    def _bbox(self, layer: Layer, bbox: BBox) -> tuple[str, list[str], list[Any]]:
        # ST_Intersects uses the GiST index (&&) and then tests the exact geometry.
        return (
            f"{self.table(layer.id)} t",
            ["ST_Intersects(t.geom, ST_MakeEnvelope(%s, %s, %s, %s, 4326))"],
            list(bbox),
        )

    def _literal_mark(self, value: Scalar) -> str:
        # Typed: psycopg sends Python values untyped or as the smallest integer type, and a
        # comparison must neither round a fraction nor compare a date text as a number.
        if isinstance(value, bool):
            return "%s::boolean"
        if isinstance(value, int):
            return "%s::bigint"
        if isinstance(value, float):
            return "%s::double precision"
        return "%s::text"

    def _like(self, column: str, pattern: str) -> tuple[str, Any]:
        like = like_pattern(pattern, "%", "_", lambda c: f"\\{c}" if c in "\\%_" else c)
        return f"{column} LIKE %s::text ESCAPE '\\'", like

    def _spatial(self, layer: Layer, node: Spatial, params: list[Any]) -> str:
        # ST_Intersects and its relatives read the GiST index themselves (ST_Disjoint cannot).
        params.append(node.wkb)
        return f"ST_{node.relation.capitalize()}(t.geom, ST_GeomFromWKB(%s, 4326))"

    def _count_extent_sql(self, layer: Layer, source: str, where: str) -> str:
        return (
            "SELECT n, ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM "
            f"(SELECT count(*) AS n, ST_Extent(t.geom) AS e FROM {source}{where}) agg"
        )

    def _after_bulk_write(self, layer: Layer) -> None:
        # Fresh statistics at once: with those of the table before the import (or none), the
        # planner sorts a million rows for a page, or walks the order index for a small bbox,
        # until autovacuum comes by. VACUUM also sets the visibility map, so that the rows an
        # offset skips are read off the order index alone (_page_sql): 7 ms instead of 77 for
        # the last page of 100,000. It cannot mark a page while another session's snapshot
        # is older than the import (autovacuum analysing the new rows meanwhile, which it
        # often is): then it runs again, and what is left autovacuum marks later.
        table = self.table(layer.id)
        with self._read() as conn:
            conn.execute(f"VACUUM (ANALYZE) {table}".encode())
            for _ in range(VACUUM_RETRIES):
                visible, pages = conn.execute(
                    "SELECT relallvisible, relpages FROM pg_class WHERE oid = %s::regclass", (table,)
                ).fetchone() or (0, 0)
                if visible >= pages * 0.9:
                    break
                time.sleep(0.2)
                conn.execute(f"VACUUM {table}".encode())

    def _compact_features(self, conn: psycopg.Connection[Any], layer: Layer) -> bool:
        # A feature text over 2 kB (a municipality's boundary) is compressed by PostgreSQL,
        # with pglz unless told otherwise: reading all 1,275 municipalities took 12 ms more
        # with pglz than with lz4 (29 against 17 ms, issue 16). New values take the column's
        # method; those stored before are rewritten once, which leaves their text as it was.
        if conn.info.server_version < 140000:
            return False  # lz4 came with PostgreSQL 14
        table, column = self.table(layer.id), quote(FEATURE_COLUMN)
        row = conn.execute(
            "SELECT attcompression FROM pg_attribute WHERE attrelid = %s::regclass AND attname = %s",
            (table, FEATURE_COLUMN),
        ).fetchone()
        if row is None or row[0] == "l":
            return False
        try:
            with conn.transaction():
                conn.execute(f"ALTER TABLE {table} ALTER COLUMN {column} SET COMPRESSION lz4".encode())
        except psycopg.errors.FeatureNotSupported:
            return False  # a server built without lz4 keeps pglz: slower to read, as correct
        # Only this column is set, so the trigger that marks rows changed outside stays quiet.
        pglz = f"pg_column_compression({column}) = 'pglz'"
        rewritten = conn.execute(f"UPDATE {table} SET {column} = {column} || '' WHERE {pglz}".encode())
        return rewritten.rowcount > 0

    def _as_utf8(self, column: str) -> str:
        # The column itself: _fetch_encoded reads text as its bytes. convert_to() made the
        # database read each text out of its compressed storage before sorting the rows, and
        # sort those megabytes, on disk past work_mem (all municipalities: 12.7 ms in the
        # database); a plain column is sorted as a pointer and read when it is sent (2.3 ms).
        return column

    def _page_sql(self, layer: Layer, source: str, where: str, sortby: Sequence[SortKey], offset: int) -> str:
        if offset == 0:
            return super()._page_sql(layer, source, where, sortby, offset)
        # PostgreSQL computes the select list of every row an OFFSET skips: the stored
        # feature of each was read and converted, only to be dropped (the last page of
        # 100,000 cameras took 162 ms). The inner query skips fids only, off the order index
        # (an index-only scan once the visibility map is set, see _after_bulk_write); only
        # the rows of the page are read whole, and put in their order again.
        order = ", ".join(order_terms(layer, sortby))
        inner = f"SELECT t.fid FROM {source}{where} ORDER BY {order} LIMIT %s OFFSET %s"
        encoded = self._as_utf8(f"t.{quote(FEATURE_COLUMN)}")
        return (
            f"SELECT {encoded}, t.fid FROM ({inner}) p JOIN {self.table(layer.id)} t ON t.fid = p.fid "
            f"ORDER BY {order}"
        )

    def _encoded_rows(self, conn: Any, statement: str, params: Sequence[Any]) -> Any:
        # Binary results, text as its UTF-8 bytes: never decoded into str and encoded again.
        cursor = conn.cursor(binary=True)
        cursor.adapters.register_loader("text", _TextAsBytes)
        return cursor.execute(statement.encode(), params)

    def _create_stale_trigger(self, conn: psycopg.Connection[Any], layer: Layer) -> None:
        feature, rev = quote(FEATURE_COLUMN), quote(REVISION_COLUMN)
        conn.execute(
            f"""CREATE OR REPLACE FUNCTION {_SCHEMA}.mark_changed_outside() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.{rev} IS NOT DISTINCT FROM OLD.{rev} THEN
    NEW.{feature} := NULL;
    NEW.{rev} := NULL;
  END IF;
  RETURN NEW;
END $$""".encode()
        )
        columns = ", ".join(["geom", *(quote(n) for n in layer.fields)])
        conn.execute(f"DROP TRIGGER IF EXISTS mapservice_stale ON {self.table(layer.id)}".encode())
        conn.execute(
            f"CREATE TRIGGER mapservice_stale BEFORE UPDATE OF {columns} ON {self.table(layer.id)} "
            f"FOR EACH ROW EXECUTE FUNCTION {_SCHEMA}.mark_changed_outside()".encode()
        )

    def _layer_columns(self, conn: psycopg.Connection[Any], layer: Layer) -> set[str]:
        rows = conn.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = %s AND table_name = %s",
            (SCHEMA, table_name(layer.id)),
        ).fetchall()
        return {str(r[0]) for r in rows}

    def _add_derived_column(self, conn: psycopg.Connection[Any], layer: Layer, name: str) -> None:
        # COLLATE "C": sort keys compare by code point, whatever the database's locale.
        conn.execute(f'ALTER TABLE {self.table(layer.id)} ADD COLUMN {quote(name)} text COLLATE "C"'.encode())

    def _text_column(self, column: str) -> str:
        return f'{column} COLLATE "C"'

    def _text_param(self) -> str:
        return "%s::text"

    def _bump(self, conn: psycopg.Connection[Any], layer: Layer, change: Change | None = None) -> None:
        """New version, change time, count and extent of the layer."""
        known = self._layer_summary_after(conn, layer, change)
        if known is None:
            summary = (
                f"SELECT n, ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) "
                f"FROM (SELECT count(*) AS n, ST_Extent(geom) AS e FROM {self.table(layer.id)}) agg"
            )
            params: list[Any] = []
        else:
            count, extent = known
            summary = "SELECT %s::bigint, %s::float8, %s::float8, %s::float8, %s::float8"
            params = [count, *(extent or (None, None, None, None))]
        conn.execute(
            f"""
INSERT INTO {_SCHEMA}.layer_state AS s
  (layer, version, updated_at, count, min_x, min_y, max_x, max_y, derived)
SELECT %s, 1, date_trunc('second', clock_timestamp()), v.*, %s
FROM ({summary}) v
ON CONFLICT (layer) DO UPDATE SET version = s.version + 1, updated_at = excluded.updated_at,
  count = excluded.count, min_x = excluded.min_x, min_y = excluded.min_y,
  max_x = excluded.max_x, max_y = excluded.max_y, derived = excluded.derived
""".encode(),
            (layer.id, derived_fingerprint(layer), *params),
        )
        self._keep_published_summary(conn, layer, change)

    def _state_rows(self, conn: psycopg.Connection[Any], layer: Layer) -> psycopg.Cursor[Any]:
        return conn.execute(
            f"SELECT version, updated_at, count, min_x, min_y, max_x, max_y, "
            f"{', '.join(PUBLISHED_SUMMARY_COLUMNS)} FROM {_SCHEMA}.layer_state WHERE layer = %s",
            (layer.id,),
        )

    def _read_state_of(self, layer: Layer) -> tuple[Any, ...] | None:
        with self._read() as conn:  # one statement: no snapshot needed
            return self._read_state(conn, layer)

    # -- address points -------------------------------------------------------------------------

    def _insert_addresses(
        self, conn: psycopg.Connection[Any], source: str, rows: Sequence[AddressRow]
    ) -> None:
        # COPY: a million rows in seconds, where single INSERTs would take minutes.
        columns = ", ".join(["source", *ADDRESS_COLUMNS])
        with (
            conn.cursor() as cur,
            cur.copy(f"COPY {_SCHEMA}.addresses ({columns}) FROM STDIN".encode()) as copy,
        ):
            for row in rows:
                copy.write_row((source, *row))

    def _lock_addresses(self, conn: psycopg.Connection[Any]) -> None:
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (ADDRESS_LOCK_KEY,))

    def _bump_addresses(self, conn: psycopg.Connection[Any], bbox: BBox | None) -> None:
        conn.execute(
            f"""
INSERT INTO {_SCHEMA}.layer_state AS s (layer, version, updated_at, count, min_x, min_y, max_x, max_y)
SELECT %s, 1, date_trunc('second', clock_timestamp()), coalesce(sum(row_count), 0), %s, %s, %s, %s
FROM {_SCHEMA}.address_sources
ON CONFLICT (layer) DO UPDATE SET version = s.version + 1, updated_at = excluded.updated_at,
  count = excluded.count, min_x = excluded.min_x, min_y = excluded.min_y,
  max_x = excluded.max_x, max_y = excluded.max_y
""".encode(),
            (ADDRESS_STATE_KEY, *(bbox or (None,) * 4)),
        )

    def _bump_surveys(self, conn: psycopg.Connection[Any]) -> None:
        conn.execute(
            f"INSERT INTO {_SCHEMA}.layer_state AS s (layer, version, updated_at, count) "
            "VALUES (%s, 1, date_trunc('second', clock_timestamp()), 0) "
            "ON CONFLICT (layer) DO UPDATE SET version = s.version + 1, updated_at = excluded.updated_at",
            (SURVEY_STATE_KEY,),
        )

    def _read_address_version(self, conn: psycopg.Connection[Any]) -> tuple[Any, Any] | None:
        row = conn.execute(
            f"SELECT version, updated_at FROM {_SCHEMA}.layer_state WHERE layer = %s", (ADDRESS_STATE_KEY,)
        ).fetchone()
        return None if row is None else (row[0], row[1])

    # -- space ----------------------------------------------------------------------------------

    def reclaim_space(self) -> Reclaimed | None:
        """VACUUM of the change log: the space of removed rows is reused by new ones. It is
        not given back to the system (that is VACUUM FULL, which locks the table, so every
        write, while it runs)."""
        size = f"SELECT pg_total_relation_size('{SCHEMA}.history')"
        with self._errors("compacting the change log (VACUUM)", wrote=True):
            conn = self._conn()  # autocommit: VACUUM cannot run inside a transaction
            before = int(conn.execute(size.encode()).fetchone()[0])
            conn.execute(f"VACUUM (ANALYZE) {_SCHEMA}.history".encode())
            after = int(conn.execute(size.encode()).fetchone()[0])
        return Reclaimed(
            f"{SCHEMA}.history",
            before,
            after,
            f"the space is reused by new entries; VACUUM FULL {SCHEMA}.history gives it back to the "
            "system but locks the table (and so every write) while it runs",
        )

    # -- schema ---------------------------------------------------------------------------------

    @contextmanager
    def _schema_transaction(self) -> Iterator[psycopg.Connection[Any]]:
        # Its own connection, closed at once: opening runs before gunicorn forks.
        conn = _connect(self.url)
        try:
            with conn.transaction():
                conn.execute("SELECT pg_advisory_xact_lock(%s)", (LOCK_KEY,))
                yield conn
        finally:
            conn.close()

    @staticmethod
    def _migrate(conn: psycopg.Connection[Any]) -> list[int]:
        """Apply the migrations not yet recorded; the caller holds the lock and a transaction."""
        conn.execute(f"CREATE SCHEMA IF NOT EXISTS {_SCHEMA}".encode())
        conn.execute(
            f"CREATE TABLE IF NOT EXISTS {_SCHEMA}.schema_migrations (version integer PRIMARY KEY, "
            "name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())".encode()
        )
        done = {row[0] for row in conn.execute(f"SELECT version FROM {_SCHEMA}.schema_migrations".encode())}
        applied = []
        for number, name, script in MIGRATIONS:
            if number in done:
                continue
            conn.execute(script.encode())
            conn.execute(
                f"INSERT INTO {_SCHEMA}.schema_migrations (version, name) VALUES (%s, %s)".encode(),
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

    def _create_layer_table(self, conn: psycopg.Connection[Any], layer: Layer) -> None:
        t = table_name(layer.id)
        columns = [
            "fid bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY",
            # Validation refuses invalid geometries before they reach a store; the database
            # refuses them too, so no other writer can store one.
            "geom geometry(Geometry, 4326) CHECK (geom IS NULL OR ST_IsValid(geom))",
        ]
        for name, fdef in layer.fields.items():
            extra = " NOT NULL UNIQUE" if name == "id" else ""
            columns.append(f"{quote(name)} {_sql_type(fdef)}{extra}")
        conn.execute(f"CREATE TABLE {self.table(layer.id)} ({', '.join(columns)})".encode())
        conn.execute(
            f"CREATE INDEX {quote(f'{t}_geom_gist')} ON {self.table(layer.id)} USING gist (geom)".encode()
        )
        conn.execute(f"COMMENT ON TABLE {self.table(layer.id)} IS {_literal(layer.title)}".encode())

    def _add_column(self, conn: psycopg.Connection[Any], layer: Layer, name: str) -> None:
        sql_type = _sql_type(layer.fields[name])
        conn.execute(f"ALTER TABLE {self.table(layer.id)} ADD COLUMN {quote(name)} {sql_type}".encode())


class _TextAsBytes(Loader):
    """A text value in binary format, loaded as its bytes: UTF-8, the client encoding every
    connection asks for (_connect), whatever the database's own."""

    format = psycopg.pq.Format.BINARY

    def load(self, data: Buffer) -> bytes:
        return bytes(data)


def _literal(text: str) -> str:
    """A SQL string literal (standard_conforming_strings is on in every supported version)."""
    return "'" + text.replace("'", "''") + "'"
