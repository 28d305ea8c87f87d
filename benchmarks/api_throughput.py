"""Throughput and latency of the OGC API – Features endpoints under a bounded load.

What it measures
----------------
The script starts the service as a real process, exactly as in production::

    <python> -m mapservice serve --host 127.0.0.1 --port <free port> --workers N

with ``MAPSERVICE_INSTANCE_PATH`` pointing at a fresh temporary folder (so the GeoPackage
store is built from the shipped data on first start), waits until ``GET /api`` answers 200,
and then drives each scenario below with a closed-loop load generator: ``--concurrency``
threads, each with its own ``http.client`` connection (HTTP/1.1, keep-alive when the server
allows it; a closed connection is reopened transparently), sending requests back to back for
``--seconds`` seconds after an unmeasured warm-up of ``--warmup`` seconds.

Scenarios (all GET, only against 127.0.0.1):

* all Jena districts            ``/api/collections/districts/items?city=Jena&limit=100``
* all municipalities            ``/api/collections/municipalities/items?limit=10000``
  (1275 features, ~4 MB uncompressed; run with and without gzip)
* small bbox around Jena        ``/api/collections/municipalities/items?bbox=11.50,...``
* one feature                   ``/api/collections/contact-offices/items/kobb-jena-winzerla``
* revalidation (304)            the one-feature URL with ``If-None-Match: <its ETag>``

Every scenario sends ``Accept-Encoding: gzip`` (what a browser does) unless marked
"identity". Per scenario one row is printed: requests/s, latency p50/p95/p99/max in ms
(time from sending the request to having read the whole body), mean response bytes on the
wire (status line + headers + body as transferred, i.e. compressed when gzipped), the share
of requests that needed a new TCP connection, the status codes seen, and the error count
(any status other than 200/304, or an exception). Machine facts follow the table.

The load generator is Python and runs on the same machine as the server, so on a small
machine it competes with the workers for CPU: the numbers are a lower bound and are meant
for comparing changes on one machine, not as absolute capacity.

How to run (from the repository root)::

    .venv/bin/python benchmarks/api_throughput.py
    .venv/bin/python benchmarks/api_throughput.py --workers 2 --concurrency 16 --seconds 10

Exit code 0 when no scenario had errors, 1 otherwise (2 when the server did not start).
"""

from __future__ import annotations

import argparse
import gzip
import http.client
import json
import os
import platform
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

HOST = "127.0.0.1"
STARTUP_TIMEOUT = 60.0
REQUEST_TIMEOUT = 30.0
ONE_FEATURE = "/api/collections/contact-offices/items/kobb-jena-winzerla"
OK_STATUSES = frozenset({200, 304})


@dataclass(frozen=True)
class Scenario:
    name: str
    path: str
    gzip: bool = True
    revalidate: bool = False  # send If-None-Match with the ETag of a first response
    expected_features: int | None = None  # sanity check on the first response, if known


SCENARIOS: tuple[Scenario, ...] = (
    Scenario("all Jena districts", "/api/collections/districts/items?city=Jena&limit=100"),
    Scenario(
        "all municipalities", "/api/collections/municipalities/items?limit=10000", expected_features=1275
    ),
    Scenario(
        "all municipalities",
        "/api/collections/municipalities/items?limit=10000",
        gzip=False,
        expected_features=1275,
    ),
    Scenario("small bbox around Jena", "/api/collections/municipalities/items?bbox=11.50,50.85,11.70,50.98"),
    Scenario("one feature", ONE_FEATURE),
    Scenario("revalidation (304)", ONE_FEATURE, revalidate=True),
)


@dataclass
class Sample:
    """What one request produced."""

    status: int | None  # None: an exception, no response
    latency: float  # seconds
    wire_bytes: int
    new_connection: bool
    detail: str = ""  # error description (status + body start, or the exception)


@dataclass
class Result:
    scenario: Scenario
    elapsed: float
    samples: list[Sample] = field(default_factory=list)

    @property
    def errors(self) -> list[Sample]:
        return [s for s in self.samples if s.status not in OK_STATUSES]


