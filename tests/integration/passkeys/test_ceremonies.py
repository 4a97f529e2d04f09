"""Passkey ceremonies end to end over HTTP, and every way they must fail."""

from __future__ import annotations

from datetime import timedelta

import time_machine
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from passport.accounts.models import User
from passport.audit.models import AuditEvent
from passport.database import utcnow
from passport.extensions import db
from passport.login.models import SSOSession
from passport.mfa.assurance import ACR_PHISHING_RESISTANT
from passport.passkeys.models import Passkey
from passport.passkeys.models import PasskeyUserHandle
from tests.factories import make_user
from tests.integration.passkeys.conftest import PAGE
from tests.integration.passkeys.conftest import csrf
from tests.integration.passkeys.conftest import passkey_sign_in
from tests.integration.passkeys.conftest import post_json
from tests.integration.passkeys.conftest import register
from tests.soft_authenticator import SoftAuthenticator


def events(name: str) -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.event == name)))


def fresh_client(app: Flask) -> FlaskClient:
    return app.test_client()


def test_register_then_sign_in_without_password(
    app: Flask, client: FlaskClient, authenticator: SoftAuthenticator
) -> None:
    user = make_user()
    response = register(client, user, authenticator)
    assert response.status_code == 200, response.get_json()
    passkey = db.session.scalar(select(Passkey).where(Passkey.user_id == user.id))
    assert passkey is not None
    assert passkey.name == "Mi celular"
    handle = db.session.get(PasskeyUserHandle, user.id)
    assert handle is not None
    assert user.dni.encode() not in handle.handle
    page = client.get(PAGE).get_data(as_text=True)
    assert "Mi celular" in page
    assert "Cerrar sesión" in page
    assert events("passkey.registered")

    browser = fresh_client(app)
    answer = passkey_sign_in(browser, authenticator)
    assert answer.status_code == 200, answer.get_json()
    assert answer.get_json()["redirect"]
    session = db.session.scalar(
        select(SSOSession).where(SSOSession.user_id == user.id).order_by(SSOSession.id.desc())
    )
    assert session is not None
    assert session.amr == ["swk", "user", "mfa"]
    assert session.acr == ACR_PHISHING_RESISTANT
    assert browser.get("/mi-cuenta").status_code == 200
    db.session.refresh(passkey)
    assert passkey.sign_count == 1
    assert passkey.last_used_at is not None
    assert events("passkey.used")


def test_wrong_origin_is_refused(
    app: Flask, client: FlaskClient, authenticator: SoftAuthenticator
) -> None:
    register(client, make_user(), authenticator)
    answer = passkey_sign_in(fresh_client(app), authenticator, origin="https://evil.example")
    assert answer.status_code == 400
    assert answer.get_json()["error"] == "failed"


def test_wrong_rp_id_is_refused(
    app: Flask, client: FlaskClient, authenticator: SoftAuthenticator
) -> None:
    register(client, make_user(), authenticator)
    answer = passkey_sign_in(fresh_client(app), authenticator, rp_id="evil.example")
    assert answer.status_code == 400
    assert answer.get_json()["error"] == "failed"


def test_registration_with_wrong_rp_id_is_refused(
    client: FlaskClient, authenticator: SoftAuthenticator
) -> None:
    user = make_user()
    response = register(client, user, authenticator, rp_id="evil.example")
    assert response.status_code == 400
    assert db.session.scalar(select(Passkey).where(Passkey.user_id == user.id)) is None


def test_missing_user_verification_is_refused(
    app: Flask, client: FlaskClient, authenticator: SoftAuthenticator
) -> None:
    user = make_user()
    assert register(client, user, authenticator, uv=False).status_code == 400
    register(client, user, authenticator)
    answer = passkey_sign_in(fresh_client(app), authenticator, uv=False)
    assert answer.status_code == 400
    db.session.refresh(user)
    assert user.failed_logins == 1  # a failed assertion counts toward the lockout


def test_a_replayed_challenge_is_refused(
    app: Flask, client: FlaskClient, authenticator: SoftAuthenticator
) -> None:
    register(client, make_user(), authenticator)
    browser = fresh_client(app)
    token = csrf(browser, "/ingresar")
    options = post_json(browser, "/ingresar/llave/opciones", token).get_json()
    credential = authenticator.get(options)
    assert (
        post_json(browser, "/ingresar/llave", token, {"credential": credential}).status_code == 200
    )
    replay = post_json(fresh_client(app), "/ingresar/llave", token, {"credential": credential})
    assert replay.status_code in (400, 403)
    again = fresh_client(app)
    replay = post_json(
        again, "/ingresar/llave", csrf(again, "/ingresar"), {"credential": credential}
    )
    assert replay.status_code == 400
    assert replay.get_json()["error"] == "expired"


