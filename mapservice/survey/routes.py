"""``/survey/<link>`` (the answer form, without JavaScript) and ``/api/surveys`` (review).

Thin: the link, the nonce, the answer and the review are :mod:`mapservice.survey.service` and
:mod:`mapservice.survey.answers`; here are the HTTP rules. The form sets no cookie and is
never cached (its URL is the capability); a wrong link is counted per client (a keyed hash of
the address) and, after too many, refused before it is looked up.
"""

from __future__ import annotations

import datetime as dt
import os
import secrets
from pathlib import Path
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, redirect, request, url_for

from ..http.auth import writer
from ..http.context import catalog as _catalog
from ..http.context import full_store
from ..http.errors import ApiError
from ..http.pages import page
from ..i18n import SURVEY_TEXT, pick_lang
from ..store.base import Invitation, Store, StoreError, Survey, SurveyAnswer, utc_now
from . import answers as forms
from . import service

bp = Blueprint("survey", __name__)
KEY_FILE = "survey-client.key"


def _client_key() -> bytes:
    """The instance's key for hashing client addresses, made once and shared by all workers."""
    cached: bytes | None = current_app.extensions.get("survey_client_key")
    if cached is not None:
        return cached
    path = Path(current_app.instance_path) / KEY_FILE
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(secrets.token_hex(32))
    except FileExistsError:
        pass  # another worker made it first
    key = path.read_text().strip().encode()
    current_app.extensions["survey_client_key"] = key
    return key


def _lang() -> str:
    return pick_lang(request.values.get("lang", "de"))


def _no_store(response: Response) -> Response:
    # The URL is the capability: no cache, proxy or search engine may keep the page.
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    return response


def _not_found() -> ApiError:
    return ApiError(404, "NotFound", "No such survey link", key="survey_unknown")


def _invitation(store: Store, token: str) -> tuple[Invitation, Survey]:
    """The link's invitation and survey; 429 after too many wrong links, 404 for a wrong one
    (the same for malformed, unknown and wrong secret), 410 when the survey is closed."""
    client = service.client_key(request.remote_addr or "", _client_key())
    now = utc_now()
    window = service.FAILURE_WINDOW
    if store.count_survey_failure(client, now, window, record=False) >= service.FAILURES_ALLOWED:
        minutes = int(window.total_seconds() // 60)
        raise ApiError(
            429,
            "TooManyRequests",
            f"Too many invalid survey links from this client; try again in {minutes} minutes",
            headers={"Retry-After": str(int(window.total_seconds()))},
            key="survey_rate_limited",
            params={"minutes": minutes},
        )
    invitation = service.find_invitation(store, token)
    survey = store.survey(invitation.survey_id) if invitation is not None else None
    if invitation is None or survey is None:
        store.count_survey_failure(client, now, window)
        raise _not_found()
    if service.is_closed(survey):
        raise ApiError(
            410,
            "Gone",
            f"The survey closed on {survey.closes_on.isoformat()}; answers are no longer taken",
            key="survey_closed",
            params={"closes": _date(survey.closes_on, _lang())},
        )
    return invitation, survey


def _date(day: dt.date, lang: str) -> str:
    return f"{day:%d.%m.%Y}" if lang == "de" else day.isoformat()


def _form_page(
    store: Store,
    token: str,
    invitation: Invitation,
    survey: Survey,
    values: dict[str, Any],
    status: int = 200,
    errors: list[forms.FormError] | None = None,
    notice: str | None = None,
    spare: bool = True,
) -> Response:
    lang = _lang()
    layer = _catalog()[forms.LAYER]
    latest = service.latest_answer(store, survey.id, invitation.ags)
    bodies = list(values.get("bodies", []))
    if spare:
        bodies = [b for b in bodies if not forms.is_empty(b)]
    if spare or not bodies:
        bodies.append(forms.blank_body())
    by_field = {e.field: e for e in errors or []}
    response = page(
        "survey/form.html",
        lang,
        status=status,
        s=SURVEY_TEXT[lang],
        token=token,
        survey=survey,
        invitation=invitation,
        no_body=bool(values.get("no_body")),
        bodies=bodies[: forms.MAX_BODIES],
        fields=forms.BODY_FIELDS,
        required=forms.REQUIRED_FIELDS,
        choices={name: forms.choices(layer, name) for name in forms.CHOICE_FIELDS},
        errors=errors or [],
        by_field=by_field,
        notice=notice,
        nonce=service.make_nonce(invitation, latest.seq if latest else 0, utc_now()),
        latest=latest,
        sent=request.args.get("sent") == "1" and latest is not None,
        closes=_date(survey.closes_on, lang),
        date=lambda t: _date(t.date() if isinstance(t, dt.datetime) else t, lang),
    )
    return _no_store(response)


@bp.route("/survey/<token>", methods=["GET", "HEAD"])
def survey_form(token: str) -> Response:
    store = full_store()
    invitation, survey = _invitation(store, token)
    # A HEAD is what link checkers of mail systems send: it does not count as opened.
    if invitation.opened_at is None and request.method == "GET":
        store.mark_opened(survey.id, invitation.ags, utc_now().replace(microsecond=0))
    return _form_page(store, token, invitation, survey, service.form_values(store, invitation))


@bp.route("/survey/<token>", methods=["POST"])
def survey_answer(token: str) -> Response:
    store = full_store()
    invitation, survey = _invitation(store, token)
    lang = _lang()
    records = service.records_for(store, invitation.ags)
    answer = forms.read_form(request.form, records)
    latest = service.latest_answer(store, survey.id, invitation.ags)
    problem = service.nonce_problem(
        invitation, request.form.get("nonce", ""), latest.seq if latest else 0, utc_now()
    )
    if problem == "nonce_stale":
        # Another save won meanwhile: show it rather than overwrite it unseen.
        values = service.form_values(store, invitation)
        return _form_page(store, token, invitation, survey, values, 409, notice=problem)
    if problem is not None:
        return _form_page(store, token, invitation, survey, answer, 400, notice=problem, spare=False)
    if request.form.get("action") == "add":  # one more empty block, nothing saved yet
        more = {**answer, "bodies": [*answer["bodies"], forms.blank_body()]}
        return _form_page(store, token, invitation, survey, more, spare=False)
    errors = forms.check_answer(_catalog()[forms.LAYER], answer, dt.date.today())
    if errors:
        return _form_page(store, token, invitation, survey, answer, 400, errors=errors, spare=False)
    service.submit(store, _catalog(), survey, invitation, answer)
    target = url_for("survey.survey_form", token=token, sent=1, lang=None if lang == "de" else lang)
    return _no_store(redirect(target, code=303))  # type: ignore[arg-type]


# -- reviewer API --------------------------------------------------------------------------------


def _reviewer() -> str:
    token = writer(forms.LAYER)
    return f"{token.name} (token {token.id})"


def _survey_or_404(store: Store, survey_id: str) -> Survey:
    survey = store.survey(survey_id)
    if survey is None:
        known = ", ".join(s.id for s in store.surveys()) or "none"
        raise ApiError(404, "NotFound", f"No survey '{survey_id}'. Surveys: {known}")
    return survey


def _answer_doc(store: Store, answer: SurveyAnswer, with_comparison: bool) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "seq": answer.seq,
        "ags": answer.ags,
        "submitted_at": answer.submitted_at.isoformat(),
        "review": answer.review,
        "reviewed_at": answer.reviewed_at.isoformat() if answer.reviewed_at else None,
        "reviewer": answer.reviewer,
        "review_note": answer.review_note,
        "answer": {k: answer.answer.get(k) for k in ("no_body", "bodies", "drafts")},
    }
    if with_comparison:
        doc["comparison"] = service.comparison(store, _catalog(), answer)
    return doc


