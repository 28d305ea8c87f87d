"""Caches of one worker process: values derived from stored layers, and finished responses.

Neither needs invalidation. A derived value is kept together with the versions of the layers it
was computed from and is recomputed when any of them changed; a response body is kept under
its ETag, which changes with every data version. So a second worker or a second instance never
contradicts this one: each sees the same versions in the shared store.
"""

from __future__ import annotations

import copy
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

from .store.base import Store

T = TypeVar("T")

# Versions of the layers a value was computed from: (layer id, version, time of change).
DataVersions = tuple[tuple[str, int, str], ...]


def data_versions(store: Store, layer_ids: Iterable[str]) -> DataVersions:
    """The current versions of ``layer_ids``; changes with every write to any of them.

    The time of change is part of the key: a store rebuilt from scratch starts counting its
    versions again, and must not be mistaken for the one it replaced.
    """
    out = []
    for layer_id in layer_ids:
        state = store.state(layer_id)
        out.append((layer_id, state.version, state.updated_at.isoformat()))
    return tuple(out)


class KeptFailure(Exception):
    """An error that is the answer for the data versions it was raised for (a computation over
    its time budget): :class:`VersionedCache` keeps it like a value and raises it again, until
    the versions change, instead of starting the same doomed computation on every request."""

    def again(self) -> KeptFailure:
        """A new instance to raise (one instance raised by many threads would share, and grow,
        one traceback)."""
        return copy.copy(self)


@dataclass(frozen=True)
class _Failed:
    error: KeptFailure


class _NameLock:
    """The lock of one name and how many threads hold or wait for it."""

    __slots__ = ("lock", "users")

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.users = 0


class VersionedCache:
    """Derived values by name, each valid while the data versions it was made from hold.

    At most ``max_entries`` names are kept, least recently used out first. Each name has its own
    lock: a burst of first requests waits for one computation instead of starting one per
    thread, while a slow value (a Land's planner ranking) does not hold up a quick one. A value
    is published only once ``compute`` has returned it whole, together with the versions read
    before it started (a write during the computation gives a newer version: the next request
    computes again, never keeps a value under versions it was not made from). A
    :class:`KeptFailure` is kept the same way.
    """

    def __init__(self, max_entries: int = 64) -> None:
        self.max_entries = max_entries
        self._items: OrderedDict[Hashable, tuple[Hashable, Any]] = OrderedDict()
        self._locks: dict[Hashable, _NameLock] = {}
        self._lock = threading.Lock()

    def _hit(self, name: Hashable, versions: Hashable) -> tuple[bool, Any]:
        with self._lock:
            item = self._items.get(name)
            if item is None or item[0] != versions:
                return False, None
            self._items.move_to_end(name)
            value = item[1]
        if isinstance(value, _Failed):
            raise value.error.again()
        return True, value

    def get(self, name: Hashable, versions: Hashable, compute: Callable[[], T]) -> T:
        """The value of ``name`` for ``versions``, computed once while they are current."""
        found, value = self._hit(name, versions)
        if found:
            return value  # type: ignore[no-any-return]
        with self._lock:
            name_lock = self._locks.get(name)
            if name_lock is None:
                name_lock = self._locks[name] = _NameLock()
            # Counted while still under the cache's lock: the entry cannot be dropped between
            # finding it and waiting for it, which would let a second computation start.
            name_lock.users += 1
        try:
            with name_lock.lock:
                found, value = self._hit(name, versions)
                if found:
                    return value  # type: ignore[no-any-return]
                try:
                    computed: Any = compute()
                except KeptFailure as exc:
                    self._put(name, versions, _Failed(exc))
                    raise
                self._put(name, versions, computed)
                return computed  # type: ignore[no-any-return]
        finally:
            with self._lock:
                name_lock.users -= 1
                if name_lock.users == 0 and name not in self._items:
                    self._locks.pop(name, None)

    def _put(self, name: Hashable, versions: Hashable, value: Any) -> None:
        with self._lock:
            self._items[name] = (versions, value)
            self._items.move_to_end(name)
            while len(self._items) > self.max_entries:
                evicted, _ = self._items.popitem(last=False)
                held = self._locks.get(evicted)
                if held is not None and held.users == 0:
                    del self._locks[evicted]

    def __len__(self) -> int:
        return len(self._items)


# Body, content type, content encoding and the page's Content-Security-Policy, which names
# the hashes of the body's inline scripts (http/security.py) and so belongs to the body.
CachedResponse = tuple[bytes, str, str | None, str | None]


class ResponseCache:
    """Finished response bodies by ETag and encoding, least recently used out first.

    Safe without invalidation because an ETag changes with every data version; each worker
    process keeps its own, so no instance can contradict another.
    """

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.size = 0
        self._items: OrderedDict[tuple[str, str], CachedResponse] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple[str, str]) -> CachedResponse | None:
        with self._lock:
            item = self._items.get(key)
            if item is not None:
                self._items.move_to_end(key)
            return item

    def holds(self, key: tuple[str, str]) -> bool:
        """Whether a body is kept under ``key`` (a look that does not count as a use)."""
        return key in self._items

    def put(
        self, key: tuple[str, str], body: bytes, mimetype: str, encoding: str | None, csp: str | None = None
    ) -> None:
        if len(body) > self.max_bytes // 4:
            return  # one huge body must not evict everything else
        with self._lock:
            old = self._items.pop(key, None)
            if old is not None:
                self.size -= len(old[0])
            self._items[key] = (body, mimetype, encoding, csp)
            self.size += len(body)
            while self.size > self.max_bytes:
                _, (evicted, *_) = self._items.popitem(last=False)
                self.size -= len(evicted)
