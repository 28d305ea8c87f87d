"""A reader who follows a wrong link gets a page in their language that leads on; a program
gets the JSON error. Neither ever gets a 5xx."""

from __future__ import annotations

import re
from html import unescape

from flask.testing import FlaskClient

BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}


def _main(html: str) -> str:
    main = html.split('<main id="main">')[1].split("</main>")[0]
    return unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", main)))


def test_unknown_planner_area_is_a_page_that_links_to_the_areas(client: FlaskClient) -> None:
    # "16" is Thuringia's code, but the planner's area for it is "land-16".
    german = client.get("/planner?area=16")
    assert german.status_code == 404 and german.mimetype == "text/html"
    text = _main(german.get_data(as_text=True))
    assert "Nicht gefunden" in text and "Für „16“ sind keine Daten gespeichert" in text
    assert "Thüringen: Gemeinden" in text and "Jena (30 Ortsteile)" in text
    assert 'href="/planner?area=land-16"' in german.get_data(as_text=True)

    english = client.get("/planner?area=16&lang=en")
    html = english.get_data(as_text=True)
    assert english.status_code == 404 and '<html lang="en"' in html
    text = _main(html)
    assert "No data is stored for '16'" in text and "Thuringia: municipalities" in text
    # The links lead on in the reader's language.
    assert 'href="/planner?area=land-16&amp;lang=en"' in html
    assert "Content-Security-Policy" in english.headers and english.headers["Cache-Control"] == "no-store"


def test_bad_parameter_on_a_page_names_it_in_the_page_language(client: FlaskClient) -> None:
    response = client.get("/planner?area=jena&metric=nonsense&lang=en")
    assert response.status_code == 400 and response.mimetype == "text/html"
    assert "The value given for 'metric' is not valid." in _main(response.get_data(as_text=True))
    unknown = client.get("/planner?colour=red")
    assert unknown.status_code == 400
    assert "Diese Angabe kennt die Seite nicht: colour." in _main(unknown.get_data(as_text=True))


def test_unknown_map_lists_the_maps(client: FlaskClient) -> None:
    response = client.get("/map/nowhere?lang=en")
    assert response.status_code == 404 and response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    assert "There is no map 'nowhere'." in _main(html)
    assert 'href="/map/jena?lang=en"' in html


def test_programs_keep_the_json_error(client: FlaskClient) -> None:
    for url in ("/no-such-page", "/api/collections/nowhere", "/api/collections/districts/items/nope"):
        response = client.get(url)
        assert response.status_code == 404 and response.mimetype == "application/json", url
        assert response.get_json()["code"] == "NotFound"
    # The same addresses followed in a browser, or asked for as HTML, are pages.
    assert client.get("/no-such-page", headers=BROWSER).mimetype == "text/html"
    page = client.get("/api/collections/nowhere?f=html")
    assert page.status_code == 404 and page.mimetype == "text/html"
    assert "Eine Sammlung „nowhere“ gibt es nicht" in _main(page.get_data(as_text=True))
    assert client.get("/api/collections/nowhere", headers={"Accept": "application/json"}).is_json


def test_a_failure_on_a_page_is_a_page_without_internals(client: FlaskClient, monkeypatch: object) -> None:
    import mapservice.planner.routes as planner_routes

    def broken(*args: object, **kwargs: object) -> object:
        raise RuntimeError("secret internal detail")

    monkeypatch.setattr(planner_routes, "build_choropleth", broken)  # type: ignore[attr-defined]
    response = client.get("/planner?area=jena&metric=officers&lang=en")
    html = response.get_data(as_text=True)
    assert response.status_code == 500 and response.mimetype == "text/html"
    assert "The service could not answer this request." in _main(html)
    assert "secret" not in html and "Traceback" not in html
