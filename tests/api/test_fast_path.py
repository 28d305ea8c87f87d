"""Cached answers and 304s on the short path: a revalidated feature is not read, a missing or
unpublished one is still 404, a replayed answer has the headers of the first, writes still
match the ETag a reader got, and no werkzeug exception is raised and caught on the way.

The camera written here is invented test data (``source`` says "Testdaten").
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from click.testing import CliRunner
from flask import Flask
from pg import Cluster
from sample_features import camera, camera_edit
from werkzeug.exceptions import BadRequestKeyError
from werkzeug.test import EnvironBuilder

from conftest import StoreConfig, start_server, stop_server
from mapservice import create_app
from mapservice.cli import main

DISTRICTS = "/api/collections/districts/items"
UTM32 = "http://www.opengis.net/def/crs/EPSG/0/25832"
CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
CAMS = "/api/collections/video-surveillance/items"
GEOJSON = "application/geo+json"


@pytest.fixture(scope="module")
def store(
    backend: str,
    new_store: Callable[[Path], StoreConfig],
    tmp_path_factory: pytest.TempPathFactory,
    request: pytest.FixtureRequest,
) -> Iterator[StoreConfig]:
    """One store for the module: each test writes only features of its own."""
    made = new_store(tmp_path_factory.mktemp("fast-path") / "instance")
    # Looked up before the tests: pytest refuses fixtures asked for in a teardown.
    cluster: Cluster | None = request.getfixturevalue("postgis_cluster") if backend == "postgis" else None
    yield made
    if cluster is not None:
        cluster.drop_database(made.store)


@pytest.fixture(scope="module")
def written_app(store: StoreConfig) -> Iterator[Flask]:
    """An app over the module's store, for the tests that write (the others read the shared one)."""
    app = create_app(store.settings())
    yield app
    app.extensions["mapservice"].store.close()


@pytest.fixture(scope="module")
def token(store: StoreConfig, written_app: Flask) -> str:
    result = CliRunner().invoke(
        main,
        ["token", "create", "--name", "Schnellweg (Test)", "--collection", "video-surveillance"],
        env=store.env,
    )
    assert result.exit_code == 0, result.output
    return result.stdout.strip()


