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
from tests.integration.oidc.pushed import without_alg


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


def signing_as(key, alg):
    """The same key, made to sign with ``alg`` (the helpers sign with the key's alg member)."""
    return type(key).import_key({**key.as_dict(private=True), "alg": alg})


def rs256(key):
    """The same RSA key, made to sign with RS256."""
    return signing_as(key, "RS256")


def fapi_tokens(app, client, fapi_rp, key, user, dpop_key):
    request_uri, verifier = pushed_with_pkce(client, fapi_rp, key)
    sign_in(app, client, user)
    code = query_of(authorize_with(client, fapi_rp, request_uri).headers["Location"])["code"]
    proof = dpop_key.proof("POST", "/token")
    response = token_request(client, fapi_rp, key, code, verifier, proof=proof)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


ASSERTION_ENDPOINTS = ["/par", "/token", "/introspect", "/revoke"]


def authenticated_post(client, rp, signer, path):
    """POST to ``path`` with a client assertion ``signer`` signs (the audience ``path`` takes)."""
    form = {"token": "no-such-token"} if path in ("/introspect", "/revoke") else {}
    if path == "/par":
        form = authorization_params(rp)
    elif path == "/token":
        form = {"grant_type": "client_credentials"}
    audience = ISSUER + path if path in ("/par", "/token") else ISSUER
    return client.post(path, data={**form, **assertion_auth(rp, signer, audience=audience)})


def assert_authentication(response, path, *, refused) -> None:
    """401 invalid_client when ``refused``, else authenticated (whatever the request then gets)."""
    if refused:
        assert response.status_code == 401, (path, response.get_json())
        assert response.get_json()["error"] == "invalid_client"
    else:
        assert response.status_code != 401, (path, response.get_json())


@pytest.mark.parametrize("path", ASSERTION_ENDPOINTS)
def test_a_fapi_client_assertion_signed_rs256_is_refused(client, fapi_rp, key, path) -> None:
    refused = authenticated_post(client, fapi_rp, rs256(key), path)
    assert_authentication(refused, path, refused=True)
    # PS256, the same key: authenticated.
    assert_authentication(authenticated_post(client, fapi_rp, key, path), path, refused=False)


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


# DPoP keys as DPoPKey's arguments: what a FAPI 2.0 client's proof is refused with, and what
# it is then accepted with. "EdDSA" with an Ed448 key is EdDSA, but not the Ed25519 variant.
REFUSED_DPOP_KEYS = [
    pytest.param(("RS256",), ("PS256",), id="RS256"),
    pytest.param(("EdDSA", "Ed448"), ("EdDSA",), id="EdDSA-Ed448"),
    pytest.param(("Ed448",), ("Ed25519",), id="Ed448"),
]


@pytest.mark.parametrize(("refused_key", "accepted_key"), REFUSED_DPOP_KEYS)
def test_a_fapi_dpop_proof_outside_the_profile_is_refused_at_par_and_token(
    app, client, fapi_rp, key, user, refused_key, accepted_key
) -> None:
    outside = DPoPKey(*refused_key)
    response = client.post(
        "/par",
        data={**authorization_params(fapi_rp), **assertion_auth(fapi_rp, key)},
        headers={"DPoP": outside.proof("POST", "/par")},
    )
    assert response.status_code == 400, response.get_json()
    assert response.get_json()["error"] == "invalid_dpop_proof"
    request_uri, verifier = pushed_with_pkce(client, fapi_rp, key)
    sign_in(app, client, user)
    code = query_of(authorize_with(client, fapi_rp, request_uri).headers["Location"])["code"]
    proof = outside.proof("POST", "/token")
    refused = token_request(client, fapi_rp, key, code, verifier, proof=proof)
    assert refused.status_code == 400, refused.get_json()
    assert refused.get_json()["error"] == "invalid_dpop_proof"
    # The code is still good (the proof is checked before the code is redeemed).
    proof = DPoPKey(*accepted_key).proof("POST", "/token")
    accepted = token_request(client, fapi_rp, key, code, verifier, proof=proof)
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


# §5.4.1 names EdDSA "using the Ed25519 variant": the alg name "EdDSA" covers Ed448 too, so
# the key decides. A FAPI 2.0 client's Ed448 key is refused whatever the header's alg ("EdDSA",
# or RFC 9864's "Ed448"), in assertions, request objects and DPoP proofs; a client outside the
# profile keeps the Ed448 key it has today.


