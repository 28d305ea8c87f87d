"""Reliability on both stores: concurrent writers, SIGKILL in the middle of an import, a full
disk, broken import files, and two app instances on one store.

Everything runs as in production: ``mapservice serve`` (gunicorn, several workers) on 127.0.0.1,
``mapservice import`` and ``mapservice token`` as processes of their own; requests go over HTTP.
Nothing of the store is mocked. The cameras and prevention bodies are invented test data around
Jena ("Testkamera …", "Testbetreiber (erfunden)"), generated in the test's temporary folder.

Timings (seconds until another instance sees a write, recovery after a kill, 412 retries) are
printed and recorded as test properties (``--junitxml``), never asserted, except for generous
upper bounds where a bound is the point ("no stale cache"). benchmarks/write_concurrency.py
prints the same figures as a table.
"""

from __future__ import annotations

import itertools
import json
import os
import random
import re
import signal
import sqlite3
import subprocess
import sys
import threading
import time
import warnings
import zipfile
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import pyogrio
import pytest
import requests
from shapely.geometry import Point

from conftest import Server, StoreConfig, start_server, stop_server
from mapservice import create_app
from mapservice.store.base import Query

pytestmark = pytest.mark.e2e

LAYER = "video-surveillance"
ITEMS = f"/api/collections/{LAYER}/items"
BODIES = "prevention-bodies"
MERGE_PATCH = "application/merge-patch+json"
ALL = 1_000_000

WRITERS = 20
EDITS_EACH = 5
# Rows of the import that is killed: enough that writing takes a second or more on either
# store (the window the kill has to hit), few enough to keep the test quick.
BIG_ROWS = 20_000
# First kill this long after "writing N features"; the test shortens it when the import got
# done before the kill, and lengthens it when the kill came before anything was written.
FIRST_KILL_DELAY = 1.0
KILL_ATTEMPTS = 6


# -- helpers ---------------------------------------------------------------------------------


