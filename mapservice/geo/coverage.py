"""Coverage metrics: which prevention bodies cover which municipality, and how.

Pure functions over plain feature properties, so the API, the maps and the command line
compute the same numbers.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

LARGE_TOWN = 10_000
# When several bodies cover a municipality, the most alive status describes it.
STATUS_ORDER = ("active", "planned", "dormant", "unclear", "dissolved")
NONE_KNOWN = "none_known"
STAGE_ORDER = ("agreement", "pre_agreement", "participant", "contacted")


def _best(values: Iterable[str | None], order: tuple[str, ...]) -> str | None:
    present = {v for v in values if v}
    return next((v for v in order if v in present), None)


def prevention_coverage(municipality: Mapping[str, Any],
                        bodies: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """Prevention status of one municipality from the bodies whose ``covers_ags`` name it."""
    ags = municipality["ags"]
    covering = [b for b in bodies if ags in (b.get("covers_ags") or ())]
    population = municipality.get("population")
    asskomm = [b for b in covering if b.get("programme") == "ASSKomm"]
    return {
        "ags": ags,
        "name": municipality.get("name"),
        "kind": municipality.get("kind"),
        "land": municipality.get("land"),
        "kreis": municipality.get("kreis"),
        "population": population,
        "population_date": municipality.get("population_date"),
        "large_town": None if population is None else population >= LARGE_TOWN,
        "prevention_status": _best((b.get("status") for b in covering), STATUS_ORDER)
        or NONE_KNOWN,
        "bodies": [
            {"id": b["id"], "name": b.get("name"), "type": b.get("type"), "status": b.get("status"),
             "programme": b.get("programme"), "programme_stage": b.get("programme_stage")}
            for b in covering
        ],
        "asskomm_stage": _best((b.get("programme_stage") for b in asskomm), STAGE_ORDER),
    }
