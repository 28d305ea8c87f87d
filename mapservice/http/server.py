"""The serving stack of ``mapservice serve``: gunicorn's threaded worker, but a request reaches a
thread only once it has arrived whole.

Why: gunicorn's gthread worker hands a connection to one of its few threads as soon as the
first byte arrives, and the thread then waits for the rest of the headers with no time limit.
Thirty clients that send one header line every five seconds ("slowloris") held every thread,
and most normal requests failed. gunicorn 27 only defers connections that send *nothing* for
five seconds; a client that sends one byte still takes a thread.

Here no thread waits for a slow client. When a connection becomes readable, a thread takes
what has arrived without waiting (a non-blocking read) and answers the request if it is whole,
which it nearly always is: a browser or program sends its request in one packet. If it is not,
the connection goes back to the worker's event loop with what has arrived so far, until more
comes, within a deadline (HEADER_TIMEOUT, BODY_IDLE_TIMEOUT, BODY_TOTAL): a slow or idle client
costs a file descriptor and a few kilobytes, never a thread. The one wait: a thread that has
answered watches its connection for a millisecond (NEXT_REQUEST_WAIT_MS), for a client that
sends its next request at once. What is wrong with the request itself (request line or headers
too long, body too large, too slow) is answered at once, as JSON in the service's error shape
``{"code", "description"}``, and gunicorn's own error answers (a malformed request line or
header) are JSON too.

Everything else stays gunicorn: several processes, preload, post_fork, the worker timeout,
keep-alive, graceful restarts. A public deployment still belongs behind nginx
(deploy/nginx/mapservice.conf), which limits connections and request rates per client.
"""

from __future__ import annotations

import contextlib
import errno
import json
import select
import selectors
import socket
import time
from concurrent.futures import Future
from functools import partial
from typing import Any

from gunicorn import util
from gunicorn.http import wsgi
from gunicorn.workers.gthread import STOP_KEEPALIVE_LINGER, TConn, ThreadWorker

# A client has this long from connecting (or, on a kept-alive connection, from its first byte)
# to send the whole request line and headers. Browsers and programs send them in one packet.
HEADER_TIMEOUT = 10.0
# A body must keep coming: at most this long without a byte, and all of it within BODY_TOTAL.
BODY_IDLE_TIMEOUT = 10.0
BODY_TOTAL = 120.0
# Request line and headers together; nginx's default large_client_header_buffers is 4 × 8 KiB.
MAX_HEADER_BYTES = 64 * 1024
# The same bound as Flask's MAX_CONTENT_LENGTH in create_app: a written feature is at most a
# municipality's outline.
MAX_BODY_BYTES = 16 << 20
# After an error answer the client may still be sending (a 17 MB body): read and drop for this
# long, so that closing does not reset the connection before the client has read the answer.
LINGER = 2.0
# Below glibc malloc's mmap threshold (128 KiB): a larger recv buffer costs an mmap per read.
RECV_SIZE = 64 * 1024
# Longest wait for a client to take the next part of an answer.
SEND_TIMEOUT = 30.0

# At most this often the worker tells the arbiter it is alive (gunicorn's heartbeat file).
HEARTBEAT_INTERVAL = 1.0
# How long a thread that has answered waits for the same client's next request (see
# BufferingWorker._next_request_follows).
NEXT_REQUEST_WAIT_MS = 1
# Answers up to this size leave in one send, status line, headers and body together.
ONE_SEND_BYTES = 256 * 1024

# Status → the code word in the JSON error, like mapservice/http/errors.py's codes.
CODES = {
    400: ("Bad Request", "BadRequest"),
    403: ("Forbidden", "Forbidden"),
    408: ("Request Timeout", "RequestTimeout"),
    413: ("Content Too Large", "PayloadTooLarge"),
    414: ("URI Too Long", "URITooLong"),
    417: ("Expectation Failed", "ExpectationFailed"),
    431: ("Request Header Fields Too Large", "RequestHeaderFieldsTooLarge"),
    500: ("Internal Server Error", "ServerError"),
    501: ("Not Implemented", "NotImplemented"),
}


def error_bytes(status: int, description: str) -> bytes:
    """A whole HTTP/1.1 answer with the service's JSON error body; the connection then closes."""
    reason, code = CODES.get(status, ("Error", "Error"))
    # gunicorn's message may quote what the client sent: keep it short (JSON escapes the rest).
    if len(description) > 300:
        description = description[:300] + "…"
    body = json.dumps({"code": code, "description": description}).encode()
    head = (
        f"HTTP/1.1 {status} {reason}\r\n"
        "Content-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n"
        "Cache-Control: no-store\r\n"
        "Connection: close\r\n\r\n"
    )
    return head.encode("latin-1") + body


