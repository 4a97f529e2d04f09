"""What a browser does in Passport tests: CSRF tokens, the known CAPTCHA, signing in.

One place for these actions, as the ``AuthActions`` of Flask's tutorial; write no regex, CAPTCHA
fixture or sign-in function of your own. Import what you need::

    from tests.helpers import CAPTCHA, csrf_token, post_form, sign_in, start_session

``CAPTCHA``
    The answer every CAPTCHA challenge reads while the ``known_captcha`` fixture
    (tests/conftest.py) is active. Request the fixture, or in a module
    ``pytestmark = pytest.mark.usefixtures("known_captcha")``; a conftest makes it autouse by
    overriding it: ``@pytest.fixture(autouse=True) def known_captcha(known_captcha): return
    known_captcha``. Apps built with ``CAPTCHA_TEST_ANSWER=CAPTCHA`` read it too.
``csrf_token(client, path="/ingresar") -> str``
    GET ``path`` and return its form's CSRF token (the test fails if there is none). Loading
    the sign-in or link-request page also issues its CAPTCHA challenge.
``csrf_in(html) -> str | None``
    The CSRF token in a page already fetched (either attribute order; Passport and AYNI).
``CSRF_FIELD``
    The compiled pattern, e.g. to blank the token out of two renders being compared.
``post_form(client, path, **data) -> TestResponse``
    GET ``path``, then POST its form: ``data`` plus the page's CSRF token.
``sign_in(client, user_or_dni, password=DEFAULT_PASSWORD, *, captcha=CAPTCHA, path="/ingresar",
**environ) -> TestResponse``
    The sign-in form filled in as a person does (``captcha=None`` leaves the field out;
    ``environ`` goes to ``client.post``, e.g. ``environ_base``). A 302 means signed in.
``start_session(app, client, user, amr=None) -> str``
    An SSO session without the form (``amr`` defaults to ``["pwd"]``; ``["pwd", "otp"]`` for
    a proven second factor); ``client`` gets the cookie. Returns the session's ``sid``.
``use_captcha_answer(app, answer=CAPTCHA)``
    The context manager behind ``known_captcha``, for apps built inside a test.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from flask import Flask
from flask import Response
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from tests.factories import DEFAULT_PASSWORD

__all__ = [
    "CAPTCHA",
    "CSRF_FIELD",
    "csrf_in",
    "csrf_token",
    "post_form",
    "sign_in",
    "start_session",
    "use_captcha_answer",
]

CAPTCHA = "K7MPX"

CSRF_FIELD = re.compile(
    r'name="csrf_token"[^>]*value="([^"]*)"|value="([^"]*)"[^>]*name="csrf_token"'
)


@contextmanager
def use_captcha_answer(app: Flask, answer: str = CAPTCHA) -> Iterator[str]:
    """Every CAPTCHA challenge of ``app`` reads ``answer`` inside the block."""
    from passport.captcha.providers import ImageCaptchaProvider

    provider = app.extensions["passport.captcha"]
    assert isinstance(provider, ImageCaptchaProvider)
    provider.test_answer = answer
    try:
        yield answer
    finally:
        provider.test_answer = None


def csrf_in(html: str) -> str | None:
    """The CSRF token of the first form in ``html``, or None."""
    found = CSRF_FIELD.search(html)
    return (found.group(1) or found.group(2)) if found else None


def csrf_token(client: FlaskClient, path: str = "/ingresar") -> str:
    """Load ``path`` (issuing its CAPTCHA challenge, if any) and return its CSRF token."""
    page = client.get(path)
    token = csrf_in(page.get_data(as_text=True))
    assert token, f"no csrf_token on {path}: {page.status_code}"
    return token


def post_form(client: FlaskClient, path: str, **data: Any) -> TestResponse:
    """Open ``path`` and post its form with ``data`` and the page's CSRF token."""
    return client.post(path, data={"csrf_token": csrf_token(client, path), **data})


def sign_in(
    client: FlaskClient,
    user: Any,
    password: str = DEFAULT_PASSWORD,
    *,
    captcha: str | None = CAPTCHA,
    path: str = "/ingresar",
    **environ: Any,
) -> TestResponse:
    """Open the sign-in page and post the form as a person would (``user``: a User or a DNI)."""
    dni = user if isinstance(user, str) else user.dni
    data = {"csrf_token": csrf_token(client, path), "username": dni, "password": password}
    if captcha is not None:
        data["captcha"] = captcha
    return client.post(path, data=data, **environ)


def start_session(app: Flask, client: FlaskClient, user: Any, amr: list[str] | None = None) -> str:
    """Start an SSO session for ``user`` without the form and give ``client`` its cookie."""
    from passport.login.sessions import start_sso_session

    name = app.config["SSO_COOKIE_NAME"]
    with app.test_request_context("/"):
        session = start_sso_session(user, amr or ["pwd"])
        sid = str(session.sid)
        # The cookie is written by login's after-request hook, as for a real sign-in.
        response = app.process_response(Response())
    cookie = next(
        c.split(";")[0].split("=", 1)[1]
        for c in response.headers.getlist("Set-Cookie")
        if c.startswith(name + "=")
    )
    client.set_cookie(name, cookie)
    return sid
