"""Mi cuenta's actions on the signed-in person's own account. Commit once per call."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete
from sqlalchemy import or_
from sqlalchemy import select
from sqlalchemy import update

from passport.account.errors import UnknownConnectedApp
from passport.account.errors import WrongCurrentPassword
from passport.accounts.errors import PasswordRejectedError
from passport.accounts.services import check_new_password
from passport.audit.models import AuditEvent
from passport.audit.services import record_event
from passport.database import utcnow
from passport.extensions import db
from passport.login.models import SSOSession
from passport.login.services import RequestInfo
from passport.login.sessions import end_user_sessions
from passport.oidc.models import AuthorizationCode
from passport.oidc.models import Consent
from passport.oidc.models import OAuthClient
from passport.oidc.models import OAuthToken
from passport.security.passwords import hash_password
from passport.security.passwords import verify_password

# What "Actividad reciente" lists: sign-ins and refused attempts.
ACTIVITY_EVENTS = ("login_succeeded", "login_failed", "account_locked")
ACTIVITY_LIMIT = 10


def _audit(event: str, session: SSOSession, info: RequestInfo, **fields: object) -> None:
    record_event(
        event,
        actor_user_id=session.user_id,
        subject_user_id=session.user_id,
        subject_dni=session.user.dni,
        ip_address=info.ip_address,
        user_agent=info.user_agent,
        **fields,  # type: ignore[arg-type]
    )


def change_password(
    session: SSOSession, current: str, new: str, confirmation: str, info: RequestInfo
) -> int:
    """Set a new password; end the other sessions and their tokens; return how many ended.

    Raises ``WrongCurrentPassword`` or ``PasswordRejectedError`` having changed nothing. Refresh
    tokens not bound to this session are revoked too, except offline ones (offline_access is
    a grant the person made to an app, revoked from "Aplicaciones conectadas").
    """
    user = session.user
    if not verify_password(user.password_hash, current):
        _audit("password.change", session, info, outcome="failure", details={"reason": "current"})
        db.session.commit()
        raise WrongCurrentPassword()
    problems = check_new_password(new, dni=user.dni, confirmation=confirmation)
    if problems:
        raise PasswordRejectedError(problems)
    user.password_hash = hash_password(new)
    user.password_changed_at = utcnow()
    user.link_generation += 1  # a reset link mailed earlier must not undo this change
    db.session.execute(
        update(OAuthToken)
        .where(
            OAuthToken.user_id == user.id,
            OAuthToken.is_offline.is_(False),
            OAuthToken.revoked_at.is_(None),
            or_(OAuthToken.sid.is_(None), OAuthToken.sid != session.sid),
        )
        .values(revoked_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    _audit("password.change", session, info)
    # Ends the other sessions (their end hooks revoke their tokens) and commits all of it.
    return end_user_sessions(user.id, "password_changed", except_session_id=session.id)


def end_other_sessions(session: SSOSession, info: RequestInfo) -> int:
    """ "Cerrar todas las demás sesiones": end every session but this one; commits."""
    _audit("sessions.ended_by_user", session, info)
    return end_user_sessions(session.user_id, "ended_by_user", except_session_id=session.id)


@dataclass(frozen=True)
class ConnectedApp:
    """A client the person consented to, and what it may read."""

    client_id: str
    name: str
    description: str | None
    scopes: list[str]
    granted_at: datetime


def connected_apps(user_id: int) -> list[ConnectedApp]:
    """Every client with a remembered consent of the user, by name."""
    rows = db.session.execute(
        select(Consent, OAuthClient)
        .join(OAuthClient, OAuthClient.id == Consent.client_pk)
        .where(Consent.user_id == user_id)
        .order_by(OAuthClient.name)
    ).all()
    return [
        ConnectedApp(
            client.client_id,
            client.name,
            client.description,
            list(consent.scopes),
            consent.updated_at,
        )
        for consent, client in rows
    ]


def revoke_app(session: SSOSession, client_id: str, info: RequestInfo) -> str:
    """Forget the consent to ``client_id`` and revoke its tokens and codes; return its name.

    Offline tokens go too: revoking access means the app reads nothing more. Commits.
    """
    client = db.session.scalar(select(OAuthClient).where(OAuthClient.client_id == client_id))
    consent = (
        db.session.scalar(
            select(Consent).where(
                Consent.user_id == session.user_id, Consent.client_pk == client.id
            )
        )
        if client is not None
        else None
    )
    if client is None or consent is None:
        raise UnknownConnectedApp()
    db.session.delete(consent)
    db.session.execute(
        update(OAuthToken)
        .where(
            OAuthToken.user_id == session.user_id,
            OAuthToken.client_pk == client.id,
            OAuthToken.revoked_at.is_(None),
        )
        .values(revoked_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    db.session.execute(
        delete(AuthorizationCode).where(
            AuthorizationCode.user_id == session.user_id,
            AuthorizationCode.client_pk == client.id,
        )
    )
    _audit("consent.revoked", session, info, client_id=client.client_id)
    db.session.commit()
    return client.name


@dataclass(frozen=True)
class Activity:
    """One line of "Actividad reciente"."""

    occurred_at: datetime
    succeeded: bool
    event: str
    ip_address: str | None
    client_name: str | None


def recent_activity(user_id: int, limit: int = ACTIVITY_LIMIT) -> list[Activity]:
    """The user's last sign-ins and refused attempts, newest first, with the app's name."""
    rows = db.session.execute(
        select(AuditEvent, OAuthClient.name)
        .outerjoin(OAuthClient, OAuthClient.client_id == AuditEvent.client_id)
        .where(AuditEvent.subject_user_id == user_id, AuditEvent.event.in_(ACTIVITY_EVENTS))
        .order_by(AuditEvent.occurred_at.desc(), AuditEvent.id.desc())
        .limit(limit)
    ).all()
    return [
        Activity(
            event.occurred_at,
            event.outcome == "success" and event.event == "login_succeeded",
            event.event,
            event.ip_address,
            name,
        )
        for event, name in rows
    ]
