"""The one place that turns errors into responses, with no traces.

A program gets JSON ``{code, description}``. A reader gets an HTML page in the page's language
(``templates/pages/error.html``): for the pages (map, embed, finder, planner, home), for
``f=html``, and for a browser that asks for HTML. Its text comes from i18n.ERROR_TEXT by the
error's ``key``; ``links`` lead on, for example to the areas or maps that do exist.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, Request, Response, jsonify, request
from werkzeug.exceptions import HTTPException

from ..store.base import FeatureExists, FeatureNotFound, StoreError, StoreUnavailable

log = logging.getLogger(__name__)

# OGC-style codes for the HTTP errors werkzeug raises itself (routing, methods).
_HTTP_CODES = {
    400: "InvalidParameterValue",
    404: "NotFound",
    405: "MethodNotAllowed",
    406: "NotAcceptable",
    413: "PayloadTooLarge",
    415: "UnsupportedMediaType",
    500: "ServerError",
}


class ApiError(Exception):
    """An error with its HTTP status, raised anywhere below the blueprints."""

    def __init__(
        self,
        status: int,
        code: str,
        description: str,
        candidates: list[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
        problems: list[dict[str, Any]] | None = None,
        key: str | None = None,
        params: dict[str, Any] | None = None,
        links: list[dict[str, str]] | None = None,
    ) -> None:
        super().__init__(description)
        # A page shows the error in its own language: ``key`` names the text in
        # i18n.ERROR_TEXT and ``params`` fill it (the JSON keeps ``description``).
        self.key = key
        self.params = params or {}
        self.status = status
        self.code = code
        self.description = description
        self.candidates = candidates  # e.g. the closest addresses when one was not found
        self.headers = headers or {}  # e.g. WWW-Authenticate on a 401
        self.problems = problems  # each invalid field of a written feature
        # Where a reader of the HTML page can go instead: {"de": label, "en": label, "href": url}.
        self.links = links or []


# The endpoints that answer with a page. Their errors are pages too, whatever the Accept.
PAGE_ENDPOINTS = frozenset(
    {
        "pages.index",
        "pages.choose",
        "pages.map_page",
        "embed.embed_map",
        "embed.snippet",
        "finder.finder_page",
        "planner.planner",
        "survey.survey_form",
        "survey.survey_answer",
    }
)


def wants_page(req: Request) -> bool:
    """Whether the error goes to a reader (an HTML page) rather than a program (JSON)."""
    fmt = req.args.get("f")
    if fmt is not None:
        return fmt == "html"
    if req.endpoint in PAGE_ENDPOINTS:
        return True
    # Elsewhere a browser's navigation (Accept: text/html first) gets a page; a client that
    # accepts anything (*/*) or asks for JSON keeps the JSON.
    best = req.accept_mimetypes.best_match(["application/json", "application/geo+json", "text/html"])
    return best == "text/html"


def error_page(exc: ApiError) -> Response:
    """The error as an HTML page in the language the request asked for."""
    # The page frame lives above this module (it needs the app's templates and texts).
    from ..i18n import ERROR_TEXT, pick_lang, texts
    from .pages import render

    lang = request.args.get("lang", "de")
    html = render("pages/error.html", lang, error=exc, t=texts(lang), error_words=ERROR_TEXT[pick_lang(lang)])
    response = Response(html, status=exc.status, mimetype="text/html")
    response.headers["Cache-Control"] = "no-store"
    return response


def error_response(
    status: int,
    code: str,
    description: str,
    candidates: list[dict[str, Any]] | None = None,
    problems: list[dict[str, Any]] | None = None,
) -> Response:
    body: dict[str, Any] = {"code": code, "description": description}
    if candidates is not None:
        body["candidates"] = candidates
    if problems is not None:
        body["problems"] = problems
    response = jsonify(body)
    response.status_code = status
    # Errors must never be cached as if they were the resource.
    response.headers["Cache-Control"] = "no-store"
    return response


def store_error(exc: StoreError) -> ApiError:
    """What a client learns of a store failure, on a read or a write alike."""
    if isinstance(exc, FeatureExists):
        return ApiError(409, "Conflict", f"{exc}; use PUT or PATCH on it to change it")
    if isinstance(exc, FeatureNotFound):
        return ApiError(404, "NotFound", str(exc), key="no_feature")
    if isinstance(exc, StoreUnavailable):
        # The file is lost or damaged: the store has logged it once, with the path; the client
        # learns that nothing was written and that it takes the operator, not a retry.
        public = exc.reading if request.method in ("GET", "HEAD") else exc.writing
        return ApiError(503, "StoreUnavailable", public, key="unavailable")
    # The operator's log has the database's own words; the client gets no internals.
    log.error("store failed: %s", exc)
    if request.method in ("GET", "HEAD"):
        return ApiError(
            503,
            "StoreUnavailable",
            "The data could not be read right now; try again later",
            key="unavailable",
        )
    return ApiError(
        503,
        "StoreUnavailable",
        "The change could not be saved and nothing was changed; try again later",
        key="unavailable",
    )


def init_app(app: Flask) -> None:
    @app.errorhandler(ApiError)
    def _api_error(exc: ApiError) -> Response:
        if wants_page(request):
            page = error_page(exc)
            page.headers.update(exc.headers)
            return page
        response = error_response(exc.status, exc.code, exc.description, exc.candidates, exc.problems)
        response.headers.update(exc.headers)
        return response

    @app.errorhandler(StoreError)
    def _store_error(exc: StoreError) -> Response:
        return _api_error(store_error(exc))

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException) -> Response:
        status = exc.code or 500
        description = exc.description or exc.name
        key = None
        if status == 404:
            description = "No such resource. The API starts at /api."
            key = "no_page"
        code = _HTTP_CODES.get(status, exc.name.replace(" ", ""))
        if wants_page(request) and status in (404, 405):
            response = error_page(ApiError(status, code, description, key=key))
        else:
            response = error_response(status, code, description)
        if status == 405 and exc.get_headers():
            for key, value in exc.get_headers():
                if key.lower() == "allow":
                    response.headers["Allow"] = value
        return response

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> Response:
        # Logged with the trace for the operator; the client only learns that it failed.
        log.exception("unhandled error")
        if wants_page(request):
            try:
                return error_page(ApiError(500, "ServerError", "", key="server_error"))
            except Exception:  # the page itself failed: the plain answer below still goes out
                log.exception("error page failed")
        return error_response(
            500, "ServerError", "The server failed to answer this request. The error has been logged."
        )
