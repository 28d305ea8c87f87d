"""HTTP caching, compression and CORS for every GET the service answers.

ETags are weak and computed *before* the response is built, from what the response depends
on (data versions, URL, representation), so a revalidation costs one small query and never
serialises features. The same ETag covers the gzip and identity encodings, which weak
validators allow.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable, Iterable
from typing import Any

from flask import Flask, Request, Response, request
from isal import igzip
from werkzeug.datastructures import Headers

from .. import __version__
from ..store.base import LayerState, StoredFeature, revision
from . import replay
from .context import services
from .replay import GZIP_SUFFIX

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


def header(headers: Headers, name: str) -> str | None:
    """The first value of a response header, or None.

    werkzeug's ``headers.get(name)``, ``name in headers`` and ``setdefault`` raise and catch a
    ``BadRequestKeyError`` for every header that is missing, which on a cached answer costs
    more than the lookup itself; ``getlist`` only compares names.
    """
    values = headers.getlist(name)
    return values[0] if values else None


def add_vary(response: Response, name: str) -> None:
    """Add ``name`` to the response's Vary, as ``response.vary.add`` does, without its
    exception for a response that has no Vary yet."""
    current = header(response.headers, "Vary")
    if current is None:
        response.headers["Vary"] = name
    elif name.lower() not in {token.strip().lower() for token in current.split(",")}:
        response.headers["Vary"] = f"{current}, {name}"


def request_url(environ: dict[str, Any]) -> str:
    """The URL as the client sent it, proxy prefix included, straight from the WSGI environ.

    It tells apart every pair of URLs that ``request.url_root`` and ``request.full_path`` tell
    apart (an ETag only has to differ when the answer may), without werkzeug's IRI decoding on
    every request; each instance behind one proxy computes the same text.
    """
    host = environ.get("HTTP_HOST") or f"{environ.get('SERVER_NAME', '')}:{environ.get('SERVER_PORT', '')}"
    return "\0".join(
        (
            environ.get("wsgi.url_scheme", "http"),
            host,
            environ.get("SCRIPT_NAME", ""),
            environ.get("PATH_INFO", ""),
            environ.get("QUERY_STRING", ""),
        )
    )


class Validators:
    """ETag and Last-Modified of one response, known before it is built.

    The ETag covers what the body depends on: the data versions of the layers it reads, the
    full URL (with any proxy prefix), the representation, the catalog and the settings.

    ``replayable`` says that the answer depends on nothing but the request and the data
    versions of ``states`` (no clock, no other input): http/replay.py may then send it again
    before the app runs, after reading those versions again.

    A strong ETag must be read after the versions (pass them as ``versions_read``): a write
    in between then shows in the versions, and no answer is kept under versions older than
    the content its ETag names.
    """

    def __init__(
        self,
        states: Callable[[], Iterable[LayerState]] | Iterable[LayerState],
        *parts: object,
        strong_etag: str | None = None,
        replayable: bool = False,
        versions_read: Iterable[LayerState] | None = None,
    ) -> None:
        self._states_fn = states if callable(states) else None
        if versions_read is not None:
            # The route read them through ``states`` before what ``strong_etag`` is made of.
            self.states = list(versions_read)
        else:
            self.states = list(states() if callable(states) else states)
        environ = request.environ
        # A reader with a token may see more than the public: their responses get their own
        # ETags (and cache entries) and are marked private.
        viewer = environ.get("HTTP_AUTHORIZATION")
        self.private = viewer is not None
        # A replay reads the versions again through the states function; a fixed list can only
        # be replayed when it is empty (the answer depends on the catalog and settings alone).
        self.replayable = replayable and not self.private and (self._states_fn is not None or not self.states)
        # A body built from one read of a feature is cached under that feature's ETag too:
        # the layer version alone could be read after a write the body does not contain.
        text = "\0".join(
            (
                _app_identity(),
                request_url(environ),
                viewer or "",
                repr(strong_etag),
                *(repr(part) for part in parts),
                *(f"{state.version}:{state.updated_at.isoformat()}" for state in self.states),
            )
        )
        self.key = hashlib.sha256(text.encode()).hexdigest()[:32]  # identifies the cached body
        # A feature's strong ETag (its content) is what If-Match of a write compares.
        self.strong = strong_etag is not None
        self.etag = strong_etag if strong_etag is not None else self.key
        self.last_modified = max(
            (_http_date(s.updated_at) for s in self.states),
            default=_http_date(services().catalog_mtime),
        )
        self._body_is_newer = False
        self._body_read_at_own_version = False

    def body_read_at(self, version: int | None) -> None:
        """The body being built was read at this version of the validators' one layer, in
        the snapshot that read the body (``QueryResult.version``). When it is the version
        they name, the body is their content whatever was written since, and
        :meth:`unchanged` need not read the state again (a round trip on PostGIS)."""
        if version is not None and len(self.states) == 1 and self.states[0].version == version:
            self._body_read_at_own_version = True

    def body_is_newer(self) -> None:
        """The body being built read data newer than these validators: it goes out without
        them and is not cached (a route that reads its data after the validators says so)."""
        self._body_is_newer = True

    def unchanged(self) -> bool:
        """True when the body is the content these validators name: the data did not change
        while the response was being built, or the body was read at their version
        (:meth:`body_read_at`), whatever was written after.

        A strong ETag names the content of the very feature the body shows (the route calls
        :meth:`body_is_newer` otherwise), so it stays right whatever else changed meanwhile
        (and a writer needs it for If-Match).
        """
        if self._body_is_newer:
            return False
        if self.strong or self._body_read_at_own_version or self._states_fn is None:
            return True
        return list(self._states_fn()) == self.states

    def matches(self, req: Request) -> bool:
        return replay.not_modified(req.environ, self.etag, self.last_modified)

    def apply(self, response: Response) -> Response:
        etag = self.etag
        if self.strong:
            # Other bytes, so another strong validator (RFC 9110, 8.8.1). A 304 repeats the
            # tag of the copy the client holds (RFC 9110, 15.4.5).
            if response.status_code == 304:
                gzipped = replay.holds_gzip_tag(request.environ, etag)
            else:
                gzipped = header(response.headers, "Content-Encoding") == "gzip"
            if gzipped:
                etag += GZIP_SUFFIX
        response.set_etag(etag, weak=not self.strong)
        response.last_modified = self.last_modified
        if self.private:
            response.headers["Cache-Control"] = "private, no-cache"
        else:
            max_age = services().settings.cache_max_age
            response.headers["Cache-Control"] = f"public, max-age={max_age}"
        return response

    def answer(self, cache_key: tuple[str, str]) -> replay.Answer:
        """What http/replay.py needs to send this answer again while the data stays."""
        return replay.Answer(self._states_fn, self.states, self.etag, self.last_modified, cache_key)


def _app_identity() -> str:
    """The app version and the fingerprint of catalog and settings (both fixed per process)."""
    return f"{__version__}\0{services().fingerprint}"


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
    return etag_of_revision(revision(feature))


def etag_of_revision(feature_revision: str, variant: str = "") -> str:
    """The strong ETag of a feature from its revision alone (``Store.feature_revision``): a
    revalidation need not read the feature. ``variant`` names another representation of the
    same content (the URI of an output CRS): other bytes, another strong ETag."""
    text = f"{__version__}:{feature_revision}" + (f":{variant}" if variant else "")
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def _accepts_gzip(req: Request) -> bool:
    return req.accept_encodings["gzip"] > 0 or req.accept_encodings["x-gzip"] > 0


def gzip_bytes(data: bytes, level: int) -> bytes:
    """gzip as browsers read it, one pass through ISA-L: its levels 1-3 stand for zlib's 1-9
    (the default 5 is ISA-L's 2: about 10 % larger than zlib's 5, written ten times faster)."""
    return igzip.compress(data, compresslevel=min(3, (level - 1) // 3 + 1), mtime=0)


def compress(response: Response) -> Response:
    """gzip a compressible 200 response when the client accepts it and it is big enough."""
    settings = services().settings
    if (
        response.status_code != 200
        or response.direct_passthrough
        or response.mimetype not in COMPRESSIBLE
        or header(response.headers, "Content-Encoding") is not None
    ):
        return response
    add_vary(response, "Accept-Encoding")
    if _accepts_gzip(request):
        data = response.get_data()
        if len(data) >= settings.gzip_min_size:
            response.set_data(gzip_bytes(data, settings.gzip_level))
            response.headers["Content-Encoding"] = "gzip"
    return response


def conditional(validators: Validators, build: Callable[[], Response]) -> Response:
    """304 when the client's copy is current, else the (cached or built) response."""
    cache_key = (validators.key, "gzip" if _accepts_gzip(request) else "identity")
    if validators.matches(request):
        # A 304 repeats the Vary of the 200 it stands for (RFC 9110, 15.4.5). The media type
        # only spares werkzeug a header lookup: a 304 carries none.
        not_modified = Response(status=304, mimetype="text/plain")
        not_modified.headers["Vary"] = "Accept-Encoding"
        return _replayable(validators, cache_key, validators.apply(not_modified))
    cache = services().responses
    hit = cache.get(cache_key)
    if hit is not None:
        body, content_type, encoding, csp = hit
        response = Response(body, content_type=content_type)
        if encoding:
            response.headers["Content-Encoding"] = encoding
        if csp:
            response.headers["Content-Security-Policy"] = csp
        if response.mimetype in COMPRESSIBLE:
            response.headers["Vary"] = "Accept-Encoding"
        return _replayable(validators, cache_key, validators.apply(response))
    response = compress(build())
    if not validators.unchanged():
        # A write landed while building: the body may be newer than the ETag says, so it
        # gets no validators and is not cached; the next request sees the new version.
        response.headers["Cache-Control"] = "no-cache"
        return response
    if response.status_code == 200 and not response.direct_passthrough:
        cache.put(
            cache_key,
            response.get_data(),
            response.content_type or "application/octet-stream",
            header(response.headers, "Content-Encoding"),
            header(response.headers, "Content-Security-Policy"),
        )
        _replayable(validators, cache_key, response)
    return validators.apply(response)


def _replayable(validators: Validators, cache_key: tuple[str, str], response: Response) -> Response:
    """Let http/replay.py keep this answer, when the route declared it replayable."""
    if validators.replayable:
        replay.offer(request.environ, validators.answer(cache_key))
    return response


def _after_request(response: Response) -> Response:
    if request.method in ("GET", "HEAD", "OPTIONS"):
        response.headers["Access-Control-Allow-Origin"] = "*"
        response.headers["Access-Control-Expose-Headers"] = "ETag, Last-Modified, Link, Content-Crs"
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
    replay.init_app(app)
