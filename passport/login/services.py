"""Signing in with DNI and password: lockout, rehash, audit. Views pass plain values."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from flask import current_app
from sqlalchemy import select

from passport.accounts.lockout import LockoutPolicy
from passport.accounts.lockout import is_locked
from passport.accounts.lockout import record_lockout
from passport.accounts.lockout import register_failed_login
from passport.accounts.lockout import register_successful_login
from passport.accounts.models import User
from passport.accounts.models import UserStatus
from passport.accounts.services import send_lockout_notice
from passport.audit.services import Actor
from passport.audit.services import record_event
from passport.database import utcnow
from passport.extensions import db
from passport.login.errors import CaptchaFailed
from passport.login.errors import InvalidCredentials
from passport.mfa.services import user_has_totp
from passport.security.passwords import hash_password
from passport.security.passwords import needs_rehash
from passport.security.passwords import verify_password

log = logging.getLogger(__name__)


def _typed_dni(dni: str) -> str | None:
    """The typed username as the audit log may keep it: 8 digits, or nothing."""
    return dni if len(dni) == 8 and dni.isascii() and dni.isdigit() else None


def record_captcha_failure(dni: str, info: Actor) -> None:
    """Audit a wrong CAPTCHA on the sign-in form; commits; raises ``CaptchaFailed``."""
    info.record(
        "captcha_failed",
        outcome="failure",
        subject_dni=_typed_dni(dni),
        details={"form": "sign_in"},
    )
    db.session.commit()
    raise CaptchaFailed()


def _refuse(user: User | None, dni: str, reason: str, info: Actor) -> InvalidCredentials:
    info.record(
        "login_failed",
        outcome="failure",
        subject_user_id=user.id if user else None,
        subject_dni=_typed_dni(dni),
        details={"reason": reason},
    )
    db.session.commit()
    return InvalidCredentials(reason)


@dataclass(frozen=True)
class PasswordAccepted:
    """The outcome of a right password: the user, and whether a TOTP code is still due."""

    user: User
    second_factor_due: bool


def authenticate(dni: str, password: str, info: Actor) -> PasswordAccepted:
    """Check DNI and password; return the active user or raise ``InvalidCredentials``.

    A user with TOTP on is not signed in yet (``second_factor_due``): the caller opens the
    second step.

    Every refusal costs one Argon2 verification, so response times do not tell an unknown
    DNI, a locked or pending account and a wrong password apart. A refusal commits; an
    acceptance does not: its audit event, the reset failure counts and a rehash are committed
    with what the caller starts next (the SSO session or the second step, both commit), in one
    transaction, so the account row (locked FOR UPDATE on PostgreSQL) is read once.
    """
    now = utcnow()
    user = None
    if _typed_dni(dni) is not None:
        # Row lock (PostgreSQL): concurrent failures of one account are counted one by one.
        user = db.session.scalar(select(User).where(User.dni == dni).with_for_update())
    if user is None:
        verify_password(None, password)
        raise _refuse(None, dni, "unknown_user" if _typed_dni(dni) else "invalid_dni", info)
    if user.status is not UserStatus.ACTIVE:
        verify_password(None, password)
        raise _refuse(user, dni, user.status.value, info)
    if is_locked(user, now):
        # Not counted: hammering a locked account must not lengthen its lockout.
        verify_password(None, password)
        raise _refuse(user, dni, "locked", info)
    if not verify_password(user.password_hash, password):
        policy = LockoutPolicy.from_config(current_app.config)
        locked_until = register_failed_login(user, policy, now)
        error = _refuse(user, dni, "bad_password", info)  # commits the new counts too
        if locked_until is not None:
            record_lockout(user, locked_until, info)
            db.session.commit()
            # The view mails the owner after the response is sent (see views.py): sending
            # now would make the locking failure slower than any other refusal.
            error.locked_until = locked_until
            error.user_id = user.id
        raise error
    second_factor_due = user_has_totp(user.id)
    if not second_factor_due:
        # With TOTP on, failures are forgiven only once the second step passes: otherwise
        # the password alone would reset the count of wrong codes (mfa/challenges.py).
        register_successful_login(user)
    if user.password_hash and needs_rehash(user.password_hash):
        # The Argon2 parameters changed since this hash was made: upgrade it now that we
        # hold the password (issue 2, "rehash transparently on login").
        user.password_hash = hash_password(password)
    info.record(
        "login_password_accepted" if second_factor_due else "login_succeeded",
        subject_user_id=user.id,
        subject_dni=user.dni,
        details={"amr": ["pwd"]},
    )
    return PasswordAccepted(user, second_factor_due)


def notify_lockout(user_id: int, locked_until: datetime) -> None:
    """Mail the owner of a just-locked account (``send_lockout_notice`` commits)."""
    user = db.session.get(User, user_id)
    if user is not None:
        send_lockout_notice(user, locked_until)


def record_logout(user_id: int, info: Actor) -> None:
    """Audit a local logout (the caller ends the session, which commits)."""
    record_event(
        "logout",
        actor_user_id=user_id,
        subject_user_id=user_id,
        ip_address=info.ip_address,
        user_agent=info.user_agent,
    )
