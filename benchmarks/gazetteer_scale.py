"""Gazetteer at scale: 1,000,000 synthetic address points through the real import path.

Prints: import time, store size, a worker's resident memory before/after the gazetteer is
used (exact and fuzzy lookups), the time from `mapservice serve` to the first answer of
/api/locate, and locate-by-address p50/p95 in-process (the finder's geocode path) and over
HTTP on 127.0.0.1. Targets (issue 12): p50 < 2 ms in-process, worker memory growth < 100 MB,
first answer < 2 s after start.

The points are SYNTHETIC: street names "Teststraße Xyzw", places "Testort Xyzw", coordinates
spread over a box around the centre of Jena (so that /api/locate gives a full answer); nothing
here is a real address. Written as an HK-DE house-coordinate file (the official layout),
imported with `mapservice gazetteer import`.

    .venv/bin/python benchmarks/gazetteer_scale.py [--points 1000000] [--store postgresql://…]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import quote

import requests

PER_STREET = 50  # houses per street
NAMES_SHARED = 4  # each street name exists in this many places (like "Hauptstraße")
PLACES = 200


def _letters(n: int) -> str:
    """ "Baa", "Caa", …: street names must not end in a number, or it would be read as the
    house number."""
    return "".join(chr(97 + (n // 26**k) % 26) for k in range(4)).capitalize()


def synthetic(points: int) -> list[tuple[str, int, str]]:
    """(street, house number, place) of the synthetic addresses, in file order."""
    streets = points // PER_STREET
    out = []
    for s in range(streets):
        name = f"Teststraße {_letters(s // NAMES_SHARED)}"
        place = f"Testort {_letters((s * 7 + s // NAMES_SHARED) % PLACES + 3000)}"
        for n in range(1, PER_STREET + 1):
            out.append((name, n, place))
    return out[:points]


def write_file(path: Path, rows: list[tuple[str, int, str]]) -> None:
    rng = random.Random(12)
    with open(path, "w", encoding="utf-8", newline="") as f:
        f.write("NBA;OI;QUA;LAN;RBZ;KRS;GMD;OTT;SSS;HNR;ADZ;EEEEEEEE,EEE;NNNNNNN,NNN;STN;PLZ;ONM;ZON;POT\r\n")
        for i, (street, number, place) in enumerate(rows):
            # Zone 32, around the centre of Jena: /api/locate answers only inside the covered
            # municipalities, and the HTTP figures should include a full answer.
            east = 32_680_500 + rng.random() * 2_500
            north = 5_642_000 + rng.random() * 4_500
            f.write(
                f"N;DETHSYNTH{i:07d};A;16;0;53;000;0000;{i % 99999:05d};{number};;"
                f"{east:.3f};{north:.3f};{street};07743;{place};;\r\n".replace(".", ",")
            )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


WORKER = r"""
import json, sys, time, random, statistics
def rss():
    for line in open("/proc/self/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
from mapservice import create_app
from mapservice.finder.routes import geocode
from mapservice.http.errors import ApiError
app = create_app()
before = rss()
queries = json.loads(sys.argv[1])
fuzzy = json.loads(sys.argv[2])
out = {"rss_start_mb": before}
with app.test_request_context():
    geocode(queries[0])
    out["rss_after_exact_mb"] = rss()
    try:
        geocode(fuzzy[0])
    except ApiError:
        pass
    out["rss_after_fuzzy_mb"] = rss()
    for name, batch, expect in (("exact", queries, None), ("fuzzy_miss", fuzzy, 404)):
        times = []
        for q in batch:
            t = time.perf_counter()
            try:
                geocode(q)
            except ApiError as exc:
                assert expect == exc.status, (q, exc.status, exc.description)
            times.append((time.perf_counter() - t) * 1000)
        times.sort()
        out[name] = {"p50": statistics.median(times), "p95": times[int(len(times) * 0.95)], "n": len(times)}
out["rss_end_mb"] = rss()
print(json.dumps(out))
"""


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--points", type=int, default=1_000_000)
    parser.add_argument(
        "--store", default="", help="postgresql:// URL of an empty database (default: a GeoPackage)"
    )
    parser.add_argument("--queries", type=int, default=1000)
    args = parser.parse_args()
    repo = Path(__file__).resolve().parent.parent
    mapservice = [sys.executable, "-m", "mapservice"]
    with tempfile.TemporaryDirectory(prefix="dsm-gazetteer-") as tmp:
        folder = Path(tmp)
        env = {
            **os.environ,
            "MAPSERVICE_INSTANCE_PATH": str(folder / "instance"),
            "MAPSERVICE_STORE": args.store,
        }
        rows = synthetic(args.points)
        data = folder / "synthetic_hauskoordinaten.csv"
        started = time.perf_counter()
        write_file(data, rows)
        print(
            f"synthetic file: {len(rows):,} points, {data.stat().st_size / 1e6:.0f} MB, "
            f"written in {time.perf_counter() - started:.1f} s"
        )
        subprocess.run([*mapservice, "check"], env=env, cwd=repo, check=True, capture_output=True)
        subprocess.run([*mapservice, "gazetteer", "list"], env=env, cwd=repo, check=True, capture_output=True)
        gpkg = folder / "instance" / "mapservice.gpkg"
        size_before = gpkg.stat().st_size if gpkg.exists() else 0
        started = time.perf_counter()
        done = subprocess.run(
            [*mapservice, "gazetteer", "import", str(data), "--source", "synthetic", "--no-progress"],
            env=env,
            cwd=repo,
            capture_output=True,
            text=True,
        )
        took = time.perf_counter() - started
        if done.returncode:
            sys.exit(done.stderr)
        print(f"import: {took:.1f} s ({len(rows) / took:,.0f} rows/s) — {done.stdout.strip()}")
        if gpkg.exists():
            print(
                f"store size: {gpkg.stat().st_size / 1e6:.0f} MB "
                f"(before the import {size_before / 1e6:.0f} MB)"
            )

        rng = random.Random(3)
        sample = rng.sample(rows, args.queries)
        exact = [f"{s} {n}, {p}" for s, n, p in sample]
        fuzzy = [f"{s.replace('Test', 'Tesd')} {n}, {p}" for s, n, p in sample[: max(args.queries // 5, 1)]]
        worker = subprocess.run(
            [sys.executable, "-c", WORKER, json.dumps(exact), json.dumps(fuzzy)],
            env=env,
            cwd=repo,
            capture_output=True,
            text=True,
        )
        if worker.returncode:
            sys.exit(worker.stderr[-3000:])
        figures = json.loads(worker.stdout.strip().splitlines()[-1])
        growth = figures["rss_after_fuzzy_mb"] - figures["rss_start_mb"]
        print(
            f"worker RSS: {figures['rss_start_mb']:.0f} MB after create_app, "
            f"{figures['rss_after_exact_mb']:.0f} MB after the first exact lookup, "
            f"{figures['rss_after_fuzzy_mb']:.0f} MB after the first fuzzy one (street keys loaded), "
            f"{figures['rss_end_mb']:.0f} MB at the end — growth {growth:.0f} MB (target < 100 MB)"
        )
        for name in ("exact", "fuzzy_miss"):
            f = figures[name]
            print(f"in-process {name:<10}: p50 {f['p50']:.2f} ms, p95 {f['p95']:.2f} ms ({f['n']} queries)")

        port = free_port()
        started = time.perf_counter()
        server = subprocess.Popen(
            [*mapservice, "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", "1"],
            env=env,
            cwd=repo,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        url = f"http://127.0.0.1:{port}/api/locate?address=" + quote(exact[0])
        try:
            session = requests.Session()
            last = "no connection"
            while True:
                try:
                    response = session.get(url, timeout=5)
                    if response.status_code == 200:
                        break
                    last = f"{response.status_code} {response.text[:300]}"
                except requests.ConnectionError:
                    pass
                if server.poll() is not None or time.perf_counter() - started > 60:
                    sys.exit(f"the server did not answer: {last}")
                time.sleep(0.02)
            print(
                f"first answer of /api/locate {time.perf_counter() - started:.2f} s after `mapservice serve` "
                "(target < 2 s; includes Python start-up and gunicorn's fork)"
            )
            times = []
            for q in exact[:500]:
                t = time.perf_counter()
                response = session.get(f"http://127.0.0.1:{port}/api/locate?address=" + quote(q), timeout=5)
                times.append((time.perf_counter() - t) * 1000)
                assert response.status_code == 200, (q, response.text[:200])
            times.sort()
            print(
                f"HTTP exact     : p50 {statistics.median(times):.2f} ms, "
                f"p95 {times[int(len(times) * 0.95)]:.2f} ms "
                f"({len(times)} requests, one keep-alive connection)"
            )
        finally:
            server.terminate()
            server.wait(timeout=20)


if __name__ == "__main__":
    main()
