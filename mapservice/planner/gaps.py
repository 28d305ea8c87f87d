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


def _officer(row: Mapping[str, Any]) -> Finding:
    recorded = row.get("officer_recorded")
    if recorded == "yes":
        n = row.get("officers") or 0
        return Finding(
            "officer", 0.0, f"Kontaktbereichsbeamte zuständig: {n}", f"Responsible contact officers: {n}"
        )
    if recorded == "no":
        return Finding(
            "officer",
            1.0,
            "Kein zuständiger Kontaktbereichsbeamter erfasst",
            "No responsible contact officer recorded",
        )
    return Finding(
        "officer",
        None,
        "Zuständiger Kontaktbereichsbeamter: unbekannt",
        "Responsible contact officer: unknown",
    )


def _officer_load(row: Mapping[str, Any], th: Thresholds) -> Finding | None:
    if row.get("officer_recorded") == "no":
        return None  # already counted as a missing officer
    residents = row.get("residents_per_officer")
    households = row.get("households_per_officer")
    if residents is not None:
        value, limit, de_unit, en_unit = residents, th.residents_per_officer, "Einwohner", "residents"
    elif households is not None:
        value, limit, de_unit, en_unit = households, th.households_per_officer, "Haushalte", "households"
    else:
        return Finding(
            "officer_load",
            None,
            "Einwohner bzw. Haushalte je Beamter: unbekannt",
            "Residents or households per officer: unknown",
        )
    shortfall = _cap(value / limit - 1)
    comparison_de = "mehr als" if shortfall > 0 else "höchstens"
    comparison_en = "more than" if shortfall > 0 else "at most"
    return Finding(
        "officer_load",
        shortfall,
        f"{fmt_int(value, 'de')} {de_unit} je Beamter – {comparison_de} {fmt_int(limit, 'de')}",
        f"{fmt_int(value, 'en')} {en_unit} per officer – {comparison_en} {fmt_int(limit, 'en')}",
    )


def _distance(row: Mapping[str, Any], th: Thresholds) -> Finding:
    mean = row.get("distance_mean_m")
    if mean is None:
        return Finding(
            "distance",
            None,
            "Entfernung zum nächsten Büro: unbekannt (keine Büros der Stadt erfasst)",
            "Distance to the nearest office: unknown (no offices of the city recorded)",
        )
    shortfall = _cap(mean / th.walk_m - 1)
    de_cmp, en_cmp = ("über", "above") if shortfall > 0 else ("innerhalb", "within")
    return Finding(
        "distance",
        shortfall,
        f"Mittlere Entfernung zum nächsten Büro {fmt_int(mean, 'de')} m – {de_cmp} der "
        f"Gehentfernung von {fmt_int(th.walk_m, 'de')} m",
        f"Mean distance to the nearest office {fmt_int(mean, 'en')} m – {en_cmp} the walking "
        f"distance of {fmt_int(th.walk_m, 'en')} m",
    )


def _walk_share(row: Mapping[str, Any], th: Thresholds) -> Finding:
    share = row.get("walk_share")
    if share is None:
        return Finding(
            "walk_share",
            None,
            "Fläche in Gehentfernung eines Büros: unbekannt",
            "Area within walking distance of an office: unknown",
        )
    shortfall = _cap((th.walk_share_min - share) / th.walk_share_min) if th.walk_share_min else 0.0
    de_cmp, en_cmp = ("unter", "below") if shortfall > 0 else ("mindestens", "at least")
    return Finding(
        "walk_share",
        shortfall,
        f"{fmt_pct(share)} der Fläche höchstens {fmt_int(th.walk_m, 'de')} m von einem Büro – "
        f"{de_cmp} dem Ziel von {fmt_pct(th.walk_share_min)}",
        f"{fmt_pct(share)} of the area within {fmt_int(th.walk_m, 'en')} m of an office – "
        f"{en_cmp} the target of {fmt_pct(th.walk_share_min)}",
    )


BODY_TEXT = {
    "active": ("Aktives Präventionsgremium", "Active prevention body"),
    "planned": ("Präventionsgremium nur geplant", "Prevention body only planned"),
    "dormant": ("Präventionsgremium ruht", "Prevention body dormant"),
    "dissolved": ("Präventionsgremium aufgelöst", "Prevention body dissolved"),
    NONE_KNOWN: ("Kein Präventionsgremium bekannt", "No prevention body known"),
    "unclear": ("Präventionsgremium mit unklarem Status", "Prevention body of unclear status"),
}


def _body(status: str | None) -> Finding:
    status = status or NONE_KNOWN
    de, en = BODY_TEXT[status]
    return Finding("prevention_body", BODY_SHORTFALL[status], de, en)


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
        return [
            Finding(
                "prevention_body",
                None,
                "Einwohnerzahl unbekannt: ob ein Gremium erwartet wird, bleibt offen",
                "Population unknown: whether a body is expected stays open",
            )
        ]
    if population < th.body_min_population:
        return []  # the threshold does not apply to small municipalities
    body = _body(row.get("prevention_status"))
    de = f"{body.de} (Gemeinde mit {fmt_int(population, 'de')} Einwohnern)"
    en = f"{body.en} (municipality of {fmt_int(population, 'en')} inhabitants)"
    return [Finding(body.criterion, body.shortfall, de, en)]


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
