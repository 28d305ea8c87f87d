"""Reads a geodata folder (one ``<layer-id>.geojson`` per layer) and validates all of it."""

from __future__ import annotations

from pathlib import Path

from ..store.base import NewFeature
from .layers import Catalog
from .validation import DEFAULT_LIMITS, Limits, Problem, ValidationError, check_references, validate_file


def data_file(directory: Path, layer_id: str) -> Path:
    return directory / f"{layer_id}.geojson"


def load_geodata(
    catalog: Catalog, directory: Path, limits: Limits = DEFAULT_LIMITS
) -> dict[str, list[NewFeature]]:
    """Every layer's validated features; ValidationError lists every problem in every file."""
    problems: list[Problem] = []
    data: dict[str, list[NewFeature]] = {}
    files: dict[str, str] = {}
    for layer in catalog:
        path = data_file(directory, layer.id)
        files[layer.id] = str(path)
        try:
            data[layer.id] = validate_file(layer, path, limits)
        except ValidationError as exc:
            problems.extend(exc.problems)
    problems.extend(check_references(catalog, data, files))
    if problems:
        raise ValidationError(problems)
    return data
