"""Gap ranking: which districts and municipalities miss which coverage threshold, in words.

The score of a row is the sum of its shortfalls, one per criterion, each between 0 (threshold
met) and 1 (far off):

========================  ==========================================================  ========
criterion                 shortfall                                                   applies
========================  ==========================================================  ========
officer                   1 when no responsible contact officer is recorded           district
officer_load              residents (else households) per officer ÷ threshold − 1     district
distance                  mean distance to the nearest office ÷ walking distance − 1  district
walk_share                (target share − share within walking distance) ÷ target     district
prevention_body           recorded "no body" or dissolved 1, planned or dormant 0.5,  both
                          active 0; no record at all or status unclear: unknown
body_recorded             0 when a body of unclear status is on record (it exists)    both
========================  ==========================================================  ========

Known against unknown: only what the data says counts. No record of a body is not a record
that there is none: "none known" is unknown, adds nothing, and makes the row incomplete. Only
a recorded statement that there is no body (status ``none``, e.g. a survey answer) or a
recorded dissolution scores as a gap. The same holds for every criterion: a district whose
officer is not recorded is unknown, not covered and not uncovered.

Each shortfall is capped at 1 so that no single criterion drowns the others. The score of a
row is the sum of its known shortfalls (``gap_score``); a row with unknown criteria has a lower
bound (``gap_complete`` false). ``gap_weighted`` multiplies the score by the people affected,
the residents, else the households (``gap_weight_basis``): a shortfall in a district of 1,300
households weighs more than the same one in a district of 45.

The ranking puts complete rows before incomplete ones, then the worse before the better: by
the weighted score (unweighted when asked, or when the people are unknown), then the
unweighted score. Rows with equal values share their ranks ("3.–20.", ``gap_rank`` and
``gap_rank_to``), listed by name. A row with every criterion unknown, or to which no criterion
applies (a municipality below the population threshold), gets no rank; those come last, the
ones where most people live first.

Video surveillance and graffiti walls are reported but not scored: more cameras are not a
coverage goal (each camera needs its own legal justification), and a legal wall answers a
local demand rather than a per-resident norm.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .. import localize
from ..i18n import FINDING_TEXT
from .metrics import NONE_KNOWN, Thresholds

BODY_SHORTFALL = {
    "active": 0.0,
    "planned": 0.5,
    "dormant": 0.5,
    "dissolved": 1.0,
    "none": 1.0,  # a recorded statement that there is no body
    NONE_KNOWN: None,  # no record: unknown, not a gap
    "unclear": None,
}
WEIGHTINGS = ("people", "none")


@dataclass(frozen=True)
class Finding:
    """One criterion for one row: how far it falls short (None: unknown) and why, in words."""

    criterion: str
    shortfall: float | None
    de: str
    en: str

    def as_json(self) -> dict[str, Any]:
        return {"criterion": self.criterion, "shortfall": self.shortfall, "de": self.de, "en": self.en}


def fmt_int(value: float, lang: str) -> str:
    return localize.number(round(value), lang)


def fmt_points(value: float, lang: str) -> str:
    """A shortfall as a number of points: "+0,43" / "+0.43"."""
    return "+" + localize.number(value, lang, 2)


def fmt_pct(share: float) -> str:
    return f"{round(share * 100)} %"


def _cap(value: float) -> float:
    return round(min(1.0, max(0.0, value)), 3)


def _text(key: str, lang: str, values: Mapping[str, Any]) -> str:
    """The reason ``key`` in ``lang``; numbers in the language's format, pairs by language."""
    filled = {}
    for name, value in values.items():
        if isinstance(value, tuple):
            filled[name] = value[0] if lang == "de" else value[1]
        elif isinstance(value, int | float):
            filled[name] = fmt_int(value, lang)
        else:
            filled[name] = value
    de, en = FINDING_TEXT[key]
    return (de if lang == "de" else en).format(**filled)


def _finding(criterion: str, shortfall: float | None, key: str, **values: Any) -> Finding:
    return Finding(criterion, shortfall, _text(key, "de", values), _text(key, "en", values))


def _officer(row: Mapping[str, Any]) -> Finding:
    recorded = row.get("officer_recorded")
    if recorded == "yes":
        return _finding("officer", 0.0, "officer_yes", n=str(row.get("officers") or 0))
    if recorded == "no":
        return _finding("officer", 1.0, "officer_no")
    return _finding("officer", None, "officer_unknown")


def _officer_load(row: Mapping[str, Any], th: Thresholds) -> Finding | None:
    if row.get("officer_recorded") == "no":
        return None  # already counted as a missing officer
    residents = row.get("residents_per_officer")
    households = row.get("households_per_officer")
    if residents is not None:
        value, limit, unit = residents, th.residents_per_officer, "residents"
    elif households is not None:
        value, limit, unit = households, th.households_per_officer, "households"
    else:
        return _finding("officer_load", None, "load_unknown")
    shortfall = _cap(value / limit - 1)
    key = f"load_{unit}_{'over' if shortfall > 0 else 'within'}"
    return _finding("officer_load", shortfall, key, value=value, limit=limit)


def _distance(row: Mapping[str, Any], th: Thresholds) -> Finding:
    mean = row.get("distance_mean_m")
    if mean is None:
        return _finding("distance", None, "distance_unknown")
    shortfall = _cap(mean / th.walk_m - 1)
    key = "distance_over" if shortfall > 0 else "distance_within"
    return _finding("distance", shortfall, key, mean=mean, walk=th.walk_m)


