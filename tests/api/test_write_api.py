"""The write API (OGC API – Features Part 4) with tokens, If-Match, the change log and the
publication state of sensitive layers, on both stores.

The cameras here are invented test data (named "Testkamera"), not real locations.
"""

from __future__ import annotations

import datetime as dt
import gzip
import json
from collections.abc import Iterator
from typing import Any

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient

from conftest import StoreConfig
from mapservice import create_app
from mapservice.cli import main

CAMS = "/api/collections/video-surveillance/items"
GEOJSON = "application/geo+json"


def camera(
    fid: str = "test-cam-holzmarkt", name: str = "Testkamera Holzmarkt", **props: Any
) -> dict[str, Any]:
    return {
        "type": "Feature",
        "id": fid,
        "geometry": {"type": "Point", "coordinates": [11.5893, 50.9276]},
        "properties": {
            "name": name,
            "city": "Jena",
            "surveillance": "public",
            "surveillance_type": "camera",
            "direction": "90",
            "hfov_deg": 60,
            "range_m": 40,
            "status": "active",
            "source": "Testdaten",
            "verified_on": "2026-11-01",
            **props,
        },
    }


@pytest.fixture
def app(fresh_store: StoreConfig) -> Iterator[Flask]:
    """A new store per test: every test here writes."""
    app = create_app(fresh_store.settings())
    yield app
    app.extensions["mapservice"].store.close()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def make_token(fresh_store: StoreConfig, *args: str) -> str:
    result = CliRunner().invoke(main, ["token", "create", *args], env=fresh_store.env)
    assert result.exit_code == 0, result.output
    return result.stdout.strip()


@pytest.fixture
def token(fresh_store: StoreConfig, app: Flask) -> str:
    return make_token(
        fresh_store,
        "--name",
        "Ordnungsamt Jena (Test)",
        "--collection",
        "video-surveillance",
        "--collection",
        "graffiti-zones",
    )


