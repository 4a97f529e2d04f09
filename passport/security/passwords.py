"""Argon2id password hashing with parameters from config, and transparent rehash."""

from __future__ import annotations

import contextlib
import unicodedata

from argon2 import PasswordHasher
from argon2 import Type
from argon2.exceptions import InvalidHashError
from argon2.exceptions import VerificationError
from flask import current_app

# A typed password longer than this is refused by the forms before hashing (Argon2's cost
# grows with the length too).
MAX_PASSWORD_LENGTH = 128

# Verifying against this dummy hash when no account matches keeps the response time of an
# unknown DNI close to that of a wrong password (no timing oracle for existence).
_DUMMY_PASSWORD = "not-a-real-password"  # noqa: S105


def password_hasher() -> PasswordHasher:
    """The app's hasher, built once from the ARGON2_* settings."""
    hasher = current_app.extensions.get("passport.password_hasher")
    if hasher is None:
        config = current_app.config
        hasher = PasswordHasher(
            time_cost=config["ARGON2_TIME_COST"],
            memory_cost=config["ARGON2_MEMORY_COST_KIB"],
            parallelism=config["ARGON2_PARALLELISM"],
            type=Type.ID,
        )
        current_app.extensions["passport.password_hasher"] = hasher
    return hasher


def normalize(password: str) -> str:
    """NFC form: "ñ" typed as one code point or as n + combining tilde is the same password."""
    return unicodedata.normalize("NFC", password)


def hash_password(password: str) -> str:
    """Hash ``password`` (NFC-normalised) with Argon2id."""
    return password_hasher().hash(normalize(password))


def verify_password(password_hash: str | None, password: str) -> bool:
    """Check ``password``; with no hash, burn the same time and answer False."""
    hasher = password_hasher()
    if not password_hash:
        dummy = current_app.extensions.get("passport.dummy_hash")
        if dummy is None:
            dummy = hasher.hash(_DUMMY_PASSWORD)
            current_app.extensions["passport.dummy_hash"] = dummy
        with contextlib.suppress(VerificationError):
            hasher.verify(dummy, password)
        return False
    try:
        return hasher.verify(password_hash, normalize(password))
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """True when the stored hash was made with other parameters than the current ones."""
    return password_hasher().check_needs_rehash(password_hash)
