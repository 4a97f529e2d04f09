"""The code-flow requests both OIDC benchmarks send, defined once so their figures compare.

Imported as a sibling module: the benchmarks run as ``python benchmarks/<name>.py``.
"""

from __future__ import annotations

import base64
import hashlib
import secrets

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