def _json(body: Any, status: int = 200) -> Response:
    response = jsonify(body)
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/api/surveys")
def surveys_list() -> Response:
    _reviewer()
    store = full_store()
    rows = []
    for survey in store.surveys():
        figures = service.progress(store, survey)
        figures.pop("municipalities")
        rows.append(figures)
    return _json({"surveys": rows})


@bp.get("/api/surveys/<survey_id>")
def survey_progress(survey_id: str) -> Response:
    _reviewer()
    store = full_store()
    return _json(service.progress(store, _survey_or_404(store, survey_id)))


@bp.get("/api/surveys/<survey_id>/answers")
def survey_answers(survey_id: str) -> Response:
    _reviewer()
    store = full_store()
    survey = _survey_or_404(store, survey_id)
    wanted = request.args.get("review")
    found = [a for a in store.answers(survey.id) if wanted is None or a.review == wanted]
    return _json({"answers": [_answer_doc(store, a, a.review == "pending") for a in found]})


@bp.get("/api/surveys/<survey_id>/answers/<ags>")
def survey_answer_of(survey_id: str, ags: str) -> Response:
    _reviewer()
    store = full_store()
    survey = _survey_or_404(store, survey_id)
    found = store.answers(survey.id, ags)
    if not found:
        raise ApiError(404, "NotFound", f"No answer of '{ags}' in survey '{survey_id}'")
    latest = found[-1]
    return _json(
        {**_answer_doc(store, latest, True), "earlier": [_answer_doc(store, a, False) for a in found[:-1]]}
    )


@bp.post("/api/surveys/<survey_id>/answers/<ags>/review")
def survey_review(survey_id: str, ags: str) -> Response:
    reviewer = _reviewer()
    store = full_store()
    survey = _survey_or_404(store, survey_id)
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise ApiError(
            400,
            "InvalidParameterValue",
            'The body must be JSON: {"decision": "approve"|"reject", "note": "…"}',
        )
    decision, note = body.get("decision"), body.get("note")
    if decision not in ("approve", "reject"):
        raise ApiError(
            400, "InvalidParameterValue", f"'decision' must be 'approve' or 'reject', not {decision!r}"
        )
    if note is not None and not isinstance(note, str):
        raise ApiError(400, "InvalidParameterValue", "'note' must be text")
    if not store.answers(survey.id, ags):
        raise ApiError(404, "NotFound", f"No answer of '{ags}' in survey '{survey_id}'")
    try:
        reviewed = service.review(store, survey, ags, decision, reviewer, note or None)
    except service.SurveyError as exc:
        # A bad note is the request's fault; anything else is the answer's state.
        status, code = (400, "InvalidParameterValue") if str(exc).startswith("note:") else (409, "Conflict")
        raise ApiError(status, code, str(exc)) from None
    except StoreError as exc:
        if "not waiting for review" in str(exc):
            raise ApiError(409, "Conflict", str(exc)) from None
        raise
    return _json(_answer_doc(store, reviewed, False))
