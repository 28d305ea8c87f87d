"""Settings: defaults < TOML file (``MAPSERVICE_CONFIG``) < ``MAPSERVICE_*`` environment < code.

Every setting is declared once below with its default and help text; ``mapservice settings``
prints them and a test checks that the README documents each one.
"""

from __future__ import annotations

import dataclasses
import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from .resources import resource_dir


class ConfigError(Exception):
    """A setting is unknown or has a value of the wrong kind; the message says which and where."""


def _setting(default: Any, help: str) -> Any:
    return field(default=default, metadata={"help": help})


@dataclass(frozen=True)
class Settings:
    instance_path: str = _setting(
        "",
        "Folder for the embedded store and runtime files. Empty: Flask's instance folder "
        "(./instance in a source checkout, <venv>/var/mapservice-instance when installed).",
    )
    store: str = _setting(
        "",
        "Where features live. Empty: the GeoPackage <instance_path>/mapservice.gpkg; "
        "a path ending in .gpkg: that GeoPackage; a postgresql://user:password@host/db URL: "
        "that PostGIS database (schema 'mapservice', created and filled from geodata_path "
        "on first start).",
    )
    layers_path: str = _setting("", "Folder of the layer catalog (*.toml). Empty: the shipped one.")
    geodata_path: str = _setting(
        "", "Folder of the data a new store is created from. Empty: the shipped geodata/."
    )
    default_limit: int = _setting(100, "Features per page when a request gives no limit.")
    max_limit: int = _setting(10000, "Largest limit a request may ask for.")
    max_vertices: int = _setting(
        20000,
        "Most vertices (positions) one feature's geometry may have; more is refused by the "
        "write API (400), imports and the data check. The largest shipped geometry has 1,400.",
    )
    max_nesting: int = _setting(
        64,
        "Most levels of nested JSON objects and lists in one feature, counting the feature "
        "itself (a MultiPolygon feature has 6, a GeometryCollection two more per level).",
    )
    max_text_length: int = _setting(
        20000, "Most characters of one text value (a name, a note, an item of a list)."
    )
    max_features_per_write: int = _setting(
        100000,
        "Most features one write may bring: an import file, or a data file. The write API "
        "takes one feature per request.",
    )
    cache_max_age: int = _setting(
        60, "Seconds clients and CDNs may reuse a GET response (Cache-Control max-age)."
    )
    gzip_level: int = _setting(
        5,
        "gzip level 1-9 for compressed responses (zlib's scale; ISA-L writes 1-3, 4-6, 7-9 as its 1, 2, 3).",
    )
    gzip_min_size: int = _setting(1024, "Responses smaller than this many bytes are not gzipped.")
    response_cache_mb: int = _setting(
        64, "Megabytes of finished responses each worker keeps (keyed by ETag, so never stale)."
    )
    tile_url: str = _setting(
        "",
        "Basemap tile URL template, e.g. https://tile.openstreetmap.org/{z}/{x}/{y}.png. "
        "Empty: no basemap, and map pages request nothing from any other host.",
    )
    tile_attribution: str = _setting("", "Attribution shown for the basemap (required when tile_url is set).")
    tile_max_zoom: int = _setting(19, "Highest zoom level of the basemap.")
    basemap_pmtiles: str = _setting(
        "",
        "Path of a vector-tile archive (PMTiles v3, Protomaps basemap schema, e.g. an extract "
        "of Thuringia) that the service serves itself at /basemap/basemap.pmtiles and draws "
        "under every map; a relative path is taken from the working directory. Empty: no "
        "own basemap. Not together with tile_url.",
    )
    basemap_attribution: str = _setting(
        "",
        "Attribution shown for the own basemap, as plain text. Empty: '© OpenStreetMap-"
        "Mitwirkende (ODbL)' / '© OpenStreetMap contributors (ODbL)' in the page's language, "
        "linked to https://www.openstreetmap.org/copyright.",
    )
    basemap_flavor: str = _setting(
        "light", "Colour theme of the own basemap: light, dark, white, grayscale or black."
    )
    basemap_max_age: int = _setting(
        86400,
        "Seconds browsers and proxies may reuse the basemap archive's bytes (Cache-Control "
        "max-age); a replaced file is noticed by its ETag.",
    )
    embed_allowed_origins: str = _setting(
        "",
        "Space-separated origins (https://www.jena.de) whose pages may embed /embed/ maps "
        "in an iframe (Content-Security-Policy frame-ancestors). Empty: only this service.",
    )
    gazetteer_files: str = _setting(
        "",
        "Address-point CSV files for the offline geocoder (paths or globs, space-separated, "
        "relative to geodata_path); the offices' own addresses are always included.",
    )
    gazetteer_columns: str = _setting(
        "street=street,housenumber=housenumber,postcode=postcode,place=place,x=x,y=y",
        "Column names of the gazetteer CSV files: role=column pairs, comma-separated.",
    )
    gazetteer_crs: str = _setting(
        "EPSG:4326", "CRS of the x/y columns of the gazetteer CSV files (e.g. EPSG:25832)."
    )
    geocoder_remote: str = _setting(
        "",
        "Remote geocoder after the offline one: nominatim or photon. Empty: none, so no "
        "address ever leaves the service.",
    )
    geocoder_url: str = _setting("", "Base URL of the remote geocoder (your own instance).")
    geocoder_user_agent: str = _setting("district-safety-map", "User-Agent sent to the remote geocoder.")
    geocoder_timeout: int = _setting(5, "Seconds to wait for the remote geocoder.")
    geocoder_min_delay_ms: int = _setting(
        1000, "Least time between two requests to the remote geocoder (rate limit)."
    )
    geocoder_cache_size: int = _setting(1000, "Remote geocoder answers kept in memory.")
    nearest_radius_km: int = _setting(
        25,
        "The finder lists as nearest only offices within this straight-line distance in km "
        "(1-500); with none within it, it says so instead of naming far offices.",
    )
    nearest_scope: str = _setting(
        "radius",
        "Which offices the finder may list as nearest: radius (any office within "
        "nearest_radius_km; prevention offices and citizens' consultations only of the "
        "citizen's own municipality) or municipality (only offices of the citizen's own "
        "municipality, within the radius too).",
    )
    proxy_hops: int = _setting(
        0,
        "Number of trusted reverse proxies in front of the service whose X-Forwarded-* "
        "headers set the scheme and host of generated links (0: trust none).",
    )
    planner_grid_m: int = _setting(
        100,
        "Cell size in metres of the grid of points over which the planner measures the "
        "distance from a district's residents to the nearest office (10-1000).",
    )
    planner_walk_m: int = _setting(
        1000,
        "Walking distance in metres: the planner flags districts whose mean distance to "
        "the nearest office is longer, and measures the area share within it.",
    )
    planner_walk_share_min_pct: int = _setting(
        50, "Percent of a district's area that should lie within walking distance of an office."
    )
    planner_residents_per_officer: int = _setting(
        10000, "Most residents one contact officer should serve (used where population is known)."
    )
    planner_households_per_officer: int = _setting(
        5000,
        "Most households one contact officer should serve, where only households are "
        "known (about 10,000 residents at two persons per household).",
    )
    planner_body_min_population: int = _setting(
        10000, "Municipalities with at least this population should have a prevention body."
    )
    planner_office_kinds: str = _setting(
        "contact_officer_office contact_officer police_station",
        "Space-separated kinds of contact-offices that count as an office for the planner's "
        "distances (see the kind values of layers/contact-offices.toml).",
    )
    planner_time_budget_s: int = _setting(
        10,
        "Most seconds one planner or coverage computation (a city's districts, a Land's "
        "municipalities) may take; over it the answer is a 503, kept until the data changes.",
    )
    history_keep_days: int = _setting(
        0,
        "Days the change history keeps an entry: after every `mapservice import` older entries "
        "are removed (never a feature), and `mapservice history prune` without --before/--keep "
        "uses it; 0 keeps every entry.",
    )

    def resolved_layers_path(self) -> Path:
        return Path(self.layers_path) if self.layers_path else resource_dir("layers")

    def resolved_geodata_path(self) -> Path:
        return Path(self.geodata_path) if self.geodata_path else resource_dir("geodata")

    def resolved_basemap_path(self) -> Path | None:
        """The basemap archive as an absolute path (relative ones from the working directory)."""
        return Path(self.basemap_pmtiles).resolve() if self.basemap_pmtiles else None


