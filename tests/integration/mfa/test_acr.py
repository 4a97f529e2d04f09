"""acr_values and the claims parameter's acr: step-up, voluntary and essential requests."""

from __future__ import annotations

import json
from datetime import timedelta

import pyotp
import time_machine
from flask import Flask
from flask.testing import FlaskClient

from passport.database import utcnow
from passport.mfa.assurance import ACR_MFA
from passport.mfa.assurance import ACR_ONE_FACTOR
from passport.mfa.assurance import ACR_PHISHING_RESISTANT
from tests.factories import make_user
from tests.helpers import post_form
from tests.integration.mfa.conftest import enrol
from tests.integration.mfa.conftest import password_step
from tests.integration.oidc.conftest import RP
from tests.integration.oidc.conftest import authorize
from tests.integration.oidc.conftest import query_of
from tests.integration.oidc.conftest import redeem
from tests.integration.oidc.conftest import register_client
from tests.integration.oidc.conftest import sign_in
from tests.integration.oidc.conftest import verify_jwt

ESSENTIAL_MFA = json.dumps({"id_token": {"acr": {"essential": True, "values": [ACR_MFA]}}})


def id_token_claims(client: FlaskClient, rp: RP, response) -> dict:  # type: ignore[no-untyped-def]
    query = query_of(response.headers["Location"])
    assert "code" in query, query
    tokens = redeem(client, rp, query["code"]).get_json()
    return dict(verify_jwt(client, tokens["id_token"]).claims)


def test_discovery_advertises_every_acr_value(app: Flask, client: FlaskClient) -> None:
    app.extensions.pop("passport.oidc.discovery_json", None)
    doc = client.get("/.well-known/openid-configuration").get_json()
    assert doc["acr_values_supported"] == [ACR_ONE_FACTOR, ACR_MFA, ACR_PHISHING_RESISTANT]


def test_a_voluntary_request_without_totp_gets_what_was_achieved(
    app: Flask, client: FlaskClient
) -> None:
    rp = register_client(skip_consent=True)
    user = make_user()
    password_step(client, user.dni)
    response = authorize(client, rp, acr_values=ACR_MFA)
    claims = id_token_claims(client, rp, response)
    assert claims["acr"] == ACR_ONE_FACTOR
    assert claims["amr"] == ["pwd"]


def test_an_essential_request_without_totp_is_access_denied(
    app: Flask, client: FlaskClient
) -> None:
    rp = register_client(skip_consent=True)
    user = make_user()
    password_step(client, user.dni)
    response = authorize(client, rp, claims=ESSENTIAL_MFA)
    query = query_of(response.headers["Location"])
    assert query["error"] == "access_denied"
    assert query["state"] == "st-123"


def test_an_essential_request_that_accepts_one_factor_is_met(
    app: Flask, client: FlaskClient
) -> None:
    rp = register_client(skip_consent=True)
    user = make_user()
    password_step(client, user.dni)
    claims_param = json.dumps(
        {"id_token": {"acr": {"essential": True, "values": [ACR_MFA, ACR_ONE_FACTOR]}}}
    )
    claims = id_token_claims(client, rp, authorize(client, rp, claims=claims_param))
    assert claims["acr"] == ACR_ONE_FACTOR


def test_a_totp_user_without_otp_in_the_session_steps_up_and_the_request_resumes(
    app: Flask, client: FlaskClient
) -> None:
    rp = register_client(skip_consent=True)
    user = make_user()
    secret, _ = enrol(user)
    sign_in(app, client, user, ["pwd"])  # e.g. a session from before TOTP was turned on
    start = authorize(client, rp, claims=ESSENTIAL_MFA)
    location = start.headers["Location"]
    assert location.startswith("/mi-cuenta/verificar?next=")
    with time_machine.travel(utcnow() + timedelta(seconds=31), tick=False):
        done = post_form(client, location, code=pyotp.TOTP(secret).now())
    assert done.headers["Location"].startswith("/authorize/resume?authz=")
    claims = id_token_claims(client, rp, client.get(done.headers["Location"]))
    assert claims["amr"] == ["pwd", "otp"]
    assert claims["acr"] == ACR_MFA


def test_acr_values_preferring_two_steps_also_step_up(app: Flask, client: FlaskClient) -> None:
    rp = register_client(skip_consent=True)
    user = make_user()
    enrol(user)
    sign_in(app, client, user, ["pwd"])
    start = authorize(client, rp, acr_values=f"{ACR_MFA} {ACR_ONE_FACTOR}")
    assert start.headers["Location"].startswith("/mi-cuenta/verificar?next=")
    # A one-factor preference first: no step-up.
    plain = authorize(client, rp, acr_values=f"{ACR_ONE_FACTOR} {ACR_MFA}")
    assert "code" in query_of(plain.headers["Location"])


def test_prompt_none_cannot_step_up(app: Flask, client: FlaskClient) -> None:
    rp = register_client(skip_consent=True)
    user = make_user()
    enrol(user)
    sign_in(app, client, user, ["pwd"])
    response = authorize(client, rp, acr_values=ACR_MFA, prompt="none")
    assert query_of(response.headers["Location"])["error"] == "interaction_required"


def test_a_session_with_otp_needs_no_step_up(app: Flask, client: FlaskClient) -> None:
    rp = register_client(skip_consent=True)
    user = make_user()
    enrol(user)
    sign_in(app, client, user, ["pwd", "otp"])
    response = authorize(client, rp, claims=ESSENTIAL_MFA)
    assert "code" in query_of(response.headers["Location"])
