"""Citizen finder: /api/locate, /finder without JavaScript, calendar files."""

from __future__ import annotations

import html
import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import quote

import icalendar
import pytest
import shapely
from flask import Flask
from flask.testing import FlaskClient

from conftest import StoreConfig, get_json
from mapservice import create_app
from mapservice.config import ConfigError

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
    # Leipzig has districts but no office recorded: an honest "none", and no office 60 km away
    # in Jena as its "nearest" (issue 12: nearest only within the radius).
    doc = get_json(client, "/api/locate?lat=51.3397&lon=12.3731&nearest=1")
    assert doc["district"]["city"] == "Leipzig"
    assert doc["responsible"] == [] and "keine zuständige" in doc["responsible_note"]
    assert doc["responsible_town"] == [] and doc["nearest"] == []
    assert doc["nearest_note"] == "Im Umkreis von 25 km ist keine Dienststelle mit bekannter Lage erfasst."


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
def gazetteer_client(fresh_store: StoreConfig) -> Iterator[FlaskClient]:
    """The older setting: a file named in gazetteer_files is imported on the first start."""
    app = create_app(
        fresh_store.settings(
            gazetteer_files=str(FIXTURE),
            gazetteer_columns="street=strasse,housenumber=hausnummer,postcode=plz,place=ort,x=ostwert,y=nordwert",
            gazetteer_crs="EPSG:25832",
        )
    )
    yield app.test_client()
    app.extensions["mapservice"].store.close()


def test_configured_address_file_in_utm_is_used(gazetteer_client: FlaskClient) -> None:
    doc = get_json(gazetteer_client, "/api/locate?address=" + quote("Anna-Siemsen-Str. 25, Jena"))
    assert doc["point"]["score"] == 100 and doc["point"]["precision"] == "address"
    assert 11.4 < doc["point"]["lon"] < 11.8 and 50.8 < doc["point"]["lat"] < 51.0
    # A typo is not silently taken for the street it resembles: 404 with that street offered.
    typo = get_json(gazetteer_client, "/api/locate?address=" + quote("Anna-Siemsn-Strasse 27"), status=404)
    assert "not in the address directory" in typo["description"]
    assert typo["candidates"][0]["address"].startswith("Anna-Siemsen-Straße 27")


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
    assert '<html lang="en">' in english
    assert "No responsible contact person is recorded for this district." in english
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


# --- issue 12: honest nearest offices, past dates, calendar links ------------------------------

ZWICKAU_HAUPTMARKT = "lat=50.718&lon=12.496"
JENA_WINZERLA = "lat=50.9007&lon=11.5763"
PAST_DE = "letzter bekannter Termin 30.01.2026, weitere Termine nicht veröffentlicht"
PAST_EN = "last known date 30 Jan 2026, no further dates published"
# The registration note in each page's language (geodata: registration / registration_en).
REGISTRATION_DE = "vorher per E-Mail an buergermeister@jena.de"
REGISTRATION_EN = "by e-mail to buergermeister@jena.de beforehand"
KOPPE_ICS = "/calendar/offices/jena-buergersprechstunde-koppe.ics"


def test_zwickau_gets_its_prevention_office_and_no_jena_office(client: FlaskClient) -> None:
    doc = get_json(client, f"/api/locate?{ZWICKAU_HAUPTMARKT}")
    assert doc["municipality"]["name"] == "Zwickau"
    (office,) = doc["responsible_town"]
    assert office["id"] == "zwickau-stabsstelle-kommunale-praevention"
    assert office["calendar_url"] == "/calendar/offices/zwickau-stabsstelle-kommunale-praevention.ics"
    assert doc["nearest"] == [] and doc["nearest_note"]
    page = client.get(f"/finder?{ZWICKAU_HAUPTMARKT}").get_data(as_text=True)
    assert "Für die ganze Stadt Zwickau zuständig" in page
    assert (
        "Stabsstelle Kommunale Prävention der Stadt Zwickau" in page and "Hauptmarkt 1, 08056 Zwickau" in page
    )
    assert "Ohne bekannte Lage" in page and "Tu 09:00-12:00,13:00-18:00" in page
    assert 'href="/calendar/offices/zwickau-stabsstelle-kommunale-praevention.ics"' in page
    assert "Im Umkreis von 25 km ist keine Dienststelle mit bekannter Lage erfasst." in page
    assert "Jena" not in page.split('id="res-h"')[1].split('id="finder-map"')[0]


def test_nearest_radius_is_a_setting(make_app: Callable[..., Flask]) -> None:
    client = make_app(nearest_radius_km=2).test_client()
    doc = get_json(client, f"/api/locate?{JENA_WINZERLA}&nearest=10")
    assert [o["id"] for o in doc["nearest"]] == ["kobb-jena-winzerla"]  # the others lie 3.5+ km away
    assert doc["nearest_radius_km"] == 2
    english = client.get(f"/finder?{JENA_WINZERLA}&lang=en").get_data(as_text=True)
    assert "Within 2 km (straight line)" in english
    # The office is located by its street only: no "under 10 m, about 1 min on foot".
    assert "close by (the office's location is only approximately known)" in html.unescape(english)
    assert "under 10 m" not in english


