"""Token introspection (RFC 7662)."""

from __future__ import annotations

from tests.integration.oidc.conftest import full_flow
from tests.integration.oidc.conftest import register_client


def introspect(client, rp, token, hint=None):
    data = {"token": token}
    if hint:
        data["token_type_hint"] = hint
    return client.post("/introspect", data=data, headers=rp.basic_auth())


def test_active_access_token_is_described(app, client, rp, user) -> None:
    tokens = full_flow(app, client, rp, user, scope="openid email")
    body = introspect(client, rp, tokens["access_token"]).get_json()
    assert body["active"] is True
    assert body["client_id"] == rp.client_id
    assert body["sub"] == user.sub
    assert body["scope"] == "openid email"
    assert body["exp"] > body["iat"]


def test_refresh_token_can_be_introspected(app, client, rp, user) -> None:
    tokens = full_flow(app, client, rp, user)
    body = introspect(client, rp, tokens["refresh_token"], "refresh_token").get_json()
    assert body["active"] is True


def test_revoked_and_unknown_tokens_are_inactive(app, client, rp, user) -> None:
    tokens = full_flow(app, client, rp, user)
    client.post("/revoke", data={"token": tokens["access_token"]}, headers=rp.basic_auth())
    assert introspect(client, rp, tokens["access_token"]).get_json() == {"active": False}
    assert introspect(client, rp, "garbage").get_json() == {"active": False}


def test_other_clients_see_inactive_unless_resource_server(app, client, rp, user) -> None:
    tokens = full_flow(app, client, rp, user)
    other = register_client(skip_consent=True)
    assert introspect(client, other, tokens["access_token"]).get_json() == {"active": False}
    api = register_client(
        redirect_uris=[],
        grant_types=["client_credentials"],
        scopes=["boletas:read"],
        is_resource_server=True,
    )
    assert introspect(client, api, tokens["access_token"]).get_json()["active"] is True


def test_introspection_needs_client_authentication(app, client, rp, user) -> None:
    tokens = full_flow(app, client, rp, user)
    response = client.post("/introspect", data={"token": tokens["access_token"]})
    assert response.status_code == 401
