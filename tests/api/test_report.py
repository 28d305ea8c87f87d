"""The situation report (/planner/report, `mapservice report`): PDF text, language, errors and
the change log on both backends.

The PDFs are rendered once per module on the shared GeoPackage (rendering costs seconds); the
change log test writes, so it gets a fresh store of each backend. Expectations come from the
data (district names, source titles), never from today's ranking.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import shutil
import subprocess
from collections.abc import Iterator
from html import unescape
from pathlib import Path
from typing import Any

import pytest
import shapely
from browser import output_dir
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient
from language_check import foreign, visible_text
from pypdf import PdfReader

from conftest import StoreConfig, get_json
from mapservice import create_app
from mapservice.cli import main
from mapservice.localize import date as fmt_date
from mapservice.planner.service import DISTRICT_INPUTS
from mapservice.store.base import Edit, utc_now


def _squeeze(text: str) -> str:
    """Text without any whitespace: a name the PDF wraps over two lines is still found."""
    return re.sub(r"\s+", "", text)


def _pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(data)).pages)


@pytest.fixture(scope="module")
def report_app(shared_gpkg: StoreConfig) -> Iterator[Flask]:
    app = create_app(shared_gpkg.settings())
    yield app
    app.extensions["mapservice"].store.close()


@pytest.fixture(scope="module")
def jena_pdf(report_app: Flask) -> Any:
    response = report_app.test_client().get("/planner/report?area=jena&f=pdf")
    assert response.status_code == 200, response.data[:500]
    return response


def _source_titles(app: Flask, lang: str) -> list[str]:
    planning = app.extensions["mapservice"].planning
    titles = [s.title if lang == "de" else s.title_en for s in planning.sources(DISTRICT_INPUTS)]
    jena = planning.city("jena")
    return titles + [r.title for r in planning.references_for(DISTRICT_INPUTS, (), jena.ags)]


def test_jena_pdf_names_every_district_the_date_and_each_source(report_app: Flask, jena_pdf: Any) -> None:
    assert jena_pdf.mimetype == "application/pdf"
    disposition = jena_pdf.headers["Content-Disposition"]
    assert re.fullmatch(r'inline; filename="lagebild-jena-\d{4}-\d{2}-\d{2}\.pdf"', disposition)
    text = _squeeze(_pdf_text(jena_pdf.data))
    names = [
        r["name"]
        for r in get_json(report_app.test_client(), "/api/coverage/districts?city=jena&f=json")["districts"]
    ]
    assert len(names) == 30
    assert [n for n in names if _squeeze(n) not in text] == []
    assert _squeeze(fmt_date(dt.date.today(), "de")) in text  # the title page's date
    titles = _source_titles(report_app, "de")
    assert titles
    assert [t for t in titles if _squeeze(t) not in text] == []


def test_report_page_one_as_png(jena_pdf: Any, tmp_path: Path) -> None:
    """A picture of the title page for people to look at (test-output/report-jena-page1.png)."""
    tool = shutil.which("pdftoppm")
    assert tool, "pdftoppm is missing: install poppler-utils (.ci/run does)"
    pdf = tmp_path / "report.pdf"
    pdf.write_bytes(jena_pdf.data)
    target = output_dir() / "report-jena-page1"
    subprocess.run([tool, "-png", "-r", "80", "-f", "1", "-l", "1", "-singlefile", pdf, target], check=True)
    assert Path(f"{target}.png").stat().st_size > 10_000


def test_english_report_has_no_german_catalog_strings(report_app: Flask) -> None:
    client = report_app.test_client()
    html = client.get("/planner/report?area=jena&lang=en").get_data(as_text=True)
    assert "What has changed since" in html
    assert foreign(visible_text(html, "de"), "en") == []
    german = client.get("/planner/report?area=land-14").get_data(as_text=True)
    assert foreign(visible_text(german, "en"), "de") == []
    assert "ASSKomm" in german  # the Saxon report has the network's figures
    thuringia = client.get("/planner/report?area=land-16&lang=en").get_data(as_text=True)
    assert "Survey of the Thuringian prevention council" in thuringia
    assert foreign(visible_text(thuringia, "de"), "en") == []


def test_report_html_keeps_the_strict_policy(report_app: Flask) -> None:
    response = report_app.test_client().get("/planner/report?area=jena")
    policy = response.headers["Content-Security-Policy"]
    assert "script-src 'self';" in policy and "unsafe-inline" not in policy.split("style-src")[0]
    html = response.get_data(as_text=True)
    assert "<script" not in html
    # One static map per district metric, drawn from the geometries, with no tile anywhere.
    assert html.count('class="rp-map"') == 13
    assert "tile" not in html.lower()


def test_cli_writes_the_pdf(shared_gpkg: StoreConfig, tmp_path: Path, report_app: Flask) -> None:
    out = tmp_path / "bericht.pdf"
    result = CliRunner().invoke(
        main, ["report", "--area", "jena", "--lang", "en", "-o", str(out)], env=shared_gpkg.env
    )
    assert result.exit_code == 0, result.output
    data = out.read_bytes()
    assert data.startswith(b"%PDF-")
    text = _squeeze(_pdf_text(data))
    assert _squeeze("Prevention situation report: Jena") in text
    assert [t for t in _source_titles(report_app, "en") if _squeeze(t) not in text] == []
    wrong = CliRunner().invoke(main, ["report", "--area", "atlantis", "-o", str(out)], env=shared_gpkg.env)
    assert wrong.exit_code != 0 and "--area" in wrong.output


def test_unknown_area_and_bad_since(report_app: Flask) -> None:
    client = report_app.test_client()
    page = client.get("/planner/report?area=atlantis&lang=en", headers={"Accept": "text/html"})
    assert page.status_code == 404 and page.mimetype == "text/html"
    assert "atlantis" in page.get_data(as_text=True)
    assert client.get("/planner/report?area=land-99").status_code == 404
    bad = client.get("/planner/report?area=jena&since=last-week")
    assert bad.status_code == 400 and "since" in bad.get_json()["description"]
    assert client.get("/planner/report?area=jena&since=2999-01-01").status_code == 400


def test_changes_since_lists_a_new_office_on_both_backends(fresh_app: Flask) -> None:
    services = fresh_app.extensions["mapservice"]
    store = services.store
    jena = next(f for f in store.all_features("contact-offices") if f.properties["city_ags"] == "16053000")
    before = utc_now()
    name = "TEST DATA: Sprechstunde für den Bericht"
    props = {
        **jena.properties,
        "id": "test-report-office",
        "name": name,
        "source": "TEST DATA (tests/api/test_report.py)",
    }
    store.edit(
        "contact-offices", Edit("create", "test-report-office", props, shapely.Point(11.59, 50.93)), "pytest"
    )
    logged = store.changes_since("contact-offices", before)
    assert [(e.feature_id, e.action) for e in logged] == [("test-report-office", "create")]
    assert logged[0].after is not None and logged[0].after["properties"]["name"] == name
    assert store.changes_since("contact-offices", utc_now() + dt.timedelta(seconds=1)) == []

    client: FlaskClient = fresh_app.test_client()
    html = client.get("/planner/report?area=jena").get_data(as_text=True)
    changes = html.split('id="rp-changes"', 1)[1]
    assert name in changes and "hinzugefügt" in changes
    # Another area's report does not list it.
    assert name not in client.get("/planner/report?area=leipzig").get_data(as_text=True)
    # Its removal is listed too, after its creation; since=today still holds both.
    store.edit("contact-offices", Edit("delete", "test-report-office"), "pytest")
    today = dt.date.today().isoformat()
    html = client.get(f"/planner/report?area=jena&since={today}&lang=en").get_data(as_text=True)
    changes = html.split('id="rp-changes"', 1)[1]
    assert name in changes and "removed" in changes and "added" in changes


def test_pdf_renderer_fetches_only_the_services_own_static_files(report_app: Flask) -> None:
    from mapservice.planner.report import _static_fetcher

    fetch = _static_fetcher(Path(str(report_app.static_folder)), "/static/").fetch
    own = fetch("http://localhost/static/favicon.svg")
    assert own.read().lstrip().startswith(b"<")
    for url in (
        "https://tile.openstreetmap.org/1/1/1.png",
        "http://localhost/static/../../etc/passwd",
        "file:///etc/passwd",
    ):
        with pytest.raises(ValueError, match="nothing but its own static files"):
            fetch(url)


def test_changes_of_a_draft_camera_stay_out_of_the_public_report(fresh_app: Flask) -> None:
    """Cameras are published by hand: a draft appears in no report, publishing reads as added."""
    store = fresh_app.extensions["mapservice"].store
    name = "TEST DATA: Kamera für den Bericht"
    camera = {"id": "test-report-camera", "name": name, "city": "Jena", "publication": "draft"}
    store.edit(
        "video-surveillance", Edit("create", camera["id"], camera, shapely.Point(11.59, 50.93)), "pytest"
    )
    client = fresh_app.test_client()
    assert name not in client.get("/planner/report?area=jena").get_data(as_text=True)
    published = {**camera, "publication": "published"}
    store.edit(
        "video-surveillance", Edit("replace", camera["id"], published, shapely.Point(11.59, 50.93)), "pytest"
    )
    page = client.get("/planner/report?area=jena").get_data(as_text=True)
    rows = page.split('id="rp-changes"', 1)[1].split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    assert name in rows and "hinzugefügt (" in rows and "geändert (" not in rows


def test_the_planner_page_links_its_report(report_app: Flask) -> None:
    client = report_app.test_client()
    page = client.get("/planner?area=land-14&lang=en").get_data(as_text=True)
    links = re.findall(r'href="(/planner/report\?[^"]+)"', page)
    assert [unescape(link) for link in links] == [
        "/planner/report?area=land-14&lang=en",
        "/planner/report?area=land-14&f=pdf&lang=en",
    ]
    html = client.get(unescape(links[0]))
    assert html.status_code == 200 and '<html lang="en"' in html.get_data(as_text=True)
