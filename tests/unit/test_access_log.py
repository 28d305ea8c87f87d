"""The access log's lines are gunicorn's own, character for character, for every kind of
request: the fast logger only skips building the atoms the default format does not name."""

from __future__ import annotations

import base64
import datetime as dt
import logging
from typing import Any

import pytest
from gunicorn import glogging
from gunicorn.config import Config

from mapservice.http.access_log import AccessLogger


class _Response:
    def __init__(self, status: str | int, sent: int | None) -> None:
        self.status = status
        self.sent = sent
        self.headers = [("Content-Type", "application/json")]


class _Request:
    def __init__(self) -> None:
        self.headers = [("HOST", "127.0.0.1"), ("USER-AGENT", "GDAL/3.6.2")]


class _Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


def _line(logger_class: type[glogging.Logger], environ: dict[str, Any], response: _Response) -> str:
    cfg = Config()
    cfg.set("accesslog", "-")
    logger = logger_class(cfg)
    lines = _Lines()
    logger.access_log.handlers = [lines]
    logger.access(response, _Request(), environ, dt.timedelta(microseconds=1234))
    assert len(lines.lines) == 1
    return lines.lines[0]


def _environ(**more: str) -> dict[str, Any]:
    return {
        "REMOTE_ADDR": "127.0.0.1",
        "REQUEST_METHOD": "GET",
        "RAW_URI": "/api/collections/municipalities/items?bbox=11.45,50.85,11.70,51.0&limit=1000",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "PATH_INFO": "/api/collections/municipalities/items",
        "QUERY_STRING": "bbox=11.45,50.85,11.70,51.0&limit=1000",
        **more,
    }


BASIC = "Basic " + base64.b64encode(b'planer"in:geheim').decode()


@pytest.mark.parametrize(
    ("environ", "response"),
    [
        (
            _environ(HTTP_USER_AGENT="GDAL/3.6.2", HTTP_REFERER="http://127.0.0.1/karte"),
            _Response("200 OK", 112634),
        ),
        (_environ(), _Response(304, 0)),
        (
            _environ(RAW_URI='/api?q="%22%s', HTTP_USER_AGENT='Mozilla "quoted"'),
            _Response("404 NOT FOUND", None),
        ),
        (_environ(HTTP_AUTHORIZATION=BASIC, REQUEST_METHOD="POST"), _Response("201 CREATED", 57)),
        (_environ(HTTP_AUTHORIZATION="Bearer abc"), _Response("401 UNAUTHORIZED", 120)),
        (_environ(HTTP_AUTHORIZATION="Basic !!!"), _Response("200 OK", 1)),
        # Behind a PROXY protocol LOCAL header gunicorn knows no client address.
        ({**_environ(), "REMOTE_ADDR": None}, _Response("200 OK", 2)),
    ],
)
def test_an_access_line_is_the_one_gunicorn_writes(
    environ: dict[str, Any], response: _Response, monkeypatch: pytest.MonkeyPatch
) -> None:
    # One second for both: the two lines are written a moment apart.
    monkeypatch.setattr(glogging.time, "strftime", lambda _: "[04/Dec/2026:21:45:07 +0000]")
    ours = _line(AccessLogger, environ, response)
    assert ours == _line(glogging.Logger, environ, response)
    assert '"' + environ["REQUEST_METHOD"] in ours  # the request line is there, quoted


def test_another_log_format_is_gunicorns_to_write() -> None:
    cfg = Config()
    cfg.set("accesslog", "-")
    cfg.set("access_log_format", "%(m)s %(U)s %(D)s")
    logger = AccessLogger(cfg)
    lines = _Lines()
    logger.access_log.handlers = [lines]
    logger.access(_Response("200 OK", 5), _Request(), _environ(), dt.timedelta(microseconds=1234))
    assert lines.lines == ["GET /api/collections/municipalities/items 1234"]
