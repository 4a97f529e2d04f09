"""Public keys of private_key_jwt clients: inline `jwks` or a fetched, cached `jwks_uri`.

An unauthenticated /token request with an assertion naming a client makes Passport fetch
that client's jwks_uri, so the fetch is bounded every way: the outbound policy (no internal
address in production, total deadline, size cap, no redirect), one fetch in flight per URI
(the others wait for its answer), a failure remembered for JWKS_URI_FAILURE_CACHE_SECONDS,
and at most JWKS_URI_FETCH_RATE_LIMIT fetches per client.
"""

from __future__ import annotations

import logging
import threading

from authlib.oauth2.rfc6749 import InvalidClientError
from flask import current_app
from joserfc import jwk
from joserfc.errors import JoseError
from limits import parse

from passport import json_input
from passport.caches import Cache
from passport.caches import app_cache
from passport.extensions import limiter
from passport.oidc.client_validation import client_signing_key_allowed
from passport.oidc.clients import RegisteredClient
from passport.security import outbound

log = logging.getLogger(__name__)

MAX_JWKS_BYTES = 64 * 1024
MAX_CACHED_URIS = 10000
UNUSABLE = "The client's jwks_uri is not usable."

# uri -> the key set, or None for a failure (passport.caches, per app)
FETCHED_CACHE = "oidc.jwks_uri"
# uri -> the lock of its one fetch in flight (single flight, not a cache: nothing expires)
_uri_locks: dict[str, threading.Lock] = {}
_lock = threading.Lock()


def fetch_jwks(uri: str, policy: outbound.OutboundPolicy, deadline_seconds: float) -> jwk.KeySet:
    """GET a JWK Set under the outbound policy; raise OutboundError when unusable."""
    response = outbound.send(
        "GET",
        uri,
        policy=policy,
        deadline_seconds=deadline_seconds,
        max_bytes=MAX_JWKS_BYTES,
        headers={"Accept": "application/json"},
    )
    if response.status != 200:
        raise outbound.OutboundError(f"HTTP {response.status}")
    try:
        return jwk.KeySet.import_key_set(json_input.loads(response.body))
    except (ValueError, TypeError, KeyError, JoseError):
        raise outbound.OutboundError("not a JWK Set") from None


def fetched_keys() -> Cache[jwk.KeySet]:
    """The app's cache of fetched key sets (a None entry is a remembered failure)."""
    return app_cache(FETCHED_CACHE, MAX_CACHED_URIS)


def _uri_lock(uri: str) -> threading.Lock:
    with _lock:
        lock = _uri_locks.get(uri)
        if lock is None:
            if len(_uri_locks) > MAX_CACHED_URIS:
                # Only idle locks may go: a held one still has waiters relying on it.
                for key in [k for k, v in _uri_locks.items() if not v.locked()]:
                    del _uri_locks[key]
            lock = _uri_locks[uri] = threading.Lock()
        return lock


def _may_fetch(client_id: str) -> bool:
    """Per-client budget of remote key-set fetches (shared storage when Redis is set)."""
    item = parse(current_app.config["JWKS_URI_FETCH_RATE_LIMIT"])
    try:
        return bool(limiter.limiter.hit(item, "jwks_uri_fetch", client_id))
    except Exception:  # the storage is down: the cache and single flight still bound fetches
        log.exception("rate-limit storage unavailable for jwks_uri fetches")
        return True


def client_public_keys(client: RegisteredClient) -> jwk.KeySet:
    """The keys the client may sign its assertions and request objects with: its key set
    (jwks_uri cached for JWKS_URI_CACHE_SECONDS) without the keys its profile forbids
    (client_validation.client_signing_key_allowed: a FAPI 2.0 client's Ed448 key)."""
    keys = registered_keys(client)
    allowed = [key for key in keys if client_signing_key_allowed(client, key.dict_value)]
    return keys if len(allowed) == len(keys.keys) else jwk.KeySet(allowed)


def registered_keys(client: RegisteredClient) -> jwk.KeySet:
    """The client's key set (jwks_uri cached for JWKS_URI_CACHE_SECONDS)."""
    if client.jwks:
        try:
            return jwk.KeySet.import_key_set(client.jwks)  # type: ignore[arg-type]
        except (JoseError, ValueError, TypeError, KeyError):
            raise InvalidClientError(description="The client's jwks is not usable.") from None
    uri = client.jwks_uri
    if not uri:
        raise InvalidClientError(description="The client has no public keys.")
    config = current_app.config
    deadline = config["JWKS_URI_TIMEOUT_MS"] / 1000
    cache = fetched_keys()
    hit, keys = cache.get(uri)
    if not hit:
        lock = _uri_lock(uri)
        # One fetch per URI: the others wait for it (a little longer than its deadline).
        if not lock.acquire(timeout=deadline + 1):
            raise InvalidClientError(description=UNUSABLE)
        try:
            hit, keys = cache.get(uri)
            if not hit:
                keys = _fetch_and_remember(cache, client, uri, deadline)
        finally:
            lock.release()
    if keys is None:
        raise InvalidClientError(description=UNUSABLE)
    return keys


def _fetch_and_remember(
    cache: Cache[jwk.KeySet], client: RegisteredClient, uri: str, deadline: float
) -> jwk.KeySet | None:
    """Fetch under the client's budget; remember the keys, or the failure for a while."""
    config = current_app.config
    if not _may_fetch(client.client_id):
        log.warning("jwks_uri of client %s: fetch budget exhausted", client.client_id)
        return None
    try:
        keys = fetch_jwks(uri, outbound.current_policy(), deadline)
    except outbound.OutboundError as refused:
        log.warning("jwks_uri of client %s not usable: %s", client.client_id, refused)
        cache.set(uri, None, config["JWKS_URI_FAILURE_CACHE_SECONDS"])
        return None
    cache.set(uri, keys, config["JWKS_URI_CACHE_SECONDS"])
    return keys
