"""`mapservice serve` itself against slow, idle and malformed clients (issue 15).

gunicorn's gthread worker gave each connection a thread as soon as its first byte arrived:
thirty clients sending one header line every few seconds held every thread, and normal
visitors got no answer. Its own 400/414/431 answers were HTML, and every instance of a user
shared one control socket. These tests talk to a real server over raw sockets.
"""

from __future__ import annotations

import json
import socket
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Server, start_server, stop_server
from tests.serving_clients import Clients, normal_requests, port_of, raw, read_answer

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("home")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, home: Path) -> Iterator[Server]:
    """A server on a GeoPackage of its own, with its own HOME and XDG_RUNTIME_DIR: gunicorn put
    its control socket into one of them."""
    (home / "run").mkdir()
    instance = tmp_path_factory.mktemp("instance")
    env = {"MAPSERVICE_STORE": "", "HOME": str(home), "XDG_RUNTIME_DIR": str(home / "run")}
    started, log = start_server(instance, env)
    yield started
    stop_server(started, log)


@pytest.mark.parametrize("slow", [True, False], ids=["slowloris", "idle"])
def test_slow_and_idle_clients_do_not_stop_normal_requests(server: Server, slow: bool) -> None:
    # 2 workers × 4 threads: 30 such connections held every thread of the gthread worker.
    with Clients(port_of(server), 30, slow):
        outcomes = normal_requests(server.url, 12)
    assert outcomes == [200] * 12


def test_slow_requests_right_behind_an_answer_do_not_stop_normal_requests(server: Server) -> None:
    # The thread that answered waits a moment for the next request on its connection: one that
    # then arrives in pieces must go back to the event loop, not keep the thread.
    with Clients(port_of(server), 30, slow=True, answered_first=True):
        outcomes = normal_requests(server.url, 12)
    assert outcomes == [200] * 12


def test_requests_one_after_another_on_one_connection_get_their_own_answers(server: Server) -> None:
    """Each request of a kept-alive connection gets its own answer, whether it comes after the
    previous answer (as a paging client's) or in the same packet (pipelined)."""
    paths = ["/api/conformance", "/api/collections", "/api", "/api/collections/districts"]
    expected = []
    for path in paths:
        with urllib.request.urlopen(server.url + path, timeout=10) as response:
            expected.append(json.loads(response.read()))

    host = f"127.0.0.1:{port_of(server)}"  # as urllib sends it: the links name the host

    def request(path: str) -> bytes:
        return f"GET {path} HTTP/1.1\r\nHost: {host}\r\nAccept: application/json\r\n\r\n".encode()

    with socket.create_connection(("127.0.0.1", port_of(server)), timeout=10) as sock:
        buffered = bytearray()
        for _ in range(3):
            for path, document in zip(paths, expected, strict=True):
                sock.sendall(request(path))
                status, _, body = read_answer(sock, buffered)
                assert (status, json.loads(body)) == (200, document), path
        sock.sendall(b"".join(request(path) for path in paths))
        for path, document in zip(paths, expected, strict=True):
            status, _, body = read_answer(sock, buffered)
            assert (status, json.loads(body)) == (200, document), path
        assert not buffered


HOST = b"Host: 127.0.0.1\r\n"


@pytest.mark.parametrize(
    ("request_bytes", "status"),
    [
        (b"NOT A REQUEST LINE\r\n\r\n", 400),
        (b"GET /api HTTP/1.1\r\n" + HOST + b"Bad\x01Name: x\r\n\r\n", 400),
        (b"GET /api?q=" + b"a" * 5000 + b" HTTP/1.1\r\n" + HOST + b"\r\n", 414),
        (b"GET /api HTTP/1.1\r\n" + HOST + b"X-Big: " + b"b" * 9000 + b"\r\n\r\n", 431),
        (
            b"GET /api HTTP/1.1\r\n"
            + HOST
            + b"".join(b"X-%d: %s\r\n" % (i, b"c" * 4000) for i in range(20))
            + b"\r\n",
            431,
        ),
        (
            b"PUT /api/collections/districts/items/x HTTP/1.1\r\n"
            + HOST
            + b"Content-Type: application/json\r\nContent-Length: 17000000\r\n\r\n"
            + b"{" * 100_000,
            413,
        ),
        (
            b"PUT /api/collections/districts/items/x HTTP/1.1\r\n"
            + HOST
            + b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
            + b"%x\r\n" % (17 << 20)
            + b"{" * 100_000,
            413,
        ),
    ],
    ids=[
        "request-line",
        "header-name",
        "uri-too-long",
        "header-too-large",
        "headers-too-large",
        "body-too-large",
        "chunked-body-too-large",
    ],
)
def test_server_level_errors_are_json(server: Server, request_bytes: bytes, status: int) -> None:
    got, headers, body = raw(port_of(server), request_bytes)
    assert got == status, body[:300]
    assert headers["content-type"] == "application/json"
    error: dict[str, Any] = json.loads(body)
    assert set(error) == {"code", "description"}, error
    assert isinstance(error["code"], str) and error["description"]


def test_a_body_behind_expect_100_continue_is_read(server: Server) -> None:
    """The server reads whole requests before answering; a client that waits for "100 Continue"
    before it sends its body must get it, or both would wait for each other."""
    body = b'{"type": "Feature"}'
    with socket.create_connection(("127.0.0.1", port_of(server)), timeout=10) as sock:
        sock.sendall(
            b"POST /api/collections/districts/items HTTP/1.1\r\n"
            + HOST
            + b"Content-Type: application/geo+json\r\nExpect: 100-continue\r\n"
            + b"Content-Length: %d\r\nConnection: close\r\n\r\n" % len(body)
        )
        assert sock.recv(1024).startswith(b"HTTP/1.1 100 Continue\r\n\r\n")
        sock.sendall(body)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    # A write without a token: refused, as JSON, once the body has arrived.
    assert answer.startswith(b"HTTP/1.1 401"), answer[:300]
    assert b"100 Continue" not in answer


def test_no_control_socket_is_shared_between_instances(server: Server, home: Path) -> None:
    # gunicorn 27 opened $XDG_RUNTIME_DIR/gunicorn.ctl (or ~/.gunicorn/gunicorn.ctl): the same
    # path for every instance of one user, so a command could reach the wrong instance.
    with urllib.request.urlopen(server.url + "/api", timeout=10) as response:
        assert response.status == 200
    assert [p.name for p in home.rglob("*.ctl")] == []
