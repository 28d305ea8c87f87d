"""Cached answers sent again before Flask runs: the shortest path of a repeated GET.

A route that declares its answer a function of the request and of data versions alone
(``Validators(..., replayable=True)`` in http/caching.py) lets this WSGI middleware keep the
finished status line and headers of each 200 from the response cache and each 304 it sends:
the headers as they left the app, after every hook (security headers, CSP, CORS, Vary, ETag,
Last-Modified, Cache-Control). They are kept under the request as the app saw it: the URL
with scheme, host and proxy prefix, and every request header that could change the answer.

The next such request is checked as the route would check it: the data versions are read
again (``Store.state`` through the route's own states function) and must equal those the
answer was made from; If-None-Match and If-Modified-Since are compared with its validators
the way ``Validators.matches`` does; a 200 takes its body from the response cache, so it
is gone when the cache evicts it. Anything else (another version, a body no longer cached, a
request with a token, a range, a precondition of a write, a method other than GET) goes
to Flask as before, which keeps the new answer in turn.

The app and gunicorn still add nothing but ``Date`` and ``Server``, so a replayed answer has
the very headers the app gave the first time.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from werkzeug.http import parse_date, parse_etags

from ..store.base import LayerState

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment
    from flask import Flask

    from ..services import Services

# A strong ETag of gzip bytes ends in this (http/caching.py): a 304 accepts either.
GZIP_SUFFIX = "-gzip"

# Where conditional() leaves the answer of the request for this middleware.
_OFFERED = "mapservice.replay"

# Request headers that no route reads and that change no answer: they do not split the kept
# answers (every browser sends another User-Agent). Everything else does, cookies included.
_IGNORED = frozenset(
    {
        "HTTP_USER_AGENT",
        "HTTP_CONNECTION",
        "HTTP_KEEP_ALIVE",
        "HTTP_REFERER",
        "HTTP_CACHE_CONTROL",
        "HTTP_PRAGMA",
        "HTTP_DNT",
        "HTTP_PRIORITY",
        "HTTP_UPGRADE_INSECURE_REQUESTS",
        "HTTP_ORIGIN",  # CORS answers every origin alike (Access-Control-Allow-Origin: *)
        "HTTP_X_FORWARDED_FOR",  # the client address: no answer depends on it
        "HTTP_X_REAL_IP",
        # The conditions are checked on every replay, not kept.
        "HTTP_IF_NONE_MATCH",
        "HTTP_IF_MODIFIED_SINCE",
    }
)
_IGNORED_PREFIXES = ("HTTP_SEC_FETCH_", "HTTP_SEC_CH_")

# Headers a replay does not answer: a token (private answers, and the route checks it), the
# preconditions of writes and ranges (the app decides what they mean), a request body.
_NOT_REPLAYED = (
    "HTTP_AUTHORIZATION",
    "HTTP_RANGE",
    "HTTP_IF_RANGE",
    "HTTP_IF_MATCH",
    "HTTP_IF_UNMODIFIED_SINCE",
)

# Kept answers per worker; each is a few headers (the body stays in the response cache).
MAX_ANSWERS = 1024


@dataclass(frozen=True)
class Answer:
    """What conditional() knew of an answer: enough to check a repeat of the request."""

    # Each request makes its own states function: two answers are alike without it.
    states_fn: Callable[[], Iterable[LayerState]] | None = field(compare=False)
    states: Sequence[LayerState]
    etag: str
    last_modified: dt.datetime
    cache_key: tuple[str, str]


# Content-Type, Content-Encoding, Content-Security-Policy, Content-Length: the headers that
# depend on the body itself (a page's CSP names the hash of its inline script).
_BodyHeaders = tuple[str | None, str | None, str | None, str | None]


def _body_headers(headers: list[tuple[str, str]]) -> _BodyHeaders:
    found = {k.lower(): v for k, v in headers}
    return (
        found.get("content-type"),
        found.get("content-encoding"),
        found.get("content-security-policy"),
        found.get("content-length"),
    )


@dataclass(frozen=True)
class _Kept:
    answer: Answer
    # Status and headers of the 200, and what of them the body decides (see _body_headers).
    ok: tuple[str, list[tuple[str, str]], _BodyHeaders] | None
    # Status and headers of the 304, by whether the client named the gzip tag (it gets it back).
    not_modified: dict[bool, tuple[str, list[tuple[str, str]]]]


def offer(environ: dict[str, Any], answer: Answer) -> None:
    """Called by conditional(): the answer of this request may be replayed."""
    environ[_OFFERED] = answer


def not_modified(environ: dict[str, Any], etag: str, last_modified: dt.datetime) -> bool:
    """Whether the client's copy is current: If-None-Match first, else If-Modified-Since."""
    tags = parse_etags(environ.get("HTTP_IF_NONE_MATCH"))
    if tags:
        return tags.contains_weak(etag) or tags.contains_weak(etag + GZIP_SUFFIX)
    since = parse_date(environ.get("HTTP_IF_MODIFIED_SINCE"))
    return since is not None and last_modified <= since


