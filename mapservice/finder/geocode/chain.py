"""The app's geocoder chain: the offline gazetteer first, a remote geocoder only if configured.

Built from the settings and the store alone (no web code), so the API, the finder and
``mapservice import`` resolve an address the same way.
"""

from __future__ import annotations

import glob
import json
from pathlib import Path
from typing import Any, Literal, cast

from ...config import Settings
from ...store.base import Store
from .adapters import GazetteerGeocoder, GeocoderChain, remote_geocoder
from .gazetteer import AddressPoint, Gazetteer
from .readers import load_csv, points_from_offices

# The gazetteer (for "did you mean" candidates) and the chain that answers a lookup.
GeocoderSetup = tuple[Gazetteer, GeocoderChain]


def _columns(spec: str) -> dict[str, str]:
    pairs = [p.split("=", 1) for p in spec.split(",") if p.strip()]
    return {k.strip(): v.strip() for k, v in pairs}


def address_files(settings: Settings) -> list[Path]:
    """The house-coordinate files named by ``gazetteer_files`` (globs, relative to geodata)."""
    base = settings.resolved_geodata_path()
    files: list[Path] = []
    for pattern in settings.gazetteer_files.split():
        full = pattern if Path(pattern).is_absolute() else str(base / pattern)
        files.extend(Path(p) for p in sorted(glob.glob(full)))
    return files


def build_chain(settings: Settings, store: Store) -> GeocoderSetup:
    """The gazetteer of the address files and the stored offices, and the chain over it."""
    points: list[AddressPoint] = []
    for path in address_files(settings):
        points.extend(
            load_csv(path, _columns(settings.gazetteer_columns), settings.gazetteer_crs, source=path.name)
        )
    offices = store.all_features("contact-offices")
    points.extend(
        points_from_offices(
            [
                {
                    "type": "Feature",
                    "id": f.id,
                    "properties": f.properties,
                    "geometry": None if f.geometry is None else json.loads(f.geometry),
                }
                for f in offices
            ]
        )
    )
    gazetteer = Gazetteer(points)
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
