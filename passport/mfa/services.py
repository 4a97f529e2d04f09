"""The second factor of an account: enrol, verify, disable, recovery codes.

Services take plain values, raise domain errors (``passport.mfa.errors``) and commit once per
public call; audit events never carry a secret, a code or its hash.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from flask import Flask
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
from passport.audit.services import record_event
from passport.database import utcnow
from passport.extensions import db
from passport.mfa.assurance import SECOND_FACTOR_METHOD
from passport.mfa.assurance import acr_for
from passport.mfa.assurance import has_second_factor
from passport.mfa.enrolment import issue_enrolment_link
from passport.mfa.enrolment import live_link
from passport.mfa.enrolment import needs_link
from passport.mfa.enrolment import spend_link
from passport.mfa.errors import AccountLocked
from passport.mfa.errors import InvalidCode
from passport.mfa.errors import InvalidPassword
from passport.mfa.errors import NotEnrolled
from passport.mfa.models import Passkey
from passport.mfa.models import TOTPCredential
from passport.mfa.recovery import delete_recovery_codes
from passport.mfa.recovery import replace_recovery_codes
from passport.mfa.recovery import use_recovery_code
from passport.mfa.totp import decrypt_secret
from passport.mfa.totp import encrypt_secret
from passport.mfa.totp import matching_step
from passport.mfa.totp import new_secret
from passport.mfa.totp import provisioning_uri
from passport.security.passwords import verify_password


def user_has_totp(user_id: int) -> bool:
    """True when the user has switched TOTP on (a confirmed credential)."""
    found = db.session.scalar(
        select(TOTPCredential.id).where(
            TOTPCredential.user_id == user_id, TOTPCredential.confirmed_at.is_not(None)
        )
    )
    return found is not None


def user_has_passkey(user_id: int) -> bool:
    """True when the user has at least one passkey."""
    found = db.session.scalar(select(Passkey.id).where(Passkey.user_id == user_id).limit(1))
    return found is not None


class ProvenSession(Protocol):
    """What a sign-in session tells of how it was proven (an SSOSession or its facts)."""

    @property
    def amr(self) -> list[str]: ...


class SignedInSession(Protocol):
    """The SSO session the second factor is proven in (login's SSOSession): mfa sits below
    login, so it names only what it reads and writes."""

    amr: list[str]
    acr: str | None

    @property
    def user(self) -> User: ...


def session_has_second_factor(session: ProvenSession) -> bool:
    """True when the SSO session was proven with a second factor (TOTP or a passkey)."""
    return has_second_factor(session.amr)


def add_second_factor_to_session(session: SignedInSession) -> None:
    """Record that the person just proved the second factor in this session; commits."""
    if SECOND_FACTOR_METHOD not in (session.amr or []):
        # A new list: the JSON column only notices assignment, not in-place changes.
        session.amr = [*(session.amr or []), SECOND_FACTOR_METHOD]
    session.acr = acr_for(session.amr)
    db.session.commit()


def enrol_new_admin(sender: Flask, *, user: User, actor: Actor) -> None:
    """Receiver of ``accounts.signals.admin_granted``: an admin without TOTP is mailed a
    one-time enrolment link, so whoever knows the password is not the one who enrols the
    second factor. No commit; raises UnverifiedEmailError or MailDeliveryError."""
    if not user_has_totp(user.id):
        issue_enrolment_link(user, actor_user_id=actor.user_id, actor_client_id=actor.client_id)


@dataclass(frozen=True)
class Enrolment:
    """What the enrolment page shows: the secret for manual entry and the otpauth URI."""

    secret: str
    uri: str


def _credential(user_id: int, *, lock: bool = False) -> TOTPCredential | None:
    query = select(TOTPCredential).where(TOTPCredential.user_id == user_id)
    # Row lock (PostgreSQL): two requests racing with one code see each other's last step.
    if lock:
        query = query.with_for_update().execution_options(populate_existing=True)
    return db.session.scalar(query)


def _enrolment(user: User, secret: str) -> Enrolment:
    issuer = str(current_app.config["TOTP_ISSUER_NAME"])
    return Enrolment(secret=secret, uri=provisioning_uri(secret, user.dni, issuer))


def start_enrolment(user: User) -> Enrolment:
    """The enrolment in progress, or a new secret for it; commits a new one.

    Reloading the page keeps the same secret, so a code typed from a scanned QR stays valid.
    """
    credential = _credential(user.id)
    if credential is not None and credential.confirmed_at is not None:
        raise NotEnrolled("TOTP is already on; disable it first")
    if credential is None:
        secret = new_secret()
        db.session.add(TOTPCredential(user_id=user.id, secret_encrypted=encrypt_secret(secret)))
        db.session.commit()
        return _enrolment(user, secret)
    return _enrolment(user, decrypt_secret(credential.secret_encrypted))


def confirm_enrolment(
    user: User,
    code: str,
    info: Actor,
    *,
    password: str,
    enrolment_token: str | None = None,
) -> list[str]:
    """Switch TOTP on after the password and a first good code; return the recovery codes.

    The password too: a borrowed or stolen session must not be able to put a factor only the
    thief holds on the account (locking the owner out). An admin also needs a live enrolment
    link (``passport/mfa/enrolment.py``), which this spends.
    """
    credential = _credential(user.id)
    if credential is None or credential.confirmed_at is not None:
        raise NotEnrolled("no enrolment in progress")
    link = live_link(user, enrolment_token)
    if needs_link(user) and link is None:
        raise NotEnrolled("an admin enrols only through a live enrolment link")
    if not verify_password(user.password_hash, password):
        _audit("mfa.totp_enabled", user, info, outcome="failure", details={"reason": "password"})
        db.session.commit()
        raise InvalidPassword()
    now = utcnow()
    step = matching_step(decrypt_secret(credential.secret_encrypted), code, now, None)
    if step is None:
        raise InvalidCode()
    if link is not None and not spend_link(link):
        db.session.rollback()
        raise NotEnrolled("the enrolment link was used meanwhile")
    credential.confirmed_at = now
    credential.last_used_step = step
    codes = replace_recovery_codes(user.id)
    _audit("mfa.totp_enabled", user, info)
    db.session.commit()
    return codes


def check_second_factor(user: User, code: str, info: Actor, now: datetime | None = None) -> str:
    """Accept a TOTP code or an unused recovery code; return the method; no commit.

    Returns ``"otp"`` or ``"recovery_code"``; raises ``InvalidCode``. A TOTP code is good once
    (its step is remembered); a recovery code is spent.
    """
    credential = _credential(user.id, lock=True)
    if credential is None or credential.confirmed_at is None:
        raise InvalidCode()
    now = now or utcnow()
    secret = decrypt_secret(credential.secret_encrypted)
    step = matching_step(secret, code, now, credential.last_used_step)
    if step is not None:
        credential.last_used_step = step
        return "otp"
    if use_recovery_code(user.id, code):
        _audit("mfa.recovery_code_used", user, info)
        return "recovery_code"
    raise InvalidCode()


def check_signed_in_code(user: User, code: str, info: Actor, event: str) -> str:
    """``check_second_factor`` for a signed-in person, under the account lockout; no commit.

    A wrong code counts as a failed login (``passport/accounts/lockout.py``): a stolen session
    must not get unlimited guesses at the code. Raises ``AccountLocked`` or ``InvalidCode``
    (after auditing ``event`` as a failure and committing).
    """
    now = utcnow()
    if is_locked(user, now):
        raise AccountLocked(None)
    try:
        return check_second_factor(user, code, info, now)
    except InvalidCode:
        locked_until = register_failed_login(
            user, LockoutPolicy.from_config(current_app.config), now
        )
        _audit(event, user, info, outcome="failure", details={"reason": "code"})
        if locked_until is not None:
            record_lockout(user, locked_until, info)
        db.session.commit()
        if locked_until is not None:
            raise AccountLocked(locked_until, user.id) from None
        raise


def step_up(session: SignedInSession, code: str, info: Actor) -> None:
    """A signed-in person proves the second factor: the session gains "otp"; commits."""
    method = check_signed_in_code(session.user, code, info, "mfa.step_up")
    register_successful_login(session.user)
    _audit("mfa.step_up", session.user, info, details={"method": method})
    add_second_factor_to_session(session)


def disable_totp(user: User, password: str, code: str, info: Actor) -> None:
    """Switch TOTP off: needs the current password and a code; commits."""
    if not verify_password(user.password_hash, password):
        _audit("mfa.totp_disabled", user, info, outcome="failure", details={"reason": "password"})
        db.session.commit()
        raise InvalidPassword()
    check_signed_in_code(user, code, info, "mfa.totp_disabled")
    db.session.execute(delete(TOTPCredential).where(TOTPCredential.user_id == user.id))
    delete_recovery_codes(user.id)
    _audit("mfa.totp_disabled", user, info)
    db.session.commit()


def regenerate_recovery_codes(user: User, code: str, info: Actor) -> list[str]:
    """A fresh set of recovery codes (the old ones die), after a good code; commits."""
    check_signed_in_code(user, code, info, "mfa.recovery_codes_regenerated")
    codes = replace_recovery_codes(user.id)
    _audit("mfa.recovery_codes_regenerated", user, info)
    db.session.commit()
    return codes


def _audit(
    event: str,
    user: User,
    info: Actor,
    outcome: str = "success",
    details: dict[str, str] | None = None,
) -> None:
    record_event(
        event,
        outcome=outcome,
        actor_user_id=user.id,
        subject_user_id=user.id,
        subject_dni=user.dni,
        client_id=info.client_id,
        ip_address=info.ip_address,
        user_agent=info.user_agent,
        details=details,
    )
