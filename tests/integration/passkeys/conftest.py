"""Helpers for the passkey tests: the soft authenticator, registration and sign-in by HTTP."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from passport.accounts.models import User
from tests.integration.mfa.conftest import known_captcha  # noqa: F401 - autouse fixture
from tests.integration.mfa.conftest import password_step
from tests.soft_authenticator import SoftAuthenticator

_CSRF = re.compile(r'(?:data-csrf="|name="csrf_token"[^>]*value=")([^"]+)"')
PAGE = "/mi-cuenta/llaves-de-acceso"


@pytest.fixture
def authenticator(app: Flask) -> SoftAuthenticator:
    return SoftAuthenticator("127.0.0.1", "http://127.0.0.1:5000")


def csrf(client: FlaskClient, path: str) -> str:
    """The CSRF token of ``path`` (a passkey button's, or the page's first form's)."""
    found = _CSRF.search(client.get(path).get_data(as_text=True))
    assert found, f"no CSRF token on {path}"
    return found.group(1)


def post_json(client: FlaskClient, path: str, token: str, body: Any = None) -> TestResponse:
    return client.post(path, json=body or {}, headers={"X-CSRFToken": token})


def register(
    client: FlaskClient,
    user: User,
    authenticator: SoftAuthenticator,
    name: str = "Mi celular",
    **breakage: Any,
) -> TestResponse:
    """Sign in with the password (a fresh session) and add the authenticator's passkey."""
    if client.get("/ingresar").status_code == 200:  # not signed in yet
        password_step(client, user.dni)
    token = csrf(client, PAGE)
    options = post_json(client, f"{PAGE}/registro/opciones", token).get_json()
    credential = authenticator.create(options, **breakage)
    return post_json(client, f"{PAGE}/registro", token, {"credential": credential, "name": name})


def passkey_sign_in(
    client: FlaskClient, authenticator: SoftAuthenticator, query: str = "", **breakage: Any
) -> TestResponse:
    """The sign-in page's button: options, the authenticator's answer, the verification."""
    token = csrf(client, "/ingresar")
    options = post_json(client, "/ingresar/llave/opciones", token).get_json()
    credential = authenticator.get(options, **breakage)
    return post_json(client, f"/ingresar/llave{query}", token, {"credential": credential})
