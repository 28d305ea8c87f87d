"""Chooses and opens the store named by the settings; creates the embedded one on first start."""

from __future__ import annotations

import fcntl
from pathlib import Path

from ..catalog.geodata import data_file, load_geodata
from ..catalog.layers import Catalog
from ..catalog.validation import Limits, ValidationError, check_references
from ..config import ConfigError, Settings
from . import gpkg_file
from .base import NewFeature, Store, StoreUnavailable
from .geopackage import GeoPackageStore
from .sql import NewLayersLoader, SqlStore


def store_location(settings: Settings, instance_path: Path) -> str:
    return settings.store or str(instance_path / "mapservice.gpkg")


def open_store(settings: Settings, catalog: Catalog, instance_path: Path) -> Store:
    """Open the configured store; a GeoPackage never made yet is built from the geodata folder.

    A GeoPackage that was made here before and is gone, or that is damaged, is refused with
    StoreUnavailable (one line: what is wrong, how to restore), never silently rebuilt.

    A ``postgresql://`` URL opens the PostGIS store; layers without a table there are created
    and filled from the geodata folder, like the layers a GeoPackage gains in an upgrade.
    """
    location = store_location(settings, instance_path)
    if "://" in location:
        scheme = location.split("://", 1)[0]
        if scheme in ("postgresql", "postgres"):
            return _open_postgis(location, settings, catalog)
        raise ConfigError(
            f"setting 'store': backend '{scheme}://' is not available; use a "
            "GeoPackage path (*.gpkg), a postgresql:// URL or leave it empty"
        )
    path = Path(location)
    if path.suffix.lower() != ".gpkg":
        raise ConfigError(f"setting 'store': '{location}' is not a GeoPackage path (*.gpkg)")
    path.parent.mkdir(parents=True, exist_ok=True)
    # Several gunicorn workers may start at once: one builds the file, the others wait for it.
    with open(path.with_name(path.name + ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not path.exists():
            gpkg_file.refuse_if_lost(path)  # a lost store is not a first start
            data = load_geodata(catalog, settings.resolved_geodata_path(), Limits.of(settings))
            created = GeoPackageStore.create(path, catalog, data)
            gpkg_file.mark_created(path)
            return created
        # The cheap look (header and tables); `serve` and `check` also read every page.
        gpkg_file.check_file(path, quick_check=False)
        gpkg_file.mark_created(path)  # a file made before the marker existed gets one now
        store = GeoPackageStore(path, catalog)
        store.upgrade(_loader(settings, catalog))
        store.close()  # opened before the server forks its workers: leave nothing open
        return store


def _open_postgis(url: str, settings: Settings, catalog: Catalog) -> Store:
    from .postgis import PostGISStore  # psycopg is only loaded when PostGIS is configured

    return PostGISStore.open(url, catalog, _loader(settings, catalog))


def _loader(settings: Settings, catalog: Catalog) -> NewLayersLoader:
    """The one upgrade path of both backends: a layer the catalog gained since the store was
    made starts from the shipped data, a new field starts empty; nothing stored is touched."""

    def load(store: SqlStore, missing_tables: list[str]) -> dict[str, list[NewFeature]]:
        return _new_layers(store, settings, catalog, missing_tables)

    return load


def _new_layers(
    store: Store, settings: Settings, catalog: Catalog, missing_tables: list[str]
) -> dict[str, list[NewFeature]]:
    """The shipped data of the layers the store has no table for, checked against the rest."""
    directory = settings.resolved_geodata_path()
    added = Catalog({lid: catalog[lid] for lid in missing_tables})
    data = load_geodata(added, directory, Limits.of(settings))
    new_layers = {lid: data[lid] for lid in missing_tables}
    _check_references_to_stored(store, catalog, added, new_layers, directory)
    return new_layers


def _check_references_to_stored(
    store: Store,
    catalog: Catalog,
    added: Catalog,
    new_layers: dict[str, list[NewFeature]],
    directory: Path,
) -> None:
    """The new layers' references to layers already stored must name stored features.

    ``load_geodata`` only sees the new layers' files, so it cannot check a reference to a layer
    that is already in the store (and whose stored features may differ from the shipped file).
    """
    targets = {
        target
        for layer in added
        for fdef in layer.fields.values()
        for target in (fdef.references, fdef.items.references if fdef.items else None)
        if target is not None and target not in new_layers and target in catalog
    }
    stored: dict[str, list[NewFeature]] = {
        target: [({"id": fid}, None) for fid in sorted(store.feature_ids(target))] for target in targets
    }
    problems = check_references(
        added, {**stored, **new_layers}, {lid: str(data_file(directory, lid)) for lid in new_layers}
    )
    if problems:
        raise ValidationError(problems)


# The fixed tables of the PostGIS schema (migrations 1 to 3); layer tables follow the catalog.
_POSTGIS_TABLES = ("schema_migrations", "layer_state", "history", "tokens")


def check_postgis(url: str) -> str:
    """One line on the PostGIS store: the schema and its fixed tables exist (or not yet).

    Raises StoreUnavailable naming what is missing and how to restore (pg_restore).
    """
    import psycopg
    from psycopg.conninfo import conninfo_to_dict

    from .postgis import SCHEMA

    info = conninfo_to_dict(url)
    name = f"PostGIS database {info.get('dbname', '?')} on {info.get('host', 'localhost')}"  # no password
    try:
        with psycopg.connect(url, connect_timeout=10) as conn:
            rows = conn.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = %s", (SCHEMA,)
            ).fetchall()
    except psycopg.Error as exc:
        reason = " ".join(str(exc).split())
        raise StoreUnavailable(f"store {name} cannot be reached ({reason})") from None
    tables = {str(row[0]) for row in rows}
    if not tables:
        return f"store {name}: schema {SCHEMA} not made yet; the first start builds it from the data"
    missing = [t for t in _POSTGIS_TABLES if t not in tables]
    if missing:
        raise StoreUnavailable(
            f"store {name}: schema {SCHEMA} is damaged (no table {', '.join(missing)}); restore a "
            "pg_dump backup with `pg_restore --clean --if-exists` (see README, Backup and restore)"
        )
    return f"store {name}: OK (schema {SCHEMA}, {len(tables)} tables)"
