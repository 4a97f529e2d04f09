"""TOTP (RFC 6238) as every authenticator app reads it: SHA-1, 6 digits, 30-second steps."""

from __future__ import annotations

import hmac
from datetime import datetime

import pyotp
from flask import current_app

from passport.security.crypto import TOTP_SECRETS
from passport.security.crypto import fernet_for

DIGITS = 6
STEP_SECONDS = 30
# RFC 6238 §5.2: accept one step either side, for clocks that drift a little.
ACCEPTED_DRIFT_STEPS = 1


def new_secret() -> str:
    """A random 160-bit base32 secret (RFC 4226 §4 recommends 160 bits)."""
    return pyotp.random_base32(length=32)


def encrypt_secret(secret: str) -> str:
    """The secret as stored: Fernet ciphertext under the TOTP secrets' own derived key."""
    return fernet_for(current_app, TOTP_SECRETS).encrypt(secret.encode("ascii")).decode("ascii")


def decrypt_secret(encrypted: str) -> str:
    """The secret back from its stored ciphertext."""
    return fernet_for(current_app, TOTP_SECRETS).decrypt(encrypted.encode("ascii")).decode("ascii")


def provisioning_uri(secret: str, account_name: str, issuer_name: str) -> str:
    """The ``otpauth://totp/...`` URI an authenticator app scans."""
    return pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS).provisioning_uri(
        name=account_name, issuer_name=issuer_name
    )


def time_step(moment: datetime) -> int:
    """The RFC 6238 counter of ``moment`` (whole 30-second steps since the epoch)."""
    return int(moment.timestamp()) // STEP_SECONDS


def normalise_code(code: str) -> str:
    """Digits only: people type spaces or dashes in the middle of codes."""
    return "".join(ch for ch in code if ch not in " -\t")


def matching_step(secret: str, code: str, now: datetime, last_used_step: int | None) -> int | None:
    """The step whose code equals ``code`` within the window and after ``last_used_step``."""
    code = normalise_code(code)
    if len(code) != DIGITS or not code.isascii() or not code.isdigit():
        return None
    otp = pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS)
    current = time_step(now)
    for step in range(current - ACCEPTED_DRIFT_STEPS, current + ACCEPTED_DRIFT_STEPS + 1):
        if last_used_step is not None and step <= last_used_step:
            continue  # a code is good once: a step already used (or older) is a replay
        if hmac.compare_digest(otp.generate_otp(step), code):
            return step
    return None
