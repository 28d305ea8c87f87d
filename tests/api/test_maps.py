"""Map pages, embeds and snippets through the test client (the browser tests drive them live)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient
from shapely.geometry import Point

REQUIRED_MAPS = ["jena", "zwickau", "meerane", "prevention-thueringen", "prevention-sachsen"]
EVIL_NAME = "<img src=x onerror=alert(1)>"
EVIL_FIELD = '"><script>alert(1)</script>'


def test_every_required_map_and_one_per_jena_district(client: FlaskClient) -> None:
    text = client.get("/").get_data(as_text=True)
    for map_id in REQUIRED_MAPS:
        assert f'value="{map_id}"' in text
    districts = json.loads(client.get("/api/collections/districts/items?city=Jena").data)
    for feature in districts["features"]:
        response = client.get(f"/map/{feature['id']}")
        assert response.status_code == 200, feature["id"]
        assert feature["properties"]["name"] in response.get_data(as_text=True)
    assert client.get("/map/atlantis").status_code == 404


def test_the_district_maps_are_listed_in_the_order_of_their_names(client: FlaskClient) -> None:
    # As a reader looks for one: "Jena-Kernberge" after "Jena-Isserstedt", not after
    # "Jenaprießnitz/Wogau" ("Jena-Nord" is a district's own name, "Kernberge" is not).
    import html

    text = client.get("/").get_data(as_text=True)
    titles = [html.unescape(t) for t in re.findall(r'<option value="jena-[a-z-]+">([^<]+)</option>', text)]
    assert len(titles) == 30

    def german(t: str) -> str:
        return t.casefold().replace("ä", "a").replace("ö", "o").replace("ü", "u").replace("ß", "ss")

    assert titles == sorted(titles, key=german)
    assert titles.index("Jena-Isserstedt") + 1 == titles.index("Jena-Kernberge")


def test_chooser_form_works_without_javascript(client: FlaskClient) -> None:
    response = client.get("/map?id=prevention-sachsen")
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/map/prevention-sachsen")


@pytest.mark.parametrize("map_id", [*REQUIRED_MAPS, "jena-winzerla"])
def test_map_pages_are_small_self_hosted_and_zoomable(client: FlaskClient, map_id: str) -> None:
    response = client.get(f"/map/{map_id}")
    html = response.get_data(as_text=True)
    assert len(response.data) < 150_000, len(response.data)
    assert "user-scalable=no" not in html and "maximum-scale" not in html
    external = re.findall(r'(?:src|href)="(https?://[^"]+)"', html)
    assert [u for u in external if not u.startswith("http://localhost/")] == []
    assert "cdn" not in html.lower() and "googleapis" not in html
    assert "/static/vendor/leaflet/leaflet.js" in html
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]
    assert "Set-Cookie" not in response.headers
    assert '<html lang="de">' in html


def test_layers_load_from_the_api_not_inline(client: FlaskClient) -> None:
    html = client.get("/map/jena").get_data(as_text=True)
    assert "/api/collections/districts/items?city=Jena" in html
    assert "/api/coverage/municipalities?ags=16053000" in html
    assert "/api/office-hours?city=Jena" in html
    # No geometry inline (the word alone is a label of the finder's values, serialized too).
    assert '"type": "Feature"' not in html and not re.search(r'"coordinates": ?\[', html)


def test_text_alternative_has_the_popup_facts(client: FlaskClient) -> None:
    html = client.get("/map/jena").get_data(as_text=True)
    assert "Mario Bergner" in html and "Anna-Siemsen-Straße 27" in html
    assert "Mo 10:00-12:00; Th 15:00-17:00" in html
    assert "03641 233979" in html and 'href="tel:03641233979"' in html
    assert "buergermeister@jena.de" in html and "ungefähre Lage" in html
    assert "Ohne bekannte Lage" in html  # Nord / Ost have no published office
    assert "Winzerla" in html and "Keine Einträge" in html  # graffiti / cameras
    english = client.get("/map/jena?lang=en").get_data(as_text=True)
    assert '<html lang="en">' in english and "Location unknown" in english


def test_state_map_marks_large_towns_and_unknown_status(client: FlaskClient) -> None:
    html = client.get("/map/prevention-thueringen").get_data(as_text=True)
    assert "keins bekannt" in html and "Stadt ab 10.000 Einwohnern" in html
    assert "Jena *" in html  # a large town


def test_coverage_endpoint_formats(client: FlaskClient) -> None:
    doc = json.loads(client.get("/api/coverage/municipalities?land=14").data)
    by_ags = {f["id"]: f["properties"] for f in doc["features"]}
    assert len(by_ags) == 426
    assert by_ags["14524330"]["prevention_status"] == "active"  # Zwickau's KPR
    assert by_ags["14524190"]["asskomm_stage"] == "agreement"  # Meerane
    assert by_ags["14612000"]["prevention_status"] == "none_known"  # Dresden: nothing recorded
    csv = client.get("/api/coverage/municipalities?land=16&f=csv&large_towns=true")
    assert csv.mimetype == "text/csv"
    lines = csv.get_data(as_text=True).lstrip("\ufeff").splitlines()
    assert lines[0].startswith(
        "gap_rank,gap_rank_to,gap_score,gap_weighted,gap_weight_basis,gap_complete,ags,name"
    )
    assert 30 <= len(lines) - 1 <= 45  # Thuringian towns with >= 10,000 inhabitants
    assert client.get("/api/coverage/municipalities?land=99").status_code == 400


def test_office_hours_endpoint(client: FlaskClient) -> None:
    doc = json.loads(client.get("/api/office-hours?city=Jena").data)
    assert doc["timezone"] == "Europe/Berlin"
    winzerla = doc["offices"]["kobb-jena-winzerla"]
    assert winzerla["open_now"] in (True, False) and winzerla["next_opening"]
    assert doc["offices"]["kobb-jena-nord"]["open_now"] is None  # no hours known


def test_embed_options_and_frame_ancestors(make_app: Callable[..., Flask]) -> None:
    app = make_app(embed_allowed_origins="https://www.jena.de")
    client = app.test_client()
    response = client.get(
        "/embed/jena?datalayers=districts,contact-offices&district=jena-winzerla"
        "&scrollWheelZoom=false&zoomControl=false&captionBar=false&lang=en"
    )
    assert response.status_code == 200
    assert "frame-ancestors 'self' https://www.jena.de" in response.headers["Content-Security-Policy"]
    html = response.get_data(as_text=True)
    assert '"scrollWheelZoom": false' in html and '"zoomControl": false' in html
    assert "graffiti-zones/items" not in html and "districts/items" in html
    assert '"jena-winzerla"' in html  # highlighted district
    assert '<html lang="en">' in html and "dsm-caption" not in html
    assert "Set-Cookie" not in response.headers
    assert client.get("/embed/jena?datalayers=bogus").status_code == 400
    assert client.get("/embed/jena?district=leipzig-zentrum").status_code == 400
    assert client.get("/embed/jena?zoomControl=maybe").status_code == 400
    assert client.get("/embed/jena?colour=red").status_code == 400


def test_snippet_for_winzerla(client: FlaskClient) -> None:
    html = client.get(
        "/embed/jena/snippet?submitted=1&layer=districts&layer=contact-offices"
        "&district=jena-winzerla&zoomControl=true&lang=de&width=100%25&height=450"
    ).get_data(as_text=True)
    snippet = re.search(r'<textarea id="snippet"[^>]*>(.*?)</textarea>', html, re.S)
    assert snippet is not None
    code = (
        snippet.group(1)
        .replace("&amp;", "&")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&#34;", '"')
        .replace("&quot;", '"')
    )
    assert code.startswith("<iframe ") and 'loading="lazy"' in code
    assert 'title="Jena: Prävention in den Ortsteilen – Jena-Winzerla"' in code
    assert 'width="100%"' in code and 'height="450"' in code
    assert "allow=" not in code  # locate control is off
    assert (
        "district=jena-winzerla" in code and "datalayers=districts,contact-offices" in code
    ) or "datalayers=districts%2Ccontact-offices" in code
    located = client.get("/embed/jena/snippet?submitted=1&locateControl=true").get_data(as_text=True)
    assert "allow=&#34;geolocation&#34;" in located or "allow=&quot;geolocation&quot;" in located


def test_data_values_are_escaped_on_map_pages(fresh_app: Flask) -> None:
    store = fresh_app.extensions["mapservice"].store
    store.replace(
        "contact-offices",
        [
            (
                {
                    "id": "evil",
                    "kind": "contact_officer_office",
                    "name": EVIL_NAME,
                    "city": "Jena",
                    "city_ags": "16053000",
                    "officers": [{"name": EVIL_FIELD, "role": EVIL_NAME}],
                    "street": EVIL_FIELD,
                    "location_precision": "address",
                    "note": EVIL_FIELD,
                    "source": EVIL_NAME,
                    "verified_on": "2026-01-01",
                },
                Point(11.58, 50.92),
            )
        ],
    )
    client = fresh_app.test_client()
    for url in ("/map/jena", "/embed/jena", "/map/jena-winzerla"):
        html = client.get(url).get_data(as_text=True)
        assert EVIL_NAME not in html and "<script>alert(1)</script>" not in html
        assert "&lt;img src=x onerror=alert(1)&gt;" in html


def test_tile_server_is_a_setting(client: FlaskClient, make_app: Callable[..., Flask]) -> None:
    from mapservice.config import ConfigError

    assert "tileLayer" not in client.get("/map/jena").get_data(as_text=True)
    app = make_app(
        tile_url="https://tiles.example.org/{z}/{x}/{y}.png",
        tile_attribution="© Beispiel-Kacheln",
        tile_max_zoom=18,
    )
    response = app.test_client().get("/map/jena")
    html = response.get_data(as_text=True)
    assert "https://tiles.example.org/{z}/{x}/{y}.png" in html
    assert "Beispiel-Kacheln" in html and '"maxZoom": 18' in html
    assert "img-src 'self' data: https://tiles.example.org" in response.headers["Content-Security-Policy"]
    with pytest.raises(ConfigError, match="tile_attribution"):
        make_app(tile_url="https://tiles.example.org/{z}/{x}/{y}.png")


def _coordinates(geometry: dict[str, object]) -> int:
    def count(value: object) -> int:
        if isinstance(value, list) and value and isinstance(value[0], (int, float)):
            return 1
        return sum(count(v) for v in value) if isinstance(value, list) else 0

    return count(geometry["coordinates"])


def test_orientation_outlines_of_the_view_simplified_for_its_zoom(client: FlaskClient) -> None:
    jena = "11.50,50.85,11.70,50.98"
    fine = client.get(f"/api/derived/outlines?layer=municipalities&zoom=14&bbox={jena}")
    assert fine.status_code == 200 and fine.mimetype == "application/geo+json"
    features = fine.get_json()["features"]
    names = {f["properties"]["name"] for f in features}
    assert {"Jena", "Bucha", "Großlöbichau"} <= names and "Zwickau" not in names
    jena_feature = next(f for f in features if f["properties"]["name"] == "Jena")
    lon, lat = jena_feature["properties"]["label"]  # where the name goes: inside the town
    assert 11.5 < lon < 11.7 and 50.85 < lat < 51.0
    coarse = client.get(f"/api/derived/outlines?layer=municipalities&zoom=8&bbox={jena}").get_json()
    coarse_jena = next(f for f in coarse["features"] if f["id"] == jena_feature["id"])
    assert _coordinates(coarse_jena["geometry"]) < _coordinates(jena_feature["geometry"]) / 3
    districts = client.get(f"/api/derived/outlines?layer=districts&zoom=13&bbox={jena}").get_json()
    assert "Winzerla" in {f["properties"]["name"] for f in districts["features"]}
    again = client.get(
        f"/api/derived/outlines?layer=municipalities&zoom=14&bbox={jena}",
        headers={"If-None-Match": fine.headers["ETag"]},
    )
    assert again.status_code == 304


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("bbox=11,50,12,51", "layer"),
        ("layer=streets&bbox=11,50,12,51", "layer"),
        ("layer=districts", "bbox"),
        ("layer=districts&bbox=12,50,11,51", "bbox"),
        ("layer=districts&bbox=11,50,12,51&zoom=x", "zoom"),
        ("layer=districts&bbox=11,50,12,51&colour=red", "colour"),
    ],
)
def test_orientation_outlines_reject_bad_parameters(client: FlaskClient, query: str, field: str) -> None:
    response = client.get(f"/api/derived/outlines?{query}")
    assert response.status_code == 400
    assert field in response.get_json()["description"]


def test_map_legend_names_every_symbol_in_the_page_language(client: FlaskClient) -> None:
    german = client.get("/map/jena").get_data(as_text=True)
    legend = german[german.index('class="dsm-legend"') : german.index('class="dsm-lists"')]
    for text in ("aufgelöst", "Rundumkamera", "Art nicht erfasst", "Gemeindegrenze", "Sichtbereich"):
        assert text in legend
    # Jena's districts are a layer of this map, drawn and named by it: no second outline.
    assert "Ortsteilgrenze" not in legend
    zwickau = client.get("/map/zwickau").get_data(as_text=True)
    assert "Ortsteilgrenze mit Namen" in zwickau[zwickau.index('class="dsm-legend"') :]
    for letter in ("F", "D", "Z", "O", "V", "K", "P", "B", "S", "G", "?"):
        assert f">{letter}</span>" in legend, letter
    english = client.get("/map/zwickau?lang=en").get_data(as_text=True)
    legend = english[english.index('class="dsm-legend"') : english.index('class="dsm-lists"')]
    assert "all-round camera" in legend and "Municipal boundary" in legend
    assert "Ortsteil" not in legend and "Kamera" not in legend
