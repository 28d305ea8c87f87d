"""Offline geocoding of German street addresses: normalise, parse, look up in a gazetteer.

Why offline first: citizens type their home address to find their contact office. Sending
every such address to a public geocoder would hand it to a third party and tie the service to
someone else's rate limits and uptime. The Länder publish house coordinates as open data
(usually in ETRS89 / UTM, EPSG:25832 or 25833), and the office layer has its own addresses, so
most queries can be answered from a local index. Remote geocoders (Nominatim, Photon) are only
built by :func:`remote_geocoder` when an operator configured one, and a :class:`GeocoderChain`
asks them after the offline one.

People write the same street in many ways ("Anna-Siemsen-Straße", "anna siemsen str",
"Anna Siemsen Str.27"), so streets are compared by a normalised key and, failing an exact hit,
by fuzzy similarity over the distinct street keys only (a few thousand per city), never over
all points: that keeps a lookup well below the time budget of an interactive request.
"""

from __future__ import annotations

import csv
import functools
import logging
import math
import re
import unicodedata
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, NamedTuple, overload
from urllib.parse import urlsplit

from geopy.adapters import BaseSyncAdapter
from geopy.exc import GeocoderServiceError, GeopyError
from geopy.extra.rate_limiter import RateLimiter
from geopy.geocoders import Nominatim, Photon
from geopy.geocoders.base import Geocoder
from geopy.location import Location
from pyproj import Transformer
from pyproj.exceptions import CRSError
from rapidfuzz import fuzz, process

log = logging.getLogger(__name__)

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
# Top candidates closer than this in different streets or places make a result ambiguous.
AMBIGUITY_MARGIN = 5.0
# Better precision first when scores tie (e.g. official house coordinate before an office point).
PRECISION_ORDER = ("address", "street", "district", "municipality", "unknown")

COLUMN_ROLES = ("street", "housenumber", "housenumber_suffix", "postcode", "place", "x", "y")
REQUIRED_ROLES = ("street", "x", "y")
MAX_LISTED_PROBLEMS = 200  # the message lists this many; GazetteerError.problems holds all


# --- normalisation and parsing ------------------------------------------------------------------

_UMLAUTS = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue"})
_NON_WORD = re.compile(r"[\W_]+")
# "Pl." / "Marktpl." after folding; only with the dot, because a bare "pl" ending is ambiguous.
_PLATZ_ABBR = re.compile(r"pl\.(?=[\W_]|$)")


def fold(text: str) -> str:
    """Casefold, ß→ss, umlauts→ae/oe/ue, other accents stripped.

    Umlauts are spelled out (not stripped) because that is how Germans type them without the
    keys, and how official data writes them in capitals ("LOEBDERGRABEN"). NFC first, so a
    decomposed "u" + combining diaeresis is an ü too.
    """
    s = unicodedata.normalize("NFC", text).casefold().translate(_UMLAUTS)
    s = unicodedata.normalize("NFKD", s)
    return "".join(ch for ch in s if not unicodedata.combining(ch))


def normalize_street(text: str) -> str:
    """Comparable key of a street name: "Anna-Siemsen-Straße" → "anna siemsen str".

    "straße"/"strasse" at the end of a word become "str" (so "Str.", "Str" and "Straße" agree),
    "Pl." becomes "platz", punctuation and runs of spaces become one space.
    """
    s = _PLATZ_ABBR.sub("platz ", fold(text))
    words: list[str] = []
    for word in _NON_WORD.sub(" ", s).split():
        if word.endswith("strasse"):
            word = word[: -len("strasse")] + "str"
        elif word == "pl":
            word = "platz"
        words.append(word)
    return " ".join(words)


def normalize_place(text: str) -> str:
    """Comparable key of a place name: "Jena-Lobeda" → "jena lobeda"."""
    return " ".join(_NON_WORD.sub(" ", fold(text)).split())


def _compact(key: str) -> str:
    # "Siemsenstraße" and "Siemsen-Straße" are the same street to anyone typing an address.
    return key.replace(" ", "")


def normalize_housenumber(text: str) -> str:
    """ "27 A" → "27a": house number suffixes are written with and without space and in any case."""
    return "".join(fold(text).split())


