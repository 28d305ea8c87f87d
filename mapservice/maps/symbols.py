"""Every symbol a map can draw, in one place: the map script draws with it, the legend lists it.

Before, the colours and letters lived twice (in ``dsm-map.js`` and in the legend template) and
drifted apart: cameras of type "panning" and "panorama" got "S" and "P", the letters of the
prevention office and the police station, and the legend left out whole classes ("dissolved",
the unknown office kind, the field of view). Now the script receives :func:`symbols_config`
and the legend is :func:`legend`, both from the tables below, and a test checks that every
value of the catalog's closed lists has its symbol and that no letter means two things.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from ..i18n import LEGEND_TEXT, VALUES, texts

# Offices: a round marker with a letter. Contact officers with and without an office share
# one symbol on purpose: for a citizen both are "my contact officer".
OFFICE_SYMBOLS: dict[str, tuple[str, str]] = {
    "contact_officer_office": ("K", "#0b4f9c"),
    "contact_officer": ("K", "#0b4f9c"),
    "police_station": ("P", "#1b5e20"),
    "citizens_consultation": ("B", "#6a1b9a"),
    "prevention_office": ("S", "#b35c00"),
}
OFFICE_UNKNOWN = ("?", "#555555")  # a kind the catalog does not know (should not happen)

# Cameras: a square marker (so they never read as an office) with the camera type's letter.
# Z for pan-tilt-zoom and O for the all-round view read the same in German and English.
CAMERA_LETTERS: dict[str, str] = {"fixed": "F", "dome": "D", "panning": "Z", "panorama": "O"}
CAMERA_UNKNOWN_LETTER = "V"  # camera type not recorded
CAMERA_COLOURS: dict[str, str] = {"public": "#c62828", "outdoor": "#ef6c00", "indoor": "#6a1b9a"}

GRAFFITI_LETTER = "G"
GRAFFITI_COLOURS: dict[str, str] = {
    "active": "#1a9850",
    "planned": "#4575b4",
    "suspended": "#f46d43",
    "closed": "#878787",
}
# SVG dash patterns of a zone's outline by its legal status (None: solid).
GRAFFITI_DASH: dict[str, str | None] = {"legal": None, "permission_required": "8 6", "tolerated": "2 6"}

PREVENTION_COLOURS: dict[str, str] = {
    "active": "#1a9850",
    "planned": "#74add1",
    "dormant": "#fee08b",
    "unclear": "#fdae61",
    "dissolved": "#d73027",
    "none": "#a50026",
    "none_known": "#bdbdbd",
}


# Orientation outlines drawn under every map (see static/js/dsm-context.js).
@dataclass(frozen=True)
class LineStyle:
    color: str
    weight: float
    dash: str | None


CONTEXT_STYLE = {
    "municipality": LineStyle("#5f6b73", 1.6, None),
    "district": LineStyle("#7d8a93", 1.0, "4 3"),
}
DISTRICT_STYLE = {"color": "#37474f", "focus": "#0b4f9c"}
FINDER_POINT_COLOUR = "#c62828"


def symbols_config() -> dict[str, Any]:
    """The tables as the map scripts read them (serialized into the page)."""
    return {
        "office": {k: {"letter": v[0], "colour": v[1]} for k, v in OFFICE_SYMBOLS.items()},
        "officeUnknown": {"letter": OFFICE_UNKNOWN[0], "colour": OFFICE_UNKNOWN[1]},
        "cameraLetter": CAMERA_LETTERS,
        "cameraUnknownLetter": CAMERA_UNKNOWN_LETTER,
        "cameraColour": CAMERA_COLOURS,
        "graffitiLetter": GRAFFITI_LETTER,
        "graffitiColour": GRAFFITI_COLOURS,
        "graffitiDash": GRAFFITI_DASH,
        "prevention": PREVENTION_COLOURS,
        "context": {k: dataclasses.asdict(v) for k, v in CONTEXT_STYLE.items()},
        "district": DISTRICT_STYLE,
        "finderPoint": FINDER_POINT_COLOUR,
    }


@dataclass(frozen=True)
class LegendEntry:
    """One symbol and what it means. ``shape`` selects the drawing in the legend macro."""

    shape: str  # icon, camera, fill, hatch, line, outline, town, cluster, area, approx, point
    label: str
    colour: str = "#777777"
    letter: str = ""
    dash: str | None = None
    weight: float = 2.0


@dataclass(frozen=True)
class LegendGroup:
    title: str
    entries: tuple[LegendEntry, ...]


def _offices(lang: str) -> LegendGroup:
    kinds = VALUES[lang]["kind"]
    t = LEGEND_TEXT[lang]
    entries: list[LegendEntry] = []
    # Kinds sharing a symbol share one line: "K: Büro der … / Kontaktbereichsbeamter …".
    for letter, colour in dict.fromkeys(OFFICE_SYMBOLS.values()):
        label = " / ".join(kinds[k] for k, sym in OFFICE_SYMBOLS.items() if sym == (letter, colour))
        entries.append(LegendEntry("icon", label, colour, letter))
    entries.append(LegendEntry("approx", t["approximate"], "#777777", "K"))
    entries.append(LegendEntry("icon", t["office_unknown_kind"], OFFICE_UNKNOWN[1], OFFICE_UNKNOWN[0]))
    entries.append(LegendEntry("spread", t["spread"], "#333333"))
    return LegendGroup(texts(lang)["contact-offices"], tuple(entries))


def _cameras(lang: str) -> LegendGroup:
    t = LEGEND_TEXT[lang]
    types = VALUES[lang]["camera_type"]
    where = VALUES[lang]["surveillance"]
    entries = [LegendEntry("camera", types[k], "#555555", letter) for k, letter in CAMERA_LETTERS.items()]
    entries.append(LegendEntry("camera", t["camera_unknown_type"], "#555555", CAMERA_UNKNOWN_LETTER))
    entries += [
        LegendEntry("fill", f"{t['colour']}: {where[k]}", colour) for k, colour in CAMERA_COLOURS.items()
    ]
    entries.append(LegendEntry("area", t["field_of_view"], CAMERA_COLOURS["public"]))
    entries.append(LegendEntry("cluster", t["cluster"], "#6ecc39"))
    return LegendGroup(texts(lang)["video-surveillance"], tuple(entries))


def _graffiti(lang: str) -> LegendGroup:
    t = LEGEND_TEXT[lang]
    status = VALUES[lang]["status"]
    legal = VALUES[lang]["legal_status"]
    entries = [
        LegendEntry("icon", f"{t['graffiti_point']}: {status[k]}", colour, GRAFFITI_LETTER)
        for k, colour in GRAFFITI_COLOURS.items()
    ]
    entries += [
        LegendEntry("line", f"{t['graffiti_outline']}: {legal[k]}", "#333333", dash=dash, weight=3)
        for k, dash in GRAFFITI_DASH.items()
    ]
    return LegendGroup(texts(lang)["graffiti-zones"], tuple(entries))


def _coverage(lang: str) -> LegendGroup:
    t = LEGEND_TEXT[lang]
    status = VALUES[lang]["prevention_status"]
    entries = [
        LegendEntry("hatch" if k == "none_known" else "fill", status[k], colour)
        for k, colour in PREVENTION_COLOURS.items()
    ]
    entries.append(LegendEntry("town", t["large_town"], "#111111"))
    return LegendGroup(texts(lang)["prevention-coverage"], tuple(entries))


def _districts(lang: str) -> LegendGroup:
    t = LEGEND_TEXT[lang]
    return LegendGroup(
        texts(lang)["districts"],
        (
            LegendEntry("outline", t["district"], DISTRICT_STYLE["color"], weight=1.5),
            LegendEntry("outline", t["district_focus"], DISTRICT_STYLE["focus"], weight=4),
        ),
    )


def context_group(lang: str, show: dict[str, str] | None = None) -> LegendGroup:
    """The orientation outlines a map draws (``show`` as for :func:`context_options`): the
    lines it draws itself; where its data are the outlines, their names only."""
    t = LEGEND_TEXT[lang]
    show = show or {}
    entries = []
    for layer, style_key, label in (
        ("municipalities", "municipality", "municipality_outline"),
        ("districts", "district", "district_outline"),
    ):
        mode = show.get(layer, "all")
        style = CONTEXT_STYLE[style_key]
        if mode == "all":
            entries.append(LegendEntry("line", t[label], style.color, dash=style.dash, weight=style.weight))
        elif mode == "names":
            entries.append(LegendEntry("name", t[f"{style_key}_name"], style.color))
    return LegendGroup(t["orientation"], tuple(entries))


_GROUPS = {
    "prevention-coverage": _coverage,
    "districts": _districts,
    "graffiti-zones": _graffiti,
    "video-surveillance": _cameras,
    "contact-offices": _offices,
}


def legend(layers: list[str], lang: str, show: dict[str, str] | None = None) -> list[LegendGroup]:
    """The legend of a map showing ``layers``: one group per layer, then the orientation
    outlines it draws (``show``, see :func:`context_options`)."""
    groups = [_GROUPS[layer](lang) for layer in layers if layer in _GROUPS]
    context = context_group(lang, show)
    return groups + ([context] if context.entries else [])


def finder_legend(lang: str) -> list[LegendGroup]:
    """The finder map's legend: the chosen point, the offices and the orientation lines."""
    t = LEGEND_TEXT[lang]
    point = LegendGroup(t["finder"], (LegendEntry("point", t["your_point"], FINDER_POINT_COLOUR),))
    offices = _offices(lang)
    return [point, offices, context_group(lang)]


def context_options(api_base: str, show: dict[str, str]) -> dict[str, Any]:
    """What ``DSM.context`` needs: where the outlines come from, their styles, and per layer
    whether to draw "all", only the "names" (the map draws the outlines as data) or "none"."""
    return {"api": api_base, "styles": symbols_config()["context"], "show": show}