def test_unknown_or_removed_credential_gets_the_spanish_message(
    app: Flask, client: FlaskClient, authenticator: SoftAuthenticator
) -> None:
    user = make_user()
    register(client, user, authenticator)
    passkey = db.session.scalar(select(Passkey).where(Passkey.user_id == user.id))
    assert passkey is not None
    token = csrf(client, PAGE)
    removed = client.post(f"{PAGE}/{passkey.id}/quitar", data={"csrf_token": token})
    assert removed.status_code == 303
    answer = passkey_sign_in(fresh_client(app), authenticator)
    assert answer.status_code == 400
    assert answer.get_json()["error"] == "unknown_credential"
    assert "ya no está registrada" in answer.get_json()["message"]
    assert events("passkey.removed")


def test_counter_regression_is_refused_and_audited(
    app: Flask, client: FlaskClient, authenticator: SoftAuthenticator
) -> None:
    register(client, make_user(), authenticator)
    assert passkey_sign_in(fresh_client(app), authenticator, sign_count=5).status_code == 200
    answer = passkey_sign_in(fresh_client(app), authenticator, sign_count=5)
    assert answer.status_code == 400
    assert answer.get_json()["error"] == "counter"
    assert events("passkey.counter_regression")


def test_authenticators_that_always_report_zero_are_accepted(
    app: Flask, client: FlaskClient
) -> None:
    authenticator = SoftAuthenticator("127.0.0.1", "http://127.0.0.1:5000", step=0)
    register(client, make_user(), authenticator)
    assert passkey_sign_in(fresh_client(app), authenticator).status_code == 200
    assert passkey_sign_in(fresh_client(app), authenticator).status_code == 200


def test_failed_assertions_lock_the_account(
    app: Flask, client: FlaskClient, authenticator: SoftAuthenticator
) -> None:
    user = make_user()
    register(client, user, authenticator)
    for _ in range(int(app.config["LOCKOUT_FAILURES"])):
        passkey_sign_in(fresh_client(app), authenticator, uv=False)
    answer = passkey_sign_in(fresh_client(app), authenticator)
    assert answer.status_code == 403
    assert answer.get_json()["error"] == "locked"
    db.session.refresh(user)
    assert user.locked_until is not None


def test_adding_a_passkey_needs_a_fresh_sign_in(
    app: Flask, client: FlaskClient, authenticator: SoftAuthenticator
) -> None:
    user = make_user()
    register(client, user, authenticator)
    with time_machine.travel(utcnow() + timedelta(minutes=10), tick=False):
        refused = post_json(client, f"{PAGE}/registro/opciones", csrf(client, PAGE))
        assert refused.status_code == 403
        assert refused.get_json()["error"] == "not_fresh"
        page = client.get(PAGE).get_data(as_text=True)
        assert "confirme su contraseña" in page


def test_hostile_bodies_never_500(app: Flask, client: FlaskClient) -> None:
    token = csrf(client, "/ingresar")
    for body in (None, {"credential": "x"}, {"credential": {"id": 1}}, {"credential": []}):
        answer = post_json(client, "/ingresar/llave", token, body)
        assert answer.status_code == 400, body


def test_rename_keeps_the_name_clean(client: FlaskClient, authenticator: SoftAuthenticator) -> None:
    user = make_user()
    register(client, user, authenticator)
    passkey = db.session.scalar(select(Passkey).where(Passkey.user_id == user.id))
    assert passkey is not None
    token = csrf(client, PAGE)
    client.post(
        f"{PAGE}/{passkey.id}/nombre", data={"csrf_token": token, "passkey_name": "  Mi  laptop "}
    )
    db.session.refresh(passkey)
    assert passkey.name == "Mi laptop"
    other = make_user()
    assert db.session.get(User, other.id) is not None


def test_the_sign_in_page_renders_one_csrf_token(client: FlaskClient) -> None:
    """A second (time-stamped) token would make two renders of the page differ, which the
    same-answer-for-every-refusal check (login/test_sign_in.py) must not see."""
    page = client.get("/ingresar").get_data(as_text=True)
    token = csrf(client, "/ingresar")
    assert 'id="passkey-login"' in page
    assert "data-csrf" not in page
    assert token
