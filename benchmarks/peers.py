"""The project against its peers on the same data, same machine, 2 workers each (issue 16, point 6).

    .venv/bin/python benchmarks/peers.py [--rounds 3] [--quick] [--only districts,bbox]
        [--systems gpkg,pg,pygeoapi-pg,tipg,nginx] [--connections 4] [--tree DIR]

Systems (all on 127.0.0.1, 2 worker processes each):

- ``gpkg``, ``pg``: this tree's ``.venv/bin/mapservice serve --workers 2`` on the GeoPackage
  store (a new instance folder, filled from the shipped data) and on PostGIS, with
  ``MAPSERVICE_RESPONSE_CACHE_MB=0`` so that every request is built from the store;
  ``gpkg-cached``, ``pg-cached``: the same with the default response cache.
- ``pygeoapi-pg``: pygeoapi (Flask app under gunicorn) with its PostgreSQL provider over the
  tables the project's PostGIS store created; ``pygeoapi-file``: pygeoapi with its GeoJSON
  provider over files of the same features; ``tipg``: tipg under uvicorn over the same tables.
  Both are installed into a venv of their own (benchmarks/peer_systems.py, ``PEER_PINS``).
- ``nginx``: Debian's nginx serving the bytes the project answers as static files (with
  ``gzip_static``: the compressed copy is made once), as the limit.

The PostgreSQL cluster is a throwaway one (tests/pg.py) on a free port. Peers are given the
project's properties (pygeoapi ``properties``, tipg ``properties=``) so that all answer the
same fields. Before measuring, each system's answer to each row is checked: status 200, the
same features (ids) as the project's; a system that answers other features is not measured
for that row (shown as "wrong: …").

Per round, row by row, every system is measured in turn (A B C … then the next row; odd rounds
go backwards): two unmeasured requests at once (each worker answers once, the cached systems
keep the body), then ``ms``: mean (and median) latency of back-to-back requests on one
keep-alive connection for the latency time, then ``req/s``: ``wrk -t1 -c<connections>`` for
the throughput time (longer for a slow system, so that it finishes several requests; ``–``
when it finished none). The uncached systems build every answer from the store: their response
cache is off, and no request sends If-None-Match. Per row the table gives the median over
rounds and [min–max], and how many times faster each of the project's systems is than each
peer and nginx (their ms / ours; our req/s / theirs), the ratio taken within each round.

Rows (``--only``): districts, municipalities, bbox, bbox-gzip, municipalities-gzip.

``--gdal N``: after the rows, N interleaved rounds of what a GIS user does: ``ogr2ogr -f GPKG
out.gpkg OAPIF:<landing page> municipalities`` with Debian's GDAL (``ogr2ogr``, plain, as GDAL
pages by itself), on every system but nginx; seconds per copy, and the features the copy
holds (``ogrinfo -so``), which must be all 1,275.
``--quick``: 0.5 s latency and 1 s wrk per cell (default 3 s and 5 s; ``--latency-seconds``,
``--wrk-seconds`` set them). A quick run of all rows takes about 2 minutes per round, the
default about 6. ``--tree DIR`` runs the project's service from another source tree
(PYTHONPATH=DIR), e.g. a ``git archive`` of HEAD.
"""

from __future__ import annotations

import argparse
import gzip
import json
import math
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))
sys.path.insert(0, str(REPO / "benchmarks"))

import peer_systems as ps  # noqa: E402
import pg  # noqa: E402  (tests/pg.py: the throwaway cluster)

BBOX = "11.45,50.85,11.70,51.0"  # around Jena


@dataclass(frozen=True)
class Row:
    key: str
    title: str
    collection: str
    query: str
    gzip: bool = False

    @property
    def file(self) -> str:
        """The name of the static copy (the gzip row shares the plain row's file)."""
        return f"{self.collection}-{re.sub(r'[^A-Za-z0-9]+', '_', self.query)}.json"


ROWS = (
    Row("districts", "30 districts (Jena)", "districts", "city=Jena&limit=100"),
    Row("municipalities", "all 1,275 municipalities", "municipalities", "limit=10000"),
    Row("bbox", "bbox around Jena", "municipalities", f"bbox={BBOX}&limit=1000"),
    Row("bbox-gzip", "bbox around Jena, gzip", "municipalities", f"bbox={BBOX}&limit=1000", gzip=True),
    Row("municipalities-gzip", "all 1,275 municipalities, gzip", "municipalities", "limit=10000", gzip=True),
)
OURS = ("gpkg", "pg", "gpkg-cached", "pg-cached")
PEERS = ("pygeoapi-pg", "pygeoapi-file", "tipg")
SYSTEMS = (*OURS, *PEERS, "nginx")


