"""Public keys of private_key_jwt clients: inline `jwks` or a fetched, cached `jwks_uri`."""

from __future__ import annotations

import threading
import time

import requests
from authlib.oauth2.rfc6749 import InvalidClientError
from flask import current_app
from joserfc import jwk
from joserfc.errors import JoseError

from passport import json_input
from passport.oidc.clients import RegisteredClient

MAX_JWKS_BYTES = 64 * 1024

_fetched: dict[str, tuple[float, jwk.KeySet]] = {}
_lock = threading.Lock()


def fetch_jwks(uri: str) -> jwk.KeySet:
    """GET a JWK Set with a short timeout, size-limited, no redirects."""
    timeout = current_app.config["JWKS_URI_TIMEOUT_MS"] / 1000
    try:
        response = requests.get(uri, timeout=timeout, allow_redirects=False, stream=True)
        body = response.raw.read(MAX_JWKS_BYTES + 1, decode_content=True)
        response.close()
        if response.status_code != 200 or len(body) > MAX_JWKS_BYTES:
            raise InvalidClientError(description="The client's jwks_uri is not usable.")
        return jwk.KeySet.import_key_set(json_input.loads(body))
    except (requests.RequestException, ValueError, TypeError, KeyError, JoseError):
        raise InvalidClientError(description="The client's jwks_uri is not usable.") from None


def client_public_keys(client: RegisteredClient) -> jwk.KeySet:
    """The client's key set (jwks_uri cached for JWKS_URI_CACHE_SECONDS)."""
    if client.jwks:
        try:
            return jwk.KeySet.import_key_set(client.jwks)  # type: ignore[arg-type]
        except (JoseError, ValueError, TypeError, KeyError):
            raise InvalidClientError(description="The client's jwks is not usable.") from None
    if not client.jwks_uri:
        raise InvalidClientError(description="The client has no public keys.")
    now = time.monotonic()
    hit = _fetched.get(client.jwks_uri)
    if hit is not None and hit[0] > now:
        return hit[1]
    keys = fetch_jwks(client.jwks_uri)
    with _lock:
        _fetched[client.jwks_uri] = (now + current_app.config["JWKS_URI_CACHE_SECONDS"], keys)
    return keys
