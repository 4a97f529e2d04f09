"""A ministry system as the admin API sees it: a client_credentials client and its tokens."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from passport.api.auth import READ_SCOPE
from passport.api.auth import WRITE_SCOPE
from tests.integration.oidc.conftest import RP
from tests.integration.oidc.conftest import _fresh_caches  # noqa: F401 - autouse fixture
from tests.integration.oidc.conftest import register_client

BOTH_SCOPES = f"{READ_SCOPE} {WRITE_SCOPE}"


def register_api_client(scopes: str = BOTH_SCOPES) -> RP:
    """A confidential client allowed only client_credentials and ``scopes``."""
    return register_client(
        name="Sistema de evaluación docente",
        redirect_uris=[],
        post_logout_redirect_uris=[],
        grant_types=["client_credentials"],
        scopes=scopes.split(),
    )


def issue_token(client: FlaskClient, rp: RP, scope: str | None = None) -> str:
    """An access token from the real token endpoint (grant_type=client_credentials)."""
    form = {"grant_type": "client_credentials"}
    if scope:
        form["scope"] = scope
    response = client.post("/token", data=form, headers=rp.basic_auth())
    assert response.status_code == 200, response.get_json()
    return str(response.get_json()["access_token"])


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def api_rp(app: Flask) -> RP:
    return register_api_client()


@pytest.fixture
def write_token(client: FlaskClient, api_rp: RP) -> str:
    return issue_token(client, api_rp)


@pytest.fixture
def read_token(client: FlaskClient, api_rp: RP) -> str:
    return issue_token(client, api_rp, READ_SCOPE)


NEW_USER: dict[str, Any] = {
    "dni": "70001234",
    "email": "rosa.quispe@example.edu.pe",
    "given_name": "Rosa Elena",
    "family_name": "Quispe Huamán",
    "phone": "+51987654321",
    "dre": "DRE Cusco",
    "ugel": "UGEL Urubamba",
}
