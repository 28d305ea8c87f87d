"""The one place that turns errors into responses: JSON ``{code, description}``, no traces."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, Response, jsonify, request
from werkzeug.exceptions import HTTPException

from ..store.base import FeatureExists, FeatureNotFound, StoreError

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
        return ApiError(404, "NotFound", str(exc))
    # The operator's log has the database's own words; the client gets no internals.
    log.error("store failed: %s", exc)
    if request.method in ("GET", "HEAD"):
        return ApiError(503, "StoreUnavailable", "The data could not be read right now; try again later")
    return ApiError(
        503, "StoreUnavailable", "The change could not be saved and nothing was changed; try again later"
    )


def init_app(app: Flask) -> None:
    @app.errorhandler(ApiError)
    def _api_error(exc: ApiError) -> Response:
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
        if status == 404:
            description = "No such resource. The API starts at /api."
        response = error_response(status, _HTTP_CODES.get(status, exc.name.replace(" ", "")), description)
        if status == 405 and exc.get_headers():
            for key, value in exc.get_headers():
                if key.lower() == "allow":
                    response.headers["Allow"] = value
        return response

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> Response:
        # Logged with the trace for the operator; the client only learns that it failed.
        log.exception("unhandled error")
        return error_response(
            500, "ServerError", "The server failed to answer this request. The error has been logged."
        )
