"""Offline geocoding: normalisation, parsing, gazetteer search, CSV loading, geopy wrappers.

No test reaches the network: an autouse fixture makes every socket connection fail.
"""

from __future__ import annotations

import csv
import random
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from geopy.exc import GeocoderServiceError, GeocoderUnavailable
from geopy.geocoders import Nominatim, Photon
from geopy.geocoders.base import Geocoder
from geopy.location import Location
from pyproj import Transformer

from mapservice.finder.geocode import gazetteer as gc
from mapservice.finder.geocode.adapters import (
    GazetteerGeocoder,
    GeocoderChain,
    RemoteGeocoder,
    remote_geocoder,
)
from mapservice.finder.geocode.gazetteer import AddressPoint, Gazetteer
from mapservice.finder.geocode.normalise import ParsedAddress, normalize_street, parse_address
from mapservice.finder.geocode.readers import GazetteerError, load_csv, points_from_offices

DATA = Path(__file__).parent.parent / "data" / "gazetteer"
FIXTURE = DATA / "jena_hauskoordinaten.csv"
BROKEN = DATA / "broken.csv"
COLUMNS = {
    "street": "strasse",
    "housenumber": "hausnummer",
    "postcode": "plz",
    "place": "ort",
    "x": "ostwert",
    "y": "nordwert",
}


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any attempt to open a connection fails the test loudly."""

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError(f"network access attempted: {args!r}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)


@pytest.fixture(scope="module")
def points() -> list[AddressPoint]:
    return load_csv(FIXTURE, COLUMNS, crs=25832, source="test-hauskoordinaten")


@pytest.fixture(scope="module")
def gazetteer(points: list[AddressPoint]) -> Gazetteer:
    return Gazetteer(points)


# --- normalisation and parsing ------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "Anna-Siemsen-Straße",
        "anna siemsen str",
        "Anna Siemsen Str.",
        "ANNA-SIEMSEN-STRASSE",
        "Anna  Siemsen  Strasse",
        "Anna-Siemsen-Str",
    ],
)
def test_normalize_street_variants_agree(text: str) -> None:
    assert normalize_street(text) == "anna siemsen str"


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("Löbdergraben", "loebdergraben"),
        ("Hauptstraße", "hauptstr"),
        ("Hauptstr.", "hauptstr"),
        ("Marktpl.", "marktplatz"),
        ("Pl. der Freiheit", "platz der freiheit"),
        ("Am Steinweg", "am steinweg"),
        ("Straße des 17. Juni", "str des 17 juni"),
        ("Rue de l'Église", "rue de l eglise"),
        ("Gu\u0308nther-Straße", "guenther str"),  # decomposed ü
        ("Strandweg", "strandweg"),  # "str" only at the end of a word
    ],
)
def test_normalize_street(text: str, key: str) -> None:
    assert normalize_street(text) == key


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Anna-Siemsen-Str. 27, Jena", ("Anna-Siemsen-Str.", "27", None, "Jena")),
        ("anna siemsen str 27", ("anna siemsen str", "27", None, None)),
        ("Anna Siemsen Str.27", ("Anna Siemsen Str.", "27", None, None)),
        ("Am Anger 28 07743 Jena", ("Am Anger", "28", "07743", "Jena")),
        ("Richard-Sorge-Straße 2a", ("Richard-Sorge-Straße", "2a", None, None)),
        ("Richard-Sorge-Straße 27 A", ("Richard-Sorge-Straße", "27a", None, None)),
        ("07743 Jena, Am Anger 28", ("Am Anger", "28", "07743", "Jena")),
        ("Straße des 17. Juni 5, Berlin", ("Straße des 17. Juni", "5", None, "Berlin")),
        ("Hauptmarkt 108056 Zwickau", ("Hauptmarkt", "1", "08056", "Zwickau")),
        ("Anna-Siemsen-Straße", ("Anna-Siemsen-Straße", None, None, None)),
        ("Anna-Siemsen-Straße, 07745 Jena", ("Anna-Siemsen-Straße", None, "07745", "Jena")),
        ("Hauptstraße Nr. 5", ("Hauptstraße", "5", None, None)),
        ("", (None, None, None, None)),
    ],
)
def test_parse_address(text: str, expected: tuple[str | None, ...]) -> None:
    assert parse_address(text) == ParsedAddress(*expected)


@pytest.mark.parametrize(
    "query",
    [
        "Anna-Siemsen-Straße 27",
        "anna siemsen str 27",
        "Anna Siemsen Str.27",
        "Anna-Siemsen-Str. 27, Jena",
        "ANNA-SIEMSEN-STRASSE 27, 07745 JENA",
        "Anna Siemsenstraße 27",
    ],
)
def test_variants_find_the_same_point(gazetteer: Gazetteer, query: str) -> None:
    best = gazetteer.search(query)[0]
    assert (best.point.street, best.point.housenumber, best.score) == ("Anna-Siemsen-Straße", "27", 100.0)
    assert best.precision == "address"
    assert best.matched == "Anna-Siemsen-Straße 27, 07745 Jena"


def test_umlaut_and_abbreviation_queries(gazetteer: Gazetteer) -> None:
    assert gazetteer.search("Loebdergraben 12")[0].point.street == "Löbdergraben"
    assert gazetteer.search("Johannispl. 4")[0].point.street == "Johannisplatz"
    assert gazetteer.search("Richard-Sorge-Str. 2 A")[0].point.housenumber == "2a"


# --- loading ------------------------------------------------------------------------------------


def test_load_reprojects_like_pyproj(points: list[AddressPoint]) -> None:
    with open(FIXTURE, encoding="utf-8-sig", newline="") as f:
        rows = list(csv.DictReader(f, delimiter=";"))
    assert len(points) == len(rows) == 14
    to_wgs84 = Transformer.from_crs(25832, 4326, always_xy=True)
    to_utm = Transformer.from_crs(4326, 25832, always_xy=True)
    for row, point in zip(rows, points, strict=True):
        x = float(row["ostwert"].replace(",", "."))
        y = float(row["nordwert"].replace(",", "."))
        lon, lat = to_wgs84.transform(x, y)
        assert (point.lon, point.lat) == pytest.approx((lon, lat), abs=1e-9)
        back_x, back_y = to_utm.transform(point.lon, point.lat)
        assert (back_x, back_y) == pytest.approx((x, y), abs=1e-3)  # millimetres
        assert point.source == "test-hauskoordinaten" and point.precision == "address"
    jena = [p for p in points if p.place == "Jena"]
    assert all(11.5 < p.lon < 11.7 and 50.85 < p.lat < 50.96 for p in jena)  # really Jena
    johannisplatz = next(p for p in points if p.street == "Johannisplatz")
    assert johannisplatz.postcode == "07743"  # leading zero restored


def test_load_lonlat_comma_separated_without_bom(tmp_path: Path) -> None:
    path = tmp_path / "lonlat.csv"
    path.write_text('street,number,lon,lat\n"Am Anger",28,11.5915,50.9329\n', encoding="utf-8")
    (point,) = load_csv(
        path,
        {"street": "street", "housenumber": "number", "x": "lon", "y": "lat"},
        crs="EPSG:4326",
        source="t",
        precision="street",
    )
    assert (point.street, point.housenumber, point.place, point.postcode) == ("Am Anger", "28", None, None)
    assert (point.lon, point.lat) == pytest.approx((11.5915, 50.9329))
    assert point.precision == "street"


def test_broken_rows_are_all_reported() -> None:
    with pytest.raises(GazetteerError) as info:
        load_csv(BROKEN, COLUMNS, crs=25832, source="t")
    found = {(p.row, p.column) for p in info.value.problems}
    assert found == {
        (3, "ostwert"),  # empty
        (4, "nordwert"),  # "5642o11.85"
        (5, "strasse"),  # empty street
        (6, "ostwert"),
        (6, "nordwert"),  # 1e12: no position on earth
        (8, None),
        (8, "ostwert"),
        (8, "nordwert"),  # short row
    }
    message = str(info.value)
    assert "broken.csv, row 4, column 'nordwert': not a number: '5642o11.85'" in message
    assert message.startswith("8 problem(s)")


def test_bounds_catch_swapped_columns(tmp_path: Path) -> None:
    path = tmp_path / "swapped.csv"
    path.write_text("strasse;ostwert;nordwert\nAm Anger;5645391.40;681849.75\n", encoding="utf-8")
    columns = {"street": "strasse", "x": "ostwert", "y": "nordwert"}
    load_csv(path, columns, crs=25832, source="t")  # a valid lon/lat, just in the wrong place
    with pytest.raises(GazetteerError) as info:
        load_csv(path, columns, crs=25832, source="t", bounds=(5.8, 47.2, 15.1, 55.1))
    assert {(p.row, p.column) for p in info.value.problems} == {(2, "ostwert"), (2, "nordwert")}


def test_missing_columns_and_bad_settings(tmp_path: Path) -> None:
    with pytest.raises(GazetteerError, match=r"row 1, column 'rechtswert': not in the header"):
        load_csv(FIXTURE, {**COLUMNS, "x": "rechtswert"}, crs=25832, source="t")
    with pytest.raises(GazetteerError, match="unknown CRS"):
        load_csv(FIXTURE, COLUMNS, crs="EPSG:999999", source="t")
    with pytest.raises(GazetteerError, match="no column given for 'y'"):
        load_csv(FIXTURE, {"street": "strasse", "x": "ostwert"}, crs=25832, source="t")


def test_points_from_offices() -> None:
    def office(
        id_: str, precision: str, geometry: dict[str, Any] | None, street: str | None = "Anna-Siemsen-Straße"
    ) -> dict[str, Any]:
        return {
            "type": "Feature",
            "id": id_,
            "geometry": geometry,
            "properties": {
                "id": id_,
                "street": street,
                "housenumber": "27",
                "postcode": "07745",
                "place": "Jena",
                "location_precision": precision,
            },
        }

    point = {"type": "Point", "coordinates": [11.576314, 50.900698]}
    features = [
        office("kobb-winzerla", "street", point),  # coordinate of a neighbouring house
        office("no-geometry", "unknown", None),
        office("no-street", "address", point, street=None),
        office("whole-town", "municipality", point),
    ]
    (p,) = points_from_offices(features)
    assert (p.street, p.housenumber, p.postcode, p.place) == ("Anna-Siemsen-Straße", "27", "07745", "Jena")
    assert (p.lon, p.lat, p.precision, p.ref, p.source) == (
        11.576314,
        50.900698,
        "street",
        "kobb-winzerla",
        "contact-offices",
    )
    # An exact address hit on such a point is still only street-precise.
    best = Gazetteer([p]).search("Anna-Siemsen-Str. 27")[0]
    assert (best.score, best.precision) == (100.0, "street")


# --- fuzzy matching and scoring -----------------------------------------------------------------


def test_typo_still_found_with_lower_score(gazetteer: Gazetteer) -> None:
    best = gazetteer.search("Anna-Siemsn-Strasse 27")[0]
    assert (best.point.street, best.point.housenumber) == ("Anna-Siemsen-Straße", "27")
    assert 85 <= best.score < 100


def test_wrong_house_number_lowers_score_clearly(gazetteer: Gazetteer) -> None:
    candidates = gazetteer.search("Anna-Siemsen-Straße 31")
    assert candidates and all(c.point.street == "Anna-Siemsen-Straße" for c in candidates)
    assert candidates[0].point.housenumber == "29"  # the nearest house
    assert candidates[0].score <= 75
    assert candidates[0].precision == "street"
    suffix = gazetteer.search("Richard-Sorge-Straße 4b")[0]
    assert suffix.point.housenumber == "4" and 90 <= suffix.score < 100


def test_street_without_number_returns_its_points(gazetteer: Gazetteer) -> None:
    candidates = gazetteer.search("Anna-Siemsen-Straße")
    assert [c.point.housenumber for c in candidates] == ["1", "25", "27", "29"]
    assert {c.precision for c in candidates} == {"street"}
    assert len({c.score for c in candidates}) == 1 and candidates[0].score < 100
    # Without a comma, a known place name at the end is split off.
    assert gazetteer.search("Anna-Siemsen-Straße Jena")[0].point.street == "Anna-Siemsen-Straße"


def test_ambiguous_street_gives_close_candidates(gazetteer: Gazetteer) -> None:
    candidates = gazetteer.search("Bahnhofstraße 1")
    assert {c.point.place for c in candidates[:2]} == {"Jena", "Kahla"}
    assert abs(candidates[0].score - candidates[1].score) <= 5
    kahla = gazetteer.search("Bahnhofstraße 1, Kahla")
    assert kahla[0].point.place == "Kahla" and kahla[0].score == 100
    assert kahla[1].point.place == "Jena" and kahla[1].score <= 90
    by_postcode = gazetteer.search("Bahnhofstr. 1, 07768")
    assert by_postcode[0].point.place == "Kahla" and by_postcode[1].score < by_postcode[0].score


def test_place_that_disagrees_lowers_the_score(gazetteer: Gazetteer) -> None:
    assert gazetteer.search("Am Anger 28, Jena")[0].score == 100
    assert gazetteer.search("Am Anger 28, Jena-Zentrum")[0].score == 100  # part of Jena
    assert gazetteer.search("Am Anger 28, Weimar")[0].score <= 85
    assert gazetteer.search("Am Anger 28, 07745 Jena")[0].score == 90  # postcode off


def test_nothing_similar_gives_no_candidate(gazetteer: Gazetteer) -> None:
    assert gazetteer.search("Qwertzuiopweg 12") == []
    assert gazetteer.search("Xaver-Yttrium-Allee 3") == []
    assert all(c.score < gc.DEFAULT_MIN_SCORE for c in gazetteer.search("Anger 99, Weimar", min_score=0))
    assert gazetteer.search("07743 Jena") == []  # no street at all


def test_exact_official_point_ranks_before_office_point(points: list[AddressPoint]) -> None:
    office = AddressPoint(
        "Am Anger",
        "28",
        "07743",
        "Jena",
        11.5925,
        50.9310,
        "contact-offices",
        precision="street",
        ref="office",
    )
    gazetteer = Gazetteer([office, *points])
    first, second = gazetteer.search("Am Anger 28")[:2]
    assert (first.precision, second.precision) == ("address", "street")
    assert first.score == second.score == 100


# --- geopy --------------------------------------------------------------------------------------


def test_gazetteer_geocoder(gazetteer: Gazetteer) -> None:
    geocoder = GazetteerGeocoder(gazetteer)
    assert isinstance(geocoder, Geocoder)
    location = geocoder.geocode("anna siemsen str 27")
    assert isinstance(location, Location)
    point = next(p for p in gazetteer.search("Anna-Siemsen-Straße 27"))
    assert (location.latitude, location.longitude) == pytest.approx((point.point.lat, point.point.lon))
    assert location.address == "Anna-Siemsen-Straße 27, 07745 Jena"
    raw = location.raw
    assert raw["score"] == 100 and raw["precision"] == "address"
    assert raw["source"] == "test-hauskoordinaten" and raw["geocoder"] == "gazetteer"
    assert raw["ambiguous"] is False and raw["candidates"][0]["address"] == location.address

    many = geocoder.geocode("Bahnhofstraße 1", exactly_one=False)
    assert isinstance(many, list) and len(many) == 2 and all(isinstance(x, Location) for x in many)
    assert many[0].raw["ambiguous"] is True
    assert geocoder.geocode("Qwertzuiopweg 12") is None
    structured = geocoder.geocode({"street": "Bahnhofstr.", "housenumber": "1", "city": "Kahla"})
    assert structured is not None and structured.raw["place"] == "Kahla"


def test_gazetteer_geocoder_cannot_use_the_network(gazetteer: Gazetteer) -> None:
    with pytest.raises(GeocoderServiceError, match="offline"):
        GazetteerGeocoder(gazetteer)._call_geocoder("https://example.org/search", lambda x: x)


class FakeGeocoder(Geocoder):  # type: ignore[misc]
    """Stands in for a remote geocoder: answers one address, counts calls, never does I/O."""

    def __init__(self, name: str = "fake", fail: bool = False) -> None:
        super().__init__()
        self.name = name
        self.fail = fail
        self.calls: list[Any] = []

    def geocode(self, query: Any, exactly_one: bool = True, timeout: float | None = None) -> Any:
        self.calls.append((query, exactly_one, timeout))
        if self.fail:
            raise GeocoderUnavailable("service down")
        if query != "Somewhere 1":
            return None
        location = Location("Somewhere 1, Elsewhere", (51.0, 12.0), {"osm_id": 1})
        return location if exactly_one else [location]


def test_chain_asks_in_order_and_tags_the_answer(gazetteer: Gazetteer) -> None:
    fake = FakeGeocoder()
    chain = GeocoderChain([GazetteerGeocoder(gazetteer), fake])
    local = chain.geocode("Am Anger 28, Jena")
    assert local is not None and local.raw["geocoder"] == "gazetteer" and fake.calls == []
    remote = chain.geocode("Somewhere 1", timeout=3)
    assert remote is not None and remote.raw == {"osm_id": 1, "geocoder": "fake"}
    assert fake.calls == [("Somewhere 1", True, 3)]
    listed = chain.geocode("Somewhere 1", exactly_one=False)
    assert isinstance(listed, list) and listed[0].raw["geocoder"] == "fake"
    assert chain.geocode("Nowhere 5") is None


def test_chain_skips_failing_geocoders_and_reports_total_failure(gazetteer: Gazetteer) -> None:
    chain = GeocoderChain([FakeGeocoder("down", fail=True), FakeGeocoder()])
    found = chain.geocode("Somewhere 1")
    assert found is not None and found.raw["geocoder"] == "fake"
    failing = GeocoderChain([GazetteerGeocoder(gazetteer), FakeGeocoder("down", fail=True)])
    assert failing.geocode("Am Anger 28") is not None  # answered before the failing one
    with pytest.raises(GeocoderUnavailable):
        failing.geocode("Nowhere 5")


@pytest.mark.parametrize(
    ("kind", "url", "cls", "domain", "scheme"),
    [
        ("nominatim", "https://nominatim.example.org", Nominatim, "nominatim.example.org", "https"),
        (
            "nominatim",
            "https://geo.example.org/nominatim/search/",
            Nominatim,
            "geo.example.org/nominatim",
            "https",
        ),
        ("photon", "http://localhost:2322", Photon, "localhost:2322", "http"),
        ("photon", "https://photon.example.org/api", Photon, "photon.example.org", "https"),
    ],
)
def test_remote_geocoder_builds_without_contacting(
    kind: Any, url: str, cls: Any, domain: str, scheme: str
) -> None:
    remote = remote_geocoder(
        kind, url, user_agent="district-safety-map-test", timeout=4, min_delay_seconds=1.5, cache_size=8
    )
    assert isinstance(remote, RemoteGeocoder) and remote.name == kind
    inner = remote.geocoder
    assert type(inner) is cls
    assert (inner.domain, inner.scheme, inner.timeout) == (domain, scheme, 4)
    assert inner.headers["User-Agent"] == "district-safety-map-test"
    assert remote.rate_limited.min_delay_seconds == 1.5
    assert remote.cache_info().maxsize == 8  # the autouse fixture would have failed any connection


def test_remote_geocoder_caches_and_passes_options(monkeypatch: pytest.MonkeyPatch) -> None:
    remote = remote_geocoder(
        "nominatim",
        "https://nominatim.example.org",
        "test",
        timeout=2,
        min_delay_seconds=0.0,
        cache_size=4,
        geocode_options={"country_codes": "de"},
    )
    calls: list[tuple[Any, dict[str, Any]]] = []

    def fake_geocode(query: Any, **kwargs: Any) -> Any:
        calls.append((query, kwargs))
        return Location("Am Anger 28, Jena", (50.93, 11.59), {}) if "Anger" in str(query) else None

    monkeypatch.setattr(remote.geocoder, "geocode", fake_geocode)
    first = remote.geocode("Am Anger 28")
    again = remote.geocode("Am  Anger 28")  # same query after whitespace folding
    assert first is again and first is not None
    assert remote.geocode("Nowhere") is None and remote.geocode("Nowhere") is None
    assert calls == [
        ("Am Anger 28", {"country_codes": "de", "exactly_one": True}),
        ("Nowhere", {"country_codes": "de", "exactly_one": True}),
    ]
    assert remote.cache_info().hits == 2


def test_remote_geocoder_errors_are_raised_not_cached(monkeypatch: pytest.MonkeyPatch) -> None:
    remote = remote_geocoder("photon", "https://photon.example.org", "test", min_delay_seconds=0.0)
    attempts = []

    def down(query: Any, **kwargs: Any) -> Any:
        attempts.append(query)
        raise GeocoderUnavailable("down")

    monkeypatch.setattr(remote.geocoder, "geocode", down)
    for _ in range(2):
        with pytest.raises(GeocoderUnavailable):
            remote.geocode("Am Anger 28")
    assert len(attempts) == 2


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("nominatim", "ftp://x.org", "ua"), "http"),
        (("nominatim", "https://x.org/?q=1", "ua"), "http"),
        (("photon", "https://x.org", " "), "user agent"),
        (("google", "https://x.org", "ua"), "unknown geocoder kind"),
    ],
)
def test_remote_geocoder_rejects_bad_settings(args: tuple[Any, ...], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        remote_geocoder(*args)


def test_public_nominatim_needs_one_second_delay() -> None:
    with pytest.raises(ValueError, match="one request per second"):
        remote_geocoder("nominatim", "https://nominatim.openstreetmap.org", "ua", min_delay_seconds=0.2)


# --- micro-benchmark ----------------------------------------------------------------------------

_SYLLABLES = [
    "an",
    "ber",
    "ca",
    "dorf",
    "el",
    "fried",
    "gar",
    "hain",
    "il",
    "jo",
    "karl",
    "lin",
    "mar",
    "nord",
    "ost",
    "pe",
    "quel",
    "ro",
    "sen",
    "tal",
    "ul",
    "vo",
    "wie",
    "zo",
]
_SUFFIXES = ["straße", "weg", "platz", "gasse", "ring", "allee"]


def _synthetic_points(count: int, houses: int, seed: int = 7) -> Iterator[AddressPoint]:
    rng = random.Random(seed)
    names: set[str] = set()
    while len(names) < count // houses:
        stem = "".join(rng.choice(_SYLLABLES) for _ in range(rng.randint(2, 4))).capitalize()
        names.add(stem + rng.choice(_SUFFIXES))
    for name in sorted(names):
        place = rng.choice(["Jena", "Kahla", "Weimar", "Apolda"])
        lon, lat = 11.5 + rng.random() * 0.2, 50.85 + rng.random() * 0.1
        for n in range(1, houses + 1):
            yield AddressPoint(name, str(n), "07743", place, lon + n * 1e-5, lat, "synthetic")


def test_benchmark_50000_points(capsys: pytest.CaptureFixture[str]) -> None:
    """Prints timings; asserts only that the queries work (timing depends on the machine)."""
    started = time.perf_counter()
    points = list(_synthetic_points(50_000, houses=20))
    gazetteer = Gazetteer(points)
    build_ms = (time.perf_counter() - started) * 1000
    rng = random.Random(1)
    sample = rng.sample(points, 200)

    def typo(text: str) -> str:
        i = rng.randrange(1, len(text) - 1)
        return text[:i] + text[i + 1 :]

    workloads = {
        "exact street + number": [f"{p.street} {p.housenumber}, {p.place}" for p in sample],
        "typo (fuzzy)": [f"{typo(p.street)} {p.housenumber}" for p in sample],
        "street only": [p.street for p in sample],
        "no match": [f"Qxq{i}zzy Allee 3" for i in range(200)],
    }
    lines = [
        f"gazetteer: {len(gazetteer)} points, {gazetteer.street_count} streets, built in {build_ms:.0f} ms"
    ]
    for label, queries in workloads.items():
        started = time.perf_counter()
        results = [gazetteer.search(q) for q in queries]
        per_query = (time.perf_counter() - started) / len(queries) * 1000
        lines.append(f"  {label:<22} {per_query:.3f} ms/query")
        if label == "exact street + number":
            assert all(r and r[0].score == 100 for r in results)
        if label == "typo (fuzzy)":
            hits = sum(1 for r, p in zip(results, sample, strict=True) if r and r[0].point == p)
            lines.append(f"  typo top-1 accuracy     {hits / len(sample):.0%}")
            assert hits / len(sample) > 0.8
    with capsys.disabled():
        print("\n" + "\n".join(lines))
