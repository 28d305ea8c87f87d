"""The systems that benchmarks/peers.py and benchmarks/scaling.py start, and how they are measured.

- ``peers_venv()``: pygeoapi, tipg and their servers in a venv of their own under
  ``~/.cache/mapservice-bench/peers-venv`` (made on first use with pip, pinned in ``PEER_PINS``
  and benchmarks/peers-constraints.txt);
  none of it touches the project's venv or pyproject.
- ``Process`` / ``start_http()``: a server process in its own process group on a free port of
  127.0.0.1, ready once a path answers 200, with its output in a log file.
- ``mapservice_server()``, ``pygeoapi_server()``, ``tipg_server()``, ``nginx_server()``: one
  server each, 2 workers unless told otherwise.
- ``get()``, ``latency()``, ``wrk()``: one request, a closed loop on one connection, and the
  requests per second of Debian's ``wrk``.
- ``worker_rss_mb()``: the resident memory of a server's worker processes.

The PostgreSQL cluster is tests/pg.py's (Debian's initdb and pg_ctl, trust auth, 127.0.0.1).
"""

from __future__ import annotations

import gzip
import http.client
import json
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
CACHE = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "mapservice-bench"
PEERS_VENV = CACHE / "peers-venv"
# Versions that install and run on Python 3.11 (December 2026); every other package of the
# venv is pinned by the constraints file. The venv is rebuilt when either changes.
PEER_PINS = (
    "pygeoapi==0.21.0",
    "tipg==1.6.1",
    "gunicorn==27.0.1",
    "uvicorn[standard]==0.55.0",
    "psycopg2-binary==2.9.13",
    "SQLAlchemy==2.1.9",
    "GeoAlchemy2==0.20.0",
    "pygeofilter==0.4.0",
)
CONSTRAINTS = REPO / "benchmarks" / "peers-constraints.txt"
NGINX = Path("/usr/sbin/nginx")
WRK = Path("/usr/bin/wrk")
STARTUP_TIMEOUT = 180.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def exit_on_sigterm() -> None:
    """Make SIGTERM a SystemExit, so that the servers, the cluster and the temp files go too."""
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))


# --------------------------------------------------------------------------- the peers' venv


def peers_venv() -> Path:
    """The bin folder of the peers' venv, made or brought up to ``PEER_PINS`` first."""
    stamp = PEERS_VENV / "pins.txt"
    wanted = "\n".join(PEER_PINS) + "\n" + CONSTRAINTS.read_text()
    if stamp.exists() and stamp.read_text() == wanted:
        return PEERS_VENV / "bin"
    print(f"installing the peers into {PEERS_VENV} (once): {' '.join(PEER_PINS)}", flush=True)
    PEERS_VENV.parent.mkdir(parents=True, exist_ok=True)
    # The base interpreter, not the project's venv: the peers must not see its packages.
    base = Path(sys.base_prefix) / "bin" / f"python{sys.version_info.major}.{sys.version_info.minor}"
    subprocess.run([str(base), "-m", "venv", "--clear", str(PEERS_VENV)], check=True)
    subprocess.run(
        [
            str(PEERS_VENV / "bin" / "pip"),
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "--constraint",
            str(CONSTRAINTS),
            *PEER_PINS,
        ],
        check=True,
    )
    stamp.write_text(wanted)
    return PEERS_VENV / "bin"


def installed_versions(bin_dir: Path, names: tuple[str, ...]) -> dict[str, str]:
    script = (
        "import importlib.metadata as m, json, sys\n"
        "print(json.dumps({n: m.version(n) for n in sys.argv[1:]}))"
    )
    out = subprocess.run(
        [str(bin_dir / "python"), "-c", script, *names], capture_output=True, text=True, check=True
    )
    return dict(json.loads(out.stdout))


# --------------------------------------------------------------------------- processes