def mapservice(
    store: StoreConfig, *args: str | Path, timeout: float = 180
) -> subprocess.CompletedProcess[str]:
    """``python -m mapservice ...`` as its own process on the store."""
    return subprocess.run(
        [sys.executable, "-m", "mapservice", *(str(a) for a in args)],
        env={**os.environ, **store.env},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def create_token(store: StoreConfig, name: str, collection: str = LAYER) -> tuple[str, str]:
    """A write token made with the CLI: (its id, the secret to send)."""
    result = mapservice(store, "token", "create", "--name", name, "--collection", collection)
    assert result.returncode == 0, result.stderr
    plain = result.stdout.strip()
    return plain.split("_")[1], plain


def bearer(token: str, **more: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", **more}


def camera(fid: str, name: str, **props: Any) -> dict[str, Any]:
    """An invented camera in Jena as a GeoJSON Feature."""
    return {
        "type": "Feature",
        "id": fid,
        "geometry": {"type": "Point", "coordinates": [11.5893, 50.9276]},
        "properties": {
            "name": name,
            "city": "Jena",
            "surveillance": "public",
            "surveillance_type": "camera",
            "status": "active",
            "operator": "Testbetreiber (erfunden)",
            "source": "Testdaten",
            "verified_on": "2026-01-15",
            **props,
        },
    }


CSV_HEADER = (
    "id;name;city;surveillance;surveillance_type;camera_type;direction;hfov_deg;range_m;"
    "operator;mode;signage;status;publication;source;verified_on;lon;lat"
)


def write_cameras(path: Path, rows: int, prefix: str, seed: int) -> list[str]:
    """An invented camera register as the CSV an office exports (``;``, German decimal comma
    like tests/data/import/cameras.csv), lon/lat inside Jena; returns the ids. The cameras are
    published, so anonymous API readers see them too."""
    rng = random.Random(seed)
    ids = [f"{prefix}-{i:06d}" for i in range(rows)]
    lines = [CSV_HEADER]
    for i, fid in enumerate(ids):
        lon = 11.55 + rng.random() * 0.08
        lat = 50.88 + rng.random() * 0.08
        lines.append(
            f"{fid};Testkamera {i} (erfunden);Jena;public;camera;"
            f"{rng.choice(['fixed', 'dome', 'panning'])};{rng.randrange(360)};{rng.randrange(30, 120)};"
            f"{rng.randrange(10, 80)},5;Testbetreiber (erfunden);recording;ja;active;published;"
            f"Testdaten (erfundenes Register);2026-01-15;{lon:.6f};{lat:.6f}"
        )
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return ids


@dataclass(frozen=True)
class Snapshot:
    """A layer as the store holds it: every feature (properties, geometry) and the version."""

    features: dict[str, tuple[dict[str, Any], str | None]]
    version: int


def snapshot(store: StoreConfig, layer: str = LAYER) -> Snapshot:
    """Opens the store the way the service does (create_app: on a GeoPackage the first
    connection recovers a leftover WAL) and reads the whole layer."""
    app = create_app(store.settings())
    try:
        full = app.extensions["mapservice"].store
        features = full.query(layer, Query(limit=ALL)).features
        version = full.state(layer).version
    finally:
        app.extensions["mapservice"].store.close()
    return Snapshot({f.id: (f.properties, f.geometry) for f in features}, version)


def gpkg_path(store: StoreConfig) -> Path:
    return Path(store.store) if store.store.endswith(".gpkg") else store.instance / "mapservice.gpkg"


def postgis(store: StoreConfig, statement: str, *params: Any) -> list[tuple[Any, ...]]:
    import psycopg

    with psycopg.connect(store.store, autocommit=True) as conn:
        cur = conn.execute(statement, params)  # type: ignore[arg-type]
        return cur.fetchall() if cur.description else []


def integrity(store: StoreConfig) -> str:
    """SQLite's own check of the whole file (b-trees, indexes, free list)."""
    with sqlite3.connect(gpkg_path(store)) as conn:
        return str(conn.execute("PRAGMA integrity_check").fetchone()[0])


def no_traceback(stderr: str) -> None:
    assert "Traceback" not in stderr, stderr[-3000:]


def only_the_error(stderr: str) -> None:
    """Standard error holds the CLI's message and nothing before it (asserted last in the tests,
    after the data checks, so a stray line does not hide what happened to the data)."""
    assert stderr.startswith("error: "), (
        "standard error does not start with the CLI's 'error: ...' line:\n" + stderr[:1500]
    )


# -- 1. concurrent writers over HTTP ----------------------------------------------------------


@dataclass
class Writers:
    store: StoreConfig
    server: Server
    token: str
    version: Callable[[], int]


@pytest.fixture(scope="module")
def writers(
    new_store: Callable[[Path], StoreConfig], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Writers]:
    """One server with 4 gunicorn workers × 4 threads over a new store, shared by the writer
    tests (they write disjoint features); the layer version is read from the test process."""
    store = new_store(tmp_path_factory.mktemp("writers") / "instance")
    store.instance.mkdir()
    server, log = start_server(store.instance, store.env, workers=4)
    app = create_app(store.settings())
    try:
        _, token = create_token(store, "Ordnungsamt Jena (Test)")
        full = app.extensions["mapservice"].store
        yield Writers(store, server, token, lambda: full.state(LAYER).version)
    finally:
        app.extensions["mapservice"].store.close()
        stop_server(server, log)


def _all_at_once(count: int, work: Callable[[int, threading.Barrier], Any]) -> list[Any]:
    """``work(i, barrier)`` in ``count`` threads that pass the barrier together; exceptions
    of a thread are raised here."""
    barrier = threading.Barrier(count, timeout=60)
    with ThreadPoolExecutor(count) as pool:
        futures = [pool.submit(work, i, barrier) for i in range(count)]
        return [f.result(timeout=300) for f in futures]


MARKER = re.compile(r"\[w\d\d\]")


def test_20_writers_of_one_feature_lose_no_update(writers: Writers, record_property: Any) -> None:
    """20 threads GET the camera and PATCH its ``purpose`` with their own marker appended,
    If-Match the ETag they read, again after every 412. Each must land exactly once, and the
    log must show each update building on the one before (no update overwrote another)."""
    url = f"{writers.server.url}{ITEMS}/test-cam-geteilt"
    auth = bearer(writers.token)
    made = requests.post(
        f"{writers.server.url}{ITEMS}",
        headers=auth,
        timeout=30,
        json=camera("test-cam-geteilt", "Testkamera Marktplatz (geteilt)", purpose="Start"),
    )
    assert made.status_code == 201, made.text
    before = writers.version()

    def writer(i: int, barrier: threading.Barrier) -> tuple[int, list[int], int]:
        marker = f"[w{i:02d}]"
        statuses: list[int] = []
        without_etag = 0
        with requests.Session() as http:
            barrier.wait()
            # A writer can only lose to a write that landed after its GET, and each of the
            # other 19 writers writes once: the 20th attempt cannot fail any more.
            while len(statuses) < WRITERS:
                got = http.get(url, headers=auth, timeout=60)
                assert got.status_code == 200, got.text
                if "ETag" not in got.headers:
                    # Nothing to send in If-Match: a client has to GET again. Counted, and
                    # test_a_get_during_writes_always_carries_the_etag fails on it.
                    without_etag += 1
                    assert without_etag < 1000
                    continue
                purpose = got.json()["properties"]["purpose"]
                patch = http.patch(
                    url,
                    headers={**auth, "If-Match": got.headers["ETag"], "Content-Type": MERGE_PATCH},
                    timeout=60,
                    data=json.dumps({"properties": {"purpose": f"{purpose} {marker}"}}),
                )
                statuses.append(patch.status_code)
                if patch.status_code == 200:
                    return i, statuses, without_etag
                assert patch.status_code == 412, (patch.status_code, patch.text)
        raise AssertionError(
            f"writer {i}: 412 on all {WRITERS} attempts, more than the other "
            f"writers could have caused: {statuses}"
        )

    results = _all_at_once(WRITERS, writer)
    retries = sum(len(statuses) - 1 for _, statuses, _ in results)
    without_etag = sum(n for _, _, n in results)
    record_property("retries_412", retries)
    record_property("gets_without_etag", without_etag)
    print(f"\n20 writers, one feature: {retries} retries after 412, {without_etag} GETs without ETag")
    # Every attempt was a 412 until the one 200: no other answer, so the count is complete.
    assert all(statuses[-1] == 200 and set(statuses[:-1]) <= {412} for _, statuses, _ in results)

    final = requests.get(url, headers=auth, timeout=30).json()["properties"]["purpose"]
    history = requests.get(f"{url}/history", headers=auth, timeout=30)
    assert history.status_code == 200, history.text
    changes = history.json()["changes"]
    # The updates that did not build on the value they replaced, for the message below.
    overwrites = [
        (c["seq"], c["before"]["properties"]["purpose"], c["after"]["properties"]["purpose"])
        for c in changes[1:]
        if not c["after"]["properties"]["purpose"].startswith(c["before"]["properties"]["purpose"] + " ")
    ]
    markers = MARKER.findall(final)
    assert sorted(markers) == [f"[w{i:02d}]" for i in range(WRITERS)], (
        f"final purpose {final!r}; updates that replaced a value they had not seen "
        f"(seq, before, after): {overwrites}"
    )
    assert final == "Start " + " ".join(markers)

    assert [c["action"] for c in changes] == ["create"] + ["update"] * WRITERS
    assert changes[0]["after"]["properties"]["purpose"] == "Start"
    added = []
    for previous, change in itertools.pairwise(changes):
        # Each update replaced exactly the state the one before it left, and added one marker.
        assert change["before"] == previous["after"]
        old = change["before"]["properties"]["purpose"]
        new = change["after"]["properties"]["purpose"]
        assert new.startswith(old + " ") and MARKER.fullmatch(new[len(old) + 1 :]), (old, new)
        assert change["changed"] == ["purpose"]
        added.append(new[len(old) + 1 :])
    assert sorted(added) == sorted(markers)
    assert [c["seq"] for c in changes] == sorted(c["seq"] for c in changes)
    assert changes[-1]["after"]["properties"]["purpose"] == final
    # No write was done that the log does not show: one version per update.
    assert writers.version() == before + WRITERS


def test_20_writers_of_their_own_features_never_conflict(writers: Writers) -> None:
    """20 threads each create a camera and PATCH it 5 times with the ETag of their last
    response: no 412, and each camera's log holds exactly its own 6 changes."""
    base = f"{writers.server.url}{ITEMS}"
    auth = bearer(writers.token)
    before = writers.version()

    def writer(i: int, barrier: threading.Barrier) -> list[int]:
        fid = f"test-cam-w{i:02d}"
        statuses = []
        with requests.Session() as http:
            barrier.wait()
            made = http.post(
                base,
                headers=auth,
                timeout=60,
                json=camera(
                    fid, f"Testkamera Schreiber {i:02d}", purpose=f"w{i:02d} start", direction=str(i * 10)
                ),
            )
            statuses.append(made.status_code)
            etag = made.headers.get("ETag", "")
            for k in range(1, EDITS_EACH + 1):
                patch = http.patch(
                    f"{base}/{fid}",
                    timeout=60,
                    headers={**auth, "If-Match": etag, "Content-Type": MERGE_PATCH},
                    data=json.dumps({"properties": {"purpose": f"w{i:02d} edit {k}", "range_m": 10 * k + i}}),
                )
                statuses.append(patch.status_code)
                etag = patch.headers.get("ETag", "")
        return statuses

    statuses = _all_at_once(WRITERS, writer)
    assert statuses == [[201] + [200] * EDITS_EACH] * WRITERS

    with requests.Session() as http:
        for i in range(WRITERS):
            fid, own = f"test-cam-w{i:02d}", f"w{i:02d}"
            feature = http.get(f"{base}/{fid}", headers=auth, timeout=30).json()
            props = feature["properties"]
            assert (props["name"], props["purpose"], props["range_m"], props["direction"]) == (
                f"Testkamera Schreiber {i:02d}",
                f"{own} edit {EDITS_EACH}",
                10 * EDITS_EACH + i,
                str(i * 10),
            )
            changes = http.get(f"{base}/{fid}/history", headers=auth, timeout=30).json()["changes"]
            assert [c["action"] for c in changes] == ["create"] + ["update"] * EDITS_EACH
            assert changes[0]["after"]["properties"]["purpose"] == f"{own} start"
            for k, (previous, change) in enumerate(itertools.pairwise(changes), 1):
                assert change["before"] == previous["after"]
                assert sorted(change["changed"]) == ["purpose", "range_m"]
                assert change["after"]["properties"]["purpose"] == f"{own} edit {k}"
                assert change["after"]["properties"]["range_m"] == 10 * k + i
            # Nothing of another writer's feature in this one's states.
            for change in changes:
                for state in (change["before"], change["after"]):
                    if state is not None:
                        assert state["properties"]["id"] == fid
                        assert state["properties"]["name"] == f"Testkamera Schreiber {i:02d}"
                        assert state["properties"]["purpose"].split()[0] == own
                        assert state["properties"]["direction"] == str(i * 10)
    assert writers.version() == before + WRITERS * (1 + EDITS_EACH)


READERS = 4
READS_EACH = 100


def test_a_get_during_writes_always_carries_the_etag(writers: Writers, record_property: Any) -> None:
    """A client GETs a camera to edit it while other cameras of the layer are being written.
    Every 200 of the GeoJSON must carry the camera's ETag (the one it had since it was made:
    it did not change): without one the client has nothing to send in If-Match, and the
    ETag is the feature's own content hash, valid whatever else in the layer changed.

    Writers keep writing until the readers have done all their 400 GETs, so every GET
    overlaps with writes."""
    base = f"{writers.server.url}{ITEMS}"
    auth = bearer(writers.token)
    made = requests.post(
        base, headers=auth, timeout=30, json=camera("test-cam-gelesen", "Testkamera nur gelesen")
    )
    assert made.status_code == 201, made.text
    etag = made.headers["ETag"]
    reading = threading.Event()
    reading.set()

    def writer(i: int) -> int:
        fid = f"test-cam-l{i:02d}"
        with requests.Session() as http:
            got = http.post(
                base, headers=auth, timeout=60, json=camera(fid, f"Testkamera Lastschreiber {i:02d}")
            )
            assert got.status_code == 201, got.text
            tag, writes = got.headers["ETag"], 0
            while reading.is_set():
                writes += 1
                patch = http.patch(
                    f"{base}/{fid}",
                    timeout=60,
                    headers={**auth, "If-Match": tag, "Content-Type": MERGE_PATCH},
                    data=json.dumps({"properties": {"range_m": writes}}),
                )
                assert patch.status_code == 200, patch.text
                tag = patch.headers["ETag"]
        return writes

    def reader() -> list[str | None]:
        seen = []
        with requests.Session() as http:
            for _ in range(READS_EACH):
                got = http.get(f"{base}/test-cam-gelesen", headers=auth, timeout=60)
                assert got.status_code == 200, got.text
                seen.append(got.headers.get("ETag"))
        return seen

    with ThreadPoolExecutor(WRITERS // 2 + READERS) as pool:
        writing = [pool.submit(writer, i) for i in range(WRITERS // 2)]
        time.sleep(0.2)  # the writers are under way before the first read
        seen = [tag for f in [pool.submit(reader) for _ in range(READERS)] for tag in f.result(timeout=300)]
        reading.clear()
        writes = sum(f.result(timeout=300) for f in writing)
    missing = seen.count(None)
    record_property("gets_without_etag", f"{missing} of {len(seen)}")
    print(f"\nGETs of an unchanged camera during {writes} writes: {missing} of {len(seen)} without ETag")
    assert len(seen) == READERS * READS_EACH and writes >= WRITERS // 2
    # The gzip body's ETag is the identity one with "-gzip" (other bytes, other validator).
    assert {tag.replace('-gzip"', '"') for tag in seen if tag is not None} <= {etag}
    assert missing == 0, (
        f"{missing} of {len(seen)} GETs of an unchanged camera came back 200 "
        "without its ETag while other cameras were written"
    )


def test_a_get_racing_a_write_never_pairs_the_old_body_with_the_new_etag(
    postgis_cluster: Any, tmp_path: Path
) -> None:
    """PostGIS only (the one store where a reader can be held between two of its reads): GET
    on a camera reads the layer version for the response cache's key and the feature. A
    write landing between the two must not leave the old body cached under the new version:
    the next GET would pair that old body with the new (current) ETag, and a client editing
    what it was shown overwrites the write it never saw, with If-Match passing.

    The interleaving is forced: the test holds an ACCESS EXCLUSIVE lock on layer_state while
    the GET has read the feature, writes in the same transaction what the store's ``edit``
    writes (the row, the version bump; only the log entry is left out) and commits. The
    server has one worker, so both GETs meet the same response cache.
    """
    import psycopg

    store = StoreConfig(tmp_path / "instance", postgis_cluster.new_database())
    store.instance.mkdir()
    server, log = start_server(store.instance, store.env, workers=1)
    try:
        _, token = create_token(store, "Ordnungsamt Jena (Test)")
        auth = bearer(token)
        url = f"{server.url}{ITEMS}/test-cam-wettlauf"
        made = requests.post(
            f"{server.url}{ITEMS}",
            headers=auth,
            timeout=30,
            json=camera("test-cam-wettlauf", "Testkamera Wettlauf", purpose="Zweck A"),
        )
        assert made.status_code == 201, made.text
        first: dict[str, requests.Response] = {}
        with psycopg.connect(store.store) as writer, psycopg.connect(store.store, autocommit=True) as monitor:
            writer.execute("LOCK TABLE mapservice.layer_state IN ACCESS EXCLUSIVE MODE")
            reader = threading.Thread(
                target=lambda: first.setdefault("r", requests.get(url, headers=auth, timeout=60))
            )
            reader.start()
            deadline = time.monotonic() + 30
            while not monitor.execute(
                "SELECT 1 FROM pg_stat_activity WHERE application_name = 'mapservice' "
                "AND wait_event_type = 'Lock'"
            ).fetchall():
                assert time.monotonic() < deadline, "the GET never waited for layer_state"
                time.sleep(0.01)
            writer.execute(
                "UPDATE mapservice.video_surveillance SET purpose = 'Zweck B' WHERE id = 'test-cam-wettlauf'"
            )
            writer.execute(
                "UPDATE mapservice.layer_state SET version = version + 1, "
                "updated_at = date_trunc('second', clock_timestamp()) "
                "WHERE layer = 'video-surveillance'"
            )
            writer.commit()
            reader.join(timeout=60)
        # The GET reads the layer version before the feature (so a replayed 304 can never keep
        # an old ETag after a write): it waited for the lock and may show either state.
        assert first["r"].json()["properties"]["purpose"] in ("Zweck A", "Zweck B")

        shown = requests.get(url, headers=auth, timeout=30)
        body = shown.json()["properties"]["purpose"]
        edited = requests.patch(
            url,
            timeout=30,
            headers={**auth, "If-Match": shown.headers["ETag"], "Content-Type": MERGE_PATCH},
            data=json.dumps({"properties": {"purpose": f"{body} und C"}}),
        )
        stored = requests.get(url, headers=auth, timeout=30).json()["properties"]["purpose"]
        assert (edited.status_code, stored) in ((200, "Zweck B und C"), (412, "Zweck B")), (
            f"the GET after the write showed purpose {body!r} with ETag {shown.headers['ETag']}; "
            f"the PATCH built on it got {edited.status_code} and the camera now says {stored!r}: "
            "'Zweck B' was overwritten by a client that never saw it"
        )
    finally:
        stop_server(server, log)


# -- 2. SIGKILL in the middle of an import ---------------------------------------------------


@dataclass
class Kill:
    delay: float
    returncode: int | None = None
    finished_first: bool = False  # the import had exited before the kill was due
    uncommitted: int = 0  # GeoPackage: bytes in the -wal; PostGIS: heap bytes the import added
    stdout: str = ""


def _uncommitted_base(store: StoreConfig, backend: str) -> int:
    if backend == "gpkg":
        return 0
    return int(postgis(store, "SELECT pg_relation_size('mapservice.video_surveillance')")[0][0])


def _uncommitted(store: StoreConfig, backend: str, base: int) -> int:
    """What the killed import wrote and never committed: on a GeoPackage the frames in the WAL
    (the file is empty before the import: the last connection to close checkpoints it), on
    PostGIS the heap the inserted rows took (dead rows stay until a vacuum)."""
    if backend == "gpkg":
        wal = gpkg_path(store).with_name(gpkg_path(store).name + "-wal")
        return wal.stat().st_size if wal.exists() else 0
    return _uncommitted_base(store, backend) - base


def kill_import(store: StoreConfig, csv: Path, delay: float, backend: str) -> Kill:
    """Run the import, SIGKILL it ``delay`` seconds after it says ``writing N features``."""
    base = _uncommitted_base(store, backend)
    process = subprocess.Popen(
        [sys.executable, "-m", "mapservice", "import", LAYER, str(csv), "--progress"],
        env={**os.environ, **store.env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert process.stderr is not None and process.stdout is not None
    seen = bytearray()
    writing = threading.Event()

    def drain() -> None:  # the progress bar must not fill the pipe and stall the import
        assert process.stderr is not None
        while chunk := process.stderr.read1(65536):
            seen.extend(chunk)
            if re.search(rb"writing \d+ features", seen):
                writing.set()
        writing.set()  # exited: stop waiting

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    kill = Kill(delay)
    try:
        assert writing.wait(120), "the import never said 'writing'"
        assert re.search(rb"writing \d+ features", seen), seen.decode(errors="replace")[-2000:]
        time.sleep(delay)
        if process.poll() is None:
            os.kill(process.pid, signal.SIGKILL)
        else:
            kill.finished_first = True
        kill.returncode = process.wait(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    reader.join(timeout=10)
    kill.stdout = process.stdout.read().decode(errors="replace")
    kill.uncommitted = _uncommitted(store, backend, base)
    return kill


def _wait_for_no_import_session(store: StoreConfig) -> float:
    """PostGIS: seconds until the server has ended the killed import's session (and so its
    transaction and locks); fails after a generous bound."""
    start = time.monotonic()
    while postgis(
        store,
        "SELECT pid FROM pg_stat_activity WHERE application_name = 'mapservice'"
        " AND datname = current_database()",
    ):
        assert time.monotonic() - start < 60, "the killed import's session is still there"
        time.sleep(0.05)
    return time.monotonic() - start


def two_registers(store: StoreConfig, tmp_path: Path) -> tuple[Path, list[str], Path, list[str]]:
    """A small register, imported (the previous data), and a big one to import over it."""
    small = tmp_path / "kameras-vorher.csv"
    previous_ids = write_cameras(small, 5, "test-vorher", seed=1)
    big = tmp_path / "kameras-gross.csv"
    big_ids = write_cameras(big, BIG_ROWS, "test-gross", seed=2)
    assert mapservice(store, "import", LAYER, small).returncode == 0
    return small, previous_ids, big, big_ids


def test_sigkill_in_the_middle_of_an_import_keeps_the_previous_data(
    fresh_store: StoreConfig, backend: str, tmp_path: Path, record_property: Any
) -> None:
    """A 20,000-camera import is killed (SIGKILL: no handler, no cleanup) while it writes. The
    store must open, hold exactly the previous cameras at the previous layer version, serve
    them, and take the next import and API write (no stale lock; on a GeoPackage SQLite rolls
    the WAL back when the store is next opened)."""
    small, previous_ids, big, big_ids = two_registers(fresh_store, tmp_path)
    previous = snapshot(fresh_store)
    assert sorted(previous.features) == previous_ids

    kills: list[Kill] = []
    hit: Kill | None = None
    delay = FIRST_KILL_DELAY
    for _ in range(KILL_ATTEMPTS):
        kill = kill_import(fresh_store, big, delay, backend)
        kills.append(kill)
        if backend == "postgis":
            kill_session_ended = _wait_for_no_import_session(fresh_store)
        after = snapshot(fresh_store)
        if after == previous:
            assert kill.returncode == -signal.SIGKILL, kill
            assert "features imported" not in kill.stdout
            if kill.uncommitted > 0:
                hit = kill
                break
            delay *= 1.6  # killed before the import had written anything: later
            continue
        # The import got done before the kill: then it must be all of the file, in one version.
        assert sorted(after.features) == big_ids, kill
        assert after.version == previous.version + 1
        assert kill.finished_first or kill.returncode == -signal.SIGKILL
        delay *= 0.5
        assert mapservice(fresh_store, "import", LAYER, small).returncode == 0  # start over
        previous = snapshot(fresh_store)
    print(
        f"\nkills ({backend}): "
        + "; ".join(
            f"{k.delay:.2f} s after 'writing': rc {k.returncode}, done first {k.finished_first}, "
            f"uncommitted {k.uncommitted} B"
            for k in kills
        )
    )
    record_property("kills", [(k.delay, k.returncode, k.uncommitted) for k in kills])
    assert hit is not None, f"no kill landed while the import was writing: {kills}"
    if backend == "gpkg":
        assert integrity(fresh_store) == "ok"
        assert not gpkg_path(fresh_store).with_name("mapservice.gpkg-journal").exists()
    else:
        record_property("postgis_session_ended_s", kill_session_ended)

    # The service starts on it and serves exactly the previous cameras (published: anonymous).
    fresh_store.instance.mkdir(exist_ok=True)  # a PostGIS store leaves it to the server log
    started = time.monotonic()
    server, log = start_server(fresh_store.instance, fresh_store.env)
    record_property("restart_s", time.monotonic() - started)
    try:
        listed = requests.get(f"{server.url}{ITEMS}?limit=100", timeout=30).json()
        assert sorted(f["id"] for f in listed["features"]) == previous_ids
        assert listed["numberMatched"] == len(previous_ids)

        # The next import takes the layer's write lock at once and lands.
        small_next = tmp_path / "kameras-danach.csv"
        next_ids = write_cameras(small_next, 7, "test-danach", seed=3)
        result = mapservice(fresh_store, "import", LAYER, small_next, timeout=60)
        assert result.returncode == 0, result.stderr
        assert "7 added, 0 changed, 5 removed" in result.stdout
        # And an API write.
        _, token = create_token(fresh_store, "Ordnungsamt Jena (Test)")
        url = f"{server.url}{ITEMS}/{next_ids[0]}"
        got = requests.get(url, headers=bearer(token), timeout=30)
        patched = requests.patch(
            url,
            data='{"properties": {"status": "suspended"}}',
            headers=bearer(token, **{"If-Match": got.headers["ETag"], "Content-Type": MERGE_PATCH}),
            timeout=30,
        )
        assert patched.status_code == 200, patched.text
    finally:
        stop_server(server, log)
    final = snapshot(fresh_store)
    assert sorted(final.features) == next_ids
    assert final.version == previous.version + 2
    assert final.features[next_ids[0]][0]["status"] == "suspended"


# -- 3. a full disk and broken files ---------------------------------------------------------

# Starts the CLI with a limit on the size of any file it writes (RLIMIT_FSIZE) and SIGXFSZ
# ignored, so a write past the limit fails with EFBIG instead of killing the process. Set here
# rather than with preexec_fn, which is unsafe in a process with threads.
FSIZE_LAUNCHER = """\
import os, resource, signal, sys
limit = int(sys.argv[1])
resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
os.execv(sys.executable, [sys.executable, "-m", "mapservice", *sys.argv[2:]])
"""

# Makes the layer table refuse rows after the 1000th of a transaction with PostgreSQL's own
# disk-full error (SQLSTATE 53100 and the message PostgreSQL gives when it cannot extend a file).
DISK_FULL_TRIGGER = """
CREATE FUNCTION mapservice.test_disk_full() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  n bigint := coalesce(nullif(current_setting('mapservice_test.rows', true), ''), '0')::bigint + 1;
BEGIN
  PERFORM set_config('mapservice_test.rows', n::text, true);
  IF n > 1000 THEN
    RAISE EXCEPTION 'could not extend file "base/16384/16385": No space left on device'
      USING ERRCODE = 'disk_full', HINT = 'Check free disk space.';
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER test_disk_full BEFORE INSERT ON mapservice.video_surveillance
  FOR EACH ROW EXECUTE FUNCTION mapservice.test_disk_full();
"""


def test_a_full_disk_fails_the_import_with_a_clear_error_and_no_partial_data(
    fresh_store: StoreConfig, backend: str, tmp_path: Path
) -> None:
    """GeoPackage: the import runs with RLIMIT_FSIZE 1 MiB above the file's size, so SQLite's
    writes into the WAL fail with EFBIG part-way through the 20,000 cameras.

    PostGIS: a real full disk would need a tiny tablespace on a tmpfs mount. ``mount -t tmpfs``
    works in the container this was written in (root with CAP_SYS_ADMIN), but CI may run as a
    non-root user (.ci/run uses sudo then) or in an unprivileged container, and a test that only
    works with mount rights would be skipped there. So the server's disk-full error is produced
    honestly instead: a trigger on the layer table raises SQLSTATE 53100 (disk_full) with
    PostgreSQL's message after 1000 rows of the import's transaction; the store sees exactly
    the error a full disk gives.

    Both: exit code 1, one clear error line and no traceback, the previous cameras intact and
    readable, and the same import without the limit works.
    """
    _, previous_ids, big, big_ids = two_registers(fresh_store, tmp_path)
    previous = snapshot(fresh_store)

    if backend == "gpkg":
        limit = gpkg_path(fresh_store).stat().st_size + (1 << 20)
        result = subprocess.run(
            [sys.executable, "-c", FSIZE_LAUNCHER, str(limit), "import", LAYER, str(big)],
            env={**os.environ, **fresh_store.env},
            capture_output=True,
            text=True,
            timeout=180,
            check=False,
        )
        # SQLite says "database or disk is full" for ENOSPC; for EFBIG (the file size limit)
        # its unix VFS reports SQLITE_IOERR_WRITE, "disk I/O error".
        reasons = ("database or disk is full", "disk I/O error")
    else:
        postgis(fresh_store, DISK_FULL_TRIGGER)
        result = mapservice(fresh_store, "import", LAYER, big)
        reasons = ("No space left on device",)
    assert result.returncode == 1, (result.returncode, result.stdout, result.stderr[-2000:])
    no_traceback(result.stderr)
    assert "writing layer 'video-surveillance' failed, nothing was changed" in result.stderr
    if backend == "gpkg":
        assert str(gpkg_path(fresh_store)) in result.stderr  # names the file that is full
    assert any(reason in result.stderr for reason in reasons), result.stderr
    assert "features imported" not in result.stdout

    assert snapshot(fresh_store) == previous
    assert sorted(previous.features) == previous_ids
    if backend == "gpkg":
        assert integrity(fresh_store) == "ok"
    else:
        postgis(fresh_store, "DROP TRIGGER test_disk_full ON mapservice.video_surveillance")

    failed = result
    result = mapservice(fresh_store, "import", LAYER, big)
    assert result.returncode == 0, result.stderr[-2000:]
    after = snapshot(fresh_store)
    assert sorted(after.features) == big_ids
    assert after.version == previous.version + 1
    if backend == "gpkg":
        only_the_error(failed.stderr)
    # On PostGIS psycopg sometimes logs "error ignored terminating <psycopg.Pipeline ...>:
    # pipeline aborted" (with host, port, user and database) before the CLI's message: when
    # the server's error arrives while executemany is still sending. That depends on timing,
    # so it is not asserted here (the test would flip); the error line itself is checked above.


def _bodies_frame(count: int) -> gpd.GeoDataFrame:
    """Invented prevention councils in Jena (their column names fit a shapefile's 10 chars)."""
    rng = random.Random(4)
    return gpd.GeoDataFrame(
        {
            "id": [f"test-rat-{i:04d}" for i in range(count)],
            "name": [f"Testrat Nr. {i} (erfunden, Jena-Süd)" for i in range(count)],
            "type": ["kpr"] * count,
            "status": ["active"] * count,
            "level": ["stadtteil"] * count,
            "source": ["Testdaten (erfunden)"] * count,
            "verified_on": ["2026-01-15"] * count,
        },
        geometry=[Point(11.55 + rng.random() * 0.08, 50.88 + rng.random() * 0.08) for _ in range(count)],
        crs="EPSG:4326",
    )


def _truncated_geopackage(folder: Path) -> tuple[Path, Path]:
    intact = folder / "raete.gpkg"
    pyogrio.write_dataframe(_bodies_frame(300), intact, layer="raete")
    broken = folder / "raete-abgeschnitten.gpkg"
    data = intact.read_bytes()
    broken.write_bytes(data[: len(data) // 2])
    return broken, intact


def _cut_shapefile(folder: Path) -> tuple[Path, Path]:
    parts = folder / "shp"
    parts.mkdir()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # GDAL's note that shapefiles cut long column names
        _bodies_frame(300).to_crs("EPSG:25832").to_file(parts / "raete.shp")
    archives = []
    for name, cut in (("raete.zip", False), ("raete-abgeschnitten.zip", True)):
        with zipfile.ZipFile(folder / name, "w") as archive:
            for part in sorted(parts.iterdir()):
                data = part.read_bytes()
                if cut and part.suffix == ".shp":
                    data = data[: len(data) // 2]  # the geometries of the second half are gone
                archive.writestr(part.name, data)
        archives.append(folder / name)
    return archives[1], archives[0]


def _csv_with_bad_bytes(folder: Path) -> tuple[Path, Path]:
    frame = _bodies_frame(300)
    lines = ["id;name;type;status;level;source;verified_on;lon;lat"] + [
        f"{r.id};{r.name};{r.type};{r.status};{r.level};{r.source};{r.verified_on};"
        f"{r.geometry.x:.6f};{r.geometry.y:.6f}"
        for r in frame.itertuples()
    ]
    encoded = [line.encode("cp1252") for line in lines]  # "Süd" is one byte, 0xFC
    intact = folder / "raete.csv"
    intact.write_bytes(b"\n".join(encoded) + b"\n")
    # 0x81 is no character in cp1252: a byte of another encoding, deep in the file.
    encoded[200] = encoded[200].replace(b"Testrat", b"Test\x81rat")
    broken = folder / "raete-kaputt.csv"
    broken.write_bytes(b"\n".join(encoded) + b"\n")
    return broken, intact


# tests/test_import.py already covers a truncated GeoJSON, a .zip that is no zip archive, a zip
# without a .shp and a cp1252 file read as the default UTF-8; these are the cases it does not:
# a truncated GeoPackage, a zip whose .shp is cut off, and bytes that are not text in an
# encoding given with --encoding. The target layer has shipped features, so "nothing changed"
# is checked against real previous data; the intact file must import, so the error is the
# damage's doing and not the file's content.
BROKEN_FILES = {
    "truncated-geopackage": (_truncated_geopackage, ()),
    "cut-off-shapefile-in-zip": (_cut_shapefile, ()),
    "csv-bytes-not-in-the-declared-encoding": (_csv_with_bad_bytes, ("--encoding", "cp1252")),
}


@pytest.mark.parametrize("kind", list(BROKEN_FILES))
def test_a_broken_file_is_refused_naming_it_and_nothing_changes(
    fresh_store: StoreConfig, tmp_path: Path, kind: str
) -> None:
    make, options = BROKEN_FILES[kind]
    broken, intact = make(tmp_path)
    previous = snapshot(fresh_store, BODIES)
    assert previous.features  # the shipped prevention bodies

    result = mapservice(fresh_store, "import", BODIES, broken, *options)
    if result.returncode != 1:
        landed = snapshot(fresh_store, BODIES).features
        unlocated = sum(geometry is None for _, geometry in landed.values())
        pytest.fail(
            f"the import of {broken.name} exited {result.returncode} ({result.stdout.strip()}"
            f" {result.stderr.strip()[-500:]}); the layer now holds {len(landed)} features, "
            f"{unlocated} of them without a location"
        )
    no_traceback(result.stderr)
    assert broken.name in result.stderr
    assert snapshot(fresh_store, BODIES) == previous
    failed = result

    result = mapservice(fresh_store, "import", BODIES, intact, *options)
    assert result.returncode == 0, result.stderr[-2000:]
    assert len(snapshot(fresh_store, BODIES).features) == 300
    only_the_error(failed.stderr)


# -- 4. two app instances on one store -------------------------------------------------------


@dataclass
class Pair:
    store: StoreConfig
    a: Server
    b: Server


@pytest.fixture(scope="module")
def pair(
    new_store: Callable[[Path], StoreConfig], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Pair]:
    """Two `mapservice serve` processes (2 workers each) with their own instance folders on
    one store: the same PostGIS database, or the same GeoPackage file (named by its path in
    both, so the two differ only in the instance folder)."""
    first = tmp_path_factory.mktemp("instance-a")
    second = tmp_path_factory.mktemp("instance-b")
    made = new_store(first)
    store = StoreConfig(first, made.store or str(first / "mapservice.gpkg"))
    common = {"MAPSERVICE_STORE": store.store, "MAPSERVICE_CACHE_MAX_AGE": "5"}
    a, log_a = start_server(first, common)
    try:
        b, log_b = start_server(second, common)
    except BaseException:
        stop_server(a, log_a)
        raise
    try:
        yield Pair(store, a, b)
    finally:
        stop_server(b, log_b)
        stop_server(a, log_a)


def _first_get_showing(
    url: str, check: Callable[[requests.Response], bool], headers: dict[str, str] | None = None
) -> tuple[requests.Response, int, float]:
    """GET until ``check`` holds (at most 10 s): the response, how many GETs, seconds taken."""
    start = time.monotonic()
    tries = 0
    while True:
        tries += 1
        response = requests.get(url, headers=headers or {}, timeout=30)
        if check(response) or time.monotonic() - start > 10:
            return response, tries, time.monotonic() - start


def test_two_servers_on_one_store_see_each_others_writes_at_once(pair: Pair, record_property: Any) -> None:
    """A write through server A shows on server B's very next GET, with a new ETag: B reads
    the layer version per request, so neither its response cache nor anything else in it can
    be stale; only clients may reuse a response, for MAPSERVICE_CACHE_MAX_AGE (5 s here).
    A revoked token stops working on both at once."""
    _, token = create_token(pair.store, "Ordnungsamt Jena (Test)")
    other_id, other = create_token(pair.store, "Stadtverwaltung Jena (Test, wird widerrufen)")
    a_items, b_items = f"{pair.a.url}{ITEMS}", f"{pair.b.url}{ITEMS}"
    waits: dict[str, float] = {}

    # A published camera: anonymous readers see it.
    made = requests.post(
        a_items,
        headers=bearer(token),
        timeout=30,
        json=camera("test-cam-zwei", "Testkamera Zwei Server", publication="published"),
    )
    assert made.status_code == 201, made.text
    shown, tries, waits["create"] = _first_get_showing(
        f"{b_items}/test-cam-zwei", lambda r: r.status_code == 200
    )
    assert (shown.status_code, tries) == (200, 1)
    assert shown.headers["Cache-Control"] == "public, max-age=5"
    old_etag = shown.headers["ETag"]
    old_list = requests.get(b_items, timeout=30)
    assert [f["id"] for f in old_list.json()["features"]] == ["test-cam-zwei"]

    mine = requests.get(f"{a_items}/test-cam-zwei", headers=bearer(token), timeout=30)
    patched = requests.patch(
        f"{a_items}/test-cam-zwei",
        timeout=30,
        data='{"properties": {"name": "Testkamera Zwei Server (neu)"}}',
        headers=bearer(token, **{"If-Match": mine.headers["ETag"], "Content-Type": MERGE_PATCH}),
    )
    assert patched.status_code == 200, patched.text
    shown, tries, waits["update"] = _first_get_showing(
        f"{b_items}/test-cam-zwei", lambda r: r.json()["properties"]["name"].endswith("(neu)")
    )
    assert tries == 1, "server B served the old camera after A's write had been answered"
    assert shown.headers["ETag"] != old_etag
    # A client revalidating its old copy gets the new one, not 304; so does the list.
    again = requests.get(f"{b_items}/test-cam-zwei", headers={"If-None-Match": old_etag}, timeout=30)
    assert again.status_code == 200 and again.json()["properties"]["name"].endswith("(neu)")
    listed = requests.get(b_items, headers={"If-None-Match": old_list.headers["ETag"]}, timeout=30)
    assert listed.status_code == 200
    assert listed.json()["features"][0]["properties"]["name"].endswith("(neu)")

    # A draft: hidden from anonymous readers on B, shown to the token holder at once.
    draft = requests.post(
        a_items, headers=bearer(token), timeout=30, json=camera("test-cam-entwurf", "Testkamera Entwurf")
    )
    assert draft.status_code == 201
    assert requests.get(f"{b_items}/test-cam-entwurf", timeout=30).status_code == 404
    seen = requests.get(f"{b_items}/test-cam-entwurf", headers=bearer(token), timeout=30)
    assert seen.status_code == 200
    patched = requests.patch(
        f"{a_items}/test-cam-entwurf",
        timeout=30,
        data='{"properties": {"status": "planned"}}',
        headers=bearer(token, **{"If-Match": draft.headers["ETag"], "Content-Type": MERGE_PATCH}),
    )
    assert patched.status_code == 200, patched.text
    shown, tries, waits["draft update"] = _first_get_showing(
        f"{b_items}/test-cam-entwurf", lambda r: r.json()["properties"]["status"] == "planned", bearer(token)
    )
    assert tries == 1 and shown.headers["ETag"] != seen.headers["ETag"]
    assert requests.get(f"{b_items}/test-cam-entwurf", timeout=30).status_code == 404

    # Revoking a token: both servers refuse it on the next request; the other token still works.
    history = "/api/collections/video-surveillance/items/test-cam-zwei/history"
    for server in (pair.a, pair.b):
        assert requests.get(f"{server.url}{history}", headers=bearer(other), timeout=30).status_code == 200
    revoked = mapservice(pair.store, "token", "revoke", other_id)
    assert revoked.returncode == 0, revoked.stderr
    for server in (pair.a, pair.b):
        refused = requests.get(f"{server.url}{history}", headers=bearer(other), timeout=30)
        assert refused.status_code == 401
        write = requests.post(
            f"{server.url}{ITEMS}",
            headers=bearer(other),
            timeout=30,
            json=camera("test-cam-widerrufen", "Testkamera widerrufen"),
        )
        assert write.status_code == 401
        assert requests.get(f"{server.url}{history}", headers=bearer(token), timeout=30).status_code == 200

    record_property("seconds_until_b_shows", waits)
    print(f"\nseconds until server B showed server A's write: {waits}")
    # Generous bound: "immediately" above is the first GET; this only guards the measurement.
    assert max(waits.values()) < 5


def test_an_etag_from_one_server_is_accepted_by_the_other(pair: Pair) -> None:
    """Behind a load balancer the GET and the PATCH of one edit may reach different instances:
    the ETag of an unchanged feature must be the same on both, and If-Match with it must work
    on either."""
    _, token = create_token(pair.store, "Ordnungsamt Jena (Test)")
    made = requests.post(
        f"{pair.a.url}{ITEMS}",
        headers=bearer(token),
        timeout=30,
        json=camera("test-cam-lastverteilt", "Testkamera Lastverteilung"),
    )
    assert made.status_code == 201, made.text
    on_a = requests.get(f"{pair.a.url}{ITEMS}/test-cam-lastverteilt", headers=bearer(token), timeout=30)
    on_b = requests.get(f"{pair.b.url}{ITEMS}/test-cam-lastverteilt", headers=bearer(token), timeout=30)

    def content(response: requests.Response) -> Any:
        doc = response.json()
        return doc["properties"], doc["geometry"]  # the links name each server's own host

    assert content(on_a) == content(on_b)
    patched = requests.patch(
        f"{pair.b.url}{ITEMS}/test-cam-lastverteilt",
        timeout=30,
        data='{"properties": {"status": "planned"}}',
        headers=bearer(token, **{"If-Match": on_a.headers["ETag"], "Content-Type": MERGE_PATCH}),
    )
    assert patched.status_code == 200, (patched.status_code, patched.text)
    assert on_a.headers["ETag"] == on_b.headers["ETag"]
