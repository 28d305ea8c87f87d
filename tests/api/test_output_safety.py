"""Hostile text in stored data reaches every output intact and harmless (issue 15, point 3).

An office, a district and a camera are stored with names holding CR LF, LF, NUL, U+2028, a
``</script>`` breakout and a spreadsheet formula, written straight into the store as an old
store or an import could hold them (the write API's own checks are not in the way). Every feed,
export and page that shows them must answer without a 5xx and in a form that parses back: the
iCalendar feed with icalendar, the CSV with the csv module (same rows and columns as the JSON),
HTML with html.parser (the text escaped, no injected element), JSON with json.

PostgreSQL text cannot hold NUL at all, so on PostGIS the names carry everything but NUL.
The features are invented test data ("Testdaten").
"""

from __future__ import annotations

import csv
import datetime as dt
import http.client
import io
import json
import socket
import threading
from collections.abc import Iterator
from html.parser import HTMLParser
from typing import Any

import icalendar
import pytest
import requests
import shapely
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient
from sample_features import camera

from conftest import StoreConfig, start_server, stop_server
from mapservice import create_app
from mapservice.cli import main
from mapservice.store.base import Edit

BREAKOUT = "</script><script>alert(1)</script>"
FORMULA = '=HYPERLINK("http://example.invalid/x","Klick")'
OFFICE = "test-hostile-office"
CAMERA = "test-hostile-camera"


def hostile(backend: str, what: str) -> str:
    """A name that starts as a formula and holds every hostile character the store can hold."""
    nul = "\x00" if backend == "gpkg" else ""
    return f"{FORMULA} Test{what}\r\nzweite Zeile\ndritte{nul}Zeile\u2028vierte {BREAKOUT} Ende"


