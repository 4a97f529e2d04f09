"""The Core-loaded Subject gives exactly the claims the User entity gives."""

from __future__ import annotations

from typing import Any

from passport.accounts.models import UserStatus
from passport.extensions import db
from passport.oidc.claims import SCOPE_CLAIMS
from passport.oidc.claims import load_subject
from passport.oidc.claims import userinfo_claims


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