def holds_gzip_tag(environ: dict[str, Any], etag: str) -> bool:
    """Whether If-None-Match names the strong ETag of the gzip bytes: a 304 repeats it."""
    return parse_etags(environ.get("HTTP_IF_NONE_MATCH")).contains(etag + GZIP_SUFFIX)


def request_key(environ: WSGIEnvironment) -> tuple[str, ...] | None:
    """What the answer may depend on, or None for a request that is never replayed."""
    if environ.get("REQUEST_METHOD") != "GET":
        return None
    if environ.get("CONTENT_LENGTH") not in (None, "", "0") or "HTTP_TRANSFER_ENCODING" in environ:
        return None
    for name in _NOT_REPLAYED:
        if name in environ:
            return None
    headers = sorted(
        f"{name}={value}"
        for name, value in environ.items()
        if name.startswith("HTTP_") and name not in _IGNORED and not name.startswith(_IGNORED_PREFIXES)
    )
    return (
        environ.get("wsgi.url_scheme", "http"),
        environ.get("SERVER_NAME", ""),
        environ.get("SERVER_PORT", ""),
        environ.get("SCRIPT_NAME", ""),
        environ.get("PATH_INFO", ""),
        environ.get("QUERY_STRING", ""),
        *headers,
    )


class Replay:
    """The middleware: replays kept answers, keeps the answers the app offers."""

    def __init__(self, app: Flask, wsgi_app: WSGIApplication) -> None:
        self.app = app
        self.wsgi_app = wsgi_app
        self._kept: dict[tuple[str, ...], _Kept] = {}
        self._lock = threading.Lock()

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        key = request_key(environ)
        if key is None:
            return self.wsgi_app(environ, start_response)
        kept = self._kept.get(key)
        if kept is not None:
            body = self._replay(key, kept, environ, start_response)
            if body is not None:
                return body
        return self._answer_and_keep(key, environ, start_response)

    def _services(self) -> Services:
        found: Services = self.app.extensions["mapservice"]
        return found

    def _replay(
        self, key: tuple[str, ...], kept: _Kept, environ: WSGIEnvironment, start_response: StartResponse
    ) -> list[bytes] | None:
        answer = kept.answer
        revalidation = "HTTP_IF_NONE_MATCH" in environ or "HTTP_IF_MODIFIED_SINCE" in environ
        if not revalidation and (kept.ok is None or not self._services().responses.holds(answer.cache_key)):
            return None  # nothing to send without building it: no need to read the versions
        if answer.states_fn is not None:
            try:
                with self.app.app_context():
                    states = list(answer.states_fn())
            except Exception:  # a store failure: Flask answers it the way it answers errors
                return None
            if states != list(answer.states):
                with self._lock:
                    self._kept.pop(key, None)
                return None
        if not_modified(environ, answer.etag, answer.last_modified):
            found = kept.not_modified.get(holds_gzip_tag(environ, answer.etag))
            if found is None:
                return None
            status, headers = found
            start_response(status, list(headers))
            return []
        if kept.ok is None:
            return None
        cached = self._services().responses.get(answer.cache_key)
        status, headers, body_headers = kept.ok
        # The cache may hold another build under the same key by now (after an eviction): its
        # body goes out only with headers made for it.
        if cached is None or body_headers != (cached[1], cached[2], cached[3], str(len(cached[0]))):
            return None
        start_response(status, list(headers))
        return [cached[0]]

    def _answer_and_keep(
        self, key: tuple[str, ...], environ: WSGIEnvironment, start_response: StartResponse
    ) -> Iterable[bytes]:
        sent: list[tuple[str, list[tuple[str, str]]]] = []

        def watch(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            sent.append((status, list(headers)))
            return start_response(status, headers, exc_info)

        body = self.wsgi_app(environ, watch)
        answer = environ.get(_OFFERED)
        if isinstance(answer, Answer) and sent:
            self._keep(key, answer, holds_gzip_tag(environ, answer.etag), *sent[-1])
        return body

    def _keep(
        self,
        key: tuple[str, ...],
        answer: Answer,
        gzip_tag: bool,
        status: str,
        headers: list[tuple[str, str]],
    ) -> None:
        code = status[:3]
        old = self._kept.get(key)
        if old is not None and old.answer != answer:
            old = None  # made from other data: its other half is stale too
        if code == "200":
            kept = _Kept(answer, (status, headers, _body_headers(headers)), old.not_modified if old else {})
        elif code == "304":
            not_modified = {**(old.not_modified if old else {}), gzip_tag: (status, headers)}
            kept = _Kept(answer, old.ok if old else None, not_modified)
        else:
            return
        with self._lock:
            self._kept.pop(key, None)
            self._kept[key] = kept
            while len(self._kept) > MAX_ANSWERS:
                del self._kept[next(iter(self._kept))]


def init_app(app: Flask) -> None:
    """Put the middleware right around the app (inside ProxyFix: it sees the proxied URL)."""
    app.wsgi_app = Replay(app, app.wsgi_app)  # type: ignore[method-assign]
