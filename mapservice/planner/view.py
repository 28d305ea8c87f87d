"""What the planner page shows of the coverage rows: metrics, classes, colours, bars, order.

Pure functions over the rows :class:`mapservice.planner.service.Planning` returns, so the map, the
table and the bar chart cannot disagree: all three take their classes and colours from here.
Unknown values never fall into a class: they are drawn hatched and labelled "unbekannt".
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..i18n import CATEGORY_TEXT, LEGEND_RANGE, METRIC_TEXT, UNIT_SINGULAR
from .gaps import fmt_int

# ColorBrewer YlOrRd (5 classes, colour-blind safe): dark red is always "worse".
WORSE = ("#ffffb2", "#fecc5c", "#fd8d3c", "#f03b20", "#bd0026")
# ColorBrewer Blues for measures that are neither good nor bad (households, population).
NEUTRAL = ("#eff3ff", "#bdd7e7", "#6baed6", "#3182bd", "#08519c")
HATCH = "url(#dsm-hatch)"
UNKNOWN_COLOUR = "#bdbdbd"
MAX_BARS = 40


@dataclass(frozen=True)
class Metric:
    """One choosable metric: labels and units in both languages, and how it is coloured."""

    id: str
    de: str
    en: str
    unit_de: str
    unit_en: str
    kind: str  # number | share | category
    worse: str = "high"  # high | low | none: which end is coloured dark red
    categories: tuple[tuple[Any, str, str, str], ...] = ()  # value, colour, de, en
    scale: float = 1.0  # share → percent
    short_de: str = ""  # column header; the full label is its accessible name
    short_en: str = ""

    def label(self, lang: str) -> str:
        return self.de if lang == "de" else self.en

    def short(self, lang: str) -> str:
        return (self.short_de if lang == "de" else self.short_en) or self.label(lang)

    def unit(self, lang: str) -> str:
        return self.unit_de if lang == "de" else self.unit_en


def _categories(metric_id: str, colours: Sequence[tuple[Any, str]]) -> tuple[tuple[Any, str, str, str], ...]:
    """(value, colour, German label, English label) of each value, the labels from i18n.py."""
    text = CATEGORY_TEXT[metric_id]
    return tuple((value, colour, *text[value]) for value, colour in colours)


def _metric(
    metric_id: str,
    kind: str,
    worse: str = "high",
    categories: tuple[tuple[Any, str, str, str], ...] = (),
    scale: float = 1.0,
) -> Metric:
    """A metric with its label, unit and column header in both languages from i18n.py."""
    (de, unit_de, short_de), (en, unit_en, short_en) = (METRIC_TEXT[metric_id][lang] for lang in ("de", "en"))
    return Metric(metric_id, de, en, unit_de, unit_en, kind, worse, categories, scale, short_de, short_en)


PREVENTION = _categories(
    "prevention_status",
    (
        ("active", "#1a9850"),
        ("planned", "#74add1"),
        ("dormant", "#fee08b"),
        ("unclear", "#fdae61"),
        ("dissolved", "#d73027"),
        ("none", "#a50026"),
        ("none_known", "#969696"),
    ),
)
OFFICER = _categories(
    "officer_recorded",
    (
        ("yes", "#1a9850"),
        ("no", "#d73027"),
        ("unknown", HATCH),
    ),
)
STAGE = _categories(
    "asskomm_stage",
    (
        ("agreement", "#1a9850"),
        ("pre_agreement", "#91cf60"),
        ("participant", "#d9ef8b"),
        ("contacted", "#fee08b"),
        (None, "#969696"),
    ),
)
LARGE = _categories(
    "large_town",
    (
        (True, "#3182bd"),
        (False, "#eff3ff"),
        (None, HATCH),
    ),
)

SURVEY = _categories(
    "survey_status",
    (
        ("answered", "#1a9641"),
        ("asked", "#fdae61"),
        ("no_answer", "#d7191c"),
        (None, "#f0f0f0"),
    ),
)

GAP = _metric("gap_score", "number")
BODY = _metric("prevention_status", "category", categories=PREVENTION)
DISTRICT_METRICS = (
    GAP,
    _metric("distance_mean_m", "number"),
    _metric("distance_max_m", "number"),
    _metric("walk_share", "share", worse="low", scale=100),
    _metric("households_per_officer", "number"),
    _metric("officers", "number", worse="low"),
    _metric("officer_recorded", "category", categories=OFFICER),
    _metric("households", "number", worse="none"),
    _metric("graffiti_zones", "number", worse="low"),
    _metric("graffiti_area_m2", "number", worse="low"),
    _metric("cameras_active", "number", worse="none"),
    _metric("camera_fov_share", "share", worse="none", scale=100),
    BODY,
)
MUNICIPALITY_METRICS = (
    GAP,
    BODY,
    _metric("population", "number", worse="none"),
    _metric("large_town", "category", categories=LARGE),
    _metric("asskomm_stage", "category", categories=STAGE),
    _metric("survey_status", "category", worse="none", categories=SURVEY),
)


def metric(metrics: Sequence[Metric], wanted: str | None) -> Metric | None:
    if wanted is None:
        return metrics[0]
    return next((m for m in metrics if m.id == wanted), None)


@dataclass(frozen=True)
class Class:
    """One legend entry: values up to ``upper`` (numbers) or equal to ``value`` (categories)."""

    colour: str
    de: str
    en: str
    upper: float | None = None
    value: Any = None
    count: int = 0

    def label(self, lang: str) -> str:
        return self.de if lang == "de" else self.en


def _nice(value: float) -> float:
    """Round a class edge to two significant digits (1936 → 1900, 0.347 → 0.35)."""
    if value == 0:
        return 0.0
    digits = 1 - math.floor(math.log10(abs(value)))
    return round(value, digits)


def fmt_value(m: Metric, value: Any, lang: str) -> str | None:
    """A value as the page prints it, with its unit; None when unknown."""
    if m.kind == "category":  # some categories are named for None ("no participation known")
        label = next((c for c in m.categories if c[0] == value), None)
        if label is not None and label[1] != HATCH:
            return label[2] if lang == "de" else label[3]
        return None if value is None or label is not None else str(value)
    if value is None:
        return None
    number = float(value) * m.scale
    if m.kind == "share":
        return f"{round(number)} %"
    if number != int(number) and abs(number) < 100:
        text = f"{number:.2f}".rstrip("0").rstrip(".")
        text = text.replace(".", ",") if lang == "de" else text
    else:
        text = fmt_int(number, lang)
    unit = m.unit(lang)
    if number == 1 and m.id in UNIT_SINGULAR:
        unit = UNIT_SINGULAR[m.id][0 if lang == "de" else 1]
    return f"{text} {unit}".strip()


def _without_unit(m: Metric, text: str | None, lang: str) -> str | None:
    unit = "%" if m.kind == "share" else m.unit(lang)
    if text is not None and unit and text.endswith(f" {unit}"):
        return text[: -len(unit) - 1]
    return text


def fmt_cell(m: Metric, value: Any, lang: str) -> str | None:
    """A value for a table cell: like :func:`fmt_value`, the unit left to the column header."""
    text = fmt_value(m, value, lang)
    unit = m.unit(lang)
    if text is not None and m.kind == "number" and unit and text.endswith(" " + unit):
        return text[: -len(unit) - 1]
    return text


def classes(m: Metric, rows: Sequence[Mapping[str, Any]]) -> list[Class]:
    """Legend classes of a metric over the rows: categories as they are, numbers in up to five
    classes at the quantiles of the known values (fixed fifths for shares)."""
    if m.kind == "category":
        return [
            Class(colour, de, en, value=value, count=sum(1 for r in rows if r.get(m.id) == value))
            for value, colour, de, en in m.categories
        ]
    values = sorted(float(r[m.id]) for r in rows if r.get(m.id) is not None)
    if not values:
        return []
    if m.kind == "share":
        uppers = [0.2, 0.4, 0.6, 0.8, 1.0]
    else:
        uppers = sorted(
            {
                _nice(values[min(len(values) - 1, math.ceil(len(values) * q) - 1)])
                for q in (0.2, 0.4, 0.6, 0.8)
            }
            | {values[-1]}
        )
        uppers = [u for u in uppers if u >= values[0]] or [values[-1]]
        uppers[-1] = max(uppers[-1], values[-1])
    palette = NEUTRAL if m.worse == "none" else WORSE
    step = (len(palette) - 1) / max(1, len(uppers) - 1)
    colours = [palette[round(i * step)] for i in range(len(uppers))]
    if m.worse == "low":
        colours.reverse()
    counts = [0] * len(uppers)
    for v in values:
        counts[next(i for i, u in enumerate(uppers) if v <= u)] += 1
    out: list[Class] = []
    lower = 0.0 if m.kind == "share" else values[0]
    for upper, colour, count in zip(uppers, colours, counts, strict=True):
        # The unit once, after the upper bound: "1 bis 2,5 Punkte", "20 bis 40 %".
        low_de, up_de = _without_unit(m, fmt_value(m, lower, "de"), "de"), fmt_value(m, upper, "de")
        low_en, up_en = _without_unit(m, fmt_value(m, lower, "en"), "en"), fmt_value(m, upper, "en")
        if lower == upper:
            de, en = str(up_de), str(up_en)
        else:
            which = 0 if not out else 1
            de = LEGEND_RANGE["de"][which].format(low=low_de, up=up_de)
            en = LEGEND_RANGE["en"][which].format(low=low_en, up=up_en)
        out.append(Class(colour, de, en, upper=upper, count=count))
        lower = upper
    return out


def colour_of(m: Metric, value: Any, legend: Sequence[Class]) -> str:
    """The fill of a value: its class colour, or the hatch when unknown."""
    if m.kind == "category":
        return next((c.colour for c in legend if c.value == value), HATCH)
    if value is None:
        return HATCH
    for c in legend:
        if c.upper is not None and float(value) <= c.upper:
            return c.colour
    return legend[-1].colour if legend else HATCH


@dataclass(frozen=True)
class Bar:
    label: str
    text: str
    colour: str
    length: float  # 0..1 of the longest bar; unknown bars are drawn full length, hatched
    unknown: bool = False


def is_lower_bound(m: Metric, row: Mapping[str, Any]) -> bool:
    """Whether the row's value of ``m`` is only a lower bound: a gap score with unknown
    criteria (planner/gaps.py). Shown as "at least 0 points", never as a plain 0."""
    return m.id == "gap_score" and row.get(m.id) is not None and row.get("gap_complete") is False


def bars(
    m: Metric,
    rows: Sequence[Mapping[str, Any]],
    legend: Sequence[Class],
    lang: str,
    unknown_text: str,
    at_least: str = "",
) -> tuple[list[Bar], int]:
    """The bar chart: per category a count, else per row its value (worst first); a lower
    bound (:func:`is_lower_bound`) says so with ``at_least``.

    Returns the bars and how many rows were left out (at most ``MAX_BARS`` rows are drawn;
    the table beside it has them all).
    """
    if m.kind == "category":
        biggest = max((c.count for c in legend), default=0) or 1
        return [Bar(c.label(lang), str(c.count), c.colour, c.count / biggest) for c in legend], 0
    known = [r for r in rows if r.get(m.id) is not None]
    known.sort(key=lambda r: float(r[m.id]), reverse=m.worse != "low")
    unknown = [r for r in rows if r.get(m.id) is None]
    most = max((float(r[m.id]) for r in known), default=0.0) or 1.0
    out = [
        Bar(
            str(r.get("name")),
            (f"{at_least} " if at_least and is_lower_bound(m, r) else "")
            + (fmt_value(m, r[m.id], lang) or ""),
            colour_of(m, r[m.id], legend),
            float(r[m.id]) / most,
        )
        for r in known
    ]
    out += [Bar(str(r.get("name")), unknown_text, HATCH, 1.0, unknown=True) for r in unknown]
    return out[:MAX_BARS], max(0, len(out) - MAX_BARS)


def sort_rows(rows: Sequence[Mapping[str, Any]], column: str, descending: bool) -> list[Mapping[str, Any]]:
    """Rows by one column; unknown values always last, whichever the direction."""

    def key(row: Mapping[str, Any]) -> Any:
        value = row.get(column)
        if isinstance(value, bool):
            value = int(value)
        if isinstance(value, (list, tuple)):
            value = len(value)
        return value

    known = [r for r in rows if key(r) is not None]
    unknown = [r for r in rows if key(r) is None]
    if known and isinstance(key(known[0]), str):
        known.sort(key=lambda r: str(key(r)).casefold(), reverse=descending)
    else:
        known.sort(key=lambda r: float(key(r)), reverse=descending)
    return known + unknown
