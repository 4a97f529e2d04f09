"""The `claims` parameter (OIDC Core §5.5): claims one by one, within the client's registration."""

from __future__ import annotations

import json
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from passport.extensions import db
from passport.oidc.models import Consent
from tests.integration.oidc.conftest import RP
from tests.integration.oidc.conftest import authorize
from tests.integration.oidc.conftest import code_flow
from tests.integration.oidc.conftest import full_flow
from tests.integration.oidc.conftest import pkce_pair
from tests.integration.oidc.conftest import query_of
from tests.integration.oidc.conftest import register_client
from tests.integration.oidc.conftest import sign_in
from tests.integration.oidc.conftest import verify_jwt
from tests.integration.oidc.test_consent import answer
from tests.integration.oidc.test_consent import consent_form

EMAIL_SCOPES = ["openid", "profile", "email"]


def claims(**members: dict[str, Any]) -> str:
    return json.dumps(members)


def userinfo(client: FlaskClient, tokens: dict[str, Any]) -> dict[str, Any]:
    response = client.get(
        "/userinfo", headers={"Authorization": f"Bearer {tokens['access_token']}"}
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    return dict(response.get_json())


def id_token(client: FlaskClient, tokens: dict[str, Any]) -> dict[str, Any]:
    return dict(verify_jwt(client, tokens["id_token"]).claims)


@pytest.fixture
def email_rp(app: Flask) -> RP:
    """A first-party client registered for `email` (and not for phone or dni)."""
    return register_client(skip_consent=True, scopes=EMAIL_SCOPES)


def test_email_via_claims_with_scope_openid_reaches_userinfo_and_id_token(
    app: Flask, client: FlaskClient, email_rp: RP, user: Any
) -> None:
    requested = claims(userinfo={"email": None}, id_token={"email": {"essential": True}})
    tokens = full_flow(app, client, email_rp, user, scope="openid", claims=requested)
    assert tokens["scope"] == "openid"
    info = userinfo(client, tokens)
    assert info["email"] == user.email
    assert "email_verified" not in info  # asked for one by one: only what was named
    assert "given_name" not in info  # profile was not asked for
    assert id_token(client, tokens)["email"] == user.email


def test_a_claim_the_client_is_not_registered_for_is_not_released(
    app: Flask, client: FlaskClient, email_rp: RP, user: Any
) -> None:
    requested = claims(
        userinfo={"phone_number": {"essential": True}, "dni": None},
        id_token={"phone_number": None, "preferred_username": None},
    )
    tokens = full_flow(app, client, email_rp, user, scope="openid", claims=requested)
    info = userinfo(client, tokens)
    assert set(info) == {"sub"}
    token_claims = id_token(client, tokens)
    assert "phone_number" not in token_claims
    assert "preferred_username" not in token_claims


def test_an_essential_claim_that_cannot_be_released_does_not_fail_the_request(
    app: Flask, client: FlaskClient, email_rp: RP, user: Any
) -> None:
    # OIDC Core §5.5.1: essential marks what the client needs, yet the OP still answers.
    requested = claims(id_token={"dni": {"essential": True}, "email": {"essential": True}})
    tokens = full_flow(app, client, email_rp, user, scope="openid", claims=requested)
    token_claims = id_token(client, tokens)
    assert "dni" not in token_claims
    assert token_claims["email"] == user.email


def test_a_claim_requested_with_a_value_is_released_only_when_it_matches(
    app: Flask, client: FlaskClient, email_rp: RP, user: Any
) -> None:
    requested = claims(
        id_token={
            "email": {"value": user.email},
            "email_verified": {"value": True},  # the user's e-mail is not verified
            "family_name": {"values": ["Otro", user.family_name]},
        }
    )
    tokens = full_flow(app, client, email_rp, user, scope="openid", claims=requested)
    token_claims = id_token(client, tokens)
    assert token_claims["email"] == user.email
    assert "email_verified" not in token_claims
    assert token_claims["family_name"] == user.family_name


def test_userinfo_value_mismatch_withholds_even_a_scope_claim(
    app: Flask, client: FlaskClient, email_rp: RP, user: Any
) -> None:
    requested = claims(userinfo={"email": {"value": "otra@example.pe"}})
    tokens = full_flow(app, client, email_rp, user, scope="openid email", claims=requested)
    info = userinfo(client, tokens)
    assert "email" not in info
    assert info["email_verified"] is False  # the scope's other claim is unaffected


def test_sub_with_another_value_is_login_required_and_never_another_person(
    app: Flask, client: FlaskClient, email_rp: RP, user: Any
) -> None:
    sign_in(app, client, user)
    _, challenge = pkce_pair()
    requested = claims(id_token={"sub": {"value": "alguien-mas"}})
    response = authorize(
        client,
        email_rp,
        claims=requested,
        prompt="none",
        code_challenge=challenge,
        code_challenge_method="S256",
    )
    assert query_of(response.headers["Location"])["error"] == "login_required"
    # Without prompt=none the person is asked to sign in as that subject instead.
    response = authorize(
        client, email_rp, claims=requested, code_challenge=challenge, code_challenge_method="S256"
    )
    assert response.status_code == 302
    assert "/ingresar" in response.headers["Location"]


def test_sub_with_the_right_value_is_answered(
    app: Flask, client: FlaskClient, email_rp: RP, user: Any
) -> None:
    sign_in(app, client, user)
    tokens = code_flow(
        client, email_rp, "openid", claims=claims(id_token={"sub": {"value": user.sub}})
    )
    assert id_token(client, tokens)["sub"] == user.sub


def test_invalid_claims_json_is_invalid_request(
    app: Flask, client: FlaskClient, email_rp: RP, user: Any
) -> None:
    sign_in(app, client, user)
    _, challenge = pkce_pair()
    for bad in ("{not json", "[1]", '{"userinfo": 3}', '{"id_token": {"sub": {"value": 5}}}'):
        response = authorize(
            client, email_rp, claims=bad, code_challenge=challenge, code_challenge_method="S256"
        )
        assert query_of(response.headers["Location"])["error"] == "invalid_request", bad


def test_consent_page_lists_the_claims_beyond_the_scopes_and_remembers_them(
    app: Flask, client: FlaskClient, user: Any
) -> None:
    rp = register_client(name="Escalafón", scopes=[*EMAIL_SCOPES, "phone"])
    sign_in(app, client, user)
    _, challenge = pkce_pair()
    pkce = {"code_challenge": challenge, "code_challenge_method": "S256"}
    requested = claims(userinfo={"email": None, "dni": None}, id_token={"phone_number": None})
    response = authorize(client, rp, scope="openid", claims=requested, **pkce)
    page = response.get_data(as_text=True)
    form = consent_form(response)
    assert "Además, pidió estos datos uno por uno:" in page
    assert "Su correo electrónico" in page
    assert "Su número de teléfono" in page
    assert "Su número de DNI" not in page  # not the client's: never asked, never released
    answer(client, form, "allow")
    consent = db.session.query(Consent).one()
    assert consent.claims == ["email", "phone_number"]
    # Remembered: the same request goes straight to the code.
    again = authorize(client, rp, scope="openid", claims=requested, **pkce)
    assert "code" in query_of(again.headers["Location"])
    # A claim not yet allowed is asked for again.
    more = claims(userinfo={"email_verified": None})
    consent_form(authorize(client, rp, scope="openid", claims=more, **pkce))


def test_consent_page_in_english_lists_the_claims(
    app: Flask, client: FlaskClient, user: Any
) -> None:
    rp = register_client(scopes=EMAIL_SCOPES)
    sign_in(app, client, user)
    _, challenge = pkce_pair()
    response = authorize(
        client,
        rp,
        scope="openid",
        claims=claims(userinfo={"email": None}),
        ui_locales="en",
        code_challenge=challenge,
        code_challenge_method="S256",
    )
    page = response.get_data(as_text=True)
    assert "also asked for these data one by one" in page
    assert "Your e-mail address" in page


def test_claims_within_the_scopes_need_no_extra_consent(
    app: Flask, client: FlaskClient, user: Any
) -> None:
    rp = register_client(scopes=EMAIL_SCOPES)
    sign_in(app, client, user)
    _, challenge = pkce_pair()
    pkce = {"code_challenge": challenge, "code_challenge_method": "S256"}
    answer(client, consent_form(authorize(client, rp, scope="openid email", **pkce)), "allow")
    response = authorize(
        client, rp, scope="openid", claims=claims(userinfo={"email": None}), **pkce
    )
    assert "code" in query_of(response.headers["Location"])


def test_discovery_advertises_the_claims_parameter(client: FlaskClient) -> None:
    metadata = client.get("/.well-known/openid-configuration").get_json()
    assert metadata["claims_parameter_supported"] is True
    for claim in ("sub", "email", "email_verified", "phone_number", "address", "dni", "acr"):
        assert claim in metadata["claims_supported"]
