"""The admin API's user operations: create (idempotent), read, disable/enable, mail, sessions."""

from __future__ import annotations

from datetime import timedelta

import time_machine
from sqlalchemy import select

from passport.accounts.models import User
from passport.accounts.models import UserStatus
from passport.api.openapi import SCHEMAS
from passport.audit.models import AuditEvent
from passport.database import utcnow
from passport.extensions import db
from tests.factories import make_user
from tests.integration.api.conftest import NEW_USER
from tests.integration.api.conftest import bearer
from tests.integration.api.conftest import issue_token
from tests.integration.oidc.conftest import full_flow
from tests.integration.oidc.conftest import register_client
from tests.integration.oidc.conftest import sign_in


def events(name: str) -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.event == name)))


def create(client, token, **changes):
    return client.post("/api/v1/users", json={**NEW_USER, **changes}, headers=bearer(token))


def test_create_makes_a_pending_user_and_mails_the_activation_link(
    client, api_rp, write_token, outbox
) -> None:
    response = create(client, write_token)
    assert response.status_code == 201
    assert response.headers["Location"] == "/api/v1/users/70001234"
    body = response.get_json()
    assert body["status"] == "pending"
    assert body["phone"] == "+51987654321"
    assert (body["dre"], body["ugel"]) == ("DRE Cusco", "UGEL Urubamba")
    assert body["sub"]
    assert body["dni"] == "70001234"
    # Exactly the public view: no password hash, lock state, internal ids or link counters.
    assert set(body) == set(SCHEMAS["User"]["properties"])
    assert outbox.last()["To"] == "rosa.quispe@example.edu.pe"
    created = events("user.created")
    assert len(created) == 1
    assert created[0].client_id == api_rp.client_id
    assert created[0].actor_user_id is None
    assert events("mail.sent")[0].client_id == api_rp.client_id


def test_create_can_skip_the_mail(client, write_token, outbox) -> None:
    assert create(client, write_token, send_activation_email=False).status_code == 201
    assert outbox.messages() == []


def test_repeating_a_create_answers_the_same_user_without_a_second_mail(
    client, write_token, outbox
) -> None:
    first = create(client, write_token)
    # Same data, written differently: normalisation makes it identical.
    again = create(client, write_token, email="rosa.quispe@EXAMPLE.edu.pe", phone="+51 987 654 321")
    assert again.status_code == 200
    assert again.get_json() == first.get_json()
    assert len(outbox.messages()) == 1
    assert len(events("user.created")) == 1


def test_the_same_dni_with_other_data_is_a_conflict(client, write_token) -> None:
    create(client, write_token)
    response = create(client, write_token, email="otra@example.edu.pe", ugel=None)
    assert response.status_code == 409
    assert response.mimetype == "application/problem+json"
    assert response.get_json()["conflicting_fields"] == ["email", "ugel"]
    user = db.session.scalar(select(User).where(User.dni == NEW_USER["dni"]))
    assert user.email == NEW_USER["email"]


def test_invalid_members_are_listed_one_by_one(client, write_token) -> None:
    response = create(
        client, write_token, dni="1234", email="no-es-correo", phone="12", extra="x", ugel=5
    )
    assert response.status_code == 422
    body = response.get_json()
    assert body["type"] == "about:blank"
    fields = {error["field"] for error in body["errors"]}
    assert fields == {"extra", "ugel"}  # types are checked before values
    response = create(client, write_token, dni="1234", email="no-es-correo", phone="12")
    fields = {error["field"]: error["pointer"] for error in response.get_json()["errors"]}
    assert fields == {"dni": "#/dni", "email": "#/email", "phone": "#/phone"}
    assert db.session.scalar(select(User)) is None


def test_required_members_and_types(client, write_token) -> None:
    response = client.post(
        "/api/v1/users",
        json={"dni": "70001234", "send_activation_email": "yes"},
        headers=bearer(write_token),
    )
    assert response.status_code == 422
    errors = {e["field"]: e["detail"] for e in response.get_json()["errors"]}
    assert errors == {
        "email": "is required",
        "given_name": "is required",
        "family_name": "is required",
        "send_activation_email": "must be a boolean",
    }


def test_get_user_by_dni(client, read_token) -> None:
    user = make_user(dre="DRE Lima Metropolitana")
    response = client.get(f"/api/v1/users/{user.dni}", headers=bearer(read_token))
    assert response.status_code == 200
    assert response.get_json()["dre"] == "DRE Lima Metropolitana"
    assert response.headers["Cache-Control"] == "no-store"


def test_unknown_or_malformed_dni_is_a_404_problem(client, read_token) -> None:
    for dni in ("99999999", "abc", "1234567890"):
        response = client.get(f"/api/v1/users/{dni}", headers=bearer(read_token))
        assert response.status_code == 404
        assert response.mimetype == "application/problem+json"


