"""The sign-in's second step: a password that passed waits here for a TOTP or recovery code.

The browser keeps the challenge's secret in Flask's signed session; the row keeps its SHA-256,
the user, where to resume, an attempt count and an expiry (``MFA_CHALLENGE_TTL_SECONDS``).
A challenge is single use: it is deleted when the second step succeeds, when it runs out of
attempts (``MFA_CHALLENGE_MAX_ATTEMPTS``) or when the account locks. Wrong codes count toward
the account lockout exactly as wrong passwords do (``passport/accounts/lockout.py``).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime
from datetime import timedelta
from typing import Any

from flask import current_app
from sqlalchemy import delete
from sqlalchemy import select

from passport.accounts.lockout import LockoutPolicy
from passport.accounts.lockout import is_locked
from passport.accounts.lockout import record_lockout
from passport.accounts.lockout import register_failed_login
from passport.accounts.lockout import register_successful_login
from passport.accounts.models import User
from passport.audit.services import Actor
from passport.database import utcnow
from passport.extensions import db
from passport.mfa.errors import AccountLocked
from passport.mfa.errors import ChallengeExpired
from passport.mfa.errors import InvalidCode
from passport.mfa.models import SecondFactorChallenge
from passport.mfa.services import check_second_factor

MAX_TOKEN_LENGTH = 100


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def start_challenge(
    user: User, authz_id: str | None, next_url: str | None, client_id: str | None
) -> str:
    """Open a second step for ``user``; return the secret the browser keeps; commits."""
    now = utcnow()
    # Expired challenges of anyone, and earlier ones of this user, are dead weight.
    db.session.execute(
        delete(SecondFactorChallenge).where(
            (SecondFactorChallenge.expires_at <= now) | (SecondFactorChallenge.user_id == user.id)
        )
    )
    token = secrets.token_urlsafe(32)
    ttl = timedelta(seconds=current_app.config["MFA_CHALLENGE_TTL_SECONDS"])
    db.session.add(
        SecondFactorChallenge(
            token_hash=_hash(token),
            user_id=user.id,
            authz_id=authz_id,
            next_url=(next_url or None) and next_url[:2000],
            client_id=client_id,
            created_at=now,
            expires_at=now + ttl,
        )
    )
    db.session.commit()
    return token


def find_challenge(token: str | None, *, lock: bool = False) -> SecondFactorChallenge | None:
    """The live challenge named by ``token``, or None (absent, used, expired)."""
    if not token or len(token) > MAX_TOKEN_LENGTH:
        return None
    query = select(SecondFactorChallenge).where(SecondFactorChallenge.token_hash == _hash(token))
    # Locked when about to be used: of two requests racing with one challenge, the second
    # waits and then finds it gone (single use).
    if lock:
        query = query.with_for_update().execution_options(populate_existing=True)
    challenge = db.session.scalar(query)
    if challenge is None or challenge.expires_at <= utcnow():
        return None
    return challenge


@dataclass(frozen=True)
class PassedSecondStep:
    """A completed sign-in: who, how, and where to resume."""

    user: User
    method: str  # "otp" | "recovery_code"
    authz_id: str | None
    next_url: str | None


def complete_challenge(token: str | None, code: str, info: Actor) -> PassedSecondStep:
    """Check the code of a second step; commits.

    Raises ``ChallengeExpired`` (start again), ``AccountLocked`` (with ``locked_until`` when
    this very code locked the account: the caller mails the owner) or ``InvalidCode``.
    """
    challenge = find_challenge(token, lock=True)
    if challenge is None:
        raise ChallengeExpired()
    user = db.session.scalar(select(User).where(User.id == challenge.user_id).with_for_update())
    now = utcnow()
    if user is None or not user.is_active:
        db.session.delete(challenge)
        db.session.commit()
        raise ChallengeExpired()
    if is_locked(user, now):
        db.session.delete(challenge)
        _record("login_failed", user, info, {"reason": "locked"}, outcome="failure")
        db.session.commit()
        raise AccountLocked(None)
    try:
        method = check_second_factor(user, code, info, now)
    except InvalidCode:
        return _count_failure(challenge, user, info, now)
    resume = PassedSecondStep(user, method, challenge.authz_id, challenge.next_url)
    db.session.delete(challenge)
    register_successful_login(user)
    _record("login_succeeded", user, info, {"amr": ["pwd", "otp"], "method": method})
    db.session.commit()
    return resume


def _record(
    event: str, user: User, info: Actor, details: dict[str, Any], outcome: str = "success"
) -> None:
    info.record(
        event,
        outcome=outcome,
        subject_user_id=user.id,
        subject_dni=user.dni,
        details=details,
    )


def _count_failure(
    challenge: SecondFactorChallenge, user: User, info: Actor, now: datetime
) -> PassedSecondStep:
    """A wrong code: count it on the account and on the challenge; commit; raise."""
    locked_until = register_failed_login(user, LockoutPolicy.from_config(current_app.config), now)
    challenge.attempts += 1
    _record("login_failed", user, info, {"reason": "bad_second_factor"}, outcome="failure")
    if locked_until is not None:
        record_lockout(user, locked_until, info)
        db.session.delete(challenge)
        db.session.commit()
        raise AccountLocked(locked_until, user.id)
    if challenge.attempts >= int(current_app.config["MFA_CHALLENGE_MAX_ATTEMPTS"]):
        db.session.delete(challenge)
        db.session.commit()
        raise ChallengeExpired()
    db.session.commit()
    raise InvalidCode()
