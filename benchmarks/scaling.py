"""Does a cold page cost the same at 1k and 1M features? (issue 16, points 2 and 6)

    .venv/bin/python benchmarks/scaling.py [--sizes 1000,10000,100000,1000000] [--stores gpkg,pg]
        [--quick] [--seconds 2] [--tree DIR]

For each size N and store: a register of N invented cameras around Jena (test data, marked as
such in every row: benchmarks/history_size.py ``register()``, spread evenly over
lon 11.55–11.63, lat 50.88–50.96) is written as CSV and loaded with
``mapservice import video-surveillance`` (with ``MAPSERVICE_MAX_FEATURES_PER_WRITE`` at least N: the
default refuses more than 100,000) into a new store (a new instance folder with its
GeoPackage, or a new database of a throwaway PostgreSQL cluster, tests/pg.py); the time of
the import is printed (it includes creating the store from the shipped data, 2–3 s), with
its rate and peak memory (``imp MB``, from GNU time). Then
``mapservice serve --workers 2`` starts over it with ``MAPSERVICE_RESPONSE_CACHE_MB=0`` and
these requests are timed (``Accept-Encoding: identity``, or gzip with ``--gzip``), each on one
keep-alive connection for ``--seconds``:

- ``first``: the very first page of 100 after the start (a worker's first request after an
  import: what it loads up front shows here); before each timed request below, 2 × 4
  requests at once on new connections warm every worker up;
- ``page``: ``?limit=100`` (default order);
- ``offset``: ``?limit=100&offset=N-100``, the last page;
- ``bbox``: a square around the middle that holds about 100 cameras (``n`` says how many);
- ``write``: one more invented camera created through the API (a token made with
  ``mapservice token create``), then ``after``: the slowest of 4 first pages at once on new
  connections right after it (every worker's first request after a write: what each worker
  recomputes per data version shows here).

Columns give the median and p99 in ms, then the resident memory (VmRSS) of each gunicorn
worker after the requests. The last lines give the growth from the smallest to the largest
N (target: within 2×).
"""

from __future__ import annotations

import argparse
import http.client
import json
import math
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))
sys.path.insert(0, str(REPO / "benchmarks"))

import history_size  # noqa: E402  (the invented camera register)
import peer_systems as ps  # noqa: E402
import pg  # noqa: E402

LAYER = "video-surveillance"
# history_size.register() spreads the cameras evenly over this square.
WEST, SOUTH, SIDE = 11.55, 50.88, 0.08
ITEMS = f"/api/collections/{LAYER}/items"


@dataclass
class Figures:
    store: str
    size: int
    import_s: float = math.nan
    import_mb: float = math.nan
    first_ms: float = math.nan
    write_ms: float = math.nan
    after_write_ms: float = math.nan
    timings: dict[str, ps.Latency] = field(default_factory=dict)
    bbox_count: int = 0
    rss_mb: list[float] = field(default_factory=list)
    problem: str = ""


def bbox_for(size: int, wanted: int = 100) -> str:
    """A square in the middle of the register holding about ``wanted`` cameras."""
    side = SIDE * min(1.0, math.sqrt(wanted / size))
    west = WEST + (SIDE - side) / 2
    south = SOUTH + (SIDE - side) / 2
    return f"{west:.6f},{south:.6f},{west + side:.6f},{south + side:.6f}"


TIME = Path("/usr/bin/time")  # GNU time (Debian's ``time``): the import's peak memory


