"""Encryption at rest: one Fernet key per purpose, derived from one secret.

The key material is ``KEY_ENCRYPTION_KEY`` or, unset, ``SECRET_KEY``. Each purpose derives
its own key with HKDF-SHA256 (RFC 5869) and its own ``info`` string, so a key recovered from
one purpose's ciphertexts opens nothing else, and each can be rotated on its own.

``KEY_ENCRYPTION_KEY`` may be a comma-separated list ``NEW,OLD``: the first value encrypts,
every value decrypts (a ``MultiFernet`` over each value's derived key, in order), so a new
value can be rolled out before ``passport keys reencrypt`` moves the stored ciphertexts to it.
"""

from __future__ import annotations

import base64

from cryptography.fernet import Fernet
from cryptography.fernet import InvalidToken
from cryptography.fernet import MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import Flask

from passport.security.app_secret import secret_keys

#: The oidc private signing keys (passport/oidc/keys.py).
SIGNING_KEYS = b"passport signing keys v1"
#: The TOTP secrets of the second factor (passport/mfa/totp.py); migration 0011 moved them
#: from the signing keys' key to this one.
TOTP_SECRETS = b"passport totp secrets v1"


def derive_fernet(material: str, purpose: bytes) -> Fernet:
    """The Fernet cipher of ``purpose`` derived from ``material`` (HKDF-SHA256, no salt)."""
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose).derive(
        material.encode("utf-8")
    )
    return Fernet(base64.urlsafe_b64encode(derived))


def key_materials(app: Flask) -> list[str]:
    """The key material in order: the first encrypts, every one decrypts.

    A value without a comma is used exactly as given (what a single key always was); a list is
    split on commas and stripped, empty entries dropped. Unset or empty: ``SECRET_KEY``, then
    its ``SECRET_KEY_FALLBACKS`` (so a rotated SECRET_KEY still opens what the old one sealed).
    """
    configured = str(app.config.get("KEY_ENCRYPTION_KEY") or "")
    if "," not in configured:
        materials = [configured] if configured else []
    else:
        materials = [value.strip() for value in configured.split(",") if value.strip()]
    if materials:
        return materials
    current, *fallbacks = reversed(secret_keys(app))
    return [current, *fallbacks]


def fernet_for(app: Flask, purpose: bytes) -> MultiFernet:
    """The app's cipher for ``purpose`` (``SIGNING_KEYS``, ``TOTP_SECRETS``).

    Encrypts with the first key material's derived key, decrypts with any of them; ``rotate``
    re-encrypts a ciphertext under the first.
    """
    return MultiFernet([derive_fernet(material, purpose) for material in key_materials(app)])


def is_current(app: Flask, purpose: bytes, token: str) -> bool:
    """True when ``token`` decrypts with the first key material (it needs no re-encryption)."""
    try:
        derive_fernet(key_materials(app)[0], purpose).decrypt(token.encode("ascii"))
    except (InvalidToken, ValueError):
        return False
    return True
