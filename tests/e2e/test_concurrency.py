"""No races in shared lazy state: 16 threads against a cold instance, 20 times, on each store.

Issue 15, point 5: on a freshly started instance, concurrent first lookups once got a 500
(``KeyError: 'value'``) because the geocoder chain was published before it was complete. Each
run here builds a new app over the store (new Services: every cache, index, gazetteer and
planner result empty) and clears the module-level caches, then serves it with werkzeug's
threaded server on 127.0.0.1 (a real socket and a thread per request, as gunicorn's gthread
worker has) and sends 16 threads' first requests at once: address lookups of the shipped
offices, point lookups, the planner page, the coverage API and a map page. A gunicorn start per
run would cost seconds; a new app is just as cold for everything the app builds lazily.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import jinja2
import pytest
import requests
from werkzeug.serving import make_server

from conftest import StoreConfig
from mapservice import create_app
from mapservice.finder import hours
from mapservice.maps import render

pytestmark = pytest.mark.e2e

THREADS = 16
RUNS = 20
# First requests of a cold instance: every lazily built object is asked for by several
# threads at once (the gazetteer and geocoder chain, the locate index, the planner's district
# metrics, the expanded maps and their bounds, the holidays, Folium's loader classes).
URLS = (
    "/api/locate?address=Anna-Siemsen-Str. 27, Jena",
    "/api/locate?address=Richard-Sorge-Straße 2, Jena",
    "/api/locate?address=Am Anger 30, 07743 Jena",
    "/api/locate?address=Anna Siemsen Strasse 27 Jena",
    "/api/locate?lat=50.9007&lon=11.5763",
    "/api/locate?lat=50.8818&lon=11.6229",
    "/planner?area=jena",
    "/api/coverage/districts?city=jena",
    "/map/jena",
)


class _CompiledTemplates(jinja2.BytecodeCache):
    """Jinja's compiled templates, kept across runs: compiling them costs a second per app and
    is jinja's own business (each app's template cache still starts empty and is filled by
    the concurrent first requests, under jinja's lock)."""

    def __init__(self) -> None:
        self.compiled: dict[str, bytes] = {}

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        if bucket.key in self.compiled:
            bucket.bytecode_from_string(self.compiled[bucket.key])

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        self.compiled[bucket.key] = bucket.bytecode_to_string()


COMPILED = _CompiledTemplates()


def _clear_module_caches() -> None:
    """What a new worker process would start without."""
    hours._holidays.cache_clear()
    hours._parse.cache_clear()
    render._preloaded.clear()
    render._loader_class.cache_clear()


@pytest.fixture(scope="module")
def filled(shared_store: StoreConfig) -> StoreConfig:
    """The shared store over the shipped data (filled by the first app that opens it). A
    coarser planner grid keeps each cold planner computation short; the locking is the same."""
    create_app(shared_store.settings()).extensions["mapservice"].store.close()
    return shared_store


@pytest.fixture
def cold_server(filled: StoreConfig) -> Iterator[Callable[[], tuple[str, Callable[[], None]]]]:
    started: list[Callable[[], None]] = []

    def start() -> tuple[str, Callable[[], None]]:
        _clear_module_caches()
        app = create_app(filled.settings(planner_grid_m=400))
        app.jinja_env.bytecode_cache = COMPILED
        server = make_server("127.0.0.1", 0, app, threaded=True)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()

        def stop() -> None:
            server.shutdown()
            thread.join(timeout=10)
            app.extensions["mapservice"].store.close()

        started.append(stop)
        return f"http://127.0.0.1:{server.server_port}", stop

    yield start
    for stop in started:
        stop()


def _hammer(base: str) -> list[tuple[str, int, str]]:
    """THREADS threads released together, each sending one of the URLs (each URL twice or
    so): every first request finds nothing built yet."""
    barrier = threading.Barrier(THREADS)
    failures: list[tuple[str, int, str]] = []
    lock = threading.Lock()

    def client(n: int) -> None:
        with requests.Session() as session:
            url = URLS[n % len(URLS)]
            barrier.wait()
            try:
                response = session.get(base + url, timeout=120)
                status, text = response.status_code, response.text[:300]
            except requests.RequestException as exc:
                status, text = 0, repr(exc)
            if status >= 500 or status == 0:
                with lock:
                    failures.append((url, status, text))

    threads = [threading.Thread(target=client, args=(n,)) for n in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return failures


def test_sixteen_threads_on_a_cold_instance_never_get_a_5xx(
    cold_server: Callable[[], tuple[str, Callable[[], None]]], record_property: Any, tmp_path: Path
) -> None:
    every: list[tuple[int, str, int, str]] = []
    for run in range(RUNS):
        base, stop = cold_server()
        try:
            every.extend((run, *failure) for failure in _hammer(base))
        finally:
            stop()
    record_property("runs", RUNS)
    record_property("failures", len(every))
    assert every == [], every[:10]
