"""What a municipality answers, pure: reading the form, checking it, and the features it makes.

An answer is a plain dict, stored as sent (``SurveyAnswer.answer``)::

    {"no_body": false,
     "bodies": [{"ref": "zwickau-kpr" | null, "name": ..., "type": ..., ...}],
     "drafts": {"entwurf-<survey>-<ags>-1": "zwickau-kpr" | null}}

``ref`` names the body on record that a filled-in block is about (the form is pre-filled with
them); ``drafts`` maps each draft feature the answer wrote to the record it would update on
approval (null: a new body). "We have no prevention body" is a draft with status ``none``: a
recorded statement, which the planner counts as a known gap, not as missing data.

Messages are keys of ``i18n.SURVEY_TEXT`` (the form shows them in its own language).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import shapely

from ..catalog.layers import PUBLICATION_FIELD, PUBLISHED, Layer
from ..catalog.validation import DEFAULT_LIMITS, EMAIL_RE, Limits, parse_date, value_problem
from ..store.base import Edit, Invitation, StoredFeature, Survey
from ..store.published import SURVEYED_LAYER

LAYER = SURVEYED_LAYER  # prevention-bodies
DRAFT = "draft"
MAX_BODIES = 10  # blocks in one answer; a municipality has one or two bodies, rarely more
# The statuses a respondent can give a body; "unclear" is for sources that say nothing, and
# "none" is the "we have no body" answer, so neither is offered for a listed body.
BODY_STATUSES = ("active", "planned", "dormant", "dissolved")
# Most characters per field: what a name, a list of partners or a phone number needs. The
# write API's bounds (NUL, lone surrogates, max_text_length) hold as well.
TEXT_LIMITS = {
    "name": 200,
    "programme": 200,
    "working_groups": 2000,
    "partners": 2000,
    "contact_office": 300,
    "email": 200,
    "phone": 60,
    "contact": 200,
}
PHONE_RE = re.compile(r"^\+?[0-9][0-9 ()/\-–.]{2,58}$")
# The fields of one body block, in the order of the form.
BODY_FIELDS = (
    "name",
    "type",
    "status",
    "level",
    "founded",
    "programme",
    "programme_stage",
    "working_groups",
    "partners",
    "contact_office",
    "email",
    "phone",
    "contact",
)
CHOICE_FIELDS = ("type", "status", "level", "programme_stage")
REQUIRED_FIELDS = ("name", "type", "status", "level")


@dataclass(frozen=True)
class FormError:
    """One problem of the form: where (``no_body``, ``bodies.0.name``) and a text key."""

    field: str
    key: str
    params: Mapping[str, Any] | None = None


def choices(layer: Layer, name: str) -> tuple[str, ...]:
    """The values the form offers for a choice field (from the layer catalog)."""
    if name == "status":
        return BODY_STATUSES
    values = layer.fields[name].values
    return tuple(str(v) for v in values or ())


def body_from_record(feature: StoredFeature) -> dict[str, Any]:
    """A body on record as the form shows it."""
    props = feature.properties
    return {"ref": feature.id, **{name: props.get(name) for name in BODY_FIELDS}}


def blank_body() -> dict[str, Any]:
    return {"ref": None, **dict.fromkeys(BODY_FIELDS)}


def read_form(form: Mapping[str, str], records: Mapping[str, StoredFeature]) -> dict[str, Any]:
    """The answer a posted form gives, unchecked: ``body-<i>-<field>`` for each block.

    Blanks around a value are dropped and an empty value is null. A block whose ``ref`` is not a
    body on record for the municipality loses its ``ref`` (a crafted form cannot update a
    body of another municipality).
    """
    bodies: list[dict[str, Any]] = []
    for i in range(MAX_BODIES):
        if f"body-{i}-present" not in form:
            continue
        body = blank_body()
        ref = (form.get(f"body-{i}-ref") or "").strip()
        body["ref"] = ref if ref in records else None
        for name in BODY_FIELDS:
            value = (form.get(f"body-{i}-{name}") or "").strip()
            body[name] = value or None
        bodies.append(body)
    return {"no_body": form.get("no_body") == "yes", "bodies": bodies}


def is_empty(body: Mapping[str, Any]) -> bool:
    """A new block left empty (the spare block of the form): not part of the answer."""
    return body.get("ref") is None and all(body.get(name) is None for name in BODY_FIELDS)


def check_answer(
    layer: Layer, answer: Mapping[str, Any], today: dt.date, limits: Limits = DEFAULT_LIMITS
) -> list[FormError]:
    """Every problem of an answer, each next to its field."""
    errors: list[FormError] = []
    bodies = [b for b in answer.get("bodies", ()) if not is_empty(b)]
    if not answer.get("no_body") and not bodies:
        errors.append(FormError("no_body", "answer_empty"))
    for i, body in enumerate(answer.get("bodies", ())):
        if is_empty(body):
            continue
        errors.extend(_body_errors(layer, i, body, today, limits))
        if answer.get("no_body") and body.get("status") in ("active", "planned"):
            errors.append(FormError(f"bodies.{i}.status", "contradicts_no_body"))
    return errors


def _body_errors(
    layer: Layer, i: int, body: Mapping[str, Any], today: dt.date, limits: Limits
) -> list[FormError]:
    out: list[FormError] = []
    at = f"bodies.{i}."
    for name in BODY_FIELDS:
        value = body.get(name)
        if value is None:
            if name in REQUIRED_FIELDS:
                out.append(FormError(at + name, "required"))
            continue
        if value_problem(value, limits) is not None:
            out.append(FormError(at + name, "bad_text"))
            continue
        most = TEXT_LIMITS.get(name)
        if most is not None and len(value) > most:
            out.append(FormError(at + name, "too_long", {"most": most, "length": len(value)}))
        elif name in CHOICE_FIELDS and value not in choices(layer, name):
            out.append(FormError(at + name, "not_a_choice"))
        elif name == "founded" and not parse_date(value):
            out.append(FormError(at + name, "not_a_date"))
        elif name == "founded" and value > today.isoformat():
            out.append(FormError(at + name, "date_in_future"))
        elif name == "email" and not EMAIL_RE.match(value):
            out.append(FormError(at + name, "not_an_email"))
        elif name == "phone" and not PHONE_RE.match(value):
            out.append(FormError(at + name, "not_a_phone"))
    return out


# -- the features an answer writes ---------------------------------------------------------------


def source_of(survey: Survey) -> str:
    """What the ``source`` of an answered body says: the survey with its title and date."""
    return f"Umfrage „{survey.title}“ vom {survey.created_at:%d.%m.%Y} (mapservice survey {survey.id})"


def draft_id(survey: Survey, ags: str, number: int) -> str:
    """The id of an answer's draft: stable for the municipality and block, so that saving the
    answer again updates the same drafts. Number 0 is the "no body" statement."""
    return f"entwurf-{survey.id}-{ags}-{number}"


def published_id(draft: str) -> str:
    """The id a new body of an answer is published under: not the draft's own, so that a later
    answer about the published body (its draft again ``entwurf-…``) never replaces it unseen."""
    return "umfrage-" + draft.removeprefix("entwurf-")


def _body_properties(
    base: Mapping[str, Any], body: Mapping[str, Any], survey: Survey, ags: str, day: dt.date
) -> dict[str, Any]:
    props = dict(base)
    props.update({name: body.get(name) for name in BODY_FIELDS})
    if not props.get("covers_ags") and not props.get("covers_districts"):
        props["covers_ags"] = [ags]
    props["source"] = source_of(survey)
    props["verified_on"] = day.isoformat()
    return props


def draft_features(
    survey: Survey,
    invitation: Invitation,
    answer: Mapping[str, Any],
    records: Mapping[str, StoredFeature],
    day: dt.date,
) -> dict[str, tuple[str | None, dict[str, Any], str | None]]:
    """The drafts an answer consists of: id → (record it updates or None, properties,
    geometry of the record as GeoJSON text or None)."""
    drafts: dict[str, tuple[str | None, dict[str, Any], str | None]] = {}
    ags = invitation.ags
    if answer.get("no_body"):
        props = {
            "name": f"{invitation.name}: kein Präventionsgremium",
            "type": None,
            "status": "none",
            "level": "gemeinde",
            "covers_ags": [ags],
            "source": source_of(survey),
            "verified_on": day.isoformat(),
        }
        drafts[draft_id(survey, ags, 0)] = (None, props, None)
    for i, body in enumerate(answer.get("bodies", ())):
        if is_empty(body):
            continue
        ref = body.get("ref")
        record = records.get(ref) if ref else None
        base = dict(record.properties) if record is not None else {}
        props = _body_properties(base, body, survey, ags, day)
        drafts[draft_id(survey, ags, i + 1)] = (
            ref if record else None,
            props,
            record.geometry if record else None,
        )
    for key, (_, props, _) in drafts.items():
        props["id"] = key
        props[PUBLICATION_FIELD] = DRAFT
    return drafts


def _edit(action: str, feature_id: str, props: dict[str, Any] | None, geometry: str | None) -> Edit:
    shape = None if geometry is None else shapely.from_geojson(geometry)
    return Edit(action, feature_id, props, shape)  # type: ignore[arg-type]


def submit_edits(
    drafts: Mapping[str, tuple[str | None, dict[str, Any], str | None]],
    existing: set[str],
    earlier_drafts: Sequence[str],
) -> list[Edit]:
    """Create or replace each draft; remove drafts of the answer it replaces that it lacks."""
    edits = [
        _edit("replace" if key in existing else "create", key, props, geom)
        for key, (_, props, geom) in drafts.items()
    ]
    edits += [
        _edit("delete", key, None, None) for key in earlier_drafts if key not in drafts and key in existing
    ]
    return edits


def approve_edits(
    drafts: Mapping[str, str | None], stored: Mapping[str, StoredFeature], existing: set[str]
) -> list[Edit]:
    """What approving writes: a new body is published under :func:`published_id`; a draft about
    a body on record replaces that record (keeping its id and location). The drafts go."""
    edits: list[Edit] = []
    for key, ref in drafts.items():
        draft = stored.get(key)
        if draft is None:
            continue  # removed by hand meanwhile: nothing left to publish
        props = {**draft.properties, PUBLICATION_FIELD: PUBLISHED}
        if ref is None or ref not in stored:
            target = published_id(key)
            action = "replace" if target in existing else "create"
            edits.append(_edit(action, target, {**props, "id": target}, draft.geometry))
            edits.append(_edit("delete", key, None, None))
        else:
            record = stored[ref]
            edits.append(_edit("replace", ref, {**props, "id": ref}, record.geometry))
            edits.append(_edit("delete", key, None, None))
    return edits


def reject_edits(drafts: Mapping[str, str | None], existing: set[str]) -> list[Edit]:
    """What rejecting writes: the answer's drafts are removed; the records stay as they were."""
    return [_edit("delete", key, None, None) for key in drafts if key in existing]


def comparison(
    layer: Layer, drafts: Mapping[str, str | None], stored: Mapping[str, StoredFeature]
) -> list[dict[str, Any]]:
    """Each draft against what is on record, field by field (for the reviewer)."""
    out = []
    shown = [name for name in layer.fields if name not in ("id", PUBLICATION_FIELD)]
    for key, ref in drafts.items():
        draft = stored.get(key)
        record = stored.get(ref) if ref else None
        if draft is None:
            continue
        fields = []
        for name in shown:
            answered = draft.properties.get(name)
            on_record = record.properties.get(name) if record is not None else None
            if answered is None and on_record is None:
                continue
            fields.append(
                {
                    "field": name,
                    "on_record": on_record,
                    "answered": answered,
                    "changed": answered != on_record,
                }
            )
        out.append({"draft": key, "record": ref if record is not None else None, "fields": fields})
    return out