def write_json_error(sock: socket.socket, status_int: int, reason: str, mesg: str) -> None:
    """Stands in for gunicorn.util.write_error, which answers HTML (see install())."""
    description = mesg or reason
    if status_int >= 500 and status_int != 501:
        description = "the server could not answer this request"
    util.write_nonblock(sock, error_bytes(status_int, description))


class OneSendResponse(wsgi.Response):  # type: ignore[misc]
    """gunicorn's response, but the headers go out with the first body bytes.

    gunicorn sends the status line and headers in one ``sendall`` and each body chunk in
    another: two system calls, each letting go of the GIL and waiting to get it back behind the
    busy threads, for an answer that fits one segment. A body that is not chunked and not too
    large is sent together with its headers; everything else goes the way gunicorn sends it.
    """

    headers_sent: bool
    sent: int

    def write(self, arg: bytes) -> None:
        if (
            self.headers_sent
            or not isinstance(arg, bytes)
            or self.chunked
            or self._omits_body
            or len(arg) > ONE_SEND_BYTES
            or (self.response_length is not None and len(arg) > self.response_length)
        ):
            super().write(arg)
            return
        head = self.default_headers()
        head.extend(["%s: %s\r\n" % (k, v) for k, v in self.headers])  # noqa: UP031 (as gunicorn)
        self.sock.sendall(util.to_bytestring("%s\r\n" % "".join(head), "latin-1") + arg)  # noqa: UP031
        self.headers_sent = True
        self.sent += len(arg)


def install() -> None:
    """Make gunicorn's own error answers (400, 414, 431, …) JSON, and send small answers in one
    go (OneSendResponse).

    gunicorn has no setting for either; its workers call these module globals.
    """
    util.write_error = write_json_error
    wsgi.Response = OneSendResponse


class _Reading:
    """A request being read by the event loop."""

    __slots__ = (
        "body_deadline",
        "buf",
        "chunk_at",
        "continued",
        "deadline",
        "header_end",
        "need",
    )

    def __init__(self, data: bytes, deadline: float) -> None:
        self.buf = bytearray(data)
        self.deadline = deadline
        self.header_end = -1  # offset just after the blank line, once found
        self.need = -1  # total bytes of the request, once known
        self.chunk_at = -1  # offset of the next chunk-size line of a chunked body
        self.continued = False  # "100 Continue" sent
        self.body_deadline = float("inf")


class _Framing:
    """Result of looking at a buffer: wait, dispatch ``end`` bytes, or answer an error."""

    __slots__ = ("end", "error")

    def __init__(self, end: int = -1, error: tuple[int, str] | None = None) -> None:
        self.end = end
        self.error = error


WAIT = _Framing()
# What a thread returns when the request has not arrived whole: the loop waits for more.
_MORE = object()


def _header_fields(head: bytes) -> tuple[bytes, dict[bytes, list[bytes]]]:
    lines = head.split(b"\r\n")
    fields: dict[bytes, list[bytes]] = {}
    for line in lines[1:]:
        name, sep, value = line.partition(b":")
        if sep:
            fields.setdefault(name.strip().lower(), []).append(value.strip())
    return lines[0], fields


def frame(state: _Reading, limit_request_line: int) -> _Framing:
    """Where the request in ``state.buf`` ends, if it has arrived whole.

    Only what decides *when* to dispatch is checked here. Anything odd (bare LF line ends,
    two Content-Lengths, an unknown transfer coding) is dispatched as it is, and gunicorn's
    parser answers it with its 400 (as JSON, see install()).
    """
    buf = state.buf
    if state.header_end < 0:
        first_line = buf.find(b"\n", 0, limit_request_line + 2)
        if first_line < 0 and len(buf) > limit_request_line + 1:
            return _Framing(error=(414, f"the request line is longer than {limit_request_line} bytes"))
        end = buf.find(b"\r\n\r\n", 0, MAX_HEADER_BYTES)
        if end < 0:
            bare = buf.find(b"\n\n", 0, MAX_HEADER_BYTES)
            if bare >= 0:
                return _Framing(end=len(buf))
            if len(buf) >= MAX_HEADER_BYTES:
                return _Framing(error=(431, f"the request headers are longer than {MAX_HEADER_BYTES} bytes"))
            return WAIT
        state.header_end = end + 4
        request_line, fields = _header_fields(bytes(buf[:end]))
        codings = b",".join(fields.get(b"transfer-encoding", [])).lower()
        lengths = fields.get(b"content-length", [])
        if codings:
            if lengths or codings.replace(b" ", b"").split(b",")[-1] != b"chunked":
                return _Framing(end=len(buf))  # gunicorn refuses it
            state.chunk_at = state.header_end
        elif lengths:
            if len(lengths) > 1 or not lengths[0].isdigit():
                return _Framing(end=len(buf))
            size = int(lengths[0])
            if size > MAX_BODY_BYTES:
                return _Framing(error=(413, f"the request body is larger than {MAX_BODY_BYTES} bytes"))
            state.need = state.header_end + size
        else:
            state.need = state.header_end
        state.continued = not (
            b"100-continue" in b",".join(fields.get(b"expect", [])).lower()
            and request_line.endswith(b"HTTP/1.1")
        )
    if state.chunk_at >= 0:
        return _frame_chunked(state)
    if len(buf) >= state.need:
        return _Framing(end=state.need)
    return WAIT


