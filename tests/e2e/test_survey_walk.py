"""The Land office's survey, end to end: `mapservice survey create` for Thuringia's towns of
at least 10,000 inhabitants (shipped data), three answers through the real form in headless
Chromium against `mapservice serve`, one rejected and two approved through the API, and then
what the public sees: the map, the planner, the survey's figures, the API and the change log;
and the 404, 410 and 429 answers of the links.

Every answer is test data and says so in its name.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import requests
from browser import Browser, browser_fixture, browser_output_fixture, wait_until  # noqa: F401 - fixtures
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.support.ui import Select
from test_axe import AXE, axe_violations

from conftest import StoreConfig, start_server, stop_server

pytestmark = pytest.mark.e2e

JENA, WEIMAR, GOTHA = "16053000", "16055000", "16067029"
TITLE = "Präventionsgremien in Thüringen (Testdaten)"


def _cli(store: StoreConfig, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**__import__("os").environ, **store.env}
    return subprocess.run(
        [sys.executable, "-m", "mapservice", *args], env=env, capture_output=True, text=True, timeout=120
    )


def _fill(browser: Browser, block: int, values: dict[str, str]) -> None:
    for name, value in values.items():
        element = browser.find(f"#body-{block}-{name}")
        if element.tag_name == "select":
            Select(element).select_by_value(value)
        else:
            element.clear()
            element.send_keys(value)


def _save(browser: Browser) -> None:
    # The page before the click is marked; the answer's page is a new document without the mark.
    browser.js("window.dsmOldPage = true;")
    browser.find("button[value=save]").click()

    def new_page() -> bool:
        try:
            return bool(browser.js("return window.dsmOldPage !== true && document.readyState === 'complete'"))
        except WebDriverException:  # asked while the documents change
            return False

    wait_until(new_page, timeout=20)


def _axe(browser: Browser) -> list[str]:
    if not AXE.is_file():
        pytest.fail(f"{AXE} is missing: run `npm ci --prefix tests/node`", pytrace=False)
    found = axe_violations(browser, AXE.read_text(encoding="utf-8"))
    return [f"{v['id']}: {v['help']}; first: {v['nodes'][0]['target']}" for v in found]


def _features(base: str, **params: str) -> list[dict[str, Any]]:
    got = requests.get(f"{base}/api/collections/prevention-bodies/items", params={"limit": "1000", **params})
    assert got.status_code == 200
    features: list[dict[str, Any]] = got.json()["features"]
    return features


def test_a_land_office_runs_the_2020_survey_again(
    browser: Browser, fresh_store: StoreConfig, tmp_path: Path, browser_output: Path
) -> None:
    fresh_store.instance.mkdir(parents=True, exist_ok=True)
    server, log = start_server(fresh_store.instance, fresh_store.env)
    try:
        _walk(browser, fresh_store, server.url, tmp_path, browser_output)
    finally:
        stop_server(server, log)


def _walk(browser: Browser, store: StoreConfig, base: str, tmp_path: Path, shots: Path) -> None:
    closes = (dt.date.today() + dt.timedelta(days=90)).isoformat()
    links_file = tmp_path / "links.csv"
    made = _cli(
        store,
        *("survey", "create", "--title", TITLE, "--land", "16", "--min-population", "10000"),
        *("--closes", closes, "--base-url", base, "--out", str(links_file)),
    )
    assert made.returncode == 0, made.stderr
    survey_id = made.stdout.split()[1].rstrip(":")
    with links_file.open(encoding="utf-8") as handle:
        links = list(csv.DictReader(handle))
    # The shipped data has 34 Thuringian municipalities of at least 10,000 (2018 figures).
    assert len(links) == 34 and {r["Einsendeschluss"] for r in links} == {closes}
    link = {r["AGS"]: r["Link"] for r in links}
    assert link[JENA].startswith(f"{base}/survey/dsu_")
    # The links are printed once: nothing in the store or the CLI shows them again.
    listed = _cli(store, "survey", "status", survey_id)
    assert listed.returncode == 0 and "dsu_" not in listed.stdout and "34 asked, 0 opened" in listed.stdout

    # Jena: an active prevention council, founded 2019, with a public contact.
    browser.load(link[JENA])
    assert "Jena" in browser.find("main").text
    assert browser.driver.get_cookies() == []
    _fill(
        browser,
        0,
        {
            "name": "Kriminalpräventiver Rat Jena (Testdaten)",
            "type": "kpr",
            "status": "active",
            "level": "gemeinde",
            "founded": "2019",
            "working_groups": "AG Sicherheit im Stadtteil (Testdaten)",
            "contact_office": "Präventionsstelle (Testdaten)",
            "email": "kein-echtes-postfach",
        },
    )
    _save(browser)
    # The wrong e-mail address is refused next to its field, and nothing is lost.
    email = browser.find("#body-0-email")
    assert email.get_attribute("aria-invalid") == "true"
    assert "body-0-email-error" in (email.get_attribute("aria-describedby") or "")
    assert "E-Mail-Adresse" in browser.find("#body-0-email-error").text
    assert browser.find("#body-0-name").get_attribute("value") == "Kriminalpräventiver Rat Jena (Testdaten)"
    browser.screenshot(shots / "survey-error-de-1280.png")
    # The form with its errors shown, as axe-core sees it (the pages' own test, tests/e2e/test_axe.py).
    assert _axe(browser) == []
    _fill(browser, 0, {"email": "praevention@jena.example"})
    _save(browser)
    assert "Ihre Antwort ist gespeichert" in browser.find("main").text
    assert browser.driver.get_cookies() == []

    # Weimar, in English: a planned body.
    browser.load(link[WEIMAR] + "?lang=en")
    _fill(
        browser,
        0,
        {
            "name": "Präventionsrat Weimar (Testdaten)",
            "type": "kpr",
            "status": "planned",
            "level": "gemeinde",
        },
    )
    assert _axe(browser) == []
    _save(browser)
    assert "Your answer is saved" in browser.find("main").text

    # Gotha: "we have no prevention body".
    browser.load(link[GOTHA])
    browser.find("#no_body").click()
    _save(browser)
    assert "Ihre Antwort ist gespeichert" in browser.find("main").text
    browser.screenshot(shots / "survey-sent-de-1280.png")

    # Nothing of an answer is public before review.
    assert not [f for f in _features(base) if "Testdaten" in json.dumps(f, ensure_ascii=False)]

    token = _cli(
        store, "token", "create", "--name", "Landesstelle (Testdaten)", "--collection", "prevention-bodies"
    )
    assert token.returncode == 0, token.stderr
    auth = {"Authorization": f"Bearer {token.stdout.strip()}"}
    pending = requests.get(f"{base}/api/surveys/{survey_id}/answers/{JENA}", headers=auth).json()
    assert pending["review"] == "pending"
    fields = {f["field"]: f for f in pending["comparison"][0]["fields"]}
    assert fields["status"]["answered"] == "active" and fields["status"]["on_record"] is None
    for ags, decision in ((JENA, "approve"), (GOTHA, "approve"), (WEIMAR, "reject")):
        done = requests.post(
            f"{base}/api/surveys/{survey_id}/answers/{ags}/review",
            json={"decision": decision, "note": "Testdaten"},
            headers=auth,
        )
        assert done.status_code == 200, done.text
    again = requests.post(
        f"{base}/api/surveys/{survey_id}/answers/{JENA}/review", json={"decision": "reject"}, headers=auth
    )
    assert again.status_code == 409

    # The survey's own figures, computed from the answers.
    figures = requests.get(f"{base}/api/surveys/{survey_id}", headers=auth).json()
    assert {k: figures[k] for k in ("asked", "opened", "answered", "approved", "rejected", "pending")} == {
        "asked": 34,
        "opened": 3,
        "answered": 3,
        "approved": 2,
        "rejected": 1,
        "pending": 0,
    }
    assert (figures["with_active_body"], figures["without_body"]) == (1, 1)

    # The public API: only the approved answers, with the survey as source and the day of the answer.
    public = [f for f in _features(base) if "Testdaten" in json.dumps(f, ensure_ascii=False)]
    by_status = {f["properties"]["status"]: f["properties"] for f in public}
    assert sorted(by_status) == ["active", "none"]
    jena = by_status["active"]
    assert jena["name"] == "Kriminalpräventiver Rat Jena (Testdaten)" and jena["covers_ags"] == [JENA]
    assert TITLE in jena["source"] and jena["verified_on"] == dt.date.today().isoformat()
    assert jena["email"] == "praevention@jena.example" and jena["founded"] == "2019"
    assert by_status["none"]["covers_ags"] == [GOTHA]
    assert "Weimar" not in json.dumps(public, ensure_ascii=False)

    # The change log: the answer and the review, with the survey and the municipality.
    jena_id = next(f["id"] for f in public if f["properties"]["status"] == "active")

    def changes(feature_id: str) -> list[tuple[str, str, str]]:
        url = f"{base}/api/collections/prevention-bodies/items/{feature_id}/history"
        return [
            (c["via"], c["action"], c["actor"]) for c in requests.get(url, headers=auth).json()["changes"]
        ]

    draft = changes(jena_id.replace("umfrage-", "entwurf-", 1))
    assert [(v, a) for v, a, _ in draft] == [("survey", "create"), ("survey-review", "delete")], draft
    assert f"Umfrage {survey_id}" in draft[0][2] and f"Jena ({JENA})" in draft[0][2]
    published = changes(jena_id)
    assert [(v, a) for v, a, _ in published] == [("survey-review", "create")], published
    assert "Landesstelle (Testdaten)" in published[0][2] and JENA in published[0][2]

    # Coverage and the planner: the status of each municipality asked, and the summary.
    rows = requests.get(f"{base}/api/coverage/municipalities", params={"land": "16", "f": "json"}).json()
    by_ags = {r["ags"]: r for r in rows["municipalities"]}
    assert by_ags[JENA]["prevention_status"] == "active"
    assert by_ags[GOTHA]["prevention_status"] == "none"  # a known gap, not missing data
    assert by_ags[GOTHA]["bodies"] == []  # the statement is no body to list
    assert by_ags[WEIMAR]["prevention_status"] == "none_known"
    assert {by_ags[a]["survey_status"] for a in (JENA, WEIMAR, GOTHA)} == {"answered"}
    assert sum(1 for r in rows["municipalities"] if r["survey_status"] == "asked") == 31
    assert rows["liveSurvey"]["asked"] == 34 and rows["liveSurvey"]["with_active_body"] == 1

    browser.load(f"{base}/planner?area=land-16", wait_for_js="window.mapReady === true", timeout=60)
    text = browser.find("main").text
    assert "34 gefragt, 3 geantwortet" in text and "1 mit aktivem Gremium" in text
    browser.screenshot(shots / "survey-planner-de-1280.png")
    report = requests.get(f"{base}/planner/report", params={"area": "land-16"})
    assert report.status_code == 200 and "34 gefragt, 3 geantwortet" in report.text
    browser.load(f"{base}/map/prevention-thueringen", wait_for_js="window.mapReady === true", timeout=60)
    table_row = browser.js(
        "return Array.from(document.querySelectorAll('tr')).map(function (r) { return r.innerText; })"
        ".filter(function (t) { return t.indexOf('Gotha') === 0; })[0] || ''"
    )
    assert "laut Quelle keins" in table_row and "geantwortet" in table_row
    assert "Präventionsgremium" not in table_row  # the statement's own name is not listed as a body

    # The links: a wrong one is 404 and says nothing; after 10 wrong ones, 429; closed, 410.
    wrong_url, unknown_url = link[JENA][:-4] + "AAAA", f"{base}/survey/dsu_000000000000_{'A' * 43}"
    wrong, unknown = requests.get(wrong_url), requests.get(unknown_url)
    # The same page but for its own address (in the language link).
    assert wrong.status_code == unknown.status_code == 404
    assert wrong.text.replace(wrong_url[len(base) :], "") == unknown.text.replace(
        unknown_url[len(base) :], ""
    )
    assert "Jena" not in wrong.text and "Set-Cookie" not in wrong.headers
    for _ in range(8):
        assert requests.get(f"{base}/survey/nonsense").status_code == 404
    limited = requests.get(link[GOTHA])
    assert limited.status_code == 429 and int(limited.headers["Retry-After"]) > 0
    closed = _cli(store, "survey", "close", survey_id)
    assert closed.returncode == 0, closed.stderr
    # The failures are kept for 15 minutes: forget them to see the closed survey's answer.
    _forget_failures(store)
    gone = requests.get(link[JENA])
    assert gone.status_code == 410 and "beendet" in gone.text
    exported = _cli(store, "survey", "export", survey_id)
    assert exported.returncode == 0 and "Gotha,16067029,ja,geantwortet,freigegeben" in exported.stdout


def _forget_failures(store: StoreConfig) -> None:
    if not store.store:
        import sqlite3

        with sqlite3.connect(store.instance / "mapservice.gpkg") as conn:
            conn.execute("DELETE FROM mapservice_survey_failures")
        return
    import psycopg

    with psycopg.connect(store.store) as conn:
        conn.execute("DELETE FROM mapservice.survey_failures")
