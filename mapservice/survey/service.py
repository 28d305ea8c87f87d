"""Surveys of municipalities: links, answers, review and progress, over a :class:`Store`.

The CLI (``mapservice survey``), the form (``/survey/<link>``) and the reviewer API
(``/api/surveys``) are thin layers over these functions; what an answer is and which features
it writes is pure and lives in :mod:`mapservice.survey.answers`.

A link reads ``dsu_<id>_<secret>``, like a write token (store/tokens.py): the id finds the
invitation without a scan, the secret (256 random bits) is checked against its SHA-256 in
constant time. Only the hash is stored, so the links are shown once, when the survey is made.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import hmac
import io
import re
import secrets
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..catalog.layers import PUBLICATION_FIELD, PUBLISHED, Catalog
from ..catalog.validation import check_properties, value_problem
from ..store.base import (
    Invitation,
    Store,
    StoredFeature,
    StoreError,
    Survey,
    SurveyAnswer,
    SurveyWrite,
    utc_now,
)
from ..store.tokens import hash_secret
from . import answers as forms

LINK_PREFIX = "dsu"
_LINK_RE = re.compile(r"^dsu_([0-9a-f]{12})_([A-Za-z0-9_-]{43})$")
# A form's nonce is good for this long: a respondent may fill it in over a working day.
NONCE_VALID = dt.timedelta(hours=24)
_NONCE_RE = re.compile(r"[0-9]{1,12}\.[0-9]{1,12}\.[0-9a-f]{32}")
# Failed link attempts a client may make in a window before it is refused (429).
FAILURES_ALLOWED = 10
FAILURE_WINDOW = dt.timedelta(minutes=15)
MAX_TITLE = 200
MAX_NOTE = 2000


class SurveyError(ValueError):
    """A survey cannot be made or changed as asked (the message says which option is wrong)."""


@dataclass(frozen=True)
class Link:
    """One municipality's personal link, in plain text: only at creation, never stored."""

    ags: str
    name: str
    token: str


# -- making a survey -----------------------------------------------------------------------------


def select_municipalities(
    municipalities: Iterable[Mapping[str, Any]],
    land: str | None = None,
    kreis: Sequence[str] = (),
    min_population: int | None = None,
    ags: Sequence[str] = (),
) -> list[tuple[str, str]]:
    """(AGS, name) of the municipalities asked: those of ``land`` (code, e.g. 16), of the
    ``kreis`` keys (5 digits) or names, with at least ``min_population`` residents, and every
    AGS in ``ags``; sorted by AGS. A municipality of unknown population is not counted as big."""
    rows = list(municipalities)
    by_ags = {str(r["ags"]): r for r in rows}
    unknown = [a for a in ags if a not in by_ags]
    if unknown:
        raise SurveyError(f"--ags: no municipality with the key(s) {', '.join(unknown)} is stored")
    kreise = {str(r.get("kreis_ags")) for r in rows} | {str(r.get("kreis")) for r in rows}
    missing = [k for k in kreis if k not in kreise]
    if missing:
        raise SurveyError(f"--kreis: no Kreis '{', '.join(missing)}' (give its 5-digit key or its name)")
    chosen: dict[str, str] = {}
    if land is not None or kreis or min_population is not None:
        for r in rows:
            if land is not None and r.get("land_code") != land:
                continue
            if kreis and r.get("kreis_ags") not in kreis and r.get("kreis") not in kreis:
                continue
            population = r.get("population")
            if min_population is not None and (population is None or population < min_population):
                continue
            chosen[str(r["ags"])] = str(r["name"])
    for key in ags:
        chosen[key] = str(by_ags[key]["name"])
    return sorted(chosen.items())


def new_link() -> tuple[str, str]:
    """A new link's token id and plain text."""
    token_id = secrets.token_hex(6)
    return token_id, f"{LINK_PREFIX}_{token_id}_{secrets.token_urlsafe(32)}"


