"""The one cache of derived values: kept while the data versions hold, bounded, computed once."""

from __future__ import annotations

import threading
import time

from mapservice.cache import VersionedCache


def test_a_value_is_recomputed_when_its_data_versions_change() -> None:
    cache = VersionedCache()
    calls: list[int] = []

    def compute(version: int) -> str:
        calls.append(version)
        return f"value of version {version}"

    assert cache.get("index", (1,), lambda: compute(1)) == "value of version 1"
    assert cache.get("index", (1,), lambda: compute(1)) == "value of version 1"
    assert calls == [1]
    assert cache.get("index", (2,), lambda: compute(2)) == "value of version 2"
    assert calls == [1, 2]


def test_the_cache_keeps_at_most_its_bound_least_recently_used_out_first() -> None:
    cache = VersionedCache(max_entries=2)
    cache.get("a", 1, lambda: "A")
    cache.get("b", 1, lambda: "B")
    cache.get("a", 1, lambda: "recomputed")  # a is used again, so b is the oldest
    cache.get("c", 1, lambda: "C")
    assert len(cache) == 2
    assert cache.get("a", 1, lambda: "recomputed") == "A"
    assert cache.get("b", 1, lambda: "B again") == "B again"


def test_a_burst_of_first_requests_computes_once() -> None:
    cache = VersionedCache()
    started: list[int] = []

    def slow() -> str:
        started.append(1)
        time.sleep(0.2)
        return "ranking"

    results: list[str] = []
    threads = [
        threading.Thread(target=lambda: results.append(cache.get("planner", 7, slow))) for _ in range(8)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == ["ranking"] * 8
    assert started == [1]


def test_a_slow_value_does_not_hold_up_another() -> None:
    cache = VersionedCache()
    release = threading.Event()
    slow = threading.Thread(target=lambda: cache.get("land", 1, lambda: release.wait(5)))
    slow.start()
    try:
        began = time.monotonic()
        assert cache.get("finder", 1, lambda: "index") == "index"
        assert time.monotonic() - began < 1.0
    finally:
        release.set()
        slow.join()
