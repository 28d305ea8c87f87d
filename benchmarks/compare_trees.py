"""Run one benchmark on two source trees, interleaved, and print the figures side by side.

    .venv/bin/python benchmarks/compare_trees.py --before /path/to/old/checkout \\
        --rounds 3 api_throughput.py --seconds 3
    .venv/bin/python benchmarks/compare_trees.py --before /path/to/old/checkout locate_latency.py

Each round runs the benchmark of the old tree, then that of this tree (``<tree>/benchmarks/
<script>``, with ``PYTHONPATH=<tree>``, so the server it starts runs that tree's code; both use
this interpreter and its installed dependencies). The machine is shared and noisy, so a
single run says little: the table gives, per figure, the median over the rounds of each tree
and the ratio this tree / old tree. The figures are read from the benchmark's own output:
``req/s`` and ``p50 ms`` of each api_throughput row, ``p50``/``p95`` of each locate_latency
line. Only 127.0.0.1 is contacted (by the benchmarks themselves).
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent
# A row of api_throughput's table: scenario (encoding), req/s, p50 ms, ...
THROUGHPUT_ROW = re.compile(r"^(?P<name>.+?\((?:gzip|identity)\))\s+(?P<rate>[\d.]+)\s+(?P<p50>[\d.]+)\s")
# A line of locate_latency: label: p50 x ms p95 y ms ...
LATENCY_ROW = re.compile(r"^(?P<name>[^:]+):\s+p50\s+(?P<p50>[\d.]+) ms\s+p95\s+(?P<p95>[\d.]+) ms")


def figures(output: str) -> dict[str, float]:
    """Named figures of one run, read from the benchmark's printed table or lines."""
    out: dict[str, float] = {}
    for line in output.splitlines():
        if m := THROUGHPUT_ROW.match(line):
            out[f"{m['name'].strip()} req/s"] = float(m["rate"])
            out[f"{m['name'].strip()} p50 ms"] = float(m["p50"])
        elif m := LATENCY_ROW.match(line):
            out[f"{m['name'].strip()} p50 ms"] = float(m["p50"])
            out[f"{m['name'].strip()} p95 ms"] = float(m["p95"])
    return out


def run(tree: Path, script: str, args: list[str]) -> dict[str, float]:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    result = subprocess.run(
        [sys.executable, str(tree / "benchmarks" / script), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=1800,
        cwd=tree,
    )
    if result.returncode != 0:
        raise SystemExit(f"{tree}: {script} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    found = figures(result.stdout)
    if not found:
        raise SystemExit(f"{tree}: no figures found in the output of {script}:\n{result.stdout}")
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", type=Path, required=True, help="the old source tree")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved runs per tree")
    parser.add_argument("script", help="a script in benchmarks/, e.g. api_throughput.py")
    parser.add_argument("args", nargs=argparse.REMAINDER, help="the benchmark's own arguments")
    ns = parser.parse_args()
    trees = {"before": ns.before.resolve(), "after": HERE}
    runs: dict[str, list[dict[str, float]]] = {"before": [], "after": []}
    for round_no in range(1, ns.rounds + 1):
        for label, tree in trees.items():
            print(f"round {round_no}/{ns.rounds}: {label} ({tree})", file=sys.stderr, flush=True)
            runs[label].append(run(tree, ns.script, ns.args))
    names = [n for n in runs["after"][0] if all(n in r for r in runs["before"] + runs["after"])]
    width = max(len(n) for n in names)
    print(f"{ns.script} {' '.join(ns.args)}: medians of {ns.rounds} interleaved runs per tree")
    print(f"{'figure':<{width}}  {'before':>9}  {'after':>9}  {'after/before':>12}")
    for name in names:
        before = statistics.median(r[name] for r in runs["before"])
        after = statistics.median(r[name] for r in runs["after"])
        ratio = after / before if before else float("nan")
        print(f"{name:<{width}}  {before:9.2f}  {after:9.2f}  {ratio:12.2f}")
    print("(req/s: higher is better; ms: lower is better)")


if __name__ == "__main__":
    main()
