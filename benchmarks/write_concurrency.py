"""Concurrent API writers and SIGKILL in the middle of an import, on the GeoPackage and PostGIS.

    .venv/bin/python benchmarks/write_concurrency.py [--postgis-url URL | --no-postgis]
        [--writers 20] [--edits 5] [--rounds 3] [--rows 30000] [--delays 1.0,0.5,0.25,0.1]

Per store, against `mapservice serve` (gunicorn, --workers, 4 threads each) on 127.0.0.1 with a
write token made by `mapservice token create`:

1. One feature, N writers: each thread GETs the camera (ETag and ``purpose``) and PATCHes
   ``purpose`` with its own marker appended, If-Match the ETag; after a 412 it reads again. A
   GET that comes back without an ETag is read again too (and counted). Lost updates = writers
   whose marker is missing from the final value (or there twice); the change log must hold
   1 create + N updates.
2. Own features, N writers: each thread creates a camera and PATCHes it --edits times with the
   ETag of its last response. Lost updates = features whose final state or log (1 + edits
   entries) is not what their writer wrote.
   Write latency: every PATCH round trip (200 and 412 alike), from sending to the whole answer.
3. SIGKILL: a small published register is imported, then a --rows camera CSV (invented cameras
   around Jena) is imported with --progress and killed (SIGKILL) the given seconds after it
   says "writing N features". Per delay: did the kill land before the commit, was there
   uncommitted data (GeoPackage: bytes in the -wal; PostGIS: heap bytes of the inserted rows),
   and what a newly opened store holds: the previous data (same ids, same layer version), or
   the whole new file when the commit came first; anything else is BROKEN. Then: the time
   until a restarted server answers with the previous cameras (on a GeoPackage the first
   connection rolls the WAL back), and the next import.

PostGIS: the database of --postgis-url must be empty (no schema 'mapservice'): the script fills
it and overwrites its camera layer. Without the option a throwaway cluster is started with
tests/pg.py (Debian's PostgreSQL and PostGIS); where there is none, PostGIS is left out.

Exit code 0 when no update was lost and no kill left broken data, else 1.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests"))

LAYER = "video-surveillance"
ITEMS = f"/api/collections/{LAYER}/items"
MERGE_PATCH = "application/merge-patch+json"
MARKER = re.compile(r"\[w\d+\]")


@dataclass
class Store:
    name: str
    instance: Path
    store: str  # MAPSERVICE_STORE: "" for <instance>/mapservice.gpkg, else a postgresql:// URL

    @property
    def env(self) -> dict[str, str]:
        return {**os.environ, "MAPSERVICE_INSTANCE_PATH": str(self.instance), "MAPSERVICE_STORE": self.store}


def cli(store: Store, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mapservice", *args],
        env=store.env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def camera(fid: str, name: str, **props: Any) -> dict[str, Any]:
    return {
        "type": "Feature",
        "id": fid,
        "geometry": {"type": "Point", "coordinates": [11.5893, 50.9276]},
        "properties": {
            "name": name,
            "city": "Jena",
            "surveillance": "public",
            "surveillance_type": "camera",
            "status": "active",
            "operator": "Testbetreiber (erfunden)",
            "source": "Testdaten",
            "verified_on": "2026-01-15",
            **props,
        },
    }


def ms(samples: list[float]) -> str:
    if not samples:
        return "-"
    ordered = sorted(samples)
    p95 = ordered[max(0, int(len(ordered) * 0.95) - 1)]
    return f"{statistics.median(ordered) * 1000:6.1f} / {p95 * 1000:6.1f}"


# -- writers ---------------------------------------------------------------------------------


@dataclass
class Round:
    scenario: str
    writers: int
    writes: int = 0  # successful writes (creates and updates)
    wall: float = 0.0
    retries: int = 0  # 412 answers
    no_etag: int = 0  # GETs answered 200 without an ETag
    latencies: list[float] = field(default_factory=list)
    lost: int = 0
    history: int = 0
    history_expected: int = 0


def together(count: int, work: Callable[[int, threading.Barrier], Any]) -> tuple[list[Any], float]:
    barrier = threading.Barrier(count + 1, timeout=60)
    with ThreadPoolExecutor(count) as pool:
        futures = [pool.submit(work, i, barrier) for i in range(count)]
        barrier.wait()
        start = time.perf_counter()
        results = [f.result(timeout=600) for f in futures]
    return results, time.perf_counter() - start


def one_feature(base: str, token: str, writers: int, tag: str) -> Round:
    auth = {"Authorization": f"Bearer {token}"}
    fid = f"test-cam-geteilt-{tag}"
    url = f"{base}{ITEMS}/{fid}"
    made = requests.post(
        f"{base}{ITEMS}", headers=auth, timeout=60, json=camera(fid, "Testkamera geteilt", purpose="Start")
    )
    made.raise_for_status()
    out = Round("one feature", writers)

    def writer(i: int, barrier: threading.Barrier) -> tuple[int, int, list[float]]:
        retries = no_etag = 0
        latencies = []
        with requests.Session() as http:
            barrier.wait()
            while True:
                got = http.get(url, headers=auth, timeout=60)
                got.raise_for_status()
                if "ETag" not in got.headers:  # nothing to send in If-Match: read again
                    no_etag += 1
                    if no_etag > 10_000:
                        raise RuntimeError("no ETag in 10,000 GETs")
                    continue
                purpose = got.json()["properties"]["purpose"]
                start = time.perf_counter()
                patch = http.patch(
                    url,
                    timeout=60,
                    headers={**auth, "If-Match": got.headers["ETag"], "Content-Type": MERGE_PATCH},
                    data=json.dumps({"properties": {"purpose": f"{purpose} [w{i}]"}}),
                )
                latencies.append(time.perf_counter() - start)
                if patch.status_code == 200:
                    return retries, no_etag, latencies
                if patch.status_code != 412:
                    raise RuntimeError(f"PATCH: HTTP {patch.status_code} {patch.text[:300]}")
                retries += 1

    results, out.wall = together(writers, writer)
    out.writes = writers
    for retries, no_etag, latencies in results:
        out.retries += retries
        out.no_etag += no_etag
        out.latencies += latencies
    final = requests.get(url, headers=auth, timeout=60).json()["properties"]["purpose"]
    markers = MARKER.findall(final)
    out.lost = sum(markers.count(f"[w{i}]") != 1 for i in range(writers))
    out.history = len(requests.get(f"{url}/history", headers=auth, timeout=60).json()["changes"])
    out.history_expected = 1 + writers
    return out


def own_features(base: str, token: str, writers: int, edits: int, tag: str) -> Round:
    auth = {"Authorization": f"Bearer {token}"}
    out = Round("own features", writers)

    def writer(i: int, barrier: threading.Barrier) -> tuple[int, list[float]]:
        fid = f"test-cam-{tag}-w{i}"
        latencies = []
        retries = 0
        with requests.Session() as http:
            barrier.wait()
            made = http.post(
                f"{base}{ITEMS}",
                headers=auth,
                timeout=60,
                json=camera(fid, f"Testkamera {tag} {i}", purpose=f"w{i} start"),
            )
            made.raise_for_status()
            etag = made.headers["ETag"]
            for k in range(1, edits + 1):
                start = time.perf_counter()
                patch = http.patch(
                    f"{base}{ITEMS}/{fid}",
                    timeout=60,
                    headers={**auth, "If-Match": etag, "Content-Type": MERGE_PATCH},
                    data=json.dumps({"properties": {"purpose": f"w{i} edit {k}"}}),
                )
                latencies.append(time.perf_counter() - start)
                if patch.status_code == 412:
                    retries += 1  # nobody else writes this feature: a 412 here is a fault
                    continue
                patch.raise_for_status()
                etag = patch.headers["ETag"]
        return retries, latencies

    results, out.wall = together(writers, writer)
    out.writes = writers * (1 + edits)
    for retries, latencies in results:
        out.retries += retries
        out.writes -= retries
        out.latencies += latencies
    with requests.Session() as http:
        for i in range(writers):
            url = f"{base}{ITEMS}/test-cam-{tag}-w{i}"
            purpose = http.get(url, headers=auth, timeout=60).json()["properties"]["purpose"]
            changes = http.get(f"{url}/history", headers=auth, timeout=60).json()["changes"]
            wanted = [f"w{i} start"] + [f"w{i} edit {k}" for k in range(1, edits + 1)]
            logged = [c["after"]["properties"]["purpose"] for c in changes]
            out.lost += purpose != wanted[-1] or logged != wanted
            out.history += len(changes)
    out.history_expected = writers * (1 + edits)
    return out


def print_rounds(rounds: list[Round]) -> None:
    print(
        f"  {'scenario':13s} {'writers':>7s} {'writes':>6s} {'wall s':>7s} {'writes/s':>8s} "
        f"{'412':>5s} {'no ETag':>7s} {'write p50/p95 ms':>17s} {'lost':>4s} {'history':>11s}"
    )
    for r in rounds:
        print(
            f"  {r.scenario:13s} {r.writers:7d} {r.writes:6d} {r.wall:7.2f} "
            f"{r.writes / r.wall:8.1f} {r.retries:5d} {r.no_etag:7d} {ms(r.latencies):>17s} "
            f"{r.lost:4d} {r.history:5d}/{r.history_expected:<5d}"
        )


# -- SIGKILL in the middle of an import ------------------------------------------------------


def write_cameras(path: Path, rows: int, prefix: str, seed: int) -> list[str]:
    """Invented, published cameras around Jena (lon 11.55-11.63, lat 50.88-50.96)."""
    rng = random.Random(seed)
    ids = [f"{prefix}-{i:06d}" for i in range(rows)]
    lines = [
        "id;name;city;surveillance;surveillance_type;camera_type;direction;range_m;operator;"
        "status;publication;source;verified_on;lon;lat"
    ]
    for i, fid in enumerate(ids):
        lines.append(
            f"{fid};Testkamera {i} (erfunden);Jena;public;camera;fixed;"
            f"{rng.randrange(360)};{rng.randrange(10, 80)},5;Testbetreiber (erfunden);"
            f"active;published;Testdaten (erfundenes Register);2026-01-15;"
            f"{11.55 + rng.random() * 0.08:.6f};{50.88 + rng.random() * 0.08:.6f}"
        )
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return ids


def layer(store: Store) -> tuple[dict[str, Any], int]:
    """The camera layer as a newly opened store reads it (ids -> properties, version)."""
    from mapservice import create_app
    from mapservice.store.base import Query

    app = create_app({"instance_path": str(store.instance), "store": store.store})
    full = app.extensions["mapservice"].store
    try:
        features = full.query(LAYER, Query(limit=1_000_000)).features
        return {f.id: (f.properties, f.geometry) for f in features}, full.state(LAYER).version
    finally:
        full.close()


def pg(store: Store, statement: str) -> list[tuple[Any, ...]]:
    import psycopg

    with psycopg.connect(store.store, autocommit=True) as conn:
        cur = conn.execute(statement)  # type: ignore[arg-type]
        return cur.fetchall() if cur.description else []


def uncommitted_now(store: Store) -> int:
    if not store.store:
        wal = store.instance / "mapservice.gpkg-wal"
        return wal.stat().st_size if wal.exists() else 0
    return int(pg(store, "SELECT pg_relation_size('mapservice.video_surveillance')")[0][0])


@dataclass
class KillResult:
    delay: float
    outcome: str
    uncommitted: int
    state: str  # what a newly opened store holds afterwards
    session_gone_s: float | None = None


def kill_once(
    store: Store, csv: Path, big_ids: list[str], delay: float, previous: tuple[dict[str, Any], int]
) -> KillResult:
    before = uncommitted_now(store) if store.store else 0
    process = subprocess.Popen(
        [sys.executable, "-m", "mapservice", "import", LAYER, str(csv), "--progress"],
        env=store.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert process.stderr is not None and process.stdout is not None
    seen = bytearray()
    writing = threading.Event()

    def drain() -> None:  # the progress bar must not fill the pipe and stall the import
        assert process.stderr is not None
        while chunk := process.stderr.read1(65536):
            seen.extend(chunk)
            if b"writing " in seen:
                writing.set()
        writing.set()

    threading.Thread(target=drain, daemon=True).start()
    writing.wait(600)
    time.sleep(delay)
    finished_first = process.poll() is not None
    if not finished_first:
        os.kill(process.pid, signal.SIGKILL)
    process.wait()
    uncommitted = uncommitted_now(store) - before
    gone = None
    if store.store:
        # PostgreSQL ends the dead client's session (its transaction and locks) by itself.
        start = time.monotonic()
        while pg(
            store,
            "SELECT 1 FROM pg_stat_activity WHERE application_name = 'mapservice' "
            "AND datname = current_database()",
        ):
            time.sleep(0.02)
        gone = time.monotonic() - start
    after = layer(store)
    if after == previous:
        outcome = "killed mid-write" if uncommitted > 0 else "killed, nothing written yet"
        state = "previous intact"
    elif sorted(after[0]) == big_ids and after[1] == previous[1] + 1:
        outcome = "done before the kill" if finished_first else "committed before the kill"
        state = "whole new file"
    else:
        outcome = "killed" if not finished_first else "done before the kill"
        state = f"BROKEN: {len(after[0])} features, version {after[1]}"
    return KillResult(delay, outcome, uncommitted, state, gone)


def kills(store: Store, rows: int, delays: list[float], workdir: Path) -> bool:
    small = workdir / "vorher.csv"
    write_cameras(small, 5, "test-vorher", 1)
    big = workdir / "gross.csv"
    big_ids = write_cameras(big, rows, "test-gross", 2)
    if cli(store, "import", LAYER, str(small)).returncode != 0:
        raise RuntimeError("the first, small import failed")
    previous = layer(store)
    results = []
    for delay in delays:
        result = kill_once(store, big, big_ids, delay, previous)
        results.append(result)
        if result.state != "previous intact":
            cli(store, "import", LAYER, str(small))  # back to the previous data
            previous = layer(store)
    print(f"  SIGKILL during the import of {rows} rows (previous data: 5 cameras):")
    print(
        f"  {'delay s':>7s}  {'outcome':28s} {'uncommitted B':>13s}  {'store afterwards':24s}"
        + ("  session gone s" if store.store else "")
    )
    for r in results:
        gone = f"  {r.session_gone_s:14.3f}" if r.session_gone_s is not None else ""
        print(f"  {r.delay:7.2f}  {r.outcome:28s} {r.uncommitted:13d}  {r.state:24s}{gone}")

    from serve import start  # benchmarks/serve.py: the shared server starter

    started = time.perf_counter()
    server, port = start(str(store.instance), {"MAPSERVICE_STORE": store.store})
    try:
        listed = requests.get(f"http://127.0.0.1:{port}{ITEMS}?limit=100", timeout=60).json()
        recovery = time.perf_counter() - started
        served = sorted(f["id"] for f in listed["features"]) == sorted(previous[0])
    finally:
        server.terminate()
        server.wait(timeout=20)
    started = time.perf_counter()
    again = cli(store, "import", LAYER, str(small))
    print(
        f"  next start until the cameras are served: {recovery:.2f} s "
        f"(served the previous data: {'yes' if served else 'NO'}); next import: "
        f"{'ok' if again.returncode == 0 else 'FAILED'} in {time.perf_counter() - started:.2f} s"
    )
    return not any(r.state.startswith("BROKEN") for r in results) and served and again.returncode == 0


# -- main ------------------------------------------------------------------------------------


def bench(store: Store, args: argparse.Namespace, workdir: Path) -> bool:
    from serve import start

    print(f"\n== {store.name} ==")
    server, port = start(str(store.instance), {"MAPSERVICE_STORE": store.store}, workers=args.workers)
    base = f"http://127.0.0.1:{port}"
    try:
        made = cli(store, "token", "create", "--name", "Benchmark (Test)", "--collection", LAYER)
        if made.returncode != 0:
            raise RuntimeError(made.stderr)
        token = made.stdout.strip()
        rounds = []
        for n in range(args.rounds):
            rounds.append(one_feature(base, token, args.writers, f"r{n}"))
            rounds.append(own_features(base, token, args.writers, args.edits, f"r{n}"))
    finally:
        server.terminate()
        server.wait(timeout=20)
    print(
        f"  {args.writers} writers over HTTP, {args.workers} gunicorn workers × 4 threads; "
        "write p50/p95 = PATCH round trips"
    )
    print_rounds(rounds)
    ok = all(r.lost == 0 and r.history == r.history_expected for r in rounds)
    return kills(store, args.rows, [float(d) for d in args.delays.split(",")], workdir) and ok


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--postgis-url",
        default=None,
        help="an empty PostGIS database (no schema 'mapservice'); it is changed",
    )
    parser.add_argument("--no-postgis", action="store_true", help="GeoPackage only")
    parser.add_argument("--writers", type=int, default=20)
    parser.add_argument("--edits", type=int, default=5, help="PATCHes per own feature")
    parser.add_argument("--rounds", type=int, default=3, help="runs of each writer scenario")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn worker processes")
    parser.add_argument("--rows", type=int, default=30_000, help="cameras in the killed import")
    parser.add_argument(
        "--delays", default="1.0,0.5,0.25,0.1", help="seconds after 'writing N features' to kill the import"
    )
    args = parser.parse_args()

    ok = True
    workdir = Path(tempfile.mkdtemp(prefix="mapservice-writes-"))
    cluster = None
    try:
        (workdir / "gpkg").mkdir()
        ok &= bench(Store("GeoPackage", workdir / "gpkg", ""), args, workdir)
        url = args.postgis_url
        if url is None and not args.no_postgis:
            from pg import Unavailable, start_cluster

            try:
                cluster = start_cluster()
                url = cluster.new_database("bench")
            except (Unavailable, RuntimeError) as exc:
                print(f"\n== PostGIS: left out ({exc}) ==")
        if url is not None:
            store = Store("PostGIS", workdir / "postgis", url)
            store.instance.mkdir()
            if pg(store, "SELECT 1 FROM pg_namespace WHERE nspname = 'mapservice'"):
                raise SystemExit(
                    f"{url}: has a schema 'mapservice' already; give an empty "
                    "database, this script overwrites its camera layer"
                )
            ok &= bench(store, args, workdir)
    finally:
        if cluster is not None:
            cluster.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    print(f"\npython {sys.version.split()[0]}, cpu count {os.cpu_count()}")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
