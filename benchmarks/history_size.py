"""How big the change history and the GeoPackage get over repeated imports of one register.

    .venv/bin/python benchmarks/history_size.py [--rows 50000] [--imports 7] [--change-pct 2]
        [--tree DIR | --old] [--variants changed,unchanged]

Per variant, on a fresh instance (its own GeoPackage): a camera register of --rows invented
cameras around Jena (test data, marked as such in every row) is imported --imports times with
``mapservice import video-surveillance``. Variant "changed": between imports --change-pct % of
the rows get another ``range_m`` (so every import is a real re-import); variant "all": every
row gets another ``range_m`` each time (the shape of the 350,800 rows of issue 15); variant
"unchanged": the same file every time. After each import the script prints the history rows, the bytes of
the stored before/after JSON, the pages of the history table and its index (SQLite's dbstat,
where the build has it) and the file size (after a WAL checkpoint). At the end it runs
``mapservice history prune --before <start of the last import>`` (which VACUUMs), or, in a tree
without that command, a plain VACUUM, and prints the same figures again.

``--tree DIR`` runs the commands with the code of another source tree (PYTHONPATH=DIR, like
benchmarks/compare_trees.py); ``--old`` makes that tree from ``git archive HEAD`` in a temporary
folder and runs both trees, old first, so the note can give before → after figures. Only local
files are touched; nothing is contacted over the network.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import sqlite3
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
LAYER = "video-surveillance"
HEADER = (
    "id;name;city;surveillance;surveillance_type;camera_type;direction;range_m;operator;"
    "status;publication;source;verified_on;lon;lat"
)


@dataclass
class Figures:
    label: str
    rows: int
    json_mb: float
    table_mb: float | None  # dbstat: pages of the history table and its index
    file_mb: float
    seconds: float = 0.0


def register(rows: int, seed: int) -> list[list[str]]:
    """Invented, published cameras around Jena (lon 11.55-11.63, lat 50.88-50.96)."""
    rng = random.Random(seed)
    out = []
    for i in range(rows):
        out.append(
            [
                f"test-kamera-{i:06d}",
                f"Testkamera {i} (erfunden)",
                "Jena",
                "public",
                "camera",
                "fixed",
                str(rng.randrange(360)),
                f"{rng.randrange(10, 80)},5",
                "Testbetreiber (erfunden)",
                "active",
                "published",
                "Testdaten (erfundenes Register)",
                "2026-01-15",
                f"{11.55 + rng.random() * 0.08:.6f}",
                f"{50.88 + rng.random() * 0.08:.6f}",
            ]
        )
    return out


def write_csv(path: Path, rows: list[list[str]]) -> None:
    path.write_text("\n".join([HEADER, *(";".join(r) for r in rows)]) + "\n", encoding="utf-8")


def change_some(rows: list[list[str]], pct: float, rng: random.Random) -> int:
    """Another range_m for ``pct`` % of the rows (column 7); the number of rows changed."""
    picked = rng.sample(range(len(rows)), max(1, round(len(rows) * pct / 100)))
    for i in picked:
        old = rows[i][7]
        while rows[i][7] == old:
            rows[i][7] = f"{rng.randrange(10, 80)},5"
    return len(picked)


def mapservice(tree: Path, instance: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "PYTHONPATH": str(tree),
        "MAPSERVICE_INSTANCE_PATH": str(instance),
        "MAPSERVICE_STORE": "",
    }
    return subprocess.run(
        [sys.executable, "-m", "mapservice", *args],
        env=env,
        cwd=tree,
        capture_output=True,
        text=True,
        timeout=3600,
        check=False,
    )


def measure(path: Path, label: str, seconds: float = 0.0) -> Figures:
    conn = sqlite3.connect(path)
    try:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        rows, json_bytes = conn.execute(
            "SELECT count(*), coalesce(sum(coalesce(length(CAST(before AS BLOB)), 0) "
            "+ coalesce(length(CAST(after AS BLOB)), 0)), 0) FROM mapservice_history"
        ).fetchone()
        table: float | None
        try:
            pages = conn.execute(
                "SELECT coalesce(sum(pgsize), 0) FROM dbstat WHERE name LIKE 'mapservice_history%'"
            ).fetchone()[0]
            table = pages / 1e6
        except sqlite3.Error:  # a build without SQLITE_ENABLE_DBSTAT_VTAB
            table = None
    finally:
        conn.close()
    return Figures(label, int(rows), json_bytes / 1e6, table, path.stat().st_size / 1e6, seconds)


def show(f: Figures) -> None:
    table = "-" if f.table_mb is None else f"{f.table_mb:9.1f}"
    took = f"{f.seconds:6.1f}" if f.seconds else "     -"
    print(f"  {f.label:<26} {f.rows:9d} {f.json_mb:10.1f} {table:>9} {f.file_mb:9.1f} {took}", flush=True)


def run_variant(tree: Path, name: str, ns: argparse.Namespace, work: Path) -> list[Figures]:
    instance = work / f"instance-{name}"
    instance.mkdir()
    gpkg = instance / "mapservice.gpkg"
    made = mapservice(tree, instance, "token", "list")  # the first start builds the store
    if made.returncode != 0 or not gpkg.exists():
        raise SystemExit(f"{tree}: building the store failed:\n{made.stdout}\n{made.stderr}")
    rows = register(ns.rows, 1)
    rng = random.Random(2)
    csv = work / f"{name}.csv"
    out = [measure(gpkg, "fresh store")]
    print(f"{name} ({tree}):")
    print(f"  {'after':<26} {'hist rows':>9} {'JSON MB':>10} {'table MB':>9} {'file MB':>9} {'s':>6}")
    show(out[-1])
    last_start = ""
    for n in range(1, ns.imports + 1):
        changed = 0
        if n > 1 and name != "unchanged":
            changed = change_some(rows, 100.0 if name == "all" else ns.change_pct, rng)
        write_csv(csv, rows)
        time.sleep(0.01)  # the entries so far are strictly before --before, the next after
        last_start = dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        time.sleep(0.01)
        started = time.perf_counter()
        done = mapservice(tree, instance, "import", LAYER, str(csv), "--by", "history-benchmark")
        took = time.perf_counter() - started
        if done.returncode != 0:
            raise SystemExit(f"{tree}: import {n} failed:\n{done.stdout}\n{done.stderr}")
        label = f"import {n}" + (f" ({changed} changed)" if changed else "")
        out.append(measure(gpkg, label, took))
        show(out[-1])
    pruned = mapservice(tree, instance, "history", "prune", "--before", last_start)
    if pruned.returncode == 0:
        for line in pruned.stdout.strip().splitlines():
            print(f"    | {line}")
        out.append(measure(gpkg, "history prune + VACUUM"))
    else:
        conn = sqlite3.connect(gpkg)
        conn.execute("VACUUM")
        conn.close()
        out.append(measure(gpkg, "VACUUM (no prune command)"))
    show(out[-1])
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=50_000, help="cameras in the register")
    parser.add_argument("--imports", type=int, default=7, help="imports of the register")
    parser.add_argument("--change-pct", type=float, default=2.0, help="rows changed between imports")
    parser.add_argument("--variants", default="changed,unchanged,all", help="changed, unchanged, all")
    parser.add_argument("--tree", type=Path, default=REPO, help="the source tree whose code runs")
    parser.add_argument("--old", action="store_true", help="also run `git archive HEAD`, first")
    ns = parser.parse_args()
    variants = [v.strip() for v in ns.variants.split(",") if v.strip()]
    with tempfile.TemporaryDirectory(prefix="history-size-") as tmp:
        work = Path(tmp)
        trees: list[tuple[str, Path]] = []
        if ns.old:
            old = work / "old-tree"
            old.mkdir()
            archive = subprocess.run(
                ["git", "-C", str(REPO), "archive", "HEAD"], capture_output=True, check=True
            ).stdout
            subprocess.run(["tar", "-x", "-C", str(old)], input=archive, check=True)
            trees.append(("old (git HEAD)", old))
        trees.append(("this tree" if ns.tree == REPO else str(ns.tree), ns.tree.resolve()))
        results: dict[tuple[str, str], list[Figures]] = {}
        for label, tree in trees:
            for variant in variants:
                run_dir = work / f"{len(results)}"
                run_dir.mkdir()
                print(f"== {label}: {ns.imports} imports of {ns.rows} cameras, variant ", end="")
                results[(label, variant)] = run_variant(tree, variant, ns, run_dir)
        if len(trees) == 2:
            print("\nsummary (old → this tree):")
            for variant in variants:
                a, b = results[(trees[0][0], variant)], results[(trees[1][0], variant)]
                last_a, last_b = a[-2], b[-2]
                print(
                    f"  {variant}: after {ns.imports} imports {last_a.rows} → {last_b.rows} history rows, "
                    f"{last_a.json_mb:.1f} → {last_b.json_mb:.1f} MB of history JSON, "
                    f"file {last_a.file_mb:.1f} → {last_b.file_mb:.1f} MB; "
                    f"{a[-1].label}: {a[-1].file_mb:.1f} MB, {b[-1].label}: {b[-1].file_mb:.1f} MB"
                )


if __name__ == "__main__":
    main()
