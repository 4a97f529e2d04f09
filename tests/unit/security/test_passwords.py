"""Argon2id hashing with parameters from the settings, and the rehash signal."""

from __future__ import annotations

import os
import threading
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


def test_a_hash_of_the_former_defaults_verifies_and_is_rehashed_under_the_new_ones() -> None:
    from config import BaseConfig

    with hashing_app(time_cost=3, memory_kib=65536, parallelism=4).app_context():
        former = hash_password("Kusi8Wayra")
    defaults = (
        BaseConfig.ARGON2_TIME_COST,
        BaseConfig.ARGON2_MEMORY_COST_KIB,
        BaseConfig.ARGON2_PARALLELISM,
    )
    assert defaults == (2, 19456, 1)
    with hashing_app(*defaults).app_context():
        assert verify_password(former, "Kusi8Wayra")
        assert needs_rehash(former)
        current = hash_password("Kusi8Wayra")
        assert "m=19456,t=2,p=1" in current
        assert not needs_rehash(current)


class SlowHasher:
    """A stand-in for Argon2 that holds each call until the test opens the gate."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.running = 0
        self.most_at_once = 0
        self.entered = threading.Semaphore(0)
        self.gate = threading.Event()

    def _work(self) -> None:
        with self.lock:
            self.running += 1
            self.most_at_once = max(self.most_at_once, self.running)
        self.entered.release()
        assert self.gate.wait(timeout=30)
        with self.lock:
            self.running -= 1

    def verify(self, stored: str, password: str) -> bool:
        self._work()
        return stored == "stored:" + password

    def hash(self, password: str) -> str:
        self._work()
        return "stored:" + password


@pytest.mark.parametrize("slots", [1, 2])
def test_at_most_the_configured_number_of_hashes_run_at_once(slots: int) -> None:
    app = hashing_app()
    app.config["PASSWORD_HASH_CONCURRENCY"] = slots
    slow = SlowHasher()
    app.extensions["passport.password_hasher"] = slow
    results: list[bool] = []

    def sign_in(index: int) -> None:
        with app.app_context():
            if index % 2:
                results.append(verify_password("stored:Kusi8Wayra", "Kusi8Wayra"))
            else:
                results.append(hash_password("Kusi8Wayra") == "stored:Kusi8Wayra")

    threads = [threading.Thread(target=sign_in, args=(index,)) for index in range(6)]
    for thread in threads:
        thread.start()
    try:
        for _ in range(slots):  # the first ones get in...
            assert slow.entered.acquire(timeout=30)
        assert not slow.entered.acquire(timeout=0.3)  # ...and the rest wait for a slot
        assert slow.running == slots
    finally:
        slow.gate.set()
        for thread in threads:
            thread.join(timeout=30)
    assert results == [True] * 6  # every queued sign-in was served
    assert slow.most_at_once == slots


def test_the_bound_defaults_to_the_cpus_available_to_the_process() -> None:
    from passport.security.passwords import available_cpus
    from passport.security.passwords import hashing_slots

    app = hashing_app()
    app.config["PASSWORD_HASH_CONCURRENCY"] = 0
    slow = SlowHasher()
    app.extensions["passport.password_hasher"] = slow
    with app.app_context():
        slots = hashing_slots()
    taken = 0
    while slots.acquire(blocking=False):
        taken += 1
    assert taken == available_cpus() >= 1


def test_serve_shares_the_cpus_among_its_workers(monkeypatch: pytest.MonkeyPatch) -> None:
    from passport import serving

    monkeypatch.setattr("passport.security.passwords.available_cpus", lambda: 4)
    monkeypatch.delenv(serving.HASH_CONCURRENCY_VARIABLE, raising=False)
    serving.share_hashing_cpus(2)
    assert os.environ[serving.HASH_CONCURRENCY_VARIABLE] == "2"
    monkeypatch.delenv(serving.HASH_CONCURRENCY_VARIABLE)
    serving.share_hashing_cpus(8)
    assert os.environ[serving.HASH_CONCURRENCY_VARIABLE] == "1"
    monkeypatch.setenv(serving.HASH_CONCURRENCY_VARIABLE, "3")  # the operator's choice stays
    serving.share_hashing_cpus(2)
    assert os.environ[serving.HASH_CONCURRENCY_VARIABLE] == "3"