class Process:
    """A server in its own process group, stopped with the whole group."""

    def __init__(self, name: str, command: list[str], env: dict[str, str], port: int, workdir: Path) -> None:
        self.name = name
        self.port = port
        self.log_path = workdir / f"{name}.log"
        with self.log_path.open("wb") as log:
            self.popen = subprocess.Popen(
                command, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=workdir, start_new_session=True
            )

    def wait_ready(self, path: str, timeout: float = STARTUP_TIMEOUT) -> None:
        deadline = time.monotonic() + timeout
        last = "no answer"
        while time.monotonic() < deadline:
            if self.popen.poll() is not None:
                raise RuntimeError(f"{self.name} exited ({self.popen.returncode}):\n{self.log_tail()}")
            try:
                status, _, _ = get(self.port, path, timeout=10)
                if status == 200:
                    return
                last = f"status {status}"
            except (OSError, http.client.HTTPException) as exc:
                last = str(exc)
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"{self.name}: {path} not ready in {timeout:.0f} s ({last}):\n{self.log_tail()}")

    def log_tail(self, chars: int = 3000) -> str:
        return self.log_path.read_text(errors="replace")[-chars:]

    def worker_pids(self) -> list[int]:
        """The direct children of the server's main process (gunicorn's and uvicorn's workers)."""
        children = Path(f"/proc/{self.popen.pid}/task/{self.popen.pid}/children")
        try:
            return [int(p) for p in children.read_text().split()]
        except OSError:
            return []

    def stop(self) -> None:
        if self.popen.poll() is None:
            os.killpg(self.popen.pid, signal.SIGTERM)
            try:
                self.popen.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.popen.pid, signal.SIGKILL)
                self.popen.wait(timeout=10)


def rss_mb(pid: int) -> float:
    """VmRSS of a process, in MB (0 when it is gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def worker_rss_mb(process: Process) -> list[float]:
    return [rss_mb(pid) for pid in process.worker_pids()]


def start_http(
    name: str, command: list[str], env: dict[str, str], port: int, workdir: Path, ready: str
) -> Process:
    process = Process(name, command, env, port, workdir)
    process.wait_ready(ready)
    return process


def mapservice_env(instance: Path, store: str = "", tree: Path | None = None) -> dict[str, str]:
    """The environment of a ``mapservice`` command; ``tree``: run another source tree's code."""
    env = {**os.environ, "MAPSERVICE_INSTANCE_PATH": str(instance), "MAPSERVICE_STORE": store}
    if tree is not None:
        env["PYTHONPATH"] = str(tree)
    return env


MAPSERVICE = Path(sys.executable).parent / "mapservice"


def mapservice_server(
    name: str,
    workdir: Path,
    store: str = "",
    cache_mb: int | None = None,
    workers: int = 2,
    tree: Path | None = None,
    instance: Path | None = None,
) -> Process:
    """``.venv/bin/mapservice serve`` over its own instance folder (or ``instance``)."""
    port = free_port()
    instance = instance or Path(tempfile.mkdtemp(prefix=f"{name}-", dir=workdir))
    env = mapservice_env(instance, store, tree)
    if cache_mb is not None:
        env["MAPSERVICE_RESPONSE_CACHE_MB"] = str(cache_mb)
    command = [
        str(MAPSERVICE),
        "serve",
        "--host",
        HOST,
        "--port",
        str(port),
        "--workers",
        str(workers),
    ]
    return start_http(name, command, env, port, workdir, "/api")


# --------------------------------------------------------------------------- pygeoapi


