"""Office hours: open now, next opening, upcoming appointments — in Europe/Berlin.

``opening_hours`` values use the OpenStreetMap syntax. The expression is read in local wall
clock time, so "Mo 10:00-12:00" is 10:00 in Berlin in winter and in summer alike. Offices are
taken to be closed on the public holidays of their Land unless the expression has a ``PH``
rule that opens.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

import holidays
import opening_hours

from .. import localize
from ..i18n import TEXT, pick_lang

BERLIN = ZoneInfo("Europe/Berlin")
# Land key (first two digits of the AGS) → ISO 3166-2 subdivision used by the holiday calendar.
LAND_SUBDIVISIONS = {"14": "SN", "16": "TH"}
LOOKAHEAD_DAYS = 120
# The calendar feed expands hours it cannot write as a weekly rule this far ahead
# (mapservice.finder.calendar); an office counts as having calendar events when it opens within
# this horizon, so a calendar link never leads to a feed without a coming event.
CALENDAR_WEEKS = 12


@dataclass(frozen=True)
class Appointment:
    start: dt.datetime
    end: dt.datetime | None
    note: str | None
    # The seed's English note (``note`` is the German one); pages pick by their language.
    note_en: str | None = None


@dataclass(frozen=True)
class HoursStatus:
    """What a citizen wants to know. ``open_now`` is None when no regular hours are known."""

    open_now: bool | None
    closes_at: dt.datetime | None
    next_opening: dt.datetime | None
    next_opening_kind: str | None  # "hours" or "appointment"
    upcoming: list[Appointment] = field(default_factory=list)
    holiday_today: str | None = None
    # The latest dated appointment that is already over (None when there was none).
    last_appointment: Appointment | None = None
    # The office's iCalendar feed has an event that is not over yet: regular hours that open
    # within CALENDAR_WEEKS, or an upcoming dated appointment. A feed of past events only
    # helps nobody, so calendar links are shown only when this is true.
    calendar_events: bool = False

    @property
    def dates_ended(self) -> bool:
        """No regular hours, and every dated appointment lies in the past.

        Such an office is shown with its last known date and "no further dates published"
        rather than "office hours unknown": what is known, and that nothing newer is.
        """
        return self.open_now is None and not self.upcoming and self.last_appointment is not None

    def dates_ended_text(self, lang: str) -> str | None:
        """The text for an office whose dates have all passed ("letzter bekannter Termin …")."""
        if not self.dates_ended or self.last_appointment is None:
            return None
        return dates_ended_text(self.last_appointment.start.date(), lang)

    def as_json(self) -> dict[str, Any]:
        def iso(value: dt.datetime | None) -> str | None:
            return value.isoformat() if value else None

        last = self.last_appointment
        return {
            "open_now": self.open_now,
            "closes_at": iso(self.closes_at),
            "next_opening": iso(self.next_opening),
            "next_opening_kind": self.next_opening_kind,
            "holiday_today": self.holiday_today,
            "upcoming_appointments": [
                {"start": iso(a.start), "end": iso(a.end), "note": a.note, "note_en": a.note_en}
                for a in self.upcoming
            ],
            "last_appointment": None
            if last is None
            else {"start": iso(last.start), "end": iso(last.end), "note": last.note, "note_en": last.note_en},
            "dates_ended": self.dates_ended,
            "calendar_events": self.calendar_events,
        }


def date_text(day: dt.date, lang: str) -> str:
    """A date as people of the language write it: 30.01.2026 / 30 Jan 2026 (Babel's)."""
    return localize.date(day, lang)


def dates_ended_text(day: dt.date, lang: str) -> str:
    return TEXT[pick_lang(lang)]["dates_ended"].format(date=date_text(day, lang))


@functools.lru_cache(maxsize=16)
def _holidays(subdivision: str | None, year: int) -> Mapping[dt.date, str]:
    if subdivision is None:
        return holidays.country_holidays("DE", years=year, language="de")
    return holidays.country_holidays("DE", subdiv=subdivision, years=year, language="de")


def holiday_name(day: dt.date, land: str | None) -> str | None:
    """The public holiday on ``day`` in the Land (``"14"`` Saxony, ``"16"`` Thuringia)."""
    found = _holidays(LAND_SUBDIVISIONS.get(land or ""), day.year).get(day)
    return str(found) if found else None


def land_of(ags: str | None) -> str | None:
    return ags[:2] if ags else None


@functools.lru_cache(maxsize=256)
def _parse(expression: str) -> opening_hours.OpeningHours:
    # Germany's national calendar, so explicit PH rules mean something to the parser; the
    # Land-specific holidays are removed below.
    return opening_hours.OpeningHours(expression, country="DE")


# A PH rule that opens ("PH 10:00-12:00") is the only thing that overrides holiday closing.
_PH_OPENS = re.compile(r"\bPH\b(?![^;]*\boff\b)")


def local(value: dt.datetime) -> dt.datetime:
    """Aware Berlin time; naive values are taken as Berlin wall-clock time."""
    if value.tzinfo is None:
        return value.replace(tzinfo=BERLIN)
    return value.astimezone(BERLIN)


def _wall(naive: dt.datetime) -> dt.datetime:
    return naive.replace(tzinfo=BERLIN)


def open_intervals(
    expression: str, start: dt.datetime, end: dt.datetime, land: str | None
) -> Iterable[tuple[dt.datetime, dt.datetime]]:
    """Open periods (aware, Berlin) overlapping [start, end), public holidays removed."""
    parsed = _parse(expression)
    honours_holidays = not _PH_OPENS.search(expression)
    begin = local(start).replace(tzinfo=None)
    until = local(end).replace(tzinfo=None)
    for a, b, state, _comment in parsed.intervals(begin, until):
        if state != opening_hours.State.OPEN:
            continue
        b = b or until
        if honours_holidays:
            # Split at midnights and drop the holiday days.
            day_start = a
            while day_start < b:
                next_midnight = dt.datetime.combine(day_start.date() + dt.timedelta(days=1), dt.time())
                piece_end = min(b, next_midnight)
                if holiday_name(day_start.date(), land) is None:
                    yield _wall(day_start), _wall(piece_end)
                day_start = piece_end
        else:
            yield _wall(a), _wall(b)


def openings(
    expression: str, start: dt.datetime, end: dt.datetime, land: str | None
) -> list[tuple[dt.datetime, dt.datetime]]:
    """Open periods like ``open_intervals``, with the pieces the midnight split cut joined."""
    merged: list[list[dt.datetime]] = []
    for a, b in open_intervals(expression, start, end, land):
        if merged and merged[-1][1] == a:
            merged[-1][1] = b
        else:
            merged.append([a, b])
    return [(a, b) for a, b in merged]


def _appointments(raw: Sequence[Mapping[str, Any]] | None) -> list[Appointment]:
    out = []
    for item in raw or ():
        start = item.get("start")
        if not start:
            continue
        end = item.get("end")
        out.append(
            Appointment(
                local(dt.datetime.fromisoformat(start)),
                local(dt.datetime.fromisoformat(end)) if end else None,
                item.get("note"),
                item.get("note_en"),
            )
        )
    return sorted(out, key=lambda a: a.start)


def status(
    expression: str | None,
    appointments: Sequence[Mapping[str, Any]] | None,
    now: dt.datetime,
    land: str | None,
) -> HoursStatus:
    """Open now, when it closes, the next opening (regular hours or a dated appointment)."""
    now = local(now)
    dated = _appointments(appointments)
    upcoming = [a for a in dated if (a.end or a.start) >= now]
    past = [a for a in dated if (a.end or a.start) < now]
    open_now: bool | None = None
    closes_at = None
    next_hours = None
    if expression:
        open_now = False
        horizon = now + dt.timedelta(days=LOOKAHEAD_DAYS)
        for a, b in openings(expression, now, horizon, land):
            if a <= now < b:
                open_now, closes_at = True, b
            elif a > now and next_hours is None:
                next_hours = a
            if next_hours is not None:
                break
    in_appointment = any(a.start <= now < a.end for a in upcoming if a.end)
    if in_appointment:
        open_now = True
    next_appointment = next((a.start for a in upcoming if a.start > now), None)
    candidates = [
        (t, k) for t, k in ((next_hours, "hours"), (next_appointment, "appointment")) if t is not None
    ]
    next_opening, kind = min(candidates) if candidates else (None, None)
    hours_ahead = closes_at is not None or (
        next_hours is not None and next_hours < now + dt.timedelta(weeks=CALENDAR_WEEKS)
    )
    return HoursStatus(
        open_now=open_now,
        closes_at=closes_at,
        next_opening=next_opening,
        next_opening_kind=kind,
        upcoming=upcoming,
        holiday_today=holiday_name(now.date(), land),
        last_appointment=max(past, key=lambda a: a.start) if past else None,
        calendar_events=hours_ahead or bool(upcoming),
    )
