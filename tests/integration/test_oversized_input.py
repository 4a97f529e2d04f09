"""Oversized form values: a short Spanish 400 before any work, the value never written back.

Every input carries ``maxlength``; a longer value comes from no page of ours. The tests post
100 KB (and one character too many) to each kind of form and check that the answer is the
short error page, that the value is not in it, and that nothing was done with it (no audit
event, no CAPTCHA consumed, no password changed).
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func
from sqlalchemy import select
from werkzeug.test import TestResponse

from passport.accounts.links import LinkPurpose
from passport.accounts.links import issue_link
from passport.audit.models import AuditEvent
from passport.extensions import db
from passport.security.forms import DEFAULT_MAX_LENGTH
from passport.security.forms import field_max_length
from passport.security.passwords import verify_password
from tests.factories import DEFAULT_PASSWORD
from tests.factories import make_user
from tests.helpers import CAPTCHA
from tests.helpers import csrf_token
from tests.integration.admin.conftest import enrol_totp
from tests.integration.oidc.conftest import sign_in

HUGE = "9" * 100_000
# The refusal is the error page: a few KB of layout, nothing of the value.
MAX_REFUSAL_BYTES = 8_000


pytestmark = pytest.mark.usefixtures("known_captcha")


def post(client: FlaskClient, path: str, form_page: str | None = None, **data: str) -> TestResponse:
    """Open the form's page, then post ``data``; no audit event may come of the POST."""
    token = csrf_token(client, form_page or path)
    before = audit_events()
    response = client.post(path, data={"csrf_token": token, **data})
    assert audit_events() == before
    return response


def audit_events() -> int:
    return db.session.scalar(select(func.count()).select_from(AuditEvent)) or 0


def assert_refused(response: TestResponse, value: str) -> None:
    """The short Spanish 400 page, without the value."""
    body = response.get_data(as_text=True)
    assert response.status_code == 400
    assert len(response.get_data()) < MAX_REFUSAL_BYTES
    assert "Los datos enviados son demasiado largos" in body
    assert value not in body


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("username", HUGE),
        ("username", "123456789"),  # one digit over the DNI's 8
        ("password", HUGE),
        ("password", "x" * 129),
        ("captcha", HUGE),
    ],
)
def test_sign_in_refuses_an_oversized_field_before_any_work(
    app: Flask, client: FlaskClient, field: str, value: str
) -> None:
    user = make_user()
    good = {"csrf_token": csrf_token(client, "/ingresar"), "username": user.dni}
    good.update(password=DEFAULT_PASSWORD, captcha=CAPTCHA)
    before = audit_events()
    assert_refused(client.post("/ingresar", data={**good, field: value}), value)
    assert audit_events() == before  # no failed sign-in, no CAPTCHA failure recorded
    # The CAPTCHA challenge was not even consumed: the same page still signs in.
    assert client.post("/ingresar", data=good).status_code == 302


def test_a_value_at_the_limit_is_judged_as_before(app: Flask, client: FlaskClient) -> None:
    user = make_user()
    data = {"csrf_token": csrf_token(client, "/ingresar"), "username": user.dni, "captcha": CAPTCHA}
    response = client.post("/ingresar", data={**data, "password": "x" * 128})
    assert response.status_code == 200
    assert "Usuario o contraseña incorrectos." in response.get_data(as_text=True)
    assert "x" * 128 not in response.get_data(as_text=True)  # a password is never echoed


@pytest.mark.parametrize("path", ["/generar-contrasena", "/olvide-contrasena"])
def test_link_requests_refuse_an_oversized_dni_or_captcha(
    app: Flask, client: FlaskClient, path: str
) -> None:
    assert_refused(post(client, path, dni=HUGE, captcha=CAPTCHA), HUGE)
    assert_refused(post(client, path, dni="12345678", captcha=HUGE), HUGE)


def test_the_password_link_refuses_an_oversized_password_and_stays_usable(
    app: Flask, client: FlaskClient
) -> None:
    user = make_user()
    link = issue_link(user, LinkPurpose.RESET)
    db.session.commit()
    path = urlsplit(link).path
    assert_refused(post(client, path, password=HUGE, password_confirmation=HUGE), HUGE)
    assert_refused(
        post(client, path, password="Nueva2024ok", password_confirmation="x" * 257), "x" * 257
    )
    db.session.refresh(user)
    assert verify_password(user.password_hash or "", DEFAULT_PASSWORD)
    assert client.get(path).status_code == 200


