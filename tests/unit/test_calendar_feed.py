"""The iCalendar feed of office hours: pure-function tests on the shipped contact offices."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import holidays
import pytest
from icalendar import Calendar

from mapservice.finder.calendar import PRODID, office_calendar, weekly_schedule
from mapservice.finder.hours import land_of, open_intervals, status

BERLIN = ZoneInfo("Europe/Berlin")
REPO = Path(__file__).resolve().parents[2]
WINZERLA = "kobb-jena-winzerla"
ZWICKAU = "zwickau-stabsstelle-kommunale-praevention"
KOPPE = "jena-buergersprechstunde-koppe"
NAME = "Sprechzeiten Jena und Zwickau"


# Parsed components are handled as Any: icalendar types property values as a union of some
# thirty classes, which helps no assertion here.
Ical = Any


def berlin(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=BERLIN)


@pytest.fixture(scope="module")
def offices() -> list[dict[str, Any]]:
    data = json.loads((REPO / "geodata" / "contact-offices.geojson").read_text(encoding="utf-8"))
    return [feature["properties"] for feature in data["features"]]


def office(offices: list[dict[str, Any]], office_id: str, **changes: Any) -> dict[str, Any]:
    found = next(o for o in offices if o["id"] == office_id)
    return {**found, **changes}


def build(offices: list[dict[str, Any]], now: dt.datetime) -> Ical:
    return parse(office_calendar(offices, now, NAME))


def parse(raw: bytes) -> Ical:
    return Calendar.from_ical(raw)


def events(calendar: Ical, office_id: str) -> list[Ical]:
    return [e for e in calendar.walk("VEVENT") if str(e["UID"]).startswith(f"{office_id}-")]


def weekly(calendar: Ical, office_id: str) -> list[Ical]:
    return [e for e in events(calendar, office_id) if "RRULE" in e]


def exdates(event: Ical) -> list[dt.datetime]:
    raw = event.get("EXDATE", [])
    lists = raw if isinstance(raw, list) else [raw]
    return sorted(d.dt for item in lists for d in item.dts)


def slot(event: Ical) -> tuple[str, str, str]:
    """(BYDAY, start, end) of a weekly event, after checking that it is Berlin wall-clock time."""
    start, end = event.decoded("DTSTART"), event.decoded("DTEND")
    for name, value in (("DTSTART", start), ("DTEND", end)):
        assert event[name].params["TZID"] == "Europe/Berlin"
        assert value.tzinfo is not None and str(value.tzinfo) == "Europe/Berlin"
    rrule = event["RRULE"]
    assert rrule["FREQ"] == ["WEEKLY"]
    (byday,) = rrule["BYDAY"]
    assert start.date() == end.date()
    assert start.strftime("%a")[:2].upper() == byday
    return byday, f"{start:%H:%M}", f"{end:%H:%M}"


# --- the shipped offices ---------------------------------------------------------------------


def test_winzerla_has_two_weekly_events(offices: list[dict[str, Any]]) -> None:
    now = berlin(2026, 11, 21, 9, 30)  # a Saturday
    calendar = build(offices, now)
    found = events(calendar, WINZERLA)
    assert len(found) == 2 and all("RRULE" in e for e in found)
    assert sorted(slot(e) for e in found) == [("MO", "10:00", "12:00"), ("TH", "15:00", "17:00")]
    # The series start at the first occurrence on or after the Monday of the current week.
    starts = sorted(e.decoded("DTSTART") for e in found)
    assert starts == [berlin(2026, 11, 16, 10), berlin(2026, 11, 19, 15)]
    uids = sorted(str(e["UID"]) for e in found)
    assert uids == [
        "kobb-jena-winzerla-hours-MO-1000-1200@district-safety-map",
        "kobb-jena-winzerla-hours-TH-1500-1700@district-safety-map",
    ]
    summary = found[0]["SUMMARY"]
    assert summary == "Kontaktbereichsbeamter Jena-Winzerla – Sprechzeit"
    assert found[0]["LOCATION"] == "Anna-Siemsen-Straße 27, 07745 Jena"
    assert "Telefon: 03641 233979" in found[0]["DESCRIPTION"]


def test_zwickau_has_four_weekly_events(offices: list[dict[str, Any]]) -> None:
    calendar = build(offices, berlin(2026, 11, 21, 9, 30))
    found = events(calendar, ZWICKAU)
    assert len(found) == 4 and all("RRULE" in e for e in found)
    assert sorted(slot(e) for e in found) == [
        ("TH", "09:00", "12:00"),
        ("TH", "13:00", "15:00"),
        ("TU", "09:00", "12:00"),
        ("TU", "13:00", "18:00"),
    ]


def test_exdates_are_the_holidays_of_the_land(offices: list[dict[str, Any]]) -> None:
    now = berlin(2026, 11, 21, 9, 30)  # EXDATEs cover 400 days: up to 2027-12-26
    calendar = build(offices, now)
    by_day = {slot(e)[0]: e for e in weekly(calendar, WINZERLA)}
    # Thuringia: Easter Monday and Whit Monday 2027, and Weltkindertag (20 September, a
    # Thuringian holiday since 2019) because it falls on a Monday in 2027 (a Sunday in 2026).
    assert exdates(by_day["MO"]) == [
        berlin(2027, 3, 29, 10),
        berlin(2027, 5, 17, 10),
        berlin(2027, 9, 20, 10),
    ]
    assert exdates(by_day["TH"]) == [berlin(2027, 5, 6, 15)]  # Ascension Day
    assert all(str(e.dt.tzinfo) == "Europe/Berlin" for e in by_day["MO"]["EXDATE"][0].dts)
    assert all(item.params["TZID"] == "Europe/Berlin" for item in by_day["MO"]["EXDATE"])

    # The same hours in Saxony: no Weltkindertag.
    saxon = office(offices, WINZERLA, id="saxon-office", city_ags="14524330")
    saxon_by_day = {slot(e)[0]: e for e in weekly(build([saxon], now), "saxon-office")}
    assert exdates(saxon_by_day["MO"]) == [berlin(2027, 3, 29, 10), berlin(2027, 5, 17, 10)]

    # Zwickau (Saxony): Buß- und Bettag is a Wednesday, so only Ascension Day hits Tu/Th.
    zwickau = {(slot(e)[0], slot(e)[1]): exdates(e) for e in weekly(calendar, ZWICKAU)}
    assert zwickau[("TU", "09:00")] == [] and zwickau[("TU", "13:00")] == []
    assert zwickau[("TH", "09:00")] == [berlin(2027, 5, 6, 9)]
    assert zwickau[("TH", "13:00")] == [berlin(2027, 5, 6, 13)]


@pytest.mark.parametrize(
    "now", [berlin(2026, 1, 14, 12), berlin(2026, 6, 30, 23, 59), berlin(2027, 2, 1, 0, 0)]
)
def test_exdates_match_an_independent_holiday_calendar(
    offices: list[dict[str, Any]], now: dt.datetime
) -> None:
    """Every weekly occurrence on a holiday of the Land within 400 days is excluded, no other."""
    calendar = build(offices, now)
    lands = {"16": "TH", "14": "SN"}
    for props in offices:
        for event in weekly(calendar, props["id"]):
            start = event.decoded("DTSTART")
            calendar_of_land = holidays.country_holidays(
                "DE", subdiv=lands[props["city_ags"][:2]], years=range(now.year, now.year + 3)
            )
            horizon = now.date() + dt.timedelta(days=400)
            expected = [
                dt.datetime.combine(day, start.timetz())
                for day in (start.date() + dt.timedelta(weeks=n) for n in range(60))
                if day <= horizon and day in calendar_of_land
            ]
            assert exdates(event) == expected, (props["id"], slot(event))


def test_appointment_of_the_mayors_consultation(offices: list[dict[str, Any]]) -> None:
    calendar = build(offices, berlin(2026, 1, 20, 8))
    (event,) = events(calendar, KOPPE)
    assert str(event["UID"]) == "jena-buergersprechstunde-koppe-appointment-20260130T1430@district-safety-map"
    start = event.decoded("DTSTART")
    assert start == berlin(2026, 1, 30, 14, 30) and str(start.tzinfo) == "Europe/Berlin"
    assert event["DTSTART"].params["TZID"] == "Europe/Berlin"
    # The end is unknown: no DTEND and no DURATION (zero duration per RFC 5545), no recurrence.
    assert "DTEND" not in event and "DURATION" not in event and "RRULE" not in event
    assert event["SUMMARY"] == "Bürgersprechstunde mit Bürgermeister Benjamin Koppe – Termin"
    assert event["LOCATION"] == "Am Anger 28, 07743 Jena, Dezernat 2, 2. Etage, Raum 01.02_39"
    description = str(event["DESCRIPTION"])
    assert "erster Termin; findet regelmäßig statt" in description  # the feed is German
    assert "E-Mail: buergermeister@jena.de" in description
    assert "Anmeldung: vorher per E-Mail an buergermeister@jena.de" in description
    # Weeks later the past appointment is no longer listed.
    assert events(build(offices, berlin(2026, 2, 10, 8)), KOPPE) == []


def test_offices_without_hours_or_appointments_give_no_events(offices: list[dict[str, Any]]) -> None:
    calendar = build(offices, berlin(2026, 1, 20, 8))
    for office_id in ("jena-polizeiinspektion", "kobb-jena-nord", "kobb-jena-ost"):
        assert events(calendar, office_id) == []
    assert len(calendar.walk("VEVENT")) == 1 + 2 + 2 + 4  # Koppe, Lobeda, Winzerla, Zwickau


# --- stability ---------------------------------------------------------------------------------


def test_same_day_gives_the_same_document(offices: list[dict[str, Any]]) -> None:
    morning = office_calendar(offices, berlin(2026, 11, 21, 0, 30), NAME)
    evening = office_calendar(offices, berlin(2026, 11, 21, 23, 30), NAME)
    assert morning == evening


def test_uids_are_stable_across_days(offices: list[dict[str, Any]]) -> None:
    def uids(now: dt.datetime) -> list[str]:
        return sorted(str(e["UID"]) for e in build(offices, now).walk("VEVENT"))

    first = uids(berlin(2026, 1, 12, 9))
    assert len(first) == len(set(first)) == 9
    assert uids(berlin(2026, 1, 12, 17)) == first  # same day
    assert uids(berlin(2026, 1, 29, 9)) == first  # other weeks, appointment still ahead
    later = uids(berlin(2026, 11, 21, 9))  # appointment gone, the weekly series unchanged
    assert later == [u for u in first if "-appointment-" not in u]


@pytest.mark.parametrize(
    ("now", "stamp"),
    [
        (berlin(2026, 11, 21, 0, 30), dt.datetime(2026, 11, 20, 23, tzinfo=dt.UTC)),
        (berlin(2026, 11, 21, 23, 59), dt.datetime(2026, 11, 20, 23, tzinfo=dt.UTC)),
        (berlin(2026, 7, 1, 12), dt.datetime(2026, 6, 30, 22, tzinfo=dt.UTC)),
        (dt.datetime(2026, 7, 1, 22, 30, tzinfo=dt.UTC), dt.datetime(2026, 7, 1, 22, tzinfo=dt.UTC)),
    ],
)
def test_dtstamp_is_the_start_of_the_berlin_day(
    offices: list[dict[str, Any]], now: dt.datetime, stamp: dt.datetime
) -> None:
    calendar = build(offices, now)
    raw_stamps = {e["DTSTAMP"].to_ical() for e in calendar.walk("VEVENT")}
    assert raw_stamps == {stamp.strftime("%Y%m%dT%H%M%SZ").encode()}  # UTC, as RFC 5545 requires


# --- escaping and format -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "<script>alert('x')</script>",
        'Büro; Raum 3, "Eingang B"\nzweite Zeile\\ende',
        "Evil\nEND:VEVENT\nBEGIN:VEVENT\nUID:injected@example.org\nSUMMARY:pwned",
    ],
)
def test_text_from_data_is_escaped(offices: list[dict[str, Any]], name: str) -> None:
    evil = office(
        offices,
        WINZERLA,
        name=name,
        room="Raum 1; 2. OG, links",
        phone="1;2,3\n4",
        appointments=[
            {"start": "2026-12-01T10:00:00+01:00", "end": None, "note": "BEGIN:VALARM\nTRIGGER:-PT1M"}
        ],
    )
    raw = office_calendar([evil], berlin(2026, 11, 21, 9), NAME)
    calendar = parse(raw)
    found = calendar.walk("VEVENT")
    assert len(found) == 3 and not calendar.walk("VALARM")
    assert {str(e["UID"]) for e in found} == {
        "kobb-jena-winzerla-hours-MO-1000-1200@district-safety-map",
        "kobb-jena-winzerla-hours-TH-1500-1700@district-safety-map",
        "kobb-jena-winzerla-appointment-20261201T1000@district-safety-map",
    }
    hours = [e for e in found if "RRULE" in e]
    assert {str(e["SUMMARY"]) for e in hours} == {f"{name} – Sprechzeit"}
    assert {str(e["LOCATION"]) for e in found} == {"Anna-Siemsen-Straße 27, 07745 Jena, Raum 1; 2. OG, links"}
    assert all("Telefon: 1;2,3\n4" in str(e["DESCRIPTION"]) for e in found)
    (appointment,) = (e for e in found if "RRULE" not in e)
    assert "Hinweis: BEGIN:VALARM\nTRIGGER:-PT1M" in str(appointment["DESCRIPTION"])
    # On the wire: escaped, and no data line begins a component or property of its own.
    lines = raw.decode("utf-8").replace("\r\n ", "").split("\r\n")
    escaped = name.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\n", "\\n")
    assert f"SUMMARY:{escaped} – Sprechzeit" in lines  # RFC 5545 TEXT escaping, nothing else
    assert sum(line == "BEGIN:VEVENT" for line in lines) == 3
    assert not any(line.startswith(("UID:injected", "TRIGGER", "BEGIN:VALARM")) for line in lines)
    assert "LOCATION:Anna-Siemsen-Straße 27\\, 07745 Jena\\, Raum 1\\; 2. OG\\, links" in lines


def test_lines_are_crlf_and_folded(offices: list[dict[str, Any]]) -> None:
    long_name = "Präventionsbüro " + "Überlänge äöü ß € " * 20
    data = [*offices, office(offices, WINZERLA, id="long", name=long_name)]
    raw = office_calendar(data, berlin(2026, 11, 21, 9), NAME)
    assert raw.startswith(b"BEGIN:VCALENDAR\r\n") and raw.endswith(b"END:VCALENDAR\r\n")
    lines = raw[:-2].split(b"\r\n")
    assert all(b"\r" not in line and b"\n" not in line for line in lines)
    assert max(len(line) for line in lines) <= 75
    assert any(line.startswith(b" ") for line in lines)  # folding did happen
    for line in lines:
        line.decode("utf-8")  # folding never splits a multi-byte character
    parsed = parse(raw)
    assert {str(e["SUMMARY"]) for e in events(parsed, "long")} == {f"{long_name.strip()} – Sprechzeit"}


def test_calendar_properties_and_vtimezone(offices: list[dict[str, Any]]) -> None:
    calendar = build(offices, berlin(2026, 11, 21, 9))
    assert calendar["PRODID"] == PRODID
    assert calendar["VERSION"] == "2.0"
    assert calendar["X-WR-CALNAME"] == NAME
    assert calendar["X-WR-TIMEZONE"] == "Europe/Berlin"
    (timezone,) = calendar.walk("VTIMEZONE")
    assert timezone["TZID"] == "Europe/Berlin"
    assert timezone.walk("STANDARD") and timezone.walk("DAYLIGHT")
    assert calendar.get_missing_tzids() == set()
    # The embedded definition knows summer time in the coming year.
    offsets = {c.decoded("TZOFFSETTO") for c in timezone.walk("DAYLIGHT")}
    assert offsets == {dt.timedelta(hours=2)}
    assert calendar.subcomponents[0].name == "VTIMEZONE"


def test_empty_feed_is_still_a_valid_calendar() -> None:
    raw = office_calendar([], berlin(2026, 11, 21, 9), "Leer")
    calendar = parse(raw)
    assert calendar.walk("VEVENT") == []
    assert [c.name for c in calendar.subcomponents] == ["VTIMEZONE"]


def test_features_and_properties_are_both_accepted(offices: list[dict[str, Any]]) -> None:
    now = berlin(2026, 11, 21, 9)
    props = office(offices, WINZERLA)
    feature: Mapping[str, Any] = {"type": "Feature", "id": WINZERLA, "properties": props, "geometry": None}
    assert office_calendar([feature], now, NAME) == office_calendar([props], now, NAME)
    # Without an id no stable UID is possible: the office is left out.
    assert parse(office_calendar([{**props, "id": None}], now, NAME)).walk("VEVENT") == []


# --- appointments ------------------------------------------------------------------------------


def test_appointments_with_end_duplicates_and_bad_values(offices: list[dict[str, Any]]) -> None:
    props = office(
        offices,
        KOPPE,
        appointments=[
            {"start": "2026-12-03T17:00:00+01:00", "end": "2026-12-03T18:30:00+01:00", "note": None},
            {"start": "2026-12-03T16:00:00Z", "end": None, "note": "zweiter Termin zur selben Zeit"},
            {"start": "2026-12-10T10:00:00+01:00", "end": "2026-12-10T09:00:00+01:00", "note": None},
            {"start": "not a date", "end": None, "note": None},
            {"start": None, "end": None, "note": None},
        ],
    )
    found = build([props], berlin(2026, 11, 21, 9)).walk("VEVENT")
    by_uid = {str(e["UID"]): e for e in found}
    prefix = "jena-buergersprechstunde-koppe-appointment-"
    # Two appointments at the same time: the second (ordered by end, then note) gets a suffix.
    assert sorted(by_uid) == [
        f"{prefix}20261203T1700-2@district-safety-map",
        f"{prefix}20261203T1700@district-safety-map",
        f"{prefix}20261210T1000@district-safety-map",
    ]
    with_end = by_uid[f"{prefix}20261203T1700-2@district-safety-map"]
    assert with_end.decoded("DTEND") == berlin(2026, 12, 3, 18, 30)
    assert with_end["DTEND"].params["TZID"] == "Europe/Berlin"
    # 16:00Z is 17:00 in Berlin: shown in Berlin time.
    utc = by_uid[f"{prefix}20261203T1700@district-safety-map"]
    assert utc.decoded("DTSTART") == berlin(2026, 12, 3, 17) and "DTEND" not in utc
    assert "DTEND" not in by_uid[f"{prefix}20261210T1000@district-safety-map"]  # end before start


# --- the weekly subset and the fallback --------------------------------------------------------


def test_fallback_for_expressions_outside_the_weekly_subset(offices: list[dict[str, Any]]) -> None:
    expression = "Mo-Fr 09:00-12:00; PH off; 2026 Dec 24 off"
    props = office(offices, WINZERLA, opening_hours=expression)
    found = build([props], berlin(2026, 12, 14, 8)).walk("VEVENT")
    assert found and not any("RRULE" in e or "EXDATE" in e for e in found)
    starts = [e.decoded("DTSTART") for e in found]
    assert starts == sorted(starts)
    # Twelve weeks from Monday 2026-12-14 (the window ends 2027-03-08 00:00).
    assert starts[0] == berlin(2026, 12, 14, 9) and starts[-1] == berlin(2027, 3, 5, 9)
    for event, start in zip(found, starts, strict=True):
        assert start.weekday() < 5 and f"{start:%H:%M}" == "09:00"
        assert event.decoded("DTEND") == start.replace(hour=12)
        assert event["DTSTART"].params["TZID"] == "Europe/Berlin"
        assert str(event["UID"]) == f"kobb-jena-winzerla-opening-{start:%Y%m%dT%H%M}@district-safety-map"
        assert event["SUMMARY"] == "Kontaktbereichsbeamter Jena-Winzerla – Sprechzeit"
    assert berlin(2026, 12, 24, 9) not in starts  # "2026 Dec 24 off"


def test_fallback_honours_ph_off(offices: list[dict[str, Any]]) -> None:
    props = office(offices, WINZERLA, opening_hours="Mo-Fr 09:00-12:00; PH off; 2026 Dec 24 off")
    starts = {e.decoded("DTSTART") for e in build([props], berlin(2026, 12, 14, 8)).walk("VEVENT")}
    assert berlin(2026, 12, 25, 9) not in starts and berlin(2027, 1, 1, 9) not in starts


def test_fallback_without_ph_drops_the_lands_holidays(offices: list[dict[str, Any]]) -> None:
    props = office(offices, WINZERLA, opening_hours="Mo-Fr 09:00-12:00; 2026 Dec 24 off")
    starts = {e.decoded("DTSTART") for e in build([props], berlin(2026, 12, 14, 8)).walk("VEVENT")}
    assert berlin(2026, 12, 23, 9) in starts and berlin(2026, 12, 28, 9) in starts
    for day in ((2026, 12, 24), (2026, 12, 25), (2027, 1, 1)):
        assert berlin(*day, 9) not in starts


def test_unreadable_expression_gives_no_hours(offices: list[dict[str, Any]]) -> None:
    props = office(offices, WINZERLA, opening_hours="Mo 25:00-26:00 nach Vereinbarung")
    assert build([props], berlin(2026, 12, 14, 8)).walk("VEVENT") == []


T = dt.time


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("Mo 10:00-12:00; Th 15:00-17:00", {0: ((T(10), T(12)),), 3: ((T(15), T(17)),)}),
        ("Mo-Fr 09:00-12:00,13:00-18:00", {d: ((T(9), T(12)), (T(13), T(18))) for d in range(5)}),
        ("Mo,We 08:00-10:00", {0: ((T(8), T(10)),), 2: ((T(8), T(10)),)}),
        (
            "Tu 09:00-12:00, 13:00-18:00 ;Th 09:00-12:00",
            {1: ((T(9), T(12)), (T(13), T(18))), 3: ((T(9), T(12)),)},
        ),
        (
            "Fr-Mo 10:00-11:00",
            {0: ((T(10), T(11)),), 4: ((T(10), T(11)),), 5: ((T(10), T(11)),), 6: ((T(10), T(11)),)},
        ),
        # A later rule replaces what earlier rules said about the same day, as in OSM.
        (
            "Mo-Fr 09:00-17:00; Fr 09:00-12:00",
            {**{d: ((T(9), T(17)),) for d in range(4)}, 4: ((T(9), T(12)),)},
        ),
        ("Mo 13:00-15:00,08:00-10:00", {0: ((T(8), T(10)), (T(13), T(15)))}),
    ],
)
def test_weekly_subset(expression: str, expected: dict[int, tuple[tuple[dt.time, dt.time], ...]]) -> None:
    assert weekly_schedule(expression) == expected


@pytest.mark.parametrize(
    "expression",
    [
        "",
        " ",
        "24/7",
        "Mo-Fr 09:00-12:00; PH off",
        "Mo-Fr 09:00-12:00; Sa off",
        "PH 10:00-12:00",
        "Mo 10:00-24:00",
        "Mo 22:00-02:00",
        "Mo 12:00-10:00",
        "Mo 10:00-10:00",
        "Mo 9:00-12:00",
        "Mo 10:00-12:00,11:00-13:00",
        "Mo 10:00-12:00, Tu 10:00-12:00",
        "Mo 10:00-12:00;",
        "mo 10:00-12:00",
        'Mo 10:00-12:00 "nach Vereinbarung"',
        "Jan Mo 10:00-12:00",
        "Mo[1] 10:00-12:00",
        "Mo 10:00+",
        "Mo 10:00-12:00 || Tu 10:00-12:00",
        "Mo\n10:00-12:00",
        "Mo\u00a010:00-12:00",
        "Mo 1\uff10:00-12:00",
        "10:00-12:00",
        "Mo-Fr",
        "2026 Dec 24 off",
        "Mo 10:00-12:00; Th 15:00-17:00; 2026 Dec 24 off",
        "Mo-Fr sunrise-sunset",
        "week 1-53/2 Mo 10:00-12:00",
    ],
)
def test_outside_the_weekly_subset(expression: str) -> None:
    assert weekly_schedule(expression) is None


@pytest.mark.parametrize(
    "expression",
    [
        "Mo 10:00-12:00; Th 15:00-17:00",
        "Tu 09:00-12:00,13:00-18:00; Th 09:00-12:00,13:00-15:00",
        "Mo-Fr 09:00-12:00,13:00-18:00",
        "Mo,We 08:00-10:00",
        "Fr-Mo 10:00-11:00",
        "Mo-Fr 09:00-17:00; Fr 09:00-12:00",
        "Sa-Su 00:00-23:59",
    ],
)
def test_weekly_subset_agrees_with_the_opening_hours_library(expression: str) -> None:
    """Our reading of the subset is the library's: same openings over three holiday-free weeks."""
    schedule = weekly_schedule(expression)
    assert schedule is not None
    start, end = berlin(2026, 2, 2), berlin(2026, 2, 23)  # no holidays in Thuringia
    ours = sorted(
        (dt.datetime.combine(day, a, tzinfo=BERLIN), dt.datetime.combine(day, b, tzinfo=BERLIN))
        for day in (start.date() + dt.timedelta(days=n) for n in range(21))
        for a, b in schedule.get(day.weekday(), ())
    )
    assert ours == sorted(open_intervals(expression, start, end, "16"))


# --- the calendar link ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "now", [berlin(2026, 1, 20, 8), berlin(2026, 1, 30, 15), berlin(2026, 12, 2, 10), berlin(2026, 12, 24, 9)]
)
def test_calendar_events_says_whether_the_feed_has_a_coming_event(
    offices: list[dict[str, Any]], now: dt.datetime
) -> None:
    """Pages link a feed only when it has an event still to come; the flag and the feed agree."""
    for props in offices:
        land = land_of(props["city_ags"])
        flag = status(props.get("opening_hours"), props.get("appointments"), now, land).calendar_events
        coming = [
            e
            for e in events(build([props], now), props["id"])
            if "RRULE" in e or (e.decoded("DTEND") if "DTEND" in e else e.decoded("DTSTART")) >= now
        ]
        assert flag == bool(coming), (props["id"], now)
    koppe = office(offices, KOPPE)
    assert not status(None, koppe["appointments"], berlin(2026, 12, 2, 10), "16").calendar_events
