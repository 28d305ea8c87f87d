"""``/basemap/basemap.pmtiles``: the own basemap archive, served in byte ranges.

The browser's PMTiles reader (inside protomaps-leaflet) asks for the header and directories
and then for each tile with ``Range: bytes=a-b``. This route answers like a static file server
that does ranges right (RFC 9110): one range gives 206 with ``Content-Range``; several ranges
are coalesced into one 206 (allowed by RFC 9110 §14.2, and no reader of PMTiles asks for
several); a range beyond the end gives 416 with ``Content-Range: bytes */size``; an
``If-None-Match`` with the current ETag gives 304 before any range is looked at; ``If-Range``
with another ETag gives the whole file. Werkzeug's ``send_file`` was not enough: it checks
``If-None-Match`` only after ranges, and its 416 would lose ``Content-Range`` in the JSON error.

It also registers the template helpers that let a page without Folium (the finder) draw the
same basemap: ``basemap_config(lang, notice_id)``, ``basemap_notice(lang, notice_id)``,
``basemap_scripts()``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from io import BufferedReader

from flask import Blueprint, Flask, Response, request, url_for
from markupsafe import Markup
from werkzeug.http import parse_range_header

from ..config import ConfigError, Settings
from ..http.context import services
from ..http.errors import ApiError
from . import basemap as bm

bp = Blueprint("basemap", __name__)

ARCHIVE_PATH = "/basemap/basemap.pmtiles"
MEDIA_TYPE = "application/vnd.pmtiles"
CHUNK = 256 * 1024


def archive_url() -> str:
    """Where this service serves its archive, behind any proxy prefix."""
    return url_for("basemap.archive")


def current(settings: Settings) -> bm.Basemap | None:
    """The basemap of a page of this request."""
    return bm.basemap_of(settings, archive_url())


def _chunks(fh: BufferedReader, start: int, length: int) -> Iterator[bytes]:
    fh.seek(start)
    left = length
    while left > 0:
        data = fh.read(min(CHUNK, left))
        if not data:  # the file was cut short under us: end the body rather than loop
            return
        left -= len(data)
        yield data


def _span(header: str | None, size: int) -> tuple[int, int] | None:
    """The byte span [start, stop) a Range header asks for; None: serve the whole file.

    Raises ApiError 416 when the header is valid but no range lies in the file. An invalid or
    non-byte Range header is ignored, as RFC 9110 §14.2 allows.
    """
    parsed = parse_range_header(header)
    # Werkzeug drops "bytes=-0", a suffix of zero bytes: valid, but never satisfiable (§14.1.1).
    zero_suffix = header is not None and re.fullmatch(r"\s*bytes\s*=\s*-0+\s*", header) is not None
    if (parsed is None or parsed.units != "bytes") and not zero_suffix:
        return None
    spans = []
    for start, stop in parsed.ranges if parsed is not None else []:
        if start < 0:  # suffix range: the last -start bytes
            start, stop = max(size + start, 0), size
        else:
            stop = size if stop is None else min(stop, size)
        if start < stop:
            spans.append((start, stop))
    if not spans:
        raise ApiError(
            416,
            "RangeNotSatisfiable",
            f"The range '{header}' lies outside the archive ({size} bytes).",
            headers={"Content-Range": f"bytes */{size}", "Accept-Ranges": "bytes"},
        )
    return min(s for s, _ in spans), max(e for _, e in spans)


@bp.get(ARCHIVE_PATH)
def archive() -> Response:
    settings = services().settings
    path = settings.resolved_basemap_path()
    if path is None:
        raise ApiError(404, "NotFound", "This service has no basemap (setting basemap_pmtiles is empty).")
    unavailable = ApiError(503, "BasemapUnavailable", "The basemap archive cannot be read right now.")
    try:
        fh = path.open("rb")
    except OSError:
        raise unavailable from None
    try:
        try:
            found = bm.archive_of(path, fh)
        except ConfigError:
            raise unavailable from None
        response = _respond(fh, found, settings.basemap_max_age)
    except BaseException:
        fh.close()
        raise
    response.call_on_close(fh.close)
    return response


def _if_range_holds(etag: str) -> bool:
    """Whether a Range may be served: no If-Range, or one naming this ETag (strongly)."""
    raw = request.headers.get("If-Range")
    if raw is None:
        return True
    # A date or a weak ETag never matches: only a strong validator may guard a range.
    if raw.strip().startswith("W/") or request.if_range.date is not None:
        return False
    return request.if_range.etag == etag


def _respond(fh: BufferedReader, found: bm.Archive, max_age: int) -> Response:
    headers = {
        "ETag": f'"{found.etag}"',
        "Accept-Ranges": "bytes",
        "Cache-Control": f"public, max-age={max_age}",
    }
    if request.if_match and not request.if_match.contains(found.etag):
        raise ApiError(412, "PreconditionFailed", "The archive is not the version If-Match names.")
    # RFC 9110 §13.2.2: If-None-Match is decided before any Range.
    if request.if_none_match.contains_weak(found.etag):
        return Response(status=304, headers=headers)
    span = None
    if "Range" in request.headers and _if_range_holds(found.etag):
        span = _span(request.headers.get("Range"), found.size)
    start, stop = span or (0, found.size)
    if span is not None:
        headers["Content-Range"] = f"bytes {start}-{stop - 1}/{found.size}"
    response = Response(
        _chunks(fh, start, stop - start),
        status=206 if span is not None else 200,
        headers=headers,
        mimetype=MEDIA_TYPE,
        # Streamed as it is: never gzipped (a range of a gzipped body is another range).
        direct_passthrough=True,
    )
    response.content_length = stop - start
    return response


def init_app(app: Flask) -> None:
    """Check the archive once at start-up (and hash it before gunicorn forks its workers)."""
    settings: Settings = app.config["SETTINGS"]
    path = settings.resolved_basemap_path()
    if path is not None:
        bm.archive_of(path)

    def config(lang: str, notice_id: str) -> dict[str, object] | None:
        return bm.script_config(current(services().settings), lang, notice_id)

    def notice(lang: str, notice_id: str) -> Markup:
        return bm.consent_notice(current(services().settings), lang, notice_id)

    def scripts() -> list[str]:
        return [url_for("static", filename=p) for p in bm.scripts(current(services().settings))]

    app.add_template_global(config, "basemap_config")
    app.add_template_global(notice, "basemap_notice")
    app.add_template_global(scripts, "basemap_scripts")
