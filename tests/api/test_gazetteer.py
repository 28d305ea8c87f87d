"""The city's own addresses in the finder (issue 12, points 4 and 5), on both backends.

A house-coordinate file (invented test data, tests/gazetteer_files.py) is imported into a new
store; then typed addresses resolve, and what is not in the address directory is said so.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient
from gazetteer_files import write_hauskoordinaten

from conftest import StoreConfig, get_json
from mapservice import create_app
from mapservice.cli import main
from mapservice.finder.geocode.importer import import_file


@pytest.fixture(scope="module")
def gazetteer_app(
    backend: str, new_store: object, tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Iterator[Flask]:
    cluster = request.getfixturevalue("postgis_cluster") if backend == "postgis" else None
    folder = tmp_path_factory.mktemp("gazetteer")
    store: StoreConfig = new_store(folder / "instance")  # type: ignore[operator]
    app = create_app(store.settings())
    import_file(
        app.extensions["mapservice"].store, write_hauskoordinaten(folder / "hk.csv"), source="hk-test"
    )
    yield app
    app.extensions["mapservice"].store.close()
    if cluster is not None:
        cluster.drop_database(store.store)


@pytest.fixture
def gclient(gazetteer_app: Flask) -> FlaskClient:
    return gazetteer_app.test_client()


def locate(client: FlaskClient, address: str, status: int = 200) -> dict[str, object]:
    doc: dict[str, object] = get_json(client, "/api/locate?address=" + quote(address), status=status)
    return doc


def test_the_citys_own_addresses_resolve(gclient: FlaskClient) -> None:
    for address, town in (
        ("Holzmarkt 1, Jena", "Jena"),
        ("Löbdergraben 12, Jena", "Jena"),
        ("Hauptmarkt 1, Zwickau", "Zwickau"),
    ):
        doc = locate(gclient, address)
        point = doc["point"]
        assert isinstance(point, dict) and point["precision"] == "address" and point["score"] == 100
        assert doc["municipality"]["name"] == town  # type: ignore[index]


def test_a_street_with_several_numbers_and_none_given_offers_them(gclient: FlaskClient) -> None:
    response = gclient.get("/api/locate?address=" + quote("Am Anger, Jena"))
    assert response.status_code == 300
    doc = json.loads(response.data)
    assert doc["code"] == "Ambiguous" and "several house numbers" in doc["description"]
    assert {c["address"] for c in doc["candidates"]} >= {"Am Anger 26, 07743 Jena", "Am Anger 28, 07743 Jena"}


def test_a_similar_street_is_never_taken_silently(gclient: FlaskClient) -> None:
    doc = locate(gclient, "Am Anker 28, Jena", status=404)
    assert doc["code"] == "AddressNotFound"
    assert doc["description"] == "The street 'Am Anker' is not in the address directory for Jena."
    assert [c["address"] for c in doc["candidates"]][:1] == ["Am Anger 28, 07743 Jena"]  # type: ignore[index]


def test_an_unknown_street_says_it_is_not_in_the_directory(gclient: FlaskClient) -> None:
    doc = locate(gclient, "Karl-Marx-Allee 1, Jena", status=404)
    assert "'Karl-Marx-Allee' is not in the address directory" in str(doc["description"])
    assert "Holzmarkt" not in json.dumps(doc)  # never moved to another street


def test_a_street_of_another_town_is_not_taken_for_this_one(gclient: FlaskClient) -> None:
    doc = locate(gclient, "Hauptmarkt 1, Jena", status=404)
    assert doc["description"] == "The street 'Hauptmarkt' is in the address directory, but not for Jena."
    assert [c["address"] for c in doc["candidates"]] == ["Hauptmarkt 1, 08056 Zwickau"]  # type: ignore[index]


def test_a_number_not_on_the_street_offers_the_nearest(gclient: FlaskClient) -> None:
    response = gclient.get("/api/locate?address=" + quote("Am Anger 31, Jena"))
    assert response.status_code == 300
    doc = json.loads(response.data)
    assert "House number 31 of 'Am Anger' is not in the address directory" in doc["description"]
    assert doc["candidates"][0]["address"] == "Am Anger 30, 07743 Jena"


def test_the_finder_page_says_what_it_covers_and_offers_the_map(gclient: FlaskClient) -> None:
    html = gclient.get("/finder").get_data(as_text=True)
    assert "Welche Adressen die Suche kennt" in html
    assert "Jena (6)" in html and "Zwickau (2)" in html
    assert "hk-test (amtliche Hauskoordinaten): 8 Adressen, Stand" in html
    assert "Lizenz: dl-de/by-2-0, Hauskoordinaten Thüringen, Sachsen" in html
    assert "Anschriften der Dienststellen:" in html
    english = gclient.get("/finder?lang=en").get_data(as_text=True)
    assert "Which addresses the search knows" in english and "8 addresses, as of" in english
    assert "Adressen" not in english.split('id="cov-h"')[1]

    missing = gclient.get("/finder?address=" + quote("Am Anker 28, Jena"))
    text = missing.get_data(as_text=True)
    assert missing.status_code == 404
    assert "Die Straße „Am Anker“ steht für Jena nicht im Adressverzeichnis." in text
    assert "Meinten Sie:" in text and "?address=Am%20Anger%2028%2C%2007743%20Jena" in text
    assert "auf der Karte unten anklicken" in text and 'data-pick="true"' in text
    assert "<noscript><p>Ohne JavaScript können Sie die Koordinaten" in text and 'name="lat"' in text
    choose = gclient.get("/finder?lang=en&address=" + quote("Am Anger, Jena"))
    assert choose.status_code == 300
    assert "Please be more precise" in choose.get_data(as_text=True)


def test_cli_import_list_remove_and_a_bad_file(
    fresh_store: StoreConfig, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for key, value in fresh_store.env.items():
        monkeypatch.setenv(key, value)
    runner = CliRunner()
    hk = write_hauskoordinaten(tmp_path / "hk.csv")
    done = runner.invoke(main, ["gazetteer", "import", str(hk), "--source", "hk", "--progress"])
    assert done.exit_code == 0, done.output
    assert "hk: 8 address points (hauskoordinaten) in 2 places; licence dl-de/by-2-0" in done.stdout
    assert "rows/s" in done.stderr and "8/8" in done.stderr  # the progress bar, in rows
    quiet = runner.invoke(main, ["gazetteer", "import", str(hk), "--source", "hk"])
    assert quiet.exit_code == 0 and "rows/s" not in quiet.stderr  # no bar when not a terminal

    bad = tmp_path / "bad.csv"
    bad.write_text(hk.read_text(encoding="utf-8-sig").replace("Holzmarkt", "") + "N;X\n", encoding="utf-8")
    refused = runner.invoke(main, ["gazetteer", "import", str(bad), "--source", "hk"])
    assert refused.exit_code == 1
    assert "nothing imported, the stored points are unchanged" in refused.stderr
    assert f"{bad}, row 5, column 'STN': empty street" in refused.stderr
    assert f"{bad}, row 10: 2 fields, too few for an HK-DE line" in refused.stderr

    listed = runner.invoke(main, ["gazetteer", "list"])
    assert listed.exit_code == 0 and "hk  hauskoordinaten  8 points" in listed.stdout
    assert "places: Jena, Zwickau" in listed.stdout
    assert runner.invoke(main, ["gazetteer", "remove", "hk"]).exit_code == 0
    gone = runner.invoke(main, ["gazetteer", "remove", "hk"])
    assert gone.exit_code == 1 and "no address source 'hk'" in gone.stderr
    assert "no address sources imported" in runner.invoke(main, ["gazetteer", "list"]).stdout
    wrong = runner.invoke(main, ["gazetteer", "import", str(hk), "--format", "csv", "--columns", "street=x"])
    assert wrong.exit_code == 1 and "no column given for x, y" in wrong.stderr