def _number_part(housenumber: str | None) -> int | None:
    match = re.match(r"\d+", housenumber or "")
    return int(match.group()) if match else None


class ParsedAddress(NamedTuple):
    """Parts of a free-text address; each None when the text did not contain it."""

    street: str | None
    housenumber: str | None  # normalised: "27a", "27-29"
    postcode: str | None
    place: str | None


_POSTCODE_TOKEN = re.compile(r"^\d{5}$")
_ANY_POSTCODE = re.compile(r"(?<!\d)\d{5}(?!\d)")
# "Hauptmarkt 108056 Zwickau": number and postcode run together, as some web pages print them.
_RUN_TOGETHER = re.compile(r"(?<!\d)(\d{1,3})((?:0[1-9]|[1-9]\d)\d{3})(?!\d)")
_HOUSENUMBER_TOKEN = re.compile(r"^\d{1,4}[a-zA-Z]?(?:[-/]\d{1,4}[a-zA-Z]?)?$")
_SUFFIX_TOKEN = re.compile(r"^[a-zA-Z]$")
# "Str.27", "Siemsenstr27": a number glued to the street name.
_GLUED_NUMBER = re.compile(r"(?<=[^\W\d_])(?=\d)|(?<=\.)(?=\d)")
_SEGMENTS = re.compile(r"[,;\n]+")
_NUMBER_WORDS = frozenset({"nr", "nr.", "no", "no.", "hausnummer", "hnr", "hnr."})


def parse_address(text: str) -> ParsedAddress:
    """Split "Anna-Siemsen-Str. 27, Jena" or "Am Anger 28 07743 Jena" into its parts.

    The house number is the first number (1–4 digits, optional letter, "27 A", "2-4") that
    follows a word; numbers followed by a dot inside the street ("Straße des 17. Juni") are
    ordinals, not house numbers. A five-digit number is the postcode. The street is the words
    before the house number (or postcode), everything else is the place. Commas separate parts,
    so "07743 Jena, Am Anger 28" works as well.
    """
    s = unicodedata.normalize("NFC", text).strip()
    if not _ANY_POSTCODE.search(s):
        s = _RUN_TOGETHER.sub(r"\1 \2", s, count=1)
    s = _GLUED_NUMBER.sub(" ", s)
    segments = [[t for t in seg.split() if t.casefold() not in _NUMBER_WORDS] for seg in _SEGMENTS.split(s)]
    segments = [seg for seg in segments if seg]

    postcode: str | None = None
    postcode_at: tuple[int, int] | None = None
    for si, seg in enumerate(segments):
        for ti, token in enumerate(seg):
            if _POSTCODE_TOKEN.match(token.rstrip(".")):
                postcode, postcode_at = token.rstrip("."), (si, ti)
                break
        if postcode:
            break

    housenumber: str | None = None
    number_at: tuple[int, set[int]] | None = None  # segment, token indexes of number and suffix
    for si, seg in enumerate(segments):
        for ti in range(1, len(seg)):
            last = ti == len(seg) - 1
            token = seg[ti].rstrip(".") if last else seg[ti]
            if (si, ti) == postcode_at or not _HOUSENUMBER_TOKEN.match(token):
                continue
            if not any(re.search(r"[^\W\d_]", w) for w in seg[:ti]):
                continue
            used = {ti}
            if ti + 1 < len(seg) and _SUFFIX_TOKEN.match(seg[ti + 1].rstrip(".")):
                token += seg[ti + 1].rstrip(".")
                used.add(ti + 1)
            housenumber, number_at = normalize_housenumber(token), (si, used)
            break
        if housenumber:
            break

    def skipped(si: int) -> set[int]:
        out = set(number_at[1]) if number_at and number_at[0] == si else set()
        if postcode_at and postcode_at[0] == si:
            out.add(postcode_at[1])
        return out

    if number_at is not None:
        street_segment: int | None = number_at[0]
    else:
        street_segment = next(
            (si for si, seg in enumerate(segments) if min(skipped(si), default=len(seg)) > 0), None
        )
    street_words: list[str] = []
    place_words: list[str] = []
    for si, seg in enumerate(segments):
        skip = skipped(si)
        boundary = min(skip, default=len(seg))
        if si == street_segment:
            street_words = seg[:boundary]
            place_words += [t for ti, t in enumerate(seg[boundary:], boundary) if ti not in skip]
        else:
            place_words += [t for ti, t in enumerate(seg) if ti not in skip]
    street = " ".join(street_words).strip(" -") or None
    place = " ".join(place_words).strip(" .-") or None
    return ParsedAddress(street, housenumber, postcode, place)