@dataclass
class Cell:
    """The measurements of one system on one row, one entry per round."""

    ms: list[float] = field(default_factory=list)
    median_ms: list[float] = field(default_factory=list)
    rps: list[float] = field(default_factory=list)
    errors: int = 0
    wrong: str = ""  # why this system's answer was not measured
    wire_bytes: int = 0
    encoding: str = ""


class Bench:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.work = Path(tempfile.mkdtemp(prefix="mapservice-peers-"))
        self.processes: dict[str, ps.Process] = {}
        self.properties: dict[str, list[str]] = {}
        self.cluster: pg.Cluster | None = None

    # ----------------------------------------------------------------- set-up

    def launch(self, name: str, start: Callable[[], ps.Process]) -> None:
        """Start one system; one that does not come up is reported and left out."""
        started = time.perf_counter()
        try:
            self.processes[name] = start()
        except (RuntimeError, OSError, subprocess.CalledProcessError) as exc:
            print(f"{name}: did not start, left out: {str(exc)[-1500:]}")
            return
        print(f"{name}: up in {time.perf_counter() - started:.1f} s")

    def start(self, systems: list[str], rows: list[Row]) -> None:
        tree, work = self.args.tree, self.work
        self.cluster = pg.start_cluster()
        db = self.cluster.new_database("bench")
        # The first PostGIS server creates the tables (from the shipped data) the peers read.
        self.launch("pg", lambda: ps.mapservice_server("pg", work, db, cache_mb=0, tree=tree))
        if "pg" not in self.processes:
            raise SystemExit("the project's PostGIS store did not start: no tables for the peers")
        if "pg-cached" in systems:
            self.launch("pg-cached", lambda: ps.mapservice_server("pg-cached", work, db, tree=tree))
        if "gpkg" in systems:
            self.launch("gpkg", lambda: ps.mapservice_server("gpkg", work, cache_mb=0, tree=tree))
        if "gpkg-cached" in systems:
            self.launch("gpkg-cached", lambda: ps.mapservice_server("gpkg-cached", work, tree=tree))
        reference = self.processes["pg"]
        collections = sorted({row.collection for row in rows})
        whole: dict[str, bytes] = {}
        for cid in collections:
            status, _, body = ps.get(
                reference.port, f"/api/collections/{cid}/items?limit=10000", ps.headers_for(False)
            )
            if status != 200:
                raise SystemExit(f"project: {cid} answered {status}")
            whole[cid] = body
            names = {name for f in json.loads(body)["features"] for name in f["properties"]}
            self.properties[cid] = sorted(names)
        if "nginx" in systems:
            root = work / "www"
            root.mkdir()
            for row in rows:
                _, _, body = ps.get(reference.port, self.ours_path(row), ps.headers_for(False))
                (root / row.file).write_bytes(body)
                (root / f"{row.file}.gz").write_bytes(gzip.compress(body, 6))
            self.launch("nginx", lambda: ps.nginx_server("nginx", work, root))
        if "pg" not in systems:
            self.processes.pop("pg").stop()
        if not any(s in PEERS for s in systems):
            return
        bin_dir = ps.peers_venv()
        if "pygeoapi-pg" in systems:
            tables = {
                cid: ps.postgres_provider(db, cid.replace("-", "_"), self.properties[cid])
                for cid in collections
            }
            self.launch("pygeoapi-pg", lambda: ps.pygeoapi_server("pygeoapi-pg", bin_dir, work, tables))
        if "pygeoapi-file" in systems:
            files = {}
            for cid in collections:
                path = work / f"{cid}.geojson"
                path.write_bytes(whole[cid])
                files[cid] = ps.geojson_provider(path)
            self.launch("pygeoapi-file", lambda: ps.pygeoapi_server("pygeoapi-file", bin_dir, work, files))
        if "tipg" in systems:
            self.launch("tipg", lambda: ps.tipg_server("tipg", bin_dir, work, db))

    def stop(self) -> None:
        for process in self.processes.values():
            process.stop()
        if self.cluster is not None:
            self.cluster.stop()
        shutil.rmtree(self.work, ignore_errors=True)

    # ----------------------------------------------------------------- requests

    def ours_path(self, row: Row) -> str:
        return f"/api/collections/{row.collection}/items?{row.query}"

    def path(self, system: str, row: Row) -> str:
        if system in OURS:
            return self.ours_path(row)
        if system.startswith("pygeoapi"):
            return f"/collections/{row.collection}/items?{row.query}&f=json"
        if system == "tipg":
            table = row.collection.replace("-", "_")
            props = ",".join(self.properties[row.collection])
            return f"/collections/mapservice.{table}/items?{row.query}&properties={props}"
        if system == "nginx":
            return f"/{row.file}"
        raise ValueError(system)

    def check(self, system: str, row: Row, expected: set[str] | None) -> tuple[set[str], Cell]:
        """The ids a system answers for a row, and a cell noting what is wrong with it."""
        cell = Cell()
        port = self.processes[system].port
        status, headers, body = ps.get(port, self.path(system, row), ps.headers_for(row.gzip))
        cell.wire_bytes = len(body)
        cell.encoding = headers.get("content-encoding", "identity")
        if status != 200:
            cell.wrong = f"status {status}"
            return set(), cell
        try:
            features = ps.decoded(headers, body)["features"]
        except (ValueError, KeyError, TypeError, OSError) as exc:
            cell.wrong = f"unreadable ({exc})"
            return set(), cell
        ids = {str(f.get("properties", {}).get("id", f.get("id"))) for f in features}
        if expected is not None and ids != expected:
            cell.wrong = f"wrong: {len(ids)} features, {len(expected)} expected"
        return ids, cell

    def measure(self, system: str, row: Row, cell: Cell) -> None:
        port = self.processes[system].port
        path = self.path(system, row)
        headers = ps.headers_for(row.gzip)
        # Unmeasured: every worker has answered once, and the cached systems have the body.
        ps.warm(port, path, headers, connections=2, rounds=1)
        lat = ps.latency(port, path, headers, self.args.latency_seconds)
        # wrk counts only the requests it finished: give a slow system time for several each.
        seconds = max(self.args.wrk_seconds, lat.mean_ms / 1000 * self.args.connections * 2)
        rate = ps.wrk(port, path, headers, seconds, self.args.connections)
        cell.ms.append(lat.mean_ms)
        cell.median_ms.append(lat.median_ms)
        cell.rps.append(rate.requests_per_s)
        cell.errors += lat.errors + rate.errors

    def gdal_source(self, system: str, collection: str) -> tuple[str, str]:
        """GDAL's OAPIF connection string and layer name of a collection on a system."""
        base = f"http://{ps.HOST}:{self.processes[system].port}"
        if system in OURS:
            return f"OAPIF:{base}/api", collection
        if system == "tipg":
            return f"OAPIF:{base}", f"mapservice.{collection.replace('-', '_')}"
        return f"OAPIF:{base}", collection

    def gdal_copy(self, system: str, collection: str) -> tuple[float, int]:
        """Seconds of one ogr2ogr copy of a collection, and the features it holds (-1: failed)."""
        source, layer = self.gdal_source(system, collection)
        out = self.work / f"copy-{system}.gpkg"
        out.unlink(missing_ok=True)
        env = {**os.environ, "GDAL_HTTP_TIMEOUT": "600", "CPL_DEBUG": "OFF"}
        started = time.perf_counter()
        done = subprocess.run(
            ["ogr2ogr", "-f", "GPKG", str(out), source, layer],
            env=env,
            capture_output=True,
            text=True,
            check=False,
            timeout=900,
        )
        took = time.perf_counter() - started
        if done.returncode != 0:
            return took, -1
        info = subprocess.run(
            ["ogrinfo", "-so", "-al", str(out)], capture_output=True, text=True, check=False, timeout=60
        )
        found = re.search(r"Feature Count: (\d+)", info.stdout)
        return took, int(found[1]) if found else -1


