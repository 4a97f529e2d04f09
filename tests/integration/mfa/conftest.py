"""Helpers for the second-factor tests: a known CAPTCHA, enrolment, the two sign-in steps."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pyotp
import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from passport.accounts.models import User
from passport.audit.services import Actor
from passport.mfa import services
from tests.factories import DEFAULT_PASSWORD
from tests.integration.login.conftest import CAPTCHA

_CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


@pytest.fixture(autouse=True)
def known_captcha(app: Flask) -> Iterator[str]:
    """Every CAPTCHA challenge reads ``K7MPX`` during the test; caches start empty."""
    from passport.caches import clear_all

    clear_all(app)
    provider = app.extensions["passport.captcha"]
    provider.test_answer = CAPTCHA
    try:
        yield CAPTCHA
    finally:
        provider.test_answer = None
        clear_all(app)


def enrol(user: User) -> tuple[str, list[str]]:
    """Switch TOTP on for ``user`` through the services; return the secret and codes."""
    enrolment = services.start_enrolment(user)
    codes = services.confirm_enrolment(
        user,
        pyotp.TOTP(enrolment.secret).now(),
        Actor(ip_address="127.0.0.1"),
        password=DEFAULT_PASSWORD,
    )
    return enrolment.secret, codes


def csrf_of(client: FlaskClient, path: str) -> str:
    """Load ``path`` and return its CSRF token."""
    page = client.get(path)
    found = _CSRF.search(page.get_data(as_text=True))
    assert found, f"no csrf_token on {path}: {page.status_code}"
    return found.group(1)


def post_form(client: FlaskClient, path: str, **data: Any) -> TestResponse:
    """Open ``path`` and post its form with ``data`` and the page's CSRF token."""
    return client.post(path, data={"csrf_token": csrf_of(client, path), **data})


def password_step(
    client: FlaskClient, dni: str, path: str = "/ingresar", password: str = DEFAULT_PASSWORD
) -> TestResponse:
    """The first step: DNI, password and CAPTCHA."""
    return post_form(client, path, username=dni, password=password, captcha=CAPTCHA)


def code_step(client: FlaskClient, code: str) -> TestResponse:
    """The second step's form."""
    return post_form(client, "/ingresar/verificacion", code=code)
