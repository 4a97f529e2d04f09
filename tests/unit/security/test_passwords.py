"""Argon2id hashing with parameters from the settings, and the rehash signal."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask

from passport.security.passwords import hash_password
from passport.security.passwords import needs_rehash
from passport.security.passwords import verify_password


def hashing_app(time_cost: int = 1, memory_kib: int = 1024, parallelism: int = 1) -> Flask:
    app = Flask(__name__)
    app.config.update(
        ARGON2_TIME_COST=time_cost,
        ARGON2_MEMORY_COST_KIB=memory_kib,
        ARGON2_PARALLELISM=parallelism,
    )
    return app


@pytest.fixture
def app() -> Iterator[Flask]:
    app = hashing_app()
    with app.app_context():
        yield app


@pytest.mark.usefixtures("app")
def test_a_hash_is_argon2id_with_the_configured_parameters() -> None:
    stored = hash_password("Kusi8Wayra")
    assert stored.startswith("$argon2id$")
    assert "m=1024,t=1,p=1" in stored
    assert "Kusi8Wayra" not in stored


@pytest.mark.usefixtures("app")
def test_the_right_password_verifies_and_a_wrong_one_does_not() -> None:
    stored = hash_password("Kusi8Wayra")
    assert verify_password(stored, "Kusi8Wayra")
    assert not verify_password(stored, "kusi8wayra")
    assert not verify_password(stored, "")


@pytest.mark.usefixtures("app")
def test_two_hashes_of_one_password_differ_by_their_salt() -> None:
    assert hash_password("Kusi8Wayra") != hash_password("Kusi8Wayra")


@pytest.mark.usefixtures("app")
def test_no_hash_or_a_garbage_hash_never_verifies() -> None:
    assert not verify_password(None, "Kusi8Wayra")
    assert not verify_password("not-a-hash", "Kusi8Wayra")


@pytest.mark.usefixtures("app")
def test_non_ascii_passwords_round_trip() -> None:
    stored = hash_password("Contraseña8Ñ")
    assert verify_password(stored, "Contraseña8Ñ")
    assert not verify_password(stored, "Contrasena8N")


def test_a_hash_made_with_old_parameters_needs_a_rehash() -> None:
    with hashing_app(time_cost=1).app_context():
        old = hash_password("Kusi8Wayra")
        assert not needs_rehash(old)
    with hashing_app(time_cost=2).app_context():
        assert needs_rehash(old)
        assert verify_password(old, "Kusi8Wayra")  # still verifies, so it can be rehashed
        assert not needs_rehash(hash_password("Kusi8Wayra"))
    with hashing_app(memory_kib=2048).app_context():
        assert needs_rehash(old)


@pytest.mark.usefixtures("app")
def test_composed_and_decomposed_accents_are_the_same_password() -> None:
    composed = "Ñandú8Wayra"
    decomposed = "N\u0303andu\u03018Wayra"
    assert composed != decomposed
    assert verify_password(hash_password(composed), decomposed)
    assert verify_password(hash_password(decomposed), composed)
    assert not verify_password(hash_password(composed), "Nandu8Wayra")
