"""The FAPI 2.0 client profile: what registration refuses and what /par, /authorize enforce."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from passport.extensions import db
from passport.oidc.errors import InvalidClientMetadata
from passport.oidc.models import AuthorizationCode
from passport.oidc.models import OAuthClient
from tests.dpop_proofs import DPoPKey
from tests.integration.oidc.conftest import ISSUER
from tests.integration.oidc.conftest import pkce_pair
from tests.integration.oidc.conftest import query_of
from tests.integration.oidc.conftest import register_client
from tests.integration.oidc.conftest import sign_in
from tests.integration.oidc.pushed import assertion_auth
from tests.integration.oidc.pushed import key_client
from tests.integration.oidc.pushed import push
from tests.integration.oidc.pushed import pushed_with_pkce
from tests.integration.oidc.pushed import request_object
from tests.integration.oidc.pushed import rsa_key


@pytest.fixture
def key():
    return rsa_key()


@pytest.fixture
def fapi_rp(app, key):
    return key_client(key, fapi2_profile=True)


def authorize_with(client, rp, request_uri):
    return client.get(
        "/authorize", query_string={"client_id": rp.client_id, "request_uri": request_uri}
    )


def token_request(client, rp, key, code, verifier, proof="fresh"):
    """The code's token request; a FAPI 2.0 client's carries a DPoP proof (RFC 9449)."""
    headers = {}
    if proof == "fresh":
        proof = DPoPKey().proof("POST", "/token")
    if proof is not None:
        headers["DPoP"] = proof
    return client.post(
        "/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": rp.redirect_uri,
            "code_verifier": verifier,
            **assertion_auth(rp, key, audience=ISSUER + "/token"),
        },
        headers=headers,
    )


def test_a_fapi_client_completes_the_code_flow(app, client, fapi_rp, key, user) -> None:
    request_uri, verifier = pushed_with_pkce(client, fapi_rp, key)
    sign_in(app, client, user)
    response = authorize_with(client, fapi_rp, request_uri)
    query = query_of(response.headers["Location"])
    assert query["iss"] == ISSUER  # RFC 9207, on every authorization response
    # §5.3.2.1: sender-constrained tokens, through DPoP: no proof, no tokens.
    refused = token_request(client, fapi_rp, key, query["code"], verifier, proof=None)
    assert refused.status_code == 400
    assert refused.get_json()["error"] == "invalid_dpop_proof"
    tokens = token_request(client, fapi_rp, key, query["code"], verifier)
    assert tokens.status_code == 200, tokens.get_json()
    assert tokens.get_json()["token_type"] == "DPoP"


def test_the_profile_implies_pushed_requests(app, fapi_rp) -> None:
    row = db.session.scalar(select(OAuthClient).where(OAuthClient.client_id == fapi_rp.client_id))
    assert row.fapi2_profile is True
    assert row.require_pushed_authorization_requests is True
    assert row.dpop_bound_access_tokens is True


def test_a_fapi_client_must_use_private_key_jwt(app, key) -> None:
    for method in ("client_secret_basic", "client_secret_post", "none"):
        with pytest.raises(InvalidClientMetadata) as refused:
            register_client(
                token_endpoint_auth_method=method,
                fapi2_profile=True,
                jwks={"keys": [key.as_dict(private=False)]},
            )
        assert refused.value.field == "token_endpoint_auth_method"


def test_a_fapi_client_without_par_is_refused(app, client, fapi_rp, key, user) -> None:
    sign_in(app, client, user)
    _, challenge = pkce_pair()
    plain = {
        "client_id": fapi_rp.client_id,
        "redirect_uri": fapi_rp.redirect_uri,
        "response_type": "code",
        "scope": "openid",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    response = client.get("/authorize", query_string=plain)
    assert query_of(response.headers["Location"])["error"] == "invalid_request"
    # A signed request by value is not a pushed one either.
    signed = request_object(fapi_rp, key, code_challenge=challenge, code_challenge_method="S256")
    response = client.get(
        "/authorize",
        query_string={
            "client_id": fapi_rp.client_id,
            "request": signed,
            "redirect_uri": fapi_rp.redirect_uri,
        },
    )
    assert query_of(response.headers["Location"])["error"] == "invalid_request"


@pytest.mark.parametrize(
    "pkce",
    [
        {},
        {"code_challenge": "x" * 43, "code_challenge_method": "plain"},
        {"code_challenge": "x" * 43},
    ],
)
def test_a_fapi_client_must_send_pkce_s256(client, fapi_rp, key, pkce) -> None:
    response = push(client, fapi_rp, key, **pkce)
    assert response.status_code == 400, response.get_json()
    assert response.get_json()["error"] == "invalid_request"


def test_a_fapi_client_may_only_ask_for_a_code(client, fapi_rp, key) -> None:
    _, challenge = pkce_pair()
    for response_type in ("code id_token", "token"):
        response = push(
            client,
            fapi_rp,
            key,
            response_type=response_type,
            code_challenge=challenge,
            code_challenge_method="S256",
        )
        assert response.get_json()["error"] == "unsupported_response_type"


def test_a_fapi_client_must_name_its_redirect_uri_in_par(client, fapi_rp, key) -> None:
    _, challenge = pkce_pair()
    response = push(
        client,
        fapi_rp,
        key,
        redirect_uri=None,
        code_challenge=challenge,
        code_challenge_method="S256",
    )
    assert response.status_code == 400
    assert response.get_json()["error"] == "invalid_request"


def test_a_fapi_client_cannot_use_a_secret_at_par(client, fapi_rp) -> None:
    fapi_rp.client_secret = "guessed"
    response = push(client, fapi_rp)
    assert response.status_code == 401
    assert response.get_json()["error"] == "invalid_client"


def test_codes_of_a_fapi_client_live_at_most_60_seconds(app, client, fapi_rp, key, user) -> None:
    other = register_client(skip_consent=True)
    app.config["AUTHORIZATION_CODE_TTL_SECONDS"] = 300
    try:
        sign_in(app, client, user)
        request_uri, _ = pushed_with_pkce(client, fapi_rp, key)
        assert "code" in query_of(authorize_with(client, fapi_rp, request_uri).headers["Location"])
        request_uri, _ = pushed_with_pkce(client, other)
        assert "code" in query_of(authorize_with(client, other, request_uri).headers["Location"])
    finally:
        app.config["AUTHORIZATION_CODE_TTL_SECONDS"] = 60
    lifetimes = {
        client_id: (code.expires_at - code.created_at).total_seconds()
        for code, client_id in db.session.execute(
            select(AuthorizationCode, OAuthClient.client_id).join(
                OAuthClient, OAuthClient.id == AuthorizationCode.client_pk
            )
        )
    }
    assert lifetimes == {fapi_rp.client_id: 60, other.client_id: 300}


def test_a_fapi_request_object_needs_nbf(app, client, fapi_rp, key) -> None:
    _, challenge = pkce_pair()
    signed = request_object(
        fapi_rp, key, drop=("nbf",), code_challenge=challenge, code_challenge_method="S256"
    )
    response = push(client, fapi_rp, key, request=signed)
    assert response.get_json()["error"] == "invalid_request_object"


def test_the_profile_through_the_cli_and_registration(app, client, key) -> None:
    from passport.cli import cli
    from passport.cli import register_groups
    from passport.oidc.registration import create_initial_access_token

    register_groups()
    jwks = json.dumps({"keys": [key.as_dict(private=False)]})
    base = ["clients", "create", "--name", "Planillas", "--redirect-uri", "https://p.gob.pe/cb"]
    refused = app.test_cli_runner().invoke(
        cli, [*base, "--auth-method", "client_secret_basic", "--fapi2", "--json"]
    )
    assert refused.exit_code == 1
    assert "private_key_jwt" in refused.output
    created = app.test_cli_runner().invoke(
        cli, [*base, "--auth-method", "private_key_jwt", "--jwks-json", jwks, "--fapi2", "--json"]
    )
    assert created.exit_code == 0, created.output
    client_id = json.loads(created.output)["client_id"]
    shown = json.loads(
        app.test_cli_runner().invoke(cli, ["clients", "show", client_id, "--json"]).output
    )
    assert shown["fapi2_profile"] is True
    assert shown["require_pushed_authorization_requests"] is True
    token = create_initial_access_token(3600, 2)[0]
    metadata = {
        "client_name": "Planillas",
        "redirect_uris": ["https://p.gob.pe/cb"],
        "token_endpoint_auth_method": "client_secret_basic",
        "fapi2_profile": True,
    }
    headers = {"Authorization": f"Bearer {token}"}
    bad = client.post("/register", json=metadata, headers=headers)
    assert bad.status_code == 400
    assert bad.get_json()["error"] == "invalid_client_metadata"
    good = client.post(
        "/register",
        json={
            **metadata,
            "token_endpoint_auth_method": "private_key_jwt",
            "jwks": {"keys": [key.as_dict(private=False)]},
        },
        headers=headers,
    )
    assert good.status_code == 201, good.get_json()
    assert good.get_json()["fapi2_profile"] is True
    assert good.get_json()["require_pushed_authorization_requests"] is True