# --- the index ----------------------------------------------------------------------------------


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


# --- loading ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class GazetteerProblem:
    """One thing wrong in a data file. ``row`` counts the header as row 1, like an editor's line
    number (for rows without line breaks inside quotes); None when the whole file is affected."""

    path: str
    row: int | None
    column: str | None
    message: str

    def __str__(self) -> str:
        where = [self.path]
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column is not None:
            where.append(f"column {self.column!r}")
        return f"{', '.join(where)}: {self.message}"


class GazetteerError(ValueError):
    """Address data that cannot be used. Lists every problem found, not just the first, so one
    round of fixing the file is enough."""

    def __init__(self, problems: Sequence[GazetteerProblem]) -> None:
        self.problems = list(problems)
        lines = [str(p) for p in self.problems[:MAX_LISTED_PROBLEMS]]
        if len(self.problems) > MAX_LISTED_PROBLEMS:
            lines.append(f"... and {len(self.problems) - MAX_LISTED_PROBLEMS} more")
        super().__init__(f"{len(self.problems)} problem(s) in address data:\n" + "\n".join(lines))


@functools.lru_cache(maxsize=16)
def _to_wgs84(crs: str | int) -> Transformer:
    return Transformer.from_crs(crs, 4326, always_xy=True)


def detect_delimiter(header: str) -> str:
    # German exports use ';' because ',' is the decimal separator; others use ','.
    return max((";", ",", "\t"), key=header.count) if any(d in header for d in ";,\t") else ","


def parse_number(text: str) -> float:
    """ "680123,45" (German decimal comma) and "680123.45" alike; ValueError when not a number."""
    s = text.strip()
    if "," in s and "." not in s:
        s = s.replace(",", ".")
    value = float(s)
    if not math.isfinite(value):
        raise ValueError(s)
    return value


def _postcode(text: str) -> str | None:
    s = text.strip()
    # Spreadsheets drop the leading zero of Saxon and Thuringian postcodes (07743 → 7743).
    return s.zfill(5) if re.fullmatch(r"\d{4}", s) else (s or None)


