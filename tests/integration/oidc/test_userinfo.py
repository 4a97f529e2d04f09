"""Userinfo: GET and POST, header or body, only granted claims, RFC 6750 errors."""

from __future__ import annotations

from datetime import timedelta

import time_machine

from passport.database import utcnow
from tests.integration.oidc.conftest import full_flow
from tests.integration.oidc.conftest import register_client


def test_userinfo_by_header_and_by_form_body(app, client, rp, user) -> None:
    tokens = full_flow(app, client, rp, user, scope="openid profile")
    header = {"Authorization": f"Bearer {tokens['access_token']}"}
    by_get = client.get("/userinfo", headers=header)
    by_post = client.post("/userinfo", headers=header)
    by_body = client.post("/userinfo", data={"access_token": tokens["access_token"]})
    for response in (by_get, by_post, by_body):
        assert response.status_code == 200
        assert response.get_json()["sub"] == user.sub
        assert response.headers["Cache-Control"] == "no-store"


def test_only_granted_claims_leave_passport(app, client, rp, user) -> None:
    tokens = full_flow(app, client, rp, user, scope="openid profile")
    info = client.get("/userinfo", headers={"Authorization": f"Bearer {tokens['access_token']}"})
    claims = info.get_json()
    assert claims["given_name"] == user.given_name
    assert claims["name"] == f"{user.given_name} {user.family_name}"
    for absent in ("email", "phone_number", "address", "dni", "preferred_username"):
        assert absent not in claims
    assert user.dni not in info.get_data(as_text=True)


def test_every_scope_releases_its_claims(app, client, rp, user) -> None:
    tokens = full_flow(app, client, rp, user, scope="openid profile email phone address dni")
    info = client.get("/userinfo", headers={"Authorization": f"Bearer {tokens['access_token']}"})
    claims = info.get_json()
    assert claims["email"] == user.email
    assert claims["email_verified"] is False
    assert claims["phone_number"] == "+51987654321"
    assert claims["phone_number_verified"] is False
    assert claims["address"]["locality"] == "Lima"
    assert claims["dni"] == user.dni
    assert claims["preferred_username"] == user.dni
    assert isinstance(claims["updated_at"], int)
    assert claims["locale"]


def test_missing_token_gets_a_bare_bearer_challenge(client) -> None:
    response = client.get("/userinfo")
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert "error=" not in response.headers["WWW-Authenticate"]


def test_missing_token_is_offered_bearer_and_dpop(app, client, monkeypatch) -> None:
    """RFC 9449 §7.1: either scheme will do, so both challenges, in the one header value
    (RFC 9110 §11.6.1), Bearer first; with nonces required, a nonce for the DPoP one."""
    from passport.oidc import dpop

    response = client.get("/userinfo")
    algs = " ".join(dpop.ALGORITHMS)
    assert response.headers.getlist("WWW-Authenticate") == [
        f'Bearer realm="passport", DPoP realm="passport", algs="{algs}"'
    ]
    assert "DPoP-Nonce" not in response.headers
    monkeypatch.setitem(app.config, "DPOP_REQUIRE_NONCE", True)
    with_nonce = client.get("/userinfo")
    assert with_nonce.status_code == 401
    assert dpop.nonce_is_fresh(with_nonce.headers["DPoP-Nonce"])


def test_garbage_token_is_invalid_token(client) -> None:
    response = client.get("/userinfo", headers={"Authorization": "Bearer garbage"})
    assert response.status_code == 401
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]


def test_expired_token_is_invalid_token(app, client, rp, user) -> None:
    tokens = full_flow(app, client, rp, user)
    with time_machine.travel(utcnow() + timedelta(hours=1)):
        response = client.get(
            "/userinfo", headers={"Authorization": f"Bearer {tokens['access_token']}"}
        )
    assert response.status_code == 401
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]


def test_revoked_token_is_invalid_token(app, client, rp, user) -> None:
    tokens = full_flow(app, client, rp, user)
    client.post("/revoke", data={"token": tokens["access_token"]}, headers=rp.basic_auth())
    response = client.get(
        "/userinfo", headers={"Authorization": f"Bearer {tokens['access_token']}"}
    )
    assert response.status_code == 401
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]


def test_token_of_a_disabled_user_is_invalid(app, client, rp, user) -> None:
    from passport.accounts.models import UserStatus
    from passport.extensions import db

    tokens = full_flow(app, client, rp, user)
    user.status = UserStatus.DISABLED
    db.session.commit()
    response = client.get(
        "/userinfo", headers={"Authorization": f"Bearer {tokens['access_token']}"}
    )
    assert response.status_code == 401


def test_claims_parameter_cannot_release_claims_beyond_the_client_registration(
    app, client, user
) -> None:
    # OIDC Core §5.5: the claims parameter may ask for claims beyond the request's scopes,
    # but never beyond what the client is registered for (tests: test_claims_parameter.py).
    rp = register_client(skip_consent=True, scopes=["openid", "email"])
    requested = '{"userinfo": {"dni": {"essential": true}, "email": null}}'
    tokens = full_flow(app, client, rp, user, scope="openid email", claims=requested)
    info = client.get("/userinfo", headers={"Authorization": f"Bearer {tokens['access_token']}"})
    claims = info.get_json()
    assert claims["email"] == user.email
    assert "dni" not in claims


def test_userinfo_needs_the_openid_scope(app, client, rp, user) -> None:
    tokens = full_flow(app, client, rp, user, scope="email")
    info = client.get("/userinfo", headers={"Authorization": f"Bearer {tokens['access_token']}"})
    assert info.status_code == 403
    assert 'error="insufficient_scope"' in info.headers["WWW-Authenticate"]
