"""The gazetteer: an index of address points, searched by normalised street, exactly or fuzzily.

Why offline first: citizens type their home address to find their contact office. Sending
every such address to a public geocoder would hand it to a third party and tie the service to
someone else's rate limits and uptime. The Länder publish house coordinates as open data
(usually in ETRS89 / UTM, EPSG:25832 or 25833), and the office layer has its own addresses, so
most queries can be answered from a local index. Remote geocoders (Nominatim, Photon) are only
built by :func:`.adapters.remote_geocoder` when an operator configured one, and a
:class:`.adapters.GeocoderChain` asks them after the offline one.

People write the same street in many ways ("Anna-Siemsen-Straße", "anna siemsen str",
"Anna Siemsen Str.27"), so streets are compared by a normalised key and, failing an exact hit,
by fuzzy similarity over the distinct street keys only (a few thousand per city), never over
all points: that keeps a lookup well below the time budget of an interactive request.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from rapidfuzz import fuzz, process

from .normalise import ParsedAddress, normalize_housenumber, normalize_place, normalize_street, parse_address

# --- scoring constants --------------------------------------------------------------------------
# Below this street similarity (0..100) two street names are taken to be different streets:
# "am anger" / "am anker" (88) still match, unrelated names (typically < 60) do not.
STREET_CUTOFF = 70.0
# Candidates scoring below this are dropped by Gazetteer.search unless the caller asks otherwise.
DEFAULT_MIN_SCORE = 60.0
# How many similar street keys fuzzy matching expands into points; more only costs time.
FUZZY_STREETS = 8
# A fuzzy street match never reaches 100: 100 means "this exact street and house".
FUZZY_MAX = 99.0
# The house exists but the suffix differs (27 asked, 27a found): close, but not the same door.
SUFFIX_PENALTY = 8.0
# The house number is not on the street: the answer is only "somewhere on this street".
WRONG_NUMBER_PENALTY = 25.0
WRONG_NUMBER_MAX_EXTRA = 15.0  # plus one point per house number of distance, up to this
# No house number asked: any house of the street is an equally good, street-level answer.
STREET_ONLY_PENALTY = 5.0
PLACE_PENALTY = 15.0  # the query names another place than the point's
POSTCODE_PENALTY = 10.0  # smaller: postcodes are misremembered more often than town names
# Better precision first when scores tie (e.g. official house coordinate before an office point).
PRECISION_ORDER = ("address", "street", "district", "municipality", "unknown")


@dataclass(frozen=True, slots=True)
class AddressPoint:
    """One address with a coordinate in lon/lat (EPSG:4326).

    ``precision`` says what the coordinate stands for: "address" (this house), "street" (a
    house nearby on the same street), as in the ``location_precision`` of office features.
    ``ref`` links back to the record it came from (e.g. an office id), if any.
    """

    street: str
    housenumber: str | None
    postcode: str | None
    place: str | None
    lon: float
    lat: float
    source: str
    precision: str = "address"
    ref: str | None = None

    @property
    def address(self) -> str:
        """ "Anna-Siemsen-Straße 27, 07745 Jena": the form a German reader expects."""
        head = f"{self.street} {self.housenumber}" if self.housenumber else self.street
        tail = " ".join(p for p in (self.postcode, self.place) if p)
        return f"{head}, {tail}" if tail else head


@dataclass(frozen=True, slots=True)
class Candidate:
    """A search hit. ``score`` is 0..100 (100: exact street and house, place not contradicted).

    ``matched`` is the point's address text. ``precision`` is what the hit is good for: the
    point's own precision when the house number matched, otherwise at best "street".
    """

    point: AddressPoint
    score: float
    matched: str
    precision: str


@dataclass(slots=True)
class _PlaceGroup:
    """Points of one street in one place: "Bahnhofstraße" in Jena and in Kahla are two groups."""

    place_key: str
    points: list[AddressPoint] = field(default_factory=list)
    by_number: dict[str, list[AddressPoint]] = field(default_factory=dict)


@dataclass(slots=True)
class _Street:
    key: str
    groups: dict[str, _PlaceGroup] = field(default_factory=dict)


def _compact(key: str) -> str:
    # "Siemsenstraße" and "Siemsen-Straße" are the same street to anyone typing an address.
    return key.replace(" ", "")


def _number_part(housenumber: str | None) -> int | None:
    match = re.match(r"\d+", housenumber or "")
    return int(match.group()) if match else None


def _precision_rank(precision: str) -> int:
    return PRECISION_ORDER.index(precision) if precision in PRECISION_ORDER else len(PRECISION_ORDER)


def _place_agrees(query_place: str, point_place: str) -> bool:
    # "Jena" and "Jena-Lobeda" agree (a district of the town), and so does a typo like "Jnea".
    return (
        query_place == point_place
        or point_place.startswith(query_place + " ")
        or query_place.startswith(point_place + " ")
        or fuzz.ratio(query_place, point_place) >= 85
    )


def _hn_sort_key(point: AddressPoint) -> tuple[int, str]:
    number = _number_part(point.housenumber)
    return (number if number is not None else 1 << 30, point.housenumber or "")


class Gazetteer:
    """Address points indexed by normalised street, for fast exact and fuzzy lookup.

    Exact lookups are dictionary hits on the compact street key. Fuzzy matching runs rapidfuzz
    over the distinct street keys only, then expands the few best streets into their points.
    Build it once (``add`` at start-up); ``search`` only reads and is safe from several threads.
    """

    def __init__(self, points: Iterable[AddressPoint] = ()) -> None:
        self._streets: dict[str, _Street] = {}  # compact key → street
        self._keys: list[str] = []  # spaced keys, index-aligned with _compacts and _street_list
        self._compacts: list[str] = []
        self._street_list: list[_Street] = []
        self._places: set[str] = set()
        self._count = 0
        self.add(points)

    def __len__(self) -> int:
        return self._count

    @property
    def street_count(self) -> int:
        return len(self._street_list)

    def add(self, points: Iterable[AddressPoint]) -> int:
        """Index more points; returns how many were added. Points without a street are skipped."""
        added = 0
        touched: dict[int, _PlaceGroup] = {}
        # Many points share a street and place: normalise each distinct name once.
        street_keys: dict[str, str] = {}
        place_keys: dict[str, str] = {}
        for point in points:
            key = street_keys.get(point.street)
            if key is None:
                key = street_keys[point.street] = normalize_street(point.street)
            if not key:
                continue
            compact = _compact(key)
            street = self._streets.get(compact)
            if street is None:
                street = self._streets[compact] = _Street(key)
                self._keys.append(key)
                self._compacts.append(compact)
                self._street_list.append(street)
            place_key = ""
            if point.place:
                place_key = place_keys.get(point.place) or place_keys.setdefault(
                    point.place, normalize_place(point.place)
                )
            group = street.groups.get(place_key)
            if group is None:
                group = street.groups[place_key] = _PlaceGroup(place_key)
            group.points.append(point)
            if point.housenumber:
                group.by_number.setdefault(normalize_housenumber(point.housenumber), []).append(point)
            touched[id(group)] = group
            if place_key:
                self._places.add(place_key)
            added += 1
        for group in touched.values():
            group.points.sort(key=_hn_sort_key)
        self._count += added
        return added

    def _fuzzy_streets(self, key: str) -> list[tuple[_Street, float]]:
        """Similar streets: token order ignored ("siemsen anna str"), and spacing ignored
        ("siemsenstr" vs "anna siemsen str") — the better of the two similarities counts."""
        best: dict[int, float] = {}
        searches: tuple[tuple[str, list[str], Callable[..., float]], ...] = (
            (key, self._keys, fuzz.token_sort_ratio),
            (_compact(key), self._compacts, fuzz.ratio),
        )
        for query, choices, scorer in searches:
            for _, score, index in process.extract(
                query, choices, scorer=scorer, limit=FUZZY_STREETS, score_cutoff=STREET_CUTOFF
            ):
                best[index] = max(best.get(index, 0.0), float(score))
        ranked = sorted(best.items(), key=lambda item: -item[1])[:FUZZY_STREETS]
        return [(self._street_list[i], min(score, FUZZY_MAX)) for i, score in ranked]

    def _resolve_streets(self, key: str, place: str | None) -> tuple[list[tuple[_Street, float]], str | None]:
        street = self._streets.get(_compact(key))
        if street is not None:
            return [(street, 100.0)], place
        if place is None:
            # "Anna-Siemsen-Straße Jena": no number or comma tells where the street ends.
            words = key.split()
            for k in (1, 2):
                if len(words) > k and " ".join(words[-k:]) in self._places:
                    street = self._streets.get("".join(words[:-k]))
                    if street is not None:
                        return [(street, 100.0)], " ".join(words[-k:])
        return self._fuzzy_streets(key), place

    def search(
        self, query: str | ParsedAddress, limit: int = 5, min_score: float = DEFAULT_MIN_SCORE
    ) -> list[Candidate]:
        """Best candidates for a free-text (or already parsed) address, best first.

        Exact street + house number scores 100. A fuzzy street scores its similarity (< 100).
        A house number missing on the street gives the nearest houses, clearly lower; no house
        number gives the street's houses (precision "street"), alternating between places with
        the same street name. A place or postcode that contradicts the point lowers the score.
        """
        parsed = query if isinstance(query, ParsedAddress) else parse_address(query)
        if not parsed.street or limit <= 0:
            return []
        key = normalize_street(parsed.street)
        if not key:
            return []
        streets, place = self._resolve_streets(key, parsed.place)
        query_place = normalize_place(place) if place else None
        number = normalize_housenumber(parsed.housenumber) if parsed.housenumber else None

        scored: list[tuple[tuple[Any, ...], Candidate]] = []
        for street, street_score in streets:
            for group in street.groups.values():
                penalty = 0.0
                if query_place and group.place_key and not _place_agrees(query_place, group.place_key):
                    penalty += PLACE_PENALTY
                for rank, (point, score, precision) in enumerate(
                    self._group_hits(group, number, street_score - penalty, limit)
                ):
                    if parsed.postcode and point.postcode and point.postcode != parsed.postcode:
                        score -= POSTCODE_PENALTY
                    score = round(max(0.0, min(100.0, score)), 1)
                    if score < min_score:
                        continue
                    order = (
                        -score,
                        rank,
                        _precision_rank(precision),
                        group.place_key,
                        street.key,
                        _hn_sort_key(point),
                    )
                    scored.append((order, Candidate(point, score, point.address, precision)))
        scored.sort(key=lambda item: item[0])
        out: list[Candidate] = []
        seen: set[tuple[Any, ...]] = set()
        for _, candidate in scored:
            p = candidate.point
            identity = (p.address, round(p.lon, 6), round(p.lat, 6))
            if identity in seen:
                continue
            seen.add(identity)
            out.append(candidate)
            if len(out) >= limit:
                break
        return out

    @staticmethod
    def _group_hits(
        group: _PlaceGroup, number: str | None, base: float, limit: int
    ) -> list[tuple[AddressPoint, float, str]]:
        """(point, score, precision) of one street-in-a-place, best first."""

        def street_level(point: AddressPoint) -> str:
            return "street" if point.precision == "address" else point.precision

        if number is None:
            return [(p, base - STREET_ONLY_PENALTY, street_level(p)) for p in group.points[:limit]]
        exact = group.by_number.get(number)
        if exact:
            ordered = sorted(exact, key=lambda p: _precision_rank(p.precision))
            return [(p, base, p.precision) for p in ordered]
        wanted = _number_part(number)
        hits: list[tuple[float, AddressPoint, float, str]] = []
        for p in group.points:
            have = _number_part(p.housenumber)
            if wanted is not None and have == wanted:
                hits.append((0.0, p, base - SUFFIX_PENALTY, p.precision))
                continue
            distance = (
                float(abs(have - wanted))
                if have is not None and wanted is not None
                else WRONG_NUMBER_MAX_EXTRA
            )
            extra = min(WRONG_NUMBER_MAX_EXTRA, distance)
            hits.append((distance, p, base - WRONG_NUMBER_PENALTY - extra, street_level(p)))
        hits.sort(key=lambda h: (h[0], _hn_sort_key(h[1])))
        return [(p, score, precision) for _, p, score, precision in hits[:limit]]
