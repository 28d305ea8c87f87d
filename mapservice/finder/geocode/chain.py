"""The geocoder chain of this app: offline gazetteer first, a remote one only if configured."""

from __future__ import annotations

import glob
import json
from pathlib import Path
from typing import Any

from flask import current_app
from geopy.exc import GeopyError

from ...http.context import store
from ...http.errors import ApiError
from ...store.base import Query
from .gazetteer import (
    AddressPoint,
    Gazetteer,
    GazetteerGeocoder,
    GeocoderChain,
    load_csv,
    points_from_offices,
    remote_geocoder,
)

ALL = 100_000


def _columns(spec: str) -> dict[str, str]:
    pairs = [p.split("=", 1) for p in spec.split(",") if p.strip()]
    return {k.strip(): v.strip() for k, v in pairs}


def _address_files() -> list[Path]:
    settings = current_app.config["SETTINGS"]
    base = settings.resolved_geodata_path()
    files: list[Path] = []
    for pattern in settings.gazetteer_files.split():
        full = pattern if Path(pattern).is_absolute() else str(base / pattern)
        files.extend(Path(p) for p in sorted(glob.glob(full)))
    return files


def build_chain() -> tuple[Gazetteer, GeocoderChain]:
    settings = current_app.config["SETTINGS"]
    points: list[AddressPoint] = []
    for path in _address_files():
        points.extend(
            load_csv(path, _columns(settings.gazetteer_columns), settings.gazetteer_crs, source=path.name)
        )
    offices = store().query("contact-offices", Query(limit=ALL)).features
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
                settings.geocoder_remote,
                settings.geocoder_url,
                settings.geocoder_user_agent,
                timeout=float(settings.geocoder_timeout),
                min_delay_seconds=settings.geocoder_min_delay_ms / 1000,
                cache_size=settings.geocoder_cache_size,
            )
        )
    return gazetteer, GeocoderChain(geocoders)


def chain() -> tuple[Gazetteer, GeocoderChain]:
    """Per worker, rebuilt when the offices change (their addresses are in the gazetteer)."""
    version = store().state("contact-offices").version
    cache: dict[str, Any] = current_app.extensions.setdefault("mapservice.geocoder", {})
    if cache.get("version") != version:
        cache["version"] = version
        cache["value"] = build_chain()
    value: tuple[Gazetteer, GeocoderChain] = cache["value"]
    return value


def _candidate(c: Any) -> dict[str, Any]:
    return {
        "address": c.point.address,
        "score": round(c.score),
        "precision": c.precision,
        "lon": round(c.point.lon, 6),
        "lat": round(c.point.lat, 6),
    }


def geocode(address: str) -> tuple[float, float, dict[str, Any]]:
    """(lon, lat, how it was found), or ApiError 404 with the closest candidates / 300."""
    gazetteer, geocoders = chain()
    try:
        found = geocoders.geocode(address, exactly_one=True)
    except GeopyError as exc:
        raise ApiError(
            503, "GeocoderUnavailable", f"The address could not be looked up right now: {exc}"
        ) from exc
    if found is None:
        closest = gazetteer.search(address, limit=5, min_score=0)
        raise ApiError(
            404,
            "AddressNotFound",
            f"No address matches '{address}'.",
            candidates=[_candidate(c) for c in closest],
        )
    raw = found.raw
    if raw.get("ambiguous"):
        raise ApiError(
            300,
            "Ambiguous",
            f"'{address}' matches several addresses; choose one.",
            candidates=[
                {k: c.get(k) for k in ("address", "score", "precision", "lon", "lat")}
                if isinstance(c, dict)
                else c
                for c in raw.get("candidates", [])
            ],
        )
    return (
        found.longitude,
        found.latitude,
        {
            "method": "address",
            "geocoder": raw.get("geocoder"),
            "address": found.address,
            "precision": raw.get("precision", "unknown"),
            "score": round(raw["score"]) if raw.get("score") is not None else None,
            "query": address,
        },
    )
