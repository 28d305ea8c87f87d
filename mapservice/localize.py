"""Numbers, distances, dates and opening hours as people read them, per page language.

Babel gives the separators and month names of each language ("64,2 km" / "64.2 km",
"1.205" / "1,205"); the opening hours are the OpenStreetMap ``opening_hours`` value
rewritten in words: "Mo 10–12 Uhr, Do 15–17 Uhr" / "Mon 10:00–12:00, Thu 15:00–17:00".
A value the simple rule grammar below does not cover is shown as it is, with its day names
translated, rather than guessed at.
"""

from __future__ import annotations

import datetime as dt
import re

from babel.dates import format_date, format_datetime
from babel.numbers import (
    format_compact_currency,
    format_compact_decimal,
    format_currency,
    format_decimal,
    get_currency_symbol,
)

from .i18n import SOURCE_TEXT, TEXT, figure_text, pick_lang

LOCALES = {"de": "de_DE", "en": "en"}
DATE_PATTERN = {"de": "dd.MM.yyyy", "en": "d MMM yyyy"}
OSM_DAYS = ("Mo", "Tu", "We", "Th", "Fr", "Sa", "Su")
_DAY = r"(?:Mo|Tu|We|Th|Fr|Sa|Su|PH)"
_DAYS = re.compile(rf"^{_DAY}(?:-{_DAY})?(?:,{_DAY}(?:-{_DAY})?)*$")
_SPAN = re.compile(r"^([01]\d|2[0-4]):([0-5]\d)-([01]\d|2[0-4]):([0-5]\d)$")


def locale(lang: str) -> str:
    return LOCALES[pick_lang(lang)]


def number(value: float | int, lang: str, digits: int | None = None) -> str:
    """``value`` with the language's separators; ``digits`` fixes the decimals."""
    fmt = None if digits is None else "#,##0" + ("." + "0" * digits if digits else "")
    return format_decimal(value, format=fmt, locale=locale(lang))


def amount(value: float | int, lang: str, currency: str = "EUR") -> str:
    """A sum of money as a council reads it: "1,1 Mio. €" / "€1.1 million"; below a million
    in full units: "950 €" / "€950"."""
    lang = pick_lang(lang)
    if abs(value) < 1_000_000:
        pattern = "¤#,##0" if lang == "en" else "#,##0\u00a0¤"
        return format_currency(value, currency, format=pattern, currency_digits=False, locale=locale(lang))
    if lang == "en":  # CLDR's short English form is "€1.1M"; a report spells it out
        words = format_compact_decimal(value, format_type="long", locale=locale(lang), fraction_digits=1)
        return f"{get_currency_symbol(currency, locale=locale(lang))}{words}"
    return format_compact_currency(value, currency, locale=locale(lang), fraction_digits=1)


# A programme figure measured in money names its currency at the end: "… in 2023 (EUR)".
_CURRENCY_SUFFIX = re.compile(r"\s*\((EUR)\)$")
_ABOUT = re.compile(r"^about (\d+)$")


def figure_label(figure: str, lang: str) -> str:
    """The name of a programme figure in ``lang``, without its currency (the value shows it)."""
    return _CURRENCY_SUFFIX.sub("", figure_text(figure, lang))


def figure_value(figure: str, value: str, lang: str) -> str:
    """A programme figure's value as written in the figures file, per language: whole numbers
    with the language's separators, sums of money as amounts ("1,1 Mio. €"), "about 150" as
    "etwa 150", and words ("about one third") translated."""
    lang = pick_lang(lang)
    text = value.strip()
    if re.fullmatch(r"-?\d+", text):
        currency = _CURRENCY_SUFFIX.search(figure)
        if currency:
            return amount(int(text), lang, currency.group(1))
        return number(int(text), lang)
    about = _ABOUT.match(text)
    if about:
        return f"{SOURCE_TEXT[lang]['about']} {number(int(about.group(1)), lang)}"
    return figure_text(text, lang)


def distance(metres: float, lang: str) -> str:
    """Metres below a kilometre, else kilometres with one decimal: "850 m", "64,2 km"."""
    if metres < 1000:
        return f"{number(round(metres), lang)} m"
    return f"{number(metres / 1000, lang, 1)} km"


