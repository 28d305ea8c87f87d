"""Pure geometry and time functions, checked against values computed by hand."""

from __future__ import annotations

import datetime as dt
import math

import pytest
from pyproj import Geod

from mapservice.finder.hours import BERLIN, status
from mapservice.maps.fov import field_of_view, parse_directions, utm_epsg

GEOD = Geod(ellps="GRS80")
JENA = (11.5890, 50.9270)


def area_m2(geom) -> float:  # type: ignore[no-untyped-def]
    return abs(GEOD.geometry_area_perimeter(geom)[0])


def test_utm_zone_follows_the_land() -> None:
    assert utm_epsg(11.59, 50.93) == 25832  # Jena, Thuringia
    assert utm_epsg(12.49, 50.72) == 25833  # Zwickau, Saxony


def test_wedge_area_is_its_share_of_the_circle() -> None:
    wedge = field_of_view(*JENA, "90", 90, 100, "fixed")
    assert wedge is not None
    assert area_m2(wedge) == pytest.approx(math.pi * 100**2 / 4, rel=0.01)
    # It points east: every vertex lies east of the camera.
    assert wedge.bounds[0] == pytest.approx(JENA[0], abs=1e-9)


def test_dome_sees_a_full_circle_and_ranges_span_their_angle() -> None:
    dome = field_of_view(*JENA, None, None, 50, "dome")
    assert dome is not None and area_m2(dome) == pytest.approx(math.pi * 50**2, rel=0.01)
    span = field_of_view(*JENA, "300-60", None, 100, "panning")
    assert span is not None and area_m2(span) == pytest.approx(math.pi * 100**2 / 3, rel=0.01)
    two = field_of_view(*JENA, "0;180", 60, 100, "fixed")
    assert two is not None and two.geom_type == "MultiPolygon"
    assert area_m2(two) == pytest.approx(2 * math.pi * 100**2 / 6, rel=0.01)


def test_unknown_shape_is_not_drawn() -> None:
    assert field_of_view(*JENA, "90", 60, None, "fixed") is None  # no range
    assert field_of_view(*JENA, "90", None, 100, "fixed") is None  # no opening angle
    assert field_of_view(*JENA, None, 60, 100, "fixed") is None  # no direction
    with pytest.raises(ValueError, match="north"):
        parse_directions("north")


WINZERLA = "Mo 10:00-12:00; Th 15:00-17:00"


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=BERLIN)


@pytest.mark.parametrize(
    ("now", "open_now", "next_opening"),
    [
        ("2026-11-23 09:59", False, "2026-11-23 10:00"),  # a minute before opening (Monday)
        ("2026-11-23 10:00", True, "2026-11-26 15:00"),  # at opening
        ("2026-11-23 11:59", True, "2026-11-26 15:00"),
        ("2026-11-23 12:00", False, "2026-11-26 15:00"),  # at closing
        ("2026-04-06 10:30", False, "2026-04-09 15:00"),  # Easter Monday: closed
        ("2026-03-28 12:00", False, "2026-03-30 10:00"),  # across the change to summer time
    ],
)
def test_open_now_and_next_opening_at_boundaries(now: str, open_now: bool, next_opening: str) -> None:
    result = status(WINZERLA, None, at(now), "16")
    assert result.open_now is open_now
    assert result.next_opening == at(next_opening)


def test_summer_time_offset_and_holiday_name() -> None:
    result = status(WINZERLA, None, at("2026-03-28 12:00"), "16")
    assert result.next_opening is not None
    assert result.next_opening.utcoffset() == dt.timedelta(hours=2)
    assert status(WINZERLA, None, at("2026-04-06 10:30"), "16").holiday_today == "Ostermontag"
    # Reformation Day is a holiday in both Länder, the Day of Repentance only in Saxony.
    assert status("Mo-Su 10:00-12:00", None, at("2026-11-18 11:00"), "14").open_now is False
    assert status("Mo-Su 10:00-12:00", None, at("2026-11-18 11:00"), "16").open_now is True


def test_appointments_and_unknown_hours() -> None:
    appts = [{"start": "2026-01-30T14:30:00+01:00", "end": None, "note": "first date"}]
    before = status(None, appts, at("2026-01-20 09:00"), "16")
    assert before.open_now is None  # no regular hours known
    assert before.next_opening == at("2026-01-30 14:30")
    assert before.next_opening_kind == "appointment"
    after = status(None, appts, at("2026-11-21 09:00"), "16")
    assert after.next_opening is None and after.upcoming == []


def test_ph_off_and_ph_opening_rules() -> None:
    christmas = at("2026-12-25 10:00")
    assert status("Mo-Fr 09:00-12:00; PH off", None, christmas, "16").open_now is False
    assert status("Mo-Fr 09:00-12:00; PH 10:00-11:00", None, christmas, "16").open_now is True
