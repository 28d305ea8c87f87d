"""What the finder's map needs besides the answer: symbols, orientation outlines, opening view."""

from __future__ import annotations

from typing import Any

import shapely

from ..maps.symbols import context_options, symbols_config
from .locate import LocateIndex


def covered_bounds(index: LocateIndex) -> list[list[float]] | None:
    """[[south, west], [north, east]] of the covered municipalities: where the picking map opens,
    so a citizen of any covered town sees their town (not always the first one)."""
    if not index.covered:
        return None
    minx, miny, maxx, maxy = shapely.total_bounds([m.geometry for m in index.covered])
    return [[round(float(miny), 5), round(float(minx), 5)], [round(float(maxy), 5), round(float(maxx), 5)]]


def finder_map(index: LocateIndex, api_base: str) -> dict[str, Any]:
    """The configuration ``static/js/finder.js`` reads from the page (as JSON text)."""
    return {
        "symbols": symbols_config(),
        "context": context_options(api_base, {"municipalities": "all", "districts": "all"}),
        "bounds": covered_bounds(index),
    }
