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

Where the points live: a few (the offices' own addresses, a test's list) in memory; the
imported ones (a Land's house coordinates: a million points) in the store, looked up by the
indexed compact street key. Only the distinct street keys of the store are held in memory,
and only once a fuzzy match needs them, so a worker starts at once and stays small.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from rapidfuzz import fuzz, process

from ...store.base import AddressRow, AddressSource, AddressStreet
from .normalise import ParsedAddress, normalize_housenumber, normalize_place, normalize_street, parse_address

# --- scoring constants --------------------------------------------------------------------------
# Below this street similarity (0..100) two street names are taken to be different streets:
# "am anger" / "am anker" (88) still match, unrelated names (typically < 60) do not.
STREET_CUTOFF = 70.0
# Candidates scoring below this are dropped by Gazetteer.search unless the caller asks otherwise.
DEFAULT_MIN_SCORE = 60.0
# Street keys whose similar streets are remembered (cleared when full).
FUZZY_MEMO_SIZE = 1024
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
# A street name found in more places than this (a Land has hundreds of "Hauptstraße") is read
# from the store only in the places that agree with the query (or the first ones by name):
# all of them would cost milliseconds and could only give an ambiguous answer anyway.
MAX_PLACES = 12


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
    ``exact_street``: the street's normalised name is the one asked for (not merely similar);
    ``place_agrees``: the place (or, without one, the postcode) asked for does not contradict
    the point's; ``number_match``: "exact", "suffix" (27 asked, 27a found), "other" (another
    house of the street) or "none" (no number asked).
    """

    point: AddressPoint
    score: float
    matched: str
    precision: str
    exact_street: bool = False
    place_agrees: bool = True
    number_match: str = "exact"


@dataclass(slots=True)
class _PlaceGroup:
    """Points of one street in one place: "Bahnhofstraße" in Jena and in Kahla are two groups."""

    place_key: str
    points: list[AddressPoint] = field(default_factory=list)
    by_number: dict[str, list[AddressPoint]] = field(default_factory=dict)

    def add(self, point: AddressPoint, number_key: str | None = None) -> None:
        self.points.append(point)
        if point.housenumber:
            key = number_key if number_key is not None else normalize_housenumber(point.housenumber)
            self.by_number.setdefault(key, []).append(point)


@dataclass(slots=True)
class _Street:
    key: str
    groups: dict[str, _PlaceGroup] = field(default_factory=dict)


class AddressStore(Protocol):
    """The part of a :class:`~mapservice.store.base.Store` the gazetteer reads."""

    def address_places(self, street_key: str) -> list[str]: ...

    def addresses_on(
        self, street_key: str, place_keys: Sequence[str] | None = None, housenumber_key: str | None = None
    ) -> list[tuple[str, AddressRow]]: ...

    def address_streets(self) -> list[AddressStreet]: ...

    def address_sources(self) -> list[AddressSource]: ...


def compact_key(key: str) -> str:
    """The stored street key: "Siemsenstraße" and "Siemsen-Straße" are the same street to
    anyone typing an address, so spaces do not count."""
    return key.replace(" ", "")


_compact = compact_key


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


def point_from_row(source: str, row: AddressRow) -> AddressPoint:
    street, housenumber, postcode, place, lon, lat, precision, _, _, _, ref = row
    return AddressPoint(street, housenumber, postcode, place, lon, lat, source, precision, ref)


class Gazetteer:
    """Address points indexed by normalised street, for fast exact and fuzzy lookup.

    Points given to the constructor (or ``add``) are held in memory; with a ``store``, the
    store's imported points are searched as well, exact streets by the store's index, fuzzy
    ones over the store's distinct street keys (read on the first fuzzy search and kept: build
    a new Gazetteer for a new version of the addresses). ``search`` only reads and is safe
    from several threads.
    """

    def __init__(self, points: Iterable[AddressPoint] = (), store: AddressStore | None = None) -> None:
        self._streets: dict[str, _Street] = {}  # compact key → street (points in memory)
        self._places: set[str] = set()
        self._count = 0
        self._store = store
        self._choices: tuple[list[str], list[str]] | None = None  # spaced, compact keys
        self._store_places: set[str] | None = None
        self._lock = threading.Lock()
        # Similar streets per street key: a miss asks twice (the answer, then the "did you
        # mean" candidates), and the fuzzy pass over a city's street names is the slow part.
        self._fuzzy_memo: dict[str, list[tuple[str, float]]] = {}
        self.add(points)

    def __len__(self) -> int:
        """Points in memory plus those in the store."""
        stored = sum(s.row_count for s in self._store.address_sources()) if self._store else 0
        return self._count + stored

    @property
    def street_count(self) -> int:
        return len(self._fuzzy_choices()[1])

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
            place_key = ""
            if point.place:
                place_key = place_keys.get(point.place) or place_keys.setdefault(
                    point.place, normalize_place(point.place)
                )
            group = street.groups.get(place_key)
            if group is None:
                group = street.groups[place_key] = _PlaceGroup(place_key)
            group.add(point)
            touched[id(group)] = group
            if place_key:
                self._places.add(place_key)
            added += 1
        for group in touched.values():
            group.points.sort(key=_hn_sort_key)
        self._count += added
        self._choices = None
        self._fuzzy_memo = {}
        return added

    # -- what the store knows -------------------------------------------------------------------

    def _fuzzy_choices(self) -> tuple[list[str], list[str]]:
        """Spaced and compact keys of every distinct street, index-aligned."""
        choices = self._choices
        if choices is not None:
            return choices
        with self._lock:
            if self._choices is None:
                seen: dict[str, str] = {c: s.key for c, s in self._streets.items()}
                if self._store is not None:
                    for street in self._store.address_streets():
                        seen.setdefault(street.key, street.words)
                self._choices = (list(seen.values()), list(seen.keys()))
            return self._choices

    def places(self) -> set[str]:
        """Every place key (memory and store): tells a place name at the end of a street."""
        found = self._store_places
        if found is None:
            # Built once, by one thread, and published whole (as the fuzzy street list above).
            with self._lock:
                found = self._store_places
                if found is None:
                    found = set()
                    if self._store is not None:
                        for source in self._store.address_sources():
                            found.update(normalize_place(name) for name, _ in source.places)
                    self._store_places = found
        return self._places | found

    def _street_places(self, compact: str) -> tuple[list[str], list[str]]:
        """(place keys in memory, place keys in the store) of a street; both empty: unknown."""
        memory = self._streets.get(compact)
        stored = self._store.address_places(compact) if self._store is not None else []
        return (list(memory.groups) if memory else []), stored

    def _groups(
        self,
        compact: str,
        places: tuple[list[str], list[str]],
        query_place: str | None,
        number: str | None = None,
    ) -> list[_PlaceGroup]:
        """The street's points by place: those in memory, and those read from the store.

        With a house ``number``, the store is asked for that number first: where it exists in
        a place that agrees with the query, those houses are all a lookup needs (the street's
        other houses would only score lower), so a street of hundreds of houses costs a few
        rows. Otherwise every house of the street is read, for the nearest numbers.
        """
        stored_places = places[1]
        memory = self._streets.get(compact)
        groups: dict[str, _PlaceGroup] = dict(memory.groups) if memory else {}
        if not stored_places or self._store is None:
            return list(groups.values())
        wanted: list[str] | None = None
        if len(stored_places) > MAX_PLACES:
            agreeing = [p for p in stored_places if not p or (query_place and _place_agrees(query_place, p))]
            wanted = agreeing or stored_places[:MAX_PLACES]
        rows: list[tuple[str, AddressRow]] = []
        if number is not None:
            rows = self._store.addresses_on(compact, wanted, number)
            if not any(not query_place or not r[8] or _place_agrees(query_place, r[8]) for _, r in rows):
                rows = []
        if not rows:
            rows = self._store.addresses_on(compact, wanted)
        merged: dict[str, _PlaceGroup] = {}
        for source, row in rows:
            place_key = row[8]
            group = merged.get(place_key)
            if group is None:
                group = merged[place_key] = _PlaceGroup(place_key)
                held = groups.get(place_key)
                if held is not None:  # the same street and place in memory (an office)
                    for p in held.points:
                        group.add(p)
            group.add(point_from_row(source, row), row[9])
        for group in merged.values():
            group.points.sort(key=_hn_sort_key)
        groups.update(merged)
        return list(groups.values())

    # -- searching ------------------------------------------------------------------------------

    def _fuzzy_streets(self, key: str) -> list[tuple[str, float]]:
        """Similar streets: token order ignored ("siemsen anna str"), and spacing ignored
        ("siemsenstr" vs "anna siemsen str") — the better of the two similarities counts."""
        hit = self._fuzzy_memo.get(key)
        if hit is not None:
            return hit
        keys, compacts = self._fuzzy_choices()
        best: dict[int, float] = {}
        searches: tuple[tuple[str, list[str], Callable[..., float]], ...] = (
            (key, keys, fuzz.token_sort_ratio),
            (_compact(key), compacts, fuzz.ratio),
        )
        for query, choices, scorer in searches:
            for _, score, index in process.extract(
                query, choices, scorer=scorer, limit=FUZZY_STREETS, score_cutoff=STREET_CUTOFF
            ):
                best[index] = max(best.get(index, 0.0), float(score))
        ranked = sorted(best.items(), key=lambda item: -item[1])[:FUZZY_STREETS]
        found = [(compacts[i], min(score, FUZZY_MAX)) for i, score in ranked]
        if len(self._fuzzy_memo) >= FUZZY_MEMO_SIZE:
            self._fuzzy_memo = {}  # a new dict, not clear(): another thread may be reading it
        self._fuzzy_memo[key] = found
        return found

    def _resolve_streets(
        self, key: str, place: str | None
    ) -> tuple[list[tuple[str, float, tuple[list[str], list[str]] | None]], str | None]:
        """(compact key, street score, its places if known yet) of the streets to expand."""
        compact = _compact(key)
        places = self._street_places(compact)
        if places[0] or places[1]:
            return [(compact, 100.0, places)], place
        if place is None:
            # "Anna-Siemsen-Straße Jena": no number or comma tells where the street ends.
            words = key.split()
            known = self.places()
            for k in (1, 2):
                if len(words) > k and " ".join(words[-k:]) in known:
                    head = "".join(words[:-k])
                    places = self._street_places(head)
                    if places[0] or places[1]:
                        return [(head, 100.0, places)], " ".join(words[-k:])
        return [(c, score, None) for c, score in self._fuzzy_streets(key)], place

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
        for compact, street_score, known_places in streets:
            places = known_places if known_places is not None else self._street_places(compact)
            exact = street_score >= 100.0
            for group in self._groups(compact, places, query_place, number):
                penalty = 0.0
                agrees = True
                if query_place and group.place_key and not _place_agrees(query_place, group.place_key):
                    penalty += PLACE_PENALTY
                    agrees = False
                for rank, (point, score, precision, match) in enumerate(
                    self._group_hits(group, number, street_score - penalty, limit)
                ):
                    point_agrees = agrees
                    if parsed.postcode and point.postcode and point.postcode != parsed.postcode:
                        score -= POSTCODE_PENALTY
                        if not query_place:  # a postcode alone names the place asked for
                            point_agrees = False
                    score = round(max(0.0, min(100.0, score)), 1)
                    if score < min_score:
                        continue
                    order = (
                        -score,
                        rank,
                        _precision_rank(precision),
                        group.place_key,
                        compact,
                        _hn_sort_key(point),
                    )
                    candidate = Candidate(point, score, point.address, precision, exact, point_agrees, match)
                    scored.append((order, candidate))
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
    ) -> list[tuple[AddressPoint, float, str, str]]:
        """(point, score, precision, number match) of one street-in-a-place, best first."""

        def street_level(point: AddressPoint) -> str:
            return "street" if point.precision == "address" else point.precision

        if number is None:
            return [(p, base - STREET_ONLY_PENALTY, street_level(p), "none") for p in group.points[:limit]]
        exact = group.by_number.get(number)
        if exact:
            ordered = sorted(exact, key=lambda p: _precision_rank(p.precision))
            return [(p, base, p.precision, "exact") for p in ordered]
        wanted = _number_part(number)
        hits: list[tuple[float, AddressPoint, float, str, str]] = []
        for p in group.points:
            have = _number_part(p.housenumber)
            if wanted is not None and have == wanted:
                hits.append((0.0, p, base - SUFFIX_PENALTY, p.precision, "suffix"))
                continue
            distance = (
                float(abs(have - wanted))
                if have is not None and wanted is not None
                else WRONG_NUMBER_MAX_EXTRA
            )
            extra = min(WRONG_NUMBER_MAX_EXTRA, distance)
            hits.append((distance, p, base - WRONG_NUMBER_PENALTY - extra, street_level(p), "other"))
        hits.sort(key=lambda h: (h[0], _hn_sort_key(h[1])))
        return [(p, score, precision, match) for _, p, score, precision, match in hits[:limit]]
