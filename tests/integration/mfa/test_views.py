"""The second-factor pages: enrolment with a QR code, step-up, turning off, new codes."""

from __future__ import annotations

import re
from datetime import timedelta

import pyotp
import time_machine
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from passport.database import utcnow
from passport.extensions import db
from passport.login.models import SSOSession
from passport.mfa import services
from passport.mfa.assurance import ACR_MFA
from tests.factories import DEFAULT_PASSWORD
from tests.factories import make_user
from tests.helpers import csrf_token
from tests.helpers import post_form
from tests.integration.mfa.conftest import enrol
from tests.integration.mfa.conftest import password_step
from tests.integration.oidc.conftest import sign_in

SECRET_TEXT = re.compile(r'<p class="secret"[^>]*><code>([A-Z2-7 ]+)</code>')
PAGES = (
    "/mi-cuenta/doble-factor",
    "/mi-cuenta/verificar",
    "/mi-cuenta/doble-factor/desactivar",
    "/mi-cuenta/doble-factor/codigos",
)


def in_a_minute() -> time_machine.travel:
    return time_machine.travel(utcnow() + timedelta(seconds=61), tick=False)


def test_anonymous_visitors_are_sent_to_sign_in_and_back(app: Flask, client: FlaskClient) -> None:
    for path in PAGES:
        response = client.get(path + "?next=/mi-cuenta")
        assert response.status_code == 302, path
        assert response.headers["Location"].startswith("/ingresar?next="), path
        # A POST without the page's CSRF token never reaches the view.
        assert client.post(path).status_code == 400, path


def test_enrolment_shows_an_inline_qr_and_the_secret_then_recovery_codes_once(
    app: Flask, client: FlaskClient
) -> None:
    user = make_user()
    password_step(client, user.dni)
    page = client.get("/mi-cuenta/doble-factor?next=/admin/")
    body = page.get_data(as_text=True)
    assert page.headers["Cache-Control"] == "no-store"
    assert "<svg" in body
    assert "http" not in body.split("<svg", 1)[1].split("</svg>", 1)[0].replace(
        "http://www.w3.org", ""
    )
    secret = SECRET_TEXT.search(body).group(1).replace(" ", "")
    path = "/mi-cuenta/doble-factor?next=/admin/"
    wrong = post_form(client, path, code="123456", password=DEFAULT_PASSWORD)
    assert "El código no es correcto" in wrong.get_data(as_text=True)
    no_password = post_form(client, path, code=pyotp.TOTP(secret).now(), password="otra")
    assert "La contraseña actual no es correcta" in no_password.get_data(as_text=True)
    assert not services.user_has_totp(user.id)
    done = post_form(client, path, code=pyotp.TOTP(secret).now(), password=DEFAULT_PASSWORD)
    text = done.get_data(as_text=True)
    assert done.headers["Cache-Control"] == "no-store"
    codes = re.findall(r"<li><code>([0-9A-Z-]{11})</code></li>", text)
    assert len(codes) == 10
    assert 'href="/admin/"' in text
    assert services.user_has_totp(user.id)
    session = db.session.scalars(select(SSOSession)).one()
    db.session.refresh(session)
    assert session.amr == ["pwd", "otp"]
    assert session.acr == ACR_MFA
    # Enrolled: the page does not show the secret again.
    assert client.get("/mi-cuenta/doble-factor").status_code == 302


def test_enrolment_without_a_csrf_token_switches_nothing_on(
    app: Flask, client: FlaskClient
) -> None:
    user = make_user()
    password_step(client, user.dni)
    body = client.get("/mi-cuenta/doble-factor").get_data(as_text=True)
    secret = SECRET_TEXT.search(body).group(1).replace(" ", "")
    response = client.post(
        "/mi-cuenta/doble-factor",
        data={"code": pyotp.TOTP(secret).now(), "password": DEFAULT_PASSWORD},
    )
    assert response.status_code == 400
    assert not services.user_has_totp(user.id)


def test_step_up_adds_otp_to_the_session_and_follows_next(app: Flask, client: FlaskClient) -> None:
    user = make_user()
    secret, _ = enrol(user)
    sign_in(app, client, user, ["pwd"])
    wrong = post_form(client, "/mi-cuenta/verificar?next=/admin/", code="000000")
    assert 'role="alert"' in wrong.get_data(as_text=True)
    with in_a_minute():
        done = post_form(client, "/mi-cuenta/verificar?next=/admin/", code=pyotp.TOTP(secret).now())
    assert done.headers["Location"] == "/admin/"
    session = db.session.scalars(select(SSOSession)).one()
    db.session.refresh(session)
    assert "otp" in session.amr
    assert services.session_has_second_factor(session)