def setting_help() -> list[tuple[str, Any, str]]:
    """(name, default, help) for every setting, in declaration order."""
    return [(f.name, f.default, f.metadata["help"]) for f in fields(Settings)]


def _coerce(name: str, value: Any, target: type | str, where: str) -> Any:
    kind = {"int": int, "str": str}.get(target, target) if isinstance(target, str) else target
    if kind is int:
        if isinstance(value, bool):
            raise ConfigError(f"{where}: setting '{name}' must be a whole number, got {value!r}")
        if isinstance(value, int):
            return value
        if isinstance(value, str):
            try:
                return int(value.strip())
            except ValueError:
                pass
        raise ConfigError(f"{where}: setting '{name}' must be a whole number, got {value!r}")
    if not isinstance(value, str):
        raise ConfigError(f"{where}: setting '{name}' must be a text, got {value!r}")
    return value


BASEMAP_FLAVORS = ("light", "dark", "white", "grayscale", "black")  # protomaps-leaflet's themes


def _pmtiles_problem(path: Path) -> str | None:
    """Why the file cannot be the basemap, or None.

    Only what the browser's reader needs is checked here (PMTiles spec v3: a 127-byte header,
    magic at 0, version at 7, compressions at 97-98, tile type at 99); maps/basemap.py reads the
    rest. Settings validation imports nothing above this module, hence the few offsets here.
    """
    try:
        with path.open("rb") as fh:
            head = fh.read(127)
    except FileNotFoundError:
        return "no such file"
    except IsADirectoryError:
        return "a folder, not a file"
    except OSError as exc:
        return f"cannot be read: {exc.strerror or exc}"
    if head[:7] != b"PMTiles":
        return "not a PMTiles archive (it does not start with 'PMTiles')"
    if len(head) < 127:
        return f"cut short: {len(head)} bytes, less than the 127-byte PMTiles header"
    if head[7] != 3:
        return f"PMTiles version {head[7]}; only version 3 is supported (see `pmtiles convert`)"
    if head[99] != 1:
        kinds = {
            0: "tiles of unknown type",
            2: "PNG tiles",
            3: "JPEG tiles",
            4: "WebP tiles",
            5: "AVIF tiles",
        }
        kind = kinds.get(head[99], f"tiles of type {head[99]}")
        return f"{kind}; the basemap must hold vector tiles (MVT)"
    for offset, what in ((97, "directories"), (98, "tiles")):
        if head[offset] not in (0, 1, 2):  # unknown/none/gzip: what browsers can unpack
            return f"its {what} are compressed with a method browsers cannot unpack (only gzip or none)"
    return None


