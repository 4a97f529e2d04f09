"""Helpers that act as an independent relying party: hand-written requests, joserfc checks."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs
from urllib.parse import urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from joserfc import jwk
from joserfc import jwt

from tests.factories import make_user
from tests.helpers import start_session
from tests.served import Answer
from tests.served import CannedServer

ISSUER = "http://127.0.0.1:5000"
REDIRECT_URI = "https://ayni.example.gob.pe/auth/callback"


@pytest.fixture(autouse=True)
def _fresh_caches(app: Flask) -> Iterator[None]:
    """Rows are wiped between tests: forget cached keys and clients too."""
    from passport.caches import clear_all

    clear_all(app)
    yield
    clear_all(app)


@dataclass
class RP:
    """A registered relying party as the tests know it."""

    client_id: str
    client_secret: str | None
    redirect_uri: str = REDIRECT_URI

    def basic_auth(self) -> dict[str, str]:
        raw = f"{self.client_id}:{self.client_secret}".encode()
        return {"Authorization": "Basic " + base64.b64encode(raw).decode()}


def register_client(**overrides: Any) -> RP:
    """Create a client through the service the CLI uses."""
    from passport.oidc.clients import create_client
    from passport.oidc.clients import validate_metadata

    raw: dict[str, Any] = {
        "name": "AYNI_SERVIDOR",
        "redirect_uris": [REDIRECT_URI],
        "post_logout_redirect_uris": ["https://ayni.example.gob.pe/"],
        "token_endpoint_auth_method": "client_secret_basic",
        "scopes": ["openid", "profile", "email", "phone", "address", "dni", "offline_access"],
        "grant_types": ["authorization_code", "refresh_token"],
    }
    raw.update(overrides)
    row, secret = create_client(validate_metadata(raw))
    return RP(row.client_id, secret, raw["redirect_uris"][0] if raw["redirect_uris"] else "")


@pytest.fixture
def rp(app: Flask) -> RP:
    return register_client(skip_consent=True)


@pytest.fixture
def user(app: Flask) -> Any:
    return make_user(
        phone_number="+51987654321",
        address={"street_address": "Av. Arequipa 123", "locality": "Lima", "country": "PE"},
    )


# The oidc tests' name for tests.helpers.start_session (many modules import it from here).
sign_in = start_session


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def query_of(location: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


def authorize(client: FlaskClient, rp: RP, **params: Any) -> Any:
    values = {
        "response_type": "code",
        "client_id": rp.client_id,
        "redirect_uri": rp.redirect_uri,
        "scope": "openid",
        "state": "st-123",
        "nonce": "n-456",
    }
    values.update(params)
    values = {k: v for k, v in values.items() if v is not None}
    return client.get("/authorize", query_string=values)


def get_code(client: FlaskClient, rp: RP, **params: Any) -> str:
    response = authorize(client, rp, **params)
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    query = query_of(response.headers["Location"])
    assert "code" in query, query
    return query["code"]


def redeem(client: FlaskClient, rp: RP, code: str, **extra: Any) -> Any:
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": rp.redirect_uri}
    form.update(extra)
    return client.post("/token", data=form, headers=rp.basic_auth())


def refresh(client: FlaskClient, rp: RP, token: str) -> Any:
    return client.post(
        "/token",
        data={"grant_type": "refresh_token", "refresh_token": token},
        headers=rp.basic_auth(),
    )


def published_keys(client: FlaskClient) -> jwk.KeySet:
    response = client.get("/jwks.json")
    assert response.status_code == 200
    return jwk.KeySet.import_key_set(json.loads(response.data))


def verify_jwt(client: FlaskClient, token: str, algorithms: list[str] | None = None) -> Any:
    """Verify a JWT against the JWKS the endpoint publishes (as an RP would)."""
    return jwt.decode(token, published_keys(client), algorithms=algorithms or ["RS256", "ES256"])


def full_flow(
    app: Flask, client: FlaskClient, rp: RP, user: Any, scope: str = "openid", **params: Any
) -> dict[str, Any]:
    """Sign in, authorize with PKCE, redeem; return the token response."""
    sign_in(app, client, user)
    return code_flow(client, rp, scope, **params)


def code_flow(client: FlaskClient, rp: RP, scope: str = "openid", **params: Any) -> dict[str, Any]:
    """Authorize with PKCE in the current browser session and redeem the code."""
    verifier, challenge = pkce_pair()
    code = get_code(
        client, rp, scope=scope, code_challenge=challenge, code_challenge_method="S256", **params
    )
    response = redeem(client, rp, code, code_verifier=verifier)
    assert response.status_code == 200, response.get_json()
    return dict(response.get_json())


def logout_receiver(status: int = 200, delay: float = 0.0, port: int = 0) -> CannedServer:
    """A loopback relying party's back-channel logout endpoint (at ``logout_uri``) answering
    ``status``; the tokens it received: ``form_values("logout_token")``."""
    return CannedServer(Answer(status=status, delay=delay), port=port)


def logout_uri(receiver: CannedServer) -> str:
    return receiver.url + "/auth/backchannel-logout"
