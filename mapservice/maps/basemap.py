"""The basemap under every map: the service's own PMTiles archive, or an external tile server.

Pure helpers: the archive's header (zoom range, bounds), its ETag, what a page's script needs
to draw the basemap, and the consent notice shown before an external tile server is asked
for anything (the "two-click" pattern of German public bodies: the reader's IP address goes
to that host only after a click).

PMTiles v3 layout (https://github.com/protomaps/PMTiles/blob/main/spec/v3/spec.md): a
127-byte little-endian header; the browser reads it and then the directories and tiles with
HTTP Range requests, so the server only has to serve byte ranges of one file.
"""

from __future__ import annotations

import hashlib
import logging
import os
import struct
import threading
from dataclasses import dataclass
from io import BufferedReader
from pathlib import Path
from urllib.parse import urlsplit

from markupsafe import Markup, escape

from ..config import ConfigError, Settings
from ..i18n import BASEMAP_TEXT, pick_lang

log = logging.getLogger(__name__)
HEADER_LEN = 127
OSM_COPYRIGHT = "https://www.openstreetmap.org/copyright"
# Zoom levels 0..30 are all PMTiles can address; a header outside them is broken.
MAX_ZOOM = 30


@dataclass(frozen=True)
class PMTilesHeader:
    """The parts of a PMTiles v3 header the service uses."""

    min_zoom: int
    max_zoom: int
    bounds: tuple[float, float, float, float]  # min lon, min lat, max lon, max lat
    center: tuple[float, float, int]  # lon, lat, zoom
    tile_type: int  # 1 = MVT
    tile_compression: int  # 1 = none, 2 = gzip
    addressed_tiles: int


def parse_header(data: bytes) -> PMTilesHeader:
    """The header of a PMTiles v3 archive from its first 127 bytes; ValueError if it is none."""
    if len(data) < HEADER_LEN or data[:7] != b"PMTiles":
        raise ValueError("not a PMTiles archive")
    if data[7] != 3:
        raise ValueError(f"PMTiles version {data[7]}, not 3")
    addressed = struct.unpack_from("<Q", data, 72)[0]
    compression, tile_type, min_zoom, max_zoom = struct.unpack_from("<BBBB", data, 98)
    min_lon, min_lat, max_lon, max_lat = (v / 1e7 for v in struct.unpack_from("<iiii", data, 102))
    center_zoom = data[118]
    center_lon, center_lat = (v / 1e7 for v in struct.unpack_from("<ii", data, 119))
    if not 0 <= min_zoom <= max_zoom <= MAX_ZOOM:
        raise ValueError(f"zoom range {min_zoom}..{max_zoom} is not possible")
    return PMTilesHeader(
        min_zoom=min_zoom,
        max_zoom=max_zoom,
        bounds=(min_lon, min_lat, max_lon, max_lat),
        center=(center_lon, center_lat, center_zoom),
        tile_type=tile_type,
        tile_compression=compression,
        addressed_tiles=addressed,
    )


@dataclass(frozen=True)
class Archive:
    """One version of the archive file: what a response about it needs."""

    path: Path
    size: int
    etag: str  # strong; from the content, so every worker and every instance agrees
    header: PMTilesHeader
    identity: tuple[int, int, int, int]  # device, inode, size, mtime_ns: a changed file differs


_archives: dict[Path, Archive] = {}
_lock = threading.Lock()


def _identity(st: os.stat_result) -> tuple[int, int, int, int]:
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)