def _validate_basemap(settings: Settings) -> None:
    if settings.basemap_flavor not in BASEMAP_FLAVORS:
        raise ConfigError(
            f"setting 'basemap_flavor' must be one of {', '.join(BASEMAP_FLAVORS)}, "
            f"got {settings.basemap_flavor!r}"
        )
    if settings.basemap_max_age < 0:
        raise ConfigError("setting 'basemap_max_age' must not be negative")
    if not settings.basemap_pmtiles:
        return
    if settings.tile_url:
        raise ConfigError(
            "settings 'basemap_pmtiles' and 'tile_url' are both set: choose the own basemap "
            "or an external tile server, not both"
        )
    path = settings.resolved_basemap_path()
    assert path is not None
    problem = _pmtiles_problem(path)
    if problem:
        raise ConfigError(f"setting 'basemap_pmtiles': {path}: {problem}")


def _validate(settings: Settings) -> None:
    if not 1 <= settings.default_limit <= settings.max_limit:
        raise ConfigError(
            f"setting 'default_limit' ({settings.default_limit}) must be between 1 and "
            f"max_limit ({settings.max_limit})"
        )
    if settings.tile_url and not settings.tile_attribution:
        raise ConfigError("setting 'tile_attribution' is required when 'tile_url' is set")
    if settings.tile_url and not settings.tile_url.startswith(("https://", "http://", "/")):
        raise ConfigError(f"setting 'tile_url' must be an http(s) URL or a path, got {settings.tile_url!r}")
    _validate_basemap(settings)
    for origin in settings.embed_allowed_origins.split():
        if not re.match(r"^https?://[A-Za-z0-9.-]+(:\d+)?$", origin):
            raise ConfigError(
                f"setting 'embed_allowed_origins': '{origin}' is not an origin like https://www.example.de"
            )
    if settings.geocoder_remote not in ("", "nominatim", "photon"):
        raise ConfigError(
            f"setting 'geocoder_remote' must be nominatim, photon or empty, got {settings.geocoder_remote!r}"
        )
    if settings.geocoder_remote and not settings.geocoder_url.startswith(("https://", "http://")):
        raise ConfigError("setting 'geocoder_url' must be an http(s) URL when 'geocoder_remote' is set")
    if not 1 <= settings.gzip_level <= 9:
        raise ConfigError(f"setting 'gzip_level' must be 1..9, got {settings.gzip_level}")
    if not 10 <= settings.planner_grid_m <= 1000:
        raise ConfigError(f"setting 'planner_grid_m' must be 10..1000, got {settings.planner_grid_m}")
    if not 0 <= settings.planner_walk_share_min_pct <= 100:
        raise ConfigError(
            f"setting 'planner_walk_share_min_pct' must be 0..100, got {settings.planner_walk_share_min_pct}"
        )
    for name in (
        "planner_walk_m",
        "planner_residents_per_officer",
        "planner_households_per_officer",
        "planner_body_min_population",
        "planner_time_budget_s",
    ):
        if getattr(settings, name) < 1:
            raise ConfigError(f"setting '{name}' must be at least 1, got {getattr(settings, name)}")
    if not 1 <= settings.nearest_radius_km <= 500:
        raise ConfigError(f"setting 'nearest_radius_km' must be 1..500, got {settings.nearest_radius_km}")
    if settings.nearest_scope not in ("radius", "municipality"):
        raise ConfigError(
            f"setting 'nearest_scope' must be radius or municipality, got {settings.nearest_scope!r}"
        )
    if not settings.planner_office_kinds.split():
        raise ConfigError("setting 'planner_office_kinds' must name at least one kind")
    for name in ("max_vertices", "max_nesting", "max_text_length", "max_features_per_write"):
        if getattr(settings, name) < 1:
            raise ConfigError(f"setting '{name}' must be at least 1, got {getattr(settings, name)}")
    for name in ("cache_max_age", "gzip_min_size", "proxy_hops", "response_cache_mb", "history_keep_days"):
        if getattr(settings, name) < 0:
            raise ConfigError(f"setting '{name}' must not be negative")