def date(value: dt.date | str, lang: str) -> str:
    """30.01.2026 / 30 Jan 2026. An ISO string may be a month ("Jan. 2026") or a year; any
    other string is shown as it is."""
    lang = pick_lang(lang)
    if isinstance(value, str):
        if re.fullmatch(r"\d{4}-\d{2}", value):
            month = dt.date.fromisoformat(value + "-01")
            return format_date(month, "MMM yyyy", locale=locale(lang))
        try:
            day = dt.date.fromisoformat(value[:10])
        except ValueError:
            return value
    else:
        day = value
    return format_date(day, DATE_PATTERN[lang], locale=locale(lang))


def datetime(value: dt.datetime | str, lang: str) -> str:
    """30.01.2026, 10:00 / 30 Jan 2026, 10:00 (the wall time as given)."""
    moment = dt.datetime.fromisoformat(value) if isinstance(value, str) else value
    lang = pick_lang(lang)
    return format_datetime(moment, DATE_PATTERN[lang] + ", HH:mm", locale=locale(lang))


def _clock(hour: int, minute: int, lang: str) -> str:
    # German writes full hours short ("10–12 Uhr"); English keeps the 24-hour clock.
    if lang == "de":
        return str(hour) if minute == 0 else f"{hour}:{minute:02d}"
    return f"{hour:02d}:{minute:02d}"


def _days(text: str, lang: str) -> str:
    t = TEXT[lang]
    names = {**dict(zip(OSM_DAYS, t["weekdays"].split(), strict=True)), "PH": t["holiday"]}
    return re.sub(rf"\b({_DAY})\b", lambda m: names[m.group(1)], text).replace("-", "–")


def _rule(rule: str, lang: str) -> str | None:
    """One ``days times`` rule in words, or None where it is not in the simple grammar."""
    parts = rule.split()
    if len(parts) != 2 or not _DAYS.match(parts[0]):
        return None
    days, times = parts
    t = TEXT[lang]
    if times == "off":
        return f"{_days(days, lang)} {t['hours_closed']}"
    spans = []
    for span in times.split(","):
        m = _SPAN.match(span)
        if m is None:
            return None
        h1, m1, h2, m2 = (int(x) for x in m.groups())
        spans.append(f"{_clock(h1, m1, lang)}–{_clock(h2, m2, lang)}")
    joined = f" {t['hours_and']} ".join(spans)
    return f"{_days(days, lang)} {joined}{t['hours_suffix']}"


def opening_hours(expression: str, lang: str) -> str:
    """An OpenStreetMap ``opening_hours`` value in words of ``lang``."""
    lang = pick_lang(lang)
    rules = [r.strip() for r in expression.split(";") if r.strip()]
    words = [_rule(r, lang) for r in rules]
    if rules and all(w is not None for w in words):
        return ", ".join(w for w in words if w is not None)
    return _days(expression, lang)


class Formats:
    """The functions above bound to one page language, for templates (``fmt``)."""

    def __init__(self, lang: str) -> None:
        self.lang = pick_lang(lang)

    def number(self, value: float | int, digits: int | None = None) -> str:
        return number(value, self.lang, digits)

    def distance(self, metres: float) -> str:
        return distance(metres, self.lang)

    def percent(self, share: float) -> str:
        """A share 0..1 as a whole percent: "35 %" in German, "35%" in English."""
        value = number(round(share * 100), self.lang)
        return f"{value}\u00a0%" if self.lang == "de" else f"{value}%"

    def amount(self, value: float | int, currency: str = "EUR") -> str:
        return amount(value, self.lang, currency)

    def figure(self, figure: str) -> str:
        return figure_label(figure, self.lang)

    def figure_value(self, figure: str, value: str) -> str:
        return figure_value(figure, value, self.lang)

    def date(self, value: dt.date | str) -> str:
        return date(value, self.lang)

    def datetime(self, value: dt.datetime | str) -> str:
        return datetime(value, self.lang)

    def hours(self, expression: str) -> str:
        return opening_hours(expression, self.lang)
