"""In-process caches owned by the app (``app.extensions``), all cleared by ``clear_all``.

Each cache is a cachetools ``TLRUCache`` (a lifetime per entry: a failure is remembered for less
time than a success, a key ring until its next key activates) guarded by its own lock, since
cachetools' caches are not thread-safe (a lookup reorders entries too). Being on the app, two
apps in one process (tests, the CLI) never see each other's entries.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Hashable
from typing import Generic
from typing import TypeVar

from cachetools import TLRUCache
from flask import Flask
from flask import current_app

EXTENSION = "passport.caches"
V = TypeVar("V")
_registry_lock = threading.Lock()


def _expiry(key: Hashable, entry: tuple[object, float], now: float) -> float:
    return now + entry[1]


class Cache(Generic[V]):
    """A bounded map whose entries expire after the seconds given when each was stored."""

    def __init__(self, maxsize: int) -> None:
        self._entries: TLRUCache[Hashable, tuple[V | None, float]] = TLRUCache(
            maxsize, ttu=_expiry, timer=time.monotonic
        )
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> tuple[bool, V | None]:
        """(found, value): a stored None (a remembered miss or failure) is found."""
        with self._lock:  # even a lookup moves the entry (LRU order)
            try:  # one expiry check (``get`` would make two)
                entry = self._entries[key]
            except KeyError:
                return False, None
        return True, entry[0]

    def set(self, key: Hashable, value: V | None, seconds: float) -> None:
        """Remember ``value`` for ``seconds`` (not at all when ``seconds`` <= 0)."""
        with self._lock:
            if seconds > 0:
                self._entries[key] = (value, seconds)
            else:
                self._entries.pop(key, None)

    def discard(self, key: Hashable) -> None:
        """Forget one entry."""
        with self._lock:
            self._entries.pop(key, None)

    def expire(self, after_seconds: float = 0.0) -> None:
        """Drop every entry that would have expired ``after_seconds`` from now."""
        with self._lock:
            self._entries.expire(time.monotonic() + after_seconds)

    def clear(self) -> None:
        """Forget everything."""
        with self._lock:
            self._entries.clear()


def app_cache(name: str, maxsize: int, app: Flask | None = None) -> Cache[V]:
    """The cache ``name`` of the app (the current one by default), created on first use."""
    owner: Flask = app or current_app._get_current_object()  # type: ignore[attr-defined]
    caches: dict[str, Cache[V]] | None = owner.extensions.get(EXTENSION)
    found = caches.get(name) if caches is not None else None
    if found is None:
        with _registry_lock:
            caches = owner.extensions.setdefault(EXTENSION, {})
            found = caches.setdefault(name, Cache(maxsize))
    return found


def clear_all(app: Flask) -> None:
    """Forget every cached entry of the app (after rows changed behind the caches' back)."""
    for cache in list(app.extensions.get(EXTENSION, {}).values()):
        cache.clear()
