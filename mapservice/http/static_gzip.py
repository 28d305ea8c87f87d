"""gzip for the static files (Leaflet, the map scripts and styles) when the client accepts it.

Flask sends a static file as a file stream, which the response compression of http/caching.py
leaves alone; Leaflet alone is then 148 kB of a map's first view instead of 43 kB. Each file
is compressed once per version (path, size, time of change) at the highest level and kept; a
proxy in front (deploy/nginx) may compress again, or pass the bytes on.
"""

from __future__ import annotations

import functools
import gzip
import os

from flask import Flask, Response, current_app, request
from werkzeug.security import safe_join

from .caching import COMPRESSIBLE, add_vary, header

# Smaller files gain less than the header costs.
MIN_SIZE = 512


@functools.lru_cache(maxsize=256)
def _compressed(path: str, size: int, mtime_ns: int) -> bytes:
    """The gzip bytes of one version of a file (size and time are part of the key)."""
    with open(path, "rb") as handle:
        return gzip.compress(handle.read(), compresslevel=9, mtime=0)


def _accepts_gzip() -> bool:
    return request.accept_encodings["gzip"] > 0


def gzip_static(response: Response) -> Response:
    if request.endpoint != "static" or response.status_code != 200 or response.mimetype not in COMPRESSIBLE:
        return response
    add_vary(response, "Accept-Encoding")
    folder = current_app.static_folder
    filename = (request.view_args or {}).get("filename")
    path = safe_join(folder, filename) if folder and filename else None
    if path is None or not _accepts_gzip() or header(response.headers, "Content-Encoding"):
        return response
    stat = os.stat(path)
    if stat.st_size < MIN_SIZE:
        return response
    body = _compressed(path, stat.st_size, stat.st_mtime_ns)
    response.direct_passthrough = False
    response.set_data(body)
    response.headers["Content-Encoding"] = "gzip"
    response.headers.pop("Accept-Ranges", None)  # ranges of the file are not ranges of these bytes
    etag, _ = response.get_etag()
    if etag:
        # Other bytes than the file's, so not its strong validator; weak, it still
        # revalidates: Flask compares If-None-Match weakly (RFC 9110, 13.1.2).
        response.set_etag(etag, weak=True)
    return response


def init_app(app: Flask) -> None:
    app.after_request(gzip_static)