def load_csv(
    path: str | Path,
    columns: Mapping[str, str],
    crs: str | int,
    source: str,
    precision: str = "address",
    bounds: tuple[float, float, float, float] | None = None,
) -> list[AddressPoint]:
    """Address points from a CSV file of house coordinates.

    ``columns`` maps roles to the file's column names: ``street``, ``x``, ``y`` (required),
    ``housenumber``, ``housenumber_suffix``, ``postcode``, ``place`` (optional). ``x``/``y`` are
    in ``crs`` (e.g. 25832 for ETRS89 / UTM 32N, or 4326 for lon/lat) and are reprojected to
    lon/lat. The delimiter (',', ';' or tab) is taken from the header line; UTF-8 with or
    without BOM. ``bounds`` (min lon, min lat, max lon, max lat), if given, rejects points
    outside it, which catches swapped or mislabelled coordinate columns.

    Raises GazetteerError listing every bad row (empty street, missing or non-numeric
    coordinate, position outside lon/lat range or ``bounds``) with row number and column.
    """
    name = str(path)
    problems: list[GazetteerProblem] = []

    def problem(row: int | None, column: str | None, message: str) -> None:
        problems.append(GazetteerProblem(name, row, column, message))

    unknown = sorted(set(columns) - set(COLUMN_ROLES))
    for role in unknown:
        problem(None, None, f"unknown column role {role!r}; known: {', '.join(COLUMN_ROLES)}")
    for role in REQUIRED_ROLES:
        if not columns.get(role):
            problem(None, None, f"no column given for {role!r}")
    try:
        transformer = _to_wgs84(crs)
    except CRSError as exc:
        problem(None, None, f"unknown CRS {crs!r}: {exc}")
    if problems:
        raise GazetteerError(problems)

    try:
        with open(path, encoding="utf-8-sig", newline="") as f:
            text = f.read()
    except (OSError, UnicodeDecodeError) as exc:
        raise GazetteerError([GazetteerProblem(name, None, None, f"cannot read: {exc}")]) from exc
    first_line = text.split("\n", 1)[0]
    reader = csv.reader(text.splitlines(keepends=True), delimiter=detect_delimiter(first_line))
    header = [h.strip() for h in next(reader, [])]
    index: dict[str, int] = {}
    for role, column in columns.items():
        if role not in COLUMN_ROLES or not column:
            continue
        if column in header:
            index[role] = header.index(column)
        else:
            problem(1, column, f"not in the header ({', '.join(header) or 'empty file'})")
    if problems:
        raise GazetteerError(problems)

    def cell(row: list[str], role: str) -> str:
        i = index.get(role)
        return row[i].strip() if i is not None and i < len(row) else ""

    pending: list[tuple[int, list[str], float, float]] = []
    for row in reader:
        line = reader.line_num
        if not any(c.strip() for c in row):
            continue
        if len(row) != len(header):
            problem(line, None, f"{len(row)} fields, the header has {len(header)}")
        if not cell(row, "street"):
            problem(line, columns["street"], "empty street")
        xy: list[float] = []
        for role in ("x", "y"):
            raw = cell(row, role)
            if not raw:
                problem(line, columns[role], "missing coordinate")
                continue
            try:
                xy.append(parse_number(raw))
            except ValueError:
                problem(line, columns[role], f"not a number: {raw!r}")
        if len(xy) == 2:
            pending.append((line, row, xy[0], xy[1]))

    if pending:
        lons, lats = transformer.transform([p[2] for p in pending], [p[3] for p in pending])
    else:
        lons, lats = [], []
    points: list[AddressPoint] = []
    for (line, row, x, y), lon, lat in zip(pending, lons, lats, strict=True):
        bad = False
        if not (math.isfinite(lon) and -180.0 <= lon <= 180.0):
            problem(line, columns["x"], f"x={x} y={y} gives longitude {lon} (CRS {crs})")
            bad = True
        if not (math.isfinite(lat) and -90.0 <= lat <= 90.0):
            problem(line, columns["y"], f"x={x} y={y} gives latitude {lat} (CRS {crs})")
            bad = True
        if not bad and bounds is not None:
            if not bounds[0] <= lon <= bounds[2]:
                problem(line, columns["x"], f"longitude {lon:.6f} outside bounds {bounds}")
                bad = True
            if not bounds[1] <= lat <= bounds[3]:
                problem(line, columns["y"], f"latitude {lat:.6f} outside bounds {bounds}")
                bad = True
        street = cell(row, "street")
        if bad or not street:
            continue
        housenumber = cell(row, "housenumber") + cell(row, "housenumber_suffix")
        points.append(
            AddressPoint(
                street=street,
                housenumber=housenumber or None,
                postcode=_postcode(cell(row, "postcode")),
                place=cell(row, "place") or None,
                lon=float(lon),
                lat=float(lat),
                source=source,
                precision=precision,
            )
        )
    if problems:
        raise GazetteerError(problems)
    return points


def points_from_offices(
    features: Iterable[Mapping[str, Any]],
    source: str = "contact-offices",
    precisions: Collection[str] = ("address", "street"),
) -> list[AddressPoint]:
    """Address points from ``contact-offices`` GeoJSON features.

    Each keeps its ``location_precision`` (an office placed at the neighbouring house is
    "street"). Features without a point or a street are skipped, and so are precisions outside
    ``precisions``: a coordinate that stands for a whole municipality is no house coordinate,
    and answering with it would keep a GeocoderChain from asking a better geocoder.
    """
    points: list[AddressPoint] = []
    for feature in features:
        geometry = feature.get("geometry")
        props = feature.get("properties") or {}
        if not geometry or geometry.get("type") != "Point" or not props.get("street"):
            continue
        precision = props.get("location_precision") or "unknown"
        if precision not in precisions:
            continue
        lon, lat = geometry["coordinates"][:2]
        housenumber = props.get("housenumber")
        postcode = props.get("postcode")
        place = props.get("place")
        ref = feature.get("id") or props.get("id")
        points.append(
            AddressPoint(
                street=str(props["street"]),
                housenumber=str(housenumber) if housenumber else None,
                postcode=str(postcode) if postcode else None,
                place=str(place) if place else None,
                lon=float(lon),
                lat=float(lat),
                source=source,
                precision=str(precision),
                ref=str(ref) if ref else None,
            )
        )
    return points


