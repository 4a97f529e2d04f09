"""Helpers for the second-factor tests: a known CAPTCHA, enrolment, the two sign-in steps."""

from __future__ import annotations

from collections.abc import Iterator

import pyotp
import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from passport.accounts.models import User
from passport.audit.services import Actor
from passport.mfa import services
from tests.factories import DEFAULT_PASSWORD
from tests.helpers import post_form
from tests.helpers import sign_in


@pytest.fixture(autouse=True)
def known_captcha(app: Flask, known_captcha: str) -> Iterator[str]:
    """Every test here reads the known CAPTCHA answer (tests/helpers.py); caches start empty."""
    from passport.caches import clear_all

    clear_all(app)
    yield known_captcha
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


def password_step(
    client: FlaskClient, dni: str, path: str = "/ingresar", password: str = DEFAULT_PASSWORD
) -> TestResponse:
    """The first step: DNI, password and CAPTCHA."""
    return sign_in(client, dni, password, path=path)


def code_step(client: FlaskClient, code: str) -> TestResponse:
    """The second step's form."""
    return post_form(client, "/ingresar/verificacion", code=code)
