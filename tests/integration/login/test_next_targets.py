"""``next`` and every other user-supplied redirect target: one rule, no open redirect, no 500.

Each value is what the view reads from ``request.args`` (the test client encodes it), so
``/\t/evil.com`` is the ``next=/%09/evil.com`` of a link and ``/%2F/evil.com`` a doubly
encoded one.
"""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlencode
from urllib.parse import urlsplit

import pyotp
import pytest
import time_machine
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from passport.database import utcnow
from passport.login.resume import local_next
from tests.factories import make_user
from tests.helpers import csrf_token
from tests.integration.mfa.conftest import code_step
from tests.integration.mfa.conftest import enrol
from tests.integration.mfa.conftest import password_step

HOSTILE = [
    "/\t/evil.com",
    "/\t\t/evil.com",
    "/\r/x",
    "/\n/x",
    "/\r\nSet-Cookie: a=b",
    "\t//evil.com",
    "/\\evil.com",
    "/\\/evil.com",
    "\\\\evil.com",
    "//evil.com",
    "///evil.com",
    "//evil.com/%2F..",
    "%2F%2Fevil.com",
    "/%2F/evil.com",
    "/%2f%2fevil.com",
    "/%5Cevil.com",
    "/%09/evil.com",
    "/%250d/x",
    "https://evil.com",
    "HTTPS://evil.com/",
    "http:/evil.com",
    "http:///evil.com",
    "http://[x",
    "http://localhost@evil.com/",
    "javascript:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "evil.com",
    " /x",
    "/x ",
    "/\u00a0/evil.com",
    "/\u3000/evil.com",
    "/\u2028/evil.com",
    "/\u200b/evil.com",
    "/\uff0f/evil.com",
    "/" + "a" * 5000,
    "/" + "%09" * 1000,
]
LEGITIMATE = [
    "/mi-cuenta",
    "/admin/usuarios?q=Quispe%20Huam%C3%A1n&page=2",
    "/authorize/resume?authz=abc_DEF-123",
    "/ingresar?next=%2F%2Fevil.com",  # a query may carry anything: it is not the target
    "http://localhost/mi-cuenta",  # this host (the test client's)
    "http://127.0.0.1:5000/mi-cuenta",  # the issuer
]


def with_next(path: str, value: str) -> str:
    return f"{path}?{urlencode({'next': value})}"


def assert_local_redirect(response: TestResponse, expected: str, value: str) -> None:
    """A redirect (never a 500) to ``expected`` on this site."""
    assert response.status_code in (302, 303), (value, response.status_code)
    location = response.headers["Location"]
    assert location == expected, (value, location)
    parts = urlsplit(location)
    assert (parts.scheme, parts.netloc) == ("", ""), (value, location)


@pytest.mark.parametrize("value", HOSTILE)
def test_local_next_refuses_hostile_targets(app: Flask, value: str) -> None:
    with app.test_request_context("/"):
        assert local_next(value) is None


@pytest.mark.parametrize("value", LEGITIMATE)
def test_local_next_keeps_targets_of_this_site(app: Flask, value: str) -> None:
    with app.test_request_context("/"):
        assert local_next(value) == value


def test_a_legitimate_next_is_still_followed(app: Flask, client: FlaskClient) -> None:
    user = make_user()
    target = "/admin/usuarios?q=Quispe%20Huam%C3%A1n"
    assert_local_redirect(
        password_step(client, user.dni, with_next("/ingresar", target)), target, ""
    )
    assert_local_redirect(client.get(with_next("/ingresar", "/mi-cuenta")), "/mi-cuenta", "")


@pytest.mark.parametrize("value", HOSTILE)
def test_sign_in_never_follows_a_hostile_next(app: Flask, client: FlaskClient, value: str) -> None:
    user = make_user()
    path = with_next("/ingresar", value)
    assert_local_redirect(password_step(client, user.dni, path), "/", value)
    # Signed in now: the GET of /ingresar goes straight on.
    assert_local_redirect(client.get(path), "/", value)


@pytest.mark.parametrize("value", HOSTILE)
def test_second_factor_pages_never_follow_a_hostile_next(
    app: Flask, client: FlaskClient, value: str
) -> None:
    user = make_user()
    secret, _ = enrol(user)
    first = password_step(client, user.dni, with_next("/ingresar", value))
    assert_local_redirect(first, "/ingresar/verificacion", value)
    with time_machine.travel(utcnow() + timedelta(seconds=31), tick=False):
        assert_local_redirect(code_step(client, pyotp.TOTP(secret).now()), "/", value)
    # Enrolled already, and the session has its second factor: both pages move on at once.
    setup = with_next("/mi-cuenta/doble-factor", value)
    assert_local_redirect(client.get(setup), "/mi-cuenta", value)
    step_up = with_next("/mi-cuenta/verificar", value)
    assert_local_redirect(client.get(step_up), "/mi-cuenta", value)
    # The POST is still answered (the GET moved on): its next is judged the same way.
    token = csrf_token(client, "/mi-cuenta/doble-factor/codigos")
    with time_machine.travel(utcnow() + timedelta(seconds=62), tick=False):
        done = client.post(step_up, data={"csrf_token": token, "code": pyotp.TOTP(secret).now()})
    assert_local_redirect(done, "/mi-cuenta", value)


@pytest.mark.parametrize("value", ["/\t/evil.com", "/\r/x", "//evil.com", "http://[x"])
def test_step_up_without_totp_sends_to_enrolment_without_the_hostile_next(
    app: Flask, client: FlaskClient, value: str
) -> None:
    user = make_user()
    password_step(client, user.dni)
    response = client.get(with_next("/mi-cuenta/verificar", value))
    assert_local_redirect(response, "/mi-cuenta/doble-factor", value)
