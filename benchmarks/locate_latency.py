"""Latency of /api/locate by point and by address, in-process and over HTTP on 127.0.0.1.

    .venv/bin/python benchmarks/locate_latency.py [--requests 300]

In-process calls the same function the endpoint uses (after the index is built once, as in a
warm worker); over HTTP, `mapservice serve` (gunicorn) answers sequential keep-alive requests.
Points are random points in Jena (district officers, whole-town offices, nearest within the
radius) and in Zwickau (no district, the Stabsstelle for the whole town, nothing within the
radius: the "nothing near" answer). Target: p50 under 5 ms in-process for a point.
"""

from __future__ import annotations

import argparse
import http.client
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

# Address variants the offline gazetteer knows (the offices' own addresses).
ADDRESSES = [
    "Anna-Siemsen-Str. 27, Jena",
    "anna siemsen str 27",
    "Am Anger 28",
    "Richard-Sorge-Straße 2",
    "Am Anger 30, 07743 Jena",
]


def percentiles(samples: list[float]) -> str:
    ordered = sorted(samples)
    p50 = statistics.median(ordered)
    p95 = ordered[int(len(ordered) * 0.95) - 1]
    return f"p50 {p50:7.2f} ms   p95 {p95:7.2f} ms   max {ordered[-1]:7.2f} ms   n={len(ordered)}"


def timed(call: Callable[[], object], n: int) -> list[float]:
    out = []
    for _ in range(n):
        start = time.perf_counter()
        call()
        out.append((time.perf_counter() - start) * 1000)
    return out


JENA, ZWICKAU = "16053000", "14524330"


def points(n: int, ags: str = JENA) -> list[tuple[float, float]]:
    """Random points inside the municipality's boundary (rejection sampling over its bbox)."""
    import json

    import shapely

    with open(REPO / "geodata" / "municipalities.geojson", encoding="utf-8") as fh:
        town = next(f for f in json.load(fh)["features"] if f["id"] == ags)
    shape = shapely.geometry.shape(town["geometry"])
    minx, miny, maxx, maxy = shape.bounds
    rng = random.Random(7)
    out: list[tuple[float, float]] = []
    while len(out) < n:
        lon, lat = rng.uniform(minx, maxx), rng.uniform(miny, maxy)
        if shape.contains(shapely.Point(lon, lat)):
            out.append((lon, lat))
    return out


def in_process(n: int, instance: str) -> None:
    from mapservice import create_app
    from mapservice.finder.routes import answer

    app = create_app({"instance_path": instance})
    pts = iter(points(n + 1) * 2)
    zwickau = iter(points(n + 1, ZWICKAU) * 2)
    addresses = iter(ADDRESSES * (n // len(ADDRESSES) + 2))
    with app.test_request_context():
        # Parameters as a request has them: every name with its list of values.
        answer({"lat": ["50.9"], "lon": ["11.57"]})  # builds the index and the gazetteer once
        answer({"address": [ADDRESSES[0]]})

        def by_point() -> object:
            lon, lat = next(pts)
            return answer({"lat": [str(lat)], "lon": [str(lon)]})

        def in_zwickau() -> object:
            lon, lat = next(zwickau)
            return answer({"lat": [str(lat)], "lon": [str(lon)]})

        print("in-process, point:   ", percentiles(timed(by_point, n)))
        print("in-process, Zwickau: ", percentiles(timed(in_zwickau, n)))
        print("in-process, address: ", percentiles(timed(lambda: answer({"address": [next(addresses)]}), n)))


def over_http(n: int, instance: str) -> None:
    from serve import start

    server, port = start(instance)
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)

        def get(path: str) -> None:
            conn.request("GET", path)
            response = conn.getresponse()
            response.read()
            if response.status != 200:
                raise RuntimeError(f"{path}: HTTP {response.status}")

        for _ in range(10):  # warm both workers' indexes
            get("/api/locate?lat=50.9&lon=11.57")
            get("/api/locate?address=" + quote(ADDRESSES[0]))
        pts = iter(points(n + 1) * 2)
        zwickau = iter(points(n + 1, ZWICKAU) * 2)
        addresses = iter(ADDRESSES * (n // len(ADDRESSES) + 2))

        def by_point() -> None:
            lon, lat = next(pts)
            get(f"/api/locate?lat={lat:.6f}&lon={lon:.6f}")

        def in_zwickau() -> None:
            lon, lat = next(zwickau)
            get(f"/api/locate?lat={lat:.6f}&lon={lon:.6f}")

        print("HTTP, point:         ", percentiles(timed(by_point, n)))
        print("HTTP, Zwickau:       ", percentiles(timed(in_zwickau, n)))
        print(
            "HTTP, address:       ",
            percentiles(timed(lambda: get("/api/locate?address=" + quote(next(addresses))), n)),
        )
    finally:
        server.terminate()
        server.wait(timeout=20)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300, help="requests per measurement")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="mapservice-locate-") as instance:
        in_process(args.requests, instance)
        over_http(args.requests, instance)
    print(f"python {sys.version.split()[0]}, cpu count {os.cpu_count()}")


if __name__ == "__main__":
    main()