def create_survey(
    store: Store,
    title: str,
    closes_on: dt.date,
    municipalities: Sequence[tuple[str, str]],
    area: Mapping[str, Any],
    created_by: str,
    today: dt.date | None = None,
) -> tuple[Survey, list[Link]]:
    """Store a survey with one invitation per municipality; returns the links in plain text."""
    title = " ".join(title.split())
    if not title:
        raise SurveyError("--title: give the survey a title (it is shown on the form and in the source)")
    if len(title) > MAX_TITLE:
        raise SurveyError(f"--title: at most {MAX_TITLE} characters, not {len(title)}")
    today = today or dt.date.today()
    if closes_on < today:
        raise SurveyError(
            f"--closes: {closes_on.isoformat()} has passed; give the last day answers are taken"
        )
    if not municipalities:
        raise SurveyError("no municipality matches: check --land, --kreis, --min-population and --ags")
    survey = Survey(
        id=secrets.token_hex(3),
        title=title,
        created_at=utc_now().replace(microsecond=0),
        closes_on=closes_on,
        created_by=created_by,
        area=dict(area),
    )
    links, invitations = [], []
    for ags, name in municipalities:
        token_id, plain = new_link()
        links.append(Link(ags, name, plain))
        invitations.append(Invitation(survey.id, ags, name, token_id, hash_secret(plain)))
    store.add_survey(survey, invitations)
    return survey, links


