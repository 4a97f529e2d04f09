"""Refresh tokens: rotation on every use, reuse detection, session binding, offline_access."""

from __future__ import annotations

from passport.extensions import db
from passport.login.models import SSOSession
from passport.login.sessions import end_sso_session
from tests.integration.oidc.conftest import full_flow
from tests.integration.oidc.conftest import refresh
from tests.integration.oidc.conftest import register_client
from tests.integration.oidc.conftest import verify_jwt


def userinfo_status(client, access_token: str) -> int:
    return client.get("/userinfo", headers={"Authorization": f"Bearer {access_token}"}).status_code


def test_refresh_rotates_the_refresh_token(app, client, rp, user) -> None:
    tokens = full_flow(app, client, rp, user)
    response = refresh(client, rp, tokens["refresh_token"])
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["refresh_token"] != tokens["refresh_token"]
    assert body["access_token"] != tokens["access_token"]
    claims = verify_jwt(client, body["id_token"]).claims
    assert claims["sub"] == user.sub
    assert userinfo_status(client, body["access_token"]) == 200
    second = refresh(client, rp, body["refresh_token"])
    assert second.status_code == 200


def test_reusing_a_rotated_refresh_token_revokes_the_family(app, client, rp, user) -> None:
    tokens = full_flow(app, client, rp, user)
    rotated = refresh(client, rp, tokens["refresh_token"]).get_json()
    reuse = refresh(client, rp, tokens["refresh_token"])
    assert reuse.status_code == 400
    assert reuse.get_json()["error"] == "invalid_grant"
    assert refresh(client, rp, rotated["refresh_token"]).get_json()["error"] == "invalid_grant"
    assert userinfo_status(client, rotated["access_token"]) == 401


def test_refresh_token_of_another_client_is_invalid_grant(app, client, rp, user) -> None:
    tokens = full_flow(app, client, rp, user)
    other = register_client(skip_consent=True)
    assert refresh(client, other, tokens["refresh_token"]).get_json()["error"] == "invalid_grant"
    # The rightful client is not harmed by the attempt.
    assert refresh(client, rp, tokens["refresh_token"]).status_code == 200


def test_refresh_cannot_widen_the_scope(app, client, rp, user) -> None:
    tokens = full_flow(app, client, rp, user, scope="openid email")
    response = client.post(
        "/token",
        data={
            "grant_type": "refresh_token",
            "refresh_token": tokens["refresh_token"],
            "scope": "openid email dni",
        },
        headers=rp.basic_auth(),
    )
    assert response.get_json()["error"] == "invalid_scope"


def test_ending_the_session_ends_its_tokens_but_not_offline_ones(app, client, rp, user) -> None:
    online = full_flow(app, client, rp, user)
    session = db.session.scalars(db.select(SSOSession)).all()[-1]
    offline = full_flow(app, client, rp, user, scope="openid offline_access")
    offline_session = db.session.scalars(db.select(SSOSession)).all()[-1]
    end_sso_session(session, "logout")
    end_sso_session(offline_session, "logout")
    assert refresh(client, rp, online["refresh_token"]).get_json()["error"] == "invalid_grant"
    assert userinfo_status(client, online["access_token"]) == 401
    assert refresh(client, rp, offline["refresh_token"]).status_code == 200


def test_garbage_refresh_token_is_invalid_grant(client, rp) -> None:
    assert refresh(client, rp, "garbage").get_json()["error"] == "invalid_grant"
