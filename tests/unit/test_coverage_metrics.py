"""Planner coverage metrics and gap ranking, checked against values computed by hand.

Every geometry is laid out in metres in ETRS89 / UTM 32N (EPSG:25832, the CRS the code uses for
Thuringia: ``city_ags`` starting with "16") around (680000, 5640000) and converted to lon/lat,
so the expected distances and areas follow from plane geometry. Local coordinates (x, y) are
metres east and north of the south-west corner of the 1000 m × 1000 m district square.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import pytest
from pyproj import Transformer

from mapservice.planner import gaps
from mapservice.planner.metrics import (
    CAMERA_COLUMNS,
    DISTRICT_INPUT_COLUMNS,
    GRAFFITI_COLUMNS,
    LARGE_TOWN,
    NONE_KNOWN,
    OFFICE_COLUMNS,
    STATISTICAL_COLUMNS,
    SURVEY_PROGRAMME,
    Thresholds,
    district_metrics,
    features_frame,
    metric_epsg,
    municipality_metrics,
    survey_comparison,
)

Feature = tuple[str, dict[str, Any], str | None]

JENA_AGS = "16053000"
WEIMAR_AGS = "16055000"
X0, Y0 = 680_000.0, 5_640_000.0
SIDE = 1000.0
FINE = Thresholds(grid_m=10.0)  # 100 × 100 cell centres in the square
COARSE = Thresholds()  # 100 m cells: enough where the distance is not under test

_TO_LONLAT = Transformer.from_crs(25832, 4326, always_xy=True)


# ---------------------------------------------------------------------------------------------
# Geometry in local metres → GeoJSON text in lon/lat


def lonlat(x: float, y: float) -> list[float]:
    lon, lat = _TO_LONLAT.transform(X0 + x, Y0 + y)
    return [lon, lat]


def rect(x0: float, y0: float, x1: float, y1: float) -> str:
    ring = [lonlat(x0, y0), lonlat(x1, y0), lonlat(x1, y1), lonlat(x0, y1), lonlat(x0, y0)]
    return json.dumps({"type": "Polygon", "coordinates": [ring]})


def point(x: float, y: float) -> str:
    return json.dumps({"type": "Point", "coordinates": lonlat(x, y)})


SQUARE = rect(0, 0, SIDE, SIDE)


def rect_mean_distance_integral(a: float, b: float) -> float:
    """∫₀^a ∫₀^b √(x² + y²) dy dx, in closed form.

    = (2·a·b·d + a³·ln((b + d)/a) + b³·ln((a + d)/b)) / 6 with d = √(a² + b²); for a = b = 1 it
    is (√2 + ln(1 + √2))/3 ≈ 0.7652, the mean distance from a corner of the unit square.
    """
    d = math.hypot(a, b)
    return (2 * a * b * d + a**3 * math.log((b + d) / a) + b**3 * math.log((a + d) / b)) / 6


# ---------------------------------------------------------------------------------------------
# Feature builders


def district(fid: str, geometry: str | None = SQUARE, **props: Any) -> Feature:
    base = {
        "name": fid,
        "city": "Jena",
        "city_ags": JENA_AGS,
        "households": None,
        "households_date": None,
        "population": None,
        "area_km2": None,
    }
    return (fid, {**base, **props}, geometry)


def office(fid: str, at: tuple[float, float] | None = (0.0, 0.0), **props: Any) -> Feature:
    base = {
        "kind": "police_station",
        "name": fid,
        "city": "Jena",
        "city_ags": JENA_AGS,
        "officers": None,
        "serves_districts": None,
    }
    return (fid, {**base, **props}, None if at is None else point(*at))


def officer_office(
    fid: str,
    names: Sequence[str],
    serves: Sequence[str] | None,
    kind: str = "contact_officer_office",
    **props: Any,
) -> Feature:
    officers = [{"name": n, "role": "Kontaktbereichsbeamter"} for n in names] or None
    return office(
        fid,
        at=None,
        kind=kind,
        officers=officers,
        serves_districts=None if serves is None else list(serves),
        **props,
    )


def statistical(fid: str, geometry: str, households: int | None, city_ags: str = JENA_AGS) -> Feature:
    return (fid, {"city_ags": city_ags, "households": households}, geometry)


def zone(
    fid: str, geometry: str, status: str = "active", area_m2: float | None = None, city: str = "Jena"
) -> Feature:
    return (fid, {"city": city, "status": status, "area_m2": area_m2}, geometry)


def camera(
    fid: str,
    at: tuple[float, float],
    status: str = "active",
    direction: str | None = None,
    hfov_deg: float | None = None,
    range_m: float | None = None,
    camera_type: str | None = "fixed",
    city: str = "Jena",
) -> Feature:
    return (
        fid,
        {
            "city": city,
            "status": status,
            "direction": direction,
            "hfov_deg": hfov_deg,
            "range_m": range_m,
            "camera_type": camera_type,
        },
        point(*at),
    )


def body(
    fid: str,
    status: str,
    covers_ags: Sequence[str] | None = None,
    covers_districts: Sequence[str] | None = None,
    **props: Any,
) -> dict[str, Any]:
    return {
        "id": fid,
        "name": fid,
        "type": "council",
        "status": status,
        "programme": None,
        "programme_stage": None,
        "covers_ags": covers_ags,
        "covers_districts": covers_districts,
        **props,
    }


def metrics(
    districts: Iterable[Feature],
    offices: Iterable[Feature] = (),
    *,
    bodies: Sequence[Mapping[str, Any]] = (),
    graffiti: Iterable[Feature] = (),
    cameras: Iterable[Feature] = (),
    stats: Iterable[Feature] = (),
    thresholds: Thresholds = COARSE,
) -> dict[str, dict[str, Any]]:
    rows = district_metrics(
        features_frame(districts, DISTRICT_INPUT_COLUMNS),
        features_frame(offices, OFFICE_COLUMNS),
        list(bodies),
        features_frame(graffiti, GRAFFITI_COLUMNS),
        features_frame(cameras, CAMERA_COLUMNS),
        features_frame(stats, STATISTICAL_COLUMNS),
        thresholds,
    )
    return {row["id"]: row for row in rows}


def one(districts: Iterable[Feature], offices: Iterable[Feature] = (), **kwargs: Any) -> dict[str, Any]:
    rows = metrics(districts, offices, **kwargs)
    assert len(rows) == 1
    return next(iter(rows.values()))


# ---------------------------------------------------------------------------------------------
# CRS and frame plumbing


def test_metric_crs_by_land_else_utm_zone() -> None:
    assert metric_epsg("16", 11.6, 50.9) == 25832  # Thuringia
    assert metric_epsg("14", 11.6, 50.9) == 25833  # Saxony, even west of 12° E
    assert metric_epsg(None, 13.4, 52.5) == 25833  # Berlin: UTM zone of the point
    assert metric_epsg("09", 9.0, 48.0) == 25832


def test_features_frame_adds_missing_columns_and_keeps_unknown_geometry() -> None:
    frame = features_frame([("a", {"kind": "police_station"}, point(0, 0)), ("b", {}, None)], OFFICE_COLUMNS)
    assert list(frame.index) == ["a", "b"]
    assert set(OFFICE_COLUMNS) <= set(frame.columns)
    assert frame.crs.to_epsg() == 4326
    assert frame.geometry.iloc[1] is None
    assert frame.geometry.iloc[0].x == pytest.approx(lonlat(0, 0)[0], abs=1e-12)
    empty = features_frame([], CAMERA_COLUMNS)
    assert empty.empty and set(CAMERA_COLUMNS) <= set(empty.columns)


def test_rows_come_in_the_order_given_with_their_geometry() -> None:
    rows = district_metrics(
        features_frame([district("z"), district("a", rect(1000, 0, 2000, 1000))], DISTRICT_INPUT_COLUMNS),
        features_frame([office("p")], OFFICE_COLUMNS),
        [],
        features_frame([], GRAFFITI_COLUMNS),
        features_frame([], CAMERA_COLUMNS),
        features_frame([], STATISTICAL_COLUMNS),
        COARSE,
    )
    assert [r["id"] for r in rows] == ["z", "a"]
    assert rows[0]["geometry"].geom_type == "Polygon"


# ---------------------------------------------------------------------------------------------
# 1. Distance: one office in the corner of a 1000 m square


def test_corner_office_mean_distance_is_the_square_constant() -> None:
    # Mean distance from a corner over a square of side s: s·(√2 + ln(1 + √2))/3 ≈ 765.2 m.
    expected = SIDE * (math.sqrt(2) + math.log(1 + math.sqrt(2))) / 3
    assert expected == pytest.approx(765.2, abs=0.05)
    row = one([district("sq")], [office("station")], thresholds=FINE)
    assert row["distance_mean_m"] == pytest.approx(expected, rel=0.005)
    assert row["offices_considered"] == 1


def test_corner_office_max_distance_is_the_far_cell_centre() -> None:
    # The farthest cell centre is half a cell diagonal short of the far corner:
    # s·√2 − (10/2)·√2 = 995·√2 ≈ 1407.1 m.
    row = one([district("sq")], [office("station")], thresholds=FINE)
    assert row["distance_max_m"] == round((SIDE - 5) * math.sqrt(2))
    assert row["distance_max_m"] == pytest.approx(SIDE * math.sqrt(2) - 5 * math.sqrt(2), abs=1)


def test_walk_share_is_a_quarter_disc() -> None:
    # Within 1000 m of a corner lies a quarter disc of radius s: π·s²/4 / s² = π/4 ≈ 0.785.
    row = one([district("sq")], [office("station")], thresholds=FINE)
    assert row["walk_share"] == pytest.approx(math.pi / 4, rel=0.005)


def test_walk_share_is_one_when_the_whole_square_is_in_reach() -> None:
    # Office in the centre, walk 1000 m: the farthest point (a corner) is 500·√2 ≈ 707 m away.
    row = one([district("sq")], [office("station", at=(500, 500))])
    assert row["walk_share"] == 1.0


def test_distance_is_area_weighted_without_statistical_districts() -> None:
    row = one([district("sq", households=500)], [office("station")], thresholds=FINE)
    assert row["distance_weighting"] == "area"


# ---------------------------------------------------------------------------------------------
# 2. Household weighting by statistical districts (left and right half of the square)


def halves(left: int | None, right: int | None) -> list[Feature]:
    return [
        statistical("left", rect(0, 0, 500, SIDE), left),
        statistical("right", rect(500, 0, SIDE, SIDE), right),
    ]


def test_households_weight_the_mean_to_the_populated_half() -> None:
    # All households in the right half x ∈ [500, 1000]: the weighted mean is the mean distance
    # from the corner (0, 0) over that half = (I(1000, 1000) − I(500, 1000)) / (500·1000)
    # ≈ 937.2 m, with I the closed-form integral of √(x² + y²) over [0, a] × [0, b].
    expected = (rect_mean_distance_integral(SIDE, SIDE) - rect_mean_distance_integral(500, SIDE)) / (
        500 * SIDE
    )
    assert expected == pytest.approx(937.16, abs=0.01)
    row = one([district("sq")], [office("station")], stats=halves(0, 100), thresholds=FINE)
    assert row["distance_weighting"] == "households"
    assert row["distance_mean_m"] == pytest.approx(expected, rel=0.005)


def test_weighted_max_only_over_points_with_households() -> None:
    # All households in the left half x ∈ [0, 500]: the mean is I(500, 1000)/(500·1000)
    # ≈ 593.2 m, the farthest populated cell centre is (495, 995): √(495² + 995²) ≈ 1111 m
    # (the empty far corner, 1407 m, does not count).
    expected_mean = rect_mean_distance_integral(500, SIDE) / (500 * SIDE)
    row = one([district("sq")], [office("station")], stats=halves(100, 0), thresholds=FINE)
    assert row["distance_weighting"] == "households"
    assert row["distance_mean_m"] == pytest.approx(expected_mean, rel=0.005)
    assert row["distance_max_m"] == round(math.hypot(495, 995))


def test_unequal_households_weight_each_half_by_its_figure() -> None:
    # 100 households left, 300 right: mean = (100·593.2 + 300·937.2)/400 ≈ 851.2 m
    # (each half has the same number of cell centres, so a half's points carry its figure).
    left = rect_mean_distance_integral(500, SIDE) / (500 * SIDE)
    right = (rect_mean_distance_integral(SIDE, SIDE) - rect_mean_distance_integral(500, SIDE)) / (500 * SIDE)
    row = one([district("sq")], [office("station")], stats=halves(100, 300), thresholds=FINE)
    assert row["distance_mean_m"] == pytest.approx((100 * left + 300 * right) / 400, rel=0.005)


def test_statistical_district_without_households_falls_back_to_area() -> None:
    # One figure missing: a partial weighting would favour the known half; area weighting.
    row = one([district("sq")], [office("station")], stats=halves(None, 100), thresholds=FINE)
    assert row["distance_weighting"] == "area"
    assert row["distance_mean_m"] == pytest.approx(765.2, rel=0.005)
    assert row["distance_max_m"] == 1407


def test_statistical_districts_of_another_city_do_not_weight() -> None:
    stats = [
        statistical("left", rect(0, 0, 500, SIDE), 0, city_ags=WEIMAR_AGS),
        statistical("right", rect(500, 0, SIDE, SIDE), 100, city_ags=WEIMAR_AGS),
    ]
    row = one([district("sq")], [office("station")], stats=stats, thresholds=FINE)
    assert row["distance_weighting"] == "area"


# ---------------------------------------------------------------------------------------------
# 3. Which offices count


def test_office_of_another_city_is_ignored() -> None:
    # A Weimar office in the centre would halve the mean (centre: ≈ 382.6 m); only Jena's
    # corner office counts: ≈ 765.2 m.
    offices = [office("jena", at=(0, 0)), office("weimar", at=(500, 500), city="Weimar", city_ags=WEIMAR_AGS)]
    row = one([district("sq")], offices, thresholds=FINE)
    assert row["distance_mean_m"] == pytest.approx(765.2, rel=0.005)
    assert row["offices_considered"] == 1


def test_city_without_located_office_is_unknown_not_zero() -> None:
    offices = [
        office("weimar", at=(0, 0), city="Weimar", city_ags=WEIMAR_AGS),
        office("jena-unlocated", at=None),
    ]
    row = one([district("sq")], offices)
    assert row["distance_mean_m"] is None
    assert row["distance_max_m"] is None
    assert row["walk_share"] is None
    assert row["distance_weighting"] is None
    assert row["offices_considered"] == 0


def test_city_without_any_office_is_unknown() -> None:
    row = one([district("sq")], [])
    assert row["distance_mean_m"] is None and row["walk_share"] is None


def test_office_kinds_outside_the_thresholds_are_ignored() -> None:
    # A citizens' consultation in the centre does not count; the corner station does.
    offices = [
        office("station", at=(0, 0)),
        office("consultation", at=(500, 500), kind="citizens_consultation"),
    ]
    row = one([district("sq")], offices, thresholds=FINE)
    assert row["distance_mean_m"] == pytest.approx(765.2, rel=0.005)
    assert row["offices_considered"] == 1
    only_prevention = one([district("sq")], [office("p", kind="prevention_office")])
    assert only_prevention["distance_mean_m"] is None


def test_office_kinds_follow_the_thresholds() -> None:
    stations_only = Thresholds(grid_m=10.0, office_kinds=("police_station",))
    offices = [
        office("station", at=(0, 0)),
        office(
            "kob",
            at=(500, 500),
            kind="contact_officer_office",
            officers=[{"name": "A"}],
            serves_districts=["sq"],
        ),
    ]
    row = one([district("sq")], offices, thresholds=stations_only)
    assert row["distance_mean_m"] == pytest.approx(765.2, rel=0.005)


# ---------------------------------------------------------------------------------------------
# 4. Responsible contact officers


def two_districts(
    households: tuple[int | None, int | None] = (3000, 5000),
    population: tuple[int | None, int | None] = (6000, 9000),
) -> list[Feature]:
    return [
        district("d1", households=households[0], population=population[0]),
        district("d2", rect(1000, 0, 2000, 1000), households=households[1], population=population[1]),
    ]


def test_one_officer_serving_two_districts_shares_their_load() -> None:
    # One officer for d1 and d2: households (3000 + 5000)/1 = 8000, residents 15000.
    rows = metrics(two_districts(), [officer_office("kob", ["A. Muster"], ["d1", "d2"])])
    for fid in ("d1", "d2"):
        assert rows[fid]["officer_recorded"] == "yes"
        assert rows[fid]["officers"] == 1
        assert rows[fid]["responsible_offices"] == ["kob"]
        assert rows[fid]["households_per_officer"] == 8000.0
        assert rows[fid]["residents_per_officer"] == 15000.0


def test_officers_are_counted_once_by_name() -> None:
    # A and B in one office, B again in a second office for d1: two officers, 3000/2 = 1500.
    offices = [officer_office("kob1", ["A", "B"], ["d1"]), officer_office("kob2", ["B"], ["d1"])]
    row = metrics(two_districts(), offices)["d1"]
    assert row["officers"] == 2
    assert row["responsible_offices"] == ["kob1", "kob2"]
    assert row["households_per_officer"] == 1500.0


def test_complete_register_means_no_officer_for_an_unlisted_district() -> None:
    row = metrics(two_districts(), [officer_office("kob", ["A"], ["d1"])])["d2"]
    assert row["officer_recorded"] == "no"
    assert row["officers"] == 0
    assert row["responsible_offices"] == []
    assert row["households_per_officer"] is None


def test_entry_with_unknown_districts_leaves_unlisted_districts_unknown() -> None:
    offices = [
        officer_office("kob", ["A"], ["d1"]),
        officer_office("roaming", ["B"], None, kind="contact_officer"),
    ]
    row = metrics(two_districts(), offices)["d2"]
    assert row["officer_recorded"] == "unknown"
    assert row["officers"] is None


def test_city_without_officer_entries_is_unknown() -> None:
    # Only a police station in Jena; Weimar's register is complete but says nothing on Jena.
    offices = [
        office("station"),
        officer_office("weimar-kob", ["C"], ["w1"], city="Weimar", city_ags=WEIMAR_AGS),
    ]
    row = metrics(two_districts(), offices)["d1"]
    assert row["officer_recorded"] == "unknown"
    assert row["officers"] is None


def test_unknown_households_give_unknown_load_for_every_served_district() -> None:
    # d1's households are unknown: the shared load of d1 + d2 is unknown for both.
    rows = metrics(two_districts(households=(None, 5000)), [officer_office("kob", ["A"], ["d1", "d2"])])
    assert rows["d1"]["households_per_officer"] is None
    assert rows["d2"]["households_per_officer"] is None
    assert rows["d2"]["residents_per_officer"] == 15000.0  # population is known


def test_officer_entry_with_neither_officers_nor_districts_is_unknown_not_a_crash() -> None:
    # A contact officer recorded without names and without districts (all other properties
    # text, as the store gives them). The city has an entry whose districts are unknown, so
    # the district is "unknown" (docstring of _officer_metrics), and certainly no exception.
    row = one([district("sq")], [officer_office("roaming", [], None, kind="contact_officer")])
    assert row["officer_recorded"] == "unknown"
    assert row["officers"] is None


def test_entry_without_named_officers_and_unknown_districts_keeps_others_unknown() -> None:
    # The docstring of _officer_metrics: "no" only when *every* contact-officer entry of the
    # city says which districts it serves. The "roaming" contact officer (names not published)
    # does not, so d2 (listed nowhere) must stay unknown, not be reported without officer.
    offices = [
        officer_office("kob", ["A"], ["d1"]),
        officer_office("roaming", [], None, kind="contact_officer"),
    ]
    row = metrics(two_districts(), offices)["d2"]
    assert row["officer_recorded"] == "unknown"
    assert row["officers"] is None


def test_office_serving_a_district_without_named_officers_is_not_no_officer() -> None:
    # The register lists an office for d2 whose officers are not named: how many officers
    # serve d2 is unknown, but "no officer recorded" (and 0 officers) contradicts the data.
    offices = [officer_office("kob", ["A"], ["d1"]), officer_office("kob-unnamed", [], ["d2"])]
    row = metrics(two_districts(), offices)["d2"]
    assert row["officer_recorded"] in ("yes", "unknown")
    assert row["officers"] is None


# ---------------------------------------------------------------------------------------------
# 5. Video surveillance: share of the district inside the fields of view


def test_camera_wedge_in_the_corner_covers_a_quarter_disc() -> None:
    # Bearing 45° ± 45° from the south-west corner: the quarter disc of radius 500 m lies in
    # the square. π·500²/4 / 1000² = π/16 ≈ 0.196 (the 5° arc steps lose ≈ 0.13 %).
    cams = [camera("cam", at=(0, 0), direction="45", hfov_deg=90, range_m=500)]
    row = one([district("sq")], cameras=cams)
    assert row["cameras_active"] == 1
    assert row["camera_fov_share"] == pytest.approx(math.pi * 500**2 / 4 / SIDE**2, rel=0.01)


def test_camera_outside_the_district_counts_for_the_share_only() -> None:
    # A dome 10 m south of the square's south edge, range 300 m: the circular segment beyond
    # a chord at distance h = 10 is r²·acos(h/r) − h·√(r² − h²) ≈ 135372 m² → share ≈ 0.135
    # (the share is rounded to 3 decimals; the 72-gon circle loses ≈ 0.13 %).
    r, h = 300.0, 10.0
    segment = r**2 * math.acos(h / r) - h * math.sqrt(r**2 - h**2)
    cams = [camera("dome", at=(500, -h), range_m=r, camera_type="dome")]
    row = one([district("sq")], cameras=cams)
    assert row["cameras_active"] == 0
    assert row["camera_fov_share"] == pytest.approx(segment / SIDE**2, abs=0.001)


def test_camera_without_range_makes_the_share_unknown() -> None:
    cams = [
        camera("cam", at=(0, 0), direction="45", hfov_deg=90, range_m=500),
        camera("unknown-range", at=(500, 500), direction="90", hfov_deg=60, range_m=None),
    ]
    row = one([district("sq")], cameras=cams)
    assert row["cameras_active"] == 2
    assert row["camera_fov_share"] is None


def test_only_active_cameras_are_counted() -> None:
    cams = [
        camera(f"cam-{status}", at=(500, 500), status=status, range_m=300, camera_type="dome")
        for status in ("planned", "temporary", "suspended", "removed")
    ]
    row = one([district("sq")], cameras=cams)
    assert row["cameras_active"] == 0
    assert row["camera_fov_share"] == 0.0


def test_city_without_camera_entries_is_not_recorded() -> None:
    cams = [camera("weimar-cam", at=(500, 500), range_m=300, camera_type="dome", city="Weimar")]
    row = one([district("sq")], cameras=cams)
    assert row["cameras_active"] is None
    assert row["camera_fov_share"] is None


def test_city_with_cameras_elsewhere_has_none_in_this_district() -> None:
    far = rect(5000, 0, 6000, 1000)
    cams = [camera("far-cam", at=(5500, 500), range_m=300, camera_type="dome")]
    rows = metrics([district("sq"), district("far", far)], cameras=cams)
    assert rows["sq"]["cameras_active"] == 0
    assert rows["sq"]["camera_fov_share"] == 0.0
    assert rows["far"]["cameras_active"] == 1


# ---------------------------------------------------------------------------------------------
# 6. Legal graffiti zones


def test_graffiti_polygon_area_and_wall_area_add_up() -> None:
    # Polygon 20 m × 10 m = 200 m², wall with 15 m² recorded: 2 zones, 215 m².
    # A planned zone is not counted.
    zones = [
        zone("field", rect(100, 100, 120, 110)),
        zone("wall", point(300, 300), area_m2=15),
        zone("planned", rect(400, 400, 450, 450), status="planned"),
    ]
    row = one([district("sq")], graffiti=zones)
    assert row["graffiti_zones"] == 2
    assert row["graffiti_area_m2"] == pytest.approx(215.0, abs=0.1)


def test_graffiti_polygon_counts_only_its_part_inside_the_district() -> None:
    # 20 m × 10 m across the west edge (x ∈ [−10, 10]): half of it, 100 m², lies inside.
    row = one([district("sq")], graffiti=[zone("edge", rect(-10, 0, 10, 10))])
    assert row["graffiti_zones"] == 1
    assert row["graffiti_area_m2"] == pytest.approx(100.0, abs=0.1)


def test_graffiti_wall_without_area_makes_the_area_unknown_not_the_count() -> None:
    zones = [zone("field", rect(100, 100, 120, 110)), zone("wall", point(300, 300), area_m2=None)]
    row = one([district("sq")], graffiti=zones)
    assert row["graffiti_zones"] == 2
    assert row["graffiti_area_m2"] is None


def test_graffiti_unknown_without_any_entry_of_the_city() -> None:
    row = one([district("sq")], graffiti=[zone("w", point(300, 300), area_m2=5, city="Weimar")])
    assert row["graffiti_zones"] is None
    assert row["graffiti_area_m2"] is None


def test_graffiti_zero_when_the_city_has_only_planned_zones() -> None:
    row = one([district("sq")], graffiti=[zone("p", rect(100, 100, 120, 110), status="planned")])
    assert row["graffiti_zones"] == 0
    assert row["graffiti_area_m2"] == 0.0


# ---------------------------------------------------------------------------------------------
# 7. Prevention bodies


def test_bodies_via_district_and_municipality_best_status_wins() -> None:
    bodies = [
        body("quarter-council", "dormant", covers_districts=["sq"]),
        body("city-council", "planned", covers_ags=[JENA_AGS]),
        body("weimar-council", "active", covers_ags=[WEIMAR_AGS]),
    ]
    row = one([district("sq")], bodies=bodies)
    assert row["prevention_status"] == "planned"
    assert [(b["id"], b["via"], b["status"]) for b in row["prevention_bodies"]] == [
        ("quarter-council", "district", "dormant"),
        ("city-council", "municipality", "planned"),
    ]


@pytest.mark.parametrize(
    ("statuses", "best"),
    [
        (["dissolved", "active"], "active"),
        (["dormant", "planned"], "planned"),
        (["unclear", "dormant"], "dormant"),
        (["dissolved", "unclear"], "unclear"),
        (["dissolved"], "dissolved"),
    ],
)
def test_most_alive_status_describes_the_district(statuses: list[str], best: str) -> None:
    bodies = [body(f"b{i}", s, covers_districts=["sq"]) for i, s in enumerate(statuses)]
    assert one([district("sq")], bodies=bodies)["prevention_status"] == best


def test_no_covering_body_is_none_known() -> None:
    row = one([district("sq")], bodies=[body("other", "active", covers_districts=["elsewhere"])])
    assert row["prevention_status"] == NONE_KNOWN
    assert row["prevention_bodies"] == []


# ---------------------------------------------------------------------------------------------
# 8. Gap ranking of districts


def district_row(name: str, **values: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "id": name,
        "name": name,
        "population": None,
        "households": None,
        "officer_recorded": "yes",
        "officers": 1,
        "residents_per_officer": 5000.0,
        "households_per_officer": 2500.0,
        "distance_mean_m": 500,
        "walk_share": 0.9,
        "prevention_status": "active",
    }
    return {**base, **values}


def rank_districts(rows: Sequence[dict[str, Any]], th: Thresholds = COARSE) -> list[dict[str, Any]]:
    return gaps.rank(rows, lambda r: gaps.district_findings(r, th))


def bad_row() -> dict[str, Any]:
    return district_row(
        "bad",
        officer_recorded="no",
        officers=0,
        residents_per_officer=None,
        households_per_officer=None,
        distance_mean_m=1500,
        walk_share=0.25,
        prevention_status="none",
    )


def test_everything_bad_scores_by_the_table() -> None:
    # officer: none recorded → 1; officer_load: not counted again; distance 1500/1000 − 1 = 0.5;
    # walk share (0.5 − 0.25)/0.5 = 0.5; recorded "no body" → 1. Total 3.0.
    [row] = rank_districts([bad_row()])
    shortfalls = {f["criterion"]: f["shortfall"] for f in row["gap_findings"]}
    assert shortfalls == {"officer": 1.0, "distance": 0.5, "walk_share": 0.5, "prevention_body": 1.0}
    assert row["gap_score"] == 3.0
    assert row["gap_complete"] is True
    assert row["gap_unknown"] == []
    assert row["gap_rank"] == 1


def test_well_covered_district_scores_zero() -> None:
    [row] = rank_districts([district_row("good")])
    assert row["gap_score"] == 0.0
    assert row["gap_misses"] == []
    assert row["gap_complete"] is True


def test_miss_reasons_quote_value_and_threshold_in_both_languages() -> None:
    [row] = rank_districts([bad_row()])
    misses = {m["criterion"]: m for m in row["gap_misses"]}
    assert set(misses) == {"officer", "distance", "walk_share", "prevention_body"}
    assert "1.500 m" in misses["distance"]["de"] and "1.000 m" in misses["distance"]["de"]
    assert "1,500 m" in misses["distance"]["en"] and "1,000 m" in misses["distance"]["en"]
    assert "Entfernung" in misses["distance"]["de"] and "distance" in misses["distance"]["en"]
    assert "25 %" in misses["walk_share"]["de"] and "50 %" in misses["walk_share"]["de"]
    assert "1.000 m" in misses["walk_share"]["de"]
    assert "25 %" in misses["walk_share"]["en"] and "50 %" in misses["walk_share"]["en"]
    # Each shortfall says its number of points, per language.
    assert misses["officer"]["de"] == "Kein zuständiger Kontaktbereichsbeamter erfasst (+1,00)"
    assert misses["distance"]["de"].endswith("(+0,50)") and misses["distance"]["en"].endswith("(+0.50)")
    assert misses["prevention_body"]["en"] == "No prevention body, according to the source (+1.00)"
    assert misses["walk_share"]["shortfall"] == 0.5


@pytest.mark.parametrize(
    ("residents", "households", "shortfall", "de_text"),
    [
        (15000.0, 2000.0, 0.5, "15.000 Einwohner je Beamter – mehr als 10.000"),  # 15000/10000 − 1
        (None, 7500.0, 0.5, "7.500 Haushalte je Beamter – mehr als 5.000"),  # 7500/5000 − 1
        (25000.0, None, 1.0, "25.000 Einwohner"),  # 25000/10000 − 1 = 1.5, capped at 1
        (8000.0, None, 0.0, "8.000 Einwohner je Beamter – höchstens 10.000"),  # within the limit
    ],
)
def test_officer_load_shortfall(
    residents: float | None, households: float | None, shortfall: float, de_text: str
) -> None:
    [row] = rank_districts(
        [district_row("d", residents_per_officer=residents, households_per_officer=households)]
    )
    load = next(f for f in row["gap_findings"] if f["criterion"] == "officer_load")
    assert load["shortfall"] == shortfall
    assert de_text in load["de"]
    assert row["gap_score"] == shortfall


def test_unknown_criteria_add_nothing_and_are_listed() -> None:
    # Officer and distance data unknown; the known body criterion (recorded "none" → 1) is the
    # whole score, which is then only a lower bound.
    row = district_row(
        "u",
        officer_recorded="unknown",
        officers=None,
        residents_per_officer=None,
        households_per_officer=None,
        distance_mean_m=None,
        walk_share=None,
        prevention_status="none",
    )
    [ranked] = rank_districts([row])
    assert {u["criterion"] for u in ranked["gap_unknown"]} == {
        "officer",
        "officer_load",
        "distance",
        "walk_share",
    }
    assert ranked["gap_complete"] is False
    assert ranked["gap_score"] == 1.0
    assert ranked["gap_rank"] == 1
    assert all(u["de"] and u["en"] for u in ranked["gap_unknown"])


def test_row_with_every_criterion_unknown_has_no_score_and_sorts_last() -> None:
    unknown = district_row(
        "aaa-unknown",
        officer_recorded="unknown",
        officers=None,
        residents_per_officer=None,
        households_per_officer=None,
        distance_mean_m=None,
        walk_share=None,
        prevention_status=NONE_KNOWN,
        population=1_000_000,
    )
    ranked = rank_districts([unknown, district_row("good"), bad_row()])
    assert [r["name"] for r in ranked] == ["bad", "good", "aaa-unknown"]
    assert ranked[-1]["gap_score"] is None
    assert ranked[-1]["gap_rank"] is None
    assert ranked[-1]["gap_complete"] is False
    assert [r["gap_rank"] for r in ranked[:2]] == [1, 2]


def test_ranking_is_weighted_by_the_people_affected() -> None:
    # The same shortfall (walk share 0.25 → 0.5) in three districts: the one where more people
    # live ranks first; residents count where known, else households.
    rows = [
        district_row("vierzehnheiligen", households=45, population=None, walk_share=0.25),
        district_row("zwaetzen", households=1339, population=None, walk_share=0.25),
        district_row("big", households=50, population=20000, walk_share=0.25),
    ]
    ranked = rank_districts(rows)
    assert [r["name"] for r in ranked] == ["big", "zwaetzen", "vierzehnheiligen"]
    assert [r["gap_weighted"] for r in ranked] == [10000.0, 669.5, 22.5]
    assert [r["gap_weight_basis"] for r in ranked] == ["population", "households", "households"]
    assert [r["gap_rank"] for r in ranked] == [1, 2, 3] and all(r["gap_rank_to"] is None for r in ranked)


def test_unweighted_ties_share_their_rank_in_name_order() -> None:
    rows = [
        district_row("b", households=45, walk_share=0.25),
        district_row("a", households=1339, walk_share=0.25),
        district_row("worst", households=10, walk_share=0.0),
        district_row("good", households=10),
    ]
    ranked = gaps.rank(rows, lambda r: gaps.district_findings(r, COARSE), weighting="none")
    assert [r["name"] for r in ranked] == ["worst", "a", "b", "good"]
    assert [gaps.rank_text(r) for r in ranked] == ["1.", "2.–3.", "2.–3.", "4."]
    # The same rows weighted: no tie any more, the 1,339 households first.
    weighted = rank_districts(rows)
    # (a 0.5 × 1,339 = 669.5, b 0.5 × 45 = 22.5, worst 1 × 10 = 10, good 0).
    assert [r["name"] for r in weighted] == ["a", "b", "worst", "good"]


def test_complete_rows_rank_before_incomplete_ones() -> None:
    complete = district_row("complete", walk_share=0.4)  # 0.2, every criterion known
    incomplete = district_row("incomplete", walk_share=0.0, distance_mean_m=None)  # ≥ 1, lower bound
    ranked = rank_districts([incomplete, complete])
    assert [r["name"] for r in ranked] == ["complete", "incomplete"]
    assert [r["gap_complete"] for r in ranked] == [True, False]
    assert ranked[1]["gap_score"] > ranked[0]["gap_score"]  # the rule, not the size, decides


# Each criterion, known against unknown: a known shortfall scores, the same criterion unknown
# adds nothing, is listed in gap_unknown and makes the row incomplete.
CRITERIA = [
    ("officer", {"officer_recorded": "no", "officers": 0}, {"officer_recorded": "unknown", "officers": None}),
    (
        "officer_load",
        {"residents_per_officer": 15000.0},
        {"residents_per_officer": None, "households_per_officer": None},
    ),
    ("distance", {"distance_mean_m": 1500}, {"distance_mean_m": None}),
    ("walk_share", {"walk_share": 0.25}, {"walk_share": None}),
    ("prevention_body", {"prevention_status": "none"}, {"prevention_status": NONE_KNOWN}),
    ("prevention_body", {"prevention_status": "dissolved"}, {"prevention_status": "unclear"}),
]


@pytest.mark.parametrize(("criterion", "known", "unknown"), CRITERIA)
def test_each_criterion_scores_when_known_and_adds_nothing_when_unknown(
    criterion: str, known: dict[str, Any], unknown: dict[str, Any]
) -> None:
    [bad] = rank_districts([district_row("d", **known)])
    assert bad["gap_score"] > 0 and bad["gap_complete"] is True
    assert [m["criterion"] for m in bad["gap_misses"]] == [criterion]
    [open_] = rank_districts([district_row("d", **unknown)])
    assert open_["gap_score"] == 0.0 and open_["gap_complete"] is False
    assert criterion in {u["criterion"] for u in open_["gap_unknown"]}
    assert open_["gap_misses"] == []


def test_an_officer_on_record_removes_the_officer_shortfall() -> None:
    [covered] = rank_districts([district_row("d", officer_recorded="yes", officers=1)])
    officer = next(f for f in covered["gap_findings"] if f["criterion"] == "officer")
    assert officer["shortfall"] == 0.0
    [unknown] = rank_districts([district_row("d", officer_recorded="unknown", officers=None)])
    officer = next(f for f in unknown["gap_findings"] if f["criterion"] == "officer")
    assert officer["shortfall"] is None and "unbekannt" in officer["de"]  # shown as unknown


def test_metrics_feed_the_ranking_end_to_end() -> None:
    # One station at d1's south-west corner (0, 0); d2 is the square east of d1.
    # d1: mean ≈ 765 m < 1000 m → 0; walk share ≈ 0.785 ≥ 0.5 → 0; one officer for 3000
    #     households / 6000 residents → 0; active body → 0. Score 0.
    # d2: mean over [1000, 2000] × [0, 1000] = (I(2000, 1000) − I(1000, 1000))/10⁶ ≈ 1607.7 m
    #     → 1608/1000 − 1 = 0.608; the 1000 m disc around (0, 0) does not reach x > 1000,
    #     walk share 0 → 1; not in the complete officer register → 1; recorded "no body" → 1.
    #     Score 3.608.
    expected_d2 = (rect_mean_distance_integral(2000, 1000) - rect_mean_distance_integral(1000, 1000)) / 1e6
    rows = metrics(
        two_districts(),
        [office("station"), officer_office("kob", ["A"], ["d1"])],
        bodies=[
            body("council", "active", covers_districts=["d1"]),
            body("answer", "none", covers_districts=["d2"]),  # a recorded "no body"
        ],
        thresholds=FINE,
    )
    assert rows["d2"]["distance_mean_m"] == pytest.approx(expected_d2, rel=0.005)
    assert rows["d2"]["walk_share"] == 0.0
    ranked = rank_districts(list(rows.values()), FINE)
    assert [r["id"] for r in ranked] == ["d2", "d1"]
    d2, d1 = ranked
    assert d2["gap_score"] == pytest.approx(3 + (round(expected_d2) / 1000 - 1), abs=0.002)
    assert {m["criterion"] for m in d2["gap_misses"]} == {
        "officer",
        "distance",
        "walk_share",
        "prevention_body",
    }
    assert d1["gap_score"] == 0.0
    assert d1["gap_complete"] is True


# ---------------------------------------------------------------------------------------------
# 9. Municipalities and the Thuringian survey


def municipality(
    ags: str, name: str, population: int | None, land_code: str = "16", **props: Any
) -> dict[str, Any]:
    return {
        "ags": ags,
        "name": name,
        "kind": "Stadt",
        "land": "Thüringen",
        "kreis": None,
        "population": population,
        "population_date": "2024-12-31",
        "land_code": land_code,
        **props,
    }


def rank_municipalities(rows: Sequence[dict[str, Any]], th: Thresholds = COARSE) -> list[dict[str, Any]]:
    return gaps.rank(rows, lambda r: gaps.municipality_findings(r, th))


def test_body_criterion_applies_from_the_minimum_population() -> None:
    th = COARSE
    small = {"population": th.body_min_population - 1, "prevention_status": NONE_KNOWN}
    large = {"population": th.body_min_population, "prevention_status": NONE_KNOWN}
    assert gaps.municipality_findings(small, th) == []
    [finding] = gaps.municipality_findings(large, th)
    # No record of a body is unknown, not a gap.
    assert finding.criterion == "prevention_body" and finding.shortfall is None
    assert "10.000 Einwohnern" in finding.de and "10,000 inhabitants" in finding.en
    [recorded] = gaps.municipality_findings({**large, "prevention_status": "none"}, th)
    assert recorded.shortfall == 1.0


def test_municipality_population_unknown_is_unknown() -> None:
    [finding] = gaps.municipality_findings({"population": None, "prevention_status": "active"}, COARSE)
    assert finding.shortfall is None


def test_municipality_ranking_ties_by_population_unknown_last() -> None:
    rows = municipality_metrics(
        [
            municipality("16000001", "Kleinstadt", 20000),
            municipality("16000002", "Grossstadt", 80000),
            municipality("16000003", "Dorf", 900),
            municipality("16000004", "Unbekannt", None),
            municipality("16000005", "Planstadt", 50000),
        ],
        [body("plan", "planned", covers_ags=["16000005"])],
    )
    ranked = rank_municipalities(rows)
    # planned → 0.5, ranked; none known → no score (unknown, not a gap), like the unknown
    # population; Dorf below the population threshold: no criterion applies, last, no rank.
    assert [(r["name"], r["gap_score"], r["gap_rank"]) for r in ranked] == [
        ("Planstadt", 0.5, 1),
        ("Grossstadt", None, None),
        ("Kleinstadt", None, None),
        ("Unbekannt", None, None),
        ("Dorf", 0.0, None),
    ]


def test_municipality_with_a_body_of_unclear_status_gets_a_rank() -> None:
    rows = municipality_metrics(
        [municipality("14713000", "Leipzig", 600000), municipality("14524330", "Zwickau", 88000)],
        [
            body("leipzig-asskomm", "unclear", covers_ags=["14713000"], programme="ASSKomm"),
            body("zwickau-kpr", "active", covers_ags=["14524330"]),
        ],
    )
    ranked = {r["name"]: r for r in rank_municipalities(rows)}
    leipzig = ranked["Leipzig"]
    # Known: a body is on record. Unknown: whether it works.
    assert leipzig["gap_rank"] is not None and leipzig["gap_score"] == 0.0
    assert leipzig["gap_complete"] is False
    assert [u["criterion"] for u in leipzig["gap_unknown"]] == ["prevention_body"]
    assert ranked["Zwickau"]["gap_complete"] is True
    assert ranked["Zwickau"]["gap_rank"] < leipzig["gap_rank"]  # complete before incomplete


def test_municipality_metrics_best_status_and_asskomm_stage() -> None:
    bodies = [
        body("kpr", "dormant", covers_ags=["16053000"]),
        body("ass", "planned", covers_ags=["16053000"], programme="ASSKomm", programme_stage="participant"),
        body("ass2", "active", covers_ags=["16053000"], programme="ASSKomm", programme_stage="agreement"),
    ]
    [row] = municipality_metrics([municipality("16053000", "Jena", 110000)], bodies)
    assert row["prevention_status"] == "active"
    assert row["asskomm_stage"] == "agreement"
    assert row["large_town"] is True
    assert row["land_code"] == "16"
    assert [b["id"] for b in row["bodies"]] == ["kpr", "ass", "ass2"]


def test_survey_counts_thuringian_large_towns_by_status() -> None:
    munis = [
        municipality("16000001", "Aktivstadt", 110000),
        municipality("16000002", "Planstadt", 65000),
        municipality("16000003", "Ruhestadt", 12000),
        municipality("16000004", "Stillstadt", 45000),  # no body known
        municipality("16000005", "Unklarstadt", LARGE_TOWN),  # exactly the threshold
        municipality("16000006", "Kleinstadt", 9999),  # below: not asked
        municipality("16000007", "Ohnezahl", None),  # cannot be placed
        municipality("14000001", "Sachsenstadt", 200000, land_code="14"),  # not Thuringia
    ]
    bodies = [
        body("a", "active", covers_ags=["16000001", "16000006", "14000001"]),
        body("p", "planned", covers_ags=["16000002"]),
        body("d", "dormant", covers_ags=["16000003"]),
        body("u", "unclear", covers_ags=["16000005"]),
    ]
    figures = [
        {"programme": SURVEY_PROGRAMME, "indicator": "bodies_active", "value": "17"},
        {"programme": "ASSKomm", "indicator": "participants", "value": "9"},
    ]
    result = survey_comparison(municipality_metrics(munis, bodies), figures)
    computed = result["computed"]
    assert result["threshold"] == 10_000
    assert computed["large_towns"] == 5
    assert computed["population_unknown"] == 1
    assert [r["name"] for r in computed["active"]] == ["Aktivstadt"]
    # not active: planned and dormant, largest first
    assert [r["name"] for r in computed["not_active"]] == ["Planstadt", "Ruhestadt"]
    assert [r["name"] for r in computed["unknown"]] == ["Stillstadt", "Unklarstadt"]
    assert computed["unknown"][0]["prevention_status"] == NONE_KNOWN
    assert result["survey"] == [figures[0]]
