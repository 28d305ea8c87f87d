"""Coverage API, planner page (server side) and `mapservice coverage` over the shipped data."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import shapely
from flask import Flask
from flask.testing import FlaskClient
from shapely.geometry import Point

from conftest import StoreConfig, get_json
from mapservice.config import ConfigError


def _csv(response: Any) -> list[dict[str, str]]:
    text = response.get_data(as_text=True)
    assert text.startswith("\ufeff")  # Excel needs the BOM to read UTF-8
    return list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))


# -- /api/coverage/districts --------------------------------------------------------------------


def test_jena_districts_are_ranked_with_reasons(client: FlaskClient) -> None:
    doc = get_json(client, "/api/coverage/districts?city=jena&f=json")
    rows = doc["districts"]
    assert doc["city"] == {"key": "jena", "name": "Jena", "ags": "16053000"}
    assert len(rows) == 30
    ranks = [r["gap_rank"] for r in rows]
    assert ranks == list(range(1, 31))  # every Jena district has something known to score
    # No Jena district has every criterion known (no prevention body on record: unknown), so
    # all are ranked as lower bounds, by the shortfalls weighted with their households.
    assert not any(r["gap_complete"] for r in rows)
    weighted = [r["gap_weighted"] for r in rows]
    assert weighted == sorted(weighted, reverse=True)
    assert all(r["gap_weight_basis"] == "households" for r in rows)
    assert all(r["gap_weighted"] == round(r["gap_score"] * r["households"], 1) for r in rows)
    assert all(any(u["criterion"] == "prevention_body" for u in r["gap_unknown"]) for r in rows)
    by_id = {r["id"]: r for r in rows}
    # Recorded officers: Winzerla (Mario Bergner), Nord, the two Lobeda districts.
    assert by_id["jena-winzerla"]["officer_recorded"] == "yes"
    assert by_id["jena-winzerla"]["responsible_offices"] == ["kobb-jena-winzerla"]
    assert by_id["jena-neulobeda"]["officers"] == 2
    # Jena-Ost's officer has no known districts: nobody else may be called "no officer".
    assert {r["officer_recorded"] for r in rows} == {"yes", "unknown"}
    unknown = by_id["jena-zentrum"]
    assert unknown["officers"] is None and unknown["households_per_officer"] is None
    assert any(u["criterion"] == "officer" for u in unknown["gap_unknown"])
    assert unknown["gap_complete"] is False
    # Two Lobeda districts share two officers: their households over two.
    lobeda = by_id["jena-neulobeda"]["households"] + by_id["jena-lobeda-altstadt"]["households"]
    assert by_id["jena-neulobeda"]["households_per_officer"] == pytest.approx(lobeda / 2, abs=0.1)
    # Distances are measured for every district (Jena has located offices) …
    assert all(r["distance_mean_m"] is not None and r["distance_max_m"] >= r["distance_mean_m"] for r in rows)
    assert all(0 <= r["walk_share"] <= 1 for r in rows)
    # … the worst one names the walking distance in words.
    misses = " ".join(m["de"] for m in rows[0]["gap_misses"])
    assert "m" in misses and ("Gehentfernung" in misses or "Haushalte je Beamter" in misses)
    # Nothing recorded about cameras and graffiti in Jena: unknown, not zero.
    assert {r["cameras_active"] for r in rows} == {None}
    assert {r["graffiti_zones"] for r in rows} == {None}
    assert doc["thresholds"]["walk_m"] == 1000
    assert {s["layer"] for s in doc["sources"]} >= {"districts", "contact-offices"}
    assert all(s["licence"] for s in doc["sources"])


def test_household_weighting_is_used_where_statistical_districts_exist(client: FlaskClient) -> None:
    rows = get_json(client, "/api/coverage/districts?city=jena&f=json")["districts"]
    # Jena's 41 statistical districts carry households: every district is weighted by them.
    assert {r["distance_weighting"] for r in rows} == {"households"}
    leipzig = get_json(client, "/api/coverage/districts?city=leipzig&f=json")["districts"]
    assert {r["distance_weighting"] for r in leipzig} == {None}  # no office: nothing measured


def test_city_without_offices_stays_unknown_through_the_ranking(client: FlaskClient) -> None:
    rows = get_json(client, "/api/coverage/districts?city=Leipzig&f=json")["districts"]
    assert len(rows) == 63
    for row in rows:
        assert row["distance_mean_m"] is None and row["walk_share"] is None
        assert row["officer_recorded"] == "unknown"
        # Leipzig's ASSKomm partnership has an unclear status: known is only that a body is on
        # record, so every district has the lower bound 0 and all share one rank.
        assert row["gap_score"] == 0.0 and row["gap_complete"] is False
        assert (row["gap_rank"], row["gap_rank_to"]) == (1, 63)
        criteria = {u["criterion"] for u in row["gap_unknown"]}
        assert {"officer", "distance", "walk_share", "prevention_body"} <= criteria


def test_district_formats_geojson_csv_and_english(client: FlaskClient) -> None:
    response = client.get("/api/coverage/districts?city=16053000")
    assert response.status_code == 200 and response.mimetype == "application/geo+json"
    doc = json.loads(response.data)
    assert doc["type"] == "FeatureCollection" and len(doc["features"]) == 30
    first = doc["features"][0]
    assert first["id"] == first["properties"]["id"]
    assert shapely.from_geojson(json.dumps(first["geometry"])).is_valid
    assert "geometry" not in first["properties"]
    response = client.get("/api/coverage/districts?city=jena&f=csv&lang=en")
    assert response.mimetype == "text/csv"
    assert 'filename="abdeckung-jena.csv"' in response.headers["Content-Disposition"]
    rows = _csv(response)
    assert len(rows) == 30 and rows[0]["gap_rank"] == "1"
    assert list(rows[0])[:7] == [
        "gap_rank",
        "gap_rank_to",
        "gap_score",
        "gap_weighted",
        "gap_weight_basis",
        "gap_complete",
        "id",
    ]
    assert "walking distance" in " ".join(r["gap_misses"] for r in rows)
    assert all(r["cameras_active"] == "" for r in rows)  # unknown is an empty cell, not 0


def test_district_parameter_errors(client: FlaskClient) -> None:
    doc = get_json(client, "/api/coverage/districts?city=berlin", 404)
    assert "jena" in doc["description"] and "leipzig" in doc["description"]
    assert "city" in get_json(client, "/api/coverage/districts", 400)["description"]
    assert "'f'" in get_json(client, "/api/coverage/districts?city=jena&f=xml", 400)["description"]
    assert "bbox" in get_json(client, "/api/coverage/districts?city=jena&bbox=1", 400)["description"]


def test_etag_and_not_modified(client: FlaskClient) -> None:
    first = client.get("/api/coverage/districts?city=jena&f=json")
    etag = first.headers["ETag"]
    again = client.get("/api/coverage/districts?city=jena&f=json", headers={"If-None-Match": etag})
    assert again.status_code == 304
    other = client.get("/api/coverage/districts?city=jena&f=csv")
    assert other.headers["ETag"] != etag


def test_metrics_follow_the_data_version(fresh_app: Flask) -> None:
    """A new office changes the numbers at once: the cache is keyed by the data version."""
    client = fresh_app.test_client()
    before = get_json(client, "/api/coverage/districts?city=leipzig&f=json")["districts"]
    assert {r["distance_mean_m"] for r in before} == {None}
    store = fresh_app.extensions["mapservice"].store
    offices = store.query(
        "contact-offices", __import__("mapservice.store.base", fromlist=["Query"]).Query(limit=1000)
    ).features
    new = [(dict(f.properties), shapely.from_geojson(f.geometry) if f.geometry else None) for f in offices]
    template = dict(offices[0].properties)
    new.append(
        (
            {
                **{k: None for k in template},
                "id": "test-leipzig-station",
                "kind": "police_station",
                "name": "Test station",
                "city": "Leipzig",
                "city_ags": "14713000",
                "location_precision": "address",
                "source": "test",
                "verified_on": "2026-01-01",
            },
            Point(12.3731, 51.3397),
        )
    )
    store.replace("contact-offices", new)
    after = get_json(client, "/api/coverage/districts?city=leipzig&f=json")["districts"]
    assert all(r["distance_mean_m"] is not None for r in after)
    centre = next(r for r in after if r["name"] == "Zentrum")
    assert centre["distance_mean_m"] < 1500 and centre["walk_share"] > 0.3


# -- /api/coverage/municipalities ---------------------------------------------------------------


def test_thuringia_ranking_and_survey(client: FlaskClient) -> None:
    doc = get_json(client, "/api/coverage/municipalities?land=16&f=json")
    rows = doc["municipalities"]
    assert len(rows) == 849
    # No body is on record for any Thuringian town: unknown, not a gap, so no town is ranked
    # for missing data (the page names the missing data instead).
    assert [r for r in rows if r["gap_rank"] is not None] == []
    erfurt = next(r for r in rows if r["name"] == "Erfurt")
    assert erfurt["gap_score"] is None and erfurt["gap_misses"] == []
    assert "Präventionsgremium: unbekannt" in erfurt["gap_unknown"][0]["de"]
    # Computed independently from the collection: Thuringian municipalities >= 10,000.
    items = get_json(client, "/api/collections/municipalities/items?land_code=16&limit=1000")
    large = {f["id"] for f in items["features"] if (f["properties"]["population"] or 0) >= 10_000}
    computed = doc["survey"]["computed"]
    assert computed["large_towns"] == len(large)
    listed = {r["ags"] for r in computed["active"] + computed["not_active"] + computed["unknown"]}
    assert listed == large
    # Listed first: the large towns whose body is unknown and the towns of unknown population
    # (the data to collect); last, the small towns to which the criterion does not apply.
    open_ = large | {r["ags"] for r in rows if r["population"] is None}
    assert {r["ags"] for r in rows[: len(open_)]} == open_
    figures = {f["figure"]: f["value"] for f in doc["survey"]["survey"]}
    assert figures["cities with at least 10000 inhabitants asked"] == "36"
    assert figures["answers received"] == "24"
    # Municipalities without a population are unknown, not "small".
    nameless = [r for r in rows if r["population"] is None]
    assert nameless and all(r["gap_score"] is None and r["gap_rank"] is None for r in nameless)


def test_saxony_active_body_scores_zero(client: FlaskClient) -> None:
    doc = get_json(client, "/api/coverage/municipalities?land=14&f=json")
    by_ags = {r["ags"]: r for r in doc["municipalities"]}
    assert by_ags["14524330"]["gap_score"] == 0.0  # Zwickau: active KPR
    assert by_ags["14524330"]["gap_complete"] is True
    dresden = by_ags["14612000"]  # none known: unknown, not a gap, no rank
    assert dresden["gap_score"] is None and dresden["gap_rank"] is None
    # Leipzig and Chemnitz: ASSKomm participants of unclear status get a rank, after the
    # complete rows.
    for ags in ("14713000", "14511000"):
        assert by_ags[ags]["gap_rank"] is not None and by_ags[ags]["gap_complete"] is False
        assert by_ags[ags]["gap_rank"] > by_ags["14524330"]["gap_rank"]
    assert "survey" not in doc


# -- settings -----------------------------------------------------------------------------------


def test_thresholds_are_settings(client: FlaskClient, make_app: Callable[..., Flask]) -> None:
    app = make_app(planner_walk_m=5000, planner_grid_m=200)
    rows = get_json(app.test_client(), "/api/coverage/districts?city=jena&f=json")["districts"]
    default = get_json(client, "/api/coverage/districts?city=jena&f=json")["districts"]
    assert sum(r["walk_share"] for r in rows) > sum(r["walk_share"] for r in default)
    assert not any(
        m["criterion"] == "distance" for r in rows for m in r["gap_misses"] if r["distance_mean_m"] <= 5000
    )
    with pytest.raises(ConfigError, match="planner_office_kinds"):
        make_app(planner_office_kinds="bakery")
    with pytest.raises(ConfigError, match="planner_grid_m"):
        make_app(planner_grid_m=1)


# -- /planner without a browser -----------------------------------------------------------------


def test_planner_page_answers_and_is_cacheable(client: FlaskClient) -> None:
    response = client.get("/planner?area=jena&metric=distance_mean_m")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Set-Cookie" not in response.headers
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]
    assert 'aria-sort="ascending"' in html and "<caption" in html
    assert "/api/coverage/districts?city=jena&amp;f=csv" in html
    assert "Mittlere Entfernung zum nächsten Büro" in html
    assert html.count("<tr>") >= 31
    again = client.get(
        "/planner?area=jena&metric=distance_mean_m", headers={"If-None-Match": response.headers["ETag"]}
    )
    assert again.status_code == 304
    english = client.get("/planner?area=land-16&lang=en").get_data(as_text=True)
    assert "Survey of the Thuringian prevention council" in english and "Erfurt" in english


@pytest.mark.parametrize(
    ("lang", "at_least", "points"), [("de", "mindestens", "Punkte"), ("en", "at least", "points")]
)
def test_a_gap_score_with_unknown_criteria_reads_as_a_lower_bound(
    client: FlaskClient, lang: str, at_least: str, points: str
) -> None:
    """In Leipzig every criterion but one is unknown: each district's gap score of 0 is only a
    lower bound. Chart, table, legend and map must say "at least 0", never a plain 0 that reads
    as "no gap"; a complete score (Saxony's municipalities with an active body) stays plain."""
    import re

    rows = get_json(client, "/api/coverage/districts?city=leipzig")["features"]
    incomplete = [r["properties"] for r in rows if not r["properties"]["gap_complete"]]
    assert len(incomplete) == 63
    page = client.get(f"/planner?area=leipzig&lang={lang}").get_data(as_text=True)

    def chosen_cells(html: str) -> list[str]:
        """The text of the chosen metric's cells, as a reader sees it."""
        table = html[html.index("<tbody>") : html.index("</tbody>")]
        return [re.sub(r"<[^>]+>", "", c) for c in re.findall(r'<td class="num pl-chosen">(.*?)</td>', table)]

    assert chosen_cells(page) == [f"{at_least} 0"] * 63, chosen_cells(page)[:3]
    assert page.count(f"{at_least} 0 {points}") >= 40  # the chart's bars
    legend = page[page.index('id="legend-h"') : page.index("</section>", page.index('id="legend-h"'))]
    assert re.search(r'class="pl-lower">[^<]+<span class="en">\(63\)', legend)
    assert '"at_least"' in page  # the map's tooltips and popups (dsm-planner.js) get the word
    saxony = client.get(f"/planner?area=land-14&lang={lang}").get_data(as_text=True)
    assert any(not c.startswith(at_least) for c in chosen_cells(saxony))


def test_planner_page_errors(client: FlaskClient) -> None:
    assert client.get("/planner?area=atlantis").status_code == 404
    assert client.get("/planner?area=land-99").status_code == 404
    assert client.get("/planner?metric=population").status_code == 400  # not a district metric
    assert client.get("/planner?area=jena&sort=secret").status_code == 400
    assert client.get("/planner?x=1").status_code == 400


def test_planner_page_escapes_data(fresh_app: Flask) -> None:
    from mapservice.store.base import Query

    store = fresh_app.extensions["mapservice"].store
    districts = store.query("districts", Query(limit=1000)).features
    evil = "<img src=x onerror=alert(1)>"
    store.replace(
        "districts",
        [
            (
                {**f.properties, "name": evil if f.id == "jena-winzerla" else f.properties["name"]},
                shapely.from_geojson(f.geometry),
            )
            for f in districts
        ],
    )
    html = fresh_app.test_client().get("/planner?area=jena").get_data(as_text=True)
    assert evil not in html and "&lt;img src=x onerror=alert(1)&gt;" in html


# -- mapservice coverage ------------------------------------------------------------------------


def _cli(*args: str, store: StoreConfig) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **store.env}
    return subprocess.run(
        [sys.executable, "-m", "mapservice", "coverage", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_cli_coverage_csv_geojson_and_errors(tmp_path: Path, shared_store: StoreConfig) -> None:
    done = _cli("--city", "jena", "--format", "csv", store=shared_store)
    assert done.returncode == 0, done.stderr
    rows = list(csv.DictReader(io.StringIO(done.stdout.lstrip("\ufeff"))))
    assert len(rows) == 30 and rows[0]["gap_rank"] == "1"
    out = tmp_path / "jena.geojson"
    done = _cli("--city", "jena", "--format", "geojson", "-o", str(out), store=shared_store)
    assert done.returncode == 0, done.stderr
    doc = json.loads(out.read_text(encoding="utf-8"))
    assert len(doc["features"]) == 30 and doc["features"][0]["geometry"]["type"] in (
        "Polygon",
        "MultiPolygon",
    )
    done = _cli("--land", "16", "--format", "csv", store=shared_store)
    assert done.returncode == 0 and done.stdout.count("\n") == 850
    done = _cli("--city", "atlantis", store=shared_store)
    assert done.returncode == 1 and "jena" in done.stderr and "Traceback" not in done.stderr
    done = _cli(store=shared_store)
    assert done.returncode == 1 and "--city" in done.stderr
    # A failed write leaves no half file behind.
    target = tmp_path / "missing-dir" / "x.csv"
    done = _cli("--city", "jena", "-o", str(target), store=shared_store)
    assert done.returncode == 1 and not target.exists() and "Traceback" not in done.stderr
