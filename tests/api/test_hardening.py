"""Issue 15, the smaller faults: strict numbers, valid times at the edge of the calendar, a
proxy's Basic login that must not break the public API, and no server banner."""

from __future__ import annotations

import urllib.request
from urllib.parse import quote

import pytest
from flask.testing import FlaskClient

from conftest import Server

ITEMS = "/api/collections/districts/items"


@pytest.mark.parametrize(
    ("parameter", "value"),
    [
        ("limit", "١"),  # an Arabic-Indic digit one: int() would take it
        ("limit", "1_0"),
        ("limit", " 5 "),
        ("bbox", "1_1,50,12,51"),
        ("bbox", "١١,50,12,51"),
        ("bbox", "nan,50,12,51"),
        ("bbox", " 11,50,12,51"),
        ("households", "1_0"),  # an integer field as a filter
        ("area_km2", "inf"),  # a number field as a filter
        ("area_km2", "1_5"),
    ],
)
def test_numbers_are_parsed_strictly(client: FlaskClient, parameter: str, value: str) -> None:
    response = client.get(f"{ITEMS}?{parameter}={quote(value)}")
    assert response.status_code == 400, value
    assert f"'{parameter}'" in response.get_json()["description"]


def test_plain_numbers_still_work(client: FlaskClient) -> None:
    doc = client.get(f"{ITEMS}?bbox=11.5,50.85,11.65,50.95&limit=3").get_json()
    assert 0 < doc["numberReturned"] <= 3
    assert client.get(f"{ITEMS}?bbox=-1e1,4.5E1,1.2e1,5.1e1&limit=1").status_code == 200


@pytest.mark.parametrize(
    "value",
    [
        "9999-12-31T23:59:59-14:00",  # valid RFC 3339, past year 9999 once in UTC
        "0001-01-01T00:00:00+14:00/..",  # before year 1 in UTC
        "2026-01-30T14:30:00+01:00",
    ],
)
def test_valid_times_at_the_edge_of_the_calendar_are_accepted(client: FlaskClient, value: str) -> None:
    assert client.get(f"{ITEMS}?datetime={quote(value)}").status_code == 200


def test_a_proxy_login_does_not_break_public_reads(client: FlaskClient) -> None:
    basic = {"Authorization": "Basic dXNlcjpwYXNzd29yZA=="}  # user:password, test data
    response = client.get(f"{ITEMS}?limit=1", headers=basic)
    assert response.status_code == 200 and response.get_json()["numberReturned"] == 1
    # A write still needs a Bearer token, and says so.
    write = client.post(ITEMS, headers=basic, json={"type": "Feature", "properties": {}, "geometry": None})
    assert write.status_code == 401 and "Bearer" in write.get_json()["description"]
    # A broken Bearer token is still refused, also on reads.
    assert client.get(ITEMS, headers={"Authorization": "Bearer nonsense"}).status_code == 401


def test_responses_do_not_name_the_server_software(gpkg_live_server: Server) -> None:
    with urllib.request.urlopen(gpkg_live_server.url + "/api?f=json", timeout=30) as response:
        assert response.status == 200
        assert "gunicorn" not in (response.headers.get("Server") or "").lower()