def links_csv(survey: Survey, links: Sequence[Link], base_url: str) -> str:
    """The mail-merge file: municipality, AGS, link and closing date (German headers)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["Gemeinde", "AGS", "Link", "Einsendeschluss"])
    for link in links:
        writer.writerow(
            [link.name, link.ags, f"{base_url.rstrip('/')}/survey/{link.token}", survey.closes_on.isoformat()]
        )
    return out.getvalue()


# -- the link and its form ------------------------------------------------------------------------


def find_invitation(store: Store, plain: str) -> Invitation | None:
    """The invitation this link is, or None (malformed, unknown or wrong secret)."""
    match = _LINK_RE.match(plain)
    if match is None:
        return None
    invitation = store.invitation(match.group(1))
    if invitation is None:
        return None
    # Constant time: the comparison must not tell how much of a guessed secret was right.
    if not hmac.compare_digest(invitation.secret_hash, hash_secret(plain)):
        return None
    return invitation


def is_closed(survey: Survey, today: dt.date | None = None) -> bool:
    today = today or dt.date.today()
    return survey.closed_at is not None or today > survey.closes_on


def client_key(remote: str, key: bytes) -> str:
    """What is kept of a client for the rate limit: a keyed hash, not its address (an address
    hashed without a key could be found again by trying all of them)."""
    return hmac.new(key, remote.encode(), hashlib.sha256).hexdigest()[:32]


def make_nonce(invitation: Invitation, base_seq: int, at: dt.datetime) -> str:
    """The form's nonce: when it was made and a MAC over the link and the answer it was based
    on (the link's stored hash is the key, so nothing else must be kept)."""
    stamp = str(int(at.timestamp()))
    return f"{stamp}.{base_seq}.{_mac(invitation, stamp, base_seq)}"


def _mac(invitation: Invitation, stamp: str, base_seq: int) -> str:
    message = f"{invitation.token_id}.{stamp}.{base_seq}".encode()
    return hmac.new(invitation.secret_hash.encode(), message, hashlib.sha256).hexdigest()[:32]


def nonce_problem(invitation: Invitation, nonce: str, latest_seq: int, at: dt.datetime) -> str | None:
    """None for a good nonce, else a text key: made for another link, too old, or for a form
    based on an older answer (someone saved the answer meanwhile: sending would overwrite it)."""
    if _NONCE_RE.fullmatch(nonce) is None:  # ASCII only: what compare_digest can compare
        return "nonce_bad"
    parts = nonce.split(".")
    stamp, seq_text, mac = parts
    if not hmac.compare_digest(mac, _mac(invitation, stamp, int(seq_text))):
        return "nonce_bad"
    made = dt.datetime.fromtimestamp(int(stamp), dt.UTC)
    if not dt.timedelta(0) <= at - made <= NONCE_VALID:
        return "nonce_expired"
    if int(seq_text) != latest_seq:
        return "nonce_stale"
    return None


def records_for(store: Store, ags: str) -> dict[str, StoredFeature]:
    """The published bodies on record that cover a municipality (what the form is filled with)."""
    return {
        f.id: f
        for f in store.all_features(forms.LAYER)
        if f.properties.get(PUBLICATION_FIELD) == PUBLISHED and ags in (f.properties.get("covers_ags") or [])
    }


def latest_answer(store: Store, survey_id: str, ags: str) -> SurveyAnswer | None:
    found = store.answers(survey_id, ags)
    return found[-1] if found else None


def form_values(store: Store, invitation: Invitation) -> dict[str, Any]:
    """What the form shows: the latest answer if there is one, else what is on record."""
    latest = latest_answer(store, invitation.survey_id, invitation.ags)
    # Once approved, the record is the answer: the form shows it, each body with its id, so
    # that saving again updates the published bodies instead of adding them a second time.
    if latest is not None and latest.review != "approved":
        return {
            "no_body": bool(latest.answer.get("no_body")),
            "bodies": list(latest.answer.get("bodies", [])),
        }
    records = records_for(store, invitation.ags)
    return {"no_body": False, "bodies": [forms.body_from_record(f) for f in records.values()]}


def submit(
    store: Store, catalog: Catalog, survey: Survey, invitation: Invitation, answer: Mapping[str, Any]
) -> SurveyAnswer:
    """Store a checked answer and its drafts (replacing the drafts of an earlier answer)."""
    layer = catalog[forms.LAYER]
    now = utc_now().replace(microsecond=0)
    records = records_for(store, invitation.ags)
    drafts = forms.draft_features(survey, invitation, answer, records, now.date())
    for key, (_, props, _) in drafts.items():
        problems = check_properties(layer.fields, props)
        if problems:  # the form's checks should have caught it: refuse rather than half-write
            where, what = problems[0]
            raise StoreError(f"answer of {invitation.ags}, draft {key}: {where} {what}")
    latest = latest_answer(store, survey.id, invitation.ags)
    earlier = list((latest.answer.get("drafts") or {}).keys()) if latest is not None else []
    existing = store.feature_ids(forms.LAYER)
    edits = forms.submit_edits(drafts, existing, earlier)
    stored = {
        "no_body": bool(answer.get("no_body")),
        "bodies": list(answer.get("bodies", [])),
        "drafts": {k: ref for k, (ref, _, _) in drafts.items()},
    }
    write = SurveyWrite(
        forms.LAYER, edits, f"Umfrage {survey.id} · {invitation.name} ({invitation.ags})", "survey"
    )
    return store.submit_answer(SurveyAnswer(0, survey.id, invitation.ags, now, stored), write)


# -- review ---------------------------------------------------------------------------------------


def _drafts(store: Store, answer: SurveyAnswer) -> tuple[dict[str, str | None], dict[str, StoredFeature]]:
    """An answer's drafts (draft id → the record it updates, or None) and, as stored now, the
    drafts and those records that still exist."""
    drafts: dict[str, str | None] = dict(answer.answer.get("drafts") or {})
    stored = {}
    for key in {*drafts, *(ref for ref in drafts.values() if ref)}:
        feature = store.get(forms.LAYER, key)
        if feature is not None:
            stored[key] = feature
    return drafts, stored


def comparison(store: Store, catalog: Catalog, answer: SurveyAnswer) -> list[dict[str, Any]]:
    """Each draft of an answer against the record it would update, field by field."""
    drafts, stored = _drafts(store, answer)
    return forms.comparison(catalog[forms.LAYER], drafts, stored)


def pending_answer(store: Store, survey_id: str, ags: str) -> SurveyAnswer:
    latest = latest_answer(store, survey_id, ags)
    if latest is None:
        raise SurveyError(f"{ags} has not answered survey {survey_id}")
    if latest.review != "pending":
        raise SurveyError(
            f"the answer of {ags} is {latest.review} already; only a pending answer is reviewed"
        )
    return latest


def review(
    store: Store,
    survey: Survey,
    ags: str,
    decision: str,
    reviewer: str,
    note: str | None = None,
) -> SurveyAnswer:
    """Approve (publish its drafts) or reject (remove them) the pending answer of ``ags``."""
    if decision not in ("approve", "reject"):
        raise SurveyError(f"decision: 'approve' or 'reject', not '{decision}'")
    if note is not None and len(note) > MAX_NOTE:
        raise SurveyError(f"note: at most {MAX_NOTE} characters, not {len(note)}")
    problem = value_problem(note) if note is not None else None
    if problem is not None:
        raise SurveyError(f"note: {problem[1]}")
    answer = pending_answer(store, survey.id, ags)
    drafts, stored = _drafts(store, answer)
    if decision == "approve":
        edits = forms.approve_edits(drafts, stored, store.feature_ids(forms.LAYER))
    else:
        edits = forms.reject_edits(drafts, set(stored))
    write = SurveyWrite(forms.LAYER, edits, f"{reviewer} · Umfrage {survey.id}, {ags}", "survey-review")
    decided = {"approve": "approved", "reject": "rejected"}[decision]
    return store.review_answer(answer.seq, decided, reviewer, note, write)


# -- progress -------------------------------------------------------------------------------------

ASKED, ANSWERED, NO_ANSWER = "asked", "answered", "no_answer"


def municipality_status(survey: Survey, answered: bool, today: dt.date | None = None) -> str:
    """asked (no answer yet, still open), answered, or no_answer (closed without one)."""
    if answered:
        return ANSWERED
    return NO_ANSWER if is_closed(survey, today) else ASKED


def progress(store: Store, survey: Survey, today: dt.date | None = None) -> dict[str, Any]:
    """The survey's figures, computed from the invitations and the answers: asked, opened,
    answered, reviewed, and what the approved answers say (active body, planned, none)."""
    invitations = store.invitations(survey.id)
    latest: dict[str, SurveyAnswer] = {}
    for answer in store.answers(survey.id):
        if answer.review != "superseded":
            latest[answer.ags] = answer
    reviews = {state: 0 for state in ("pending", "approved", "rejected")}
    for answer in latest.values():
        reviews[answer.review] += 1
    approved = [a for a in latest.values() if a.review == "approved"]

    def says(answer: SurveyAnswer, status: str) -> bool:
        return any(
            b.get("status") == status for b in answer.answer.get("bodies", []) if not forms.is_empty(b)
        )

    active = sum(1 for a in approved if says(a, "active"))
    planned = sum(1 for a in approved if not says(a, "active") and says(a, "planned"))
    none = sum(1 for a in approved if a.answer.get("no_body"))
    asked = len(invitations)
    answered = len(latest)
    rows = [
        {
            "ags": i.ags,
            "name": i.name,
            "opened": i.opened_at is not None,
            "status": municipality_status(survey, i.ags in latest, today),
            "review": latest[i.ags].review if i.ags in latest else None,
            "answered_at": latest[i.ags].submitted_at.isoformat() if i.ags in latest else None,
        }
        for i in invitations
    ]
    return {
        "id": survey.id,
        "title": survey.title,
        "created_at": survey.created_at.isoformat(),
        "closes_on": survey.closes_on.isoformat(),
        "closed": is_closed(survey, today),
        "area": survey.area,
        "asked": asked,
        "opened": sum(1 for i in invitations if i.opened_at is not None),
        "answered": answered,
        "pending": reviews["pending"],
        "approved": reviews["approved"],
        "rejected": reviews["rejected"],
        "with_active_body": active,
        "with_planned_body": planned,
        "without_body": none,
        # Shares of those asked, as the council gave them in 2020 ("ein gutes Drittel").
        "answered_share": round(answered / asked, 3) if asked else None,
        "active_share": round(active / asked, 3) if asked else None,
        "municipalities": rows,
    }


def newest_surveys(store: Store) -> dict[str | None, Survey]:
    """The newest survey of each Land (None: a survey across Länder); surveys come oldest first."""
    return {survey.area.get("land"): survey for survey in store.surveys()}


def latest_survey_for(store: Store, land: str | None) -> Survey | None:
    """The newest survey of a Land; with ``land`` None, the newest of all."""
    if land is None:
        every = store.surveys()
        return every[-1] if every else None
    return newest_surveys(store).get(land)


def statuses(store: Store, today: dt.date | None = None) -> dict[str, str]:
    """Survey status (asked, answered, no_answer) of every municipality asked in the newest
    survey of each Land: public, it says nothing of what an answer contains."""
    out: dict[str, str] = {}
    for survey in newest_surveys(store).values():
        # A superseded answer always has a later one: any answer means "answered".
        answered = {a.ags for a in store.answers(survey.id)}
        for i in store.invitations(survey.id):
            out[i.ags] = municipality_status(survey, i.ags in answered, today)
    return out
