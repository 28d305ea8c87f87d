"""Start `mapservice serve` (gunicorn) on a free port of 127.0.0.1 for a benchmark script."""

from __future__ import annotations

import http.client
import os
import socket
import subprocess
import sys
import time


def start(
    instance: str, extra_env: dict[str, str] | None = None, workers: int = 2
) -> tuple[subprocess.Popen[bytes], int]:
    """The server process and its port, once ``/api`` answers 200 (at most 60 s)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    env = {**os.environ, "MAPSERVICE_INSTANCE_PATH": instance, **(extra_env or {})}
    server = subprocess.Popen(
        [sys.executable, "-m", "mapservice", "serve", "--port", str(port), "--workers", str(workers)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while True:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            conn.request("GET", "/api")
            if conn.getresponse().status == 200:
                return server, port
        except OSError:
            if time.monotonic() > deadline:
                server.terminate()
                raise
            time.sleep(0.2)