def _frame_chunked(state: _Reading) -> _Framing:
    buf = state.buf
    while True:
        line_end = buf.find(b"\r\n", state.chunk_at, state.chunk_at + 1024)
        if line_end < 0:
            if len(buf) - state.chunk_at > 1024:
                return _Framing(end=len(buf))  # no chunk-size line: gunicorn answers 400
            return WAIT
        size_text = bytes(buf[state.chunk_at : line_end]).split(b";", 1)[0].strip()
        try:
            size = int(size_text, 16)
        except ValueError:
            return _Framing(end=len(buf))
        if size == 0:
            # The trailer section ends with an empty line.
            if buf[line_end + 2 : line_end + 4] == b"\r\n":
                return _Framing(end=line_end + 4)
            trailer_end = buf.find(b"\r\n\r\n", line_end + 2)
            if trailer_end < 0:
                if len(buf) - line_end > MAX_HEADER_BYTES:
                    return _Framing(error=(431, "the trailer fields are too long"))
                return WAIT
            return _Framing(end=trailer_end + 4)
        data_end = line_end + 2 + size + 2
        if data_end - state.header_end > MAX_BODY_BYTES + 64 * 1024:
            return _Framing(error=(413, f"the request body is larger than {MAX_BODY_BYTES} bytes"))
        if len(buf) < data_end:
            return WAIT
        state.chunk_at = data_end


class _BoundedUnreader:
    """Mixed into the parser's socket unreader: the whole request is in its buffer already,
    so a read from the socket means the framing above and gunicorn's parser disagree. It then
    waits a little, never as long as a slow client would like."""

    def chunk(self, size_hint: int | None = None) -> bytes:
        sock: socket.socket = self.sock  # type: ignore[attr-defined]
        with selectors.DefaultSelector() as sel:
            sel.register(sock, selectors.EVENT_READ)
            if not sel.select(BODY_IDLE_TIMEOUT):
                return b""
        return sock.recv(RECV_SIZE)


_BOUNDED: dict[type, type] = {}


def _bounded(kind: type) -> type:
    if kind not in _BOUNDED:
        _BOUNDED[kind] = type("Bounded" + kind.__name__, (_BoundedUnreader, kind), {})
    return _BOUNDED[kind]


