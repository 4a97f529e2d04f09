"""Governed onboarding: a self-registered client gets `openid profile` until an admin approves."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from passport.audit.models import AuditEvent
from passport.audit.services import Actor
from passport.extensions import db
from passport.oidc.client_admin import NothingToApprove
from passport.oidc.client_admin import approve_client_scopes
from passport.oidc.client_admin import reject_client_scopes
from passport.oidc.client_admin import revoke_initial_token
from passport.oidc.clients import get_client_row
from passport.oidc.models import AuthorizationCode
from passport.oidc.models import InitialAccessToken
from passport.oidc.registration import create_initial_access_token
from passport.oidc.tokens import hash_secret
from tests.factories import make_user
from tests.integration.oidc.conftest import RP
from tests.integration.oidc.conftest import authorize
from tests.integration.oidc.conftest import pkce_pair
from tests.integration.oidc.conftest import query_of
from tests.integration.oidc.conftest import redeem
from tests.integration.oidc.conftest import sign_in
from tests.integration.oidc.test_consent import answer
from tests.integration.oidc.test_consent import consent_form

CALLBACK = "https://escalafon.minedu.gob.pe/callback"
METADATA = {
    "client_name": "Escalafón",
    "redirect_uris": [CALLBACK],
    "token_endpoint_auth_method": "client_secret_basic",
    "grant_types": ["authorization_code"],
    "scope": "openid profile email dni",
}


def register(client) -> dict:
    token = create_initial_access_token(3600, 1)[0]
    response = client.post("/register", json=METADATA, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 201, response.get_json()
    return dict(response.get_json())


def claims_for(app, client, rp: RP, user, scope: str) -> tuple[str, dict]:
    """Authorize (consenting), redeem and read userinfo: the granted scope and the claims."""
    sign_in(app, client, user)
    verifier, challenge = pkce_pair()
    params = {"scope": scope, "code_challenge": challenge, "code_challenge_method": "S256"}
    response = authorize(client, rp, **params)
    if response.status_code == 200:  # the consent page
        response = answer(client, consent_form(response), "allow")
    code = query_of(response.headers["Location"])["code"]
    row = db.session.scalar(
        select(AuthorizationCode).where(AuthorizationCode.code_hash == hash_secret(code))
    )
    assert row is not None
    tokens = redeem(client, rp, code, code_verifier=verifier).get_json()
    info = client.get("/userinfo", headers={"Authorization": f"Bearer {tokens['access_token']}"})
    return row.scope, dict(info.get_json())


def test_registration_grants_the_baseline_and_keeps_the_rest_pending(app, client) -> None:
    body = register(client)
    assert body["scope"] == "openid profile"
    row = get_client_row(body["client_id"])
    assert row.scopes == ["openid", "profile"]
    assert row.pending_scopes == ["email", "dni"]
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.event == "client.registered"))
    assert event is not None
    assert event.details["pending_scopes"] == ["email", "dni"]


def test_email_is_released_only_after_an_admin_approves_it(app, client) -> None:
    body = register(client)
    rp = RP(body["client_id"], body["client_secret"], CALLBACK)
    user = make_user()
    scope, claims = claims_for(app, client, rp, user, "openid email")
    assert scope == "openid"
    assert "email" not in claims

    admin = make_user(is_admin=True)
    action = Actor(user_id=admin.id, ip_address="198.51.100.4", reason="Convenio 12-2026")
    assert approve_client_scopes(rp.client_id, ["email"], action=action) == ["email"]
    row = get_client_row(rp.client_id)
    assert row.scopes == ["openid", "profile", "email"]
    assert row.pending_scopes == ["dni"]
    scope, claims = claims_for(app, client, rp, user, "openid email")
    assert scope == "openid email"
    assert claims["email"] == user.email

    event = db.session.scalar(
        select(AuditEvent).where(AuditEvent.event == "client.scopes_approved")
    )
    assert event is not None
    assert (event.actor_user_id, event.client_id, event.ip_address) == (
        admin.id,
        rp.client_id,
        "198.51.100.4",
    )
    assert event.details == {"scopes": ["email"], "reason": "Convenio 12-2026"}


def test_the_client_cannot_widen_its_own_scopes_by_rfc7592(app, client) -> None:
    body = register(client)
    url = f"/register/{body['client_id']}"
    headers = {"Authorization": f"Bearer {body['registration_access_token']}"}
    response = client.put(
        url,
        json={**METADATA, "client_id": body["client_id"], "scope": "openid email phone"},
        headers=headers,
    )
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["scope"] == "openid"
    row = get_client_row(body["client_id"])
    assert row.scopes == ["openid"]
    assert row.pending_scopes == ["email", "phone"]


def test_an_approved_scope_survives_an_rfc7592_update(app, client) -> None:
    body = register(client)
    approve_client_scopes(body["client_id"], ["email"], action=Actor(reason="ok"))
    headers = {"Authorization": f"Bearer {body['registration_access_token']}"}
    response = client.put(
        f"/register/{body['client_id']}",
        json={**METADATA, "client_id": body["client_id"]},
        headers=headers,
    )
    assert response.get_json()["scope"] == "openid profile email"
    assert get_client_row(body["client_id"]).pending_scopes == ["dni"]


def test_rejecting_and_approving_nothing(app, client) -> None:
    body = register(client)
    assert reject_client_scopes(body["client_id"], ["dni"], action=Actor(reason="no")) == ["dni"]
    row = get_client_row(body["client_id"])
    assert row.pending_scopes == ["email"]
    assert "dni" not in row.scopes
    with pytest.raises(NothingToApprove):
        approve_client_scopes(body["client_id"], ["dni", "phone"], action=Actor(reason="x"))


def test_a_revoked_initial_token_registers_nothing(app, client) -> None:
    token = create_initial_access_token(3600, 5, label="Escalafón")[0]
    row = db.session.scalar(select(InitialAccessToken))
    assert row is not None
    assert row.label == "Escalafón"
    assert revoke_initial_token(row.id, action=Actor(reason="filtrado")) is True
    assert revoke_initial_token(row.id, action=Actor(reason="filtrado")) is False
    response = client.post("/register", json=METADATA, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401
    events = db.session.scalars(select(AuditEvent.event).order_by(AuditEvent.id)).all()
    assert events == ["client.initial_token_created", "client.initial_token_revoked"]
    assert token not in str(db.session.scalars(select(AuditEvent.details)).all())
