"""The whole browser journey through the real sign-in page: authorize → login → code."""

from __future__ import annotations

import pytest

from tests.factories import DEFAULT_PASSWORD
from tests.helpers import sign_in
from tests.integration.oidc.conftest import ISSUER
from tests.integration.oidc.conftest import authorize
from tests.integration.oidc.conftest import query_of
from tests.integration.oidc.conftest import redeem
from tests.integration.oidc.conftest import verify_jwt

pytestmark = pytest.mark.usefixtures("known_captcha")


def post_login(client, path: str, dni: str, password: str = DEFAULT_PASSWORD):
    """The sign-in page as first shown (before the form's own reload) and the answer to it."""
    page = client.get(path)
    return page, sign_in(client, dni, password, path=path)


def test_sign_in_page_names_the_client_prefills_the_dni_and_resumes(app, client, rp, user) -> None:
    start = authorize(client, rp, login_hint=user.dni, scope="openid profile")
    login_path = start.headers["Location"]
    page, response = post_login(client, login_path, user.dni)
    body = page.get_data(as_text=True)
    assert "AYNI_SERVIDOR" in body
    assert f'value="{user.dni}"' in body
    # Straight back to the client: no hop through /authorize/resume.
    assert response.status_code == 302
    assert response.headers["Location"].startswith(rp.redirect_uri + "?")
    query = query_of(response.headers["Location"])
    assert query["state"] == "st-123"
    assert query["iss"] == ISSUER
    tokens = redeem(client, rp, query["code"]).get_json()
    claims = verify_jwt(client, tokens["id_token"]).claims
    assert claims["sub"] == user.sub
    assert claims["amr"] == ["pwd"]


def test_prompt_login_after_a_real_sign_in_does_not_loop(app, client, rp, user) -> None:
    _, first = post_login(client, "/ingresar", user.dni)
    assert first.status_code == 302
    start = authorize(client, rp, prompt="login")
    assert start.headers["Location"].startswith("/ingresar?authz=")
    _, response = post_login(client, start.headers["Location"], user.dni)
    assert "code" in query_of(response.headers["Location"])


def test_wrong_password_stays_on_the_sign_in_page(app, client, rp, user) -> None:
    start = authorize(client, rp)
    _, response = post_login(client, start.headers["Location"], user.dni, "wrong-password")
    assert response.status_code in (200, 400)
    assert "Location" not in response.headers
