"""Per-IP throttling of the sign-in form: 429 in Spanish, trusted networks, Redis, proxies."""

from __future__ import annotations

import secrets
from typing import Any

import pytest
import redis
from flask import Flask
from flask.testing import FlaskClient

from passport.extensions import db
from tests.factories import DEFAULT_PASSWORD
from tests.factories import make_user
from tests.helpers import sign_in

REDIS_URL = "redis://127.0.0.1:6379/15"


def post_sign_in(client: FlaskClient, dni: str, address: str, **extra: Any) -> int:
    response = sign_in(client, dni, "WrongPass1", environ_base={"REMOTE_ADDR": address}, **extra)
    return response.status_code


def random_address(prefix: str = "198.51.100") -> str:
    return f"{prefix}.{secrets.randbelow(250) + 1}"


def test_too_many_posts_from_one_address_get_a_spanish_429(fresh_app_factory) -> None:
    app = fresh_app_factory(LOGIN_RATE_LIMIT="3 per minute", LOCKOUT_FAILURES=100)
    client = app.test_client()
    address = random_address()
    with app.app_context():
        dni = make_user().dni
        codes = [post_sign_in(client, dni, address) for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    response = sign_in(client, dni, "x", environ_base={"REMOTE_ADDR": address})
    assert response.status_code == 429
    page = response.get_data(as_text=True)
    assert "Demasiados intentos" in page
    assert '<html lang="es">' in page
    assert int(response.headers["Retry-After"]) > 0


def test_showing_the_form_is_not_throttled(fresh_app_factory) -> None:
    app = fresh_app_factory(LOGIN_RATE_LIMIT="2 per minute")
    client = app.test_client()
    for _ in range(5):
        assert client.get("/ingresar").status_code == 200


def test_throttling_never_locks_the_account(fresh_app_factory) -> None:
    app = fresh_app_factory(LOGIN_RATE_LIMIT="2 per minute", LOCKOUT_FAILURES=3)
    client = app.test_client()
    address = random_address()
    with app.app_context():
        user = make_user()
        for _ in range(6):
            post_sign_in(client, user.dni, address)
        db.session.refresh(user)
        assert user.failed_logins == 2
        assert user.locked_until is None
        # The owner, from another address (e.g. a phone), still gets in. Another range, so
        # the draw cannot repeat the throttled address (1 in 250 made this test flaky).
        phone = random_address("203.0.113")
        response = sign_in(client, user.dni, DEFAULT_PASSWORD, environ_base={"REMOTE_ADDR": phone})
        assert response.status_code == 302


def test_a_trusted_network_is_not_limited_at_the_same_count(fresh_app_factory) -> None:
    app = fresh_app_factory(
        LOGIN_RATE_LIMIT="3 per minute",
        TRUSTED_RATE_LIMIT="100 per minute",
        TRUSTED_NETWORKS=("10.20.0.0/16",),
        LOCKOUT_FAILURES=100,
    )
    client = app.test_client()
    with app.app_context():
        user = make_user()
        school = [post_sign_in(client, user.dni, "10.20.3.4") for _ in range(5)]
        elsewhere = [post_sign_in(client, user.dni, random_address()) for _ in range(1)]
    assert 429 not in school
    assert elsewhere == [200]


def test_other_addresses_keep_their_own_budget(fresh_app_factory) -> None:
    app = fresh_app_factory(LOGIN_RATE_LIMIT="2 per minute", LOCKOUT_FAILURES=100)
    client = app.test_client()
    with app.app_context():
        user = make_user()
        first, second = random_address("203.0.113"), random_address("192.0.2")
        assert [post_sign_in(client, user.dni, first) for _ in range(3)][-1] == 429
        assert post_sign_in(client, user.dni, second) == 200


def test_x_forwarded_for_is_ignored_without_trusted_proxies(fresh_app_factory) -> None:
    app = fresh_app_factory(LOGIN_RATE_LIMIT="2 per minute", LOCKOUT_FAILURES=100)
    client = app.test_client()
    address = random_address()
    with app.app_context():
        user = make_user()
        codes = [
            post_sign_in(
                client, user.dni, address, headers={"X-Forwarded-For": random_address("192.0.2")}
            )
            for _ in range(3)
        ]
    assert codes[-1] == 429  # a client cannot pick a fresh address per request


def test_x_forwarded_for_names_the_client_behind_one_trusted_proxy(fresh_app_factory) -> None:
    app = fresh_app_factory(
        LOGIN_RATE_LIMIT="2 per minute", LOCKOUT_FAILURES=100, TRUSTED_PROXY_COUNT=1
    )
    client = app.test_client()
    proxy = "127.0.0.1"
    with app.app_context():
        user = make_user()
        for _ in range(3):
            last = post_sign_in(
                client, user.dni, proxy, headers={"X-Forwarded-For": random_address("192.0.2")}
            )
        assert last == 200  # three different clients behind one proxy
        spoofed = "1.2.3.4, " + "203.0.113.9"
        codes = [
            post_sign_in(client, user.dni, proxy, headers={"X-Forwarded-For": spoofed})
            for _ in range(3)
        ]
        assert codes[-1] == 429  # only the hop the proxy added counts


@pytest.fixture
def redis_prefix() -> Any:
    """A key namespace of this test in the shared Redis, removed afterwards."""
    prefix = f"passport-test-{secrets.token_hex(4)}"
    yield prefix
    connection = redis.Redis.from_url(REDIS_URL)
    for key in connection.scan_iter(f"{prefix}*"):
        connection.delete(key)


def test_two_app_instances_share_one_count_in_redis(fresh_app_factory, redis_prefix) -> None:
    settings = {
        "REDIS_URL": REDIS_URL,
        "RATELIMIT_STORAGE_OPTIONS": {"key_prefix": redis_prefix},
        "LOGIN_RATE_LIMIT": "4 per minute",
        "LOCKOUT_FAILURES": 100,
    }
    address = random_address()
    first = fresh_app_factory(**settings)
    with first.app_context():
        dni = make_user().dni
        assert [post_sign_in(first.test_client(), dni, address) for _ in range(2)] == [200, 200]
    # A second worker: building it re-binds the limiter to a brand-new Redis connection, so
    # only the shared store can remember the first worker's two hits.
    second = fresh_app_factory(**settings)
    with second.app_context():
        codes = [post_sign_in(second.test_client(), dni, address) for _ in range(3)]
    assert codes == [200, 200, 429]
    keys = list(redis.Redis.from_url(REDIS_URL).scan_iter(f"{redis_prefix}*"))
    assert keys


def test_without_redis_a_new_instance_starts_counting_afresh(fresh_app_factory) -> None:
    settings = {"LOGIN_RATE_LIMIT": "2 per minute", "LOCKOUT_FAILURES": 100}
    address = random_address()
    first = fresh_app_factory(**settings)
    with first.app_context():
        dni = make_user().dni
        for _ in range(2):
            post_sign_in(first.test_client(), dni, address)
    second = fresh_app_factory(**settings)
    with second.app_context():
        assert post_sign_in(second.test_client(), dni, address) == 200


def test_the_app_fixture_is_back_in_process(app: Flask) -> None:
    from passport.extensions import limiter

    assert type(limiter.storage).__name__ == "MemoryStorage"


def test_the_audio_captcha_is_throttled_per_address(fresh_app_factory) -> None:
    app = fresh_app_factory(CAPTCHA_AUDIO_RATE_LIMIT="2 per minute")
    client = app.test_client()
    address = {"REMOTE_ADDR": random_address()}
    codes = [client.get("/captcha/audio.wav", environ_base=address).status_code for _ in range(3)]
    assert codes == [200, 200, 429]
