"""Signing in with DNI, password and CAPTCHA: the Passport 4.0 screen."""

from __future__ import annotations

import re

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from passport.accounts.models import User
from passport.accounts.models import UserStatus
from passport.audit.models import AuditEvent
from passport.extensions import db
from passport.login.models import SSOSession
from passport.security.passwords import needs_rehash
from tests.factories import DEFAULT_PASSWORD
from tests.factories import make_user
from tests.helpers import CAPTCHA
from tests.helpers import csrf_token
from tests.helpers import sign_in
from tests.integration.login.conftest import body_without_noise

GENERIC = "Usuario o contraseña incorrectos."


def events(name: str) -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.event == name)))


def test_the_sign_in_page_shows_the_passport_screen(client: FlaskClient) -> None:
    page = client.get("/ingresar").get_data(as_text=True)
    assert "Ingrese sus credenciales para acceder al sistema PASSPORT" in page
    for text in ("Usuario", "Contraseña", "CAPTCHA", "Iniciar sesión >>"):
        assert text in page
    assert 'href="/olvide-contrasena"' in page
    assert "¿Olvidaste la contraseña?" in page
    assert re.search(r"© Derechos reservados \d{4} - MINEDU - Passport versión 4\.0", page)
    assert '<html lang="es">' in page


def test_the_form_has_the_field_names_outside_tools_rely_on(client: FlaskClient) -> None:
    page = client.get("/ingresar").get_data(as_text=True)
    assert '<form method="post"' in page
    for name in ("username", "password", "captcha", "csrf_token"):
        assert f'name="{name}"' in page
    assert '<label for="username">' in page
    assert 'id="username"' in page


def test_the_captcha_field_is_absent_when_the_captcha_is_off(fresh_app_factory) -> None:
    app = fresh_app_factory(CAPTCHA_ENABLED=False)
    page = app.test_client().get("/ingresar").get_data(as_text=True)
    assert 'name="captcha"' not in page
    assert 'name="username"' in page


def test_a_correct_sign_in_starts_an_sso_session(client: FlaskClient) -> None:
    user = make_user()
    response = sign_in(client, user.dni, DEFAULT_PASSWORD)
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    cookie = next(c for c in response.headers.getlist("Set-Cookie") if "passport_sso=" in c)
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert "Secure" not in cookie  # loopback issuer in tests
    session = db.session.scalars(select(SSOSession)).one()
    assert session.user_id == user.id
    assert session.amr == ["pwd"]
    assert session.ended_at is None
    welcome = client.get("/").get_data(as_text=True)
    assert "Sesión iniciada como Rosa Elena Quispe Huamán." in welcome
    assert "Cerrar sesión" in welcome
    assert len(events("login_succeeded")) == 1


def test_the_cookie_holds_no_database_value(client: FlaskClient) -> None:
    user = make_user()
    response = sign_in(client, user.dni, DEFAULT_PASSWORD)
    cookie = next(c for c in response.headers.getlist("Set-Cookie") if "passport_sso=" in c)
    session = db.session.scalars(select(SSOSession)).one()
    assert session.token_hash not in cookie
    assert session.sid not in cookie


def test_a_wrong_captcha_is_rejected_before_the_password_is_checked(
    client: FlaskClient,
) -> None:
    user = make_user()
    response = sign_in(client, user.dni, "WrongPass1", captcha="ZZZZZ")
    page = response.get_data(as_text=True)
    assert "El código de la imagen no es correcto" in page
    assert GENERIC not in page
    db.session.refresh(user)
    assert user.failed_logins == 0
    assert events("login_failed") == []
    assert [e.subject_dni for e in events("captcha_failed")] == [user.dni]


def test_a_wrong_captcha_with_the_right_password_does_not_sign_in(client: FlaskClient) -> None:
    user = make_user()
    response = sign_in(client, user.dni, DEFAULT_PASSWORD, captcha="ZZZZZ")
    assert response.status_code == 200
    assert db.session.scalars(select(SSOSession)).all() == []


def test_a_missing_captcha_is_a_wrong_captcha(client: FlaskClient) -> None:
    user = make_user()
    response = sign_in(client, user.dni, DEFAULT_PASSWORD, captcha=None)
    assert "El código de la imagen no es correcto" in response.get_data(as_text=True)
    assert db.session.scalars(select(SSOSession)).all() == []


def test_the_captcha_answer_is_case_insensitive_on_the_form(client: FlaskClient) -> None:
    user = make_user()
    assert sign_in(client, user.dni, DEFAULT_PASSWORD, captcha="k7mpx").status_code == 302


def test_a_replayed_session_cookie_cannot_reuse_a_solved_captcha(client: FlaskClient) -> None:
    user = make_user()
    token = csrf_token(client)
    old_cookie = client.get_cookie("passport_session")
    assert old_cookie is not None
    form = {"csrf_token": token, "username": user.dni, "captcha": CAPTCHA}
    first = client.post("/ingresar", data={**form, "password": "WrongPass1"})
    assert GENERIC in first.get_data(as_text=True)
    # An attacker who kept the earlier cookie (challenge solved once) tries again with it.
    client.set_cookie("passport_session", old_cookie.value)
    second = client.post("/ingresar", data={**form, "password": DEFAULT_PASSWORD})
    assert "El código de la imagen no es correcto" in second.get_data(as_text=True)
    assert db.session.scalars(select(SSOSession)).all() == []


