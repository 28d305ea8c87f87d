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
prevention_body           none known or dissolved 1, planned or dormant 0.5, active 0  both
========================  ==========================================================  ========

Each shortfall is capped at 1 so that no single criterion drowns the others. A criterion whose
data is unknown adds nothing to the score and is listed under ``gap_unknown``: the score is
then a lower bound (``gap_complete`` false), never a reason to rank a row as well covered. A row
with every criterion unknown gets no score and no rank. Ties are broken by the number of
people affected (population, else households), then by name.

Video surveillance and graffiti walls are reported but not scored: more cameras are not a
coverage goal (each camera needs its own legal justification), and a legal wall answers a
local demand rather than a per-resident norm.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..i18n import FINDING_TEXT
from .metrics import NONE_KNOWN, Thresholds

BODY_SHORTFALL = {
    "active": 0.0,
    "planned": 0.5,
    "dormant": 0.5,
    "dissolved": 1.0,
    NONE_KNOWN: 1.0,
    "unclear": None,
}


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
    text = f"{round(value):,}"
    return text.replace(",", ".") if lang == "de" else text


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


def _body(status: str | None) -> Finding:
    status = status or NONE_KNOWN
    return _finding("prevention_body", BODY_SHORTFALL[status], f"body_{status}")


def district_findings(row: Mapping[str, Any], th: Thresholds) -> list[Finding]:
    found = [
        _officer(row),
        _officer_load(row, th),
        _distance(row, th),
        _walk_share(row, th),
        _body(row.get("prevention_status")),
    ]
    return [f for f in found if f is not None]


def municipality_findings(row: Mapping[str, Any], th: Thresholds) -> list[Finding]:
    population = row.get("population")
    if population is None:
        return [_finding("prevention_body", None, "population_unknown")]
    if population < th.body_min_population:
        return []  # the threshold does not apply to small municipalities
    body = _body(row.get("prevention_status"))
    return [
        _finding(
            body.criterion,
            body.shortfall,
            "body_in_municipality",
            body=(body.de, body.en),
            population=population,
        )
    ]


def rank(
    rows: Sequence[dict[str, Any]],
    findings: Callable[[Mapping[str, Any]], list[Finding]],
) -> list[dict[str, Any]]:
    """Rows with ``gap_score``, ``gap_rank``, ``gap_complete``, ``gap_misses``, ``gap_unknown``
    and ``gap_findings`` added; sorted worst first, unscorable rows last."""
    scored = []
    for row in rows:
        found = findings(row)
        known = [f for f in found if f.shortfall is not None]
        misses = [f for f in known if f.shortfall and f.shortfall > 0]
        unknown = [f for f in found if f.shortfall is None]
        scored.append(
            {
                **row,
                # No criterion applies (a small municipality): nothing is missing, score 0.
                "gap_score": (
                    round(sum(f.shortfall or 0.0 for f in known), 3) if known or not unknown else None
                ),
                "gap_complete": not unknown,
                "gap_misses": [{"criterion": f.criterion, "de": f.de, "en": f.en} for f in misses],
                "gap_unknown": [{"criterion": f.criterion, "de": f.de, "en": f.en} for f in unknown],
                "gap_findings": [f.as_json() for f in found],
            }
        )

    def people(row: Mapping[str, Any]) -> float:
        value = row.get("population")
        if value is None:
            value = row.get("households")
        return -float(value) if value is not None else 0.0

    scored.sort(
        key=lambda r: (
            r["gap_score"] is None,
            -(r["gap_score"] or 0.0),
            people(r),
            str(r.get("name") or "").casefold(),
        )
    )
    for position, row in enumerate(scored, start=1):
        row["gap_rank"] = position if row["gap_score"] is not None else None
    return scored
