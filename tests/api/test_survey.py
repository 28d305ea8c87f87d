"""The survey of municipalities on their prevention bodies, on both stores: the personal link
and its form (/survey/<link>), the drafts an answer writes, the reviewer API (/api/surveys),
what the public sees before and after review, and the ``mapservice survey`` commands.

Every body, name, note and address written here is invented test data ("(Testdaten)",
example.org); the municipalities and the bodies on record are the shipped data.
"""

from __future__ import annotations

import csv
import datetime as dt
import html
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Any

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient
from test_write_api import auth, make_token
from werkzeug.test import TestResponse

from conftest import StoreConfig
from mapservice.cli import main
from mapservice.i18n import ERROR_TEXT, SURVEY_TEXT
from mapservice.store.base import Survey, utc_now
from mapservice.survey import service

ZWICKAU, MEERANE, JENA, GERA = "14524330", "14524190", "16053000", "16052000"
ITEMS = "/api/collections/prevention-bodies/items"
DE, EN = SURVEY_TEXT["de"], SURVEY_TEXT["en"]
TITLE = "Umfrage Präventionsgremien (Testdaten)"
BODY = {"name": "Testgremium Jena (Testdaten)", "type": "kpr", "status": "active", "level": "gemeinde"}


class FormPage(HTMLParser):
    """The survey form as a browser sends it (its current values) and each element by id."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.fields: dict[str, str] = {}
        self.by_id: dict[str, dict[str, str | None]] = {}
        self._form = False
        self._open: tuple[str, str] | None = None  # an open select or textarea
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if a.get("id"):
            self.by_id[str(a["id"])] = a
        if tag == "form":
            self._form = "survey" in (a.get("class") or "")
        name = a.get("name")
        if not self._form or (not name and tag != "option"):
            return
        if tag == "input" and (a.get("type") != "checkbox" or "checked" in a):
            self.fields[str(name)] = a.get("value") or ""
        elif tag in ("select", "textarea"):
            self.fields[str(name)], self._open = "", (tag, str(name))
        elif tag == "option" and self._open and "selected" in a:
            self.fields[self._open[1]] = a.get("value") or ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._form = False
        if self._open and tag == self._open[0]:
            self._open = None

    def handle_data(self, data: str) -> None:
        if self._open and self._open[0] == "textarea":
            self.fields[self._open[1]] += data


@dataclass
class Setup:
    app: Flask
    client: FlaskClient
    store: Any
    survey: Survey
    links: dict[str, str]
    token: str  # a reviewer's write token for prevention-bodies

    def url(self, ags: str) -> str:
        return f"/survey/{self.links[ags]}"

    def form(self, ags: str, query: str = "", status: int = 200) -> tuple[str, FormPage]:
        response = self.client.get(self.url(ags) + query)
        assert response.status_code == status, response.get_data(as_text=True)[:500]
        text = response.get_data(as_text=True)
        return text, FormPage(text)

    def save(self, ags: str, fields: dict[str, str], action: str = "save", **kw: Any) -> TestResponse:
        return self.client.post(self.url(ags), data={**fields, "action": action}, **kw)

    def answer(self, ags: str, query: str = "", **values: str) -> TestResponse:
        """Open the form, fill block 0 with ``values`` and save it."""
        _, page = self.form(ags, query)
        response = self.save(ags, fill(page.fields, 0, **values))
        assert response.status_code == 303, response.get_data(as_text=True)[:2000]
        return response

    def api(self, path: str = "", status: int = 200, token: str | None = None) -> Any:
        response = self.client.get(f"/api/surveys{path}", headers=auth(token or self.token))
        assert response.status_code == status, response.get_data(as_text=True)[:500]
        return response.get_json()

    def review(self, ags: str, decision: str, status: int = 200, **more: Any) -> Any:
        response = self.client.post(
            f"/api/surveys/{self.survey.id}/answers/{ags}/review",
            json={"decision": decision, **more},
            headers=auth(self.token),
        )
        assert response.status_code == status, response.get_data(as_text=True)[:500]
        return response.get_json()

    def drafts(self) -> list[str]:
        prefix = f"entwurf-{self.survey.id}-"
        return sorted(i for i in self.store.feature_ids("prevention-bodies") if i.startswith(prefix))

    def public(self) -> dict[str, dict[str, Any]]:
        response = self.client.get(f"{ITEMS}?limit=1000")
        assert response.status_code == 200
        return {f["id"]: f["properties"] for f in response.get_json()["features"]}


def fill(fields: dict[str, str], i: int = 0, **values: str) -> dict[str, str]:
    return {**fields, f"body-{i}-present": "1", **{f"body-{i}-{k}": v for k, v in values.items()}}


def error_of(text: str, page: FormPage, control: str) -> str:
    """The error message shown next to a control, which must be marked invalid and name it."""
    attrs = page.by_id[control]
    assert attrs.get("aria-invalid") == "true", attrs
    assert f"{control}-error" in str(attrs.get("aria-describedby")).split(), attrs
    found = re.search(rf'<p class="error-text" id="{re.escape(control)}-error">(.*?)</p>', text, re.S)
    assert found, f"no error text next to {control}"
    return html.unescape(found.group(1))


def new_survey(store: Any, ags: list[str], closes: dt.date, today: dt.date | None = None) -> Any:
    rows = [f.properties for f in store.all_features("municipalities")]
    chosen = service.select_municipalities(rows, ags=ags)
    return service.create_survey(store, TITLE, closes, chosen, {"ags": ags}, "pytest (Testdaten)", today)


@pytest.fixture
def sv(fresh_app: Flask, fresh_store: StoreConfig) -> Iterator[Setup]:
    """A survey of Zwickau and Meerane (a body each on record), Jena and Gera (none)."""
    store = fresh_app.extensions["mapservice"].store
    survey, links = new_survey(store, [ZWICKAU, MEERANE, JENA, GERA], dt.date.today() + dt.timedelta(30))
    token = make_token(fresh_store, "--name", "Landesstelle (Testdaten)", "--collection", "prevention-bodies")
    yield Setup(
        fresh_app,
        fresh_app.test_client(),
        store,
        survey,
        {link.ags: link.token for link in links},
        token,
    )


# -- the link and its form ---------------------------------------------------------------------


def test_wrong_links_all_get_the_same_404_naming_no_municipality(sv: Setup) -> None:
    good = sv.links[ZWICKAU]
    token_id = good.split("_")[1]
    wrong = {
        "malformed": "dsu_kaputt",
        "unknown id": f"dsu_{'0' * 12}_{good.split('_', 2)[2]}",
        "wrong secret": f"dsu_{token_id}_{'A' * 43}",
    }
    bodies = {}
    for what, link in wrong.items():
        response = sv.client.get(f"/survey/{link}")
        assert response.status_code == 404, what
        assert response.headers["Cache-Control"] == "no-store"
        # The page's language switch repeats the address asked for; the rest is the same.
        bodies[what] = response.get_data(as_text=True).replace(link, "LINK")
    assert len(set(bodies.values())) == 1, bodies.keys()
    text = bodies["wrong secret"]
    assert html.escape(ERROR_TEXT["de"]["survey_unknown"], quote=False) in text
    assert "Zwickau" not in text and TITLE not in text and "14524330" not in text
    assert sv.client.post(f"/survey/{wrong['wrong secret']}", data={"action": "save"}).status_code == 404


def test_form_sets_no_cookie_is_not_stored_and_is_filled_with_the_record(sv: Setup) -> None:
    response = sv.client.get(sv.url(ZWICKAU))
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert "Set-Cookie" not in response.headers
    assert "noindex" in response.headers["X-Robots-Tag"]
    assert response.headers["Referrer-Policy"] == "no-referrer"  # the link must not leak onwards
    text = response.get_data(as_text=True)
    assert "Zwickau" in text and html.escape(TITLE, quote=False) in text
    fields = FormPage(text).fields
    record = sv.store.get("prevention-bodies", "zwickau-kpr").properties
    assert fields["body-0-ref"] == "zwickau-kpr"
    for name in ("name", "type", "status", "level", "partners", "working_groups"):
        assert fields[f"body-0-{name}"] == record[name], name
    # One spare block for a further body, empty and about no record.
    assert fields["body-1-name"] == "" and "body-1-ref" not in fields and "body-2-present" not in fields
    # Jena has nothing on record: one empty block.
    _, jena = sv.form(JENA)
    assert jena.fields["body-0-name"] == "" and "body-0-ref" not in jena.fields


def test_opening_the_link_counts_as_opened(sv: Setup) -> None:
    before = sv.api(f"/{sv.survey.id}")
    assert before["asked"] == 4 and before["opened"] == 0
    sv.form(ZWICKAU)
    sv.form(ZWICKAU)
    after = sv.api(f"/{sv.survey.id}")
    assert after["opened"] == 1
    rows = {r["ags"]: r for r in after["municipalities"]}
    assert rows[ZWICKAU]["opened"] and not rows[JENA]["opened"]
    assert rows[ZWICKAU]["status"] == "asked"
    [listed] = sv.api()["surveys"]
    assert listed["id"] == sv.survey.id and listed["opened"] == 1


# -- checking an answer ------------------------------------------------------------------------

FUTURE = str(dt.date.today().year + 1)
INVALID = {
    "empty": ({}, "no_body", "answer_empty", {}),
    "email": ({**BODY, "email": "praevention-at-example.org"}, "body-0-email", "not_an_email", {}),
    "future": ({**BODY, "founded": FUTURE}, "body-0-founded", "date_in_future", {}),
    "type": ({**BODY, "type": "geheimbund"}, "body-0-type", "not_a_choice", {}),
    "long": ({**BODY, "name": "T" * 201}, "body-0-name", "too_long", {"most": 200, "length": 201}),
    "nul": ({**BODY, "name": "Test\x00gremium (Testdaten)"}, "body-0-name", "bad_text", {}),
    "required": ({"name": "Testgremium (Testdaten)"}, "body-0-type", "required", {}),
}


@pytest.mark.parametrize("case", INVALID)
def test_invalid_answer_is_refused_next_to_the_field_and_nothing_is_stored(sv: Setup, case: str) -> None:
    values, control, key, params = INVALID[case]
    _, page = sv.form(JENA)
    response = sv.save(JENA, fill(page.fields, 0, **values) if values else page.fields)
    assert response.status_code == 400
    text = response.get_data(as_text=True)
    again = FormPage(text)
    assert error_of(text, again, control) == DE[key].format(**params)
    assert html.unescape(DE["errors_heading"]) in html.unescape(text)
    if case == "email":  # what was typed stays in the form, to be corrected
        assert again.fields["body-0-email"] == values["email"]
    assert sv.api(f"/{sv.survey.id}/answers") == {"answers": []}
    assert sv.drafts() == []


def test_english_form_gives_the_english_message(sv: Setup) -> None:
    _, page = sv.form(JENA, "?lang=en")
    assert page.fields["lang"] == "en"
    response = sv.save(JENA, fill(page.fields, 0, **BODY, email="keine Adresse"))
    assert response.status_code == 400
    text = response.get_data(as_text=True)
    assert error_of(text, FormPage(text), "body-0-email") == EN["not_an_email"]
    assert DE["not_an_email"] not in text


def test_contradicting_no_body_and_an_active_record_is_refused(sv: Setup) -> None:
    _, page = sv.form(ZWICKAU)  # the record's block says active
    response = sv.save(ZWICKAU, {**page.fields, "no_body": "yes"})
    assert response.status_code == 400
    text = response.get_data(as_text=True)
    assert error_of(text, FormPage(text), "body-0-status") == DE["contradicts_no_body"]
    assert sv.drafts() == []


def test_a_name_with_markup_is_shown_escaped(sv: Setup) -> None:
    name = "<script>alert(1)</script> Testgremium (Testdaten)"
    sv.answer(JENA, **{**BODY, "name": name})
    text, page = sv.form(JENA)
    assert "<script>alert(1)</script>" not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert page.fields["body-0-name"] == name  # the value itself kept as typed
    response = sv.client.get(f"/api/surveys/{sv.survey.id}/answers/{JENA}", headers=auth(sv.token))
    assert response.mimetype == "application/json"
    assert response.get_json()["answer"]["bodies"][0]["name"] == name


# -- the nonce ---------------------------------------------------------------------------------


def test_form_without_or_with_a_foreign_nonce_is_refused(sv: Setup) -> None:
    _, page = sv.form(JENA)
    filled = fill(page.fields, 0, **BODY)
    missing = sv.save(JENA, {k: v for k, v in filled.items() if k != "nonce"})
    assert missing.status_code == 400
    assert html.escape(DE["nonce_bad"], quote=False) in missing.get_data(as_text=True)
    _, zwickau = sv.form(ZWICKAU)
    foreign = sv.save(JENA, {**filled, "nonce": zwickau.fields["nonce"]})
    assert foreign.status_code == 400
    [invitation] = [i for i in sv.store.invitations(sv.survey.id) if i.ags == JENA]
    old = service.make_nonce(invitation, 0, utc_now() - dt.timedelta(hours=25))
    expired = sv.save(JENA, {**filled, "nonce": old})
    assert expired.status_code == 400
    assert html.escape(DE["nonce_expired"], quote=False) in expired.get_data(as_text=True)
    assert sv.api(f"/{sv.survey.id}/answers") == {"answers": []} and sv.drafts() == []


@pytest.mark.parametrize("nonce", ["1.0.ä", "1.².abc"])
def test_a_garbled_nonce_is_refused_not_an_error(sv: Setup, nonce: str) -> None:
    _, page = sv.form(JENA)
    response = sv.save(JENA, {**fill(page.fields, 0, **BODY), "nonce": nonce})
    assert response.status_code == 400


def test_a_form_based_on_an_older_answer_gets_409_and_the_newer_answer(sv: Setup) -> None:
    _, first = sv.form(JENA)
    _, second = sv.form(JENA)  # the same form open twice (two colleagues)
    assert sv.save(JENA, fill(first.fields, 0, **BODY)).status_code == 303
    late = sv.save(JENA, fill(second.fields, 0, **{**BODY, "name": "Zweite Fassung (Testdaten)"}))
    assert late.status_code == 409
    text = late.get_data(as_text=True)
    shown = FormPage(text)
    assert shown.fields["body-0-name"] == BODY["name"]
    assert html.escape(DE["nonce_stale"], quote=False) in text
    assert len(sv.api(f"/{sv.survey.id}/answers")["answers"]) == 1
    # The 409 page's own form is current: sending it again works.
    assert sv.save(JENA, fill(shown.fields, 0, name="Zweite Fassung (Testdaten)")).status_code == 303


# -- saving ------------------------------------------------------------------------------------


def test_save_redirects_to_sent_and_saving_again_replaces_the_drafts(sv: Setup) -> None:
    _, page = sv.form(JENA)
    added = sv.save(JENA, fill(page.fields, 0, **BODY), action="add")
    assert added.status_code == 200 and sv.drafts() == []  # one more block, nothing saved
    two = fill(
        FormPage(added.get_data(as_text=True)).fields, 1, **{**BODY, "name": "Runder Tisch (Testdaten)"}
    )
    response = sv.save(JENA, {**two, "body-1-type": "runder_tisch"})
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"{sv.url(JENA)}?sent=1")
    text = sv.client.get(response.headers["Location"]).get_data(as_text=True)
    assert html.escape(DE["sent_heading"], quote=False) in text
    assert html.escape(DE["sent_heading"], quote=False) not in sv.form(JENA)[0]
    assert len(sv.drafts()) == 2
    _, page = sv.form(JENA)  # the answer, then a spare block
    assert page.fields["body-1-name"] == "Runder Tisch (Testdaten)" and page.fields["body-2-name"] == ""
    emptied = {
        k: ("" if k.startswith("body-1-") and k != "body-1-present" else v) for k, v in page.fields.items()
    }
    assert sv.save(JENA, fill(emptied, 0, name="Testgremium Jena, neu (Testdaten)")).status_code == 303
    [draft] = sv.drafts()
    assert sv.store.get("prevention-bodies", draft).properties["name"] == "Testgremium Jena, neu (Testdaten)"
    answers = sv.api(f"/{sv.survey.id}/answers")["answers"]
    assert [a["review"] for a in answers] == ["superseded", "pending"]
    progress = sv.api(f"/{sv.survey.id}")
    assert progress["answered"] == 1 and progress["pending"] == 1


# -- review and what the public sees ------------------------------------------------------------


def test_approved_update_is_published_on_the_record_with_source_and_log(sv: Setup) -> None:
    sv.answer(ZWICKAU, name="Präventionsrat Zwickau (Testdaten)", email="praevention@example.org")
    [draft] = sv.drafts()
    assert draft not in sv.public() and sv.client.get(f"{ITEMS}/{draft}").status_code == 404
    assert sv.public()["zwickau-kpr"]["name"] == "Kommunaler Präventionsrat der Stadt Zwickau"
    private = sv.client.get(f"{ITEMS}/{draft}", headers=auth(sv.token)).get_json()
    assert private["properties"]["publication"] == "draft"
    doc = sv.api(f"/{sv.survey.id}/answers/{ZWICKAU}")
    [compared] = doc["comparison"]
    assert compared["draft"] == draft and compared["record"] == "zwickau-kpr"
    fields = {f["field"]: f for f in compared["fields"]}
    assert fields["name"]["on_record"] == "Kommunaler Präventionsrat der Stadt Zwickau"
    assert fields["name"]["answered"] == "Präventionsrat Zwickau (Testdaten)" and fields["name"]["changed"]
    assert not fields["partners"]["changed"]
    reviewed = sv.review(ZWICKAU, "approve", note="geprüft (Testdaten)")
    assert reviewed["review"] == "approved" and reviewed["review_note"] == "geprüft (Testdaten)"
    public = sv.public()
    assert draft not in public and draft not in sv.store.feature_ids("prevention-bodies")
    body = public["zwickau-kpr"]  # the record keeps its id
    assert body["name"] == "Präventionsrat Zwickau (Testdaten)" and body["email"] == "praevention@example.org"
    assert TITLE in body["source"] and f"{sv.survey.created_at:%d.%m.%Y}" in body["source"]
    assert body["verified_on"] == doc["submitted_at"][:10]
    log = sv.client.get(f"{ITEMS}/zwickau-kpr/history", headers=auth(sv.token)).get_json()["changes"]
    assert log[-1]["via"] == "survey-review" and log[-1]["action"] == "update"
    assert sv.survey.id in log[-1]["actor"] and ZWICKAU in log[-1]["actor"]
    steps = sv.client.get(f"{ITEMS}/{draft}/history", headers=auth(sv.token)).get_json()["changes"]
    assert [(s["action"], s["via"]) for s in steps] == [("create", "survey"), ("delete", "survey-review")]
    assert "Zwickau" in steps[0]["actor"] and sv.survey.id in steps[0]["actor"]
    text, _ = sv.form(ZWICKAU)
    assert html.escape(DE["review_approved"], quote=False) in text


def test_no_body_answer_is_published_and_the_progress_figures(sv: Setup) -> None:
    sv.answer(ZWICKAU)  # the record confirmed as it is: active
    sv.answer(MEERANE, name="Meerane, neu (Testdaten)")
    _, page = sv.form(JENA)
    assert sv.save(JENA, {**page.fields, "no_body": "yes"}).status_code == 303
    sv.form(GERA, "?lang=en")  # opened, never answered
    sv.review(ZWICKAU, "approve")
    sv.review(JENA, "approve")
    none = sv.public()[f"umfrage-{sv.survey.id}-{JENA}-0"]
    assert none["status"] == "none" and none["covers_ags"] == [JENA] and TITLE in none["source"]
    figures = sv.api(f"/{sv.survey.id}")
    expected = {"asked": 4, "opened": 4, "answered": 3, "pending": 1, "approved": 2, "rejected": 0}
    assert {k: figures[k] for k in expected} == expected
    assert figures["with_active_body"] == 1 and figures["without_body"] == 1
    rows = {r["ags"]: (r["status"], r["review"]) for r in figures["municipalities"]}
    assert rows[MEERANE] == ("answered", "pending") and rows[GERA] == ("asked", None)
    assert [a["ags"] for a in sv.api(f"/{sv.survey.id}/answers?review=pending")["answers"]] == [MEERANE]


def test_rejected_answer_is_never_published(sv: Setup) -> None:
    sv.answer(MEERANE, name="Meerane, falsch (Testdaten)")
    [draft] = sv.drafts()
    reviewed = sv.review(MEERANE, "reject", note="Angaben unklar (Testdaten)")
    assert reviewed["review"] == "rejected" and reviewed["review_note"] == "Angaben unklar (Testdaten)"
    public = sv.public()
    assert draft not in public and sv.drafts() == []
    assert public["meerane-asskomm"]["name"].startswith("Stadt Meerane")  # the record as it was
    assert public["meerane-asskomm"]["verified_on"] == "2023-04"
    figures = sv.api(f"/{sv.survey.id}")
    assert figures["rejected"] == 1 and figures["approved"] == 0 and figures["pending"] == 0


def test_answering_again_after_approval_keeps_the_published_body_until_reviewed(sv: Setup) -> None:
    sv.answer(JENA, **BODY)
    sv.review(JENA, "approve")
    published = f"umfrage-{sv.survey.id}-{JENA}-1"
    assert published in sv.public()
    _, page = sv.form(JENA)
    assert page.fields["body-0-ref"] == published  # the form shows what is on record now
    assert sv.save(JENA, {**page.fields, "no_body": "yes", "body-0-status": "dissolved"}).status_code == 303
    assert sv.public()[published]["status"] == "active"
    sv.review(JENA, "approve")
    public = sv.public()
    assert public[published]["status"] == "dissolved"  # updated in place, not a second body
    mine = sorted(i for i in public if i.startswith(f"umfrage-{sv.survey.id}-{JENA}-"))
    assert mine == [f"umfrage-{sv.survey.id}-{JENA}-0", published] and sv.drafts() == []


def test_review_api_needs_a_token_for_the_collection(sv: Setup, fresh_store: StoreConfig) -> None:
    sv.answer(JENA, **BODY)
    other = make_token(fresh_store, "--name", "Kameras (Testdaten)", "--collection", "video-surveillance")
    sid = sv.survey.id
    reads = ["", f"/{sid}", f"/{sid}/answers", f"/{sid}/answers/{JENA}"]
    review = f"/api/surveys/{sid}/answers/{JENA}/review"
    for path in reads:
        assert sv.client.get(f"/api/surveys{path}").status_code == 401, path
        assert sv.client.get(f"/api/surveys{path}", headers=auth(other)).status_code == 403, path
    assert sv.client.post(review, json={"decision": "approve"}).status_code == 401
    assert sv.client.post(review, json={"decision": "approve"}, headers=auth(other)).status_code == 403
    assert sv.drafts() and f"umfrage-{sid}-{JENA}-1" not in sv.public()  # nothing was decided
    sv.api("/nosuch", 404)
    sv.api(f"/{sid}/answers/{GERA}", 404)
    sv.review(GERA, "approve", 404)
    sv.review(JENA, "publish", 400)
    assert sv.api(f"/{sid}/answers/{JENA}")["review"] == "pending"
    first = sv.review(JENA, "approve")
    assert "Landesstelle (Testdaten)" in first["reviewer"]
    sv.review(JENA, "reject", 409)
    assert sv.api(f"/{sid}/answers/{JENA}")["review"] == "approved"
    assert f"umfrage-{sid}-{JENA}-1" in sv.public()


def test_a_nul_in_the_municipality_key_is_not_found(sv: Setup) -> None:
    sv.answer(JENA, **BODY)
    sv.api(f"/{sv.survey.id}/answers/{JENA[:-1]}%00", 404)
    sv.review(f"{JENA[:-1]}%00", "approve", 404)


def test_a_too_long_or_nul_review_note_is_a_bad_request(sv: Setup) -> None:
    sv.answer(JENA, **BODY)
    for note in ("N" * (service.MAX_NOTE + 1), "Notiz\x00 (Testdaten)"):
        assert sv.review(JENA, "approve", 400, note=note)["description"].startswith("note:")
    assert sv.api(f"/{sv.survey.id}/answers/{JENA}")["review"] == "pending"


# -- closed surveys and the rate limit ---------------------------------------------------------


def test_closed_survey_answers_410(sv: Setup) -> None:
    _, page = sv.form(JENA)
    assert sv.store.close_survey(sv.survey.id, utc_now())
    for response in (sv.client.get(sv.url(JENA)), sv.save(JENA, fill(page.fields, 0, **BODY))):
        assert response.status_code == 410
        text = html.unescape(response.get_data(as_text=True))
        closes = f"{sv.survey.closes_on:%d.%m.%Y}"
        assert ERROR_TEXT["de"]["survey_closed"].format(closes=closes) in text
    assert sv.drafts() == [] and sv.api(f"/{sv.survey.id}")["closed"] is True
    # Past its closing date a survey is closed without anyone closing it.
    yesterday = dt.date.today() - dt.timedelta(1)
    _, links = new_survey(sv.store, [JENA], yesterday, today=yesterday)
    assert sv.client.get(f"/survey/{links[0].token}").status_code == 410


def test_too_many_wrong_links_from_one_client_get_429(sv: Setup) -> None:
    one, other = {"REMOTE_ADDR": "10.0.0.7"}, {"REMOTE_ADDR": "10.0.0.8"}
    wrong = f"/survey/dsu_{'0' * 12}_{'A' * 43}"
    for _ in range(service.FAILURES_ALLOWED):
        assert sv.client.get(wrong, environ_base=one).status_code == 404
    refused = sv.client.get(wrong, environ_base=one)
    assert refused.status_code == 429
    assert refused.headers["Retry-After"] == "900"
    assert ERROR_TEXT["de"]["survey_rate_limited"].format(minutes=15) in refused.get_data(as_text=True)
    # Even a good link is refused to that client, before it is looked up ...
    assert sv.client.get(sv.url(JENA), environ_base=one).status_code == 429
    assert sv.api(f"/{sv.survey.id}")["opened"] == 0
    # ... while another client is not affected.
    assert sv.client.get(wrong, environ_base=other).status_code == 404
    assert sv.client.get(sv.url(JENA), environ_base=other).status_code == 200


# -- the command line --------------------------------------------------------------------------


def run(config: StoreConfig, *args: str, code: int = 0) -> Any:
    result = CliRunner().invoke(main, ["survey", *args], env=config.env)
    assert result.exit_code == code, result.output
    return result


def test_cli_create_writes_the_links_once_and_lists_the_survey(
    fresh_app: Flask, fresh_store: StoreConfig, tmp_path: Any
) -> None:
    out = tmp_path / "links.csv"
    closes = (dt.date.today() + dt.timedelta(30)).isoformat()
    args = ["create", "--title", TITLE, "--closes", closes, "--land", "16", "--min-population", "10000"]
    args += ["--base-url", "https://karte.example.org", "--out", str(out)]
    created = run(fresh_store, *args)
    sid = re.search(r"survey (\w+): .*34 municipalities", created.stdout).group(1)
    text = out.read_text(encoding="utf-8")
    rows = list(csv.reader(io.StringIO(text)))
    assert len(text.splitlines()) == 35 and rows[0] == ["Gemeinde", "AGS", "Link", "Einsendeschluss"]
    by_ags = {r[1]: r for r in rows[1:]}
    assert by_ags[JENA][0] == "Jena" and by_ags[JENA][3] == closes and all(a.startswith("16") for a in by_ags)
    assert all(r[2].startswith("https://karte.example.org/survey/dsu_") for r in rows[1:])
    assert out.stat().st_mode & 0o077 == 0  # the links are capabilities
    refused = run(fresh_store, *args, code=1)
    assert "exists" in refused.output and out.read_text(encoding="utf-8") == text
    listed = run(fresh_store, "list").output
    assert sid in listed and TITLE in listed and "34 asked, 0 opened" in listed
    assert len(fresh_app.extensions["mapservice"].store.surveys()) == 1
    link = by_ags[JENA][2].removeprefix("https://karte.example.org")
    client = fresh_app.test_client()
    assert client.get(link).status_code == 200
    run(fresh_store, "status", "nosuch", code=1)


def test_cli_status_export_review_and_close(
    fresh_app: Flask, fresh_store: StoreConfig, tmp_path: Any
) -> None:
    out = tmp_path / "links.csv"
    closes = (dt.date.today() + dt.timedelta(30)).isoformat()
    created = run(
        fresh_store,
        *["create", "--title", TITLE, "--closes", closes, "--ags", f"{JENA},{GERA}"],
        *["--base-url", "https://karte.example.org", "--out", str(out)],
    )
    sid = re.search(r"survey (\w+):", created.stdout).group(1)
    links = {
        r["AGS"]: r["Link"].removeprefix("https://karte.example.org") for r in csv.DictReader(out.open())
    }
    client = fresh_app.test_client()
    page = FormPage(client.get(links[JENA]).get_data(as_text=True))
    assert (
        client.post(links[JENA], data={**fill(page.fields, 0, **BODY), "action": "save"}).status_code == 303
    )
    status = run(fresh_store, "status", sid).output
    assert "2 asked, 1 opened, 1 answered (1 pending" in status
    assert re.search(rf"{JENA}\s+Jena\s+answered, pending \(opened\)", status)
    export = list(csv.reader(io.StringIO(run(fresh_store, "export", sid).stdout)))
    assert len(export) == 3 and "links" not in export[0]
    jena = {r[1]: r for r in export[1:]}[JENA]
    assert jena[2:5] == ["ja", "geantwortet", "offen"] and BODY["name"] in jena[7]
    assert not any("dsu_" in cell for row in export for cell in row)
    shown = run(fresh_store, "review", sid, JENA).output
    assert f"entwurf-{sid}-{JENA}-1 (new)" in shown and BODY["name"] in shown
    approved = run(fresh_store, "review", sid, JENA, "--approve", "--by", "Test")
    assert f"of {JENA}: approved" in approved.output
    body = client.get(f"{ITEMS}/umfrage-{sid}-{JENA}-1")
    assert body.status_code == 200 and body.get_json()["properties"]["publication"] == "published"
    store = fresh_app.extensions["mapservice"].store
    log = store.history("prevention-bodies", f"umfrage-{sid}-{JENA}-1")
    assert log[-1].via == "survey-review" and log[-1].actor.startswith("Test (mapservice survey review)")
    run(fresh_store, "review", sid, JENA, "--reject", code=1)  # decided already
    assert "closed" in run(fresh_store, "close", sid).output
    assert client.get(links[GERA]).status_code == 410
    run(fresh_store, "close", sid, code=1)
