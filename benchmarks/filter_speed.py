"""Does a CQL2 filter cost what the same ``field=value`` or ``bbox`` query costs? (issue 17, point 4)

    .venv/bin/python benchmarks/filter_speed.py [--stores gpkg,pg] [--cameras 100000]
        [--rounds 3] [--seconds 2] [--quick]

Each store (the GeoPackage, and a new database of a throwaway PostgreSQL cluster, tests/pg.py)
is made from the shipped data, with a register of ``--cameras`` invented cameras around Jena
added (test data: benchmarks/history_size.py ``register()``, loaded with ``mapservice
import``). ``mapservice serve --workers 2`` runs over it with ``MAPSERVICE_RESPONSE_CACHE_MB=0``,
so every request is answered from the store.

Each row is a pair of requests that select the same features, one with query parameters and
one with ``filter`` (CQL2 text); both are checked to return the same ids first. Then they are
timed in turn (A B, then B A in the next round) on one keep-alive connection for
``--seconds`` each, ``--rounds`` times. Printed: the median latency of each, and the ratio
filter / parameters with its min–max over the rounds (1.00 = the same cost; the target is the
same speed within noise).
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))
sys.path.insert(0, str(REPO / "benchmarks"))

import history_size  # noqa: E402  (the invented camera register)
import peer_systems as ps  # noqa: E402
import pg  # noqa: E402
import scaling  # noqa: E402

JENA_BOX = "11.50,50.88,11.68,50.98"


@dataclass
class Row:
    name: str
    layer: str
    params: dict[str, str]
    cql2: str
    ms: dict[str, list[float]] = field(default_factory=lambda: {"params": [], "filter": []})
    matched: int = -1

    def path(self, system: str) -> str:
        query = self.params if system == "params" else {"filter": self.cql2}
        return f"/api/collections/{self.layer}/items?{urlencode({**query, 'limit': '100'})}"


def rows(cameras: int) -> list[Row]:
    box = scaling.bbox_for(cameras)
    west, south, east, north = box.split(",")
    jw, js, je, jn = JENA_BOX.split(",")
    return [
        Row("municipalities, kreis", "municipalities", {"kreis": "Zwickau"}, "kreis = 'Zwickau'"),
        Row(
            "municipalities, two fields",
            "municipalities",
            {"land": "Sachsen", "kind": "Stadt"},
            "land = 'Sachsen' AND kind = 'Stadt'",
        ),
        Row(
            "municipalities, bbox Jena",
            "municipalities",
            {"bbox": JENA_BOX},
            f"S_INTERSECTS(geometry, BBOX({jw}, {js}, {je}, {jn}))",
        ),
        Row(f"{cameras} cameras, range_m", scaling.LAYER, {"range_m": "42.5"}, "range_m = 42.5"),
        Row(
            f"{cameras} cameras, bbox of ~100",
            scaling.LAYER,
            {"bbox": box},
            f"S_INTERSECTS(geometry, BBOX({west}, {south}, {east}, {north}))",
        ),
    ]


def same_answer(server: ps.Process, row: Row) -> None:
    """Both forms must select the same features, or the timing compares nothing."""
    answers = []
    for system in ("params", "filter"):
        status, headers, body = ps.get(server.port, row.path(system), ps.headers_for(False))
        if status != 200:
            raise SystemExit(f"{row.name}: {system} answered {status}: {body[:300]!r}")
        doc = ps.decoded(headers, body)
        answers.append((doc["numberMatched"], [f["id"] for f in doc["features"]]))
    if answers[0] != answers[1]:
        raise SystemExit(f"{row.name}: the two forms select different features")
    row.matched = answers[0][0]


def run_store(store: str, url: str, work: Path, args: argparse.Namespace) -> list[Row]:
    instance = work / store
    instance.mkdir()
    csv = work / "cameras.csv"
    if not csv.exists():
        history_size.write_csv(csv, history_size.register(args.cameras, seed=args.cameras))
    took, _, problem = scaling.load(csv, args.cameras, instance, url, None, 3600)
    if problem:
        raise SystemExit(f"{store}: {problem}")
    print(f"{store}: {args.cameras} cameras imported in {took:.1f} s", flush=True)
    server = ps.mapservice_server(store, work, url, cache_mb=0, instance=instance)
    table = rows(args.cameras)
    headers = ps.headers_for(False)
    try:
        for row in table:
            same_answer(server, row)
            for system in ("params", "filter"):
                ps.warm(server.port, row.path(system), headers)
        for round_no in range(args.rounds):
            order = ("params", "filter") if round_no % 2 == 0 else ("filter", "params")
            for row in table:
                for system in order:
                    timing = ps.latency(server.port, row.path(system), headers, args.seconds, 10)
                    row.ms[system].append(timing.median_ms)
    finally:
        server.stop()
    return table


def report(store: str, table: list[Row]) -> None:
    print(f"\n{store}: median latency in ms (1 connection), and filter / parameters per round")
    print(f"{'request':<34}{'matched':>8}{'params':>9}{'filter':>9}{'ratio':>8}  min–max")
    for row in table:
        ratios = [f / p for f, p in zip(row.ms["filter"], row.ms["params"], strict=True)]
        print(
            f"{row.name:<34}{row.matched:>8}{statistics.median(row.ms['params']):>9.2f}"
            f"{statistics.median(row.ms['filter']):>9.2f}{statistics.median(ratios):>8.2f}"
            f"  {min(ratios):.2f}–{max(ratios):.2f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--stores", default="gpkg,pg")
    parser.add_argument("--cameras", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=2.0)
    parser.add_argument("--quick", action="store_true", help="10,000 cameras, 2 rounds of 0.5 s")
    args = parser.parse_args()
    if args.quick:
        args.cameras, args.rounds, args.seconds = 10_000, 2, 0.5
    stores = args.stores.split(",")
    print(f"machine: {ps.machine()}")
    print(f"2 workers, response cache off, identity, {args.rounds} rounds of {args.seconds:g} s per request")
    work = Path(tempfile.mkdtemp(prefix="mapservice-filter-"))
    cluster = pg.start_cluster() if "pg" in stores else None
    try:
        results = {}
        for store in stores:
            url = cluster.new_database("filters") if store == "pg" and cluster is not None else ""
            results[store] = run_store(store, url, work, args)
        for store, table in results.items():
            report(store, table)
        print(f"\nload average at the end: {' '.join(Path('/proc/loadavg').read_text().split()[:3])}")
    finally:
        if cluster is not None:
            cluster.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
