"""How long the planner takes for Jena with one heavy legal-graffiti polygon in Jena.

    .venv/bin/python benchmarks/heavy_geometry.py [--vertices 2664 10000 20000 50000 100000]

For each size a "comb" polygon (a valid polygon shaped like a comb, the shape that makes
intersections slowest) with that many vertices is stored in ``graffiti-zones`` (city Jena,
status active) of a new GeoPackage, and the district metrics of Jena are computed cold
(a new Planning object, nothing cached). Also prints the largest vertex count in the shipped
data, for choosing the ``max_vertices`` setting (README, settings).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


def comb(vertices: int, x0: float = 11.575, y0: float = 50.925) -> dict[str, Any]:
    """A valid comb polygon of about ``vertices`` vertices, teeth 1e-7 degrees apart."""
    step, height = 1e-7, 0.002
    teeth = max(1, (vertices - 3) // 4)
    ring = [[x0, y0 - 0.0005]]
    for i in range(teeth):
        a = round(x0 + 2 * i * step, 7)
        b = round(a + step, 7)
        ring += [[a, y0], [a, y0 + height], [b, y0 + height], [b, y0]]
    ring += [[round(x0 + 2 * teeth * step, 7), y0 - 0.0005], ring[0]]
    return {"type": "Polygon", "coordinates": [ring]}


def shipped_max() -> tuple[int, str]:
    import shapely

    best = (0, "")
    for path in sorted((REPO / "geodata").glob("*.geojson")):
        for feature in json.loads(path.read_text(encoding="utf-8"))["features"]:
            if feature.get("geometry"):
                n = int(shapely.get_num_coordinates(shapely.from_geojson(json.dumps(feature["geometry"]))))
                if n > best[0]:
                    best = (n, f"{path.name} {feature['properties'].get('id')}")
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--vertices", type=int, nargs="+", default=[2664, 10_000, 20_000, 50_000, 100_000])
    args = parser.parse_args()

    import shapely

    from mapservice import create_app
    from mapservice.planner.service import Planning, read_figures, thresholds

    n, where = shipped_max()
    print(f"largest geometry in geodata/: {n} vertices ({where})")
    with tempfile.TemporaryDirectory(prefix="mapservice-heavy-") as instance:
        # Stored with Store.replace, which does not check limits: the point is to see what
        # the planner does beyond them.
        app = create_app({"instance_path": instance})
        services = app.extensions["mapservice"]
        settings, catalog, store = services.settings, services.catalog, services.store
        figures = read_figures(settings.resolved_geodata_path() / "programme_figures.csv")
        base = Planning(store, catalog, thresholds(settings, catalog), figures)
        city = base.city("jena")
        assert city is not None
        start = time.perf_counter()
        base.districts(city)
        print(f"planner, districts of Jena, no graffiti zone: {time.perf_counter() - start:6.2f} s")
        for vertices in args.vertices:
            geom = shapely.from_geojson(json.dumps(comb(vertices)))
            props = {
                "id": "benchmark-comb",
                "name": "Benchmark comb (test data)",
                "city": "Jena",
                "status": "active",
                "legal_status": "legal",
                "source": "benchmark test data",
                "verified_on": "2026-01",
            }
            store.replace("graffiti-zones", [(props, geom)])
            planning = Planning(store, catalog, thresholds(settings, catalog), figures)
            city = planning.city("jena")
            assert city is not None
            start = time.perf_counter()
            planning.districts(city)
            took = time.perf_counter() - start
            count = shapely.get_num_coordinates(geom)
            print(f"planner, districts of Jena, comb of {count:7d} vertices: {took:6.2f} s")
        store.close()


if __name__ == "__main__":
    main()
