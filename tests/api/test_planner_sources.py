"""Sources and figures a council can read: the source catalog, amounts per language, the German
CSV variant of the planner downloads (issue 14, point 3)."""

from __future__ import annotations

import csv
import importlib.util
import io
import json
import math
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from flask.testing import FlaskClient

from conftest import StoreConfig, get_json
from mapservice import create_app
from mapservice.i18n import CATEGORY_TEXT, CSV_COLUMN_TEXT
from mapservice.planner.service import read_sources

REPO = Path(__file__).resolve().parents[2]
GEODATA = REPO / "geodata"
# The archived copies of the source documents are named like this; a reader must never see one.
SEED_FILE = re.compile(r"\d{3}_[0-9a-f]{16}\.txt")


@pytest.fixture(scope="module")
def client(shared_gpkg: StoreConfig) -> Iterator[FlaskClient]:
    """Sources, amounts and CSV variants do not depend on the store backend: one app on the
    shared GeoPackage for the whole module (its metrics cache is then computed once)."""
    app = create_app(shared_gpkg.settings())
    yield app.test_client()
    app.extensions["mapservice"].store.close()


def _text(client: FlaskClient, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    # Babel separates "1,1 Mio. €" with no-break spaces; a reader sees spaces.
    return response.get_data(as_text=True).replace("\u00a0", " ")


def test_every_source_in_the_catalog_is_citable() -> None:
    references = read_sources(GEODATA / "sources.csv")
    assert references, "geodata/sources.csv is missing or empty"
    assert len({r.id for r in references}) == len(references)
    for r in references:
        assert r.title.strip() and r.publisher.strip(), r.id
        assert not SEED_FILE.search(r.title + r.publisher + (r.url or "")), r.id
        assert r.date is None or re.fullmatch(r"\d{4}(-\d{2}(-\d{2})?)?", r.date), r.id
        assert r.url is None or r.url.startswith("https://"), r.id
        assert r.note("de") and r.note("en"), r.id  # what the document leaves open, in words
    # Every document the shipped figures cite is in the catalog.
    with (GEODATA / "programme_figures.csv").open(encoding="utf-8", newline="") as fh:
        cited = {row["source_doc"] for row in csv.DictReader(fh)}
    assert cited <= {r.document for r in references}
    # Features cite the catalog's publisher and title, never the archive file.
    citations = {f"{r.publisher}: {r.title}" for r in references}
    for layer in ("contact-offices", "prevention-bodies"):
        doc = json.loads((GEODATA / f"{layer}.geojson").read_text(encoding="utf-8"))
        assert {f["properties"]["source"] for f in doc["features"]} <= citations, layer


@pytest.mark.parametrize(
    "url",
    [
        "/planner?area=land-14",
        "/planner?area=land-14&lang=en",
        "/planner?area=land-16",
        "/planner?area=land-16&lang=en",
        "/planner?area=jena",
        "/planner?area=jena&lang=en",
        "/api/coverage/municipalities?f=json",
        "/api/coverage/municipalities?land=16&f=csv&lang=de",
        "/api/coverage/municipalities?land=14&f=csv",
        "/api/coverage/districts?city=jena&f=json",
        "/api/coverage/districts?city=jena&f=csv&lang=de",
        "/api/collections/contact-offices/items?limit=100",
        "/api/collections/prevention-bodies/items?limit=100",
    ],
)
def test_no_page_or_download_names_a_seed_file(client: FlaskClient, url: str) -> None:
    assert SEED_FILE.search(_text(client, url)) is None


def test_figures_read_per_language_and_cite_their_source(client: FlaskClient) -> None:
    german = _text(client, "/planner?area=land-14")
    english = _text(client, "/planner?area=land-14&lang=en")
    box_de = german[german.index('id="asskomm-h"') :]
    box_en = english[english.index('id="asskomm-h"') :]
    assert "1,1 Mio. €" in box_de and "1100000" not in box_de and "(EUR)" not in box_de
    assert "€1.1 million" in box_en and "1100000" not in box_en and "(EUR)" not in box_en
    # The figures' source by its catalog title and publisher, and the catalog table lists it
    # with its date or "unknown" and its address where the document gives one.
    references = {r.id: r for r in read_sources(GEODATA / "sources.csv")}
    asskomm = references["meerane-asskomm-2023"]
    assert f"Quelle: {asskomm.publisher}: {asskomm.title}" in re.sub(r"<[^>]+>", "", box_de)
    refs_de = german[german.index('id="refs-h"') :]
    assert asskomm.title in refs_de and asskomm.publisher in refs_de
    zwickau = references["zwickau-stabsstelle-praevention"]
    assert zwickau.url is not None and f'href="{zwickau.url}"' in refs_de
    # Thuringia's page cites the survey, not Saxony's sources.
    thuringia = _text(client, "/planner?area=land-16")
    survey = references["lpr-thueringen-befragung-2020"]
    assert f"{survey.publisher}: {survey.title}" in re.sub(r"<[^>]+>", "", thuringia)
    assert zwickau.title not in thuringia[thuringia.index('id="refs-h"') :]
    # The JSON names the same sources; its figures carry the catalog id, not a file.
    doc = get_json(client, "/api/coverage/municipalities?land=16&f=json")
    assert survey.id in {r["id"] for r in doc["references"]}
    assert {f["source"] for f in doc["survey"]["survey"]} == {survey.id}


def _number(value: Any) -> float | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return float(value)


@pytest.mark.parametrize(
    ("url", "key", "numbers"),
    [
        (
            "/api/coverage/districts?city=jena",
            "districts",
            ("gap_score", "households", "distance_mean_m", "walk_share", "area_km2", "officers"),
        ),
        ("/api/coverage/municipalities?land=16", "municipalities", ("population", "gap_score")),
    ],
)
def test_german_csv_opens_in_pandas_with_the_json_numbers(
    client: FlaskClient, url: str, key: str, numbers: tuple[str, ...]
) -> None:
    response = client.get(f"{url}&f=csv&lang=de")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    raw = response.get_data()
    assert raw.startswith("\ufeff".encode())  # UTF-8 with BOM: Excel reads the umlauts
    frame = pd.read_csv(io.BytesIO(raw), sep=";", decimal=",", encoding="utf-8-sig", dtype={"Kennung": str})
    rows = get_json(client, f"{url}&f=json")[key]
    assert len(frame) == len(rows) and len(frame.columns) > 10  # columns, not one
    headers = {de: column for column, (de, _en) in CSV_COLUMN_TEXT.items()}
    frame = frame.rename(columns=headers)
    for column in numbers:
        assert pd.api.types.is_numeric_dtype(frame[column]), column
        got = [_number(v) for v in frame[column]]
        want = [_number(r[column]) for r in rows]
        assert got == pytest.approx(want), column
    # Codes are shown as their labels.
    statuses = set(frame["prevention_status"].dropna())
    labels = {de for de, _en in CATEGORY_TEXT["prevention_status"].values()}
    assert statuses and statuses <= labels and "none_known" not in labels
    assert set(frame["gap_complete"].dropna()) <= {"ja", "nein"}


def test_csv_variants_are_chosen_by_lang_or_dialect(client: FlaskClient) -> None:
    base = "/api/coverage/districts?city=jena&f=csv"
    plain = client.get(base).get_data(as_text=True)  # programs: comma, field names, codes
    assert plain.lstrip("\ufeff").startswith("gap_rank,") and "none_known" in plain
    english = client.get(f"{base}&lang=en").get_data(as_text=True)
    assert english.lstrip("\ufeff").startswith("gap_rank,")
    excel_en = client.get(f"{base}&lang=en&dialect=excel-de").get_data(as_text=True)
    assert excel_en.lstrip("\ufeff").startswith("Rank;") and "none known" in excel_en
    forced = client.get(f"{base}&lang=de&dialect=rfc4180").get_data(as_text=True)
    assert forced.lstrip("\ufeff").startswith("gap_rank,")
    assert (
        "dialect"
        in get_json(client, "/api/coverage/districts?city=jena&f=json&dialect=excel-de", 400)["description"]
    )
    assert client.get(f"{base}&dialect=excel-fr").status_code == 400
    # The German planner page links the German variant, the English page the plain one.
    for lang in ("de", "en"):
        page = _text(client, f"/planner?area=jena&lang={lang}")
        links = re.findall(r'href="(/api/coverage/districts\?[^"]*f=csv[^"]*)"', page)
        assert links and all(f"lang={lang}" in link for link in links), links


def test_the_build_refuses_a_source_without_publisher_or_with_an_invented_date(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    script = REPO / "scripts" / "build_geodata.py"
    spec = importlib.util.spec_from_file_location("build_geodata_sources", script)
    assert spec is not None and spec.loader is not None
    build = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, spec.name, build)  # its dataclasses look themselves up there
    spec.loader.exec_module(build)
    build.check_source_catalog()  # the shipped catalog is complete
    entry = dict(build.SOURCE_CATALOG[0])
    monkeypatch.setattr(build, "SOURCE_CATALOG", ({**entry, "publisher": ""},))
    with pytest.raises(build.BuildError, match=rf"{entry['id']}.*'publisher' is required"):
        build.check_source_catalog()
    monkeypatch.setattr(build, "SOURCE_CATALOG", ({**entry, "date": "Sommer 2025"},))
    with pytest.raises(build.BuildError, match="'date' 'Sommer 2025' is not YYYY"):
        build.check_source_catalog()


def test_a_broken_source_catalog_is_named_with_file_and_row(tmp_path: Path) -> None:
    from mapservice.config import ConfigError

    catalog = tmp_path / "sources.csv"
    header = "id,title,publisher,date,url,document,cited_by,ags,note,note_en\n"
    catalog.write_text(header + "x,Ein Titel,,,,doc.txt,,,Hinweis,note\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"sources\.csv, row 2: 'publisher' is empty"):
        read_sources(catalog)
    catalog.write_text("id,title\nx,y\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"sources\.csv: source catalog without column\(s\) publisher"):
        read_sources(catalog)
    assert read_sources(tmp_path / "missing.csv") == []  # no catalog shipped: no entries
