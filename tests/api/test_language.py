"""Every page is in one language: no German on an English page, no English on a German one.

Each page is rendered in both languages with the test client. Its visible text, and its
``aria-label``, ``title``, ``alt`` and ``placeholder`` values, are searched for the strings of
the other language's text catalog (the dicts of ``mapservice.i18n``). Left out of the search:
scripts, styles and ``<code>``; whatever is marked with the other language's ``lang``
attribute (a German attribution on an English page is fine when it says so, WCAG 3.1.2); and
names and addresses from the data, which are the same in both languages.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from language_check import LANGS, OWN, catalogs, foreign, visible_text

from mapservice import create_app

REPO = Path(__file__).resolve().parents[2]
MAPS = list(tomllib.loads((REPO / "layers" / "maps.toml").read_text(encoding="utf-8"))["maps"])
PAGES = (
    ["/"]
    + [f"/map/{m}" for m in MAPS]
    + [
        "/map/jena-winzerla",
        "/embed/jena",
        "/embed/jena/snippet",
        "/finder",
        "/finder?lat=50.9007&lon=11.5763",
        "/finder?address=Nowherestreet+1,+Jena",
        "/finder?lat=52.5&lon=13.4",
        "/finder?address=",
        "/planner?area=jena",
        "/planner?area=land-16",
        "/planner?area=land-14",
        # Error pages: a page's error is a page in its language.
        "/planner?area=16",
        "/planner?area=jena&metric=nonsense",
        "/map/nowhere",
        "/no-such-page",
        "/api/collections/nowhere?f=html",
        "/api",
        "/api/collections",
        "/api/collections/districts",
        "/api/collections/districts/items",
        "/api/collections/districts/items/jena-winzerla",
        "/api/collections/contact-offices/items",
        "/api/collections/prevention-bodies/items/zwickau-kpr",
        "/api/conformance",
        "/api/collections/districts/queryables",
        "/api/openapi?f=html",
    ]
)


@pytest.fixture(scope="module")
def lang_client(shared_gpkg: Any) -> Iterator[FlaskClient]:
    app: Flask = create_app(shared_gpkg.settings())
    yield app.test_client()


def test_every_catalog_has_the_same_keys_in_both_languages() -> None:
    def keys(value: Any, prefix: str = "") -> set[str]:
        if not isinstance(value, dict):
            return {prefix}
        return {k for key, v in value.items() for k in keys(v, f"{prefix}/{key}")}

    for catalog in catalogs():
        assert keys(catalog["de"]) == keys(catalog["en"])


def test_catalog_strings_of_each_language_are_found() -> None:
    """The search itself works: the English and German words of the catalog are told apart."""
    assert "Close popup" in OWN["en"] and "Popup schließen" in OWN["de"]
    assert foreign("Karte überspringen – Skip the map", "de") == ["Skip the map"]
    assert foreign('<p lang="en">Skip the map</p>', "de") == ["Skip the map"]
    assert foreign(visible_text('<p lang="en">Skip the map</p>', "en"), "de") == []


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("path", PAGES)
def test_page_has_no_text_of_the_other_language(lang_client: FlaskClient, path: str, lang: str) -> None:
    url = f"{path}{'&' if '?' in path else '?'}lang={lang}"
    response = lang_client.get(url, headers={"Accept": "text/html"})
    assert response.mimetype == "text/html", url
    assert response.status_code < 500, url
    html = response.get_data(as_text=True)
    assert f'<html lang="{lang}"' in html, url
    found = foreign(visible_text(html, "en" if lang == "de" else "de"), lang)
    assert found == [], f"{url}: {found}"


@pytest.mark.parametrize("path", ["/", "/finder", "/planner?area=jena", "/api", "/map/jena"])
def test_internal_links_keep_the_language(lang_client: FlaskClient, path: str) -> None:
    url = f"{path}{'&' if '?' in path else '?'}lang=en"
    html = lang_client.get(url, headers={"Accept": "text/html"}).get_data(as_text=True)
    nav = html[html.index("<nav") : html.index("</nav>")]
    links = re.findall(r'href="(/[^"#]*)"', nav)
    assert links
    for link in links:
        has_en = "lang=en" in link
        # The one link without lang=en is the one that switches to German.
        assert has_en or 'hreflang="de"' in nav[nav.index(f'href="{link}"') :][:200], link


# Shipped prose in both languages (German field, English ``<field>_en``): one sample of each.
PROSE_SAMPLES = [
    (
        "prevention-bodies",
        "zwickau-kpr",
        "events",
        "jährlicher Präventionsbericht",
        "yearly prevention report",
    ),
    (
        "prevention-bodies",
        "meerane-asskomm",
        "contact",
        "ASSKomm-Koordinatorin Tia Köhler",
        "ASSKomm coordinator",
    ),
    (
        "contact-offices",
        "kobb-jena-nord",
        "location_source",
        "keine Büroadresse",
        "no office address published",
    ),
    (
        "districts",
        "jena-winzerla",
        "households_note",
        "Näherung: private Haushalte",
        "Approximation: private",
    ),
]


@pytest.mark.parametrize(("collection", "item", "field", "german", "english"), PROSE_SAMPLES)
def test_item_page_marks_the_prose_of_the_other_language(
    lang_client: FlaskClient, collection: str, item: str, field: str, german: str, english: str
) -> None:
    """Both versions are listed; the one not in the page's language carries its ``lang``."""
    for lang, own, other in (("de", german, english), ("en", english, german)):
        url = f"/api/collections/{collection}/items/{item}?f=html&lang={lang}"
        html = lang_client.get(url).get_data(as_text=True)
        own_row = re.search(rf"<code>{field}{'' if lang == 'de' else '_en'}</code>.*?</tr>", html, re.S)
        other_row = re.search(rf"<code>{field}{'_en' if lang == 'de' else ''}</code>.*?</tr>", html, re.S)
        assert own_row and other_row, url
        own_value = re.split(r"<td[^>]*>", own_row.group(0), maxsplit=1)[1]
        other_value = re.split(r"<td[^>]*>", other_row.group(0), maxsplit=1)[1]
        assert own in own_value and "lang=" not in own_value, url
        assert other in other_value and f'<span lang="{"en" if lang == "de" else "de"}">' in other_value, url