# --- geopy integration --------------------------------------------------------------------------


class _NoNetworkAdapter(BaseSyncAdapter):  # type: ignore[misc]
    """Adapter for geocoders that must not do I/O: any request attempt is a bug and fails."""

    def get_json(self, url: str, *, timeout: float, headers: Mapping[str, str]) -> Any:
        raise GeocoderServiceError(f"this geocoder works offline and may not request {url}")

    def get_text(self, url: str, *, timeout: float, headers: Mapping[str, str]) -> str:
        raise GeocoderServiceError(f"this geocoder works offline and may not request {url}")


def geocoder_name(geocoder: Any) -> str:
    """The ``name`` a geocoder reports in ``raw["geocoder"]``; the class name if it has none."""
    name = getattr(geocoder, "name", None)
    return name if isinstance(name, str) and name else type(geocoder).__name__.lower()


GeocodeQuery = str | Mapping[str, str]


def _parsed_from_mapping(query: Mapping[str, str]) -> ParsedAddress:
    """geopy-style structured query: keys street (may include the number), housenumber,
    postalcode/postcode, city/place."""
    street_text = query.get("street") or ""
    parsed = parse_address(street_text) if street_text else ParsedAddress(None, None, None, None)
    housenumber = query.get("housenumber") or parsed.housenumber
    return ParsedAddress(
        parsed.street,
        normalize_housenumber(housenumber) if housenumber else None,
        query.get("postalcode") or query.get("postcode") or parsed.postcode,
        query.get("city") or query.get("place") or parsed.place,
    )


class GazetteerGeocoder(Geocoder):  # type: ignore[misc]
    """A geopy geocoder answering from a Gazetteer, without any network access.

    ``raw`` of each Location holds ``score``, ``precision``, ``source``, ``ref``, the address
    parts, ``ambiguous`` (close candidates in different streets or places) and ``candidates``
    (all hits above ``min_score``, best first) so a caller can offer a choice.
    """

    def __init__(
        self, gazetteer: Gazetteer, *, name: str = "gazetteer", min_score: float = 70.0, limit: int = 5
    ) -> None:
        super().__init__(adapter_factory=_NoNetworkAdapter)
        self.gazetteer = gazetteer
        self.name = name
        self.min_score = min_score
        self.limit = limit

    @overload
    def geocode(
        self, query: GeocodeQuery, exactly_one: Literal[True] = ..., timeout: float | None = ...
    ) -> Location | None: ...

    @overload
    def geocode(
        self, query: GeocodeQuery, exactly_one: Literal[False], timeout: float | None = ...
    ) -> list[Location] | None: ...

    @overload
    def geocode(
        self, query: GeocodeQuery, exactly_one: bool, timeout: float | None = ...
    ) -> Location | list[Location] | None: ...

    def geocode(
        self, query: GeocodeQuery, exactly_one: bool = True, timeout: float | None = None
    ) -> Location | list[Location] | None:
        """Best match (or all matches with ``exactly_one=False``); None when nothing matches,
        as geopy's geocoders do. ``timeout`` is accepted for compatibility and unused."""
        parsed = query if isinstance(query, str) else _parsed_from_mapping(query)
        candidates = self.gazetteer.search(parsed, limit=self.limit, min_score=self.min_score)
        if not candidates:
            return None
        summary = [self._candidate_dict(c) for c in candidates]
        best = candidates[0]
        ambiguous = any(
            best.score - c.score <= AMBIGUITY_MARGIN
            and (normalize_street(c.point.street), normalize_place(c.point.place or ""))
            != (normalize_street(best.point.street), normalize_place(best.point.place or ""))
            for c in candidates[1:]
        )
        locations = [self._location(c, summary, ambiguous) for c in candidates]
        return locations[0] if exactly_one else locations

    @staticmethod
    def _candidate_dict(c: Candidate) -> dict[str, Any]:
        return {
            "address": c.matched,
            "lat": c.point.lat,
            "lon": c.point.lon,
            "score": c.score,
            "precision": c.precision,
            "source": c.point.source,
            "ref": c.point.ref,
        }

    def _location(self, c: Candidate, summary: list[dict[str, Any]], ambiguous: bool) -> Location:
        p = c.point
        raw = {
            "geocoder": self.name,
            "score": c.score,
            "precision": c.precision,
            "source": p.source,
            "ref": p.ref,
            "street": p.street,
            "housenumber": p.housenumber,
            "postcode": p.postcode,
            "place": p.place,
            "lat": p.lat,
            "lon": p.lon,
            "ambiguous": ambiguous,
            "candidates": summary,
        }
        return Location(c.matched, (p.lat, p.lon), raw)


