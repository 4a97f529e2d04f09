"""Token revocation (RFC 7009)."""

from __future__ import annotations

from tests.integration.oidc.conftest import full_flow
from tests.integration.oidc.conftest import refresh
from tests.integration.oidc.conftest import register_client


def bearer(client, token):
    return client.get("/userinfo", headers={"Authorization": f"Bearer {token}"}).status_code


def test_revoking_an_access_token(app, client, rp, user) -> None:
    tokens = full_flow(app, client, rp, user)
    response = client.post(
        "/revoke",
        data={"token": tokens["access_token"], "token_type_hint": "access_token"},
        headers=rp.basic_auth(),
    )
    assert response.status_code == 200
    assert bearer(client, tokens["access_token"]) == 401


def test_revoking_a_refresh_token_ends_its_access_tokens(app, client, rp, user) -> None:
    tokens = full_flow(app, client, rp, user)
    response = client.post(
        "/revoke", data={"token": tokens["refresh_token"]}, headers=rp.basic_auth()
    )
    assert response.status_code == 200
    assert refresh(client, rp, tokens["refresh_token"]).get_json()["error"] == "invalid_grant"
    assert bearer(client, tokens["access_token"]) == 401


def test_unknown_token_is_a_quiet_success(client, rp) -> None:
    response = client.post("/revoke", data={"token": "garbage"}, headers=rp.basic_auth())
    assert response.status_code == 200


def test_a_client_cannot_revoke_another_clients_token(app, client, rp, user) -> None:
    tokens = full_flow(app, client, rp, user)
    other = register_client(skip_consent=True)
    client.post("/revoke", data={"token": tokens["access_token"]}, headers=other.basic_auth())
    assert bearer(client, tokens["access_token"]) == 200


def test_revocation_needs_client_authentication(app, client, rp, user) -> None:
    tokens = full_flow(app, client, rp, user)
    response = client.post("/revoke", data={"token": tokens["access_token"]})
    assert response.status_code == 401
    assert response.get_json()["error"] == "invalid_client"
    missing = client.post("/revoke", data={}, headers=rp.basic_auth())
    assert missing.get_json()["error"] == "invalid_request"
