"""The finder's rules over the shipped data and small made-up indexes (no app, no store)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import shapely

from mapservice.config import ConfigError, load_settings
from mapservice.finder.hours import status
from mapservice.finder.locate import (
    WALKING_MAX_M,
    Area,
    LocateIndex,
    Office,
    distance_text,
    locate,
    number_text,
    walking_minutes,
)

REPO = Path(__file__).resolve().parents[2]
BERLIN = ZoneInfo("Europe/Berlin")
NOW = dt.datetime(2026, 12, 2, 10, 0, tzinfo=BERLIN)  # a Wednesday, after the mayor's only date
ZWICKAU_HAUPTMARKT = (12.496, 50.718)
JENA_WINZERLA = (11.5763, 50.9007)
STABSSTELLE = "zwickau-stabsstelle-kommunale-praevention"
KOPPE = "jena-buergersprechstunde-koppe"
# The municipalities the shipped offices and districts lie in, and their neighbours.
KEEP = {"16053000", "14524330", "14713000", "14511000"}


def _features(name: str) -> list[dict[str, Any]]:
    data = json.loads((REPO / "geodata" / f"{name}.geojson").read_text(encoding="utf-8"))
    features: list[dict[str, Any]] = data["features"]
    return features


@pytest.fixture(scope="module")
def index() -> LocateIndex:
    municipalities = [
        Area(f["id"], f["properties"], shapely.geometry.shape(f["geometry"]))
        for f in _features("municipalities")
        if f["id"] in KEEP
    ]
    districts = [
        Area(f["id"], f["properties"], shapely.geometry.shape(f["geometry"])) for f in _features("districts")
    ]
    offices = [
        Office(
            f["id"],
            f["properties"],
            *(f["geometry"]["coordinates"] if f["geometry"] else (None, None)),
        )
        for f in _features("contact-offices")
    ]
    return LocateIndex(municipalities, districts, offices)


def ids(offices: list[dict[str, Any]]) -> list[str]:
    return [o["id"] for o in offices]


def test_zwickau_gets_its_prevention_office_and_nothing_from_jena(index: LocateIndex) -> None:
    doc = locate(index, *ZWICKAU_HAUPTMARKT, NOW)
    assert doc is not None and doc["municipality"]["name"] == "Zwickau"
    assert doc["district"] is None and doc["responsible"] == []
    (office,) = doc["responsible_town"]
    assert office["id"] == STABSSTELLE and office["location"] is None
    assert office["address"]["street"] == "Hauptmarkt" and office["address"]["housenumber"] == "1"
    assert office["opening_hours"] == "Tu 09:00-12:00,13:00-18:00; Th 09:00-12:00,13:00-15:00"
    assert office["calendar_events"] is True and office["next_opening"]
    assert "Stellen für die ganze Stadt" in doc["responsible_note"]
    # Jena is 64 km away: no padding with far offices, an honest note instead.
    assert doc["nearest"] == []
    assert doc["nearest_note"] == "Im Umkreis von 25 km ist keine Dienststelle mit bekannter Lage erfasst."
    everything = ids(doc["responsible"] + doc["responsible_town"] + doc["nearest"])
    assert not [i for i in everything if i.startswith(("jena", "kobb"))]


def test_whole_town_offices_are_the_towns_own_kinds_only(index: LocateIndex) -> None:
    doc = locate(index, *JENA_WINZERLA, NOW)
    assert doc is not None and doc["district"]["id"] == "jena-winzerla"
    assert ids(doc["responsible"]) == ["kobb-jena-winzerla"]
    # The mayor's consultation is for all of Jena; kobb-jena-ost (area not recorded) and the
    # police stations are not responsible for everything.
    assert ids(doc["responsible_town"]) == [KOPPE]
    assert doc["responsible_note"] is None


@pytest.mark.parametrize("radius_km", [1, 3.6, 25])
def test_no_nearest_office_beyond_the_radius(index: LocateIndex, radius_km: float) -> None:
    doc = locate(index, *JENA_WINZERLA, NOW, 10, radius_km)
    assert doc is not None
    assert all(o["distance_m"] <= radius_km * 1000 for o in doc["nearest"])
    assert doc["nearest_radius_km"] == radius_km
    # Jena's five located offices lie within 4 km of Winzerla: its own at the point, the
    # mayor's at 3.56 km, the others from 3.75 km on.
    assert len(doc["nearest"]) == {1: 1, 3.6: 2, 25: 5}[radius_km]


def test_nearest_is_the_closest_in_order(index: LocateIndex) -> None:
    doc = locate(index, *JENA_WINZERLA, NOW, 3)
    assert doc is not None
    distances = [o["distance_m"] for o in doc["nearest"]]
    assert distances == sorted(distances) and len(distances) == 3


def square(x: float, y: float, size: float = 0.1) -> shapely.Polygon:
    return shapely.box(x, y, x + size, y + size)


def made_up_index() -> LocateIndex:
    """Two touching made-up towns A (west) and B (east); offices just east of the border."""
    towns = [
        Area("00000001", {"name": "A-Stadt"}, square(11.0, 50.0)),
        Area("00000002", {"name": "B-Dorf"}, square(11.1, 50.0)),
    ]
    offices = [
        Office(
            "b-mayor",
            {"kind": "citizens_consultation", "city_ags": "00000002", "name": "B mayor"},
            11.101,
            50.05,
        ),
        Office(
            "b-police", {"kind": "police_station", "city_ags": "00000002", "name": "B police"}, 11.102, 50.05
        ),
        Office(
            "a-police", {"kind": "police_station", "city_ags": "00000001", "name": "A police"}, 11.01, 50.05
        ),
    ]
    return LocateIndex(towns, [], offices)


def test_another_towns_mayor_is_never_nearest_but_its_police_is() -> None:
    index = made_up_index()
    doc = locate(index, 11.099, 50.05, NOW, 10)  # in A, 150 m from B's offices
    assert doc is not None and doc["municipality"]["name"] == "A-Stadt"
    assert ids(doc["nearest"]) == ["b-police", "a-police"]
    assert doc["responsible_town"] == []
    own = locate(index, 11.099, 50.05, NOW, 10, 25, "municipality")
    assert own is not None and ids(own["nearest"]) == ["a-police"]
    assert own["nearest_rule"] == "In A-Stadt, im Umkreis von 25 km (Luftlinie)."


def test_nothing_within_reach_says_so_in_both_languages() -> None:
    index = made_up_index()
    de = locate(index, 11.099, 50.05, NOW, 3, 0.05, "municipality")
    en = locate(index, 11.099, 50.05, NOW, 3, 0.05, "municipality", "en")
    assert de is not None and en is not None and de["nearest"] == en["nearest"] == []
    assert (
        de["nearest_note"]
        == "In A-Stadt ist im Umkreis von 0,1 km keine Dienststelle mit bekannter Lage erfasst."
    )
    assert en["nearest_note"] == "No office with a known location is recorded in A-Stadt within 0.1 km."


@pytest.mark.parametrize(
    ("metres", "de", "en"),
    [
        (4, "unter 10 m", "under 10 m"),
        (648, "650 m", "650 m"),
        (994, "990 m", "990 m"),
        (996, "1,0 km", "1.0 km"),
        (2449, "2,4 km", "2.4 km"),
        (9960, "10 km", "10 km"),
        (12345, "12 km", "12 km"),
        (1_234_567, "1.235 km", "1,235 km"),
    ],
)
def test_distance_text(metres: float, de: str, en: str) -> None:
    assert distance_text(metres, "de") == de
    assert distance_text(metres, "en") == en


def test_number_text() -> None:
    assert number_text(4.5, 1, "de") == "4,5" and number_text(4.5, 1, "en") == "4.5"
    assert number_text(1234.5, 1, "de") == "1.234,5" and number_text(1234.5, 1, "en") == "1,234.5"


def test_walking_time_only_within_walking_distance(index: LocateIndex) -> None:
    assert walking_minutes(WALKING_MAX_M) == 40 and walking_minutes(WALKING_MAX_M + 1) is None
    assert walking_minutes(1) == 1
    # A point in the centre of Jena: the police station and the mayor's office lie about 1 km
    # away, the offices in Lobeda and Winzerla beyond walking distance.
    doc = locate(index, 11.5800, 50.9270, NOW, 10, 25, "radius", "en")
    assert doc is not None
    near = [o for o in doc["nearest"] if o["distance_m"] <= WALKING_MAX_M]
    far = [o for o in doc["nearest"] if o["distance_m"] > WALKING_MAX_M]
    assert near and far
    for o in near:
        assert o["walking_text"] == f"about {o['walking_minutes']} min on foot"
        assert "engine=fossgis_osrm_foot" in o["route_url"]
    for o in far:
        assert o["walking_minutes"] is None and o["walking_text"] is None
        assert o["distance_text"].endswith(" km") and "engine" not in o["route_url"]
        assert o["route_url"].startswith("https://www.openstreetmap.org/directions?route=")
    assert doc["distance_rule"] == (
        "Straight-line distances; walking time up to 3 km estimated at 4.5 km/h, none beyond."
    )


@pytest.mark.parametrize(
    ("lang", "near", "about"),
    [
        ("de", "in der Nähe (die Lage der Dienststelle ist nur ungefähr bekannt)", "etwa "),
        ("en", "close by (the office's location is only approximately known)", "about "),
    ],
)
def test_a_distance_to_an_approximate_location_claims_no_precision(
    index: LocateIndex, lang: str, near: str, about: str
) -> None:
    """The Winzerla office is located only by its street (location_precision "street"): its
    own address is not "under 10 m, about 1 min on foot" from it, only close by. Further away
    an approximate office is "about" its distance; an office with its house coordinate keeps
    the plain distance and its walking time."""
    doc = locate(index, *JENA_WINZERLA, NOW, 10, 25, "radius", lang)
    assert doc is not None
    by_id = {o["id"]: o for o in doc["nearest"]}
    winzerla = by_id["kobb-jena-winzerla"]
    assert winzerla["location_precision"] == "street" and winzerla["distance_approximate"]
    assert winzerla["distance_m"] < 10
    assert winzerla["distance_text"] == near
    assert winzerla["walking_minutes"] is None and winzerla["walking_text"] is None
    mayor = by_id["jena-buergersprechstunde-koppe"]
    assert mayor["distance_approximate"] and mayor["distance_text"].startswith(about)
    assert mayor["distance_text"] == about + distance_text(mayor["distance_m"], lang)
    exact = [o for o in doc["nearest"] if o["location_precision"] == "address"]
    assert exact
    for office in exact:
        assert not office["distance_approximate"]
        assert office["distance_text"] == distance_text(office["distance_m"], lang)


def test_past_only_dates_show_the_last_known_date(index: LocateIndex) -> None:
    koppe = next(o for o in index.offices if o.id == KOPPE).properties
    after = status(koppe.get("opening_hours"), koppe["appointments"], NOW, "16")
    assert after.dates_ended and not after.calendar_events and after.upcoming == []
    assert after.last_appointment is not None
    assert after.last_appointment.start == dt.datetime(2026, 1, 30, 14, 30, tzinfo=BERLIN)
    assert (
        after.dates_ended_text("de")
        == "letzter bekannter Termin 30.01.2026, weitere Termine nicht veröffentlicht"
    )
    assert after.dates_ended_text("en") == "last known date 30 Jan 2026, no further dates published"
    shown = after.as_json()
    assert shown["dates_ended"] is True and shown["last_appointment"]["start"] == "2026-01-30T14:30:00+01:00"
    before = status(None, koppe["appointments"], dt.datetime(2026, 1, 20, 10, tzinfo=BERLIN), "16")
    assert not before.dates_ended and before.calendar_events and before.dates_ended_text("de") is None
    # Regular hours are more than a past date: no "last known date" then.
    with_hours = status("Mo 10:00-12:00", koppe["appointments"], NOW, "16")
    assert not with_hours.dates_ended and with_hours.calendar_events
    nothing = status(None, None, NOW, "16")
    assert not nothing.dates_ended and not nothing.calendar_events and nothing.last_appointment is None


def test_the_answer_carries_the_past_date_text(index: LocateIndex) -> None:
    doc = locate(index, *JENA_WINZERLA, NOW, 10, lang="en")
    assert doc is not None
    (koppe,) = doc["responsible_town"]
    assert koppe["dates_ended_text"] == "last known date 30 Jan 2026, no further dates published"
    assert koppe["registration"] and koppe["calendar_events"] is False


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"nearest_radius_km": 0}, "nearest_radius_km"),
        ({"nearest_radius_km": 501}, "nearest_radius_km"),
        ({"nearest_scope": "country"}, "nearest_scope"),
    ],
)
def test_bad_nearest_settings_are_refused(settings: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_settings(settings, environ={})
