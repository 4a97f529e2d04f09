"""Helpers for the accounts tests: the known CAPTCHA for every test, the mailed link."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from tests.helpers import CAPTCHA
from tests.helpers import csrf_token


@pytest.fixture(autouse=True)
def known_captcha(known_captcha: str) -> str:
    """Every test here reads the known CAPTCHA answer (tests/helpers.py)."""
    return known_captcha


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
