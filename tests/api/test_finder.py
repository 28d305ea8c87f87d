"""Citizen finder: /api/locate, /finder without JavaScript, calendar files."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote

import icalendar
import pytest
import shapely
from flask import Flask
from flask.testing import FlaskClient

from conftest import get_json

FIXTURE = Path(__file__).parent.parent / "data" / "gazetteer" / "jena_hauskoordinaten.csv"


def test_a_point_inside_each_jena_ortsteil_resolves_to_it(client: FlaskClient) -> None:
    districts = get_json(client, "/api/collections/districts/items?city=Jena")["features"]
    assert len(districts) == 30
    for feature in districts:
        point = shapely.geometry.shape(feature["geometry"]).representative_point()
        doc = get_json(client, f"/api/locate?lat={point.y}&lon={point.x}")
        assert doc["district"]["id"] == feature["id"], feature["properties"]["name"]
        assert doc["municipality"]["name"] == "Jena"


def test_winzerla_resolves_to_mario_bergner_with_his_hours(client: FlaskClient) -> None:
    winzerla = get_json(client, "/api/collections/districts/items/jena-winzerla")
    point = shapely.geometry.shape(winzerla["geometry"]).representative_point()
    doc = get_json(client, f"/api/locate?lat={point.y}&lon={point.x}")
    assert doc["point"]["method"] == "coordinates"
    (office,) = doc["responsible"]
    assert office["id"] == "kobb-jena-winzerla"
    assert office["officers"][0]["name"] == "Mario Bergner"
    assert office["opening_hours"] == "Mo 10:00-12:00; Th 15:00-17:00"
    assert office["open_now"] in (True, False) and office["next_opening"]
    assert office["phone"] == "03641 233979"
    assert office["location_precision"] == "street"
    assert len(doc["nearest"]) == 3
    first = doc["nearest"][0]
    assert first["distance_m"] > 0 and first["walking_minutes"] >= 1
    assert first["route_url"].startswith("https://www.openstreetmap.org/directions?")
    distances = [o["distance_m"] for o in doc["nearest"]]
    assert distances == sorted(distances)


def test_a_district_without_officer_says_so(client: FlaskClient) -> None:
    # Leipzig has districts but no office recorded: an honest "none".
    doc = get_json(client, "/api/locate?lat=51.3397&lon=12.3731&nearest=1")
    assert doc["district"]["city"] == "Leipzig"
    assert doc["responsible"] == [] and "keine zuständige" in doc["responsible_note"]
    assert len(doc["nearest"]) == 1


@pytest.mark.parametrize(
    "query",
    [
        "address=Anna-Siemsen-Straße%2027",
        "address=anna%20siemsen%20str%2027",
        "address=Anna%20Siemsen%20Str.27",
        "address=Anna-Siemsen-Str.%2027,%20Jena",
    ],
)
def test_address_variants_find_the_winzerla_office(client: FlaskClient, query: str) -> None:
    doc = get_json(client, f"/api/locate?{query}")
    assert doc["point"]["method"] == "address" and doc["point"]["geocoder"] == "gazetteer"
    assert doc["point"]["precision"] == "street"  # the stored point is a neighbouring house
    assert doc["district"]["id"] == "jena-winzerla"
    assert doc["responsible"][0]["id"] == "kobb-jena-winzerla"


@pytest.mark.parametrize(
    ("query", "status", "code"),
    [
        ("lat=52.52&lon=13.40", 422, "OutsideCoverage"),  # Berlin
        ("lat=95&lon=11", 400, "InvalidParameterValue"),
        ("lat=abc&lon=11", 400, "InvalidParameterValue"),
        ("lat=50.9", 400, "InvalidParameterValue"),
        ("address=", 400, "InvalidParameterValue"),
        ("address=" + "x" * 201, 400, "InvalidParameterValue"),
        ("address=Nirgendwostra%C3%9Fe%201", 404, "AddressNotFound"),
        ("", 400, "InvalidParameterValue"),
        ("lat=50.9&lon=11.5&address=x", 400, "InvalidParameterValue"),
        ("nearest=99&lat=50.9&lon=11.58", 400, "InvalidParameterValue"),
        ("colour=red", 400, "InvalidParameter"),
        # A repeated parameter is refused like on /items, not silently read as its first value.
        ("lat=50.9&lat=51.0&lon=11.58", 400, "InvalidParameterValue"),
        ("address=Am%20Anger%2028&address=Anna-Siemsen-Str.%2027", 400, "InvalidParameterValue"),
    ],
)
def test_bad_input_gets_a_clear_json_error(client: FlaskClient, query: str, status: int, code: str) -> None:
    doc = get_json(client, f"/api/locate?{query}", status=status)
    assert doc["code"] == code and doc["description"]
    if status == 422:
        assert "Jena" in doc["description"] and "Zwickau" in doc["description"]
    if status == 404:
        assert "candidates" in doc


@pytest.fixture
def gazetteer_client(make_app: Callable[..., Flask]) -> FlaskClient:
    app = make_app(
        gazetteer_files=str(FIXTURE),
        gazetteer_columns="street=strasse,housenumber=hausnummer,postcode=plz,place=ort,x=ostwert,y=nordwert",
        gazetteer_crs="EPSG:25832",
    )
    return app.test_client()


def test_configured_address_file_in_utm_is_used(gazetteer_client: FlaskClient) -> None:
    doc = get_json(gazetteer_client, "/api/locate?address=" + quote("Anna-Siemsn-Strasse 27"))
    assert doc["point"]["score"] < 100  # a typo still finds it, with a lower score
    assert 11.4 < doc["point"]["lon"] < 11.8 and 50.8 < doc["point"]["lat"] < 51.0


def test_ambiguous_address_returns_candidates(gazetteer_client: FlaskClient) -> None:
    response = gazetteer_client.get("/api/locate?address=" + quote("Bahnhofstraße 1"))
    assert response.status_code == 300
    doc = json.loads(response.data)
    assert doc["code"] == "Ambiguous" and len(doc["candidates"]) >= 2
    places = {c["address"] for c in doc["candidates"]}
    assert any("Jena" in p for p in places) and any("Kahla" in p for p in places)


def test_finder_page_works_without_javascript(client: FlaskClient) -> None:
    empty = client.get("/finder")
    html = empty.get_data(as_text=True)
    assert empty.status_code == 200 and '<form id="finder-form"' in html
    assert 'name="address"' in html and '<label for="address">' in html
    result = client.get("/finder?address=" + quote("Anna-Siemsen-Str. 27, Jena"))
    text = result.get_data(as_text=True)
    assert result.status_code == 200
    assert "Winzerla" in text and "Mario Bergner" in text and "Mo 10:00-12:00" in text
    assert "/calendar/offices/kobb-jena-winzerla.ics" in text
    assert text.index("Zuständig") < text.index('id="finder-map"')  # list first, map second
    english = client.get("/finder?lang=en&lat=51.3397&lon=12.3731").get_data(as_text=True)
    assert '<html lang="en">' in english and "No responsible officer recorded." in english
    outside = client.get("/finder?lat=52.52&lon=13.40")
    assert outside.status_code == 422 and "Außerhalb" in outside.get_data(as_text=True)
    assert "Set-Cookie" not in result.headers


def test_finder_escapes_the_query(client: FlaskClient) -> None:
    evil = "<script>alert(1)</script>"
    html = client.get("/finder?address=" + quote(evil)).get_data(as_text=True)
    assert evil not in html and "&lt;script&gt;" in html


def test_office_and_city_calendars_parse(client: FlaskClient) -> None:
    response = client.get("/calendar/offices/kobb-jena-winzerla.ics")
    assert response.mimetype == "text/calendar"
    cal = icalendar.Calendar.from_ical(response.data)
    events = [e for e in cal.walk("VEVENT")]
    days = sorted(str(e["RRULE"]["BYDAY"][0]) for e in events)
    assert days == ["MO", "TH"]
    assert all(e["DTSTART"].params["TZID"] == "Europe/Berlin" for e in events)
    again = icalendar.Calendar.from_ical(client.get("/calendar/offices/kobb-jena-winzerla.ics").data)
    assert sorted(str(e["UID"]) for e in again.walk("VEVENT")) == sorted(str(e["UID"]) for e in events)
    city = icalendar.Calendar.from_ical(client.get("/calendar/cities/Jena.ics").data)
    summaries = " ".join(str(e["SUMMARY"]) for e in city.walk("VEVENT"))
    assert "Jena-Winzerla" in summaries and "Lobeda" in summaries
    assert client.get("/calendar/offices/nope.ics").status_code == 404
    assert client.get("/calendar/cities/Atlantis.ics").status_code == 404


def test_remote_geocoder_is_asked_only_when_configured(
    client: FlaskClient, make_app: Callable[..., Flask]
) -> None:
    """A stand-in Nominatim on 127.0.0.1 answers what the offline gazetteer does not know."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    asked: list[str] = []

    class FakeNominatim(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            asked.append(self.path)
            body = json.dumps(
                [
                    {
                        "lat": "50.9286",
                        "lon": "11.5850",
                        "place_id": 1,
                        "display_name": "Testweg 1, Jena",
                        "importance": 0.5,
                    }
                ]
            ).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeNominatim)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        assert client.get("/api/locate?address=Testweg%201").status_code == 404
        assert asked == []  # nothing leaves the service by default
        remote = make_app(
            geocoder_remote="nominatim",
            geocoder_url=f"http://127.0.0.1:{server.server_address[1]}",
            geocoder_user_agent="dsm-test",
            geocoder_min_delay_ms=0,
        ).test_client()
        doc = get_json(remote, "/api/locate?address=Testweg%201")
        assert doc["point"]["geocoder"] != "gazetteer" and doc["municipality"]["name"] == "Jena"
        assert len(asked) == 1 and "Testweg" in asked[0]
        # The offline gazetteer still answers first for what it knows.
        get_json(remote, "/api/locate?address=" + quote("Anna-Siemsen-Straße 27"))
        assert len(asked) == 1
    finally:
        server.shutdown()


def test_a_repeated_parameter_is_named_in_the_error(client: FlaskClient) -> None:
    doc = get_json(client, "/api/locate?lat=50.9&lat=51.0&lon=11.58", status=400)
    assert doc["description"] == "Parameter 'lat': given more than once"


@pytest.mark.parametrize("query", ["lat=50.9&lon=11.58&lang=de&lang=en", "lat=50.9&lon=11.58&nearest=%2B3"])
def test_lang_and_nearest_are_parsed_like_every_parameter(client: FlaskClient, query: str) -> None:
    doc = get_json(client, f"/api/locate?{query}", status=400)
    assert doc["code"] == "InvalidParameterValue"


def test_viewing_many_maps_keeps_the_finders_index(app: Flask) -> None:
    """Map bounds (one per map) have their own cache: a crawl over every district map does
    not evict the finder's index or the planner's rankings, which are slow to rebuild."""
    client = app.test_client()
    get_json(client, "/api/locate?lat=50.9&lon=11.58")
    services = app.extensions["mapservice"]
    index = services.locate_index()
    for n in range(200):
        services.cached(("focus", "test map", n), ("districts",), lambda: None, services.map_bounds)
    assert services.locate_index() is index
