"""What goes on the wire per answer (mapservice/http/server.py, OneSendResponse): a small answer
leaves in one send, status line, headers and body together; large, chunked and HEAD answers
go out the way gunicorn sends them."""

from __future__ import annotations

from typing import Any

from gunicorn.config import Config
from gunicorn.http.parser import RequestParser

from mapservice.http.server import ONE_SEND_BYTES, OneSendResponse


class RecordingSocket:
    """Stands in for the client's socket: keeps each sendall."""

    def __init__(self) -> None:
        self.sends: list[bytes] = []

    def sendall(self, data: bytes) -> None:
        self.sends.append(bytes(data))


def answer(method: str, headers: list[tuple[str, str]], *chunks: bytes) -> list[bytes]:
    cfg = Config()
    request = f"{method} /api/conformance HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode()
    req: Any = next(RequestParser(cfg, [request], ("127.0.0.1", 40000)))
    sock = RecordingSocket()
    response = OneSendResponse(req, sock, cfg)
    response.start_response("200 OK", headers)
    for chunk in chunks:
        response.write(chunk)
    response.close()
    return sock.sends


def test_a_small_answer_leaves_in_one_send_with_its_headers() -> None:
    body = b'{"conformsTo":[]}'
    sends = answer("GET", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))], body)
    assert len(sends) == 1
    head, _, sent_body = sends[0].partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 OK\r\n")
    assert b"\r\nContent-Length: 17" in head and b"\r\nConnection: keep-alive" in head
    assert sent_body == body


def test_large_chunked_and_head_answers_go_out_as_gunicorn_sends_them() -> None:
    large = b"x" * (ONE_SEND_BYTES + 1)
    sends = answer("GET", [("Content-Type", "text/plain"), ("Content-Length", str(len(large)))], large)
    assert len(sends) == 2 and sends[0].endswith(b"\r\n\r\n") and sends[1] == large

    # No length: chunked, each chunk framed, then the last chunk.
    sends = answer("GET", [("Content-Type", "text/plain")], b"abc", b"de")
    assert b"Transfer-Encoding: chunked" in sends[0]
    assert b"".join(sends[1:]) == b"3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n"

    # HEAD: the headers of the GET, no body.
    sends = answer("HEAD", [("Content-Type", "text/plain"), ("Content-Length", "5")], b"hello")
    assert len(sends) == 1 and sends[0].endswith(b"\r\n\r\n") and b"hello" not in sends[0]

    # Later writes of an answer that began in one send follow it as they are.
    sends = answer("GET", [("Content-Type", "text/plain"), ("Content-Length", "8")], b"abcd", b"efgh")
    assert sends[0].endswith(b"\r\n\r\nabcd") and sends[1:] == [b"efgh"]
