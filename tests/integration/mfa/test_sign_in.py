"""Signing in with TOTP: the password alone opens no session; the second step resumes."""

from __future__ import annotations

from datetime import timedelta

import pyotp
import time_machine
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from passport.accounts.models import User
from passport.audit.models import AuditEvent
from passport.database import utcnow
from passport.extensions import db
from passport.login.models import SSOSession
from passport.mfa.assurance import ACR_MFA
from passport.mfa.assurance import ACR_ONE_FACTOR
from passport.mfa.models import SecondFactorChallenge
from tests.factories import make_user
from tests.helpers import csrf_token
from tests.integration.mfa.conftest import code_step
from tests.integration.mfa.conftest import enrol
from tests.integration.mfa.conftest import password_step
from tests.integration.oidc.conftest import authorize
from tests.integration.oidc.conftest import query_of
from tests.integration.oidc.conftest import redeem
from tests.integration.oidc.conftest import register_client
from tests.integration.oidc.conftest import verify_jwt


def sessions() -> list[SSOSession]:
    return list(db.session.scalars(select(SSOSession)))


def test_a_user_without_totp_signs_in_in_one_step_with_acr(app: Flask, client: FlaskClient) -> None:
    user = make_user()
    response = password_step(client, user.dni)
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    (session,) = sessions()
    assert session.amr == ["pwd"]
    assert session.acr == ACR_ONE_FACTOR


def test_the_password_alone_opens_no_session_for_a_totp_user(
    app: Flask, client: FlaskClient
) -> None:
    user = make_user()
    secret, _ = enrol(user)
    response = password_step(client, user.dni)
    assert response.status_code == 302
    assert response.headers["Location"] == "/ingresar/verificacion"
    assert sessions() == []
    page = client.get("/ingresar/verificacion")
    body = page.get_data(as_text=True)
    assert "Verificación en dos pasos" in body
    assert 'autocomplete="one-time-code"' in body
    with time_machine.travel(utcnow() + timedelta(seconds=31), tick=False):
        done = code_step(client, pyotp.TOTP(secret).now())
    assert done.status_code == 302
    assert done.headers["Location"] == "/"
    (session,) = sessions()
    assert session.amr == ["pwd", "otp"]
    assert session.acr == ACR_MFA
    events = [e.event for e in db.session.scalars(select(AuditEvent).order_by(AuditEvent.id))]
    assert events[-2:] == ["login_password_accepted", "login_succeeded"]


def test_a_recovery_code_completes_the_second_step_once(app: Flask, client: FlaskClient) -> None:
    user = make_user()
    _, codes = enrol(user)
    password_step(client, user.dni)
    assert code_step(client, codes[0]).headers["Location"] == "/"
    client.post("/salir", data={"csrf_token": csrf_token(client, "/")})
    password_step(client, user.dni)
    refused = code_step(client, codes[0])
    assert refused.status_code == 200
    assert "El código no es correcto" in refused.get_data(as_text=True)


def test_a_wrong_code_is_refused_and_counted_toward_the_lockout(
    app: Flask, client: FlaskClient
) -> None:
    user = make_user()
    enrol(user)
    password_step(client, user.dni)
    response = code_step(client, "000000")
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'role="alert"' in body
    assert 'aria-describedby="code-help form-error"' in body
    assert sessions() == []
    db.session.expire_all()
    assert db.session.get(User, user.id).failed_logins == 1
    failed = db.session.scalars(select(AuditEvent).where(AuditEvent.event == "login_failed")).one()
    assert failed.details == {"reason": "bad_second_factor"}


def test_the_password_step_does_not_forgive_earlier_wrong_codes(
    app: Flask, client: FlaskClient
) -> None:
    app.config["LOCKOUT_FAILURES"] = 3
    try:
        user = make_user()
        enrol(user)
        for _ in range(2):
            password_step(client, user.dni)
            code_step(client, "000000")
        password_step(client, user.dni)
        locked = code_step(client, "000000")
        assert "bloqueada" in locked.get_data(as_text=True)
        db.session.expire_all()
        assert db.session.get(User, user.id).locked_until is not None
        assert db.session.scalar(select(SecondFactorChallenge.id)) is None
    finally:
        app.config["LOCKOUT_FAILURES"] = 5


