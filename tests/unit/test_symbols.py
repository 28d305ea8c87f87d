"""Every symbol a map can draw has a legend entry, and no letter means two things."""

from __future__ import annotations

from mapservice.catalog.layers import load_catalog
from mapservice.i18n import VALUES
from mapservice.maps import symbols
from mapservice.resources import resource_dir

CATALOG = load_catalog(resource_dir("layers"))


def _values(layer: str, field: str) -> set[str]:
    return set(CATALOG[layer].fields[field].values or ())


def test_every_catalog_value_has_its_symbol() -> None:
    assert _values("contact-offices", "kind") == set(symbols.OFFICE_SYMBOLS)
    assert _values("video-surveillance", "camera_type") == set(symbols.CAMERA_LETTERS)
    assert _values("video-surveillance", "surveillance") == set(symbols.CAMERA_COLOURS)
    assert _values("graffiti-zones", "status") == set(symbols.GRAFFITI_COLOURS)
    assert _values("graffiti-zones", "legal_status") == set(symbols.GRAFFITI_DASH)
    assert set(VALUES["de"]["prevention_status"]) == set(symbols.PREVENTION_COLOURS)


def test_a_letter_means_one_thing_across_all_layers() -> None:
    office_letters = {letter for letter, _ in symbols.OFFICE_SYMBOLS.values()} | {symbols.OFFICE_UNKNOWN[0]}
    camera_letters = [*symbols.CAMERA_LETTERS.values(), symbols.CAMERA_UNKNOWN_LETTER]
    assert len(camera_letters) == len(set(camera_letters))
    assert not office_letters & set(camera_letters)
    assert symbols.GRAFFITI_LETTER not in office_letters | set(camera_letters)
    # Offices sharing a letter share its colour: two kinds of contact officer, one symbol.
    by_letter: dict[str, set[str]] = {}
    for letter, colour in symbols.OFFICE_SYMBOLS.values():
        by_letter.setdefault(letter, set()).add(colour)
    assert all(len(colours) == 1 for colours in by_letter.values())


def _entries(layers: list[str], lang: str) -> list[symbols.LegendEntry]:
    return [e for g in symbols.legend(layers, lang) for e in g.entries]


def test_the_legend_lists_every_symbol_of_the_layers_shown() -> None:
    layers = ["prevention-coverage", "districts", "graffiti-zones", "video-surveillance", "contact-offices"]
    for lang in ("de", "en"):
        entries = _entries(layers, lang)
        icons = {(e.letter, e.colour) for e in entries if e.shape == "icon"}
        assert set(symbols.OFFICE_SYMBOLS.values()) <= icons
        assert symbols.OFFICE_UNKNOWN in icons
        assert {(symbols.GRAFFITI_LETTER, c) for c in symbols.GRAFFITI_COLOURS.values()} <= icons
        cameras = {e.letter for e in entries if e.shape == "camera"}
        assert cameras == {*symbols.CAMERA_LETTERS.values(), symbols.CAMERA_UNKNOWN_LETTER}
        fills = {e.colour for e in entries if e.shape in ("fill", "hatch")}
        assert set(symbols.PREVENTION_COLOURS.values()) <= fills
        assert set(symbols.CAMERA_COLOURS.values()) <= fills
        dashes = {e.dash for e in entries if e.shape == "line"}
        assert set(symbols.GRAFFITI_DASH.values()) <= dashes
        shapes = {e.shape for e in entries}
        assert {"approx", "area", "cluster", "town", "outline", "spread"} <= shapes
        # The orientation outlines are on every map, so in every legend.
        assert symbols.legend([], lang)[-1].title == ("Orientierung" if lang == "de" else "Orientation")


def test_a_legend_lists_only_the_layers_shown_in_the_page_language() -> None:
    entries = _entries(["contact-offices"], "en")
    assert not any(e.shape == "camera" for e in entries)
    labels = " ".join(e.label for e in entries)
    assert "Police station" in labels and "Polizei" not in labels
    german = " ".join(e.label for e in _entries(["video-surveillance"], "de"))
    assert "Kuppelkamera" in german and "camera" not in german.lower().replace("kamera", "")


def test_the_orientation_legend_lists_what_the_map_draws() -> None:
    def shapes(show: dict[str, str]) -> list[tuple[str, str]]:
        return [(e.shape, e.label) for e in symbols.context_group("en", show).entries]

    assert shapes({}) == [("line", "Municipal boundary with name"), ("line", "District boundary with name")]
    assert shapes({"districts": "none"}) == [("line", "Municipal boundary with name")]
    assert shapes({"municipalities": "names", "districts": "all"}) == [
        ("name", "Name of the municipality"),
        ("line", "District boundary with name"),
    ]