def auth(token: str, **more: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", **more}


def post(client: FlaskClient, token: str, doc: Any, url: str = CAMS) -> Any:
    return client.post(url, data=json.dumps(doc), content_type=GEOJSON, headers=auth(token))


def etag_of(client: FlaskClient, token: str, fid: str, url: str = CAMS) -> str:
    response = client.get(f"{url}/{fid}", headers=auth(token))
    assert response.status_code == 200, response.data
    return str(response.headers["ETag"])


def version(app: Flask, layer: str = "video-surveillance") -> int:
    return int(app.extensions["mapservice"].store.state(layer).version)


# -- tokens ----------------------------------------------------------------------------------


def test_token_is_shown_once_and_stored_only_as_hash(
    fresh_store: StoreConfig, app: Flask, token: str
) -> None:
    store = app.extensions["mapservice"].store
    [record] = store.tokens()
    assert record.name == "Ordnungsamt Jena (Test)"
    assert record.collections == ("video-surveillance", "graffiti-zones")
    assert token.startswith(f"dsm_{record.id}_") and token not in record.secret_hash
    listed = CliRunner().invoke(main, ["token", "list"], env=fresh_store.env)
    assert record.id in listed.output and "video-surveillance" in listed.output
    secret = token.split("_", 2)[2]  # the secret itself may contain "_"
    assert secret not in listed.output
    if not fresh_store.store:  # the file holds no secret (PostGIS: see the hash above)
        gpkg = (fresh_store.instance / "mapservice.gpkg").read_bytes()
        assert token.encode() not in gpkg


def test_token_options_are_checked(fresh_store: StoreConfig, app: Flask) -> None:
    runner = CliRunner()
    bad = runner.invoke(
        main, ["token", "create", "--name", "x", "--collection", "kameras"], env=fresh_store.env
    )
    assert bad.exit_code != 0 and "unknown collection(s) kameras" in bad.output
    none = runner.invoke(main, ["token", "create", "--name", "x"], env=fresh_store.env)
    assert none.exit_code != 0 and "at least one collection" in none.output
    assert app.extensions["mapservice"].store.tokens() == []


def test_anonymous_and_wrong_tokens_never_write(
    client: FlaskClient, app: Flask, token: str, fresh_store: StoreConfig
) -> None:
    before = version(app)
    other = make_token(fresh_store, "--name", "Graffiti only", "--collection", "graffiti-zones")
    wrong_secret = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    attempts = [
        ({}, 401),
        (auth(wrong_secret), 401),
        ({"Authorization": "Basic dXNlcjpwdw=="}, 401),
        (auth("dsm_00000000_" + "A" * 43), 401),
        (auth(other), 403),
    ]
    for headers, status in attempts:
        response = client.post(CAMS, data=json.dumps(camera()), content_type=GEOJSON, headers=headers)
        assert response.status_code == status, (headers, response.data)
        if status == 401:
            assert response.headers["WWW-Authenticate"].startswith("Bearer")
        for method in (client.put, client.patch, client.delete):
            r = method(
                f"{CAMS}/test-cam-holzmarkt",
                data="{}",
                content_type=GEOJSON,
                headers={**headers, "If-Match": "*"},
            )
            assert r.status_code == status
    assert version(app) == before
    assert app.extensions["mapservice"].store.history("video-surveillance", "test-cam-holzmarkt") == []


def test_a_revoked_token_stops_working_at_once(
    client: FlaskClient, token: str, fresh_store: StoreConfig, app: Flask
) -> None:
    assert post(client, token, camera()).status_code == 201
    [record] = app.extensions["mapservice"].store.tokens()
    result = CliRunner().invoke(main, ["token", "revoke", record.id], env=fresh_store.env)
    assert result.exit_code == 0, result.output
    assert post(client, token, camera("test-cam-2")).status_code == 401
    again = CliRunner().invoke(main, ["token", "revoke", record.id], env=fresh_store.env)
    assert again.exit_code != 0 and "no active token" in again.output


# -- create, replace, patch, delete ----------------------------------------------------------


def test_create_returns_the_stored_feature_with_location_and_etag(client: FlaskClient, token: str) -> None:
    response = post(client, token, camera())
    assert response.status_code == 201, response.data
    assert response.headers["Location"].endswith(f"{CAMS}/test-cam-holzmarkt")
    body = response.get_json()
    assert body["properties"]["publication"] == "draft"  # the catalog default
    assert body["geometry"]["coordinates"] == [11.5893, 50.9276]
    assert etag_of(client, token, "test-cam-holzmarkt") == response.headers["ETag"]
    assert post(client, token, camera()).status_code == 409
    # Without an id the server gives one.
    doc = camera()
    del doc["id"]
    made = post(client, token, doc)
    assert made.status_code == 201
    assert made.get_json()["id"] != "test-cam-holzmarkt"


def test_an_invalid_feature_names_every_problem_and_stores_nothing(
    client: FlaskClient, token: str, app: Flask
) -> None:
    before = version(app)
    doc = camera(status="kaputt", hfov_deg=500)
    doc["geometry"] = {"type": "LineString", "coordinates": [[11.5, 50.9], [11.6, 50.9]]}
    response = post(client, token, doc)
    assert response.status_code == 400
    problems = {p["field"]: p["problem"] for p in response.get_json()["problems"]}
    assert set(problems) == {"status", "hfov_deg", "geometry"}
    assert "kaputt" in problems["status"] and "LineString" in problems["geometry"]
    assert "status" in response.get_json()["description"]
    assert client.post(CAMS, data="{not json", content_type=GEOJSON, headers=auth(token)).status_code == 400
    assert (
        client.post(
            CAMS, data=json.dumps(camera()), content_type="text/plain", headers=auth(token)
        ).status_code
        == 415
    )
    assert version(app) == before


def test_writes_need_the_current_etag(client: FlaskClient, token: str, app: Flask) -> None:
    url = f"{CAMS}/test-cam-holzmarkt"
    first = post(client, token, camera()).headers["ETag"]
    changed = camera(name="Testkamera Holzmarkt Nord")
    no_precondition = client.put(url, data=json.dumps(changed), content_type=GEOJSON, headers=auth(token))
    assert no_precondition.status_code == 428
    ok = client.put(
        url, data=json.dumps(changed), content_type=GEOJSON, headers=auth(token, **{"If-Match": first})
    )
    assert ok.status_code == 200, ok.data
    second = ok.headers["ETag"]
    assert second != first and ok.get_json()["properties"]["name"].endswith("Nord")
    # The first copy is stale now: PUT, PATCH and DELETE with it change nothing.
    before = version(app)
    for method, body in (
        (client.put, json.dumps(camera(name="alt"))),
        (client.patch, '{"properties": {"name": "alt"}}'),
        (client.delete, None),
    ):
        stale = method(url, data=body, content_type=GEOJSON, headers=auth(token, **{"If-Match": first}))
        assert stale.status_code == 412, stale.data
    assert version(app) == before
    assert etag_of(client, token, "test-cam-holzmarkt") == second
    # A weak ETag never matches If-Match (strong comparison, RFC 9110).
    weak = client.patch(
        url,
        data='{"properties": {"name": "alt"}}',
        content_type=GEOJSON,
        headers=auth(token, **{"If-Match": f"W/{second}"}),
    )
    assert weak.status_code == 412


def test_put_with_another_id_is_refused(client: FlaskClient, token: str) -> None:
    tag = post(client, token, camera()).headers["ETag"]
    response = client.put(
        f"{CAMS}/test-cam-holzmarkt",
        data=json.dumps(camera("test-cam-x")),
        content_type=GEOJSON,
        headers=auth(token, **{"If-Match": tag}),
    )
    assert response.status_code == 400 and "differs" in response.get_json()["description"]


def test_patch_is_a_json_merge_patch(client: FlaskClient, token: str) -> None:
    url = f"{CAMS}/test-cam-holzmarkt"
    tag = post(client, token, camera(zone="town")).headers["ETag"]
    patch = {"properties": {"status": "suspended", "zone": None}}
    response = client.patch(
        url,
        data=json.dumps(patch),
        content_type="application/merge-patch+json",
        headers=auth(token, **{"If-Match": tag}),
    )
    assert response.status_code == 200, response.data
    props = response.get_json()["properties"]
    assert props["status"] == "suspended" and props["zone"] is None
    assert props["name"] == "Testkamera Holzmarkt" and props["range_m"] == 40
    # Removing a required field is refused, with the field named.
    bad = client.patch(
        url,
        data='{"properties": {"source": null}}',
        content_type="application/merge-patch+json",
        headers=auth(token, **{"If-Match": response.headers["ETag"]}),
    )
    assert bad.status_code == 400 and bad.get_json()["problems"][0]["field"] == "source"


def test_gzip_etag_works_for_if_match(client: FlaskClient, token: str) -> None:
    post(client, token, camera(purpose=" ".join(["Schutz"] * 400)))  # big enough to be compressed
    got = client.get(f"{CAMS}/test-cam-holzmarkt", headers=auth(token, **{"Accept-Encoding": "gzip"}))
    assert got.headers["Content-Encoding"] == "gzip"
    assert json.loads(gzip.decompress(got.data))["id"] == "test-cam-holzmarkt"
    tag = got.headers["ETag"]
    assert tag.endswith('-gzip"') and not tag.startswith("W/")
    again = client.get(
        f"{CAMS}/test-cam-holzmarkt", headers=auth(token, **{"Accept-Encoding": "gzip", "If-None-Match": tag})
    )
    assert again.status_code == 304
    patched = client.patch(
        f"{CAMS}/test-cam-holzmarkt",
        data='{"properties": {"mode": "observation"}}',
        content_type="application/merge-patch+json",
        headers=auth(token, **{"If-Match": tag}),
    )
    assert patched.status_code == 200


def test_delete_then_the_feature_is_gone_but_its_history_stays(client: FlaskClient, token: str) -> None:
    url = f"{CAMS}/test-cam-holzmarkt"
    tag = post(client, token, camera()).headers["ETag"]
    assert client.delete(url, headers=auth(token, **{"If-Match": tag})).status_code == 204
    assert client.get(url, headers=auth(token)).status_code == 404
    history = client.get(f"{url}/history", headers=auth(token)).get_json()
    assert [c["action"] for c in history["changes"]] == ["create", "delete"]
    assert history["changes"][1]["after"] is None
    assert history["changes"][1]["before"]["properties"]["name"] == "Testkamera Holzmarkt"
    assert client.get(f"{CAMS}/never-there/history", headers=auth(token)).status_code == 404


def test_a_feature_named_by_another_cannot_be_deleted(
    client: FlaskClient, app: Flask, fresh_store: StoreConfig
) -> None:
    everything = make_token(fresh_store, "--name", "Admin (Test)", "--all")
    offices = app.extensions["mapservice"].store.query
    from mapservice.store.base import Query

    office = next(
        f
        for f in offices("contact-offices", Query(limit=100)).features
        if f.properties.get("serves_districts")
    )
    district = office.properties["serves_districts"][0]
    url = f"/api/collections/districts/items/{district}"
    tag = etag_of(client, everything, district, "/api/collections/districts/items")
    response = client.delete(url, headers=auth(everything, **{"If-Match": tag}))
    assert response.status_code == 409
    assert f"contact-offices/{office.id}" in response.get_json()["description"]
    # And a write that names a missing district is refused.
    doc = {
        "type": "Feature",
        "id": office.id,
        "geometry": json.loads(office.geometry or "null"),
        "properties": {**office.properties, "serves_districts": ["jena-nirgendwo"]},
    }
    put = client.put(
        f"/api/collections/contact-offices/items/{office.id}",
        data=json.dumps(doc),
        content_type=GEOJSON,
        headers=auth(
            everything,
            **{"If-Match": etag_of(client, everything, office.id, "/api/collections/contact-offices/items")},
        ),
    )
    assert put.status_code == 400 and "jena-nirgendwo" in put.get_json()["description"]


# -- history ---------------------------------------------------------------------------------


def test_history_says_who_when_what_before_and_after(client: FlaskClient, token: str) -> None:
    url = f"{CAMS}/test-cam-holzmarkt"
    start = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
    tag = post(client, token, camera()).headers["ETag"]
    client.patch(
        url,
        data='{"properties": {"status": "removed"}}',
        content_type="application/merge-patch+json",
        headers=auth(token, **{"If-Match": tag}),
    )
    assert client.get(f"{url}/history").status_code == 401  # the log names people
    doc = client.get(f"{url}/history", headers=auth(token)).get_json()
    assert doc["numberOfChanges"] == 2
    create, update = doc["changes"]
    assert create["action"] == "create" and create["before"] is None
    assert update["action"] == "update" and update["changed"] == ["status"]
    assert update["before"]["properties"]["status"] == "active"
    assert update["after"]["properties"]["status"] == "removed"
    assert update["after"]["geometry"] == {"type": "Point", "coordinates": [11.5893, 50.9276]}
    for change in doc["changes"]:
        assert change["actor"].startswith("Ordnungsamt Jena (Test) (token ")
        assert change["via"] == "api"
        when = dt.datetime.fromisoformat(change["time"].replace("Z", "+00:00"))
        assert start <= when <= dt.datetime.now(dt.UTC)
    assert create["seq"] < update["seq"]


# -- publication -----------------------------------------------------------------------------


def _public_texts(client: FlaskClient) -> str:
    """What an anonymous visitor gets from every surface that shows cameras."""
    parts = [
        client.get(CAMS).data,
        client.get(f"{CAMS}?f=html").data,
        client.get("/api/collections/video-surveillance").data,
        client.get("/map/jena").data,
        client.get("/embed/jena").data,
        client.get("/api/derived/camera-fov?city=Jena").data,
        client.get("/api/coverage/districts?city=jena&f=csv").data,
    ]
    return b"\n".join(parts).decode()


def test_anonymous_readers_see_only_published_cameras(client: FlaskClient, token: str, app: Flask) -> None:
    url = f"{CAMS}/test-cam-holzmarkt"
    tag = post(client, token, camera()).headers["ETag"]
    # The token holder sees the draft (and that response is private, not shared).
    mine = client.get(CAMS, headers=auth(token))
    assert mine.get_json()["numberMatched"] == 1
    assert mine.headers["Cache-Control"].startswith("private")
    # Asked the same URL right after, the anonymous answer is not the cached private one.
    public = client.get(CAMS).get_json()
    assert public["numberMatched"] == 0 and public["features"] == []
    assert client.get(url).status_code == 404
    assert "Testkamera" not in _public_texts(client)
    fov = client.get("/api/derived/camera-fov?city=Jena").get_json()
    assert fov["features"] == []
    for state in ("approved", "published"):
        response = client.patch(
            url,
            data=json.dumps({"properties": {"publication": state}}),
            content_type="application/merge-patch+json",
            headers=auth(token, **{"If-Match": tag}),
        )
        assert response.status_code == 200
        tag = response.headers["ETag"]
        if state == "approved":
            assert "Testkamera" not in _public_texts(client)
    assert client.get(url).status_code == 200
    assert client.get(CAMS).get_json()["numberMatched"] == 1
    assert "Testkamera Holzmarkt" in _public_texts(client)
    assert len(client.get("/api/derived/camera-fov?city=Jena").get_json()["features"]) == 1
    extent = client.get("/api/collections/video-surveillance").get_json()["extent"]
    assert extent["spatial"]["bbox"][0][:2] == pytest.approx([11.5893, 50.9276], abs=1e-4)


def test_the_planner_counts_only_published_cameras(client: FlaskClient, token: str) -> None:
    def active_cameras() -> int:
        rows = client.get("/api/coverage/districts?city=jena&f=json").get_json()["districts"]
        return sum(r["cameras_active"] or 0 for r in rows)

    assert active_cameras() == 0
    tag = post(client, token, camera()).headers["ETag"]
    assert active_cameras() == 0
    client.patch(
        f"{CAMS}/test-cam-holzmarkt",
        data='{"properties": {"publication": "published"}}',
        content_type="application/merge-patch+json",
        headers=auth(token, **{"If-Match": tag}),
    )
    assert active_cameras() == 1


def test_conformance_and_openapi_declare_the_writes(client: FlaskClient) -> None:
    classes = client.get("/api/conformance").get_json()["conformsTo"]
    assert any(c.endswith("features-4/1.0/conf/create-replace-delete") for c in classes)
    assert any(c.endswith("features-4/1.0/conf/update") for c in classes)
    doc = client.get("/api/openapi?f=json").get_json()
    item = doc["paths"]["/collections/video-surveillance/items/{featureId}"]
    assert {"get", "put", "patch", "delete"} <= set(item)
    assert "post" in doc["paths"]["/collections/video-surveillance/items"]
    assert doc["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"


def test_a_shipped_feature_has_an_empty_history(client: FlaskClient, fresh_store: StoreConfig) -> None:
    everything = make_token(fresh_store, "--name", "Admin (Test)", "--all")
    doc = client.get(
        "/api/collections/districts/items/jena-winzerla/history", headers=auth(everything)
    ).get_json()
    assert doc["numberOfChanges"] == 0 and doc["changes"] == []
    assert "unchanged since the data was loaded" in doc["note"]


# -- hostile values (issue 15): a clear 400 naming where, never a 5xx, nothing stored -------------


def _deep_list(depth: int) -> Any:
    value: Any = 1
    for _ in range(depth):
        value = [value]
    return value


@pytest.mark.parametrize(
    ("doc", "where"),
    [
        (camera(name="Kamera \ud800"), "properties.name"),  # a lone surrogate
        (camera(range_m=2**63), "properties.range_m"),
        (camera(range_m=-(2**63) - 1), "properties.range_m"),
        (camera(name="x" * 30_000), "properties.name"),
        (camera(note=_deep_list(100)), "nested more than"),
        # Beyond the JSON parser's own stack: sent as text, json.dumps cannot write it either.
        (
            json.dumps(camera(note="DEEP")).replace('"DEEP"', "[" * 5000 + "1" + "]" * 5000),
            "nested more than",
        ),
        ({**camera(), "geometry": {"type": "GeometryCollection", "geometries": [_deep_list(80)]}}, "nested"),
    ],
)
def test_hostile_values_are_a_400_and_store_nothing(
    client: FlaskClient, token: str, app: Flask, doc: Any, where: str
) -> None:
    before = version(app)
    body = doc if isinstance(doc, str) else json.dumps(doc)
    response = client.post(CAMS, data=body, content_type=GEOJSON, headers=auth(token))
    assert response.status_code == 400, response.data[:300]
    assert where in response.get_json()["description"]
    assert version(app) == before
    assert client.get(f"{CAMS}/test-cam-holzmarkt", headers=auth(token)).status_code == 404
