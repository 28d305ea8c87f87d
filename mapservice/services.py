"""The app's shared objects in one typed place: settings, catalog, maps, store, caches, planner.

:func:`build_services` is the composition root. ``create_app`` puts its result into
``app.extensions["mapservice"]``; the command line uses it without Flask. Every derived value
that outlives a request (the finder's index, the geocoder chain, the planner's results) is kept
in a :class:`~mapservice.cache.VersionedCache`, keyed by the versions of the layers it was
computed from; the bounds of each map have an instance of their own, so that many maps
cannot evict the expensive values.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from .cache import ResponseCache, VersionedCache, data_versions
from .catalog.layers import Catalog, load_catalog
from .catalog.maps import MapCatalog, load_maps
from .config import ConfigError, Settings
from .finder.geocode.chain import Coverage, GeocoderSetup, build_chain, coverage, import_configured_files
from .finder.geocode.importer import ImportOptionError
from .finder.geocode.readers import GazetteerError
from .finder.hours import LAND_SUBDIVISIONS, LOOKAHEAD_DAYS, holiday_name
from .finder.locate import LocateIndex, index_from_store
from .planner.service import Planning, read_figures, read_sources, thresholds
from .store.base import Store
from .store.open import open_store
from .store.published import PublishedView

T = TypeVar("T")

# Settings that say where this instance keeps things, not what it answers: instances over one
# store with different folders must give the same ETags (a CDN or a client switching between
# them revalidates with either).
_LOCAL_SETTINGS = frozenset({"instance_path", "store", "response_cache_mb"})
LOCATE_INPUTS = ("municipalities", "districts", "contact-offices")
MAP_BOUNDS_ENTRIES = 4096


@dataclass
class Services:
    """Everything a request or a command needs besides its own input."""

    settings: Settings
    catalog: Catalog
    maps: MapCatalog
    store: Store  # everything: the CLI, imports, and API readers with a token
    public_store: Store  # what anonymous readers may see (unpublished features hidden)
    planning: Planning
    fingerprint: str  # changes with the catalog files and the settings that shape answers
    catalog_mtime: dt.datetime
    derived: VersionedCache = field(default_factory=VersionedCache)
    # One entry per map (a city with district maps has a hundred): kept apart, so that viewing
    # many maps never evicts the expensive values above (the finder's index, the rankings).
    map_bounds: VersionedCache = field(default_factory=lambda: VersionedCache(MAP_BOUNDS_ENTRIES))
    responses: ResponseCache = field(default_factory=lambda: ResponseCache(0))

    def cached(
        self,
        name: Hashable,
        layers: Iterable[str],
        compute: Callable[[], T],
        cache: VersionedCache | None = None,
    ) -> T:
        """``compute()`` once per version of the public ``layers`` it reads."""
        present = [lid for lid in layers if lid in self.catalog]
        chosen = self.derived if cache is None else cache
        return chosen.get(name, data_versions(self.public_store, present), compute)

    def locate_index(self) -> LocateIndex:
        """The finder's spatial index, rebuilt when a layer it reads changes."""
        return self.cached("locate", LOCATE_INPUTS, lambda: index_from_store(self.public_store))

    def geocoder(self) -> GeocoderSetup:
        """The gazetteer and the geocoder chain; the offices' addresses are in the gazetteer.

        Rebuilt when the offices change or address points are imported or removed (the
        address version is in the store, so every worker and instance sees a re-import).
        Building it reads nothing but the offices: the imported points stay in the store.
        """
        versions = (
            data_versions(self.public_store, ["contact-offices"]),
            self.public_store.address_state(),
        )
        return self.derived.get("geocoder", versions, lambda: build_chain(self.settings, self.public_store))

    def address_coverage(self) -> Coverage:
        """Which places and sources the address search covers (for the finder page)."""
        versions = (
            data_versions(self.public_store, ["contact-offices"]),
            self.public_store.address_state(),
        )
        return self.derived.get("address-coverage", versions, lambda: coverage(self.public_store))

    def expanded_maps(self) -> MapCatalog:
        """The configured maps plus one per district of the cities named in [district_maps]."""
        return self.cached(
            "maps",
            ("districts",),
            lambda: self.maps.with_districts(
                [f.properties for f in self.public_store.all_features("districts")]
            ),
        )

    def warm(self) -> None:
        """Build what the first finder request would build, before gunicorn forks: every
        worker then starts with the index, the gazetteer and this year's public holidays, and
        answers at once (they stay valid: each is keyed by the data versions it was built from)."""
        self.locate_index()
        self.geocoder()
        self.address_coverage()
        today = dt.date.today()
        # The hours look LOOKAHEAD_DAYS ahead: in December that is next year's holidays too.
        for land in (*LAND_SUBDIVISIONS, None):
            for day in (today, today + dt.timedelta(days=LOOKAHEAD_DAYS)):
                holiday_name(day, land)

    def close(self) -> None:
        self.store.close()


def build_services(settings: Settings, instance_path: Path) -> Services:
    """Catalog, maps and store (created on first start) for these settings.

    A broken catalog raises CatalogError naming file and key; a store that cannot be opened
    raises StoreError or ConfigError.
    """
    layers_path = settings.resolved_layers_path()
    catalog = load_catalog(layers_path)
    # Every public surface reads through the published view, which hides unpublished
    # sensitive features; only the CLI, imports and token holders read the store itself.
    store = open_store(settings, catalog, instance_path)
    try:
        # Files of the older setting are imported into the store once, so that workers share
        # them and start without reading them (see `mapservice gazetteer import`).
        import_configured_files(settings, store)
    except GazetteerError as exc:
        raise ConfigError(f"setting 'gazetteer_files': {exc}") from exc
    except ImportOptionError as exc:
        # The importer names its command-line options; here they came from the settings.
        text = str(exc).replace("--columns", "setting 'gazetteer_columns'")
        raise ConfigError(text.replace("--crs", "setting 'gazetteer_crs'")) from exc
    public = PublishedView(store, catalog)
    derived = VersionedCache()
    planning = Planning(
        public,
        catalog,
        thresholds(settings, catalog),
        read_figures(settings.resolved_geodata_path() / "programme_figures.csv"),
        derived,
        read_sources(settings.resolved_geodata_path() / "sources.csv"),
        budget_s=settings.planner_time_budget_s,
    )
    return Services(
        settings=settings,
        catalog=catalog,
        maps=load_maps(layers_path / "maps.toml", catalog),
        store=store,
        public_store=public,
        planning=planning,
        fingerprint=_fingerprint(layers_path, settings),
        catalog_mtime=_mtime(layers_path),
        derived=derived,
        responses=ResponseCache(settings.response_cache_mb << 20),
    )


def _fingerprint(layers_path: Path, settings: Settings) -> str:
    shaping = {
        f.name: getattr(settings, f.name)
        for f in dataclasses.fields(settings)
        if f.name not in _LOCAL_SETTINGS
    }
    digest = hashlib.sha256(repr(sorted(shaping.items())).encode())
    for path in sorted(layers_path.glob("*.toml")):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def _mtime(layers_path: Path) -> dt.datetime:
    newest = max((p.stat().st_mtime for p in layers_path.glob("*.toml")), default=0.0)
    return dt.datetime.fromtimestamp(int(newest), dt.UTC)
