"""The app's geocoder chain: the offline gazetteer first, a remote geocoder only if configured.

Built from the settings and the store alone (no web code), so the API, the finder and
``mapservice import`` resolve an address the same way. The gazetteer holds the offices' own
addresses in memory and reads the imported address points from the store.
"""

from __future__ import annotations

import glob
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, cast

from ...config import Settings
from ...store.base import AddressSource, Store
from .adapters import GazetteerGeocoder, GeocoderChain, remote_geocoder
from .gazetteer import AddressPoint, Gazetteer
from .readers import points_from_offices

# The gazetteer (for "did you mean" candidates) and the chain that answers a lookup.
GeocoderSetup = tuple[Gazetteer, GeocoderChain]
OFFICES_SOURCE = "contact-offices"


def address_files(settings: Settings) -> list[Path]:
    """The house-coordinate files named by ``gazetteer_files`` (globs, relative to geodata)."""
    base = settings.resolved_geodata_path()
    files: list[Path] = []
    for pattern in settings.gazetteer_files.split():
        full = pattern if Path(pattern).is_absolute() else str(base / pattern)
        files.extend(Path(p) for p in sorted(glob.glob(full)))
    return files


def import_configured_files(settings: Settings, store: Store) -> list[AddressSource]:
    """Import the files of ``gazetteer_files`` that the store has no source for yet.

    The setting is kept for existing configurations: each file becomes a source named after
    the file, imported once (on the first start that sees it); a later change of the file
    needs ``mapservice gazetteer import`` (which replaces the source), so starting a worker
    never re-reads a million rows. Raises GazetteerError for a bad file (nothing written).
    """
    from .importer import detect_format, import_file, parse_columns

    files = address_files(settings)
    if not files:
        return []
    have = {s.name for s in store.address_sources()}
    imported = []
    for path in files:
        if path.name in have:
            continue
        fmt = detect_format(path)
        source, _ = import_file(
            store,
            path,
            fmt,
            path.name,
            columns=parse_columns(settings.gazetteer_columns) if fmt == "csv" else None,
            crs=settings.gazetteer_crs if fmt == "csv" else None,
        )
        imported.append(source)
    return imported


def office_points(store: Store) -> list[AddressPoint]:
    """The stored offices' own addresses (those with a house-level or street-level point)."""
    return points_from_offices(
        [
            {
                "type": "Feature",
                "id": f.id,
                "properties": f.properties,
                "geometry": None if f.geometry is None else json.loads(f.geometry),
            }
            for f in store.all_features("contact-offices")
        ],
        source=OFFICES_SOURCE,
    )


def build_chain(settings: Settings, store: Store) -> GeocoderSetup:
    """The gazetteer of the stored address points and the offices, and the chain over it."""
    gazetteer = Gazetteer(office_points(store), store=store)
    geocoders: list[Any] = [GazetteerGeocoder(gazetteer)]
    if settings.geocoder_remote:
        geocoders.append(
            remote_geocoder(
                # load_settings allows only these two names (or none)
                cast(Literal["nominatim", "photon"], settings.geocoder_remote),
                settings.geocoder_url,
                settings.geocoder_user_agent,
                timeout=float(settings.geocoder_timeout),
                min_delay_seconds=settings.geocoder_min_delay_ms / 1000,
                cache_size=settings.geocoder_cache_size,
            )
        )
    return gazetteer, GeocoderChain(geocoders)


@dataclass(frozen=True)
class Coverage:
    """What the finder's address search knows, for the page to say so.

    ``places``: (place, address points) over every source, most first; ``sources``: the
    imported sources; ``offices``: how many office addresses are in the gazetteer.
    """

    places: Sequence[tuple[str, int]]
    sources: Sequence[AddressSource]
    offices: int
    office_places: Sequence[str]


def coverage(store: Store) -> Coverage:
    sources = store.address_sources()
    counts: dict[str, int] = {}
    for source in sources:
        for place, n in source.places:
            counts[place] = counts.get(place, 0) + n
    offices = office_points(store)
    return Coverage(
        places=sorted(counts.items(), key=lambda item: (-item[1], item[0])),
        sources=sources,
        offices=len(offices),
        office_places=sorted({p.place for p in offices if p.place}),
    )