def _walk_share(row: Mapping[str, Any], th: Thresholds) -> Finding:
    share = row.get("walk_share")
    if share is None:
        return _finding("walk_share", None, "walk_unknown")
    shortfall = _cap((th.walk_share_min - share) / th.walk_share_min) if th.walk_share_min else 0.0
    key = "walk_below" if shortfall > 0 else "walk_met"
    return _finding(
        "walk_share", shortfall, key, share=fmt_pct(share), walk=th.walk_m, target=fmt_pct(th.walk_share_min)
    )


def _body(status: str | None) -> list[Finding]:
    status = status or NONE_KNOWN
    found = [_finding("prevention_body", BODY_SHORTFALL[status], f"body_{status}")]
    if status == "unclear":  # what is known: a body exists; whether it works is not
        found.append(_finding("body_recorded", 0.0, "body_recorded"))
    return found


def district_findings(row: Mapping[str, Any], th: Thresholds) -> list[Finding]:
    found = [
        _officer(row),
        _officer_load(row, th),
        _distance(row, th),
        _walk_share(row, th),
        *_body(row.get("prevention_status")),
    ]
    return [f for f in found if f is not None]


def municipality_findings(row: Mapping[str, Any], th: Thresholds) -> list[Finding]:
    population = row.get("population")
    if population is None:
        return [_finding("prevention_body", None, "population_unknown")]
    if population < th.body_min_population:
        return []  # the threshold does not apply to small municipalities
    return [
        _finding(
            body.criterion,
            body.shortfall,
            "body_in_municipality",
            body=(body.de, body.en),
            population=population,
        )
        for body in _body(row.get("prevention_status"))
    ]


def people_affected(row: Mapping[str, Any]) -> tuple[float | None, str | None]:
    """The residents of a row, else its households, with which of the two it is."""
    for basis in ("population", "households"):
        value = row.get(basis)
        if value is not None:
            return float(value), basis
    return None, None


def _miss(f: Finding) -> dict[str, Any]:
    """A shortfall in words, with its number of points."""
    points = f.shortfall or 0.0
    return {
        "criterion": f.criterion,
        "shortfall": points,
        "de": f"{f.de} ({fmt_points(points, 'de')})",
        "en": f"{f.en} ({fmt_points(points, 'en')})",
    }


def rank(
    rows: Sequence[dict[str, Any]],
    findings: Callable[[Mapping[str, Any]], list[Finding]],
    weighting: str = "people",
) -> list[dict[str, Any]]:
    """Rows with ``gap_score``, ``gap_weighted``, ``gap_rank`` (``gap_rank_to`` for a shared
    rank), ``gap_complete``, ``gap_misses``, ``gap_unknown`` and ``gap_findings`` added;
    sorted worst first as the module docstring says, unranked rows last."""
    scored = []
    for row in rows:
        found = findings(row)
        known = [f for f in found if f.shortfall is not None]
        misses = [f for f in known if f.shortfall and f.shortfall > 0]
        unknown = [f for f in found if f.shortfall is None]
        # No criterion applies (a small municipality): nothing is missing, score 0, no rank.
        score = round(sum(f.shortfall or 0.0 for f in known), 3) if known or not found else None
        weight, basis = people_affected(row)
        scored.append(
            {
                **row,
                "gap_score": score,
                "gap_weighted": None if score is None or weight is None else round(score * weight, 1),
                "gap_weight_basis": basis,
                "gap_complete": not unknown,
                "gap_applies": bool(found),
                "gap_misses": [_miss(f) for f in misses],
                "gap_unknown": [{"criterion": f.criterion, "de": f.de, "en": f.en} for f in unknown],
                "gap_findings": [f.as_json() for f in found],
            }
        )

    weighted = weighting == "people"

    def standing(r: Mapping[str, Any]) -> tuple[Any, ...]:
        """What decides the place; rows with the same standing share their rank."""
        value = r["gap_weighted"] if weighted else None
        # Ranked rows first; then those with only unknown criteria (the data to collect);
        # then those to which no criterion applies.
        unranked = 2 if not r["gap_applies"] else 1 if r["gap_score"] is None else 0
        return (
            unranked,
            not r["gap_complete"],
            weighted and value is None,
            -(value or 0.0),
            -(r["gap_score"] or 0.0),
        )

    def unranked_first_by_people(r: Mapping[str, Any]) -> float:
        # Unranked rows are the data to collect: the towns where most people live first.
        if standing(r)[0] == 0:
            return 0.0
        people = people_affected(r)[0]
        return -(people or 0.0)

    scored.sort(key=lambda r: (standing(r), unranked_first_by_people(r), str(r.get("name") or "").casefold()))
    position = 1
    for _, group in itertools.groupby(scored, key=standing):
        same = list(group)
        for row in same:
            ranked = row["gap_score"] is not None and row["gap_applies"]
            row["gap_rank"] = position if ranked else None
            row["gap_rank_to"] = position + len(same) - 1 if ranked and len(same) > 1 else None
        position += len(same)
    return scored


def rank_text(row: Mapping[str, Any]) -> str | None:
    """ "3." or, for a shared rank, "3.–20." (the same in German and English)."""
    if row.get("gap_rank") is None:
        return None
    if row.get("gap_rank_to"):
        return f"{row['gap_rank']}.–{row['gap_rank_to']}."
    return f"{row['gap_rank']}."