class Page(HTMLParser):
    """The scripts and the text of an HTML page, as a browser's tokenizer sees them."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.scripts: list[tuple[dict[str, str | None], str]] = []
        self.text: list[str] = []
        self._script: dict[str, str | None] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "script":
            self._script = dict(attrs)
            self.scripts.append((self._script, ""))
        for _, value in attrs:
            if value:
                self.text.append(value)

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._script = None

    def handle_data(self, data: str) -> None:
        if self._script is not None:
            attrs, text = self.scripts[-1]
            self.scripts[-1] = (attrs, text + data)
        else:
            self.text.append(data)


def parse_page(raw: bytes) -> Page:
    page = Page()
    page.feed(raw.decode("utf-8"))
    page.close()
    return page


@pytest.fixture(scope="module")
def hostile_app(
    backend: str, new_store: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Flask, str]]:
    store_config: StoreConfig = new_store(tmp_path_factory.mktemp("hostile") / "instance")
    app = create_app(store_config.settings())
    store = app.extensions["mapservice"].store
    office = {
        "id": OFFICE,
        "kind": "prevention_office",
        "name": hostile(backend, "büro"),
        "city": "Jena",
        "city_ags": "16053000",
        "street": hostile(backend, "straße"),
        "housenumber": "1",
        "room": "Raum\r\n2",
        "opening_hours": "Mo 10:00-12:00",
        "appointments": [
            {"start": f"{dt.date.today().year + 1}-01-15T10:00:00+01:00", "note": hostile(backend, "termin")}
        ],
        "email": "test@example.invalid",
        "source": "Testdaten",
        "verified_on": "2026-11",
    }
    store.edit(
        "contact-offices", Edit("create", OFFICE, office, shapely.Point(11.59, 50.93)), "test", "import"
    )
    district = store.get("districts", "jena-zentrum")
    assert district is not None
    renamed = {**district.properties, "name": hostile(backend, "ortsteil")}
    geometry = shapely.from_geojson(district.geometry)
    store.edit("districts", Edit("replace", district.id, renamed, geometry), "test", "import")
    camera = {
        "id": CAMERA,
        "name": hostile(backend, "kamera"),
        "city": "Jena",
        "surveillance": "public",
        "surveillance_type": "camera",
        "status": "active",
        "publication": "published",
        "source": "Testdaten",
        "verified_on": "2026-11-01",
    }
    store.edit(
        "video-surveillance", Edit("create", CAMERA, camera, shapely.Point(11.588, 50.928)), "test", "import"
    )
    result = CliRunner().invoke(
        main,
        ["token", "create", "--name", "Test", "--collection", "video-surveillance"],
        env=store_config.env,
    )
    assert result.exit_code == 0, result.output
    app.config["TEST_TOKEN"] = result.stdout.strip()
    yield app, backend
    store.close()


@pytest.fixture(scope="module")
def client(hostile_app: tuple[Flask, str]) -> FlaskClient:
    return hostile_app[0].test_client()


# -- NUL through the write API -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("props", "where"),
    [({"name": "Test\x00kamera"}, "properties.name"), ({"note\x00": "x"}, "properties.note")],
)
def test_a_written_nul_is_a_400_on_both_stores(
    client: FlaskClient, hostile_app: tuple[Flask, str], props: dict[str, str], where: str
) -> None:
    """PostgreSQL cannot store NUL in text (it was a 503 "try again later" there): both refuse it."""
    app = hostile_app[0]
    doc = camera("test-nul-camera", **props)
    headers = {"Authorization": f"Bearer {app.config['TEST_TOKEN']}"}
    response = client.post(
        "/api/collections/video-surveillance/items",
        data=json.dumps(doc),
        content_type="application/geo+json",
        headers=headers,
    )
    assert response.status_code == 400, response.data[:300]
    description = response.get_json()["description"]
    assert where in description and "NUL character" in description, description
    assert (
        client.get("/api/collections/video-surveillance/items/test-nul-camera", headers=headers).status_code
        == 404
    )


def ok(client: FlaskClient, url: str) -> Any:
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code, response.data[:500])
    return response


# -- iCalendar ---------------------------------------------------------------------------------


@pytest.mark.parametrize("url", [f"/calendar/offices/{OFFICE}.ics", "/calendar/cities/Jena.ics"])
def test_the_calendar_feeds_parse_with_the_names_on_one_line(client: FlaskClient, url: str) -> None:
    response = ok(client, url)
    assert response.headers["Content-Disposition"].startswith('attachment; filename="')
    raw = response.data
    for line in raw.split(b"\r\n"):
        assert b"\n" not in line and b"\r" not in line and b"\x00" not in line, line
    calendar = icalendar.Calendar.from_ical(raw)
    mine = [e for e in calendar.walk("VEVENT") if str(e["UID"]).startswith(f"{OFFICE}-")]
    assert len(mine) == 2  # the weekly hours and the appointment
    for event in mine:
        summary = str(event["SUMMARY"])
        # Each line break is one (the escape \n on the wire), NUL is gone, the rest is kept.
        assert summary.startswith(f"{FORMULA} Testbüro\nzweite Zeile\ndritteZeile\nvierte {BREAKOUT} Ende")
        assert str(event["LOCATION"]).startswith(f"{FORMULA} Teststraße\nzweite Zeile")
        assert str(event["LOCATION"]).endswith("Raum\n2")
    [appointment] = [e for e in mine if "RRULE" not in e]
    assert f"{FORMULA} Testtermin\nzweite Zeile\ndritteZeile\nvierte" in str(appointment["DESCRIPTION"])


def test_the_office_feed_is_named_after_the_office_on_one_line(client: FlaskClient) -> None:
    """Clients show a calendar's name on one line: there a line break is a space."""
    raw = ok(client, f"/calendar/offices/{OFFICE}.ics").data
    assert b'\r\nX-WR-CALNAME:=HYPERLINK("http://example.invalid/x"\\,"Klick") Testb' in raw
    calendar = icalendar.Calendar.from_ical(raw)
    assert "zweite Zeile dritteZeile vierte" in str(calendar["X-WR-CALNAME"])


