"""Slow and idle clients against `mapservice serve`: today's server and the new one, side by side.

What it measures
----------------
Two servers are started on free ports of 127.0.0.1, each with its own fresh instance folder
(the GeoPackage store is built from the shipped data on first start) and the same number of
workers and threads:

* **old**: gunicorn's gthread worker exactly as ``mapservice serve`` configured it before issue
  15 (preload, warm caches, post_fork imports, ``--threads 4``), started by OLD_SERVE below;
* **new**: ``python -m mapservice serve`` as it is now (mapservice/http/server.py).

Then each scenario runs against old, then new (then old, new again with ``--rounds 2``), so
both see the same noisy machine. In the slow-client scenarios the attack starts first, then
one normal client sends GET requests back to back for ``--seconds`` seconds, each on a new
connection (a new visitor), with a 10 s timeout:

* ``slowloris-50`` / ``slowloris-200``: 50 / 200 connections that send a request line and then
  one header line every 5 s, never finishing; a connection the server closes is reopened.
* ``idle-200``: 200 connections that connect and send nothing; reopened when closed.

Printed per scenario: normal requests sent / answered (status 200) / failed (other status,
timeout or connection error), and p50 / p99 latency of the answered ones (from sending the
request to having read the whole body). Target for the new server: all answered, p99 < 1 s.

* ``mixed-200``: 200 concurrent keep-alive connections, each sending GETs back to back over a
  mix of real URLs (MIXED) for ``--seconds`` seconds: requests/s, p50, p99, errors.

The load generator is Python on the same machine as the servers: the figures compare the two
servers on one run, they are not a capacity. The column new/old is the ratio.

How to run (from the repository root; only 127.0.0.1 is ever contacted)::

    .venv/bin/python benchmarks/slow_clients.py                 # about 4 minutes
    .venv/bin/python benchmarks/slow_clients.py --seconds 10 --rounds 2
    .venv/bin/python benchmarks/slow_clients.py --stacks old,new,waitress   # waitress importable

Exit code 0 when the new server met the target in every slow/idle scenario, 1 otherwise.
"""

from __future__ import annotations

import argparse
import http.client
import os
import platform
import selectors
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import count

HOST = "127.0.0.1"
NORMAL_TIMEOUT = 10.0
NORMAL_URL = "/api/collections/districts/items?city=Jena&limit=100"
MIXED = (
    "/api/collections/districts/items?city=Jena",
    "/map/jena",
    "/api/locate?lat=50.9&lon=11.58",
    "/api/collections/contact-offices/items/kobb-jena-winzerla",
    "/finder?address=Anna-Siemsen-Str.%2027%2C%20Jena",
)

# Today's `serve` before issue 15 (mapservice/cli.py), with the same app, so that only the
# serving stack differs: gthread worker (sync for one thread), gunicorn's defaults otherwise.
OLD_SERVE = r"""
import sys
from pathlib import Path
import gunicorn.http.wsgi
from gunicorn.app.base import BaseApplication
from mapservice import create_app
from mapservice.cli import _import_in_background

port, workers, threads = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
gunicorn.http.wsgi.SERVER = "mapservice"
app = create_app()
services = app.extensions["mapservice"]
services.warm()
services.close()

class Server(BaseApplication):
    def load_config(self):
        options = {
            "bind": f"127.0.0.1:{port}",
            "workers": workers,
            "threads": threads,
            "worker_class": "gthread" if threads > 1 else "sync",
            "timeout": 30,
            "accesslog": "-",
            "preload_app": True,
            "post_fork": _import_in_background,
            "worker_tmp_dir": "/dev/shm" if Path("/dev/shm").is_dir() else None,
        }
        for key, value in options.items():
            if value is not None:
                self.cfg.set(key, value)

    def load(self):
        return app

Server().run()
"""


# For the record of the choice (--stacks old,new,waitress; needs waitress importable, it is not
# a dependency): waitress also buffers whole requests before a thread gets them, but in one
# process, with threads = workers × threads of the others.
WAITRESS_SERVE = r"""
import sys
import waitress
from mapservice import create_app

port, threads = int(sys.argv[1]), int(sys.argv[2])
app = create_app()
services = app.extensions["mapservice"]
services.warm()
services.close()
waitress.serve(app, host="127.0.0.1", port=port, threads=threads, connection_limit=1000,
               channel_timeout=10, ident="mapservice", _quiet=True)
"""


def default_workers() -> int:
    return min(2 * (os.cpu_count() or 1) + 1, 8)


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    name: str
    process: subprocess.Popen[bytes]
    port: int
    instance: str

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        shutil.rmtree(self.instance, ignore_errors=True)