def test_jena_page_gives_km_past_dates_and_calendar_links_honestly(client: FlaskClient) -> None:
    doc = get_json(client, f"/api/locate?{JENA_WINZERLA}&nearest=10&lang=en")
    koppe = next(o for o in doc["responsible_town"] if o["id"] == "jena-buergersprechstunde-koppe")
    assert koppe["dates_ended_text"] == PAST_EN and koppe["calendar_url"] is None
    assert koppe["last_appointment"]["start"] == "2026-01-30T14:30:00+01:00"
    stations = [o for o in doc["nearest"] if o["kind"] == "police_station"]
    assert stations and all(o["calendar_url"] is None for o in stations)  # no hours, no dates
    far = [o for o in doc["nearest"] if o["distance_m"] > 3000]
    assert far and all(o["walking_minutes"] is None for o in far)
    german = client.get(f"/finder?{JENA_WINZERLA}").get_data(as_text=True)
    english = client.get(f"/finder?{JENA_WINZERLA}&lang=en").get_data(as_text=True)
    for page, past, km, unit, registration in (
        (german, PAST_DE, "3,6 km (Luftlinie)", "4,5 km/h", REGISTRATION_DE),
        (english, PAST_EN, "3.6 km (straight line)", "4.5 km/h", REGISTRATION_EN),
    ):
        # Each group lists the mayor's consultation (for the whole town, and nearest).
        items = page.split("Bürgersprechstunde mit Bürgermeister Benjamin Koppe</h4>")[1:]
        assert len(items) == 2
        for item in (i.split("</li>")[0] for i in items):
            assert past in item and registration in item
            assert "Sprechzeiten unbekannt" not in item and "office hours unknown" not in item
        assert km in page and unit in page
        assert KOPPE_ICS not in page and "/calendar/offices/kobb-jena-winzerla.ics" in page
        assert "jena-polizeiinspektion.ics" not in page
        assert 'rel="nofollow noopener noreferrer">Route (OpenStreetMap)</a>' in page


def test_map_list_and_popup_hours_show_the_last_known_date(client: FlaskClient) -> None:
    for lang, past, registration in (("de", PAST_DE, REGISTRATION_DE), ("en", PAST_EN, REGISTRATION_EN)):
        page = client.get(f"/map/jena?lang={lang}").get_data(as_text=True)
        item = page.split("Bürgersprechstunde mit Bürgermeister Benjamin Koppe</h4>")[1].split("</li>")[0]
        assert past in item and registration in item
        assert KOPPE_ICS not in page and "/calendar/offices/kobb-jena-winzerla.ics" in page
    hours = get_json(client, "/api/office-hours?city=Jena")["offices"]
    koppe = hours["jena-buergersprechstunde-koppe"]
    assert koppe["dates_ended"] is True and koppe["calendar_events"] is False
    assert koppe["last_appointment"]["start"] == "2026-01-30T14:30:00+01:00"
    assert hours["kobb-jena-winzerla"]["calendar_events"] is True
    assert hours["jena-polizeiinspektion"]["dates_ended"] is False


def test_city_feed_names_are_not_case_sensitive(client: FlaskClient) -> None:
    feeds = [client.get(f"/calendar/cities/{name}.ics") for name in ("jena", "JENA", "Jena")]
    assert [r.status_code for r in feeds] == [200, 200, 200]
    assert feeds[0].data == feeds[1].data == feeds[2].data
    assert feeds[1].headers["Content-Disposition"] == 'attachment; filename="sprechzeiten-jena.ics"'
    assert icalendar.Calendar.from_ical(feeds[1].data)["X-WR-CALNAME"] == "Sprechzeiten Jena"
    # A known office whose dates have all passed: a valid calendar without events (kept
    # subscriptions go on working), though no page links it.
    past = client.get(KOPPE_ICS)
    assert past.status_code == 200
    calendar = icalendar.Calendar.from_ical(past.data)
    assert calendar.walk("VEVENT") == [] and calendar.walk("VTIMEZONE")


@pytest.mark.parametrize(
    ("setting", "value", "named"),
    [
        ("gazetteer_columns", "street", "setting 'gazetteer_columns'"),
        ("gazetteer_crs", "EPSG:999999", "setting 'gazetteer_crs'"),
    ],
)
def test_a_bad_address_file_setting_names_the_setting(
    make_app: Callable[..., Flask], setting: str, value: str, named: str
) -> None:
    """The importer's options are settings here: the message names what the operator wrote."""
    with pytest.raises(ConfigError) as raised:
        make_app(gazetteer_files=str(FIXTURE), **{setting: value})
    assert named in str(raised.value) and "--" not in str(raised.value)


@pytest.mark.parametrize(
    ("lang", "with_text", "without_text"),
    [
        (
            "de",
            "Zuständigkeiten sind erfasst für",
            "Ortsteile, aber noch keine Zuständigkeiten sind erfasst für",
        ),
        (
            "en",
            "Responsibilities are recorded for",
            "Districts, but no responsibilities yet, are recorded for",
        ),
    ],
)
def test_the_finder_names_the_cities_without_recorded_responsibilities_apart(
    client: FlaskClient, lang: str, with_text: str, without_text: str
) -> None:
    """Leipzig has its district outlines but no office responsible for any of them: the page
    must not list it among the cities with recorded responsibilities, where a citizen would
    expect an answer and get "no responsible contact person"."""
    page = client.get(f"/finder?lang={lang}").get_data(as_text=True)
    listed = re.search(re.escape(with_text) + r": ([^.<]+)\.", page)
    apart = re.search(re.escape(without_text) + r": ([^.<]+)\.", page)
    assert listed is not None and apart is not None, page[-2000:]
    with_cities, without_cities = listed.group(1).split(", "), apart.group(1).split(", ")
    assert "Jena" in with_cities and "Zwickau" in with_cities
    assert "Leipzig" in without_cities and "Leipzig" not in with_cities
    assert not set(with_cities) & set(without_cities)
    # What the page says is what a lookup answers: nobody is responsible in Leipzig-Zentrum.
    leipzig = get_json(client, "/api/locate?lat=51.3397&lon=12.3731")
    assert leipzig["municipality"]["name"] == "Leipzig"
    assert leipzig["responsible"] == [] and leipzig["responsible_town"] == []
