"""The geopy integration: the gazetteer as an offline geopy geocoder, a chain that asks geocoders
in turn, and rate-limited, cached remote geocoders (Nominatim, Photon)."""

from __future__ import annotations

import functools
import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, overload
from urllib.parse import urlsplit

from geopy.adapters import BaseSyncAdapter
from geopy.exc import GeocoderServiceError, GeopyError
from geopy.extra.rate_limiter import RateLimiter
from geopy.geocoders import Nominatim, Photon
from geopy.geocoders.base import Geocoder
from geopy.location import Location

from .gazetteer import Candidate, Gazetteer
from .normalise import ParsedAddress, normalize_housenumber, normalize_place, normalize_street, parse_address

log = logging.getLogger(__name__)

# Top candidates closer than this in different streets or places make a result ambiguous.
AMBIGUITY_MARGIN = 5.0


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


class _TypedGeocoder(Geocoder):  # type: ignore[misc]
    """A geopy geocoder that opens no connection of its own, typed once for all three.

    Subclasses answer in ``_answer``; ``geocode`` keeps geopy's signature (one location with
    ``exactly_one``, else a list; None when nothing matches).
    """

    def __init__(self) -> None:
        super().__init__(adapter_factory=_NoNetworkAdapter)

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
        return self._answer(query, exactly_one, timeout)

    def _answer(
        self, query: GeocodeQuery, exactly_one: bool = True, timeout: float | None = None
    ) -> Location | list[Location] | None:
        raise NotImplementedError


class GazetteerGeocoder(_TypedGeocoder):
    """A geopy geocoder answering from a Gazetteer, without any network access.

    It answers only what the address directory really holds: the street asked for (its
    normalised name, not a similar one) in a place that agrees with the query. A merely similar
    street gives None (not found), so a chain asks the next geocoder and a caller can offer the
    candidates instead of silently moving the citizen to another street.

    ``raw`` of each Location holds ``score``, ``precision``, ``source``, ``ref``, the address
    parts, ``ambiguous`` with its ``reason`` and ``candidates`` (the hits on the street asked
    for, one per address, best first) so a caller can offer a choice; a house-number hit below
    ``min_score`` (its postcode and place both off) is not taken as the answer. Reasons:
    ``places`` (the same address in several streets or places), ``no_housenumber`` (a street
    of several houses and no number given), ``housenumber`` (the number is not on that street:
    the candidates are its nearest houses).
    """

    def __init__(
        self, gazetteer: Gazetteer, *, name: str = "gazetteer", min_score: float = 70.0, limit: int = 5
    ) -> None:
        super().__init__()
        self.gazetteer = gazetteer
        self.name = name
        self.min_score = min_score
        self.limit = limit

    def _answer(
        self, query: GeocodeQuery, exactly_one: bool = True, timeout: float | None = None
    ) -> Location | list[Location] | None:
        """Best match (or all matches with ``exactly_one=False``); None when nothing matches,
        as geopy's geocoders do. ``timeout`` is accepted for compatibility and unused."""
        parsed = parse_address(query) if isinstance(query, str) else _parsed_from_mapping(query)
        # Every house of the street asked for counts, however far its number is from the one
        # asked: it is what a "that number is not on this street" answer offers.
        found = _distinct(
            c
            for c in self.gazetteer.search(parsed, limit=self.limit, min_score=0)
            if c.exact_street and c.place_agrees
        )
        if not found:
            return None
        if parsed.place:
            # A place agrees also when misspelt ("Jnea"); where the place is written as stored
            # (or a part of it: "Jena-Lobeda"), the misspelt matches are other towns.
            asked = normalize_place(parsed.place)
            written = [c for c in found if _place_named(asked, c.point.place)]
            found = written or found
        reason: str | None = None
        if parsed.housenumber is None:
            if len(found) > 1:  # a street of one house is that house, at street precision
                reason = "no_housenumber"
        elif not any(c.number_match == "exact" for c in found):
            reason = "housenumber"
        else:
            found = [c for c in found if c.number_match == "exact" and c.score >= self.min_score] or found
            if found[0].number_match != "exact":
                reason = "housenumber"
        best = found[0]
        if reason is None and any(
            best.score - c.score <= AMBIGUITY_MARGIN and _street_place(c) != _street_place(best)
            for c in found[1:]
        ):
            reason = "places"
        summary = [self._candidate_dict(c) for c in found]
        locations = [self._location(c, summary, reason) for c in found]
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

    def _location(self, c: Candidate, summary: list[dict[str, Any]], reason: str | None) -> Location:
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
            "ambiguous": reason is not None,
            "reason": reason,
            "candidates": summary,
        }
        return Location(c.matched, (p.lat, p.lon), raw)


def _distinct(candidates: Iterable[Candidate]) -> list[Candidate]:
    """One candidate per address text (the best): an office and the official house coordinate
    of the same address are one choice to a reader."""
    seen: set[str] = set()
    out = []
    for c in candidates:
        if c.matched not in seen:
            seen.add(c.matched)
            out.append(c)
    return out


def _place_named(asked: str, place: str | None) -> bool:
    key = normalize_place(place or "")
    return key == asked or key.startswith(asked + " ") or asked.startswith(key + " ")


def _street_place(c: Candidate) -> tuple[str, str]:
    return normalize_street(c.point.street), normalize_place(c.point.place or "")


@dataclass(frozen=True)
class Miss:
    """Why the directory has no answer for an address, and what to offer instead.

    ``reason``: ``no_street`` (no street in the text), ``street_unknown`` (no street of that
    name in the directory; ``candidates`` are similar streets), ``street_elsewhere`` (the
    street exists, but not in the place asked for; ``candidates`` are its other places).
    """

    reason: str
    street: str | None
    place: str | None
    candidates: list[Candidate]


def explain_miss(gazetteer: Gazetteer, query: str, limit: int = 5) -> Miss:
    """The reason for a "not found" and the candidates to offer ("Meinten Sie …")."""
    parsed = parse_address(query)
    if not parsed.street or not normalize_street(parsed.street):
        return Miss("no_street", None, parsed.place or parsed.postcode, [])
    candidates = _distinct(gazetteer.search(parsed, limit=limit))
    place = parsed.place or parsed.postcode
    if any(c.exact_street for c in candidates):
        return Miss("street_elsewhere", parsed.street, place, [c for c in candidates if c.exact_street])
    return Miss("street_unknown", parsed.street, place, candidates)


def _tagged(location: Location, name: str) -> Location:
    raw = dict(location.raw) if isinstance(location.raw, Mapping) else {"value": location.raw}
    raw["geocoder"] = name
    return Location(location.address, location.point, raw)


class GeocoderChain(_TypedGeocoder):
    """Asks geocoders in turn (put the offline one first) and returns the first answer, with
    the answering geocoder's name in ``raw["geocoder"]``.

    A geocoder that fails (GeopyError: timeout, quota, unreachable) is logged and skipped. If no
    geocoder answers and at least one failed, the last error is raised, so a caller can tell
    "not found" (None) from "could not ask" (exception, e.g. HTTP 503).
    """

    def __init__(self, geocoders: Sequence[Geocoder], *, name: str = "chain") -> None:
        super().__init__()
        self.geocoders = list(geocoders)
        self.name = name

    def _answer(
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


class RemoteGeocoder(_TypedGeocoder):
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
        super().__init__()  # the wrapped geocoder does the I/O
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

    def _answer(
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
