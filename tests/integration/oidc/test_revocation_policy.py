"""What ending a session, retiring a client or withdrawing a scope revokes (issue 9, items 5,
6 and 9): one policy, passport/oidc/revocation.py, reached from every path."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy import update

from passport.audit.services import Actor
from passport.database import utcnow
from passport.extensions import db
from passport.login.models import SSOSession
from passport.login.sessions import end_sso_session
from passport.oidc.client_admin import set_client_disabled
from passport.oidc.clients import forget_client
from passport.oidc.models import AuthorizationCode
from passport.oidc.models import BackchannelDelivery
from passport.oidc.models import Consent
from passport.oidc.models import OAuthClient
from passport.oidc.models import OAuthToken
from passport.oidc.registration import create_initial_access_token
from passport.oidc.tokens import hash_secret
from tests.helpers import csrf_token
from tests.integration.oidc.conftest import RP
from tests.integration.oidc.conftest import code_flow
from tests.integration.oidc.conftest import full_flow
from tests.integration.oidc.conftest import get_code
from tests.integration.oidc.conftest import logout_receiver
from tests.integration.oidc.conftest import logout_uri
from tests.integration.oidc.conftest import pkce_pair
from tests.integration.oidc.conftest import redeem
from tests.integration.oidc.conftest import refresh
from tests.integration.oidc.conftest import register_client
from tests.integration.oidc.conftest import sign_in
from tests.served import CannedServer


def session_of(sid: str) -> SSOSession:
    session = db.session.scalar(select(SSOSession).where(SSOSession.sid == sid))
    assert session is not None
    return session


def userinfo(client: FlaskClient, access_token: str) -> Any:
    return client.get("/userinfo", headers={"Authorization": f"Bearer {access_token}"})


def introspect(client: FlaskClient, rp: RP, token: str) -> dict[str, Any]:
    response = client.post("/introspect", data={"token": token}, headers=rp.basic_auth())
    return dict(response.get_json())


def resource_server() -> RP:
    return register_client(
        redirect_uris=[],
        grant_types=["client_credentials"],
        scopes=["boletas:read"],
        is_resource_server=True,
    )


def client_pk(rp: RP) -> int:
    pk = db.session.scalar(select(OAuthClient.id).where(OAuthClient.client_id == rp.client_id))
    assert pk is not None
    return pk


# --- Item 5: a session's end takes its codes and tokens -------------------------------------


def test_a_code_issued_before_logout_is_invalid_grant_after_it(
    app: Flask, client: FlaskClient, rp: RP, user: Any
) -> None:
    sign_in(app, client, user)
    verifier, challenge = pkce_pair()
    code = get_code(client, rp, code_challenge=challenge, code_challenge_method="S256")
    # The person signs out at Passport (/salir) before the app redeems the code.
    assert client.post("/salir", data={"csrf_token": csrf_token(client, "/")}).status_code == 302
    assert db.session.scalar(select(SSOSession.ended_at)) is not None
    # Voided at logout: the row is gone, so nothing is left to redeem.
    assert db.session.scalar(select(AuthorizationCode.id)) is None
    response = redeem(client, rp, code, code_verifier=verifier)
    assert response.status_code == 400
    assert response.get_json()["error"] == "invalid_grant"
    assert db.session.scalar(select(OAuthToken.id)) is None


def test_a_code_of_an_ended_session_is_refused_even_if_it_was_not_voided(
    app: Flask, client: FlaskClient, rp: RP, user: Any
) -> None:
    sid = sign_in(app, client, user)
    verifier, challenge = pkce_pair()
    code = get_code(client, rp, code_challenge=challenge, code_challenge_method="S256")
    # Ended behind the policy's back (as by a release without the hook): redemption checks.
    db.session.execute(update(SSOSession).values(ended_at=utcnow(), end_reason="logout"))
    db.session.commit()
    response = redeem(client, rp, code, code_verifier=verifier)
    assert response.get_json()["error"] == "invalid_grant"
    # The leftover code is swept on the way.
    assert db.session.scalar(select(AuthorizationCode.id)) is None
    assert session_of(sid).end_reason == "logout"


def test_a_code_whose_session_lapsed_is_refused_and_the_session_ends(
    app: Flask, client: FlaskClient, user: Any
) -> None:
    with logout_receiver() as receiver:
        lapsed_code_ends_the_session(app, client, user, receiver)


def lapsed_code_ends_the_session(
    app: Flask, client: FlaskClient, user: Any, receiver: CannedServer
) -> None:
    rp = register_client(skip_consent=True, backchannel_logout_uri=logout_uri(receiver))
    sid = sign_in(app, client, user)
    verifier, challenge = pkce_pair()
    code = get_code(client, rp, code_challenge=challenge, code_challenge_method="S256")
    idle = timedelta(minutes=app.config["SSO_IDLE_TIMEOUT_MINUTES"] + 1)
    db.session.execute(update(SSOSession).values(last_seen_at=utcnow() - idle))
    db.session.commit()
    response = redeem(client, rp, code, code_verifier=verifier)
    assert response.get_json()["error"] == "invalid_grant"
    session = session_of(sid)
    assert session.ended_at is not None
    assert session.end_reason == "expired"
    # Ended as a logout is: the app hears of it on its back channel.
    assert db.session.scalar(select(BackchannelDelivery.sid)) == sid
    assert len(receiver.form_values("logout_token")) == 1


def test_a_refresh_token_outliving_its_session_is_refused(
    app: Flask, client: FlaskClient, rp: RP, user: Any
) -> None:
    sid = sign_in(app, client, user)
    tokens = code_flow(client, rp, "openid")
    offline = code_flow(client, rp, "openid offline_access")
    # A token issued while the logout committed keeps no revocation: the session check holds
    # at userinfo, introspection and the refresh grant alike.
    end_sso_session(session_of(sid), "logout")
    db.session.execute(update(OAuthToken).values(revoked_at=None))
    db.session.commit()
    assert userinfo(client, tokens["access_token"]).status_code == 401
    assert introspect(client, rp, tokens["access_token"]) == {"active": False}
    assert introspect(client, rp, tokens["refresh_token"]) == {"active": False}
    assert userinfo(client, offline["access_token"]).status_code == 200
    assert introspect(client, rp, offline["refresh_token"])["active"] is True
    assert refresh(client, rp, tokens["refresh_token"]).get_json()["error"] == "invalid_grant"
    db.session.expire_all()
    stored = db.session.scalar(
        select(OAuthToken.revoked_at).where(
            OAuthToken.refresh_token_hash == hash_secret(tokens["refresh_token"])
        )
    )
    assert stored is not None


def test_a_refresh_token_past_its_sessions_absolute_end_is_refused(
    app: Flask, client: FlaskClient, rp: RP, user: Any
) -> None:
    sid = sign_in(app, client, user)
    tokens = code_flow(client, rp, "openid")
    offline = code_flow(client, rp, "openid offline_access")
    db.session.execute(update(SSOSession).values(expires_at=utcnow() - timedelta(seconds=1)))
    db.session.commit()
    assert refresh(client, rp, tokens["refresh_token"]).get_json()["error"] == "invalid_grant"
    assert session_of(sid).end_reason == "expired"
    assert refresh(client, rp, offline["refresh_token"]).status_code == 200


def test_idleness_alone_does_not_end_a_refresh_token(
    app: Flask, client: FlaskClient, rp: RP, user: Any
) -> None:
    sign_in(app, client, user)
    tokens = code_flow(client, rp, "openid")
    idle = timedelta(minutes=app.config["SSO_IDLE_TIMEOUT_MINUTES"] + 1)
    db.session.execute(update(SSOSession).values(last_seen_at=utcnow() - idle))
    db.session.commit()
    assert refresh(client, rp, tokens["refresh_token"]).status_code == 200


# --- Item 6: the client's current scopes bound every live grant ------------------------------


def withdraw_scope(rp: RP, scope: str) -> None:
    row = db.session.get(OAuthClient, client_pk(rp))
    assert row is not None
    row.scopes = [s for s in row.scopes if s != scope]
    db.session.commit()
    forget_client(rp.client_id)


def test_a_scope_withdrawn_from_the_client_is_gone_from_refresh_userinfo_and_introspection(
    app: Flask, client: FlaskClient, rp: RP, user: Any
) -> None:
    tokens = full_flow(app, client, rp, user, scope="openid email profile")
    assert "email" in userinfo(client, tokens["access_token"]).get_json()
    withdraw_scope(rp, "email")
    info = userinfo(client, tokens["access_token"]).get_json()
    assert "email" not in info
    assert info["given_name"] == user.given_name  # what stays granted still flows
    assert introspect(client, rp, tokens["access_token"])["scope"] == "openid profile"
    api = resource_server()
    assert introspect(client, api, tokens["refresh_token"])["scope"] == "openid profile"
    refreshed = refresh(client, rp, tokens["refresh_token"]).get_json()
    assert refreshed["scope"] == "openid profile"
    assert "email" not in userinfo(client, refreshed["access_token"]).get_json()
    stored = db.session.scalar(
        select(OAuthToken.scope).where(
            OAuthToken.access_token_hash == hash_secret(refreshed["access_token"])
        )
    )
    assert stored == "openid profile"


def test_a_scope_withdrawn_between_code_and_redemption_is_not_issued(
    app: Flask, client: FlaskClient, rp: RP, user: Any
) -> None:
    sign_in(app, client, user)
    verifier, challenge = pkce_pair()
    code = get_code(
        client, rp, scope="openid email", code_challenge=challenge, code_challenge_method="S256"
    )
    withdraw_scope(rp, "email")
    body = redeem(client, rp, code, code_verifier=verifier).get_json()
    assert body["scope"] == "openid"


def test_a_refresh_left_with_no_scope_is_invalid_scope(
    app: Flask, client: FlaskClient, user: Any
) -> None:
    rp = register_client(skip_consent=True, scopes=["openid", "email"])
    tokens = full_flow(app, client, rp, user, scope="openid email")
    row = db.session.get(OAuthClient, client_pk(rp))
    assert row is not None
    row.scopes = ["profile"]
    db.session.commit()
    forget_client(rp.client_id)
    assert refresh(client, rp, tokens["refresh_token"]).get_json()["error"] == "invalid_scope"


# --- Item 9: a deleted or disabled client keeps no usable token ------------------------------


def test_rfc7592_delete_revokes_the_clients_tokens_codes_and_consents(
    app: Flask, client: FlaskClient, user: Any
) -> None:
    initial = create_initial_access_token(3600, 1)[0]
    created = client.post(
        "/register",
        json={
            "client_name": "Escalafón",
            "redirect_uris": ["https://escalafon.minedu.gob.pe/callback"],
            "token_endpoint_auth_method": "client_secret_basic",
            "grant_types": ["authorization_code", "refresh_token"],
            "scope": "openid profile",
        },
        headers={"Authorization": f"Bearer {initial}"},
    ).get_json()
    rp = RP(created["client_id"], created["client_secret"], created["redirect_uris"][0])
    # The person consented earlier (dynamic clients always ask).
    db.session.add(Consent(user_id=user.id, client_pk=client_pk(rp), scopes=["openid", "profile"]))
    db.session.commit()
    tokens = full_flow(app, client, rp, user, scope="openid profile")
    verifier, challenge = pkce_pair()
    pending_code = get_code(client, rp, code_challenge=challenge, code_challenge_method="S256")
    assert userinfo(client, tokens["access_token"]).status_code == 200
    deleted = client.delete(
        f"/register/{rp.client_id}",
        headers={"Authorization": "Bearer " + created["registration_access_token"]},
    )
    assert deleted.status_code == 204
    assert userinfo(client, tokens["access_token"]).status_code == 401
    api = resource_server()
    assert introspect(client, api, tokens["refresh_token"]) == {"active": False}
    assert refresh(client, rp, tokens["refresh_token"]).get_json()["error"] == "invalid_client"
    assert db.session.scalar(select(Consent.id)) is None
    assert (
        db.session.scalar(select(AuthorizationCode.id).where(AuthorizationCode.used_at.is_(None)))
        is None
    )
    # Even if an administrator re-enabled the row, nothing issued before works again.
    set_client_disabled(rp.client_id, False, action=Actor())
    assert refresh(client, rp, tokens["refresh_token"]).get_json()["error"] == "invalid_grant"
    assert redeem(client, rp, pending_code, code_verifier=verifier).get_json()["error"] == (
        "invalid_grant"
    )


def test_disabling_a_client_revokes_its_tokens_and_codes(
    app: Flask, client: FlaskClient, rp: RP, user: Any
) -> None:
    tokens = full_flow(app, client, rp, user, scope="openid offline_access")
    verifier, challenge = pkce_pair()
    code = get_code(client, rp, code_challenge=challenge, code_challenge_method="S256")
    set_client_disabled(rp.client_id, True, action=Actor(reason="Convenio vencido"))
    assert userinfo(client, tokens["access_token"]).status_code == 401
    set_client_disabled(rp.client_id, False, action=Actor())
    assert refresh(client, rp, tokens["refresh_token"]).get_json()["error"] == "invalid_grant"
    assert redeem(client, rp, code, code_verifier=verifier).get_json()["error"] == ("invalid_grant")


def test_a_token_of_a_disabled_client_is_refused_even_if_not_revoked(
    app: Flask, client: FlaskClient, rp: RP, user: Any
) -> None:
    tokens = full_flow(app, client, rp, user)
    db.session.execute(update(OAuthClient).values(is_disabled=True))
    db.session.commit()
    assert userinfo(client, tokens["access_token"]).status_code == 401
    assert introspect(client, resource_server(), tokens["access_token"]) == {"active": False}
