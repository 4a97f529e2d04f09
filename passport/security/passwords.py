"""Argon2id password hashing with parameters from config, and transparent rehash.

At most ``PASSWORD_HASH_CONCURRENCY`` hashes run at once in a process (default: the CPUs
available to it); the rest queue. Argon2 is CPU- and memory-bound: two hashes on one core take
twice as long each, so without the bound 32 concurrent sign-ins all finish late instead of
one after the other (issue 13).
"""

from __future__ import annotations

import contextlib
import os
import threading
import unicodedata
from collections.abc import Iterator

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


def available_cpus() -> int:
    """CPUs this process may run on (its affinity mask, e.g. under ``taskset``)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


def hashing_slots() -> threading.BoundedSemaphore:
    """The app's bound on concurrent hashes (``PASSWORD_HASH_CONCURRENCY``, 0 = CPUs)."""
    slots: threading.BoundedSemaphore | None = current_app.extensions.get("passport.hashing_slots")
    if slots is None:
        size = int(current_app.config.get("PASSWORD_HASH_CONCURRENCY") or 0) or available_cpus()
        slots = current_app.extensions.setdefault(
            "passport.hashing_slots", threading.BoundedSemaphore(size)
        )
    return slots


@contextlib.contextmanager
def hashing_slot() -> Iterator[None]:
    """Hold one of the slots while hashing; wait for one when all are taken."""
    slots = hashing_slots()
    with slots:
        yield


def normalize(password: str) -> str:
    """NFC form: "ñ" typed as one code point or as n + combining tilde is the same password."""
    return unicodedata.normalize("NFC", password)


def hash_password(password: str) -> str:
    """Hash ``password`` (NFC-normalised) with Argon2id."""
    hasher = password_hasher()
    with hashing_slot():
        return hasher.hash(normalize(password))


def verify_password(password_hash: str | None, password: str) -> bool:
    """Check ``password``; with no hash, burn the same time and answer False."""
    hasher = password_hasher()
    if not password_hash:
        dummy = current_app.extensions.get("passport.dummy_hash")
        if dummy is None:
            dummy = hash_password(_DUMMY_PASSWORD)
            current_app.extensions["passport.dummy_hash"] = dummy
        with contextlib.suppress(VerificationError), hashing_slot():
            hasher.verify(dummy, password)
        return False
    try:
        with hashing_slot():
            return hasher.verify(password_hash, normalize(password))
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """True when the stored hash was made with other parameters than the current ones."""
    return password_hasher().check_needs_rehash(password_hash)