def _tagged(location: Location, name: str) -> Location:
    raw = dict(location.raw) if isinstance(location.raw, Mapping) else {"value": location.raw}
    raw["geocoder"] = name
    return Location(location.address, location.point, raw)


class GeocoderChain(Geocoder):  # type: ignore[misc]
    """Asks geocoders in turn (put the offline one first) and returns the first answer, with
    the answering geocoder's name in ``raw["geocoder"]``.

    A geocoder that fails (GeopyError: timeout, quota, unreachable) is logged and skipped. If no
    geocoder answers and at least one failed, the last error is raised, so a caller can tell
    "not found" (None) from "could not ask" (exception, e.g. HTTP 503).
    """

    def __init__(self, geocoders: Sequence[Geocoder], *, name: str = "chain") -> None:
        super().__init__(adapter_factory=_NoNetworkAdapter)
        self.geocoders = list(geocoders)
        self.name = name

    @overload
    def geocode(
        self, query: GeocodeQuery, exactly_one: Literal[True] = ..., timeout: float | None = ...
    ) -> Location | None: ...

    @overload
    def geocode(
        self, query: GeocodeQuery, exactly_one: Literal[False], timeout: float | None = ...
    ) -> list[Location] | None: ...

    @overload
    def geocode(
        self, query: GeocodeQuery, exactly_one: bool, timeout: float | None = ...
    ) -> Location | list[Location] | None: ...

    def geocode(
        self, query: GeocodeQuery, exactly_one: bool = True, timeout: float | None = None
    ) -> Location | list[Location] | None:
        last_error: GeopyError | None = None
        kwargs: dict[str, Any] = {"exactly_one": exactly_one}
        if timeout is not None:
            kwargs["timeout"] = timeout
        for geocoder in self.geocoders:
            name = geocoder_name(geocoder)
            try:
                result = geocoder.geocode(query, **kwargs)
            except GeopyError as exc:
                log.warning("geocoder %s failed: %s", name, exc)
                last_error = exc
                continue
            if not result:
                continue
            if isinstance(result, Location):
                return _tagged(result, name) if exactly_one else [_tagged(result, name)]
            tagged = [_tagged(loc, name) for loc in result]
            return tagged[0] if exactly_one else tagged
        if last_error is not None:
            raise last_error
        return None


def _cache_key(query: GeocodeQuery) -> str | tuple[tuple[str, str], ...]:
    return " ".join(query.split()) if isinstance(query, str) else tuple(sorted(query.items()))