def test_mi_cuenta_refuses_an_oversized_password(app: Flask, client: FlaskClient) -> None:
    user = make_user()
    sign_in(app, client, user)
    response = post(
        client,
        "/mi-cuenta/contrasena",
        form_page="/mi-cuenta",
        current_password=HUGE,
        password="Nueva2024ok",
        password_confirmation="Nueva2024ok",
    )
    assert_refused(response, HUGE)
    revoke = post(client, "/mi-cuenta/aplicaciones/revocar", "/mi-cuenta", client_id=HUGE)
    assert_refused(revoke, HUGE)


def test_second_factor_forms_refuse_oversized_values(app: Flask, client: FlaskClient) -> None:
    user = make_user()
    sign_in(app, client, user)
    enrolment = post(client, "/mi-cuenta/doble-factor", password=HUGE, code="123456")
    assert_refused(enrolment, HUGE)
    assert_refused(post(client, "/mi-cuenta/doble-factor", password="x", code=HUGE), HUGE)


def test_the_admin_console_refuses_oversized_values(app: Flask, client: FlaskClient) -> None:
    admin = make_user(is_admin=True)
    enrol_totp(admin)
    sign_in(app, client, admin, ["pwd", "otp"])
    response = post(
        client,
        "/admin/usuarios/nuevo",
        dni="12345678",
        given_name=HUGE,
        family_name="Quispe",
        email="rosa@example.edu.pe",
    )
    assert_refused(response, HUGE)


def test_a_field_limit_is_its_length_validator_else_the_default(app: Flask) -> None:
    from passport.admin.client_forms import ClientForm
    from passport.login.forms import SignInForm

    with app.test_request_context("/"):
        sign_in_form = SignInForm()
        client_form = ClientForm()
    assert field_max_length(sign_in_form.username) == 8
    assert field_max_length(sign_in_form.password) == 128
    assert field_max_length(client_form.jwks) == 64000
    assert field_max_length(client_form.token_endpoint_auth_method) == DEFAULT_MAX_LENGTH


def test_console_inputs_carry_their_fields_limit_as_maxlength(
    app: Flask, client: FlaskClient
) -> None:
    admin = make_user(is_admin=True)
    enrol_totp(admin)
    sign_in(app, client, admin, ["pwd", "otp"])
    user_page = client.get("/admin/usuarios/nuevo").get_data(as_text=True)
    assert re.search(r'name="dni"[^>]*maxlength="8"', user_page)
    assert re.search(r'name="given_name"[^>]*maxlength="100"', user_page)
    assert re.search(r'name="email"[^>]*maxlength="254"', user_page)
    client_page = client.get("/admin/aplicaciones/nueva").get_data(as_text=True)
    assert re.search(r'<textarea[^>]*name="description"[^>]*maxlength="500"', client_page)
    assert re.search(r'name="name"[^>]*maxlength="120"', client_page)


def test_a_body_over_the_global_limit_is_a_413_on_every_route_but_the_import(
    app: Flask, client: FlaskClient
) -> None:
    """MAX_CONTENT_LENGTH (1 MiB) holds everywhere; the import route alone takes up to
    IMPORT_MAX_BYTES (passport/admin/imports.py), checked before anything reads the body."""
    body = {"username": "1" * (app.config["MAX_CONTENT_LENGTH"] + 10)}
    before = audit_events()
    for path in ("/ingresar", "/admin/usuarios/nuevo", "/token"):
        response = client.post(path, data=body)
        assert response.status_code == 413, path
    # Over the import's own limit, even the import route refuses, with the Spanish page.
    app.config["IMPORT_MAX_BYTES"] = 2 * 1024 * 1024
    try:
        response = client.post("/admin/usuarios/importar", data={"x": "1" * (2 * 1024 * 1024 + 10)})
    finally:
        app.config["IMPORT_MAX_BYTES"] = 16 * 1024 * 1024
    assert response.status_code == 413
    assert "supera el tamaño máximo de 2.0 MB" in response.get_data(as_text=True)
    # Within it, the import route reads the body (and, signed out, the guard refuses: 400
    # for the missing CSRF token or a redirect to sign in, never 413 or 500).
    response = client.post("/admin/usuarios/importar", data=body)
    assert response.status_code not in (413, 500)
    assert audit_events() == before