def gdal_rounds(bench: Bench, systems: list[str], rounds: int) -> None:
    """ogr2ogr of all municipalities through each system, interleaved (odd rounds backwards)."""
    systems = [s for s in systems if s != "nginx"]
    seconds: dict[str, list[float]] = {s: [] for s in systems}
    counts: dict[str, set[int]] = {s: set() for s in systems}
    for round_no in range(rounds):
        for system in systems if round_no % 2 == 0 else systems[::-1]:
            took, count = bench.gdal_copy(system, "municipalities")
            seconds[system].append(took)
            counts[system].add(count)
    print(f"\n== ogr2ogr -f GPKG out.gpkg OAPIF:… municipalities ({rounds} rounds, GDAL's own paging)")
    print(f"{'system':<15}{'seconds, median [min–max]':>30}  features in the copy")
    for system in systems:
        held = ", ".join(str(c) for c in sorted(counts[system]))
        print(f"{system:<15}{spread(seconds[system], 2):>30}  {held}")
    ours = [s for s in systems if s in OURS]
    others = [s for s in systems if s not in OURS]
    if ours and others:
        print("  times faster: their s / our s, median [min–max] over rounds")
        print("  " + f"{'':<13}" + "".join(f"{o:>25}" for o in others))
        for system in ours:
            cells = [spread(ratios(seconds[system], seconds[o], False), 1) + "×" for o in others]
            print("  " + f"{system:<13}" + "".join(f"{c:>25}" for c in cells))