def pygeoapi_config(port: int, resources: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """A minimal pygeoapi configuration; ``resources``: collection id → provider block."""
    url = f"http://{HOST}:{port}"
    return {
        "server": {
            "bind": {"host": HOST, "port": port},
            "url": url,
            "mimetype": "application/json; charset=UTF-8",
            "encoding": "utf-8",
            "gzip": True,
            "languages": ["en-US"],
            "limit": 10000,
            "limits": {"default_items": 100, "max_items": 10000, "on_exceed": "throttle"},
            "map": {"url": "https://tile.openstreetmap.org/{z}/{x}/{y}.png", "attribution": "OSM"},
        },
        "logging": {"level": "ERROR"},
        "metadata": {
            "identification": {
                "title": "benchmark",
                "description": "benchmark peer",
                "keywords": ["benchmark"],
                "keywords_type": "theme",
                "terms_of_service": url,
                "url": url,
            },
            "license": {"name": "benchmark", "url": url},
            "provider": {"name": "benchmark", "url": url},
            "contact": {"name": "benchmark", "email": "benchmark@example.invalid", "url": url},
        },
        "resources": {
            cid: {
                "type": "collection",
                "title": cid,
                "description": cid,
                "keywords": [cid],
                "extents": {
                    "spatial": {
                        "bbox": [5.0, 47.0, 16.0, 56.0],
                        "crs": "http://www.opengis.net/def/crs/OGC/1.3/CRS84",
                    }
                },
                "providers": [{"type": "feature", **provider}],
            }
            for cid, provider in resources.items()
        },
    }


def postgres_provider(db_url: str, table: str, properties: list[str]) -> dict[str, Any]:
    m = re.fullmatch(r"postgresql://(\w+)@([\d.]+):(\d+)/(\w+)", db_url)
    if m is None:
        raise ValueError(db_url)
    user, host, port, dbname = m.groups()
    return {
        "name": "PostgreSQL",
        "data": {
            "host": host,
            "port": int(port),
            "dbname": dbname,
            "user": user,
            "password": "",
            "search_path": ["mapservice", "public"],
        },
        "id_field": "id",
        "table": table,
        "geom_field": "geom",
        # The same properties as the project serves, not its internal columns.
        "properties": properties,
    }


def geojson_provider(path: Path) -> dict[str, Any]:
    return {"name": "GeoJSON", "data": str(path), "id_field": "id"}


def pygeoapi_server(
    name: str, bin_dir: Path, workdir: Path, resources: dict[str, dict[str, Any]], workers: int = 2
) -> Process:
    """pygeoapi's Flask app under gunicorn; the config is JSON, which is YAML too."""
    port = free_port()
    config = workdir / f"{name}.config.yml"
    openapi = workdir / f"{name}.openapi.yml"
    config.write_text(json.dumps(pygeoapi_config(port, resources), indent=1))
    env = {**os.environ, "PYGEOAPI_CONFIG": str(config), "PYGEOAPI_OPENAPI": str(openapi)}
    for key in ("MAPSERVICE_STORE", "MAPSERVICE_INSTANCE_PATH"):
        env.pop(key, None)
    with openapi.open("wb") as out:
        subprocess.run(
            [str(bin_dir / "pygeoapi"), "openapi", "generate", str(config)],
            env=env,
            stdout=out,
            stderr=subprocess.DEVNULL,
            check=True,
        )
    command = [
        str(bin_dir / "gunicorn"),
        "--workers",
        str(workers),
        "--bind",
        f"{HOST}:{port}",
        "--log-level",
        "warning",
        "pygeoapi.flask_app:APP",
    ]
    return start_http(name, command, env, port, workdir, "/collections?f=json")


# --------------------------------------------------------------------------- tipg


def tipg_server(name: str, bin_dir: Path, workdir: Path, db_url: str, workers: int = 2) -> Process:
    """tipg under uvicorn, publishing the tables of the schema ``mapservice``."""
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": db_url,
        "TIPG_NAME": "tipg benchmark peer",
        "TIPG_DB_SCHEMAS": '["mapservice"]',
        "TIPG_MAX_FEATURES_PER_QUERY": "10000",
        "TIPG_DEFAULT_FEATURES_LIMIT": "100",
        "TIPG_DB_MIN_CONNECTIONS": "1",
        "TIPG_DB_MAX_CONNECTIONS": "10",
    }
    command = [
        str(bin_dir / "uvicorn"),
        "tipg.main:app",
        "--host",
        HOST,
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--log-level",
        "warning",
        "--no-access-log",
    ]
    return start_http(name, command, env, port, workdir, "/collections")


# --------------------------------------------------------------------------- nginx


