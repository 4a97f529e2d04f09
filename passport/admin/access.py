"""A person's sessions and apps as the console shows and ends them.

The console's "Cerrar sesión" and "Revocar acceso" on a person's page. They live above
accounts (which must not reach sessions or tokens): the territory and reason rules come from
``passport.accounts.territory``, what ends is decided by ``passport.login.sessions`` and
``passport.oidc.revocation``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from passport.accounts.models import User
from passport.accounts.territory import checked
from passport.audit.services import SYSTEM
from passport.audit.services import Actor
from passport.extensions import db
from passport.login.models import SSOSession
from passport.login.sessions import end_sso_session
from passport.login.sessions import live_sessions
from passport.oidc.models import OAuthClient
from passport.oidc.revocation import live_grants
from passport.oidc.revocation import revoke_grant


@dataclass(frozen=True)
class AppAccess:
    """An app with access to a person: its client id and name, and the scopes it holds."""

    client_id: str
    client_name: str
    scopes: list[str]
    granted_at: datetime


def user_sessions(user: User) -> list[SSOSession]:
    """The user's live SSO sessions (the rule Mi cuenta and the admin API use too)."""
    return live_sessions(user.id)


def user_apps(user: User) -> list[AppAccess]:
    """The apps with access to the user now (consent or live tokens), by name: the rule Mi
    cuenta uses too (passport.oidc.revocation.live_grants)."""
    return [
        AppAccess(grant.client_id, grant.name, grant.scopes, grant.granted_at)
        for grant in live_grants(user.id)
    ]


def end_session(
    dni_or_user: str | User,
    session_id: int,
    *,
    actor: Actor = SYSTEM,
) -> bool:
    """End one SSO session of the user (its tokens die with it); False when not live."""
    user, actor = checked("end_session", dni_or_user, actor)
    session = db.session.get(SSOSession, session_id)
    if session is None or session.user_id != user.id or session.ended_at is not None:
        return False
    actor.record(
        "session.revoked",
        subject_user_id=user.id,
        subject_dni=user.dni,
        details={"sid": session.sid},
    )
    end_sso_session(session, "admin")
    return True


def revoke_app(
    dni_or_user: str | User,
    app_client_id: str,
    *,
    actor: Actor = SYSTEM,
) -> bool:
    """End an app's access to the user: consent, tokens (offline ones too) and codes.

    Apps that skip consent count too, through their tokens. False when the app had no access.
    """
    user, actor = checked("revoke_app", dni_or_user, actor)
    client = db.session.scalar(select(OAuthClient).where(OAuthClient.client_id == app_client_id))
    if client is None:
        return False
    revoked = revoke_grant(user.id, client.id)
    if not revoked.anything:
        db.session.rollback()
        return False
    actor.record(
        "consent.revoked",
        client_id=app_client_id,
        subject_user_id=user.id,
        subject_dni=user.dni,
        details={
            "tokens_revoked": revoked.tokens,
            **({"by_client": actor.client_id} if actor.client_id else {}),
        },
    )
    db.session.commit()
    return True