class RemoteGeocoder(Geocoder):  # type: ignore[misc]
    """A remote geopy geocoder behind a rate limiter and an LRU cache.

    The rate limiter keeps to the provider's usage policy (public Nominatim: one request per
    second); the cache answers repeated queries (also "not found") without asking again.
    Errors are not cached and are raised after ``max_retries`` (default none: a web request
    should not wait for retries). ``geocoder`` is the wrapped geopy geocoder.
    """

    def __init__(
        self,
        geocoder: Any,
        *,
        name: str,
        min_delay_seconds: float,
        cache_size: int,
        max_retries: int = 0,
        geocode_options: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(adapter_factory=_NoNetworkAdapter)  # the wrapped geocoder does the I/O
        self.geocoder = geocoder
        self.name = name
        self.geocode_options = dict(geocode_options or {})
        self.rate_limited = RateLimiter(
            self._ask,
            min_delay_seconds=min_delay_seconds,
            max_retries=max_retries,
            error_wait_seconds=max(min_delay_seconds, 1.0),
            swallow_exceptions=False,
        )
        self._cached = functools.lru_cache(maxsize=cache_size)(self._lookup)

    def _ask(self, query: GeocodeQuery, exactly_one: bool, timeout: float | None) -> Any:
        # Looked up on each call (not bound at construction) so tests can replace the geocoder.
        kwargs: dict[str, Any] = {**self.geocode_options, "exactly_one": exactly_one}
        if timeout is not None:
            kwargs["timeout"] = timeout
        return self.geocoder.geocode(query, **kwargs)

    def _lookup(
        self, key: str | tuple[tuple[str, str], ...], exactly_one: bool, timeout: float | None
    ) -> Location | tuple[Location, ...] | None:
        query: GeocodeQuery = key if isinstance(key, str) else dict(key)
        result = self.rate_limited(query, exactly_one, timeout)
        if result is None or isinstance(result, Location):
            return result
        return tuple(result)

    @overload
    def geocode(
        self, query: GeocodeQuery, exactly_one: Literal[True] = ..., timeout: float | None = ...
    ) -> Location | None: ...

    @overload
    def geocode(
        self, query: GeocodeQuery, exactly_one: Literal[False], timeout: float | None = ...
    ) -> list[Location] | None: ...

    @overload
    def geocode(
        self, query: GeocodeQuery, exactly_one: bool, timeout: float | None = ...
    ) -> Location | list[Location] | None: ...

    def geocode(
        self, query: GeocodeQuery, exactly_one: bool = True, timeout: float | None = None
    ) -> Location | list[Location] | None:
        result = self._cached(_cache_key(query), exactly_one, timeout)
        if result is None or isinstance(result, Location):
            return result
        return list(result)

    def cache_info(self) -> Any:
        """functools cache statistics (hits, misses, maxsize, currsize)."""
        return self._cached.cache_info()


_REMOTE_CLASSES: dict[str, tuple[Any, str]] = {
    # kind → (geopy class, endpoint path geopy appends itself and we strip from a pasted URL)
    "nominatim": (Nominatim, "/search"),
    "photon": (Photon, "/api"),
}
PUBLIC_NOMINATIM = "nominatim.openstreetmap.org"


def remote_geocoder(
    kind: Literal["nominatim", "photon"],
    url: str,
    user_agent: str,
    timeout: float = 5.0,
    min_delay_seconds: float = 1.0,
    cache_size: int = 1024,
    *,
    max_retries: int = 0,
    geocode_options: Mapping[str, Any] | None = None,
) -> RemoteGeocoder:
    """Build a rate-limited, cached Nominatim or Photon geocoder for ``url``.

    Call this only when an operator configured a remote geocoder: nothing here runs at import
    time, and building contacts no server (geopy connects on the first query). ``url`` is the
    service's base URL, e.g. ``https://nominatim.example.org`` or ``http://localhost:2322``; a
    trailing ``/search`` (Nominatim) or ``/api`` (Photon) is dropped because geopy adds it.
    ``geocode_options`` are passed to every query (e.g. ``{"country_codes": "de"}`` for
    Nominatim). Raises ValueError for an unknown kind, a bad URL or a missing user agent.
    """
    if kind not in _REMOTE_CLASSES:
        raise ValueError(f"unknown geocoder kind {kind!r}; use one of {', '.join(_REMOTE_CLASSES)}")
    cls, endpoint = _REMOTE_CLASSES[kind]
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        raise ValueError(f"geocoder URL must be http(s)://host[:port][/path], got {url!r}")
    if not user_agent.strip():
        raise ValueError("a user agent identifying this service is required by geocoding services")
    path = parts.path.rstrip("/")
    if path.endswith(endpoint):
        path = path[: -len(endpoint)]
    domain = parts.netloc + path
    if kind == "nominatim" and parts.netloc == PUBLIC_NOMINATIM and min_delay_seconds < 1.0:
        raise ValueError("the public Nominatim allows at most one request per second")
    inner = cls(domain=domain, scheme=parts.scheme, user_agent=user_agent, timeout=timeout)
    return RemoteGeocoder(
        inner,
        name=kind,
        min_delay_seconds=min_delay_seconds,
        cache_size=cache_size,
        max_retries=max_retries,
        geocode_options=geocode_options,
    )
