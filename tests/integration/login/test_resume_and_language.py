"""Resuming /authorize after sign-in, the client's name, login_hint, ui_locales and English."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from dataclasses import field

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.factories import DEFAULT_PASSWORD
from tests.factories import make_user
from tests.helpers import sign_in


@dataclass
class FakePending:
    """What the oidc capability hands the login page (PendingAuthorization)."""

    client_name: str = "AYNI_SERVIDOR"
    login_hint: str | None = None
    ui_locales: list[str] = field(default_factory=list)
    resume_url: str = "/authorize/resume/abc123"
    redirect_uri: str = "http://127.0.0.1:5001/auth/callback"


@pytest.fixture
def pending(app: Flask) -> Iterator[dict[str, FakePending]]:
    """Register pending authorizations by id, restoring the real lookup afterwards."""
    requests: dict[str, FakePending] = {}
    key = "passport.pending_authorization"
    original = app.extensions.get(key)
    app.extensions[key] = requests.get
    try:
        yield requests
    finally:
        if original is None:
            app.extensions.pop(key, None)
        else:
            app.extensions[key] = original


def test_the_page_names_the_client_being_signed_into(
    client: FlaskClient, pending: dict[str, FakePending]
) -> None:
    pending["abc123"] = FakePending()
    page = client.get("/ingresar?authz=abc123").get_data(as_text=True)
    assert "Ingrese sus credenciales para acceder al sistema AYNI_SERVIDOR" in page
    assert 'action="/ingresar?authz=abc123"' in page


def test_an_unknown_authz_falls_back_to_the_default_name(
    client: FlaskClient, pending: dict[str, FakePending]
) -> None:
    page = client.get("/ingresar?authz=nope").get_data(as_text=True)
    assert "Ingrese sus credenciales para acceder al sistema PASSPORT" in page


def test_the_login_hint_prefills_the_dni(
    client: FlaskClient, pending: dict[str, FakePending]
) -> None:
    pending["abc123"] = FakePending(login_hint="12345678")
    page = client.get("/ingresar?authz=abc123").get_data(as_text=True)
    assert 'value="12345678"' in page


def test_a_login_hint_that_is_not_a_dni_is_ignored(
    client: FlaskClient, pending: dict[str, FakePending]
) -> None:
    pending["abc123"] = FakePending(login_hint='"><script>')
    page = client.get("/ingresar?authz=abc123").get_data(as_text=True)
    assert "<script>" not in page
    assert 'value=""' in page


def test_signing_in_resumes_the_authorization(
    client: FlaskClient, pending: dict[str, FakePending]
) -> None:
    pending["abc123"] = FakePending()
    user = make_user()
    response = sign_in(client, user.dni, DEFAULT_PASSWORD, path="/ingresar?authz=abc123")
    assert response.status_code == 302
    assert response.headers["Location"] == "/authorize/resume/abc123"


def test_a_foreign_resume_url_is_never_followed(
    client: FlaskClient, pending: dict[str, FakePending]
) -> None:
    pending["abc123"] = FakePending(resume_url="https://evil.example/steal")
    user = make_user()
    response = sign_in(client, user.dni, DEFAULT_PASSWORD, path="/ingresar?authz=abc123")
    assert response.headers["Location"] == "/"


def test_the_page_lets_the_form_end_at_the_client(
    client: FlaskClient, pending: dict[str, FakePending]
) -> None:
    pending["abc123"] = FakePending()
    csp = client.get("/ingresar?authz=abc123").headers["Content-Security-Policy"]
    assert "form-action 'self' http://127.0.0.1:5001" in csp


def test_accept_language_english_renders_the_page_in_english(client: FlaskClient) -> None:
    response = client.get("/ingresar", headers={"Accept-Language": "en-US,en;q=0.9"})
    page = response.get_data(as_text=True)
    assert '<html lang="en">' in page
    assert "Enter your credentials to access the PASSPORT system" in page
    assert "Sign in &gt;&gt;" in page or "Sign in >>" in page
    assert "Forgot your password?" in page
    assert "Ingrese sus credenciales" not in page


def test_spanish_is_the_default(client: FlaskClient) -> None:
    page = client.get("/ingresar", headers={"Accept-Language": "qu, fr"}).get_data(as_text=True)
    assert '<html lang="es">' in page
    assert "Ingrese sus credenciales" in page


def test_ui_locales_of_the_request_choose_english(
    client: FlaskClient, pending: dict[str, FakePending]
) -> None:
    pending["abc123"] = FakePending(ui_locales=["en-US", "es"])
    page = client.get("/ingresar?authz=abc123", headers={"Accept-Language": "es"}).get_data(
        as_text=True
    )
    assert "Enter your credentials to access the AYNI_SERVIDOR system" in page


def test_ui_locales_we_lack_fall_through_to_the_next(
    client: FlaskClient, pending: dict[str, FakePending]
) -> None:
    pending["abc123"] = FakePending(ui_locales=["qu", "es-PE"])
    page = client.get("/ingresar?authz=abc123", headers={"Accept-Language": "en"}).get_data(
        as_text=True
    )
    assert "Ingrese sus credenciales para acceder al sistema AYNI_SERVIDOR" in page


def test_the_language_of_one_request_does_not_stick_to_the_next(client: FlaskClient) -> None:
    client.get("/ingresar", headers={"Accept-Language": "en"})
    page = client.get("/ingresar").get_data(as_text=True)
    assert "Ingrese sus credenciales" in page


def test_the_english_error_message_is_still_generic(client: FlaskClient) -> None:
    user = make_user()
    response = sign_in(client, user.dni, "WrongPass1", headers={"Accept-Language": "en"})
    assert "Incorrect username or password." in response.get_data(as_text=True)


def test_the_welcome_page_copies_the_seed(client: FlaskClient) -> None:
    page = client.get("/").get_data(as_text=True)
    assert "¡Bienvenidos! A la Plataforma de Servicios para el Servidor Público" in page
    assert 'href="/ingresar"' in page
    assert 'href="/generar-contrasena"' in page
    assert "mesa de partes de su UGEL o DRE" in page
    assert "Cerrar sesión" not in page
