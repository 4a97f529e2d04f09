"""What an anonymous /authorize leaves behind: validated, bounded rows, at a throttled rate.

Anyone can make Passport store a pending authorization for 15 minutes. It used to keep every
kept parameter as sent (up to 4 KB each, ~31 KB a row) with no limit per address.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func
from sqlalchemy import select

from passport.extensions import db
from passport.oidc.authorization import MAX_LENGTHS
from passport.oidc.authorization import MAX_PENDING_LENGTH
from passport.oidc.models import PendingAuthorization
from tests.integration.oidc.conftest import RP
from tests.integration.oidc.conftest import authorize
from tests.integration.oidc.conftest import query_of
from tests.integration.oidc.conftest import sign_in


def pending_rows() -> list[PendingAuthorization]:
    return list(db.session.scalars(select(PendingAuthorization)))


def stored_length(row: PendingAuthorization) -> int:
    return len(json.dumps(row.params))


def test_only_the_validated_parameters_used_are_stored(
    app: Flask, client: FlaskClient, rp: RP
) -> None:
    response = authorize(
        client,
        rp,
        scope="openid email not-a-scope " + "x" * 1500,
        prompt="login consent bogus",
        ui_locales="es-PE zz " + "qq " * 60,
        login_hint="rosa@example.pe",
        acr_values="urn:passport:acr:mfa urn:unknown:" + "y" * 400,
        max_age="600",
        claims=json.dumps(
            {"id_token": {"email": {"essential": True, "junk": "z" * 1500}, "x" * 1500: None}}
        ),
        display="z" * 4000,
        claims_locales="z" * 4000,
        unknown_parameter="z" * 4000,
    )
    assert response.status_code == 302
    assert "/ingresar?authz=" in response.headers["Location"]
    [row] = pending_rows()
    assert row.params == {
        "client_id": rp.client_id,
        "redirect_uri": rp.redirect_uri,
        "response_type": "code",
        "scope": "openid email",
        "state": "st-123",
        "nonce": "n-456",
        "prompt": "consent login",
        "max_age": "600",
        "claims": '{"id_token":{"email":{"essential":true}}}',
        "ui_locales": "es",
        "acr_values": "urn:passport:acr:mfa",
    }
    assert stored_length(row) < 1000


@pytest.mark.parametrize("name", ["state", "scope", "login_hint", "ui_locales", "acr_values"])
def test_an_oversized_parameter_is_refused_to_the_client_and_not_stored(
    app: Flask, client: FlaskClient, rp: RP, name: str
) -> None:
    value = ("openid " if name == "scope" else "") + "a" * (MAX_LENGTHS[name] + 1)
    response = authorize(client, rp, **{name: value})
    assert response.status_code == 302
    location = response.headers["Location"]
    assert location.startswith(rp.redirect_uri)
    query = query_of(location)
    assert query["error"] == "invalid_request"
    assert query["error_description"] == f"{name} is too long."
    assert pending_rows() == []


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"client_id": "c" * 256}, "no está registrada en Passport"),
        ({"redirect_uri": "https://ayni.example.gob.pe/" + "r" * 2000}, "dirección de retorno"),
    ],
)
def test_an_oversized_client_id_or_redirect_uri_gets_a_page(
    app: Flask, client: FlaskClient, rp: RP, params: dict[str, str], message: str
) -> None:
    response = authorize(client, rp, **params)
    assert response.status_code == 400
    assert "Location" not in response.headers
    assert message in response.get_data(as_text=True)
    assert pending_rows() == []


def test_the_largest_acceptable_request_stays_within_the_bound(
    app: Flask, client: FlaskClient, rp: RP
) -> None:
    claims = {"userinfo": {"email": {"essential": True, "values": ["v" * 40] * 85}}}
    response = authorize(
        client,
        rp,
        state="s" * MAX_LENGTHS["state"],
        nonce="n" * MAX_LENGTHS["nonce"],
        claims=json.dumps(claims),
    )
    assert response.status_code == 302
    assert "/ingresar?authz=" in response.headers["Location"]
    [row] = pending_rows()
    assert 6000 < stored_length(row) <= MAX_PENDING_LENGTH


def test_a_request_too_large_in_total_is_refused(app: Flask, client: FlaskClient, rp: RP) -> None:
    """Each value within its limit, the whole over the bound (non-ASCII grows in JSON)."""
    claims = {"userinfo": {"email": {"values": ["é" * 40] * 60}}}
    raw_claims = json.dumps(claims, ensure_ascii=False)
    response = authorize(client, rp, state="é" * MAX_LENGTHS["state"], claims=raw_claims)
    assert response.status_code == 302
    query = query_of(response.headers["Location"])
    assert (query["error"], query["error_description"]) == (
        "invalid_request",
        "The request is too large.",
    )
    assert pending_rows() == []


def test_a_resumed_request_is_the_same_request(
    app: Flask, client: FlaskClient, rp: RP, user: Any
) -> None:
    """The normalised row gives back what the client asked for (scopes, state, claims)."""
    from tests.integration.oidc.conftest import pkce_pair
    from tests.integration.oidc.conftest import redeem
    from tests.integration.oidc.conftest import verify_jwt

    verifier, challenge = pkce_pair()
    response = authorize(
        client,
        rp,
        scope="openid email nope",
        code_challenge=challenge,
        code_challenge_method="S256",
        claims=json.dumps({"id_token": {"email": None, "unknown_claim": None}}),
        response_mode="query",
    )
    authz_id = query_of(response.headers["Location"])["authz"]
    sign_in(app, client, user)
    resumed = client.get("/authorize/resume", query_string={"authz": authz_id})
    assert resumed.status_code == 302
    query = query_of(resumed.headers["Location"])
    assert query["state"] == "st-123"
    tokens = redeem(client, rp, query["code"], code_verifier=verifier).get_json()
    assert tokens["scope"] == "openid email"
    claims = verify_jwt(client, tokens["id_token"]).claims
    assert claims["nonce"] == "n-456"
    assert claims["email"] == user.email


def from_address(client: FlaskClient, rp: RP, address: str, method: str = "GET") -> Any:
    """A minimal /authorize from ``address``, by GET or form POST."""
    params = {
        "response_type": "code",
        "client_id": rp.client_id,
        "redirect_uri": rp.redirect_uri,
        "scope": "openid",
    }
    environ = {"REMOTE_ADDR": address}
    if method == "POST":
        return client.post("/authorize", data=params, environ_base=environ)
    return client.get("/authorize", query_string=params, environ_base=environ)


def anonymous_statuses(client: FlaskClient, rp: RP, count: int, address: str) -> list[int]:
    """Alternate GET and POST: both count against one budget."""
    methods = ("GET", "POST")
    return [
        from_address(client, rp, address, methods[number % 2]).status_code
        for number in range(count)
    ]


def test_anonymous_requests_are_throttled_per_address(
    app: Flask, client: FlaskClient, rp: RP, user: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(app.config, "AUTHORIZE_RATE_LIMIT", "4 per minute")
    assert anonymous_statuses(client, rp, 5, "198.51.100.7") == [302, 302, 302, 302, 429]
    page = from_address(client, rp, "198.51.100.7")
    assert page.status_code == 429
    assert "Demasiados intentos" in page.get_data(as_text=True)
    assert int(page.headers["Retry-After"]) > 0
    assert db.session.scalar(select(func.count()).select_from(PendingAuthorization)) == 4
    # Another address keeps its own budget.
    assert anonymous_statuses(client, rp, 1, "192.0.2.8") == [302]
    # A signed-in browser at the throttled address is not counted: its requests store nothing
    # anonymous and get their code.
    sign_in(app, client, user)
    signed_in = from_address(client, rp, "198.51.100.7")
    assert signed_in.status_code == 302
    assert "code" in query_of(signed_in.headers["Location"])


def test_a_trusted_network_gets_the_trusted_limit(
    app: Flask, client: FlaskClient, rp: RP, monkeypatch: pytest.MonkeyPatch
) -> None:
    from passport.security.network import parse_networks

    monkeypatch.setitem(app.config, "AUTHORIZE_RATE_LIMIT", "2 per minute")
    monkeypatch.setitem(app.config, "TRUSTED_RATE_LIMIT", "100 per minute")
    monkeypatch.setitem(
        app.extensions, "passport.trusted_networks", parse_networks(["10.20.0.0/16"])
    )
    assert 429 not in anonymous_statuses(client, rp, 5, "10.20.3.4")
    assert anonymous_statuses(client, rp, 3, "198.51.100.9")[-1] == 429
