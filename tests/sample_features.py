"""Test features of the new tests, one shape each: every one is invented test data
(``source`` says "Testdaten"), built here so that a catalog change is mended in one place."""

from __future__ import annotations

from typing import Any

import shapely

from mapservice.store.base import Edit

JENA_POINT = [11.5893, 50.9276]


def camera(
    fid: str, name: str = "Testkamera", coordinates: list[float] | None = None, **props: Any
) -> dict[str, Any]:
    """A published-ready public camera in Jena (``video-surveillance``)."""
    return {
        "type": "Feature",
        "id": fid,
        "geometry": {"type": "Point", "coordinates": coordinates or JENA_POINT},
        "properties": {
            "name": name,
            "city": "Jena",
            "surveillance": "public",
            "surveillance_type": "camera",
            "status": "active",
            "source": "Testdaten",
            "verified_on": "2026-11-01",
            **props,
        },
    }


def camera_edit(fid: str, name: str) -> Edit:
    """A store write creating :func:`camera`, published, for tests that write past the API."""
    feature = camera(fid, name, publication="published")
    return Edit("create", fid, {**feature["properties"], "id": fid}, shapely.Point(JENA_POINT))


def zone_properties(**props: Any) -> dict[str, Any]:
    """The properties of a legal graffiti zone in Jena (``graffiti-zones``)."""
    return {
        "name": "Testfläche",
        "city": "Jena",
        "status": "active",
        "legal_status": "legal",
        "source": "Testdaten",
        "verified_on": "2026-11-01",
        **props,
    }
