"""HTTP caching, compression and CORS for every GET the service answers.

ETags are weak and computed *before* the response is built, from what the response depends
on (data versions, URL, representation), so a revalidation costs one small query and never
serialises features. The same ETag covers the gzip and identity encodings, which weak
validators allow.
"""

from __future__ import annotations

import datetime as dt
import gzip
import hashlib
from collections.abc import Callable, Iterable

from flask import Flask, Request, Response, current_app, request

from .. import __version__
from ..store.base import LayerState

COMPRESSIBLE = frozenset(
    {"application/json", "application/geo+json", "application/schema+json",
     "application/vnd.oai.openapi+json", "text/html", "text/css", "text/plain",
     "application/javascript", "text/javascript", "image/svg+xml", "text/csv",
     "text/calendar"}
)


def _http_date(value: dt.datetime) -> dt.datetime:
    return value.astimezone(dt.UTC).replace(microsecond=0)


class Validators:
    """ETag and Last-Modified of one response, known before it is built."""

    def __init__(self, states: Iterable[LayerState], *parts: object) -> None:
        states = list(states)
        digest = hashlib.sha256()
        for part in (__version__, request.host_url, request.full_path, *parts):
            digest.update(repr(part).encode())
            digest.update(b"\0")
        for state in states:
            digest.update(f"{state.version}:{state.updated_at.isoformat()}".encode())
        self.etag = digest.hexdigest()[:32]
        self.last_modified = max(
            (_http_date(s.updated_at) for s in states),
            default=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
        )

    def matches(self, req: Request) -> bool:
        if req.if_none_match:
            return req.if_none_match.contains_weak(self.etag)
        since = req.if_modified_since
        return since is not None and self.last_modified <= since

    def apply(self, response: Response) -> Response:
        response.set_etag(self.etag, weak=True)
        response.last_modified = self.last_modified
        max_age = current_app.config["SETTINGS"].cache_max_age
        response.headers["Cache-Control"] = f"public, max-age={max_age}"
        return response


def conditional(validators: Validators, build: Callable[[], Response]) -> Response:
    """304 when the client's copy is current, else the built response with validators."""
    if validators.matches(request):
        return validators.apply(Response(status=304))
    return validators.apply(build())


def _accepts_gzip(req: Request) -> bool:
    return req.accept_encodings["gzip"] > 0 or req.accept_encodings["x-gzip"] > 0


def _after_request(response: Response) -> Response:
    if request.method in ("GET", "HEAD", "OPTIONS"):
        response.headers["Access-Control-Allow-Origin"] = "*"
        response.headers["Access-Control-Expose-Headers"] = "ETag, Last-Modified, Link"
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "no-referrer")
    settings = current_app.config["SETTINGS"]
    if (
        response.status_code == 200
        and not response.direct_passthrough
        and response.mimetype in COMPRESSIBLE
        and "Content-Encoding" not in response.headers
    ):
        response.vary.add("Accept-Encoding")
        if _accepts_gzip(request):
            data = response.get_data()
            if len(data) >= settings.gzip_min_size:
                response.set_data(gzip.compress(data, compresslevel=settings.gzip_level, mtime=0))
                response.headers["Content-Encoding"] = "gzip"
    return response


def init_app(app: Flask) -> None:
    app.after_request(_after_request)
