"""The basemap: the own PMTiles archive in byte ranges, its settings, and the consent notice
before an external tile server is asked for anything (the browser test is in tests/e2e/)."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from basemap_fixture import basemap_archive_fixture  # noqa: F401 - fixture
from flask import Flask
from flask.testing import FlaskClient

from conftest import StoreConfig
from mapservice import create_app
from mapservice.config import ConfigError, load_settings
from mapservice.i18n import BASEMAP_TEXT

ARCHIVE = "/basemap/basemap.pmtiles"
EXTERNAL = "https://tile.example.org/{z}/{x}/{y}.png"


def _app(store: StoreConfig, **settings: object) -> Iterator[Flask]:
    app = create_app(store.settings(**settings))
    yield app
    app.extensions["mapservice"].store.close()


# The basemap does not touch the store: these apps are on the shared GeoPackage only.
@pytest.fixture(scope="module")
def own(
    shared_gpkg: StoreConfig, basemap_archive: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Flask]:
    # A copy of its own: one test replaces the file.
    copy = tmp_path_factory.mktemp("own-basemap") / "basemap.pmtiles"
    shutil.copyfile(basemap_archive, copy)
    yield from _app(shared_gpkg, basemap_pmtiles=str(copy))


@pytest.fixture(scope="module")
def external(shared_gpkg: StoreConfig) -> Iterator[Flask]:
    yield from _app(shared_gpkg, tile_url=EXTERNAL, tile_attribution="© Beispiel-Kacheln")


@pytest.fixture(scope="module")
def plain(shared_gpkg: StoreConfig) -> Iterator[Flask]:
    yield from _app(shared_gpkg)


@pytest.fixture
def client(own: Flask) -> FlaskClient:
    return own.test_client()


def _archive(app: Flask) -> bytes:
    path = app.config["SETTINGS"].resolved_basemap_path()
    return bytes(path.read_bytes())


# -- settings -----------------------------------------------------------------------------


def test_a_missing_or_wrong_file_stops_start_up_naming_it(tmp_path: Path, basemap_archive: Path) -> None:
    missing = tmp_path / "thueringen.pmtiles"
    with pytest.raises(ConfigError, match=rf"basemap_pmtiles.*{re.escape(str(missing))}: no such file"):
        load_settings({"basemap_pmtiles": str(missing)}, environ={})
    geojson = tmp_path / "jena.pmtiles"
    geojson.write_text('{"type": "FeatureCollection", "features": []}')
    with pytest.raises(ConfigError, match=rf"{re.escape(str(geojson))}: not a PMTiles archive"):
        load_settings({"basemap_pmtiles": str(geojson)}, environ={})
    data = bytearray(basemap_archive.read_bytes())
    old = tmp_path / "v2.pmtiles"
    old.write_bytes(b"PMTiles\x02" + data[8:])
    with pytest.raises(ConfigError, match="version 2; only version 3"):
        load_settings({"basemap_pmtiles": str(old)}, environ={})
    raster = tmp_path / "raster.pmtiles"
    data[99] = 2  # PNG tiles: protomaps-leaflet draws vector tiles only
    raster.write_bytes(bytes(data))
    with pytest.raises(ConfigError, match="PNG tiles; the basemap must hold vector tiles"):
        load_settings({"basemap_pmtiles": str(raster)}, environ={})
    with pytest.raises(ConfigError, match="a folder, not a file"):
        load_settings({"basemap_pmtiles": str(tmp_path)}, environ={})


def test_relative_paths_are_from_the_working_directory(
    basemap_archive: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(basemap_archive.parent)
    settings = load_settings(environ={"MAPSERVICE_BASEMAP_PMTILES": basemap_archive.name})
    assert settings.resolved_basemap_path() == basemap_archive.resolve()


def test_own_basemap_and_tile_server_exclude_each_other_and_flavors_are_checked(
    basemap_archive: Path,
) -> None:
    with pytest.raises(ConfigError, match="'basemap_pmtiles' and 'tile_url' are both set"):
        load_settings(
            {"basemap_pmtiles": str(basemap_archive), "tile_url": EXTERNAL, "tile_attribution": "x"},
            environ={},
        )
    with pytest.raises(ConfigError, match="basemap_flavor' must be one of light, dark"):
        load_settings({"basemap_flavor": "sepia"}, environ={})


# -- serving the archive ------------------------------------------------------------------


def test_whole_archive_with_validators_and_caching(client: FlaskClient, own: Flask) -> None:
    body = _archive(own)
    response = client.get(ARCHIVE, headers={"Accept-Encoding": "gzip"})
    assert response.status_code == 200
    assert response.data == body
    assert response.headers["Content-Length"] == str(len(body))
    assert response.headers["Content-Type"] == "application/vnd.pmtiles"
    assert response.headers["Accept-Ranges"] == "bytes"
    assert response.headers["Cache-Control"] == "public, max-age=86400"
    assert "Content-Encoding" not in response.headers  # a range of a gzipped body would be wrong
    # Strong, and from the content: every worker and every instance with a copy agrees.
    assert response.headers["ETag"] == f'"{hashlib.sha256(body).hexdigest()[:32]}"'
    head = client.head(ARCHIVE)
    assert head.status_code == 200 and head.data == b""
    assert head.headers["Content-Length"] == str(len(body))


def test_ranges_as_the_pmtiles_reader_asks_for_them(client: FlaskClient, own: Flask) -> None:
    body = _archive(own)
    size = len(body)
    first = client.get(ARCHIVE, headers={"Range": "bytes=0-16383"})
    assert first.status_code == 206
    assert first.headers["Content-Range"] == f"bytes 0-16383/{size}"
    assert first.data == body[:16384] and first.headers["Content-Length"] == "16384"
    assert first.data[:7] == b"PMTiles"
    # Then directories and tiles: the same file, range after range.
    for header, start, stop in (
        ("bytes=127-600", 127, 601),
        (f"bytes={size - 10}-{size + 1000}", size - 10, size),  # beyond the end: cut at it
        ("bytes=-100", size - 100, size),  # suffix: the last 100 bytes
        (f"bytes={size - 5}-", size - 5, size),
        ("bytes=0-9,20-29", 0, 30),  # several ranges: coalesced into one part
    ):
        response = client.get(ARCHIVE, headers={"Range": header})
        assert response.status_code == 206, header
        assert response.headers["Content-Range"] == f"bytes {start}-{stop - 1}/{size}", header
        assert response.data == body[start:stop], header
        assert response.headers["ETag"] == first.headers["ETag"]


def test_unsatisfiable_and_invalid_ranges(client: FlaskClient, own: Flask) -> None:
    size = len(_archive(own))
    response = client.get(ARCHIVE, headers={"Range": f"bytes={size}-{size + 100}"})
    assert response.status_code == 416
    # The PMTiles reader reads the size from here when its first range is refused.
    assert response.headers["Content-Range"] == f"bytes */{size}"
    assert json.loads(response.data)["code"] == "RangeNotSatisfiable"
    assert response.headers["Cache-Control"] == "no-store"
    # The last zero bytes: a valid range that no file can satisfy.
    assert client.get(ARCHIVE, headers={"Range": "bytes=-0"}).status_code == 416
    # Not a byte range at all: ignored (RFC 9110 §14.2), the whole file.
    for header in ("bytes=abc", "bytes=20-10", "lines=1-2"):
        response = client.get(ARCHIVE, headers={"Range": header})
        assert response.status_code == 200 and len(response.data) == size, header


def test_conditional_requests(client: FlaskClient, own: Flask) -> None:
    size = len(_archive(own))
    etag = client.head(ARCHIVE).headers["ETag"]
    unchanged = client.get(ARCHIVE, headers={"If-None-Match": etag})
    assert unchanged.status_code == 304 and unchanged.data == b""
    assert unchanged.headers["ETag"] == etag and unchanged.headers["Cache-Control"] == "public, max-age=86400"
    # If-None-Match is decided before the range (RFC 9110 §13.2.2).
    assert client.get(ARCHIVE, headers={"If-None-Match": etag, "Range": "bytes=0-99"}).status_code == 304
    assert client.get(ARCHIVE, headers={"If-None-Match": '"other"'}).status_code == 200
    # If-Range: the range only while the archive is the one the client has.
    assert client.get(ARCHIVE, headers={"Range": "bytes=0-99", "If-Range": etag}).status_code == 206
    for other in ('"other"', f"W/{etag}", "Wed, 21 Oct 2015 07:28:00 GMT"):
        whole = client.get(ARCHIVE, headers={"Range": "bytes=0-99", "If-Range": other})
        assert whole.status_code == 200 and len(whole.data) == size, other
    assert client.get(ARCHIVE, headers={"If-Match": '"other"'}).status_code == 412
    assert client.get(ARCHIVE, headers={"If-Match": etag, "Range": "bytes=0-9"}).status_code == 206


def test_a_replaced_archive_gets_a_new_etag_at_once(client: FlaskClient, own: Flask, tmp_path: Path) -> None:
    path = own.config["SETTINGS"].resolved_basemap_path()
    before = client.head(ARCHIVE).headers["ETag"]
    original = path.read_bytes()
    changed = bytearray(original)
    changed[-1] ^= 0xFF  # another last tile byte: another archive
    staged = tmp_path / "new.pmtiles"
    staged.write_bytes(bytes(changed))
    staged.replace(path)  # as an operator swaps in a new extract
    try:
        after = client.get(ARCHIVE, headers={"Range": "bytes=-1"})
        assert after.headers["ETag"] != before
        assert after.data == bytes(changed[-1:])
        assert client.get(ARCHIVE, headers={"If-None-Match": before}).status_code == 200
    finally:
        staged.write_bytes(original)
        staged.replace(path)


def test_no_basemap_configured_is_404(plain: Flask, external: Flask) -> None:
    for app in (plain, external):
        response = app.test_client().get(ARCHIVE)
        assert response.status_code == 404
        assert json.loads(response.data)["code"] == "NotFound"


# -- pages --------------------------------------------------------------------------------


def _csp(response: object) -> str:
    return str(response.headers["Content-Security-Policy"])  # type: ignore[attr-defined]


def test_map_pages_draw_the_own_basemap_in_the_page_language(client: FlaskClient) -> None:
    for url, lang, words in (
        ("/map/jena", "de", BASEMAP_TEXT["de"]["osm_attribution"]),
        ("/map/jena?lang=en", "en", BASEMAP_TEXT["en"]["osm_attribution"]),
        ("/embed/jena?lang=en", "en", BASEMAP_TEXT["en"]["osm_attribution"]),
    ):
        response = client.get(url)
        html = response.get_data(as_text=True)
        assert "/static/vendor/protomaps-leaflet/protomaps-leaflet.js" in html, url
        config = json.loads(re.search(r"basemap: (\{.*?\}),\n", html).group(1))  # type: ignore[union-attr]
        assert config["kind"] == "pmtiles" and config["url"] == ARCHIVE
        assert config["lang"] == lang and config["flavor"] == "light"
        assert config["maxDataZoom"] == 13  # the test archive's last level; deeper zooms over-zoom it
        assert (
            words in config["attribution"]
            and "https://www.openstreetmap.org/copyright" in config["attribution"]
        )
        assert "dsm-consent" not in html
        assert "img-src 'self' data:;" in _csp(response)
    planner = client.get("/planner?area=jena").get_data(as_text=True)
    assert '"kind": "pmtiles"' in planner and "protomaps-leaflet.js" in planner
    finder = client.get("/finder?lang=en").get_data(as_text=True)
    assert "protomaps-leaflet.js" in finder and '"kind": "pmtiles"' in finder


def test_external_tiles_wait_for_consent_naming_the_host(external: Flask) -> None:
    client = external.test_client()
    for url, lang in (("/map/jena", "de"), ("/map/jena?lang=en", "en"), ("/embed/jena", "de")):
        response = client.get(url)
        html = response.get_data(as_text=True)
        t = BASEMAP_TEXT[lang]
        notice = re.search(r'<div id="dsm-basemap-notice" class="dsm-consent".*?</div>', html, re.S)
        assert notice, url
        text = re.sub(r"<[^>]+>", "", notice.group(0))
        assert "tile.example.org" in text and ("IP-Adresse" if lang == "de" else "IP address") in text
        assert f'<button type="button" class="dsm-consent-load">{t["load"]}</button>' in notice.group(0)
        # The tile URL is only in the basemap's configuration: no Leaflet layer asks it by itself.
        assert "tileLayer" not in html and "protomaps-leaflet" not in html
        config = json.loads(re.search(r"basemap: (\{.*?\}),\n", html).group(1))  # type: ignore[union-attr]
        assert config == {
            "kind": "external",
            "url": EXTERNAL,
            "attribution": "© Beispiel-Kacheln",
            "maxZoom": 19,
            "host": "tile.example.org",
            "noticeId": "dsm-basemap-notice",
        }
        assert "img-src 'self' data: https://tile.example.org;" in _csp(response)
    planner = client.get("/planner?area=jena&lang=en")
    assert BASEMAP_TEXT["en"]["heading"] in planner.get_data(as_text=True)
    assert "https://tile.example.org" in _csp(planner)
    finder = client.get("/finder")
    html = finder.get_data(as_text=True)
    assert 'id="finder-basemap-notice"' in html and BASEMAP_TEXT["de"]["load"] in html
    assert "img-src 'self' data: https://tile.example.org;" in _csp(finder)


def test_without_a_basemap_no_notice_and_no_other_host(plain: Flask) -> None:
    client = plain.test_client()
    for url in ("/map/jena", "/embed/jena?lang=en", "/finder"):
        response = client.get(url)
        html = response.get_data(as_text=True)
        assert "dsm-consent" not in html and "protomaps-leaflet" not in html, url
        assert re.search(r"img-src 'self' data:;", _csp(response)), url
    assert "basemap: null," in client.get("/map/jena").get_data(as_text=True)


def test_consent_texts_have_the_same_keys_in_both_languages() -> None:
    assert BASEMAP_TEXT["de"].keys() == BASEMAP_TEXT["en"].keys()
    assert all("{host}" in BASEMAP_TEXT[lang]["notice"] for lang in ("de", "en"))


def test_tile_hosts_for_the_policy_and_the_notice() -> None:
    from mapservice.maps.basemap import basemap_of, tile_host

    assert tile_host("https://{s}.tile.example.org/{z}/{x}/{y}.png") == "https://*.tile.example.org"
    assert tile_host("http://tiles.localhost:8080/{z}/{x}/{y}.png") == "http://tiles.localhost:8080"
    assert tile_host("/tiles/{z}/{x}/{y}.png") is None  # the own origin: no notice, nothing to allow
    settings = load_settings(
        {"tile_url": "https://{s}.tile.example.org/{z}/{x}/{y}.png", "tile_attribution": "x"}, environ={}
    )
    basemap = basemap_of(settings, ARCHIVE)
    assert basemap is not None and basemap.kind == "external" and basemap.host == "tile.example.org"
    own = basemap_of(
        load_settings({"tile_url": "/tiles/{z}/{x}/{y}.png", "tile_attribution": "x"}, environ={}), ARCHIVE
    )
    assert own is not None and own.kind == "tiles"


def test_an_archive_gone_at_run_time_leaves_the_maps_working(
    shared_gpkg: StoreConfig, basemap_archive: Path, tmp_path: Path
) -> None:
    copy = tmp_path / "basemap.pmtiles"
    shutil.copyfile(basemap_archive, copy)
    for app in _app(shared_gpkg, basemap_pmtiles=str(copy)):
        copy.unlink()  # e.g. an operator's botched swap
        client = app.test_client()
        page = client.get("/map/jena")
        assert page.status_code == 200 and "basemap: null," in page.get_data(as_text=True)
        response = client.get(ARCHIVE)
        assert response.status_code == 503
        assert json.loads(response.data)["code"] == "BasemapUnavailable"