def load(
    csv: Path, size: int, instance: Path, store: str, tree: Path | None, timeout: float
) -> tuple[float, float, str]:
    """Seconds of ``mapservice import``, its peak RSS in MB (nan if unknown), and any problem."""
    peak_file = instance / "import-peak-kb"
    command = [str(ps.MAPSERVICE), "import", LAYER, str(csv), "--by", "scaling-benchmark", "--no-progress"]
    if TIME.exists():
        command = [str(TIME), "-q", "-f", "%M", "-o", str(peak_file), *command]
    started = time.perf_counter()
    try:
        done = subprocess.run(
            command,
            # The default refuses more than 100,000 features in one write.
            env={
                **ps.mapservice_env(instance, store, tree),
                "MAPSERVICE_MAX_FEATURES_PER_WRITE": str(max(size, 100_000)),
            },
            capture_output=True,
            text=True,
            check=False,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired:
        return time.perf_counter() - started, math.nan, f"import did not finish in {timeout:.0f} s"
    took = time.perf_counter() - started
    try:
        peak = int(peak_file.read_text().split()[-1]) / 1024
    except (OSError, ValueError, IndexError):
        peak = math.nan
    if done.returncode != 0:
        return took, peak, f"import failed ({done.returncode}): {(done.stdout + done.stderr)[-800:]}"
    return took, peak, ""


def make_token(instance: Path, store: str, tree: Path | None) -> str:
    """A write token for the camera layer, from the CLI (it prints the secret on stdout)."""
    done = subprocess.run(
        [str(ps.MAPSERVICE), "token", "create", "--name", "scaling-benchmark", "--collection", LAYER],
        env=ps.mapservice_env(instance, store, tree),
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip().splitlines()[-1]


def write_one(port: int, token: str) -> tuple[int, bytes]:
    """Create one invented camera (test data) through the API; status and answer."""
    row = history_size.register(1, seed=7)[0]
    names = history_size.HEADER.split(";")
    props = dict(zip(names, row, strict=True))
    lon, lat = float(props.pop("lon")), float(props.pop("lat"))
    props["id"] = "test-kamera-geschrieben"
    props["range_m"] = float(props["range_m"].replace(",", "."))
    body = json.dumps(
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [lon, lat]}, "properties": props}
    )
    conn = http.client.HTTPConnection(ps.HOST, port, timeout=600)
    try:
        conn.request(
            "POST",
            ITEMS,
            body=body,
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/geo+json"},
        )
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def slowest_of_at_once(port: int, path: str, headers: dict[str, str], connections: int = 4) -> float:
    """ms of the slowest of ``connections`` requests sent at once on new connections."""
    took: list[float] = []

    def one() -> None:
        started = time.perf_counter()
        ps.get(port, path, headers)
        took.append((time.perf_counter() - started) * 1000)

    threads = [threading.Thread(target=one, daemon=True) for _ in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return max(took)


def measure(figures: Figures, server: ps.Process, seconds: float, gzip_ok: bool, token: str) -> None:
    headers = ps.headers_for(gzip_ok)
    size = figures.size
    started = time.perf_counter()
    status, _, _ = ps.get(server.port, f"{ITEMS}?limit=100", headers)
    figures.first_ms = (time.perf_counter() - started) * 1000
    if status != 200:
        figures.problem = f"first page: status {status}"
        return
    bbox = bbox_for(size)
    paths = {
        "page": f"{ITEMS}?limit=100",
        "offset": f"{ITEMS}?limit=100&offset={max(0, size - 100)}",
        "bbox": f"{ITEMS}?bbox={bbox}&limit=1000",
    }
    status, response_headers, body = ps.get(server.port, paths["bbox"], headers)
    figures.bbox_count = len(ps.decoded(response_headers, body)["features"]) if status == 200 else -1
    for name, path in paths.items():
        ps.warm(server.port, path, headers)
        figures.timings[name] = ps.latency(server.port, path, headers, seconds, min_requests=10)
    figures.rss_mb = ps.worker_rss_mb(server)
    started = time.perf_counter()
    status, answer = write_one(server.port, token)
    figures.write_ms = (time.perf_counter() - started) * 1000
    if status != 201:
        figures.problem = f"write: status {status}: {answer[:300]!r}"
        return
    figures.after_write_ms = slowest_of_at_once(server.port, paths["page"], headers)


def cell(latency: ps.Latency | None) -> str:
    if latency is None:
        return "–"
    return f"{latency.median_ms:.1f} / {latency.p99_ms:.0f}"


def report(rows: list[Figures]) -> None:
    print()
    print(
        f"{'store':<6}{'N':>9}{'import s':>10}{'feat/s':>9}{'imp MB':>8}{'first ms':>10}"
        f"{'page p50/p99':>15}{'offset p50/p99':>16}{'bbox p50/p99':>15}{'n':>5}"
        f"{'write ms':>10}{'after ms':>10}  worker RSS MB"
    )
    for f in rows:
        if f.problem:
            print(f"{f.store:<6}{f.size:>9}{f.import_s:>10.1f}  {f.problem}")
            continue
        rate = f.size / f.import_s if f.import_s > 0 else math.nan
        rss = ", ".join(f"{mb:.0f}" for mb in f.rss_mb)
        print(
            f"{f.store:<6}{f.size:>9}{f.import_s:>10.1f}{rate:>9.0f}{f.import_mb:>8.0f}{f.first_ms:>10.1f}"
            f"{cell(f.timings.get('page')):>15}{cell(f.timings.get('offset')):>16}"
            f"{cell(f.timings.get('bbox')):>15}{f.bbox_count:>5}"
            f"{f.write_ms:>10.1f}{f.after_write_ms:>10.1f}  {rss}"
        )
    for store in sorted({f.store for f in rows}):
        mine = [f for f in rows if f.store == store and not f.problem]
        if len(mine) < 2:
            continue
        small, large = mine[0], mine[-1]
        growth = ", ".join(
            f"{name} {large.timings[name].median_ms / small.timings[name].median_ms:.1f}×"
            for name in ("page", "offset", "bbox")
            if name in small.timings and name in large.timings
        )
        print(f"{store}: from N={small.size} to N={large.size}: {growth} (median; target within 2×)")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="1000,10000,100000,1000000", help="comma-separated N")
    parser.add_argument("--stores", default="gpkg,pg", help="gpkg, pg or both")
    parser.add_argument(
        "--seconds", type=float, default=None, help="per timed request, at least 10 requests [2, --quick 0.5]"
    )
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--import-timeout", type=float, default=3600, help="seconds per import [3600]")
    parser.add_argument("--gzip", action="store_true", help="send Accept-Encoding: gzip [identity]")
    parser.add_argument("--tree", type=Path, default=None, help="run the project from this source tree")
    args = parser.parse_args()
    seconds = args.seconds or (0.5 if args.quick else 2.0)
    sizes = [int(n) for n in args.sizes.split(",") if n]
    stores = [s for s in args.stores.split(",") if s]
    if not set(stores) <= {"gpkg", "pg"}:
        parser.error("--stores: gpkg, pg")

    ps.exit_on_sigterm()
    print(f"scaling benchmark, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
    encoding = "gzip" if args.gzip else "identity"
    print(f"machine: {ps.machine()}; tree: {args.tree or REPO}")
    print(f"2 workers, response cache off, {encoding}, {seconds:g} s per timed request")
    work = Path(tempfile.mkdtemp(prefix="mapservice-scaling-"))
    cluster = pg.start_cluster() if "pg" in stores else None
    rows: list[Figures] = []
    try:
        for size in sizes:
            csv = work / f"cameras-{size}.csv"
            history_size.write_csv(csv, history_size.register(size, seed=size))
            for store in stores:
                figures = Figures(store, size)
                rows.append(figures)
                instance = work / f"{store}-{size}"
                instance.mkdir()
                url = cluster.new_database(f"n{size}") if cluster is not None and store == "pg" else ""
                figures.import_s, figures.import_mb, figures.problem = load(
                    csv, size, instance, url, args.tree, args.import_timeout
                )
                print(
                    f"{store} N={size}: imported in {figures.import_s:.1f} s, "
                    f"peak RSS of the import {figures.import_mb:.0f} MB",
                    flush=True,
                )
                if figures.problem:
                    continue
                token = make_token(instance, url, args.tree)
                server = ps.mapservice_server(
                    f"{store}-{size}", work, url, cache_mb=0, tree=args.tree, instance=instance
                )
                try:
                    measure(figures, server, seconds, args.gzip, token)
                finally:
                    server.stop()
                if url and cluster is not None:
                    cluster.drop_database(url)
                shutil.rmtree(instance, ignore_errors=True)
            csv.unlink()
        report(rows)
        print(f"load average at the end: {' '.join(Path('/proc/loadavg').read_text().split()[:3])}")
    finally:
        if cluster is not None:
            cluster.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
