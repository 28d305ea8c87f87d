"""Heavy modules imported on first use, by one thread at a time.

Folium and geopandas take a second or two to import, so the service imports them when first
needed, and ``mapservice serve`` does so in a background thread of each new worker. A request
may need one of them while that thread (or another request) is still importing it. Python's
import locks are per module: two threads importing overlapping module trees in a different
order can meet in a cycle, and then one of them is handed a partly initialised module
("partially initialized module ... has no attribute"). Importing them through :func:`load`,
under one lock, rules that out; a module is returned only once its import has finished.
"""

from __future__ import annotations

import importlib
import threading
from types import ModuleType

IMPORT_LOCK = threading.RLock()
_loaded: dict[str, ModuleType] = {}


def load(name: str) -> ModuleType:
    """The module ``name``, imported once, completely, under IMPORT_LOCK."""
    module = _loaded.get(name)
    if module is not None:
        return module
    with IMPORT_LOCK:
        module = _loaded.get(name)
        if module is None:
            module = importlib.import_module(name)
            _loaded[name] = module
        return module
