"""The planner's time budget (issue 15, point 2): a computation over it answers 503 at once,
is not started again while the data is the same, and runs again after a change."""

from __future__ import annotations

import html
import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import shapely
from flask import Flask

from conftest import GEODATA, StoreConfig
from mapservice import create_app
from mapservice.cache import KeptFailure, VersionedCache
from mapservice.planner import budget, metrics
from mapservice.store.base import Edit

# A comb over Jena (test data, invented): every tooth crosses the districts' outlines, the
# worst case of an overlay. 60,000 vertices are estimated at about 7 s per intersection, so a
# 3-second budget refuses it before the first one; it is cheap to store and read.
COMB_VERTICES = 60_000
BUDGET_S = 3
ZONE = "test-kamm"
JENA = "16053000"


def comb(vertices: int) -> shapely.Polygon:
    minx, miny, maxx, maxy = 11.50, 50.86, 11.67, 50.98
    teeth = vertices // 4
    xs = np.linspace(minx, maxx, teeth * 2 + 1)
    ring: list[tuple[float, float]] = [(minx, miny)]
    for i in range(teeth):
        x0, x1 = float(xs[2 * i]), float(xs[2 * i + 1])
        ring += [(x0, miny + 0.001), (x0, maxy), (x1, maxy), (x1, miny + 0.001)]
    return shapely.Polygon([*ring, (maxx, miny), (minx, miny)])


def zone(geometry: shapely.Geometry) -> Edit:
    properties = {
        "id": ZONE,
        "name": "Testfläche (erfunden, Testdaten)",
        "city": "Jena",
        "status": "active",
        "legal_status": "legal",
    }
    return Edit("create", ZONE, properties, geometry)


# -- the cache keeps a failure like a value --------------------------------------------------


class Doomed(KeptFailure):
    pass


def test_a_kept_failure_is_raised_again_until_the_versions_change() -> None:
    cache = VersionedCache()
    calls: list[int] = []

    def fail() -> str:
        calls.append(1)
        raise Doomed("too heavy")

    for _ in range(3):
        with pytest.raises(Doomed, match="too heavy"):
            cache.get("districts", (1,), fail)
    assert len(calls) == 1
    assert cache.get("districts", (2,), lambda: "computed") == "computed"


def test_any_other_error_is_not_kept() -> None:
    cache = VersionedCache()
    calls: list[int] = []

    def broken() -> str:
        calls.append(1)
        raise ValueError("a bug, not an answer")

    for _ in range(2):
        with pytest.raises(ValueError):
            cache.get("districts", (1,), broken)
    assert len(calls) == 2


def test_the_deadline_refuses_an_overlay_that_would_not_fit_and_stops_once_spent(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    now = [100.0]
    monkeypatch.setattr(budget.time, "monotonic", lambda: now[0])
    deadline = budget.Deadline("Jena", 5)
    deadline.overlay(2_000, "a district")  # ordinary outlines pass
    with pytest.raises(budget.OverBudget, match="800,000 vertices"):
        deadline.overlay(800_000, "the comb")
    deadline.check("the next district")
    now[0] += 5.5
    with pytest.raises(budget.OverBudget, match=r"time budget of 5 s.*stopped at the next district"):
        deadline.check("the next district")
    budget.NO_DEADLINE.overlay(800_000, "the command line has no budget")


# -- the service, on both stores -------------------------------------------------------------


@pytest.fixture(scope="module")
def jena_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The shipped data of Jena alone: a new store is filled from it in a fraction of the time."""
    folder = tmp_path_factory.mktemp("jena-geodata")
    for path in GEODATA.iterdir():
        if path.suffix != ".geojson":
            shutil.copy(path, folder / path.name)
            continue
        data = json.loads(path.read_text(encoding="utf-8"))
        if path.stem == "prevention-bodies":
            data["features"] = [
                f for f in data["features"] if JENA in (f["properties"].get("covers_ags") or ())
            ]
        else:
            data["features"] = [
                f
                for f in data["features"]
                if JENA in (f["properties"].get("city_ags"), f["properties"].get("ags"))
            ]
        (folder / path.name).write_text(json.dumps(data), encoding="utf-8")
    return folder


@pytest.fixture
def heavy_app(
    fresh_store: StoreConfig, jena_data: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[Flask, list[int]]]:
    """An app with a small budget over a store holding the comb (put in through the store: the
    API's vertex limit may refuse it), and a count of the district computations."""
    metrics.preload()  # importing geopandas is no part of a computation's time
    app = create_app(fresh_store.settings(planner_time_budget_s=BUDGET_S, geodata_path=str(jena_data)))
    store = app.extensions["mapservice"].store
    store.edit("graffiti-zones", zone(comb(COMB_VERTICES)), "test", "import")
    calls: list[int] = []
    real = metrics.district_metrics

    def counted(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(metrics, "district_metrics", counted)
    yield app, calls
    store.close()


def test_over_budget_is_a_503_kept_for_the_data_version(heavy_app: tuple[Flask, list[int]]) -> None:
    app, calls = heavy_app
    client = app.test_client()

    response = client.get("/api/coverage/districts?city=jena")
    assert response.status_code == 503
    assert response.headers["Retry-After"].isdigit()
    body = json.loads(response.data)
    assert body["code"] == "OverBudget"
    assert "Jena" in body["description"] and f"time budget of {BUDGET_S} s" in body["description"]
    assert f"graffiti-zones feature '{ZONE}'" in body["description"]
    assert calls == [1]

    # Asked again, in every format and on the page: the kept failure, nothing computed again.
    assert client.get("/api/coverage/districts?city=jena&f=csv").status_code == 503
    page = client.get("/planner?area=jena")
    assert page.status_code == 503 and page.mimetype == "text/html"
    assert page.headers["Retry-After"].isdigit()
    text = page.get_data(as_text=True)
    assert "Die Auswertung für „Jena“" in text and f"{BUDGET_S} Sekunden" in text
    english = html.unescape(client.get("/planner?area=jena&lang=en").get_data(as_text=True))
    assert "The analysis for 'Jena'" in english and "Auswertung" not in english
    assert client.get("/planner/report?area=jena").status_code == 503
    assert calls == [1]

    # The rest of the service answers as before.
    assert client.get("/api/collections").status_code == 200
    assert client.get("/finder").status_code == 200
    assert client.get("/planner?area=land-16").status_code == 200

    # A new data version computes again: the zone simplified to a square is quick.
    store = app.extensions["mapservice"].store
    square = shapely.box(11.58, 50.92, 11.60, 50.93)
    store.edit("graffiti-zones", Edit("replace", ZONE, zone(square).properties, square), "test", "import")
    response = client.get("/api/coverage/districts?city=jena&f=json")
    assert response.status_code == 200, response.data[:300]
    assert calls == [1, 1]
    rows = json.loads(response.data)["districts"]
    assert sum(r["graffiti_zones"] or 0 for r in rows) >= 1
    assert client.get("/planner?area=jena").status_code == 200
    assert calls == [1, 1]