def test_step_up_without_totp_goes_to_enrolment(app: Flask, client: FlaskClient) -> None:
    user = make_user()
    sign_in(app, client, user, ["pwd"])
    response = client.get("/mi-cuenta/verificar?next=/admin/")
    assert response.headers["Location"] == "/mi-cuenta/doble-factor?next=/admin/"


def test_step_up_refuses_a_foreign_next(app: Flask, client: FlaskClient) -> None:
    user = make_user()
    secret, _ = enrol(user)
    sign_in(app, client, user, ["pwd"])
    with in_a_minute():
        done = post_form(
            client, "/mi-cuenta/verificar?next=https://evil.example/", code=pyotp.TOTP(secret).now()
        )
    assert done.headers["Location"] == "/mi-cuenta"


def test_turning_totp_off_needs_password_and_code(app: Flask, client: FlaskClient) -> None:
    user = make_user()
    secret, _ = enrol(user)
    sign_in(app, client, user, ["pwd", "otp"])
    path = "/mi-cuenta/doble-factor/desactivar"
    with in_a_minute():
        bad = post_form(client, path, password="otra-clave", code=pyotp.TOTP(secret).now())
        assert "La contraseña actual no es correcta" in bad.get_data(as_text=True)
        assert services.user_has_totp(user.id)
        no_csrf = client.post(
            path, data={"password": DEFAULT_PASSWORD, "code": pyotp.TOTP(secret).now()}
        )
        assert no_csrf.status_code == 400
        assert services.user_has_totp(user.id)
        done = post_form(client, path, password=DEFAULT_PASSWORD, code=pyotp.TOTP(secret).now())
    assert done.headers["Location"].startswith("/mi-cuenta")
    assert not services.user_has_totp(user.id)


def test_new_recovery_codes_are_shown_once_after_a_code(app: Flask, client: FlaskClient) -> None:
    user = make_user()
    secret, old = enrol(user)
    sign_in(app, client, user, ["pwd", "otp"])
    path = "/mi-cuenta/doble-factor/codigos"
    refused = post_form(client, path, code="000000")
    assert "El código no es correcto" in refused.get_data(as_text=True)
    with in_a_minute():
        done = post_form(client, path, code=pyotp.TOTP(secret).now())
    codes = re.findall(r"<li><code>([0-9A-Z-]{11})</code></li>", done.get_data(as_text=True))
    assert len(codes) == 10
    assert set(codes).isdisjoint(old)


def test_the_welcome_page_links_to_mi_cuenta_when_signed_in(
    app: Flask, client: FlaskClient
) -> None:
    assert "/mi-cuenta" not in client.get("/").get_data(as_text=True)
    sign_in(app, client, make_user())
    assert 'href="/mi-cuenta"' in client.get("/").get_data(as_text=True)
    assert csrf_token(client, "/mi-cuenta")


def test_step_up_and_new_codes_refuse_a_post_without_csrf(app: Flask, client: FlaskClient) -> None:
    user = make_user()
    secret, _ = enrol(user)
    sign_in(app, client, user, ["pwd"])
    with in_a_minute():
        for path in ("/mi-cuenta/verificar", "/mi-cuenta/doble-factor/codigos"):
            assert client.post(path, data={"code": pyotp.TOTP(secret).now()}).status_code == 400
    session = db.session.scalars(select(SSOSession)).one()
    db.session.refresh(session)
    assert session.amr == ["pwd"]


def test_wrong_step_up_codes_lock_the_account(app: Flask, client: FlaskClient) -> None:
    app.config["LOCKOUT_FAILURES"] = 2
    try:
        user = make_user()
        secret, _ = enrol(user)
        sign_in(app, client, user, ["pwd"])
        post_form(client, "/mi-cuenta/verificar", code="000000")
        locked = post_form(client, "/mi-cuenta/verificar", code="000001")
        assert "bloqueada" in locked.get_data(as_text=True)
        # Still within the 60-second lock, with a fresh, correct code.
        with time_machine.travel(utcnow() + timedelta(seconds=31), tick=False):
            still = post_form(client, "/mi-cuenta/verificar", code=pyotp.TOTP(secret).now())
        assert "bloqueada" in still.get_data(as_text=True)
    finally:
        app.config["LOCKOUT_FAILURES"] = 5


def test_an_oversized_or_strange_code_gets_a_message_not_an_error(
    app: Flask, client: FlaskClient
) -> None:
    user = make_user()
    enrol(user)
    sign_in(app, client, user, ["pwd"])
    # Longer than the input's maxlength (32): a short 400 that does not repeat it.
    long = post_form(client, "/mi-cuenta/verificar", code="9" * 500)
    assert long.status_code == 400
    assert "Los datos enviados son demasiado largos" in long.get_data(as_text=True)
    assert "9" * 500 not in long.get_data(as_text=True)
    odd = post_form(client, "/mi-cuenta/verificar", code="١٢٣٤٥٦")
    assert odd.status_code == 200
    assert "El código no es correcto" in odd.get_data(as_text=True)