def okp_key(curve, kid):
    return jwk.OKPKey.generate_key(curve, parameters={"kid": kid, "alg": "EdDSA"}, private=True)


@pytest.fixture
def ed448():
    return okp_key("Ed448", "rp-ed448")


@pytest.fixture
def ed25519():
    return okp_key("Ed25519", "rp-ed25519")


@pytest.fixture
def edwards_rp(app, key, ed448, ed25519):
    """A FAPI 2.0 client whose key set holds its PS256 key, an Ed448 and an Ed25519 key."""
    public = [without_alg(k.as_dict(private=False)) for k in (key, ed448, ed25519)]
    return key_client(key, fapi2_profile=True, jwks={"keys": public})


@pytest.mark.parametrize("path", ASSERTION_ENDPOINTS)
def test_a_fapi_client_assertion_signed_with_ed448_is_refused(
    client, edwards_rp, ed448, ed25519, path
) -> None:
    for signer in (ed448, signing_as(ed448, "Ed448")):
        refused = authenticated_post(client, edwards_rp, signer, path)
        assert_authentication(refused, path, refused=True)
    for signer in (ed25519, signing_as(ed25519, "Ed25519")):
        accepted = authenticated_post(client, edwards_rp, signer, path)
        assert_authentication(accepted, path, refused=False)


def test_a_non_fapi_client_may_still_sign_its_assertions_with_ed448(client, ed448) -> None:
    rp = key_client(ed448, grant_types=["client_credentials"], scopes=["openid"])
    response = client.post(
        "/introspect", data={"token": "no-such-token", **assertion_auth(rp, ed448, ISSUER)}
    )
    assert response.status_code == 200, response.get_json()


def test_a_fapi_client_signs_only_with_keys_the_profile_allows(app, edwards_rp, key) -> None:
    """The one rule (client_validation.client_signing_key_allowed) behind the registered keys
    of assertions and request objects; the client row keeps all three keys."""
    from passport.oidc.client_keys import client_public_keys
    from passport.oidc.clients import find_client

    registered = find_client(edwards_rp.client_id)
    assert registered is not None
    assert len(registered.jwks["keys"]) == 3
    assert {k.kid for k in client_public_keys(registered)} == {key.kid, "rp-ed25519"}


def test_a_fapi_request_object_signed_with_ed448_is_refused(client, edwards_rp, key, ed448) -> None:
    _, challenge = pkce_pair()
    claims = {"code_challenge": challenge, "code_challenge_method": "S256"}
    for signer in (ed448, signing_as(ed448, "Ed448")):
        signed = request_object(edwards_rp, signer, **claims)
        refused = push(client, edwards_rp, key, request=signed)
        assert refused.status_code == 400, refused.get_json()
        assert refused.get_json()["error"] == "invalid_request_object"
    accepted = push(client, edwards_rp, key, request=request_object(edwards_rp, key, **claims))
    assert accepted.status_code == 201, accepted.get_json()


@pytest.mark.parametrize("alg", ["EdDSA", "Ed448"])
def test_an_ed448_dpop_proof_is_refused_at_userinfo_once_the_client_is_fapi(
    app, client, rp, user, alg
) -> None:
    """A token bound to an Ed448 key while its client was outside the profile (accepted, as
    today) is refused at /userinfo with such a proof once the client is FAPI 2.0."""
    from tests.integration.oidc.test_dpop_token import new_code
    from tests.integration.oidc.test_dpop_token import redeem_with

    ed448_key = DPoPKey("EdDSA", "Ed448")
    sign_in(app, client, user)
    code, verifier = new_code(client, rp)
    issued = redeem_with(client, rp, code, verifier, ed448_key.proof("POST", "/token"))
    assert issued.status_code == 200, issued.get_json()
    access_token = issued.get_json()["access_token"]
    as_alg = DPoPKey(alg)
    as_alg.key = ed448_key.key

    def userinfo():
        proof = as_alg.proof("GET", "/userinfo", access_token=access_token)
        headers = {"Authorization": f"DPoP {access_token}", "DPoP": proof}
        return client.get("/userinfo", headers=headers)

    if alg == "EdDSA":  # outside the profile, what is accepted today
        assert userinfo().status_code == 200
    row = db.session.scalars(select(OAuthClient).filter_by(client_id=rp.client_id)).one()
    row.fapi2_profile = True
    db.session.commit()
    refused = userinfo()
    assert refused.status_code == 401
    assert 'error="invalid_dpop_proof"' in refused.headers["WWW-Authenticate"]