def archive_of(path: Path, fh: BufferedReader | None = None) -> Archive:
    """The archive at ``path`` (or open as ``fh``) as it is now, hashed once per version.

    The ETag is a hash of the whole file, not of size and time: instances behind one load
    balancer hold copies with different mtimes, and the browser's PMTiles reader gives up on a
    response whose ETag differs from the first one's. ``serve`` builds the app before forking
    its workers, so the hash of a large file is computed once, not once per worker. Given
    ``fh``, everything describes that open file, even if ``path`` was replaced meanwhile.
    Raises ConfigError naming the path when the file is gone or no PMTiles v3 archive.
    """
    if fh is None:
        try:
            with path.open("rb") as opened:
                return archive_of(path, opened)
        except OSError as exc:
            raise ConfigError(
                f"setting 'basemap_pmtiles': {path} cannot be read: {exc.strerror or exc}"
            ) from exc
    identity = _identity(os.fstat(fh.fileno()))
    found = _archives.get(path)
    if found is not None and found.identity == identity:
        return found
    with _lock:
        found = _archives.get(path)
        if found is not None and found.identity == identity:
            return found
        try:
            fh.seek(0)
            header = parse_header(fh.read(HEADER_LEN))
            fh.seek(0)
            digest = hashlib.file_digest(fh, "sha256").hexdigest()
        except (OSError, ValueError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
            raise ConfigError(f"setting 'basemap_pmtiles': {path}: {reason}") from exc
        archive = Archive(path, identity[2], digest[:32], header, identity)
        _archives[path] = archive
        return archive


# -- what a page draws -----------------------------------------------------------------------


@dataclass(frozen=True)
class Basemap:
    """The basemap of every map of this service, as configured.

    kind ``pmtiles``: the own archive at ``url``, drawn by protomaps-leaflet; ``tiles``: raster
    tiles from this service's own origin (``tile_url`` is a path); ``external``: raster tiles
    from ``host``, loaded only after the reader's consent.
    """

    kind: str
    url: str
    attribution: str  # plain text; empty: the OpenStreetMap attribution in the page's language
    max_zoom: int  # of the map (protomaps-leaflet over-zooms the archive's last level)
    host: str = ""
    flavor: str = "light"
    data_max_zoom: int = 15
    data_min_zoom: int = 0
    trusted_attribution: bool = False  # tile_attribution is the operator's HTML, as before


def tile_host(tile_url: str) -> str | None:
    """``scheme://host`` of an external tile URL as a CSP source, or None for a path.

    ``{s}`` subdomains (``{s}.tile.example.org``) become a wildcard, ``*.tile.example.org``.
    """
    if not tile_url.startswith(("https://", "http://")):
        return None
    parts = urlsplit(tile_url.replace("{s}", "a"))
    host = parts.netloc
    if tile_url.split("//", 1)[1].startswith("{s}."):
        host = "*." + host.split(".", 1)[1]
    return f"{parts.scheme}://{host}"


def _host_name(tile_url: str) -> str:
    """The host as a reader should read it in the notice (``{s}`` subdomains without the tag)."""
    netloc = urlsplit(tile_url.replace("{s}.", "")).netloc
    return netloc.rsplit("@", 1)[-1]


def basemap_of(settings: Settings, archive_url: str) -> Basemap | None:
    """The configured basemap; ``archive_url`` is where this service serves its archive."""
    path = settings.resolved_basemap_path()
    if path is not None:
        try:
            header = archive_of(path).header
        except ConfigError as exc:
            # Checked at start-up; gone or broken since: the maps go on without a basemap
            # (the archive's route answers 503) rather than failing as a whole.
            log.error("basemap left out: %s", exc)
            return None
        return Basemap(
            kind="pmtiles",
            url=archive_url,
            attribution=settings.basemap_attribution,
            max_zoom=19,
            flavor=settings.basemap_flavor,
            data_max_zoom=header.max_zoom,
            data_min_zoom=header.min_zoom,
        )
    if not settings.tile_url:
        return None
    external = tile_host(settings.tile_url) is not None
    return Basemap(
        kind="external" if external else "tiles",
        url=settings.tile_url,
        attribution=settings.tile_attribution,
        max_zoom=settings.tile_max_zoom,
        host=_host_name(settings.tile_url) if external else "",
        trusted_attribution=True,
    )


def attribution_html(basemap: Basemap, lang: str) -> str:
    """The attribution as the HTML Leaflet's attribution control takes."""
    if basemap.trusted_attribution:
        return basemap.attribution
    if basemap.attribution:
        return str(escape(basemap.attribution))
    text = BASEMAP_TEXT[pick_lang(lang)]["osm_attribution"]
    return f'<a href="{OSM_COPYRIGHT}">{escape(text)}</a>'


def script_config(basemap: Basemap | None, lang: str, notice_id: str) -> dict[str, object] | None:
    """What static/js/dsm-basemap.js needs (``DSM.basemap(map, cfg)``); None: no basemap."""
    if basemap is None:
        return None
    config: dict[str, object] = {
        "kind": basemap.kind,
        "url": basemap.url,
        "attribution": attribution_html(basemap, lang),
        "maxZoom": basemap.max_zoom,
    }
    if basemap.kind == "pmtiles":
        config.update(
            flavor=basemap.flavor,
            lang=pick_lang(lang),
            maxDataZoom=basemap.data_max_zoom,
            minDataZoom=basemap.data_min_zoom,
        )
    if basemap.kind == "external":
        config.update(host=basemap.host, noticeId=notice_id)
    return config


def scripts(basemap: Basemap | None) -> list[str]:
    """Vendored scripts the basemap needs before static/js/dsm-basemap.js (paths below static/)."""
    if basemap is not None and basemap.kind == "pmtiles":
        return ["vendor/protomaps-leaflet/protomaps-leaflet.js"]
    return []


def consent_notice(basemap: Basemap | None, lang: str, notice_id: str) -> Markup:
    """The notice shown on a map before an external tile server is asked for anything.

    Rendered hidden: without script there is no map to put it on; dsm-basemap.js moves it
    into the map and shows it. Empty for every other kind of basemap.
    """
    if basemap is None or basemap.kind != "external":
        return Markup("")
    t = BASEMAP_TEXT[pick_lang(lang)]
    # Markup.format escapes every argument; only the host is set in bold.
    return Markup(
        '<div id="{id}" class="dsm-consent" role="region" aria-labelledby="{id}-h" hidden>'
        '<p id="{id}-h"><strong>{heading}</strong></p><p>{notice}</p><p>{page_only}</p>'
        '<p class="dsm-consent-buttons"><button type="button" class="dsm-consent-load">{load}</button> '
        '<button type="button" class="dsm-consent-close">{close}</button></p></div>'
    ).format(
        id=notice_id,
        heading=t["heading"],
        notice=escape(t["notice"]).format(host=Markup("<strong>{}</strong>").format(basemap.host)),
        page_only=t["page_only"],
        load=t["load"],
        close=t["close"],
    )
