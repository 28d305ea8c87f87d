"""The security headers of every response, set in one place (an ``after_request`` hook).

Every HTML response gets a Content-Security-Policy whose ``script-src`` never allows inline
scripts. The one inline script the service writes, Folium's start-up call of a map, embed or
planner page, is allowed by its SHA-256 hash. A per-response nonce would not work: the
response cache (http/caching.py) serves the same finished body to every reader, so the nonce
would repeat and protect nothing. A hash is a property of the body itself, computed once when
the page is built and cached with it. (Moving the script to its own URL would cost a second
request and a second render of the map for every page view.)

``frame-ancestors`` lets other sites frame only the embeds (``/embed/<map>``), and only the
origins of ``MAPSERVICE_EMBED_ALLOWED_ORIGINS``; every other page may be framed only by the
service itself.
"""

from __future__ import annotations

import base64
import hashlib

from flask import Flask, Response, request

from ..config import Settings
from ..maps.basemap import tile_host
from .caching import header
from .context import services

CSP = "Content-Security-Policy"
# The endpoint whose pages other sites may frame (maps/embed_routes.py).
EMBED_ENDPOINT = "embed.embed_map"


def script_hash(script: str) -> str:
    """The CSP source that allows exactly the inline script ``script`` (its UTF-8 text)."""
    digest = hashlib.sha256(script.encode("utf-8")).digest()
    return f"'sha256-{base64.b64encode(digest).decode('ascii')}'"


def frame_ancestors(settings: Settings, endpoint: str | None) -> str:
    if endpoint == EMBED_ENDPOINT:
        return " ".join(["'self'", *settings.embed_allowed_origins.split()])
    return "'self'"


def policy(settings: Settings, endpoint: str | None, scripts: tuple[str, ...] = ()) -> str:
    """The CSP of a page of ``endpoint`` whose inline scripts are ``scripts``.

    No request may leave the service except to the configured external tile server: its
    host is in ``img-src`` only when one is configured, and the page asks it for tiles only
    after the reader's consent (static/js/dsm-basemap.js). The own basemap needs nothing more
    than ``connect-src 'self'`` (its Range requests are fetch()es of the same origin).
    Styles keep ``'unsafe-inline'``: the legend swatches and the snippet's iframe carry style
    attributes, and Leaflet positions its panes with them.
    """
    script_src = " ".join(["'self'", *(script_hash(s) for s in scripts)])
    img = "'self' data:"
    host = tile_host(settings.tile_url)
    if host:
        img += f" {host}"
    return (
        f"default-src 'self'; script-src {script_src}; style-src 'self' 'unsafe-inline'; "
        f"img-src {img}; connect-src 'self'; font-src 'self'; object-src 'none'; "
        f"base-uri 'none'; form-action 'self'; frame-ancestors {frame_ancestors(settings, endpoint)}"
    )


def allow_scripts(response: Response, *scripts: str) -> Response:
    """Give the page being built a CSP that allows its inline ``scripts``.

    Called inside a route's build, so the header is cached with the body (http/caching.py).
    """
    response.headers[CSP] = policy(services().settings, request.endpoint, scripts)
    return response


def _after_request(response: Response) -> Response:
    # Looked up with caching.header: werkzeug's setdefault and ``in`` raise and catch an
    # exception for each missing header, on every response.
    headers = response.headers
    if header(headers, "X-Content-Type-Options") is None:
        headers["X-Content-Type-Options"] = "nosniff"
    # No page sends its URL on (a district or an address in a query must not leak).
    if header(headers, "Referrer-Policy") is None:
        headers["Referrer-Policy"] = "no-referrer"
    # A 304 gets no CSP: the browser would merge it into the stored response and replace the
    # policy that allows the page's inline script.
    if response.status_code != 304 and response.mimetype == "text/html" and header(headers, CSP) is None:
        headers[CSP] = policy(services().settings, request.endpoint)
    return response


def init_app(app: Flask) -> None:
    app.after_request(_after_request)
