"""Helpers for the login tests: a known CAPTCHA answer, CSRF tokens, signing in."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from passport.captcha.providers import ImageCaptchaProvider
from tests.conftest import make_test_app

CAPTCHA = "K7MPX"

_CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


@pytest.fixture(autouse=True)
def known_captcha(app: Flask) -> Iterator[str]:
    """Every CAPTCHA challenge of the shared app reads ``K7MPX`` during the test."""
    provider = app.extensions["passport.captcha"]
    assert isinstance(provider, ImageCaptchaProvider)
    provider.test_answer = CAPTCHA
    try:
        yield CAPTCHA
    finally:
        provider.test_answer = None


def csrf_token(client: FlaskClient, path: str = "/ingresar") -> str:
    """Load ``path`` (issuing a CAPTCHA challenge too) and return its CSRF token."""
    page = client.get(path)
    found = _CSRF.search(page.get_data(as_text=True))
    assert found, f"no csrf_token on {path}"
    return found.group(1)


def sign_in(
    client: FlaskClient,
    dni: str,
    password: str,
    *,
    captcha: str | None = CAPTCHA,
    path: str = "/ingresar",
    **environ: Any,
) -> TestResponse:
    """Open the sign-in page and post the form as a person would."""
    data = {"csrf_token": csrf_token(client, path), "username": dni, "password": password}
    if captcha is not None:
        data["captcha"] = captcha
    return client.post(path, data=data, **environ)


def body_without_noise(response: TestResponse) -> str:
    """The page minus what legitimately differs between two renders (image, token, DNI)."""
    text = response.get_data(as_text=True)
    text = re.sub(r'src="data:image/png;base64,[^"]+"', 'src=""', text)
    text = _CSRF.sub('name="csrf_token" type="hidden" value=""', text)
    return re.sub(r'value="[0-9]{8}"', 'value=""', text)


@pytest.fixture
def fresh_app_factory(database_url: str, outbox_dir: Path) -> Iterator[Any]:
    """Build extra apps on the test database; the shared limiter is re-bound afterwards."""
    built: list[Flask] = []

    def build(**overrides: Any) -> Flask:
        app = make_test_app(database_url, outbox_dir, CAPTCHA_TEST_ANSWER=CAPTCHA, **overrides)
        built.append(app)
        return app

    yield build
    if built:
        # Flask-Limiter keeps one storage per limiter object: give it back to an in-process
        # one so later tests do not count against Redis or another app's settings.
        make_test_app(database_url, outbox_dir)
