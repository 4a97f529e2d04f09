"""Encryption at rest: one Fernet key per purpose, derived from one secret.

The key material is ``KEY_ENCRYPTION_KEY`` or, unset, ``SECRET_KEY``. Each purpose derives
its own key with HKDF-SHA256 (RFC 5869) and its own ``info`` string, so a key recovered from
one purpose's ciphertexts opens nothing else, and each can be rotated on its own.
"""

from __future__ import annotations

import base64

from cryptography.fernet import Fernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import Flask

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


def fernet_for(app: Flask, purpose: bytes) -> Fernet:
    """The app's Fernet cipher for ``purpose`` (``SIGNING_KEYS``, ``TOTP_SECRETS``)."""
    material = app.config.get("KEY_ENCRYPTION_KEY") or app.config["SECRET_KEY"]
    return derive_fernet(str(material), purpose)
