"""Where the shipped folders (layers/, geodata/, templates/) are.

In a built wheel they sit inside the package (``mapservice/layers`` …); in a source checkout
or an editable install they are the top-level folders beside the package.
"""

from __future__ import annotations

from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent


def resource_dir(name: str) -> Path:
    """The folder ``name`` from the installed package, else from the source checkout."""
    inside = PACKAGE_DIR / name
    if inside.is_dir():
        return inside
    return PACKAGE_DIR.parent / name