def test_an_expired_first_step_must_start_again(app: Flask, client: FlaskClient) -> None:
    user = make_user()
    secret, _ = enrol(user)
    password_step(client, user.dni)
    later = utcnow() + timedelta(minutes=6)
    with time_machine.travel(later, tick=False):
        page = client.get("/ingresar/verificacion")
        assert "venció" in page.get_data(as_text=True)
        assert code_step_without_form(client, pyotp.TOTP(secret).now()).status_code == 200
    assert sessions() == []


def code_step_without_form(client: FlaskClient, code: str):  # type: ignore[no-untyped-def]
    """Post a code with the sign-in page's CSRF token (the second-step form is gone)."""
    token = csrf_token(client, "/ingresar")
    return client.post("/ingresar/verificacion", data={"csrf_token": token, "code": code})


def test_the_first_step_state_cannot_be_replayed(app: Flask, client: FlaskClient) -> None:
    user = make_user()
    secret, _ = enrol(user)
    password_step(client, user.dni)
    saved = client.get_cookie(app.config["SESSION_COOKIE_NAME"])
    assert saved is not None
    with time_machine.travel(utcnow() + timedelta(seconds=31), tick=False):
        assert code_step(client, pyotp.TOTP(secret).now()).headers["Location"] == "/"
    client.post("/salir", data={"csrf_token": csrf_token(client, "/")})
    # An attacker restores the browser state saved between the two steps.
    client.set_cookie(app.config["SESSION_COOKIE_NAME"], saved.value)
    with time_machine.travel(utcnow() + timedelta(seconds=61), tick=False):
        replay = code_step_without_form(client, pyotp.TOTP(secret).now())
    assert "venció" in replay.get_data(as_text=True)
    assert [s.ended_at is not None for s in sessions()] == [True]


def test_the_second_step_without_a_csrf_token_is_refused(app: Flask, client: FlaskClient) -> None:
    user = make_user()
    secret, _ = enrol(user)
    password_step(client, user.dni)
    with time_machine.travel(utcnow() + timedelta(seconds=31), tick=False):
        response = client.post("/ingresar/verificacion", data={"code": pyotp.TOTP(secret).now()})
    assert response.status_code == 400
    assert sessions() == []


def test_next_is_followed_after_both_steps(app: Flask, client: FlaskClient) -> None:
    user = make_user()
    secret, _ = enrol(user)
    first = password_step(client, user.dni, path="/ingresar?next=/mi-cuenta")
    assert first.headers["Location"] == "/ingresar/verificacion"
    with time_machine.travel(utcnow() + timedelta(seconds=31), tick=False):
        done = code_step(client, pyotp.TOTP(secret).now())
    assert done.headers["Location"] == "/mi-cuenta"


def test_next_is_followed_in_one_step_and_a_foreign_next_is_ignored(
    app: Flask, client: FlaskClient
) -> None:
    user = make_user()
    assert (
        password_step(client, user.dni, path="/ingresar?next=/mi-cuenta").headers["Location"]
        == "/mi-cuenta"
    )
    client.post("/salir", data={"csrf_token": csrf_token(client, "/")})
    for hostile in ("https://evil.example/", "//evil.example/x", "/\\evil.example"):
        response = password_step(client, user.dni, path=f"/ingresar?next={hostile}")
        assert response.headers["Location"] == "/", hostile
        client.post("/salir", data={"csrf_token": csrf_token(client, "/")})


def test_the_oidc_request_resumes_after_the_second_step_with_amr_and_acr(
    app: Flask, client: FlaskClient
) -> None:
    rp = register_client(skip_consent=True)
    user = make_user()
    secret, _ = enrol(user)
    start = authorize(client, rp)
    login_path = start.headers["Location"]
    first = password_step(client, user.dni, path=login_path + "&next=/mi-cuenta")
    assert first.headers["Location"] == "/ingresar/verificacion"
    page = client.get("/ingresar/verificacion")
    assert "AYNI_SERVIDOR" in page.get_data(as_text=True)
    with time_machine.travel(utcnow() + timedelta(seconds=31), tick=False):
        done = code_step(client, pyotp.TOTP(secret).now())
    # The authorization request wins over next=, and its answer comes at once.
    assert done.headers["Location"].startswith(rp.redirect_uri + "?")
    query = query_of(done.headers["Location"])
    tokens = redeem(client, rp, query["code"]).get_json()
    claims = verify_jwt(client, tokens["id_token"]).claims
    assert claims["amr"] == ["pwd", "otp"]
    assert claims["acr"] == ACR_MFA
