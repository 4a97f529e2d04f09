"""The token endpoint: authorization_code and client_credentials grants, ID token claims."""

from __future__ import annotations

import base64
import hashlib
from datetime import timedelta

import time_machine

from passport.database import utcnow
from tests.integration.oidc.conftest import ISSUER
from tests.integration.oidc.conftest import full_flow
from tests.integration.oidc.conftest import get_code
from tests.integration.oidc.conftest import redeem
from tests.integration.oidc.conftest import register_client
from tests.integration.oidc.conftest import sign_in
from tests.integration.oidc.conftest import verify_jwt


def test_token_response_is_bearer_no_store_with_all_id_token_claims(app, client, rp, user) -> None:
    sid = sign_in(app, client, user)
    code = get_code(client, rp, scope="openid profile")
    response = redeem(client, rp, code)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    body = response.get_json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] > 0
    claims = verify_jwt(client, body["id_token"]).claims
    assert claims["iss"] == ISSUER
    assert claims["aud"] == rp.client_id
    assert claims["azp"] == rp.client_id
    assert claims["sub"] == user.sub != user.dni
    assert claims["nonce"] == "n-456"
    assert claims["sid"] == sid
    assert claims["amr"] == ["pwd"]
    assert claims["exp"] > claims["iat"]
    assert isinstance(claims["auth_time"], int)
    digest = hashlib.sha256(body["access_token"].encode()).digest()
    assert claims["at_hash"] == base64.urlsafe_b64encode(digest[:16]).rstrip(b"=").decode()
    # No profile claims in the ID token unless asked for (OIDC Core §5.4).
    assert "name" not in claims
    assert "dni" not in claims


def test_code_is_single_use_and_reuse_revokes_issued_tokens(app, client, rp, user) -> None:
    sign_in(app, client, user)
    code = get_code(client, rp)
    first = redeem(client, rp, code)
    assert first.status_code == 200
    second = redeem(client, rp, code)
    assert second.status_code == 400
    assert second.get_json()["error"] == "invalid_grant"
    access = first.get_json()["access_token"]
    info = client.get("/userinfo", headers={"Authorization": f"Bearer {access}"})
    assert info.status_code == 401
    refreshed = client.post(
        "/token",
        data={"grant_type": "refresh_token", "refresh_token": first.get_json()["refresh_token"]},
        headers=rp.basic_auth(),
    )
    assert refreshed.get_json()["error"] == "invalid_grant"


def test_code_expires_after_sixty_seconds(app, client, rp, user) -> None:
    sign_in(app, client, user)
    code = get_code(client, rp)
    with time_machine.travel(utcnow() + timedelta(seconds=61)):
        response = redeem(client, rp, code)
    assert response.get_json()["error"] == "invalid_grant"


def test_code_is_bound_to_the_redirect_uri(app, client, user) -> None:
    rp = register_client(
        redirect_uris=["https://a.example.gob.pe/cb", "https://a.example.gob.pe/cb2"],
        skip_consent=True,
    )
    sign_in(app, client, user)
    code = get_code(client, rp)
    response = redeem(client, rp, code, redirect_uri="https://a.example.gob.pe/cb2")
    assert response.get_json()["error"] == "invalid_grant"


def test_code_is_bound_to_the_client(app, client, rp, user) -> None:
    other = register_client(skip_consent=True)
    sign_in(app, client, user)
    code = get_code(client, rp)
    response = redeem(client, other, code)
    assert response.get_json()["error"] == "invalid_grant"
    assert redeem(client, rp, code).status_code == 200


def test_garbage_code_and_unsupported_grant(client, rp) -> None:
    assert redeem(client, rp, "garbage").get_json()["error"] == "invalid_grant"
    response = client.post("/token", data={"grant_type": "password"}, headers=rp.basic_auth())
    assert response.get_json()["error"] == "unsupported_grant_type"
    response = client.post(
        "/token", data={"grant_type": "authorization_code"}, headers=rp.basic_auth()
    )
    assert response.get_json()["error"] == "invalid_request"


def test_claims_parameter_puts_requested_claims_in_the_id_token(app, client, user) -> None:
    rp = register_client(skip_consent=True, scopes=["openid", "email"])
    claims_param = '{"id_token": {"email": {"essential": true}, "dni": null}}'
    tokens = full_flow(app, client, rp, user, scope="openid email", claims=claims_param)
    claims = verify_jwt(client, tokens["id_token"]).claims
    assert claims["email"] == user.email
    assert "dni" not in claims  # the client is not registered for the dni scope


def test_client_credentials_issues_api_scopes_without_id_token(client) -> None:
    service = register_client(
        redirect_uris=[],
        grant_types=["client_credentials"],
        scopes=["boletas:read", "legajos:read"],
    )
    response = client.post(
        "/token",
        data={"grant_type": "client_credentials", "scope": "boletas:read"},
        headers=service.basic_auth(),
    )
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["scope"] == "boletas:read"
    assert "id_token" not in body
    assert "refresh_token" not in body
    response = client.post(
        "/token",
        data={"grant_type": "client_credentials", "scope": "openid"},
        headers=service.basic_auth(),
    )
    assert response.get_json()["error"] == "invalid_scope"


def test_client_credentials_needs_the_grant_type(client, rp) -> None:
    response = client.post(
        "/token", data={"grant_type": "client_credentials"}, headers=rp.basic_auth()
    )
    assert response.get_json()["error"] == "unauthorized_client"


def test_jwt_access_tokens_follow_rfc_9068(app, client, user) -> None:
    rp = register_client(skip_consent=True, access_token_format="jwt")
    tokens = full_flow(app, client, rp, user, scope="openid email")
    token = verify_jwt(client, tokens["access_token"])
    assert token.header["typ"] == "at+jwt"
    assert token.claims["client_id"] == rp.client_id
    assert token.claims["sub"] == user.sub
    assert token.claims["scope"] == "openid email"
    info = client.get("/userinfo", headers={"Authorization": f"Bearer {tokens['access_token']}"})
    assert info.status_code == 200


def test_wrong_method_and_malformed_bodies_get_json_errors(client, rp) -> None:
    response = client.get("/token")
    assert response.status_code == 405
    assert response.is_json
    assert response.get_json()["error"]
    response = client.post(
        "/token", data=b"\xff\xfe", content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 400
    assert response.is_json


def test_code_reuse_is_recorded_in_the_audit_log(app, client, rp, user) -> None:
    from passport.audit.models import AuditEvent
    from passport.extensions import db

    sign_in(app, client, user)
    code = get_code(client, rp)
    redeem(client, rp, code)
    redeem(client, rp, code)
    events = db.session.scalars(
        db.select(AuditEvent).where(AuditEvent.event == "authorization_code.reused")
    ).all()
    assert len(events) == 1
    assert events[0].client_id == rp.client_id
    assert events[0].subject_user_id == user.id