def nginx_server(name: str, workdir: Path, root: Path, workers: int = 2) -> Process:
    """Debian's nginx serving ``root`` (``*.gz`` beside a file is sent to gzip clients)."""
    port = free_port()
    run = workdir / name
    run.mkdir()
    user = "user root;\n" if os.geteuid() == 0 else ""  # as root: do not drop to nobody
    temp = " ".join(f"{kind}_temp_path {run}/{kind};" for kind in ("proxy", "fastcgi", "uwsgi", "scgi"))
    (run / "nginx.conf").write_text(
        f"""{user}daemon off; worker_processes {workers}; pid {run}/nginx.pid;
error_log {run}/error.log warn;
events {{ worker_connections 1024; }}
http {{
  access_log off; client_body_temp_path {run}/body; {temp}
  types {{ application/geo+json json; }}
  default_type application/octet-stream;
  sendfile on; tcp_nopush on; keepalive_requests 1000000;
  server {{ listen {HOST}:{port}; root {root}; gzip_static on; location / {{ }} }}
}}
"""
    )
    command = [str(NGINX), "-p", str(run), "-c", str(run / "nginx.conf"), "-e", str(run / "error.log")]
    (root / "ready.json").write_text("{}")
    return start_http(name, command, dict(os.environ), port, workdir, "/ready.json")


# --------------------------------------------------------------------------- HTTP


def headers_for(gzip_ok: bool) -> dict[str, str]:
    return {
        "Accept": "application/geo+json, application/json;q=0.9",
        "Accept-Encoding": "gzip" if gzip_ok else "identity",
        "User-Agent": "mapservice-benchmark",
    }


def get(
    port: int, path: str, headers: dict[str, str] | None = None, timeout: float = 60
) -> tuple[int, dict[str, str], bytes]:
    """One request on a new connection: status, headers (lower-case names), body as sent."""
    conn = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        conn.request("GET", path, headers=headers or {})
        response = conn.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        conn.close()


def decoded(headers: dict[str, str], body: bytes) -> Any:
    """The JSON of a response body, gunzipped when it came gzipped."""
    return json.loads(gzip.decompress(body) if headers.get("content-encoding") == "gzip" else body)


def warm(port: int, path: str, headers: dict[str, str], connections: int = 4, rounds: int = 2) -> None:
    """``rounds`` times ``connections`` requests at once, each on a new connection, so that
    every worker has answered (and loaded what it loads on its first request) before timing."""
    for _ in range(rounds):
        threads = [
            threading.Thread(target=get, args=(port, path, headers), daemon=True) for _ in range(connections)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()


@dataclass
class Latency:
    mean_ms: float
    median_ms: float
    p99_ms: float
    requests: int
    errors: int


def latency(port: int, path: str, headers: dict[str, str], seconds: float, min_requests: int = 3) -> Latency:
    """Requests back to back on one keep-alive connection for ``seconds``; times in ms."""
    times: list[float] = []
    errors = 0
    conn = http.client.HTTPConnection(HOST, port, timeout=120)
    deadline = time.perf_counter() + seconds
    try:
        while time.perf_counter() < deadline or len(times) + errors < min_requests:
            started = time.perf_counter()
            try:
                conn.request("GET", path, headers=headers)
                response = conn.getresponse()
                response.read()
            except (OSError, http.client.HTTPException):
                errors += 1
                conn.close()
                continue
            times.append((time.perf_counter() - started) * 1000)
            if response.status != 200:
                errors += 1
            if response.will_close:
                conn.close()
    finally:
        conn.close()
    if not times:
        return Latency(float("nan"), float("nan"), float("nan"), 0, errors)
    ordered = sorted(times)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return Latency(statistics.fmean(times), statistics.median(times), p99, len(times), errors)


@dataclass
class Throughput:
    requests_per_s: float
    errors: int


def wrk(port: int, path: str, headers: dict[str, str], seconds: float, connections: int) -> Throughput:
    """Debian's wrk, one thread, ``connections`` keep-alive connections."""
    command = [str(WRK), "-t1", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--timeout", "60s"]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    out = subprocess.run(
        [*command, f"http://{HOST}:{port}{path}"], capture_output=True, text=True, check=True
    ).stdout
    rate = re.search(r"Requests/sec:\s+([\d.]+)", out)
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    socket_errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    errors = int(bad.group(1)) if bad else 0
    if socket_errors:
        errors += sum(int(n) for n in socket_errors.groups())
    done = re.search(r"(\d+) requests in", out)
    if rate is None or done is None or int(done.group(1)) == 0:
        return Throughput(float("nan"), errors)
    return Throughput(float(rate.group(1)), errors)


def machine() -> str:
    cpu = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    load = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    return f"{os.cpu_count()} CPUs ({cpu}), load average {load}, Python {sys.version.split()[0]}"
