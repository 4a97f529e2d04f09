"""The code-flow requests both OIDC benchmarks send, defined once so their figures compare.

Imported as a sibling module: the benchmarks run as ``python benchmarks/<name>.py``.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import time
from typing import Any

REDIRECT_URI = "http://127.0.0.1:9/callback"


def pkce_pair() -> tuple[str, str]:
    """A fresh PKCE verifier and its S256 challenge."""
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def authorize_query(client_id: str, scope: str, challenge: str) -> dict[str, str]:
    """The /authorize parameters of one code flow (state, nonce and PKCE S256)."""
    return {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": REDIRECT_URI,
        "scope": scope,
        "state": "s",
        "nonce": "n",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }


def code_form(code: str, verifier: str) -> dict[str, str]:
    """The /token form that redeems ``code``."""
    return {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT_URI,
        "code_verifier": verifier,
    }


def dpop_proof(key: Any, method: str, url: str, access_token: str | None = None) -> str:
    """An RFC 9449 proof signed by ``key`` (a joserfc ECKey, ES256) for ``method url``."""
    from joserfc import jws

    claims: dict[str, Any] = {
        "jti": secrets.token_urlsafe(16),
        "htm": method,
        "htu": url,
        "iat": int(time.time()),
    }
    if access_token is not None:
        digest = hashlib.sha256(access_token.encode()).digest()
        claims["ath"] = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
    header = {"typ": "dpop+jwt", "alg": "ES256", "jwk": key.as_dict(private=False)}
    return str(jws.serialize_compact(header, json.dumps(claims).encode(), key))


def client_assertion(key: Any, client_id: str, audience: str) -> str:
    """A private_key_jwt client assertion (RFC 7523 §3) signed by ``key`` (ES256), 60 s."""
    from joserfc import jwt

    now = int(time.time())
    claims = {
        "iss": client_id,
        "sub": client_id,
        "aud": audience,
        "jti": secrets.token_urlsafe(16),
        "iat": now,
        "exp": now + 60,
    }
    return str(jwt.encode({"alg": "ES256", "kid": key.kid}, claims, key))
