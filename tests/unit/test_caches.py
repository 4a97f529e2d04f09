"""passport.caches: app-owned TTL caches, cleared through one function."""

from __future__ import annotations

import time

from flask import Flask

from passport.caches import Cache
from passport.caches import app_cache
from passport.caches import clear_all


def test_a_stored_none_is_a_hit_and_an_absent_key_is_not() -> None:
    cache: Cache[str] = Cache(10)
    cache.set("failed", None, 60)
    assert cache.get("failed") == (True, None)
    assert cache.get("never") == (False, None)


def test_entries_expire_after_their_own_seconds() -> None:
    cache: Cache[str] = Cache(10)
    cache.set("short", "a", 0.05)
    cache.set("long", "b", 60)
    time.sleep(0.1)
    assert cache.get("short") == (False, None)
    assert cache.get("long") == (True, "b")
    cache.expire(after_seconds=120)
    assert cache.get("long") == (False, None)


def test_zero_seconds_forgets_the_previous_value() -> None:
    cache: Cache[str] = Cache(10)
    cache.set("k", "old", 60)
    cache.set("k", "new", 0)
    assert cache.get("k") == (False, None)


def test_each_app_has_its_own_caches_and_clear_all_empties_every_one() -> None:
    first, second = Flask("first"), Flask("second")
    clients: Cache[str] = app_cache("oidc.clients", 10, first)
    ring: Cache[str] = app_cache("oidc.key_ring", 1, first)
    clients.set("c", "client", 60)
    ring.set("r", "ring", 60)
    other: Cache[str] = app_cache("oidc.clients", 10, second)
    other.set("c", "elsewhere", 60)
    assert app_cache("oidc.clients", 10, first) is clients
    clear_all(first)
    assert clients.get("c") == (False, None)
    assert ring.get("r") == (False, None)
    assert other.get("c") == (True, "elsewhere")