def start(name: str, workers: int, threads: int) -> Server:
    """A server (old or new) on a free port, once ``/api`` answers 200 (at most 120 s)."""
    port = free_port()
    instance = tempfile.mkdtemp(prefix=f"slow-clients-{name}-")
    env = {**os.environ, "MAPSERVICE_INSTANCE_PATH": instance}
    if name == "old":
        cmd = [sys.executable, "-c", OLD_SERVE, str(port), str(workers), str(threads)]
    elif name == "waitress":
        cmd = [sys.executable, "-c", WAITRESS_SERVE, str(port), str(workers * threads)]
    else:
        cmd = [sys.executable, "-m", "mapservice", "serve", "--host", HOST, "--port", str(port)]
        cmd += ["--workers", str(workers), "--threads", str(threads)]
    process = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    server = Server(name, process, port, instance)
    deadline = time.monotonic() + 120
    while True:
        try:
            conn = http.client.HTTPConnection(HOST, port, timeout=10)
            conn.request("GET", "/api")
            if conn.getresponse().status == 200:
                conn.close()
                break
        except OSError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            server.stop()
            raise SystemExit(f"the {name} server did not start")
        time.sleep(0.3)
    # Warm every URL once (the first map page of a worker builds its caches).
    for _ in range(workers * 2):
        for path in MIXED:
            get_once(port, path)
    return server


def get_once(port: int, path: str, timeout: float = NORMAL_TIMEOUT) -> tuple[bool, float]:
    """One GET on a new connection: (answered with 200, seconds until the body was read)."""
    began = time.monotonic()
    conn = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        conn.request("GET", path, headers={"Accept-Encoding": "gzip"})
        response = conn.getresponse()
        response.read()
        return response.status == 200, time.monotonic() - began
    except (OSError, http.client.HTTPException):
        return False, time.monotonic() - began
    finally:
        conn.close()