def load_settings(
    overrides: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
) -> Settings:
    """Build the settings from every layer, the later winning; raise ConfigError when wrong."""
    env = os.environ if environ is None else environ
    types = {f.name: f.type for f in fields(Settings)}
    values: dict[str, Any] = {}

    config_file = env.get("MAPSERVICE_CONFIG")
    if config_file:
        path = Path(config_file)
        try:
            with path.open("rb") as fh:
                raw = tomllib.load(fh)
        except OSError as exc:
            raise ConfigError(f"{path}: cannot read the settings file: {exc}") from exc
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path}: not valid TOML: {exc}") from exc
        for key, value in raw.items():
            if key not in types:
                raise ConfigError(f"{path}: unknown setting '{key}'")
            values[key] = _coerce(key, value, types[key], str(path))

    for key, value in env.items():
        if not key.startswith("MAPSERVICE_") or key == "MAPSERVICE_CONFIG":
            continue
        name = key.removeprefix("MAPSERVICE_").lower()
        if name not in types:
            raise ConfigError(f"environment: unknown setting {key}")
        values[name] = _coerce(name, value, types[name], f"environment {key}")

    for key, value in (overrides or {}).items():
        if key not in types:
            raise ConfigError(f"code: unknown setting '{key}'")
        values[key] = _coerce(key, value, types[key], "code")

    settings = dataclasses.replace(Settings(), **values)
    _validate(settings)
    return settings
