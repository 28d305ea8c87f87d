"""Named maps from ``layers/maps.toml``: which layers, scoped how, opening on which area."""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from .layers import Catalog, CatalogError

DERIVED_LAYERS = {"prevention-coverage": frozenset({"land", "ags"})}
MAP_KEYS = frozenset({"title", "title_en", "description", "description_en", "focus", "layers", "filters"})


@dataclass(frozen=True)
class Focus:
    collection: str
    id: str | None = None
    filter: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class MapDef:
    id: str
    title: str
    title_en: str
    description: str
    description_en: str
    focus: Focus
    layers: tuple[str, ...]
    filters: Mapping[str, Mapping[str, str]]
    district: str | None = None  # set on the per-district maps
    base: str | None = None


@dataclass(frozen=True)
class DistrictMaps:
    key: str
    base: str
    city: str


@dataclass(frozen=True)
class MapCatalog:
    maps: Mapping[str, MapDef]
    district_rules: tuple[DistrictMaps, ...]

    def with_districts(self, districts: Iterable[Mapping[str, Any]]) -> MapCatalog:
        """Add one map per district of each city named in ``[district_maps]``."""
        from ..store.sql import sort_key_de  # the store's German order (DIN 5007-1)

        def title(rule: DistrictMaps, district: Mapping[str, Any]) -> str:
            name = str(district["name"])
            return name if name.startswith(rule.city) else f"{rule.city}-{name}"

        maps = dict(self.maps)
        for rule in self.district_rules:
            base = self.maps[rule.base]
            # In the order of the titles the lists show. Sorted by the district names, the
            # home page listed "Jena-Isserstedt, Jena-Nord, …, Jenaprießnitz/Wogau,
            # Jena-Kernberge": a name without the city's prefix sorted by its own first letter.
            ordered = sorted(
                (d for d in districts if d.get("city") == rule.city),
                key=lambda d: sort_key_de(title(rule, d)),
            )
            for district in ordered:
                name = str(district["name"])
                maps[str(district["id"])] = replace(
                    base,
                    id=str(district["id"]),
                    title=title(rule, district),
                    title_en=title(rule, district),
                    description=f"{base.description} Ausschnitt: Ortsteil {name}.",
                    description_en=f"{base.description_en} Shown: the district {name}.",
                    focus=Focus("districts", str(district["id"])),
                    district=str(district["id"]),
                    base=base.id,
                )
        return MapCatalog(maps, self.district_rules)


def _str(table: Mapping[str, Any], key: str, path: Path, prefix: str) -> str:
    value = table.get(key)
    if not isinstance(value, str) or not value:
        raise CatalogError(path, f"{prefix}{key}", "missing or not a text")
    return value


def _layer_params(catalog: Catalog, layer: str) -> frozenset[str]:
    if layer in DERIVED_LAYERS:
        return DERIVED_LAYERS[layer]
    return frozenset(n for n, f in catalog[layer].fields.items() if f.filterable)


def _parse_map(map_id: str, raw: Any, catalog: Catalog, path: Path) -> MapDef:
    prefix = f"maps.{map_id}."
    if not isinstance(raw, dict):
        raise CatalogError(path, prefix.rstrip("."), "must be a table")
    unknown = sorted(set(raw) - MAP_KEYS)
    if unknown:
        raise CatalogError(path, prefix + unknown[0], "unknown key")
    layers = raw.get("layers")
    if not isinstance(layers, list) or not layers:
        raise CatalogError(path, prefix + "layers", "must be a non-empty list")
    for layer in layers:
        if layer not in catalog and layer not in DERIVED_LAYERS:
            raise CatalogError(path, prefix + "layers", f"unknown layer '{layer}'")
    filters = raw.get("filters", {})
    if not isinstance(filters, dict):
        raise CatalogError(path, prefix + "filters", "must be a table")
    for layer, params in filters.items():
        if layer not in layers:
            raise CatalogError(path, f"{prefix}filters.{layer}", "filters a layer the map lacks")
        if not isinstance(params, dict):
            raise CatalogError(path, f"{prefix}filters.{layer}", "must be a table")
        allowed = _layer_params(catalog, layer)
        for name, value in params.items():
            if name not in allowed or not isinstance(value, str):
                raise CatalogError(
                    path,
                    f"{prefix}filters.{layer}.{name}",
                    f"not a text filter of {layer} (allowed: {', '.join(sorted(allowed))})",
                )
    focus_raw = raw.get("focus")
    if not isinstance(focus_raw, dict) or focus_raw.get("collection") not in catalog:
        raise CatalogError(path, prefix + "focus", "needs collection = an existing collection")
    focus = Focus(focus_raw["collection"], focus_raw.get("id"), focus_raw.get("filter") or {})
    if focus.id is None and not focus.filter:
        raise CatalogError(path, prefix + "focus", "needs an id or a filter")
    return MapDef(
        id=map_id,
        title=_str(raw, "title", path, prefix),
        title_en=_str(raw, "title_en", path, prefix),
        description=_str(raw, "description", path, prefix),
        description_en=_str(raw, "description_en", path, prefix),
        focus=focus,
        layers=tuple(layers),
        filters={k: dict(v) for k, v in filters.items()},
    )


def load_maps(path: Path, catalog: Catalog) -> MapCatalog:
    """Read ``maps.toml``; a broken file raises CatalogError naming the file and the key."""
    try:
        with path.open("rb") as fh:
            raw = tomllib.load(fh)
    except OSError as exc:
        raise CatalogError(path, "(file)", f"cannot be read: {exc}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise CatalogError(path, "(syntax)", f"not valid TOML: {exc}") from exc
    unknown = sorted(set(raw) - {"maps", "district_maps"})
    if unknown:
        raise CatalogError(path, unknown[0], "unknown key")
    maps = {map_id: _parse_map(map_id, table, catalog, path) for map_id, table in raw.get("maps", {}).items()}
    rules = []
    for key, table in raw.get("district_maps", {}).items():
        base = table.get("base") if isinstance(table, dict) else None
        if base not in maps:
            raise CatalogError(path, f"district_maps.{key}.base", f"'{base}' is not a map")
        rules.append(DistrictMaps(key, str(base), _str(table, "city", path, f"district_maps.{key}.")))
    return MapCatalog(maps, tuple(rules))
