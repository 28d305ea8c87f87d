"""How long the situation report takes: HTML and PDF of Jena and of Thuringia (land-16).

What it measures
----------------
One app over a new GeoPackage built from the shipped data (in a temporary folder), asked in
process through Flask's test client, as a planner's browser asks the service:

* ``/planner/report?area=jena&f=pdf``     target under 5 s
* ``/planner/report?area=land-16&f=pdf``  target under 15 s

and the HTML of each (``f=html``), which is what the PDF is rendered from. The first request
of each area is an unmeasured warm-up (it computes the planner's rows, which the planner page
would have cached already). The runs are interleaved (Jena, Thuringia, Jena, …) so that a
change in the machine's load hits both alike; the response cache is bypassed, so every run
renders the report anew. Printed: per area and format the median, minimum and maximum
seconds, the size, the page count of the PDF, and the machine's load.

How to run (from the repository root)::

    .venv/bin/python benchmarks/report_speed.py
    .venv/bin/python benchmarks/report_speed.py --runs 5
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import sys
import tempfile
import time

from pypdf import PdfReader

from mapservice import create_app

AREAS = (("jena", 5.0), ("land-16", 15.0))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="measured runs per area and format")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as instance:
        # No response cache: each run must render, not replay the first one's bytes.
        app = create_app({"instance_path": instance, "store": "", "response_cache_mb": 0})
        client = app.test_client()
        for area, _ in AREAS:
            client.get(f"/planner/report?area={area}")  # warm-up: the planner's rows
        times: dict[tuple[str, str], list[float]] = {}
        sizes: dict[tuple[str, str], int] = {}
        pages: dict[str, int] = {}
        for _ in range(args.runs):
            for area, _target in AREAS:
                for fmt in ("html", "pdf"):
                    start = time.perf_counter()
                    response = client.get(f"/planner/report?area={area}&f={fmt}")
                    took = time.perf_counter() - start
                    if response.status_code != 200:
                        print(f"{area} {fmt}: HTTP {response.status_code}", file=sys.stderr)
                        return 1
                    times.setdefault((area, fmt), []).append(took)
                    sizes[(area, fmt)] = len(response.data)
                    if fmt == "pdf":
                        pages[area] = len(PdfReader(io.BytesIO(response.data)).pages)
        app.extensions["mapservice"].store.close()
    print(
        f"{'area':<10} {'format':<6} {'median s':>9} {'min s':>7} {'max s':>7} "
        f"{'size KB':>8} {'pages':>6}  target"
    )
    for area, target in AREAS:
        for fmt in ("html", "pdf"):
            t = times[(area, fmt)]
            note = f"< {target:g} s" if fmt == "pdf" else ""
            print(
                f"{area:<10} {fmt:<6} {statistics.median(t):9.2f} {min(t):7.2f} {max(t):7.2f} "
                f"{sizes[(area, fmt)] / 1024:8.0f} {pages.get(area, 0) if fmt == 'pdf' else '':>6}  {note}"
            )
    load = os.getloadavg()
    print(
        f"runs: {args.runs} per area and format, interleaved; "
        f"load average {load[0]:.1f} on {os.cpu_count()} CPUs"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
