"""A complete code flow, end to end."""

from __future__ import annotations

from tests.integration.oidc.conftest import ISSUER
from tests.integration.oidc.conftest import full_flow
from tests.integration.oidc.conftest import verify_jwt


def test_code_flow_gives_verifiable_id_token_and_userinfo(app, client, rp, user) -> None:
    tokens = full_flow(app, client, rp, user, scope="openid profile email")
    claims = verify_jwt(client, tokens["id_token"]).claims
    assert claims["iss"] == ISSUER
    assert claims["aud"] == rp.client_id
    assert claims["sub"] == user.sub
    assert claims["nonce"] == "n-456"
    info = client.get("/userinfo", headers={"Authorization": f"Bearer {tokens['access_token']}"})
    assert info.status_code == 200
    assert info.get_json()["email"] == user.email