def test_unknown_dni_and_wrong_password_look_the_same(client: FlaskClient) -> None:
    user = make_user()
    wrong_password = sign_in(client, user.dni, "WrongPass1")
    unknown = sign_in(client, "87654321", "WrongPass1")
    assert wrong_password.status_code == unknown.status_code == 200
    assert GENERIC in wrong_password.get_data(as_text=True)
    assert GENERIC in unknown.get_data(as_text=True)
    assert body_without_noise(wrong_password) == body_without_noise(unknown)
    sizes = len(wrong_password.data), len(unknown.data)
    assert abs(sizes[0] - sizes[1]) < 0.1 * max(sizes)
    reasons = [e.details["reason"] for e in events("login_failed")]
    assert sorted(reasons) == ["bad_password", "unknown_user"]


def test_pending_disabled_and_locked_accounts_get_the_same_message(
    client: FlaskClient,
) -> None:
    from datetime import timedelta

    from passport.database import utcnow

    pending = make_user(password=None)
    disabled = make_user(status=UserStatus.DISABLED)
    locked = make_user(locked_until=utcnow() + timedelta(minutes=5))
    reference = body_without_noise(sign_in(client, "87654321", DEFAULT_PASSWORD))
    for user in (pending, disabled, locked):
        response = sign_in(client, user.dni, DEFAULT_PASSWORD)
        assert response.status_code == 200
        assert body_without_noise(response) == reference
    reasons = sorted(e.details["reason"] for e in events("login_failed"))
    assert reasons == ["disabled", "locked", "pending", "unknown_user"]
    assert db.session.scalars(select(SSOSession)).all() == []


def test_the_audit_log_never_holds_the_password(client: FlaskClient) -> None:
    user = make_user()
    sign_in(client, user.dni, "SecretoMalo9")
    sign_in(client, user.dni, DEFAULT_PASSWORD)
    for event in db.session.scalars(select(AuditEvent)):
        assert "SecretoMalo9" not in repr(event.details)
        assert DEFAULT_PASSWORD not in repr(event.details)


def test_a_malformed_dni_is_refused_with_the_same_message(client: FlaskClient) -> None:
    response = sign_in(client, "1234567", DEFAULT_PASSWORD)
    assert GENERIC in response.get_data(as_text=True)


def test_an_overlong_username_is_a_short_400_not_a_crash_nor_an_echo(client: FlaskClient) -> None:
    # No page of ours sends more than the input's maxlength (8): refused before any work.
    response = sign_in(client, "1" * 500, DEFAULT_PASSWORD)
    assert response.status_code == 400
    assert "Los datos enviados son demasiado largos" in response.get_data(as_text=True)
    assert "1" * 500 not in response.get_data(as_text=True)


def test_a_hash_with_old_parameters_is_upgraded_on_sign_in(client: FlaskClient) -> None:
    from argon2 import PasswordHasher

    old = PasswordHasher(time_cost=1, memory_cost=512, parallelism=1).hash(DEFAULT_PASSWORD)
    user = make_user()
    user.password_hash = old
    db.session.commit()
    assert needs_rehash(old)
    assert sign_in(client, user.dni, DEFAULT_PASSWORD).status_code == 302
    db.session.refresh(user)
    assert user.password_hash != old
    assert not needs_rehash(user.password_hash)


def test_a_signed_in_browser_is_sent_from_the_form_to_the_welcome_page(
    client: FlaskClient,
) -> None:
    user = make_user()
    sign_in(client, user.dni, DEFAULT_PASSWORD)
    response = client.get("/ingresar")
    assert response.status_code == 302
    assert response.headers["Location"] == "/"


def test_signing_in_again_replaces_the_browser_session(client: FlaskClient) -> None:
    first_user = make_user()
    second_user = make_user()
    sign_in(client, first_user.dni, DEFAULT_PASSWORD)
    client.get("/")
    # Log in as someone else from the same browser (e.g. a shared school computer).
    client.post("/salir", data={"csrf_token": csrf_token(client, "/")})
    sign_in(client, second_user.dni, DEFAULT_PASSWORD)
    live = db.session.scalars(select(SSOSession).where(SSOSession.ended_at.is_(None))).all()
    assert [s.user_id for s in live] == [second_user.id]


def test_the_user_row_is_untouched_by_a_refused_captcha(app: Flask, client: FlaskClient) -> None:
    user = make_user()
    before = db.session.get(User, user.id)
    assert before is not None
    sign_in(client, user.dni, "WrongPass1", captcha="ZZZZZ")
    db.session.expire_all()
    after = db.session.get(User, user.id)
    assert after is not None
    assert after.last_failed_login_at is None
