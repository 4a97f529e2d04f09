"""Helpers for the accounts tests: a known CAPTCHA answer, CSRF tokens, the mailed link."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from passport.captcha.providers import ImageCaptchaProvider

CAPTCHA = "K7MPX"

CSRF_PATTERN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


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


def csrf_token(client: FlaskClient, path: str) -> str:
    """Load ``path`` (issuing a CAPTCHA challenge too) and return its CSRF token."""
    page = client.get(path)
    found = CSRF_PATTERN.search(page.get_data(as_text=True))
    assert found, f"no csrf_token on {path}"
    return found.group(1)


def request_link(
    client: FlaskClient, path: str, dni: str, *, captcha: str | None = CAPTCHA, **environ: Any
) -> TestResponse:
    """Open "Generar contraseña" or "¿Olvidaste la contraseña?" and post a DNI.

    The response is closed, as a server does once it is sent: that runs the mail queue's
    after-response sender, which decides whether the DNI gets a mail.
    """
    data = {"csrf_token": csrf_token(client, path), "dni": dni}
    if captcha is not None:
        data["captcha"] = captcha
    response = client.post(path, data=data, **environ)
    response.close()
    return response


def set_password(
    client: FlaskClient, link: str, password: str, confirmation: str | None = None
) -> TestResponse:
    """Open the mailed link and post the password form."""
    path = link_path(link)
    return client.post(
        path,
        data={
            "csrf_token": csrf_token(client, path),
            "password": password,
            "password_confirmation": password if confirmation is None else confirmation,
        },
    )


def link_path(link: str) -> str:
    """The path of an absolute link (the test client talks to the app directly)."""
    found = re.match(r"https?://[^/]+(/.*)$", link)
    assert found, link
    return found.group(1)


def verification_links(links: list[str]) -> list[str]:
    """The password links among a mail's links."""
    return [link for link in links if "/verificacion/" in link]