# -- CSV ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("dialect", ["rfc4180", "excel-de"])
def test_the_coverage_csv_reads_back_with_every_row_and_column(client: FlaskClient, dialect: str) -> None:
    rows = json.loads(ok(client, "/api/coverage/districts?city=jena&f=json").data)["districts"]
    response = ok(client, f"/api/coverage/districts?city=jena&f=csv&dialect={dialect}&lang=de")
    text = response.data.decode("utf-8-sig")
    table = list(csv.reader(io.StringIO(text, newline=""), delimiter=";" if dialect == "excel-de" else ","))
    header, body = table[0], table[1:]
    assert len(body) == len(rows)
    assert {len(row) for row in body} == {len(header)}
    name_column = header.index("name" if dialect == "rfc4180" else "Name")
    [cell] = [row[name_column] for row in body if "Testortsteil" in row[name_column]]
    # A cell that starts with "=" is text, not a formula, in a spreadsheet; line breaks stay in
    # the cell, NUL (which spreadsheets cut a cell at) is dropped, the rest is kept.
    stored = next(r["name"] for r in rows if "Testortsteil" in r["name"])
    assert cell == "'" + stored.replace("\x00", "")
    assert "\r\nzweite Zeile\ndritte" in cell


def test_numbers_in_the_csv_are_not_made_text() -> None:
    from mapservice.planner.export import csv_excel_de, csv_text

    rows = [{"id": "-x", "name": "-1 Test", "area_km2": -0.5, "population": -3}]
    columns = ("id", "name", "area_km2", "population")
    plain = list(csv.reader(io.StringIO(csv_text(rows, columns).lstrip("\ufeff"), newline="")))
    assert plain[1] == ["'-x", "'-1 Test", "-0.5", "-3"]
    german = csv_excel_de(rows, columns).lstrip("\ufeff")
    assert list(csv.reader(io.StringIO(german, newline=""), delimiter=";"))[1] == [
        "'-x",
        "'-1 Test",
        "-0,5",
        "-3",
    ]


# -- HTML --------------------------------------------------------------------------------------

PAGES = [
    "/map/jena",
    "/map/jena?lang=en",
    "/map/jena-zentrum",
    "/embed/jena",
    "/finder?lat=50.93&lon=11.59",
    "/finder?lat=50.93&lon=11.59&lang=en",
    "/planner?area=jena",
    "/planner/report?area=jena",
    f"/api/collections/contact-offices/items/{OFFICE}?f=html",
    "/api/collections/contact-offices/items?f=html&city=Jena",
    f"/api/collections/video-surveillance/items/{CAMERA}?f=html",
    "/api/collections/districts/items/jena-zentrum?f=html",
]


@pytest.mark.parametrize("url", PAGES)
def test_pages_show_the_names_as_text_and_inject_nothing(client: FlaskClient, url: str) -> None:
    raw = ok(client, url).data
    assert BREAKOUT.encode() not in raw  # escaped wherever it is: as &lt;/script&gt; or \u003c
    page = parse_page(raw)
    # The name is on the page as text (every page here shows one of the features) ...
    assert BREAKOUT in "".join(page.text) and FORMULA in "".join(page.text)
    # ... and no script element holds it as code; JSON data blocks still parse as JSON.
    for attrs, text in page.scripts:
        assert "alert(1)" not in text or attrs.get("type") == "application/json", (attrs, text[:300])
        if attrs.get("type") == "application/json":
            json.loads(text)


# -- JSON --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "fid", "what"),
    [
        (f"/api/collections/contact-offices/items/{OFFICE}", OFFICE, "büro"),
        (f"/api/collections/video-surveillance/items/{CAMERA}", CAMERA, "kamera"),
        ("/api/collections/districts/items?city=Jena&limit=100", "jena-zentrum", "ortsteil"),
        ("/api/locate?lat=50.93&lon=11.59", OFFICE, "büro"),
    ],
)
def test_json_gives_the_stored_text_back_exactly(
    client: FlaskClient, hostile_app: tuple[Flask, str], url: str, fid: str, what: str
) -> None:
    response = ok(client, url)
    doc = json.loads(response.data)
    found = json.dumps(doc, ensure_ascii=False)
    assert json.dumps(hostile(hostile_app[1], what), ensure_ascii=False)[1:-1] in found


