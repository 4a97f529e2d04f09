"""The JWKS: public keys only, cacheable, and used to sign ID tokens."""

from __future__ import annotations

from tests.integration.oidc.conftest import full_flow
from tests.integration.oidc.conftest import register_client
from tests.integration.oidc.conftest import verify_jwt


def test_jwks_publishes_public_rsa_and_ec_keys_only(client) -> None:
    response = client.get("/jwks.json")
    assert response.status_code == 200
    assert "max-age=" in response.headers["Cache-Control"]
    keys = response.get_json()["keys"]
    assert {key["kty"] for key in keys} == {"RSA", "EC"}
    for key in keys:
        assert key["kid"]
        assert key["use"] == "sig"
        assert not {"d", "p", "q", "dp", "dq", "qi"} & set(key)


def test_id_token_is_rs256_by_default_and_es256_on_request(app, client, user) -> None:
    rs = register_client(skip_consent=True)
    tokens = full_flow(app, client, rs, user)
    assert verify_jwt(client, tokens["id_token"], ["RS256"]).header["alg"] == "RS256"
    es = register_client(skip_consent=True, id_token_signed_response_alg="ES256")
    tokens = full_flow(app, client, es, user)
    token = verify_jwt(client, tokens["id_token"], ["ES256"])
    assert token.header["alg"] == "ES256"
    assert token.header["kid"] in {k["kid"] for k in client.get("/jwks.json").get_json()["keys"]}
