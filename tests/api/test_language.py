"""Every page is in one language: no German on an English page, no English on a German one.

Each page is rendered in both languages with the test client. Its visible text, and its
``aria-label``, ``title``, ``alt`` and ``placeholder`` values, are searched for the strings of
the other language's text catalog (the dicts of ``mapservice.i18n``). Left out of the search:
scripts, styles and ``<code>``; whatever is marked with the other language's ``lang``
attribute (a German attribution on an English page is fine when it says so, WCAG 3.1.2); and
names and addresses from the data, which are the same in both languages.
"""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from mapservice import create_app, i18n

REPO = Path(__file__).resolve().parents[2]
LANGS = ("de", "en")
# Proper names that read the same in both languages.
NAMES = ("District Safety Map", "OGC API – Features", "OpenStreetMap")
# The language links name each language in itself ("Deutsch" on an English page is marked).
LANGUAGE_NAMES = {"Deutsch", "English"}
# Data fields whose values are names or addresses, not prose.
NAME_FIELDS = {"name", "street", "place", "city", "kreis", "land", "partner_org", "operator", "owner"}
MIN_LEN = 6

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


def _catalogs() -> list[dict[str, Any]]:
    """Every text dict of i18n with a German and an English side, as {de: …, en: …}."""
    found: list[dict[str, Any]] = []
    for name in dir(i18n):
        obj = getattr(i18n, name)
        if not isinstance(obj, dict) or not obj:
            continue
        if set(obj) == set(LANGS):
            found.append(obj)
        elif all(isinstance(v, tuple) and len(v) == 2 for v in obj.values()):
            found.append({"de": {k: v[0] for k, v in obj.items()}, "en": {k: v[1] for k, v in obj.items()}})
        elif all(isinstance(v, dict) and set(v) == set(LANGS) for v in obj.values()):
            found.append({lang: {k: v[lang] for k, v in obj.items()} for lang in LANGS})
        elif all(isinstance(v, dict) for v in obj.values()) and all(
            all(isinstance(x, tuple) and len(x) == 2 for x in v.values()) for v in obj.values()
        ):
            found.append(
                {
                    lang: {k: {kk: x[i] for kk, x in v.items()} for k, v in obj.items()}
                    for i, lang in enumerate(LANGS)
                }
            )
    return found


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from _strings(v)
    elif isinstance(value, (tuple, list)):
        for v in value:
            yield from _strings(v)


def _pieces(text: str) -> list[str]:
    """The literal parts of a text between its {placeholders}, long enough to mean something."""
    parts = (p.strip(" .,;:()–-") for p in re.split(r"\{[^}]*\}", text))
    return [p for p in parts if len(p) >= MIN_LEN and re.search(r"[A-Za-zÄÖÜäöüß]{4}", p)]


def _codes() -> set[str]:
    """Values of closed lists as stored (``outdoor``, ``street``): machine values, no language."""
    codes = {str(code) for lang in LANGS for field in i18n.VALUES[lang].values() for code in field}
    # Collection ids ("districts", "municipalities") are names in URLs, in every language.
    return codes | {path.stem for path in (REPO / "layers").glob("*.toml")}


def _own_strings() -> dict[str, set[str]]:
    pieces = {lang: {p for c in _catalogs() for s in _strings(c[lang]) for p in _pieces(s)} for lang in LANGS}
    both = pieces["de"] & pieces["en"] | _codes() | LANGUAGE_NAMES
    return {lang: pieces[lang] - both for lang in LANGS}


OWN = _own_strings()


def _data_values() -> list[str]:
    """Names and addresses in the shipped data, longest first (so that parts go after wholes)."""
    values: set[str] = set()
    for path in (REPO / "geodata").glob("*.geojson"):
        for feature in json.loads(path.read_text(encoding="utf-8"))["features"]:
            props = feature["properties"]
            for key, value in props.items():
                if key in NAME_FIELDS and isinstance(value, str):
                    values.add(value)
            for officer in props.get("officers") or []:
                values.update(str(officer.get(k)) for k in ("name", "role") if officer.get(k))
    # Names are capitalised; a lower-case value is a word of some language, not a name.
    return sorted((v for v in values if v[:1].isupper() or v[:1].isdigit()), key=len, reverse=True)


DATA_VALUES = _data_values()
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


class _Visible(HTMLParser):
    """Visible text and accessible attribute values, without what is marked ``other``."""

    def __init__(self, other: str) -> None:
        super().__init__()
        self.other = other
        self.skipping: list[bool] = []
        self.out: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        skip = (
            any(self.skipping)
            or tag in ("script", "style", "code", "template")
            or a.get("lang", "").split("-")[0] == self.other
        )
        if not skip:
            self.out.extend(a[k] for k in ("aria-label", "title", "alt", "placeholder") if a.get(k))
        if tag not in VOID:
            self.skipping.append(skip)

    def handle_endtag(self, tag: str) -> None:
        if tag not in VOID and self.skipping:
            self.skipping.pop()

    def handle_data(self, data: str) -> None:
        if not any(self.skipping):
            self.out.append(data)


def visible_text(html: str, other: str) -> str:
    parser = _Visible(other)
    parser.feed(html)
    text = re.sub(r"\s+", " ", " ".join(parser.out))
    for value in (*NAMES, *DATA_VALUES):
        text = text.replace(value, " ")
    return text


def _finder(strings: set[str]) -> re.Pattern[str]:
    """One pattern for all ``strings`` as whole words, longest first."""
    words = "|".join(re.escape(s) for s in sorted(strings, key=len, reverse=True))
    return re.compile(rf"(?<![\wÄÖÜäöüß])(?:{words})(?![\wÄÖÜäöüß])")


FINDERS = {lang: _finder(OWN[lang]) for lang in LANGS}


def foreign(text: str, lang: str) -> list[str]:
    """The other language's catalog strings in ``text``."""
    return sorted(set(FINDERS["en" if lang == "de" else "de"].findall(text)))


@pytest.fixture(scope="module")
def lang_client(shared_gpkg: Any) -> Iterator[FlaskClient]:
    app: Flask = create_app(shared_gpkg.settings())
    yield app.test_client()


def test_every_catalog_has_the_same_keys_in_both_languages() -> None:
    def keys(value: Any, prefix: str = "") -> set[str]:
        if not isinstance(value, dict):
            return {prefix}
        return {k for key, v in value.items() for k in keys(v, f"{prefix}/{key}")}

    for catalog in _catalogs():
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
        own_value = own_row.group(0).split("<td>", 1)[1]
        other_value = other_row.group(0).split("<td>", 1)[1]
        assert own in own_value and "lang=" not in own_value, url
        assert other in other_value and f'<span lang="{"en" if lang == "de" else "de"}">' in other_value, url