def test_the_coverage_json_and_geojson_parse(client: FlaskClient) -> None:
    for fmt in ("json", "geojson"):
        body = ok(client, f"/api/coverage/districts?city=jena&f={fmt}").data
        assert "Testortsteil" in json.dumps(json.loads(body), ensure_ascii=False)


# -- request bodies over the limit (issue 15) ------------------------------------------------------
#
# A chunked body has no Content-Length for werkzeug to refuse; its stream stopped at 16 MiB and
# the cut-off text was answered "not valid JSON". One GeoPackage store serves both tests: what is
# checked happens before the store is asked.

LIMIT = 16 << 20
CAMS = "/api/collections/video-surveillance/items"


def _too_large() -> bytes:
    doc = {
        "type": "Feature",
        "id": "test-too-large",
        "geometry": {"type": "Point", "coordinates": [11.5893, 50.9276]},
        "properties": {"name": "Testkamera", "note": "x" * (LIMIT + 1000)},
    }
    return json.dumps(doc).encode()


@pytest.fixture(scope="module")
def writable(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[StoreConfig, Flask, str]]:
    store_config = StoreConfig(tmp_path_factory.mktemp("bodies"))
    app = create_app(store_config.settings())
    result = CliRunner().invoke(
        main,
        ["token", "create", "--name", "Test", "--collection", "video-surveillance"],
        env=store_config.env,
    )
    assert result.exit_code == 0, result.output
    yield store_config, app, result.stdout.strip()
    app.extensions["mapservice"].store.close()


def _refused_as_too_large(status: int, body: bytes) -> None:
    assert status == 413, body[:300]
    doc = json.loads(body)
    assert doc["code"] == "PayloadTooLarge"
    assert "16 MiB" in doc["description"] or "16,777,216" in doc["description"], doc


def test_a_chunked_body_over_the_limit_is_a_413_in_the_app(writable: tuple[StoreConfig, Flask, str]) -> None:
    _, app, token = writable
    before = app.extensions["mapservice"].store.state("video-surveillance").version
    response = app.test_client().post(
        CAMS,
        input_stream=io.BytesIO(_too_large()),
        content_type="application/geo+json",
        headers={"Authorization": f"Bearer {token}", "Transfer-Encoding": "chunked"},
        # What gunicorn sets for a chunked body: the server ends the stream, werkzeug may read it.
        environ_overrides={"wsgi.input_terminated": True},
    )
    _refused_as_too_large(response.status_code, response.data)
    assert app.extensions["mapservice"].store.state("video-surveillance").version == before


def _send_chunked(sock: socket.socket, head: bytes, body: bytes) -> None:
    try:
        sock.sendall(head)
        for start in range(0, len(body), 1 << 20):
            chunk = body[start : start + (1 << 20)]
            sock.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
        sock.sendall(b"0\r\n\r\n")
    except OSError:
        pass  # the server may answer and close before it has all of the body


def test_a_chunked_body_over_the_limit_is_a_413_from_the_server(
    writable: tuple[StoreConfig, Flask, str],
) -> None:
    store_config, _, token = writable
    server, log = start_server(store_config.instance, store_config.env, workers=1)
    try:
        host, port = server.url.removeprefix("http://").split(":")
        head = (
            f"POST {CAMS} HTTP/1.1\r\nHost: {host}:{port}\r\nAuthorization: Bearer {token}\r\n"
            "Content-Type: application/geo+json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
        ).encode()
        with socket.create_connection((host, int(port)), timeout=60) as sock:
            # Sent from a thread while this one reads, as a client does: the answer may come first.
            sender = threading.Thread(target=_send_chunked, args=(sock, head, _too_large()))
            sender.start()
            response = http.client.HTTPResponse(sock)
            response.begin()
            body = response.read()
            sender.join(timeout=60)
        _refused_as_too_large(response.status, body)
        assert requests.get(f"{server.url}{CAMS}/test-too-large", timeout=10).status_code == 404
    finally:
        stop_server(server, log)
