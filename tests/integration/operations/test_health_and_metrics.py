"""/healthz, /readyz, /metrics and the 503 answer when the database is down (CONTRACT.md)."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.exc import InterfaceError
from sqlalchemy.exc import OperationalError

from minedu_sso.settings import ConfigError
from passport.accounts.models import User
from passport.database import is_database_unavailable
from passport.database import utcnow
from passport.extensions import db
from tests.factories import DEFAULT_PASSWORD
from tests.factories import make_user
from tests.helpers import sign_in
from tests.integration.oidc.conftest import get_code
from tests.integration.oidc.conftest import pkce_pair
from tests.integration.oidc.conftest import redeem
from tests.integration.oidc.conftest import register_client
from tests.integration.oidc.conftest import sign_in as start_session
from tests.integration.operations.conftest import DEAD_POSTGRES_URL
from tests.integration.operations.conftest import PrivateRedis
from tests.integration.operations.conftest import metric_value
from tests.integration.operations.conftest import scrape


def ensure_signing_keys() -> None:
    from passport.oidc.keys import ensure_keys

    ensure_keys()


# --- /healthz and /readyz ------------------------------------------------------------------


def test_healthz_answers_without_touching_the_database(make_app: Any) -> None:
    app = make_app(DEAD_POSTGRES_URL)
    response = app.test_client().get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}


def test_readyz_is_200_when_database_and_signing_key_answer(
    app: Flask, client: FlaskClient
) -> None:
    ensure_signing_keys()
    response = client.get("/readyz")
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["failing"] == []
    assert body["checks"] == {"database": "ok", "redis": "not_configured", "signing_key": "ok"}
    assert response.headers["Cache-Control"] == "no-store"


def test_readyz_names_the_database_when_it_is_unreachable(make_app: Any) -> None:
    response = make_app(DEAD_POSTGRES_URL).test_client().get("/readyz")
    assert response.status_code == 503
    body = response.get_json()
    assert body["failing"] == ["database"]
    assert body["checks"]["database"] == "down"


def test_readyz_names_the_signing_key_when_none_is_active(app: Flask, client: FlaskClient) -> None:
    from passport.oidc.models import SigningKey

    ensure_signing_keys()
    # Every key only "next" (published, not yet signing): nothing can sign an ID token.
    db.session.execute(update(SigningKey).values(activates_at=utcnow() + timedelta(days=1)))
    db.session.commit()
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.get_json()["failing"] == ["signing_key"]
    assert response.get_json()["checks"]["signing_key"] == "missing"
    # The probe only reads: it did not create a key to make itself pass.
    assert db.session.scalar(sa.select(sa.func.count(SigningKey.id))) == 2


def test_readyz_names_a_signing_key_this_instance_cannot_decrypt(app: Flask, make_app: Any) -> None:
    ensure_signing_keys()
    other = make_app(KEY_ENCRYPTION_KEY="another-key-encryption-key-" + "y" * 20)
    response = other.test_client().get("/readyz")
    assert response.status_code == 503
    assert response.get_json()["checks"]["signing_key"] == "unreadable"


def test_redis_down_fails_readiness_and_the_metric_but_sign_in_keeps_throttling(
    app: Flask, make_app: Any, private_redis: PrivateRedis
) -> None:
    import redis

    ensure_signing_keys()
    passport = make_app(
        REDIS_URL=private_redis.url, LOGIN_RATE_LIMIT="3 per minute", LOCKOUT_FAILURES=100
    )
    client = passport.test_client()
    with passport.app_context():
        dni = make_user().dni
    assert client.get("/readyz").status_code == 200
    assert metric_value(scrape(client), "passport_redis_up") == 1
    wrong = {"environ_base": {"REMOTE_ADDR": "198.51.100.7"}}
    assert sign_in(client, dni, "WrongPass1", **wrong).status_code == 200
    assert redis.Redis.from_url(private_redis.url).keys("*"), "the count lives in Redis"

    private_redis.stop()
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.get_json()["failing"] == ["redis"]
    assert metric_value(scrape(client), "passport_redis_up") == 0
    # Sign-in still works, and per-IP throttling goes on in process memory.
    other = {"environ_base": {"REMOTE_ADDR": "198.51.100.8"}}
    codes = [sign_in(client, dni, "WrongPass1", **other).status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    good = sign_in(client, dni, DEFAULT_PASSWORD, environ_base={"REMOTE_ADDR": "192.0.2.9"})
    assert good.status_code == 302

    # Redis returns (same port, empty): readiness recovers and counting goes back to Redis
    # (Flask-Limiter re-checks its storage with a backoff of 1, 2, 4... seconds).
    private_redis.start()
    assert client.get("/readyz").status_code == 200
    store = redis.Redis.from_url(private_redis.url)
    deadline = time.monotonic() + 20
    while not store.keys("*") and time.monotonic() < deadline:
        sign_in(
            passport.test_client(), dni, "WrongPass1", environ_base={"REMOTE_ADDR": "198.51.100.9"}
        )
        time.sleep(0.5)
    assert store.keys("*"), "counts did not resume in Redis"


# --- /metrics ----------------------------------------------------------------------------


def test_metrics_answer_loopback_and_404_to_other_addresses(client: FlaskClient) -> None:
    assert client.get("/metrics").status_code == 200
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "::1"}).status_code == 200
    refused = client.get("/metrics", environ_base={"REMOTE_ADDR": "203.0.113.5"})
    assert refused.status_code == 404
    assert "passport_" not in refused.get_data(as_text=True)


def test_metrics_allow_list_comes_from_the_setting(make_app: Any) -> None:
    client = make_app(METRICS_ALLOW=("10.0.0.0/8",)).test_client()
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "10.20.30.40"}).status_code == 200
    assert client.get("/metrics").status_code == 404  # loopback is no longer listed


def test_a_malformed_metrics_allow_list_stops_start_up(make_app: Any) -> None:
    with pytest.raises(ConfigError, match="PASSPORT_METRICS_ALLOW"):
        make_app(METRICS_ALLOW=("not-a-network",))


def test_requests_sign_ins_lockouts_and_tokens_are_counted(app: Flask, make_app: Any) -> None:
    passport = make_app(LOCKOUT_FAILURES=2)
    client = passport.test_client()
    with passport.app_context():
        ensure_signing_keys()
        user = make_user()
        user_id, dni, victim = user.id, user.dni, make_user().dni
        rp = register_client(skip_consent=True)
    before = scrape(client)

    def delta(name: str, **labels: str) -> float:
        return metric_value(scrape(client), name, **labels) - metric_value(before, name, **labels)

    assert sign_in(client, dni, DEFAULT_PASSWORD).status_code == 302
    sign_in(passport.test_client(), dni, "x", captcha="WRONG")
    other = passport.test_client()
    for _ in range(3):  # two wrong passwords lock the account; the third finds it locked
        sign_in(other, victim, "WrongPass1")
    sign_in(other, "99999999", "WrongPass1")
    assert delta("passport_logins_total", outcome="success") == 1
    assert delta("passport_logins_total", outcome="captcha_failed") == 1
    assert delta("passport_logins_total", outcome="wrong_password") == 2
    assert delta("passport_logins_total", outcome="locked") == 1
    assert delta("passport_logins_total", outcome="unknown_user") == 1
    assert delta("passport_lockouts_total") == 1

    with passport.app_context():
        start_session(passport, client, db.session.get(User, user_id))
    verifier, challenge = pkce_pair()
    code = get_code(client, rp, code_challenge=challenge, code_challenge_method="S256")
    assert redeem(client, rp, code, code_verifier=verifier).status_code == 200
    assert redeem(client, rp, code, code_verifier=verifier).status_code == 400
    issued = {"grant_type": "authorization_code", "client_id": rp.client_id}
    assert delta("passport_tokens_issued_total", **issued) == 1
    assert delta("passport_token_errors_total", error="invalid_grant") == 1

    text = scrape(client)
    for name in ("passport_http_requests_total", "passport_http_request_duration_seconds_count"):
        labels = {"endpoint": "login.sign_in", "method": "POST", "status": "302"}
        assert metric_value(text, name, **labels) - metric_value(before, name, **labels) == 1
    assert metric_value(text, "passport_http_requests_total", endpoint="oidc.token", status="400")
    # Unknown URLs share one label value: the raw path never becomes a series.
    client.get("/no/such/page/12345")
    assert metric_value(scrape(client), "passport_http_requests_total", endpoint="none")
    assert "/no/such/page" not in scrape(client)


def test_queue_and_back_channel_gauges_are_read_at_scrape_time(
    app: Flask, client: FlaskClient
) -> None:
    from passport.accounts.models import OutgoingMail
    from passport.oidc.models import BackchannelDelivery

    user = make_user()
    rp = register_client(backchannel_logout_uri="https://ayni.example.gob.pe/bc")
    from passport.oidc.models import OAuthClient

    client_pk = db.session.scalar(
        sa.select(OAuthClient.id).where(OAuthClient.client_id == rp.client_id)
    )
    hour_ago = utcnow() - timedelta(hours=1)
    db.session.add_all(
        [
            OutgoingMail(user_id=user.id, kind="activation", created_at=hour_ago),
            OutgoingMail(user_id=user.id, kind="activation"),
            OutgoingMail(user_id=user.id, kind="activation", status="failed"),
            OutgoingMail(user_id=user.id, kind="activation", status="sent"),
        ]
    )
    now = utcnow()
    db.session.add_all(
        [
            BackchannelDelivery(client_pk=client_pk, uri="https://x", next_attempt_at=now),
            BackchannelDelivery(
                client_pk=client_pk, uri="https://x", next_attempt_at=now, gave_up_at=now
            ),
            BackchannelDelivery(
                client_pk=client_pk, uri="https://x", next_attempt_at=now, delivered_at=now
            ),
        ]
    )
    db.session.commit()
    text = scrape(client)
    assert metric_value(text, "passport_mail_queue_depth") == 2
    assert 3590 < metric_value(text, "passport_mail_queue_oldest_age_seconds") < 3700
    assert metric_value(text, "passport_mail_queue_failed") == 1
    assert metric_value(text, "passport_backchannel_pending") == 1
    assert metric_value(text, "passport_backchannel_failed") == 1
    assert metric_value(text, "passport_database_up") == 1
    assert "passport_db_pool_connections_in_use" in text
    assert "passport_redis_up" not in text  # no Redis configured


def test_metrics_still_answer_when_the_database_is_down(make_app: Any) -> None:
    text = scrape(make_app(DEAD_POSTGRES_URL).test_client())
    assert metric_value(text, "passport_database_up") == 0
    assert "passport_mail_queue_depth" not in text


# --- 503 when the database is down ------------------------------------------------------------


def test_database_errors_that_mean_unavailable() -> None:
    dbapi = Exception("connection refused")
    assert is_database_unavailable(OperationalError("SELECT 1", {}, dbapi))
    assert is_database_unavailable(InterfaceError("SELECT 1", {}, dbapi))
    assert not is_database_unavailable(IntegrityError("INSERT", {}, dbapi))
    assert not is_database_unavailable(ValueError("bug"))


def test_people_get_a_spanish_503_page_and_clients_json_when_the_database_is_down(
    make_app: Any,
) -> None:
    client = make_app(DEAD_POSTGRES_URL).test_client()
    page = client.get("/ingresar")
    assert page.status_code == 503
    assert page.headers["Retry-After"] == "10"
    html = page.get_data(as_text=True)
    assert "no está disponible" in html
    assert "Traceback" not in html
    assert "OperationalError" not in html
    token = client.post("/token", data={"grant_type": "authorization_code", "code": "x"})
    assert token.status_code == 503
    assert token.get_json()["error"] == "temporarily_unavailable"
    assert token.headers["Retry-After"] == "10"
    api = client.get("/api/v1/users/12345678", headers={"Authorization": "Bearer x"})
    assert api.status_code == 503
    assert api.is_json
    text = scrape(client)
    assert metric_value(text, "passport_token_errors_total", error="temporarily_unavailable")
    assert metric_value(text, "passport_database_unavailable_total") >= 3


def test_a_database_error_in_an_after_request_hook_is_a_503_too(make_app: Any) -> None:
    # As in production: an exception in an after-request hook is not re-raised to the test.
    app = make_app(PROPAGATE_EXCEPTIONS=False)

    @app.get("/_test_after_hook")
    def _view() -> str:
        return "ok"

    def failing_hook(response: Any) -> Any:
        raise OperationalError("SELECT 1", {}, Exception("server closed the connection"))

    app.after_request_funcs.setdefault(None, []).append(failing_hook)
    response = app.test_client().get("/_test_after_hook")
    assert response.status_code == 503


def test_other_errors_are_still_a_500(make_app: Any) -> None:
    app = make_app()

    @app.get("/_test_bug")
    def _view() -> str:
        raise IntegrityError("INSERT", {}, Exception("duplicate"))

    assert app.test_client().get("/_test_bug").status_code == 500


def test_second_factor_outcomes_are_counted(app: Flask, make_app: Any) -> None:
    import pyotp

    from tests.integration.mfa.conftest import code_step
    from tests.integration.mfa.conftest import enrol
    from tests.integration.mfa.conftest import password_step

    passport = make_app()
    with passport.app_context():
        user = make_user()
        dni = user.dni
        secret, _ = enrol(user)
    client = passport.test_client()
    before = scrape(client)

    def delta(outcome: str) -> float:
        now = metric_value(scrape(client), "passport_logins_total", outcome=outcome)
        return now - metric_value(before, "passport_logins_total", outcome=outcome)

    assert password_step(client, dni).status_code == 302
    assert delta("success") == 0  # the password alone is not a sign-in yet
    totp = pyotp.TOTP(secret)
    valid = {totp.at(time.time() + drift) for drift in (-30, 0, 30, 60)}
    code_step(client, next(c for c in ("000000", "111111", "222222") if c not in valid))
    assert delta("second_factor_failed") == 1
    # The next step's code: the current one was spent by the enrolment (a replay otherwise).
    next_code = pyotp.TOTP(secret).at(time.time() + 30)
    assert code_step(client, next_code).status_code == 302
    assert delta("success") == 1


def test_postgresql_connections_give_up_after_the_connect_timeout(make_app: Any) -> None:
    app = make_app(DEAD_POSTGRES_URL, DATABASE_CONNECT_TIMEOUT_SECONDS=3)
    assert app.config["SQLALCHEMY_ENGINE_OPTIONS"]["connect_args"]["connect_timeout"] == 3
    # psycopg's keyword: a new connection really carries it.
    with app.app_context():
        seen: dict[str, Any] = {}
        sa.event.listen(db.engine, "do_connect", lambda d, r, a, k: seen.update(k) or None)
        with pytest.raises(OperationalError):
            db.engine.connect()
    assert seen["connect_timeout"] == 3


def test_hostile_methods_and_paths_do_not_add_series(client: FlaskClient) -> None:
    for n in range(3):
        client.open(f"/ingresar/{n}", method=f"BREW{n}")
        client.open("/ingresar", method=f"PROPFIND{n}")
    text = scrape(client)
    assert "BREW" not in text
    assert "PROPFIND" not in text
    assert metric_value(text, "passport_http_requests_total", method="other") >= 6


def test_a_lockout_by_wrong_codes_of_a_signed_in_person_is_audited_and_counted(
    app: Flask, make_app: Any
) -> None:
    from passport.audit.models import AuditEvent
    from passport.audit.services import Actor
    from passport.mfa.errors import AccountLocked
    from passport.mfa.errors import InvalidCode
    from passport.mfa.services import check_signed_in_code
    from tests.integration.mfa.conftest import enrol

    passport = make_app(LOCKOUT_FAILURES=2)
    client = passport.test_client()
    before = metric_value(scrape(client), "passport_lockouts_total")
    with passport.app_context():
        user = make_user()
        enrol(user)
        info = Actor(ip_address="127.0.0.1")
        with pytest.raises(InvalidCode):
            check_signed_in_code(user, "not-a-code", info, "mfa.step_up")
        with pytest.raises(AccountLocked):
            check_signed_in_code(user, "not-a-code", info, "mfa.step_up")
        locked = db.session.scalars(
            sa.select(AuditEvent).where(
                AuditEvent.event == "account_locked", AuditEvent.subject_user_id == user.id
            )
        ).all()
    assert len(locked) == 1
    assert metric_value(scrape(client), "passport_lockouts_total") - before == 1