def _auth(token: str, **more: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", **more}


def _a_district(app: Flask) -> str:
    return str(app.test_client().get(f"{DISTRICTS}?limit=1").get_json()["features"][0]["id"])


def _count_reads(app: Flask, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The ids of the features the store reads from now on (public view and token readers)."""
    inner = app.extensions["mapservice"].store
    reads: list[str] = []
    real = inner.get

    def get(layer_id: str, feature_id: str) -> Any:
        reads.append(feature_id)
        return real(layer_id, feature_id)

    monkeypatch.setattr(inner, "get", get)
    return reads


def test_a_revalidated_feature_is_not_read(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    client = app.test_client()
    url = f"{DISTRICTS}/{_a_district(app)}"
    tags = {fmt: client.get(f"{url}?f={fmt}").headers["ETag"] for fmt in ("json", "html")}
    reads = _count_reads(app, monkeypatch)
    for fmt, tag in tags.items():
        for _ in range(2):  # once through the route, then replayed
            again = client.get(f"{url}?f={fmt}", headers={"If-None-Match": tag})
            assert again.status_code == 304 and again.data == b""
            assert again.headers["ETag"] == tag
    assert reads == []
    # A body is built from the feature itself.
    built = client.get(f"{url}?f=json&lang=en")
    assert built.status_code == 200 and built.headers["ETag"] == tags["json"]
    assert len(reads) == 1


def test_a_crs84_page_is_the_stored_texts_and_only_another_crs_decodes(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    inner = app.extensions["mapservice"].store
    calls: list[str] = []
    for name in ("query", "query_encoded"):
        real = getattr(inner, name)

        def counted(*args: Any, _name: str = name, _real: Any = real) -> Any:
            calls.append(_name)
            return _real(*args)

        monkeypatch.setattr(inner, name, counted)
    client = app.test_client()
    for query in ("limit=5", f"limit=5&crs={CRS84}", f"limit=5&crs={UTM32}"):
        assert client.get(f"{DISTRICTS}?{query}").status_code == 200
    assert calls == ["query_encoded", "query_encoded", "query"]


def test_a_missing_or_unpublished_feature_is_404_never_304(written_app: Flask, token: str) -> None:
    client = written_app.test_client()
    assert client.get(f"{DISTRICTS}/no-such-district", headers={"If-None-Match": "*"}).status_code == 404
    made = client.post(
        CAMS,
        data=json.dumps(camera("test-cam-fastpath-draft", "Testkamera Entwurf")),
        content_type=GEOJSON,
        headers=_auth(token),
    )
    assert made.status_code == 201, made.data
    url = f"{CAMS}/test-cam-fastpath-draft"
    draft_tag = client.get(url, headers=_auth(token)).headers["ETag"]
    for tag in (draft_tag, "*"):
        for _ in range(2):
            assert client.get(url, headers={"If-None-Match": tag}).status_code == 404
    # The token holder revalidates the draft (a private answer, never replayed to others).
    mine = client.get(url, headers=_auth(token, **{"If-None-Match": draft_tag}))
    assert mine.status_code == 304 and mine.headers["Cache-Control"] == "private, no-cache"
    assert client.get(url).status_code == 404


def test_a_write_matches_the_etag_a_reader_got_and_no_stale_answer_is_replayed(
    written_app: Flask, token: str
) -> None:
    client = written_app.test_client()
    published = camera("test-cam-fastpath", "Testkamera Schnellweg", publication="published")
    made = client.post(CAMS, data=json.dumps(published), content_type=GEOJSON, headers=_auth(token))
    assert made.status_code == 201, made.data
    url = f"{CAMS}/test-cam-fastpath"
    first, again = client.get(url), client.get(url)
    assert first.headers["ETag"] == again.headers["ETag"] == made.headers["ETag"]
    changed = client.patch(
        url,
        data='{"properties": {"name": "Testkamera Schnellweg Nord"}}',
        content_type="application/merge-patch+json",
        headers=_auth(token, **{"If-Match": first.headers["ETag"]}),
    )
    assert changed.status_code == 200, changed.data
    after = client.get(url, headers={"If-None-Match": first.headers["ETag"]})
    assert after.status_code == 200
    assert after.get_json()["properties"]["name"] == "Testkamera Schnellweg Nord"
    assert after.headers["ETag"] == changed.headers["ETag"] != first.headers["ETag"]
    stale = client.patch(
        url,
        data='{"properties": {"name": "alt"}}',
        content_type="application/merge-patch+json",
        headers=_auth(token, **{"If-Match": first.headers["ETag"]}),
    )
    assert stale.status_code == 412


def _without_date(response: requests.Response) -> dict[str, str]:
    return {k.lower(): v for k, v in response.headers.items() if k.lower() != "date"}


def test_a_cached_answer_has_the_headers_of_the_first(gpkg_app: Flask, shared_gpkg: StoreConfig) -> None:
    """Once, on the GeoPackage: the headers come from the HTTP layer, not from the store."""
    district = _a_district(gpkg_app)
    # One worker: each worker builds (and caches) a body of its own.
    server, log = start_server(shared_gpkg.instance, shared_gpkg.env, workers=1)
    try:
        for path in (
            f"{DISTRICTS}/{district}",
            f"{DISTRICTS}/{district}?f=html&lang=en",
            f"{DISTRICTS}/{district}?crs={UTM32}",
            DISTRICTS,
            f"{DISTRICTS}?crs={UTM32}",
            "/api/collections",
        ):
            _check_repeats(server.url + path)
    finally:
        stop_server(server, log)


def _check_repeats(url: str) -> None:
    gzip = {"Accept-Encoding": "gzip"}
    first, *later = (requests.get(url, headers=gzip, timeout=30) for _ in range(3))
    assert first.status_code == 200
    for one in later:
        assert _without_date(one) == _without_date(first), url
        assert one.content == first.content
    tag = first.headers["ETag"]
    revalidated = [requests.get(url, headers={**gzip, "If-None-Match": tag}, timeout=30) for _ in range(3)]
    assert {r.status_code for r in revalidated} == {304}
    for one in revalidated[1:]:
        assert _without_date(one) == _without_date(revalidated[0]), url
    # A 304 repeats the 200's validators, Vary, caching and security headers.
    full = _without_date(first)
    for name, value in _without_date(revalidated[0]).items():
        assert full[name] == value, (url, name)
    assert {"etag", "vary", "cache-control", "x-content-type-options"} <= set(_without_date(revalidated[0]))


def _get(app: Flask, url: str, **headers: str) -> tuple[str, dict[str, str]]:
    """GET through the app's WSGI stack alone, the environ made beforehand."""
    path, _, query = url.partition("?")
    environ = EnvironBuilder(path=path, query_string=query, headers=headers).get_environ()
    return _call(app, environ)


def _call(app: Flask, environ: dict[str, Any]) -> tuple[str, dict[str, str]]:
    sent: list[tuple[str, list[tuple[str, str]]]] = []
    body = app(environ, lambda status, headers, exc_info=None: sent.append((status, headers)))
    b"".join(body)
    getattr(body, "close", lambda: None)()
    return sent[0][0], dict(sent[0][1])


def test_no_exception_is_raised_and_caught_on_the_way(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    urls = [
        f"{DISTRICTS}/{_a_district(app)}",
        f"{DISTRICTS}/{_a_district(app)}?f=html",
        f"{DISTRICTS}?limit=5",
        f"{DISTRICTS}?limit=5&crs={UTM32}&bbox=11.5,50.85,11.7,50.98",
        "/api/collections",
        "/api",
    ]
    tags = {url: _get(app, url, **{"Accept-Encoding": "gzip"})[1]["ETag"] for url in urls}
    raised: list[object] = []
    real = BadRequestKeyError.__init__

    def counting(self: BadRequestKeyError, *args: Any, **kwargs: Any) -> None:
        raised.append(args)
        real(self, *args, **kwargs)

    environs = [
        EnvironBuilder(path=url.partition("?")[0], query_string=url.partition("?")[2], headers=headers)
        for url in urls
        for headers in (
            {"Accept-Encoding": "gzip"},
            {"Accept-Encoding": "gzip", "If-None-Match": tags[url]},
            {"Accept-Encoding": "gzip", "If-None-Match": tags[url]},
            {"Accept": "text/html"},
        )
    ]
    ready = [builder.get_environ() for builder in environs]
    monkeypatch.setattr(BadRequestKeyError, "__init__", counting)
    statuses = [_call(app, environ)[0][:3] for environ in ready]
    assert set(statuses) <= {"200", "304"} and "304" in statuses
    assert raised == []


def test_a_write_while_a_page_is_built_never_gives_the_page_a_wrong_etag(
    written_app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A page read before a write keeps the ETag of the version it shows; one read after a
    write the route's validators did not see goes out without validators and uncached."""
    services = written_app.extensions["mapservice"]
    view, inner = services.public_store, services.store
    client = written_app.test_client()
    url = f"{CAMS}?limit=1000"
    read_page = view.query_encoded
    writes: list[str] = []

    def write_then_read(layer_id: str, query: Any) -> Any:
        inner.edit("video-surveillance", camera_edit(writes.pop(), "Testkamera davor"), "test")
        return read_page(layer_id, query)

    def read_then_write(layer_id: str, query: Any) -> Any:
        page = read_page(layer_id, query)
        inner.edit("video-surveillance", camera_edit(writes.pop(), "Testkamera danach"), "test")
        return page

    def ids(response: Any) -> set[str]:
        return {f["id"] for f in response.get_json()["features"]}

    # The write lands after the route read the version, before the page: the page shows it,
    # so the validators of the older version must not go out with it.
    writes.append("test-cam-write-before-page")
    monkeypatch.setattr(view, "query_encoded", write_then_read)
    newer = client.get(url)
    assert "test-cam-write-before-page" in ids(newer)
    assert "ETag" not in newer.headers and newer.headers["Cache-Control"] == "no-cache"
    # The write lands after the page was read: the page is its version's, ETag and all.
    writes.append("test-cam-write-after-page")
    monkeypatch.setattr(view, "query_encoded", read_then_write)
    older = client.get(url)
    assert "test-cam-write-after-page" not in ids(older)
    assert "ETag" in older.headers and older.headers["Cache-Control"].startswith("public")
    monkeypatch.setattr(view, "query_encoded", read_page)
    # Neither answer is given again as current: the ETag names the older content.
    current = client.get(url, headers={"If-None-Match": older.headers["ETag"]})
    assert current.status_code == 200 and "test-cam-write-after-page" in ids(current)
    assert ids(current) - ids(older) == {"test-cam-write-after-page"}