# --------------------------------------------------------------------------- report


def spread(values: list[float], digits: int) -> str:
    values = [v for v in values if math.isfinite(v)]
    if not values:
        return "–"
    fmt = f"{{:.{digits}f}}"
    mid = fmt.format(statistics.median(values))
    if len(values) == 1:
        return mid
    return f"{mid} [{fmt.format(min(values))}–{fmt.format(max(values))}]"


def digits_for(values: list[float]) -> int:
    values = [v for v in values if math.isfinite(v)]
    top = statistics.median(values) if values else 0
    return 0 if top >= 100 else 1 if top >= 1 else 2


def ratios(ours: list[float], theirs: list[float], higher_is_better: bool) -> list[float]:
    pairs = zip(ours, theirs, strict=True)
    if higher_is_better:
        return [a / b for a, b in pairs if b > 0 and math.isfinite(a / b)]
    return [b / a for a, b in pairs if a > 0 and math.isfinite(b / a)]


def report(row: Row, cells: dict[str, Cell], connections: int) -> None:
    print(f"\n== {row.title}: {row.collection}/items?{row.query}" + (" (gzip)" if row.gzip else ""))
    print(
        f"{'system':<15}{'mean ms, 1 connection':>24}{'median ms':>22}"
        f"{f'req/s, wrk -c{connections}':>24}{'bytes':>10}  enc"
    )
    for system, cell in cells.items():
        if cell.wrong:
            print(f"{system:<15}{cell.wrong:>46}")
            continue
        mean = spread(cell.ms, digits_for(cell.ms))
        median = spread(cell.median_ms, digits_for(cell.median_ms))
        rps = spread(cell.rps, digits_for(cell.rps))
        errors = f"  {cell.errors} errors" if cell.errors else ""
        print(f"{system:<15}{mean:>24}{median:>22}{rps:>24}{cell.wire_bytes:>10}  {cell.encoding}{errors}")
    ours = [s for s in cells if s in OURS and not cells[s].wrong]
    others = [s for s in cells if s not in OURS and not cells[s].wrong]
    if not ours or not others:
        return
    for title, attr, higher in (
        ("latency: their ms / our ms", "ms", False),
        ("req/s: ours / theirs", "rps", True),
    ):
        print(f"  times faster, {title}, median [min–max] over rounds")
        print("  " + f"{'':<13}" + "".join(f"{o:>25}" for o in others))
        for system in ours:
            values = [ratios(getattr(cells[system], attr), getattr(cells[o], attr), higher) for o in others]
            print(
                "  "
                + f"{system:<13}"
                + "".join(
                    f"{spread(v, 2 if v and statistics.median(v) < 1 else 1) + '×':>25}" for v in values
                )
            )


TARGET_PEERS = ("pygeoapi-pg", "tipg")  # issue 16: 10× both, uncached, on both stores


def median_of(values: list[float]) -> float:
    values = [v for v in values if math.isfinite(v)]
    return statistics.median(values) if values else math.nan


def summary(rows: list[Row], cells: dict[str, dict[str, Cell]]) -> None:
    """One Markdown table for the note: median ms (req/s of one connection) per row and system."""
    systems = list(next(iter(cells.values())))
    print("\nSummary (median over rounds; ms on 1 connection, in brackets req/s with wrk):\n")
    print("| request | " + " | ".join(systems) + " |")
    print("|---|" + "---:|" * len(systems))
    for row in rows:
        out = []
        for system in systems:
            cell = cells[row.key][system]
            ms, rps = median_of(cell.ms), median_of(cell.rps)
            out.append(cell.wrong or f"{ms:.{digits_for([ms])}f} ms ({rps:.{digits_for([rps])}f}/s)")
        print(f"| {row.title} | " + " | ".join(out) + " |")
    targets = [t for t in TARGET_PEERS if t in systems]
    ours = [s for s in systems if s in OURS]
    if not targets or not ours:
        return
    print("\nTimes faster than " + " / ".join(targets) + " (their ms / our ms, median; target 10×):\n")
    print("| request | " + " | ".join(ours) + " |")
    print("|---|" + "---:|" * len(ours))
    for row in rows:
        out = []
        for system in ours:
            parts = []
            for peer in targets:
                mine, theirs = cells[row.key][system], cells[row.key][peer]
                if mine.wrong or theirs.wrong:
                    parts.append("–")
                    continue
                parts.append(f"{median_of(ratios(mine.ms, theirs.ms, False)):.1f}×")
            out.append(" / ".join(parts))
        print(f"| {row.title} | " + " | ".join(out) + " |")


