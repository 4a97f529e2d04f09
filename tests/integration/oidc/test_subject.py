"""The Core-loaded Subject gives exactly the claims the User entity gives."""

from __future__ import annotations

from typing import Any

from sqlalchemy import update

from passport.accounts.models import User
from passport.accounts.models import UserStatus
from passport.extensions import db
from passport.oidc.claims import SCOPE_CLAIMS
from passport.oidc.claims import load_subject
from passport.oidc.claims import userinfo_claims
from tests.integration.oidc.conftest import code_flow
from tests.integration.oidc.conftest import get_code
from tests.integration.oidc.conftest import redeem
from tests.integration.oidc.conftest import refresh
from tests.integration.oidc.conftest import sign_in
from tests.integration.oidc.conftest import verify_jwt


def test_subject_and_user_release_the_same_claims(app: Any, user: Any) -> None:
    subject = load_subject(user.id)
    assert subject is not None
    scopes = ["openid", *SCOPE_CLAIMS]
    requested = {"userinfo": {"email": None, "address": {"essential": True}}}
    assert userinfo_claims(subject, scopes, requested) == userinfo_claims(user, scopes, requested)
    assert subject.name == user.name
    assert subject.is_active is True


def test_a_disabled_user_is_not_active(app: Any, user: Any) -> None:
    user.status = UserStatus.DISABLED
    db.session.commit()
    subject = load_subject(user.id)
    assert subject is not None
    assert subject.is_active is False
    assert load_subject(user.id + 10_000) is None


def _set_status(user_id: int, status: UserStatus) -> None:
    """The account's status alone (its SSO sessions stay as they are)."""
    db.session.execute(update(User).where(User.id == user_id).values(status=status))
    db.session.commit()


def test_a_code_of_a_user_disabled_since_is_refused(
    app: Any, client: Any, rp: Any, user: Any
) -> None:
    """The user read with the code (one statement) is checked: no tokens for a disabled one."""
    sign_in(app, client, user)
    code = get_code(client, rp, scope="openid profile")
    _set_status(user.id, UserStatus.DISABLED)
    response = redeem(client, rp, code)
    assert response.status_code == 400
    assert response.get_json()["error"] == "invalid_grant"
    assert "access_token" not in response.get_json()


def test_a_refresh_for_a_user_disabled_since_is_refused(
    app: Any, client: Any, rp: Any, user: Any
) -> None:
    sign_in(app, client, user)
    tokens = code_flow(client, rp, "openid offline_access")
    _set_status(user.id, UserStatus.DISABLED)
    response = refresh(client, rp, tokens["refresh_token"])
    assert response.status_code == 400
    assert response.get_json()["error"] == "invalid_grant"
    assert "access_token" not in response.get_json()


def test_the_id_token_carries_the_user_read_with_the_grant(
    app: Any, client: Any, rp: Any, user: Any
) -> None:
    """Claims asked for the ID token come from the user as the grant is redeemed."""
    sign_in(app, client, user)
    claims = '{"id_token": {"given_name": null}}'
    code = get_code(client, rp, scope="openid profile", claims=claims)
    db.session.execute(update(User).where(User.id == user.id).values(given_name="Rosa María"))
    db.session.commit()
    body = redeem(client, rp, code).get_json()
    id_token = verify_jwt(client, body["id_token"]).claims
    assert id_token["sub"] == user.sub
    assert id_token["given_name"] == "Rosa María"