def percentile(values: list[float], share: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


class Attack:
    """Slow (one header line every ``interval`` s) or idle connections, held open in one thread;
    a connection the server closes is opened again at once."""

    def __init__(self, port: int, connections: int, slow: bool, interval: float = 5.0) -> None:
        self.port, self.connections, self.slow, self.interval = port, connections, slow, interval
        self.stopping = threading.Event()
        self.reopened = 0
        self.thread = threading.Thread(target=self.run, daemon=True)

    def _open(self, sel: selectors.BaseSelector, numbers: count[int]) -> None:
        sock = socket.socket()
        sock.setblocking(False)
        try:
            sock.connect_ex((HOST, self.port))
        except OSError:
            sock.close()
            return
        sel.register(sock, selectors.EVENT_READ, [next(numbers), time.monotonic(), not self.slow])

    def run(self) -> None:
        sel = selectors.DefaultSelector()
        numbers = count()
        for _ in range(self.connections):
            self._open(sel, numbers)
        while not self.stopping.is_set():
            for key, _ in sel.select(0.2):
                sock: socket.socket = key.fileobj  # type: ignore[assignment]
                try:
                    if sock.recv(65536):
                        continue
                except BlockingIOError:
                    continue
                except OSError:
                    pass
                sel.unregister(sock)
                sock.close()
                self.reopened += 1
                self._open(sel, numbers)
            if not self.slow:
                continue
            now = time.monotonic()
            for key in list(sel.get_map().values()):
                data = key.data
                if now < data[1]:
                    continue
                line = (
                    f"X-Slow-{data[0]}: {int(now)}\r\n"
                    if data[2]
                    else f"GET /api?slow={data[0]} HTTP/1.1\r\nHost: {HOST}\r\n"
                )
                try:
                    key.fileobj.send(line.encode())  # type: ignore[union-attr]
                    data[2] = True
                    data[1] = now + self.interval
                except OSError:
                    data[1] = now + 0.2  # not connected yet, or closed: the select above notices
        for key in list(sel.get_map().values()):
            key.fileobj.close()  # type: ignore[union-attr]
        sel.close()

    def __enter__(self) -> Attack:
        self.thread.start()
        time.sleep(1.0 + (self.interval if self.slow else 0))  # every connection has started
        return self

    def __exit__(self, *_: object) -> None:
        self.stopping.set()
        self.thread.join()


@dataclass
class Result:
    sent: int = 0
    answered: int = 0
    failed: int = 0
    latencies: list[float] = field(default_factory=list)
    seconds: float = 0.0
    extra: str = ""

    def record(self, ok: bool, took: float) -> None:
        self.sent += 1
        if ok:
            self.answered += 1
            self.latencies.append(took)
        else:
            self.failed += 1

    def figures(self) -> dict[str, float]:
        return {
            "sent": self.sent,
            "answered": self.answered,
            "failed": self.failed,
            "req/s": self.answered / self.seconds if self.seconds else float("nan"),
            "p50 ms": percentile(self.latencies, 0.50) * 1000,
            "p99 ms": percentile(self.latencies, 0.99) * 1000,
        }


def normal_client(port: int, seconds: float) -> Result:
    result = Result()
    began = time.monotonic()
    while time.monotonic() - began < seconds:
        result.record(*get_once(port, NORMAL_URL))
    result.seconds = time.monotonic() - began
    return result


def under_attack(connections: int, slow: bool) -> Callable[[Server, float], Result]:
    def run(server: Server, seconds: float) -> Result:
        with Attack(server.port, connections, slow) as attack:
            result = normal_client(server.port, seconds)
        result.extra = f"attack connections closed by the server and reopened: {attack.reopened}"
        return result

    return run


def mixed(concurrency: int) -> Callable[[Server, float], Result]:
    def run(server: Server, seconds: float) -> Result:
        result = Result()
        lock = threading.Lock()
        stop_at = time.monotonic() + seconds

        def loop(number: int) -> None:
            conn = http.client.HTTPConnection(HOST, server.port, timeout=30)
            i = number
            while time.monotonic() < stop_at:
                path = MIXED[i % len(MIXED)]
                i += 1
                began = time.monotonic()
                try:
                    conn.request("GET", path, headers={"Accept-Encoding": "gzip"})
                    response = conn.getresponse()
                    response.read()
                    ok = response.status == 200
                    if response.will_close:
                        conn.close()
                except (OSError, http.client.HTTPException):
                    ok = False
                    conn.close()
                took = time.monotonic() - began
                with lock:
                    result.record(ok, took)
            conn.close()

        threads = [threading.Thread(target=loop, args=(n,)) for n in range(concurrency)]
        began = time.monotonic()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        result.seconds = time.monotonic() - began
        return result

    return run


SCENARIOS: dict[str, Callable[[Server, float], Result]] = {
    "slowloris-50": under_attack(50, slow=True),
    "slowloris-200": under_attack(200, slow=True),
    "idle-200": under_attack(200, slow=False),
    "mixed-200": mixed(200),
}


def merge(results: list[Result]) -> Result:
    total = Result()
    for r in results:
        total.sent += r.sent
        total.answered += r.answered
        total.failed += r.failed
        total.latencies += r.latencies
        total.seconds += r.seconds
    total.extra = "; ".join(r.extra for r in results if r.extra)
    return total


def show(name: str, merged: dict[str, Result]) -> None:
    """One table: a column per server, and the ratio of each to the old one."""
    names = list(merged)
    others = [n for n in names if n != "old"] if "old" in merged else []
    print(f"\n{name}")
    header = "".join(f"{n:>10}" for n in names) + "".join(f"{n + '/old':>14}" for n in others)
    print(f"  {'':10}{header}")
    figures = {n: r.figures() for n, r in merged.items()}
    for key in figures[names[0]]:
        fmt = "{:10.0f}" if key in ("sent", "answered", "failed") else "{:10.1f}"
        row = "".join(fmt.format(figures[n][key]) for n in names)
        x = figures["old"][key] if others else float("nan")
        for n in others:
            y = figures[n][key]
            row += f"{y / x:14.2f}" if x and x == x and y == y else f"{'-':>14}"
        print(f"  {key:10}{row}")
    for label, r in merged.items():
        if r.extra:
            print(f"  {label}: {r.extra}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=20, help="per scenario and server [20]")
    parser.add_argument("--rounds", type=int, default=1, help="old/new alternations [1]")
    parser.add_argument("--workers", type=int, default=default_workers(), help="[2 × cores + 1, ≤ 8]")
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--stacks", default="old,new", help="old,new | old | new | old,new,waitress")
    parser.add_argument("--scenarios", default=",".join(SCENARIOS), help="comma-separated")
    args = parser.parse_args()
    stacks = [s for s in args.stacks.split(",") if s]
    chosen = [s for s in args.scenarios.split(",") if s]
    print(
        f"slow_clients: {args.seconds:g} s per scenario and server, {args.rounds} round(s), "
        f"--workers {args.workers} --threads {args.threads}; python {platform.python_version()}, "
        f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f}",
        flush=True,
    )
    servers = {name: start(name, args.workers, args.threads) for name in stacks}
    met = True
    try:
        for scenario in chosen:
            results: dict[str, list[Result]] = {name: [] for name in stacks}
            for _ in range(args.rounds):
                for name in stacks:
                    results[name].append(SCENARIOS[scenario](servers[name], args.seconds))
                    time.sleep(2)  # connections of the attack are closed
            merged = {name: merge(rs) for name, rs in results.items()}
            show(scenario, merged)
            new = merged.get("new")
            if new and scenario != "mixed-200":
                p99 = percentile(new.latencies, 0.99)
                met &= new.failed == 0 and new.answered > 0 and p99 < 1.0
            sys.stdout.flush()
    finally:
        for server in servers.values():
            server.stop()
    if "new" in stacks:
        print(f"\ntarget (new: every normal request answered, p99 < 1 s): {'met' if met else 'NOT met'}")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
