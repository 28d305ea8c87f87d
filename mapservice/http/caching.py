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

from flask import Flask, Request, Response, request

from .. import __version__
from ..store.base import LayerState, StoredFeature, revision
from .context import services

COMPRESSIBLE = frozenset(
    {
        "application/json",
        "application/geo+json",
        "application/schema+json",
        "application/vnd.oai.openapi+json",
        "text/html",
        "text/css",
        "text/plain",
        "application/javascript",
        "text/javascript",
        "image/svg+xml",
        "text/csv",
        "text/calendar",
    }
)


def _http_date(value: dt.datetime) -> dt.datetime:
    return value.astimezone(dt.UTC).replace(microsecond=0)


class Validators:
    """ETag and Last-Modified of one response, known before it is built.

    The ETag covers what the body depends on: the data versions of the layers it reads, the
    full URL (with any proxy prefix), the representation, the catalog and the settings.
    """

    def __init__(
        self,
        states: Callable[[], Iterable[LayerState]] | Iterable[LayerState],
        *parts: object,
        strong_etag: str | None = None,
    ) -> None:
        self._states_fn = states if callable(states) else None
        self.states = list(states() if callable(states) else states)
        digest = hashlib.sha256()
        fingerprint = services().fingerprint
        # A reader with a token may see more than the public: their responses get their own
        # ETags (and cache entries) and are marked private.
        self.private = "Authorization" in request.headers
        viewer = request.headers.get("Authorization", "")
        # A body built from one read of a feature is cached under that feature's ETag too:
        # the layer version alone could be read after a write the body does not contain.
        for part in (
            __version__,
            fingerprint,
            request.url_root,
            request.full_path,
            viewer,
            strong_etag,
            *parts,
        ):
            digest.update(repr(part).encode())
            digest.update(b"\0")
        for state in self.states:
            digest.update(f"{state.version}:{state.updated_at.isoformat()}".encode())
        self.key = digest.hexdigest()[:32]  # identifies the cached body
        # A feature's strong ETag (its content) is what If-Match of a write compares.
        self.strong = strong_etag is not None
        self.etag = strong_etag if strong_etag is not None else self.key
        self.last_modified = max(
            (_http_date(s.updated_at) for s in self.states),
            default=_http_date(services().catalog_mtime),
        )

    def unchanged(self) -> bool:
        """True when the data did not change while the response was being built.

        A strong ETag is computed from the very feature the body shows, so it stays right
        whatever else changed meanwhile (and a writer needs it for If-Match).
        """
        return self.strong or self._states_fn is None or list(self._states_fn()) == self.states

    def matches(self, req: Request) -> bool:
        if req.if_none_match:
            return any(req.if_none_match.contains_weak(tag) for tag in (self.etag, self.etag + GZIP_SUFFIX))
        since = req.if_modified_since
        return since is not None and self.last_modified <= since

    def apply(self, response: Response) -> Response:
        etag = self.etag
        if self.strong and response.headers.get("Content-Encoding") == "gzip":
            etag += GZIP_SUFFIX  # other bytes, so another strong validator (RFC 9110, 8.8.1)
        response.set_etag(etag, weak=not self.strong)
        response.last_modified = self.last_modified
        if self.private:
            response.headers["Cache-Control"] = "private, no-cache"
        else:
            max_age = services().settings.cache_max_age
            response.headers["Cache-Control"] = f"public, max-age={max_age}"
        return response


GZIP_SUFFIX = "-gzip"


def if_match(req: Request, feature: StoredFeature) -> bool:
    """Whether the request's If-Match names the feature as it is now (``*``: it exists)."""
    if req.if_match.star_tag:
        return True
    current = feature_etag(feature)
    return any(tag.removesuffix(GZIP_SUFFIX) == current for tag in req.if_match.as_set())


def feature_etag(feature: StoredFeature) -> str:
    """Strong ETag of a feature: its content and the app version (which could change the JSON).

    Nothing of the instance goes in: every instance over one store must give a feature the
    same ETag, or a write through one with an ETag from another would fail with 412.
    """
    text = f"{__version__}:{revision(feature)}"
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def _accepts_gzip(req: Request) -> bool:
    return req.accept_encodings["gzip"] > 0 or req.accept_encodings["x-gzip"] > 0


def compress(response: Response) -> Response:
    """gzip a compressible 200 response when the client accepts it and it is big enough."""
    settings = services().settings
    if (
        response.status_code != 200
        or response.direct_passthrough
        or response.mimetype not in COMPRESSIBLE
        or "Content-Encoding" in response.headers
    ):
        return response
    response.vary.add("Accept-Encoding")
    if _accepts_gzip(request):
        data = response.get_data()
        if len(data) >= settings.gzip_min_size:
            response.set_data(gzip.compress(data, compresslevel=settings.gzip_level, mtime=0))
            response.headers["Content-Encoding"] = "gzip"
    return response


def conditional(validators: Validators, build: Callable[[], Response]) -> Response:
    """304 when the client's copy is current, else the (cached or built) response."""
    if validators.matches(request):
        not_modified = Response(status=304)
        # A 304 repeats the Vary of the 200 it stands for (RFC 9110, 15.4.5).
        not_modified.vary.add("Accept-Encoding")
        return validators.apply(not_modified)
    cache = services().responses
    key = (validators.key, "gzip" if _accepts_gzip(request) else "identity")
    hit = cache.get(key)
    if hit is not None:
        body, content_type, encoding, csp = hit
        response = Response(body, content_type=content_type)
        if encoding:
            response.headers["Content-Encoding"] = encoding
        if csp:
            response.headers["Content-Security-Policy"] = csp
        if response.mimetype in COMPRESSIBLE:
            response.vary.add("Accept-Encoding")
        return validators.apply(response)
    response = compress(build())
    if not validators.unchanged():
        # A write landed while building: the body may be newer than the ETag says, so it
        # gets no validators and is not cached; the next request sees the new version.
        response.headers["Cache-Control"] = "no-cache"
        return response
    if response.status_code == 200 and not response.direct_passthrough:
        cache.put(
            key,
            response.get_data(),
            response.content_type or "application/octet-stream",
            response.headers.get("Content-Encoding"),
            response.headers.get("Content-Security-Policy"),
        )
    return validators.apply(response)


def _after_request(response: Response) -> Response:
    if request.method in ("GET", "HEAD", "OPTIONS"):
        response.headers["Access-Control-Allow-Origin"] = "*"
        response.headers["Access-Control-Expose-Headers"] = "ETag, Last-Modified, Link"
    if request.method == "OPTIONS":
        # Preflight of a cross-origin revalidation (If-None-Match is not a "simple" header).
        response.headers["Access-Control-Allow-Methods"] = "GET, HEAD, OPTIONS"
        response.headers["Access-Control-Allow-Headers"] = (
            "Accept, Accept-Language, If-None-Match, If-Modified-Since"
        )
        response.headers["Access-Control-Max-Age"] = "86400"
    return compress(response)


def init_app(app: Flask) -> None:
    app.after_request(_after_request)