# --------------------------------------------------------------------------- server process


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


class ServerError(RuntimeError):
    pass


class Server:
    """``python -m mapservice serve`` on a free port with a fresh instance folder."""

    def __init__(self, workers: int, response_cache_mb: int) -> None:
        self.workers = workers
        self.response_cache_mb = response_cache_mb
        self.port = free_port()
        self.instance = Path(tempfile.mkdtemp(prefix="mapservice-bench-"))
        self.log_path = self.instance / "server.log"
        self.process: subprocess.Popen[bytes] | None = None
        self.startup_seconds = 0.0

    def start(self) -> None:
        env = {
            **os.environ,
            "MAPSERVICE_INSTANCE_PATH": str(self.instance),
            "MAPSERVICE_RESPONSE_CACHE_MB": str(self.response_cache_mb),
        }
        command = [
            sys.executable,
            "-m",
            "mapservice",
            "serve",
            "--host",
            HOST,
            "--port",
            str(self.port),
            "--workers",
            str(self.workers),
        ]
        started = time.monotonic()
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
        deadline = started + STARTUP_TIMEOUT
        last = "no answer yet"
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise ServerError(
                    f"server exited with code {self.process.returncode} during start-up\n{self.log_tail()}"
                )
            try:
                status, _, _ = fetch(self.port, "/api", {}, timeout=2.0)
                if status == 200:
                    self.startup_seconds = time.monotonic() - started
                    return
                last = f"GET /api answered {status}"
            except OSError as exc:
                last = f"GET /api: {exc}"
            time.sleep(0.2)
        raise ServerError(
            f"GET /api did not answer 200 within {STARTUP_TIMEOUT:.0f} s ({last})\n{self.log_tail()}"
        )

    def log_tail(self, chars: int = 3000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return "(no server log)"

    def stop(self) -> None:
        """Terminate, then kill; remove the instance folder."""
        process = self.process
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
        shutil.rmtree(self.instance, ignore_errors=True)


# --------------------------------------------------------------------------- HTTP


def wire_size(response: http.client.HTTPResponse, body: bytes) -> int:
    """Status line + header lines + blank line + body, as sent by the server."""
    status_line = len(f"HTTP/1.1 {response.status} {response.reason}\r\n")
    headers = sum(len(name) + 2 + len(value) + 2 for name, value in response.getheaders())
    return status_line + headers + 2 + len(body)


def fetch(
    port: int, path: str, headers: dict[str, str], timeout: float = REQUEST_TIMEOUT
) -> tuple[int, dict[str, str], bytes]:
    """One request on a new connection: status, headers (lower-case names), body as sent."""
    conn = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        conn.request("GET", path, headers=headers)
        response = conn.getresponse()
        body = response.read()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, body
    finally:
        conn.close()


def request_headers(scenario: Scenario, etag: str | None) -> dict[str, str]:
    headers = {
        "Accept": "application/geo+json, application/json;q=0.9",
        "Accept-Encoding": "gzip" if scenario.gzip else "identity",
        "User-Agent": "mapservice-benchmark",
    }
    if scenario.revalidate:
        if etag is None:
            raise ValueError("revalidation scenario needs an ETag")
        headers["If-None-Match"] = etag
    return headers


def check_first_response(port: int, scenario: Scenario) -> tuple[str | None, list[str]]:
    """Fetch the scenario URL once (no If-None-Match): its ETag and any problems found."""
    plain = Scenario(scenario.name, scenario.path, scenario.gzip)
    status, headers, body = fetch(port, scenario.path, request_headers(plain, None))
    problems: list[str] = []
    if status != 200:
        problems.append(f"GET {scenario.path} -> {status}: {body[:500]!r}")
        return None, problems
    encoding = headers.get("content-encoding", "identity")
    if scenario.gzip is False and encoding != "identity":
        problems.append(f"GET {scenario.path} without gzip came back as {encoding}")
    if scenario.expected_features is not None:
        try:
            data = json.loads(gzip.decompress(body) if encoding == "gzip" else body)
            count = len(data["features"])
        except (ValueError, KeyError, TypeError, OSError) as exc:
            problems.append(f"GET {scenario.path}: unreadable body ({exc})")
        else:
            if count != scenario.expected_features:
                problems.append(
                    f"GET {scenario.path}: {count} features, expected {scenario.expected_features}"
                )
    return headers.get("etag"), problems


# --------------------------------------------------------------------------- load generator


def drive(
    port: int, path: str, headers: dict[str, str], deadline: float, record: Callable[[Sample], None]
) -> None:
    """Send requests back to back on one connection until the deadline."""
    conn = http.client.HTTPConnection(HOST, port, timeout=REQUEST_TIMEOUT)
    try:
        while time.perf_counter() < deadline:
            new_connection = conn.sock is None
            started = time.perf_counter()
            try:
                conn.request("GET", path, headers=headers)
                response = conn.getresponse()
                body = response.read()
            except (OSError, http.client.HTTPException) as exc:
                record(
                    Sample(
                        None, time.perf_counter() - started, 0, new_connection, f"{type(exc).__name__}: {exc}"
                    )
                )
                conn.close()
                continue
            latency = time.perf_counter() - started
            detail = (
                ""
                if response.status in OK_STATUSES
                else (f"{response.status} {response.reason}: {body[:300]!r}")
            )
            record(Sample(response.status, latency, wire_size(response, body), new_connection, detail))
            if response.will_close:
                conn.close()
    finally:
        conn.close()


def run_load(
    port: int, path: str, headers: dict[str, str], concurrency: int, seconds: float
) -> tuple[list[Sample], float]:
    samples: list[Sample] = []
    lock = threading.Lock()

    def record(sample: Sample) -> None:
        with lock:
            samples.append(sample)

    started = time.perf_counter()
    deadline = started + seconds
    threads = [
        threading.Thread(
            target=drive, args=(port, path, headers, deadline, record), name=f"load-{i}", daemon=True
        )
        for i in range(concurrency)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return samples, time.perf_counter() - started


def run_scenario(
    port: int, scenario: Scenario, etag: str | None, concurrency: int, seconds: float, warmup: float
) -> Result:
    headers = request_headers(scenario, etag)
    if warmup > 0:
        run_load(port, scenario.path, headers, concurrency, warmup)
    samples, elapsed = run_load(port, scenario.path, headers, concurrency, seconds)
    return Result(scenario, elapsed, samples)


# --------------------------------------------------------------------------- report


def percentile(sorted_values: list[float], q: float) -> float:
    """Nearest-rank percentile of an ascending list (q in 0..100)."""
    if not sorted_values:
        return float("nan")
    rank = max(1, -(-len(sorted_values) * q // 100))  # ceil(n * q / 100), at least 1
    return sorted_values[int(rank) - 1]


COLUMNS = (
    ("scenario", 36, "<"),
    ("req/s", 8, ">"),
    ("p50 ms", 8, ">"),
    ("p95 ms", 8, ">"),
    ("p99 ms", 8, ">"),
    ("max ms", 8, ">"),
    ("bytes/resp", 11, ">"),
    ("new conn", 9, ">"),
    ("statuses", 14, "<"),
    ("errors", 6, ">"),
)


def format_row(values: list[str]) -> str:
    return " ".join(f"{v:{align}{width}}" for v, (_, width, align) in zip(values, COLUMNS, strict=True))


def result_row(result: Result) -> str:
    scenario = result.scenario
    label = f"{scenario.name} ({'gzip' if scenario.gzip else 'identity'})"
    answered = sorted(s.latency * 1000 for s in result.samples if s.status is not None)
    total = len(result.samples)
    rate = total / result.elapsed if result.elapsed else 0.0
    mean_bytes = (
        (sum(s.wire_bytes for s in result.samples if s.status is not None) / len(answered))
        if answered
        else 0.0
    )
    new_conns = sum(s.new_connection for s in result.samples)
    statuses = Counter("exc" if s.status is None else str(s.status) for s in result.samples)
    status_text = ",".join(f"{k}×{v}" for k, v in sorted(statuses.items())) or "-"
    return format_row(
        [
            label,
            f"{rate:.1f}",
            f"{percentile(answered, 50):.1f}",
            f"{percentile(answered, 95):.1f}",
            f"{percentile(answered, 99):.1f}",
            f"{answered[-1] if answered else float('nan'):.1f}",
            f"{mean_bytes:,.0f}",
            f"{100 * new_conns / total if total else 0:.0f}%",
            status_text,
            str(len(result.errors)),
        ]
    )


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Start `mapservice serve` on 127.0.0.1 and measure API throughput/latency.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--workers", type=int, default=4, help="gunicorn worker processes")
    parser.add_argument(
        "--concurrency",
        type=int,
        default=8,
        help="client threads, each with one connection, sending back to back",
    )
    parser.add_argument("--seconds", type=float, default=5.0, help="measured duration per scenario")
    parser.add_argument(
        "--warmup", type=float, default=1.0, help="unmeasured warm-up per scenario, in seconds (0 to skip)"
    )
    parser.add_argument(
        "--response-cache-mb",
        type=int,
        default=64,
        help="per-worker response cache; 0 measures building every response",
    )
    args = parser.parse_args(argv)
    if args.workers < 1 or args.concurrency < 1 or args.seconds <= 0 or args.warmup < 0:
        parser.error("--workers and --concurrency must be >= 1, --seconds > 0, --warmup >= 0")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    server = Server(args.workers, args.response_cache_mb)
    results: list[Result] = []
    problems: list[str] = []
    try:
        try:
            server.start()
        except ServerError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        print(
            f"server up on http://{HOST}:{server.port} after {server.startup_seconds:.1f} s "
            f"(store built in {server.instance})",
            flush=True,
        )
        for scenario in SCENARIOS:
            etag, found = check_first_response(server.port, scenario)
            problems.extend(f"{scenario.name}: {p}" for p in found)
            if scenario.revalidate and etag is None:
                problems.append(f"{scenario.name}: first response had no ETag, skipped")
                continue
            results.append(
                run_scenario(server.port, scenario, etag, args.concurrency, args.seconds, args.warmup)
            )
    finally:
        alive = server.process is not None and server.process.poll() is None
        log_tail = server.log_tail(1500)
        server.stop()

    print()
    print(format_row([name for name, _, _ in COLUMNS]))
    print(format_row(["-" * width for _, width, _ in COLUMNS]))
    for result in results:
        print(result_row(result))

    failed = [r for r in results if r.errors]
    for result in failed:
        print(f"\nerrors in '{result.scenario.name}' (GET {result.scenario.path}):")
        for detail, count in Counter(s.detail for s in result.errors).most_common(5):
            print(f"  {count}× {detail}")
    for problem in problems:
        print(f"\nproblem: {problem}")
    if not alive:
        print(f"\nserver was no longer running at the end; log tail:\n{log_tail}")

    print(
        f"\nmachine: {platform.platform()}, python {platform.python_version()}, "
        f"cpu count {os.cpu_count()} (usable {len(os.sched_getaffinity(0))})"
        if hasattr(os, "sched_getaffinity")
        else f"\nmachine: {platform.platform()}, python {platform.python_version()}, "
        f"cpu count {os.cpu_count()}"
    )
    print(
        f"workers {args.workers}, concurrency {args.concurrency}, "
        f"response cache {args.response_cache_mb} MB per worker, "
        f"duration {args.seconds:g} s per scenario (+{args.warmup:g} s warm-up); "
        "client and server share the machine"
    )
    return 1 if failed or problems or not alive else 0


if __name__ == "__main__":
    sys.exit(main())
