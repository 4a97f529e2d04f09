"""The FAPI 2.0 client profile: what registration refuses and what /par, /authorize enforce."""

from __future__ import annotations

import json

import pytest
from joserfc import jwk
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
from tests.integration.oidc.pushed import authorization_params
from tests.integration.oidc.pushed import key_client
from tests.integration.oidc.pushed import push
from tests.integration.oidc.pushed import pushed_with_pkce
from tests.integration.oidc.pushed import request_object
from tests.integration.oidc.pushed import rsa_key


@pytest.fixture
def key():
    # FAPI 2.0 §5.4.1: PS256, not RS256 (the helpers sign with the key's alg).
    return rsa_key(alg="PS256")


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


# FAPI 2.0 Security Profile §5.4.1: PS256, ES256 or EdDSA (Ed25519); RS256 is refused from a
# FAPI 2.0 client wherever it signs: client assertions, request objects, DPoP proofs.


def rs256(key):
    """The same RSA key, made to sign with RS256."""
    return jwk.RSAKey.import_key({**key.as_dict(private=True), "alg": "RS256"})


def fapi_tokens(app, client, fapi_rp, key, user, dpop_key):
    request_uri, verifier = pushed_with_pkce(client, fapi_rp, key)
    sign_in(app, client, user)
    code = query_of(authorize_with(client, fapi_rp, request_uri).headers["Location"])["code"]
    proof = dpop_key.proof("POST", "/token")
    response = token_request(client, fapi_rp, key, code, verifier, proof=proof)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


@pytest.mark.parametrize("path", ["/par", "/token", "/introspect", "/revoke"])
def test_a_fapi_client_assertion_signed_rs256_is_refused(client, fapi_rp, key, path) -> None:
    form = {"token": "no-such-token"} if path in ("/introspect", "/revoke") else {}
    if path == "/par":
        form = authorization_params(fapi_rp)
    elif path == "/token":
        form = {"grant_type": "client_credentials"}
    audience = ISSUER + path if path in ("/par", "/token") else ISSUER
    for signer, status in ((rs256(key), 401), (key, None)):
        response = client.post(
            path, data={**form, **assertion_auth(fapi_rp, signer, audience=audience)}
        )
        if status is not None:
            assert response.status_code == status, (path, response.get_json())
            assert response.get_json()["error"] == "invalid_client"
        else:  # PS256, the same key: authenticated (whatever the request then gets)
            assert response.status_code != 401, (path, response.get_json())


def test_a_non_fapi_client_may_still_sign_its_assertions_rs256(client, key) -> None:
    rp = key_client(rs256(key), grant_types=["client_credentials"], scopes=["openid"])
    response = client.post(
        "/introspect",
        data={"token": "no-such-token", **assertion_auth(rp, rs256(key), ISSUER)},
    )
    assert response.status_code == 200, response.get_json()


def test_a_fapi_request_object_signed_rs256_is_refused(client, fapi_rp, key) -> None:
    _, challenge = pkce_pair()
    claims = {"code_challenge": challenge, "code_challenge_method": "S256"}
    refused = push(client, fapi_rp, key, request=request_object(fapi_rp, rs256(key), **claims))
    assert refused.status_code == 400, refused.get_json()
    assert refused.get_json()["error"] == "invalid_request_object"
    accepted = push(client, fapi_rp, key, request=request_object(fapi_rp, key, **claims))
    assert accepted.status_code == 201, accepted.get_json()


def test_a_fapi_client_cannot_pin_rs256_request_objects(app, key) -> None:
    with pytest.raises(InvalidClientMetadata) as refused:
        key_client(key, fapi2_profile=True, request_object_signing_alg="RS256")
    assert refused.value.field == "request_object_signing_alg"


def test_a_fapi_dpop_proof_signed_rs256_is_refused_at_par_and_token(
    app, client, fapi_rp, key, user
) -> None:
    rsa = DPoPKey("RS256")
    response = client.post(
        "/par",
        data={**authorization_params(fapi_rp), **assertion_auth(fapi_rp, key)},
        headers={"DPoP": rsa.proof("POST", "/par")},
    )
    assert response.status_code == 400, response.get_json()
    assert response.get_json()["error"] == "invalid_dpop_proof"
    request_uri, verifier = pushed_with_pkce(client, fapi_rp, key)
    sign_in(app, client, user)
    code = query_of(authorize_with(client, fapi_rp, request_uri).headers["Location"])["code"]
    refused = token_request(client, fapi_rp, key, code, verifier, proof=rsa.proof("POST", "/token"))
    assert refused.status_code == 400, refused.get_json()
    assert refused.get_json()["error"] == "invalid_dpop_proof"
    # The code is still good (the proof is checked before the code is redeemed): PS256 passes.
    ps256 = DPoPKey("PS256")
    accepted = token_request(
        client, fapi_rp, key, code, verifier, proof=ps256.proof("POST", "/token")
    )
    assert accepted.status_code == 200, accepted.get_json()


def test_a_fapi_dpop_proof_signed_rs256_is_refused_at_userinfo(
    app, client, fapi_rp, key, user
) -> None:
    dpop_key = DPoPKey("PS256")
    access_token = fapi_tokens(app, client, fapi_rp, key, user, dpop_key)["access_token"]
    # The same RSA key (the token's binding), signing RS256 instead of PS256.
    as_rs256 = DPoPKey("RS256")
    as_rs256.key = dpop_key.key
    headers = {"Authorization": f"DPoP {access_token}"}
    refused = client.get(
        "/userinfo",
        headers={**headers, "DPoP": as_rs256.proof("GET", "/userinfo", access_token=access_token)},
    )
    assert refused.status_code == 401
    assert "invalid_dpop_proof" in refused.headers["WWW-Authenticate"]
    accepted = client.get(
        "/userinfo",
        headers={**headers, "DPoP": dpop_key.proof("GET", "/userinfo", access_token=access_token)},
    )
    assert accepted.status_code == 200, accepted.get_json()
