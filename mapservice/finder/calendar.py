"""Office hours and dated appointments of the contact offices as an iCalendar (RFC 5545) feed.

Citizens subscribe to the feed in Outlook, Apple Calendar or Google Calendar, so it has to be
dull and standard: every time is Europe/Berlin wall-clock time with a ``TZID`` and a shipped
``VTIMEZONE``, UIDs stay the same across requests so clients update events instead of
duplicating them, and all text from the data goes through :mod:`icalendar`, which escapes and
folds it. The ics text is never assembled by hand, so an office name cannot inject properties.
Before that, :func:`clean_text` makes data text fit a content line: RFC 5545 allows no control
characters in TEXT values and a line break only as the escape ``\\n``. A line break in an
office name (Excel's Alt+Enter: CR LF or LF) stays a line break in the events, written as that
escape; in the calendar's own name, which clients show on one line, it becomes a space.

Regular hours become one weekly recurring event per weekday and time range when the
``opening_hours`` expression is in a small, strictly parsed subset of the OpenStreetMap
syntax (``Mo 10:00-12:00; Th 15:00-17:00``). Anything else is expanded by the opening-hours
library into single events for a limited period, because a wrong recurrence rule would be
worse than a short horizon. Offices are closed on the public holidays of their Land, so the
weekly events carry ``EXDATE``s for those days.

Dated appointments are included from the start of the current week on, like the weekly hours;
older ones are left out, since a feed of past dates helps nobody. A feed without events is still
a valid calendar (its VTIMEZONE only), so a subscription to an office whose dates have all
passed keeps working and shows the next date once it is published; the pages link such a feed
only when it has an event still to come.
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import opening_hours
from icalendar import Calendar, Event, Timezone, vDuration, vText

from ..i18n import CALENDAR_TEXT
from .hours import BERLIN, CALENDAR_WEEKS, holiday_name, land_of, local, openings

__all__ = ["PRODID", "clean_text", "office_calendar", "weekly_schedule"]

PRODID = "-//District Safety Map//mapservice//DE"
# Feeds are German, like the pages they are linked from.
CAL = CALENDAR_TEXT["de"]
TZID = "Europe/Berlin"
UID_DOMAIN = "district-safety-map"
# Holidays are looked up this far ahead for the EXDATEs of the weekly events; clients refresh
# the feed long before the horizon is reached.
EXDATE_HORIZON_DAYS = 400
# Expressions outside the weekly subset cannot be written as a recurrence rule, so they are
# expanded into single events for this many weeks; the pages link a feed only when the office
# opens within the same horizon (HoursStatus.calendar_events), so they share the constant.
FALLBACK_WEEKS = CALENDAR_WEEKS
# Subscribing clients may poll this often; the content changes at most daily.
REFRESH_INTERVAL = dt.timedelta(days=1)

OSM_DAYS = ("Mo", "Tu", "We", "Th", "Fr", "Sa", "Su")
ICAL_DAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")

# The weekly subset, written out strictly: weekday lists/ranges followed by time ranges, rules
# separated by ";". No "off", no PH/SH, no months, weeks, dates or comments: such expressions
# go to the fallback rather than being half-understood.
_TIME = r"(?:[01][0-9]|2[0-3]):[0-5][0-9]"
_DAY = "(?:" + "|".join(OSM_DAYS) + ")"
_DAY_SPEC = rf"{_DAY}(?:-{_DAY})?"
_RANGE = rf"{_TIME}-{_TIME}"
_RULE = re.compile(
    rf"(?P<days>{_DAY_SPEC}(?:,{_DAY_SPEC})*) +(?P<ranges>{_RANGE}(?: *, *{_RANGE})*)", re.ASCII
)

Schedule = dict[int, tuple[tuple[dt.time, dt.time], ...]]


def _days(spec: str) -> list[int]:
    """Weekday numbers (Monday = 0) of ``Mo,We-Fr``; ranges may wrap over Sunday as in OSM."""
    out: list[int] = []
    for part in spec.split(","):
        first, _, last = part.partition("-")
        a = OSM_DAYS.index(first)
        b = OSM_DAYS.index(last) if last else a
        out.extend((a + i) % 7 for i in range((b - a) % 7 + 1))
    return out


def _time(text: str) -> dt.time:
    hours, minutes = text.split(":")
    return dt.time(int(hours), int(minutes))


def weekly_schedule(expression: str) -> Schedule | None:
    """Weekday → time ranges when ``expression`` is in the simple weekly subset, else None.

    None means "do not try to express this as a weekly recurrence". As in the OSM syntax, a
    later ``;`` rule replaces what earlier rules said about the same weekday. Ranges past
    midnight, empty or overlapping ranges are not in the subset.
    """
    rules = expression.strip(" ").split(";")
    schedule: Schedule = {}
    for rule in rules:
        match = _RULE.fullmatch(rule.strip(" "))
        if match is None:
            return None
        ranges: list[tuple[dt.time, dt.time]] = []
        for text in match["ranges"].split(","):
            begin, end = (_time(t) for t in text.strip(" ").split("-"))
            if end <= begin:
                return None
            ranges.append((begin, end))
        ranges.sort()
        if any(later[0] < earlier[1] for earlier, later in itertools.pairwise(ranges)):
            return None
        for day in _days(match["days"]):
            schedule[day] = tuple(ranges)
    return dict(sorted(schedule.items()))


# Line breaks of every kind: CR LF, CR, LF, vertical tab, form feed, NEL, U+2028, U+2029.
_LINE_BREAK = re.compile("\r\n|[\r\n\v\f\x85\u2028\u2029]")
# What RFC 5545 forbids in TEXT (CONTROL: all C0 but HTAB, and DEL), the C1 controls, which no
# calendar shows, and lone surrogates, which cannot be written as UTF-8.
_UNWRITABLE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")


def clean_text(value: str, multiline: bool = True) -> str:
    """``value`` as a content line can hold it: each line break one ``\\n`` (which icalendar
    writes as the escape ``\\n``), or a space when not ``multiline``; other control characters
    and lone surrogates dropped, blanks around the lines trimmed, the rest kept as it is."""
    lines = [_UNWRITABLE.sub("", line).strip() for line in _LINE_BREAK.split(value)]
    if not multiline:
        return " ".join(line for line in lines if line)
    return "\n".join(lines).strip("\n")


def _text(props: Mapping[str, Any], key: str) -> str | None:
    value = props.get(key)
    if isinstance(value, str):
        return clean_text(value) or None
    return None


def _location(props: Mapping[str, Any]) -> str | None:
    """``street housenumber, postcode place, room`` from whatever parts are known."""
    street = " ".join(p for p in (_text(props, "street"), _text(props, "housenumber")) if p)
    town = " ".join(p for p in (_text(props, "postcode"), _text(props, "place")) if p)
    parts = [p for p in (street, town, _text(props, "room")) if p]
    return ", ".join(parts) if parts else None


def _contact_lines(props: Mapping[str, Any]) -> list[str]:
    labels = (
        ("phone", CAL["cal_phone"]),
        ("phone_mobile", CAL["cal_mobile"]),
        ("email", CAL["cal_email"]),
        ("registration", CAL["cal_registration"]),
    )
    return [f"{label}: {value}" for key, label in labels if (value := _text(props, key))]


def _event(
    uid: str,
    summary: str,
    start: dt.datetime,
    end: dt.datetime | None,
    stamp: dt.datetime,
    location: str | None,
    description: list[str],
) -> Event:
    """One VEVENT; every text value is handed to icalendar as plain text for escaping."""
    event = Event()
    event.add("uid", uid)
    event.add("dtstamp", stamp)
    event.add("dtstart", start)
    if end is not None:
        event.add("dtend", end)
    event.add("summary", summary)
    if location:
        event.add("location", location)
    if description:
        event.add("description", "\n".join(description))
    # Office hours are information, not the subscriber's own appointments: keep them out of
    # free/busy.
    event.add("transp", "TRANSPARENT")
    return event


def _at(day: dt.date, time: dt.time) -> dt.datetime:
    return dt.datetime.combine(day, time, tzinfo=BERLIN)


def _weekly_events(
    office_id: str,
    summary: str,
    schedule: Schedule,
    week_start: dt.date,
    horizon: dt.date,
    land: str | None,
    stamp: dt.datetime,
    location: str | None,
    description: list[str],
) -> Iterator[Event]:
    for weekday, ranges in schedule.items():
        first = week_start + dt.timedelta(days=weekday)
        days = [first + dt.timedelta(weeks=n) for n in range((horizon - first).days // 7 + 1)]
        closed = [day for day in days if holiday_name(day, land) is not None]
        for begin, end in ranges:
            uid = f"{office_id}-hours-{ICAL_DAYS[weekday]}-{begin:%H%M}-{end:%H%M}@{UID_DOMAIN}"
            event = _event(uid, summary, _at(first, begin), _at(first, end), stamp, location, description)
            event.add("rrule", {"freq": "WEEKLY", "byday": ICAL_DAYS[weekday]})
            for day in closed:
                # EXDATE must match DTSTART in value type and time zone.
                event.add("exdate", _at(day, begin))
            yield event


def _single_events(
    office_id: str,
    summary: str,
    expression: str,
    start: dt.datetime,
    end: dt.datetime,
    land: str | None,
    stamp: dt.datetime,
    location: str | None,
    description: list[str],
) -> Iterator[Event]:
    if not opening_hours.validate(expression):
        return  # unreadable hours: saying nothing is better than guessing
    for a, b in openings(expression, start, end, land):
        uid = f"{office_id}-opening-{a:%Y%m%dT%H%M}@{UID_DOMAIN}"
        yield _event(uid, summary, a, b, stamp, location, description)


def _parse_datetime(value: Any) -> dt.datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return local(dt.datetime.fromisoformat(value))
    except ValueError:
        return None


def _appointment_events(
    office_id: str,
    name: str,
    raw: Any,
    not_before: dt.datetime,
    stamp: dt.datetime,
    location: str | None,
    contact: list[str],
) -> Iterator[Event]:
    items: list[tuple[dt.datetime, dt.datetime | None, str | None]] = []
    for item in raw if isinstance(raw, list) else ():
        if not isinstance(item, Mapping):
            continue
        start = _parse_datetime(item.get("start"))
        if start is None:
            continue
        end = _parse_datetime(item.get("end"))
        if end is not None and end <= start:
            end = None  # DTEND must lie after DTSTART; an impossible end is treated as unknown
        if (end or start) < not_before:
            continue
        items.append((start, end, _text(item, "note")))
    seen: dict[str, int] = {}
    for start, end, note in sorted(items, key=lambda i: (i[0], i[1] or i[0], i[2] or "")):
        key = f"{office_id}-appointment-{start:%Y%m%dT%H%M}"
        seen[key] = seen.get(key, 0) + 1
        uid = f"{key}{'' if seen[key] == 1 else f'-{seen[key]}'}@{UID_DOMAIN}"
        description = ([f"{CAL['cal_note']}: {note}"] if note else []) + contact
        # Without an end the event has no DTEND and no DURATION: RFC 5545 then gives a
        # DATE-TIME event zero duration, which is honest; a made-up length would not be.
        yield _event(uid, f"{name} – {CAL['cal_appointment']}", start, end, stamp, location, description)


def _properties(office: Mapping[str, Any]) -> Mapping[str, Any]:
    """Accept GeoJSON features as well as their bare properties."""
    props = office.get("properties")
    if office.get("type") == "Feature" and isinstance(props, Mapping):
        return props
    return office


def office_calendar(offices: Sequence[Mapping[str, Any]], now: dt.datetime, calendar_name: str) -> bytes:
    """The iCalendar document with the regular hours and dated appointments of ``offices``.

    ``offices`` are contact-office features or their properties. ``now`` fixes the window:
    events begin with the current week (Europe/Berlin; naive values are Berlin time), so an
    export made on any day of a week shows the whole week.
    """
    now = local(now)
    today = now.date()
    week_start = today - dt.timedelta(days=today.weekday())
    week_start_at = _at(week_start, dt.time())
    # DTSTAMP is required, but a request timestamp would make every response differ and
    # defeat caching and client-side change detection. The start of the current day is a
    # correct "this object was generated" value that stays put for a whole day. It is the
    # Berlin day (written in UTC, as RFC 5545 wants), the same day the event window is based
    # on, so the whole document depends on the date only, not on the time of the request.
    stamp = _at(today, dt.time()).astimezone(dt.UTC)

    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    # icalendar does not know NAME (RFC 7986) and X-WR-CALNAME and would write them unescaped:
    # given as vText they are escaped like SUMMARY.
    calendar_name = clean_text(calendar_name, multiline=False)
    calendar.add("name", vText(calendar_name))
    calendar.add("x-wr-calname", vText(calendar_name))
    calendar.add("x-wr-timezone", TZID)
    calendar.add("refresh-interval", REFRESH_INTERVAL, parameters={"VALUE": "DURATION"})
    calendar.add("x-published-ttl", vDuration(REFRESH_INTERVAL))
    # The VTIMEZONE is always included (even for an empty feed, which RFC 5545 otherwise
    # forbids as a VCALENDAR without components), built from tzdata from the year before the
    # earliest event on, so clients that trust the embedded definition get DST right.
    calendar.add_component(Timezone.from_tzid(TZID, first_date=dt.date(week_start.year - 1, 1, 1)))

    for office in offices:
        props = _properties(office)
        office_id = _text(props, "id")
        if office_id is None:
            continue  # without an id no UID would be stable
        name = _text(props, "name") or office_id
        land = land_of(_text(props, "city_ags"))
        location = _location(props)
        contact = _contact_lines(props)
        expression = _text(props, "opening_hours")
        if expression is not None:
            summary = f"{name} – {CAL['cal_office_hours']}"
            description = [*contact, f"{CAL['cal_regular_hours']}: {expression}"]
            schedule = weekly_schedule(expression)
            if schedule is not None:
                horizon = today + dt.timedelta(days=EXDATE_HORIZON_DAYS)
                events: Iterator[Event] = _weekly_events(
                    office_id, summary, schedule, week_start, horizon, land, stamp, location, description
                )
            else:
                until = _at(today + dt.timedelta(weeks=FALLBACK_WEEKS), dt.time())
                events = _single_events(
                    office_id, summary, expression, week_start_at, until, land, stamp, location, description
                )
            for event in events:
                calendar.add_component(event)
        for event in _appointment_events(
            office_id, name, props.get("appointments"), week_start_at, stamp, location, contact
        ):
            calendar.add_component(event)

    calendar.add_missing_timezones()  # a no-op today; guards against a TZID added later
    return bytes(calendar.to_ical())