def test_disable_ends_sessions_and_tokens_and_enable_restores(app, client, api_rp) -> None:
    user = make_user()
    browser = app.test_client()
    rp = register_client(skip_consent=True)
    tokens = full_flow(app, browser, rp, user, scope="openid profile offline_access")
    token = issue_token(client, api_rp)
    response = client.post(f"/api/v1/users/{user.dni}/disable", headers=bearer(token))
    assert response.status_code == 200
    assert response.get_json()["status"] == "disabled"
    listed = client.get(f"/api/v1/users/{user.dni}/sessions", headers=bearer(token))
    assert listed.get_json() == {"sessions": []}
    userinfo = client.get("/userinfo", headers=bearer(tokens["access_token"]))
    assert userinfo.status_code == 401
    refreshed = client.post(
        "/token",
        data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
        headers=rp.basic_auth(),
    )
    assert refreshed.status_code == 400
    disabled = events("user.disabled")
    assert [(e.client_id, e.subject_user_id) for e in disabled] == [(api_rp.client_id, user.id)]
    # Disabling twice changes nothing and records nothing more.
    again = client.post(f"/api/v1/users/{user.dni}/disable", headers=bearer(token))
    assert again.status_code == 200
    assert len(events("user.disabled")) == 1

    response = client.post(f"/api/v1/users/{user.dni}/enable", headers=bearer(token))
    assert response.status_code == 200
    assert response.get_json()["status"] == "active"
    assert events("user.enabled")[0].client_id == api_rp.client_id


def test_activation_email_goes_to_pending_users_only(client, api_rp, write_token, outbox) -> None:
    pending = make_user(password=None)
    response = client.post(
        f"/api/v1/users/{pending.dni}/activation-email", headers=bearer(write_token)
    )
    assert response.status_code == 202
    assert response.get_json()["status"] == "pending"
    assert outbox.last()["To"] == pending.email
    assert events("user.activation_resent")[0].client_id == api_rp.client_id
    assert events("mail.sent")[0].client_id == api_rp.client_id

    active = make_user()
    response = client.post(
        f"/api/v1/users/{active.dni}/activation-email", headers=bearer(write_token)
    )
    assert response.status_code == 409
    assert response.mimetype == "application/problem+json"
    assert len(outbox.messages()) == 1


def test_sessions_lists_live_sessions_without_secrets(app, client, read_token) -> None:
    user = make_user()
    sid = sign_in(app, app.test_client(), user)
    other = make_user()
    sign_in(app, app.test_client(), other)
    response = client.get(f"/api/v1/users/{user.dni}/sessions", headers=bearer(read_token))
    assert response.status_code == 200
    sessions = response.get_json()["sessions"]
    assert [s["sid"] for s in sessions] == [sid]
    assert set(sessions[0]) == set(SCHEMAS["Session"]["properties"])  # never the cookie hash
    assert sessions[0]["amr"] == ["pwd"]
    assert sessions[0]["device"]


def test_a_user_disabled_elsewhere_stays_readable(client, read_token) -> None:
    user = make_user(status=UserStatus.DISABLED)
    response = client.get(f"/api/v1/users/{user.dni}", headers=bearer(read_token))
    assert response.get_json()["status"] == "disabled"


def test_an_action_may_give_its_reason_for_the_audit_log(client, write_token) -> None:
    user = make_user()
    response = client.post(
        f"/api/v1/users/{user.dni}/disable",
        json={"reason": "Cese registrado en el sistema de escalafón"},
        headers=bearer(write_token),
    )
    assert response.status_code == 200
    details = events("user.disabled")[0].details
    assert details["reason"] == "Cese registrado en el sistema de escalafón"


def test_an_action_body_is_checked_like_any_other(client, write_token) -> None:
    user = make_user()
    url = f"/api/v1/users/{user.dni}/enable"
    response = client.post(url, json={"reason": 5, "why": "x"}, headers=bearer(write_token))
    assert response.status_code == 422
    assert {e["field"] for e in response.get_json()["errors"]} == {"reason", "why"}
    response = client.post(
        url, data="razón", headers={**bearer(write_token), "Content-Type": "text/plain"}
    )
    assert response.status_code == 415


def test_an_action_without_a_body_needs_no_content_type(client, write_token) -> None:
    user = make_user()
    headers = {**bearer(write_token), "Content-Type": "application/json"}
    response = client.post(f"/api/v1/users/{user.dni}/disable", headers=headers)
    assert response.status_code == 200
    assert events("user.disabled")[0].details.get("reason") is None


def test_an_idle_session_is_not_listed(app, client, api_rp) -> None:
    user = make_user()
    sign_in(app, app.test_client(), user)
    idle = timedelta(minutes=app.config["SSO_IDLE_TIMEOUT_MINUTES"], seconds=1)
    with time_machine.travel(utcnow() + idle):
        token = issue_token(client, api_rp)
        response = client.get(f"/api/v1/users/{user.dni}/sessions", headers=bearer(token))
    assert response.get_json() == {"sessions": []}