def environment(args: argparse.Namespace) -> None:
    print(f"peers benchmark, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
    print(f"machine: {ps.machine()}")
    print(f"tree: {args.tree or REPO}")
    bin_dir = pg.find_bin_dir()
    print(f"PostgreSQL: {bin_dir}")
    for tool in (ps.NGINX, ps.WRK):
        print(f"{tool.name}: {tool}")
    print(
        f"rounds {args.rounds}, per cell {args.latency_seconds:g} s latency (1 connection) + "
        f"{args.wrk_seconds:g} s wrk -t1 -c{args.connections}; 2 workers per system"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="0.5 s latency + 1 s wrk per cell")
    parser.add_argument("--only", default="", help=f"rows, comma-separated: {','.join(r.key for r in ROWS)}")
    parser.add_argument(
        "--systems", default=",".join(SYSTEMS), help="comma-separated, of: " + ",".join(SYSTEMS)
    )
    parser.add_argument("--connections", type=int, default=4, help="wrk connections")
    parser.add_argument("--latency-seconds", type=float, default=None)
    parser.add_argument("--wrk-seconds", type=float, default=None)
    parser.add_argument("--tree", type=Path, default=None, help="run the project from this source tree")
    parser.add_argument("--gdal", type=int, default=0, help="rounds of ogr2ogr through each system [0]")
    args = parser.parse_args()
    args.latency_seconds = args.latency_seconds or (0.5 if args.quick else 3.0)
    args.wrk_seconds = args.wrk_seconds or (1.0 if args.quick else 5.0)
    systems = [s for s in args.systems.split(",") if s]
    unknown = sorted(set(systems) - set(SYSTEMS))
    if unknown:
        parser.error(f"unknown systems: {', '.join(unknown)}")
    only = [k for k in args.only.split(",") if k]
    rows = [r for r in ROWS if not only or r.key in only]
    if not rows:
        parser.error(f"no such row: {args.only}")

    if not ps.NGINX.exists() or not ps.WRK.exists() or pg.find_bin_dir() is None:
        raise SystemExit(
            "needs Debian's nginx, wrk and PostgreSQL with PostGIS: "
            "apt-get install nginx wrk postgresql postgresql-postgis"
        )
    ps.exit_on_sigterm()
    environment(args)
    bench = Bench(args)
    try:
        if any(s in PEERS for s in systems):
            versions = ps.installed_versions(
                ps.peers_venv(), ("pygeoapi", "tipg", "gunicorn", "uvicorn", "SQLAlchemy", "psycopg2-binary")
            )
            print("peers: " + ", ".join(f"{k} {v}" for k, v in versions.items()))
        bench.start(systems, rows)
        systems = [s for s in systems if s in bench.processes]
        cells: dict[str, dict[str, Cell]] = {}
        for row in rows:
            reference = "pg" if "pg" in systems else systems[0]
            expected, _ = bench.check(reference, row, None)
            cells[row.key] = {}
            for system in systems:
                _, cell = bench.check(system, row, expected)
                cells[row.key][system] = cell
            print(f"{row.key}: {len(expected)} features")
        for round_no in range(args.rounds):
            order = systems if round_no % 2 == 0 else systems[::-1]
            started = time.perf_counter()
            for row in rows:
                for system in order:
                    cell = cells[row.key][system]
                    if not cell.wrong:
                        bench.measure(system, row, cell)
            print(f"round {round_no + 1}/{args.rounds}: {time.perf_counter() - started:.0f} s", flush=True)
        for row in rows:
            report(row, cells[row.key], args.connections)
        summary(rows, cells)
        if args.gdal:
            gdal_rounds(bench, systems, args.gdal)
        print(f"\nload average at the end: {' '.join(Path('/proc/loadavg').read_text().split()[:3])}")
    finally:
        bench.stop()


if __name__ == "__main__":
    main()
