"""Time to compute the planner's metrics, and how fast /planner answers once they are computed.

    .venv/bin/python benchmarks/coverage_timing.py [--repeat 5] [--requests 200]

1. Cold computation, in-process: every input layer read from the GeoPackage, frames built,
   metrics and ranking computed, with a new Planning object per run (so nothing is cached).
   Jena, Leipzig, Chemnitz per city; all municipalities of Thuringia and Saxony.
2. `/planner` and `/api/coverage/…` over HTTP on 127.0.0.1 against `mapservice serve`
   (gunicorn), sequential keep-alive requests after one warm-up request per worker: once with
   the response cache (the normal case), once with it off (MAPSERVICE_RESPONSE_CACHE_MB=0,
   so each request renders the page from the cached metrics).

Targets (issue 5): under 2 s for Jena; the page under 300 ms once the metrics are computed.
"""

from __future__ import annotations

import argparse
import http.client
import os
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


def summary(samples: list[float]) -> str:
    ordered = sorted(samples)
    p95 = ordered[max(0, int(len(ordered) * 0.95) - 1)]
    return (
        f"p50 {statistics.median(ordered):8.1f} ms   p95 {p95:8.1f} ms   "
        f"max {ordered[-1]:8.1f} ms   n={len(ordered)}"
    )


def cold(instance: str, repeat: int) -> None:
    from mapservice import create_app
    from mapservice.planner.service import Planning, read_figures, thresholds

    app = create_app({"instance_path": instance})
    settings = app.config["SETTINGS"]
    catalog = app.extensions["mapservice"].catalog
    store = app.extensions["mapservice"].store
    figures = read_figures(settings.resolved_geodata_path() / "programme_figures.csv")

    def fresh() -> Planning:
        return Planning(store, catalog, thresholds(settings, catalog), figures)

    print(f"cold computation (new cache each run, grid {settings.planner_grid_m} m):")
    for key in ("jena", "leipzig", "chemnitz"):
        samples = []
        for _ in range(repeat):
            planning = fresh()
            city = planning.city(key)
            assert city is not None
            start = time.perf_counter()
            rows = planning.districts(city)
            samples.append((time.perf_counter() - start) * 1000)
        print(f"  districts of {key:9s} ({len(rows):3d} rows): {summary(samples)}")
    for land, name in ((None, "both Länder"), ("16", "Thüringen"), ("14", "Sachsen")):
        samples = []
        for _ in range(repeat):
            planning = fresh()
            start = time.perf_counter()
            rows = planning.municipalities(land)
            if land in (None, "16"):
                planning.survey()
            samples.append((time.perf_counter() - start) * 1000)
        print(f"  municipalities, {name:11s} ({len(rows):4d} rows): {summary(samples)}")
    planning = fresh()
    city = planning.city("jena")
    assert city is not None
    planning.districts(city)
    samples = []
    for _ in range(repeat * 20):
        start = time.perf_counter()
        planning.districts(city)
        samples.append((time.perf_counter() - start) * 1000)
    print(f"  districts of jena, cached (version check only): {summary(samples)}")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"  peak resident memory of this process: {peak:.0f} MB")


PATHS = (
    "/planner?area=jena&metric=distance_mean_m",
    "/planner?area=land-16&metric=gap_score",
    "/api/coverage/districts?city=jena&f=geojson",
    "/api/coverage/municipalities?land=16&f=csv",
)


def over_http(instance: str, requests: int) -> None:
    from serve import start

    for label, extra in (
        ("response cache on", {}),
        ("response cache off", {"MAPSERVICE_RESPONSE_CACHE_MB": "0"}),
    ):
        server, port = start(instance, extra)
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

            def get(path: str, conn: http.client.HTTPConnection = conn) -> float:
                start = time.perf_counter()
                conn.request("GET", path, headers={"Accept-Encoding": "gzip"})
                response = conn.getresponse()
                response.read()
                if response.status != 200:
                    raise RuntimeError(f"{path}: HTTP {response.status}")
                return (time.perf_counter() - start) * 1000

            print(f"HTTP, {label}:")
            for path in PATHS:
                first = [get(path) for _ in range(4)]  # both workers compute once
                samples = [get(path) for _ in range(requests)]
                print(f"  {path:46s} first {max(first):7.1f} ms   {summary(samples)}")
        finally:
            server.terminate()
            server.wait(timeout=20)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="cold runs per computation")
    parser.add_argument("--requests", type=int, default=200, help="requests per URL over HTTP")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="mapservice-coverage-") as instance:
        cold(instance, args.repeat)
        over_http(instance, args.requests)
    print(f"python {sys.version.split()[0]}, cpu count {os.cpu_count()}")


if __name__ == "__main__":
    main()
