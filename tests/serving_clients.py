"""Clients for the serving tests (tests/e2e/test_serving.py, test_nginx.py): slow, idle and raw."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
import urllib.request

from tests.conftest import Server

NORMAL = "/api/collections/contact-offices/items/kobb-jena-winzerla"


def port_of(server: Server) -> int:
    return int(server.url.rsplit(":", 1)[1])


def normal_requests(url: str, count: int) -> list[int | str]:
    """``count`` GETs one after another, each on a new connection: status, or what went wrong."""
    outcomes: list[int | str] = []
    for _ in range(count):
        try:
            # Generous: an answer at all, not a speed. A server whose threads are all held
            # by slow clients does not answer within it.
            with urllib.request.urlopen(url + NORMAL, timeout=8) as response:
                response.read()
                outcomes.append(response.status)
        except OSError as exc:
            outcomes.append(type(exc).__name__)
            break  # one is enough to fail; the rest would only wait as long again
    return outcomes


class Clients:
    """``count`` connections that send nothing (idle) or a request line and then one header
    line every ``interval`` seconds, never the blank line that ends the headers (slowloris).

    ``answered_first``: each connection first gets one whole answer, and its slow request
    starts at once behind it, while the thread that answered may still wait for the next one
    (BufferingWorker._next_request_follows)."""

    def __init__(
        self, port: int, count: int, slow: bool, interval: float = 1.0, answered_first: bool = False
    ) -> None:
        self.socks = [socket.create_connection(("127.0.0.1", port), timeout=5) for _ in range(count)]
        if answered_first:
            for sock in self.socks:
                sock.sendall(b"GET /api/conformance HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
                status, _, _ = read_answer(sock)
                assert status == 200
                sock.send(b"GET /api HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        self.slow, self.interval = slow, interval
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self.trickle, daemon=True)

    def trickle(self) -> None:
        line = 0
        while self.slow and not self.stopping.wait(self.interval if line else 0):
            for sock in self.socks:
                data = b"GET /api HTTP/1.1\r\nHost: 127.0.0.1\r\n" if not line else b"X-a: b\r\n"
                with contextlib.suppress(OSError):  # closed by the server: that is allowed
                    sock.send(data)
            line += 1

    def __enter__(self) -> Clients:
        self.thread.start()
        time.sleep(0.5)  # every connection has sent its first line
        return self

    def __exit__(self, *_: object) -> None:
        self.stopping.set()
        self.thread.join()
        for sock in self.socks:
            sock.close()


def raw(port: int, data: bytes, wait: float = 10) -> tuple[int, dict[str, str], bytes]:
    """Send ``data`` as it is and read the whole answer: status, headers, body."""
    with socket.create_connection(("127.0.0.1", port), timeout=wait) as sock:
        # The server may answer and close before it has taken all of it.
        with contextlib.suppress(OSError):
            sock.sendall(data)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
            if b"\r\n\r\n" in answer and _whole(answer):
                break
    head, _, body = answer.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    return int(lines[0].split()[1]), headers, body


def _whole(answer: bytes) -> bool:
    head, _, body = answer.partition(b"\r\n\r\n")
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            return len(body) >= int(line.split(b":")[1])
    return False


def read_answer(sock: socket.socket, buffered: bytearray | None = None) -> tuple[int, dict[str, str], bytes]:
    """One answer with a Content-Length from a kept-alive connection: status, headers, body.
    Bytes read past it (the next answer's) stay in ``buffered``."""
    data = buffered if buffered is not None else bytearray()
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        assert chunk, "the server closed the connection"
        data += chunk
    end = data.index(b"\r\n\r\n")
    lines = bytes(data[:end]).decode("latin-1").split("\r\n")
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    need = end + 4 + int(headers["content-length"])
    while len(data) < need:
        chunk = sock.recv(65536)
        assert chunk, "the server closed the connection"
        data += chunk
    body = bytes(data[end + 4 : need])
    del data[:need]
    return int(lines[0].split()[1]), headers, body
