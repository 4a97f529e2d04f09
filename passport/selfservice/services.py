"""Mi cuenta's actions on the signed-in person's own account. Commit once per call."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from passport.accounts.errors import PasswordRejectedError
from passport.accounts.services import check_new_password
from passport.audit.models import AuditEvent
from passport.audit.services import Actor
from passport.audit.services import record_event
from passport.database import utcnow
from passport.extensions import db
from passport.login.models import SSOSession
from passport.login.sessions import end_user_sessions
from passport.oidc.models import OAuthClient
from passport.oidc.revocation import LiveGrant
from passport.oidc.revocation import live_grants
from passport.oidc.revocation import password_changed
from passport.oidc.revocation import revoke_grant
from passport.security.passwords import hash_password
from passport.security.passwords import verify_password
from passport.selfservice.errors import UnknownConnectedApp
from passport.selfservice.errors import WrongCurrentPassword

# What "Actividad reciente" lists: sign-ins and refused attempts, by password, code or passkey.
# A refused passkey is recorded against the person only when it is theirs (the credential was
# found and is theirs, or the session or password already named them): passkeys.services.
ACTIVITY_EVENTS = ("login_succeeded", "login_failed", "account_locked", "passkey.failed")
ACTIVITY_LIMIT = 10


def _audit(event: str, session: SSOSession, info: Actor, **fields: object) -> None:
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
    session: SSOSession, current: str, new: str, confirmation: str, info: Actor
) -> int:
    """Set a new password; end the other sessions; return how many ended.

    Raises ``WrongCurrentPassword`` or ``PasswordRejectedError`` having changed nothing. Every
    token not issued in this session is revoked, offline ones too: a person changes a password
    they fear is known, and an offline grant obtained with it must not outlive it
    (passport.oidc.revocation.password_changed).
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
    _audit("password.change", session, info)
    # Revokes the tokens, ends the other sessions and commits all of it.
    return password_changed(user.id, session)


def end_other_sessions(session: SSOSession, info: Actor) -> int:
    """ "Cerrar todas las demás sesiones": end every session but this one; commits."""
    _audit("sessions.ended_by_user", session, info)
    return end_user_sessions(session.user_id, "ended_by_user", except_session_id=session.id)


def connected_apps(user_id: int) -> list[LiveGrant]:
    """ "Aplicaciones conectadas": every app with access now (a consent or live tokens, so
    apps that skip consent too), by name; the console lists a person's apps the same way."""
    return live_grants(user_id)


def revoke_app(session: SSOSession, client_id: str, info: Actor) -> str:
    """End ``client_id``'s access: consent, tokens (offline too), codes; return its name.

    ``UnknownConnectedApp`` when it had none. Commits.
    """
    client = db.session.scalar(select(OAuthClient).where(OAuthClient.client_id == client_id))
    if client is None:
        raise UnknownConnectedApp()
    revoked = revoke_grant(session.user_id, client.id)
    if not revoked.anything:
        db.session.rollback()
        raise UnknownConnectedApp()
    _audit(
        "consent.revoked",
        session,
        info,
        client_id=client.client_id,
        details={"tokens_revoked": revoked.tokens},
    )
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