class BufferingWorker(ThreadWorker):  # type: ignore[misc]
    """gunicorn's gthread worker in which no thread ever waits for a client.

    When a connection becomes readable, a thread takes what has arrived without waiting
    (a non-blocking read) and answers the request if it is whole, which it nearly always is:
    a browser sends its request in one packet. If it is not, the connection goes back to the
    event loop with what has arrived so far until more comes, within a deadline. The reads
    stay in the threads, as in gthread: in the loop, every read would wait for the GIL
    behind the busy threads.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.reading: dict[TConn, _Reading] = {}  # waiting in the poller for (more of) a request
        self.lingering: dict[socket.socket, float] = {}
        self._heartbeat_at = float("-inf")

    def notify(self) -> None:
        """Tell the arbiter this worker is alive, at most once a second.

        gthread touches its heartbeat file at every turn of its loop, which turns at least
        twice per request; the system call lets go of the GIL, and getting it back behind a
        busy thread was a tenth of a small request's time. The arbiter restarts a worker only
        after ``--timeout`` seconds (at least one) without a touch.
        """
        now = time.monotonic()
        if now - self._heartbeat_at >= min(HEARTBEAT_INTERVAL, self.timeout / 4):
            self._heartbeat_at = now
            super().notify()

    # -- in the loop: connections waiting for bytes ------------------------------------------

    def accept(self, listener: socket.socket) -> None:
        try:
            client_sock, client_addr = listener.accept()
        except OSError as e:
            if e.errno not in (errno.EAGAIN, errno.ECONNABORTED, errno.EWOULDBLOCK, errno.EMFILE):
                raise
            return
        self.nr_conns += 1
        conn = TConn(self.cfg, client_sock, client_addr, listener.getsockname())
        conn.state = _Reading(b"", time.monotonic() + HEADER_TIMEOUT)
        self._wait(conn)

    def on_client_socket_readable(self, conn: TConn, client: socket.socket) -> None:
        """A kept-alive connection sends its next request."""
        self.poller.unregister(client)
        self.keepalived_conns.remove(conn)
        conn.state = _Reading(b"", time.monotonic() + HEADER_TIMEOUT)
        self.enqueue_req(conn)

    def _wait(self, conn: TConn) -> None:
        conn.sock.setblocking(False)
        self.reading[conn] = conn.state
        self.poller.register(conn.sock, selectors.EVENT_READ, partial(self._on_readable, conn))

    def _on_readable(self, conn: TConn, client: socket.socket) -> None:
        self.poller.unregister(client)
        del self.reading[conn]
        self.enqueue_req(conn)

    # -- in a thread -------------------------------------------------------------------------

    def handle(self, conn: TConn) -> Any:
        while True:
            result = self._handle_one(conn)
            if result is not True or not self._next_request_follows(conn):
                return result

    def _next_request_follows(self, conn: TConn) -> bool:
        """Whether this thread answers the connection's next request too, as it comes at once.

        A client that pages or loads one resource after another sends its next request within
        a fraction of a millisecond. Through the loop, that request costs two hand-overs
        between threads (loop to thread, thread back to loop), each waiting for the GIL:
        /api/conformance took 0.61 ms that way and takes 0.43 ms this way (wrk, 1 connection).
        So the thread waits for it a little, never longer than NEXT_REQUEST_WAIT_MS, and only
        while no other request waits for a thread (the pool's queue has no public size). What it
        then reads goes through ``_take`` as any request does: one that has not arrived whole
        goes back to the loop.
        """
        if not self.alive:
            return False
        rest = conn.parser.unreader.take_buffered() + conn.rest_bytes
        conn.rest_bytes = b""
        if not rest:
            if not self.tpool._work_queue.empty():
                return False
            waiting = select.poll()
            waiting.register(conn.sock, select.POLLIN)
            if not waiting.poll(NEXT_REQUEST_WAIT_MS):
                return False
        conn.state = _Reading(rest, time.monotonic() + HEADER_TIMEOUT)
        conn.sock.setblocking(False)
        return True

    def _handle_one(self, conn: TConn) -> Any:
        state: _Reading = conn.state
        outcome = self._take(conn, state)
        if outcome is not None:
            return outcome
        conn.state = None
        conn.sock.setblocking(True)
        conn.init()
        unreader = conn.parser.unreader
        if not isinstance(unreader, _BoundedUnreader):
            unreader.__class__ = _bounded(type(unreader))
        unreader.unread(conn.request_bytes)
        conn.request_bytes = b""
        conn.data_ready = True
        return super().handle(conn)

    def _take(self, conn: TConn, state: _Reading) -> Any:
        """Read what has arrived; None when the request is whole, else what the loop does next."""
        limit = self.cfg.limit_request_line or 8190
        result = frame(state, limit) if state.buf else WAIT
        if result is WAIT:
            try:
                data = conn.sock.recv(RECV_SIZE)
            except (BlockingIOError, InterruptedError):
                return _MORE
            except OSError:
                data = b""
            if not data:
                return False  # the client has gone
            had_headers = state.header_end >= 0
            state.buf += data
            result = frame(state, limit)
            now = time.monotonic()
            if state.header_end >= 0 and not had_headers:
                state.body_deadline = now + BODY_TOTAL
            if state.header_end >= 0:
                state.deadline = min(now + BODY_IDLE_TIMEOUT, state.body_deadline)
        if result.error is not None:
            return result.error
        if result.end < 0:
            if not state.continued and state.header_end >= 0:
                # The client waits for this before it sends the body.
                state.continued = True
                self._send_quietly(conn.sock, b"HTTP/1.1 100 Continue\r\n\r\n")
            return _MORE
        conn.request_bytes = bytes(state.buf[: result.end])
        conn.rest_bytes = bytes(state.buf[result.end :])
        conn.sent_continue = state.header_end >= 0 and state.continued and result.end > state.header_end
        return None

    def handle_request(self, req: Any, conn: TConn) -> Any:
        if getattr(conn, "sent_continue", False):
            req._expected_100_continue = False  # answered already
        # A client that stops reading the answer must not hold this thread for ever.
        conn.sock.settimeout(SEND_TIMEOUT)
        return super().handle_request(req, conn)

    # -- back in the loop --------------------------------------------------------------------

    def finish_request(self, conn: TConn, fs: Future[Any]) -> None:
        try:
            result = fs.result() if not fs.cancelled() else False
            if result is _MORE:
                if self.alive or conn.state.buf:
                    self._wait(conn)
                else:
                    self.nr_conns -= 1
                    conn.close()
                return
            if isinstance(result, tuple):
                self._answer_error(conn, *result)
                return
            if not result:
                self.nr_conns -= 1
                conn.close(graceful=True)
                return
            # Bytes the client sent after this request: the start of its next one.
            rest = conn.parser.unreader.take_buffered() + conn.rest_bytes
            conn.rest_bytes = b""
            if rest:
                conn.state = _Reading(rest, time.monotonic() + HEADER_TIMEOUT)
                conn.sock.setblocking(False)
                self.enqueue_req(conn)
                return
            conn.sock.setblocking(False)
            conn.set_timeout()
            if not self.alive:
                conn.timeout = min(conn.timeout, time.monotonic() + STOP_KEEPALIVE_LINGER)
            self.keepalived_conns.append(conn)
            self.poller.register(
                conn.sock, selectors.EVENT_READ, partial(self.on_client_socket_readable, conn)
            )
        except Exception:
            self.nr_conns -= 1
            conn.close()

    def murder_pending(self) -> None:
        """Once a second: close requests that are too slow, and lingering sockets."""
        super().murder_pending()
        now = time.monotonic()
        for conn, state in list(self.reading.items()):
            # A stopping worker does not wait for requests that have not even begun.
            if state.deadline <= now or not (self.alive or state.buf):
                self.poller.unregister(conn.sock)
                del self.reading[conn]
                if state.buf:
                    self._answer_error(conn, 408, "the request did not arrive in time")
                else:
                    self.nr_conns -= 1
                    conn.close()
        for sock, until in list(self.lingering.items()):
            if until <= now:
                self._close_lingering(sock)

    # -- closing -----------------------------------------------------------------------------

    @staticmethod
    def _send_quietly(sock: socket.socket, data: bytes) -> None:
        with contextlib.suppress(OSError):
            sock.send(data)  # small: fits the socket's send buffer

    def _answer_error(self, conn: TConn, status: int, description: str) -> None:
        """Answer a request that cannot be served, in the loop, and close the connection."""
        self.log.warning("Invalid request from ip=%s: %s", conn.client[0], description)
        sock = conn.sock
        sock.setblocking(False)
        self._send_quietly(sock, error_bytes(status, description))
        try:
            sock.shutdown(socket.SHUT_WR)
        except OSError:
            self.nr_conns -= 1
            util.close(sock)
            return
        # Read and drop what the client still sends, so that it gets to read the answer.
        self.lingering[sock] = time.monotonic() + LINGER
        self.poller.register(sock, selectors.EVENT_READ, self._on_lingering)

    def _on_lingering(self, sock: socket.socket) -> None:
        try:
            if sock.recv(RECV_SIZE):
                return
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            pass
        self._close_lingering(sock)

    def _close_lingering(self, sock: socket.socket) -> None:
        self.lingering.pop(sock, None)
        with contextlib.suppress(KeyError, ValueError, OSError):
            self.poller.unregister(sock)
        self.nr_conns -= 1
        util.close(sock)

    def run(self) -> None:
        try:
            super().run()
        finally:
            for conn in list(self.reading):
                conn.close()
            for sock in list(self.lingering):
                util.close(sock)


def connection_limit() -> int:
    """Connections one worker holds at most (gunicorn's worker_connections, default 1000).

    Every connection is a file descriptor: below the process's limit, with room for the
    store, the logs and the listening socket, so that accept() never fails for want of one.
    The soft limit is raised to the hard one first.
    """
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or soft < hard:
        wanted = 65536 if hard == resource.RLIM_INFINITY else hard
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
            soft = wanted
        except (ValueError, OSError):
            pass
    return max(50, min(1000, soft - 100))
