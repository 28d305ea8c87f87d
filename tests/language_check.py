"""Finding text of the wrong language on a page (tests/api/test_language.py and the browser
tests): the strings of each language's catalog (the dicts of ``mapservice.i18n``), looked for in
a page's visible text and its ``aria-label``, ``title``, ``alt`` and ``placeholder`` values.

Left out of the search: scripts, styles and ``<code>``; whatever is marked with the other
language's ``lang`` attribute (a German attribution on an English page is fine when it says
so, WCAG 3.1.2); and names and addresses from the data, which are the same in both languages.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from mapservice import i18n

REPO = Path(__file__).resolve().parents[1]
LANGS = ("de", "en")
# Proper names that read the same in both languages.
NAMES = ("District Safety Map", "OGC API – Features", "OpenStreetMap")
# The language links name each language in itself ("Deutsch" on an English page is marked).
LANGUAGE_NAMES = {"Deutsch", "English"}
# Data fields whose values are names or addresses, not prose.
NAME_FIELDS = {"name", "street", "place", "city", "kreis", "land", "partner_org", "operator", "owner"}
MIN_LEN = 6


def catalogs() -> list[dict[str, Any]]:
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
    pieces = {lang: {p for c in catalogs() for s in _strings(c[lang]) for p in _pieces(s)} for lang in LANGS}
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
    # OpenStreetMap keys ("camera:type") are identifiers, the same in every language.
    return re.sub(r"\b[a-z_]+:[a-z_]+\b", " ", text)


def _finder(strings: set[str]) -> re.Pattern[str]:
    """One pattern for all ``strings`` as whole words, longest first."""
    words = "|".join(re.escape(s) for s in sorted(strings, key=len, reverse=True))
    return re.compile(rf"(?<![\wÄÖÜäöüß])(?:{words})(?![\wÄÖÜäöüß])")


FINDERS = {lang: _finder(OWN[lang]) for lang in LANGS}


def foreign(text: str, lang: str) -> list[str]:
    """The other language's catalog strings in ``text``."""
    return sorted(set(FINDERS["en" if lang == "de" else "de"].findall(text)))
