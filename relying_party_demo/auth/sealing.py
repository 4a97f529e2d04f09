"""Tokens at rest in the session table, sealed with a key derived from AYNI_SECRET_KEY.

AYNI keeps only the tokens it uses: the ID token (``id_token_hint`` of RP-initiated logout)
and the refresh token (a refused refresh tells it the Passport session ended). It calls no API
with the access token, so that one is not kept at all, only its expiry (when to refresh).
Both are encrypted with Fernet (AES-128-CBC + HMAC-SHA256) under an HKDF-derived key: a copy
of the database alone hands out no token. A row sealed under another secret (AYNI_SECRET_KEY
rotated) reads as no token: the person signs in again when it matters.
"""

from __future__ import annotations

import base64
import logging

from cryptography.fernet import Fernet
from cryptography.fernet import InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app

log = logging.getLogger(__name__)

_INFO = b"ayni local session tokens v1"


def _fernet() -> Fernet:
    """The app's cipher, derived once per SECRET_KEY."""
    secret = current_app.config["SECRET_KEY"]
    cached = current_app.extensions.get("ayni.token_fernet")
    if cached is not None and cached[0] == secret:
        return cached[1]  # type: ignore[no-any-return]
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_INFO).derive(
        secret.encode("utf-8")
    )
    fernet = Fernet(base64.urlsafe_b64encode(derived))
    current_app.extensions["ayni.token_fernet"] = (secret, fernet)
    return fernet


def seal(token: str | None) -> str | None:
    """``token`` encrypted for the session table (None stays None)."""
    if not token:
        return None
    return _fernet().encrypt(token.encode("utf-8")).decode("ascii")


def unseal(sealed: str | None) -> str | None:
    """The token a ``seal`` produced, or None (absent, or sealed under another secret)."""
    if not sealed:
        return None
    try:
        return _fernet().decrypt(sealed.encode("ascii")).decode("utf-8")
    except (InvalidToken, UnicodeError):
        log.warning("a session token could not be unsealed (AYNI_SECRET_KEY changed?)")
        return None
