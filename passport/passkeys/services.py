"""Passkeys: registration, sign-in and step-up ceremonies, and their management.

py_webauthn checks the ceremonies (clientDataJSON, origin, rp id, flags, COSE keys,
signatures); this module adds what is Passport's: single-use server-side challenges, the
opaque user handle, the account lockout, the signature counter and the audit trail.
Services take plain values, raise ``passport.passkeys.errors`` and commit once per call.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from dataclasses import dataclass
from dataclasses import replace
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from flask import Flask
from flask import current_app
from sqlalchemy import delete
from sqlalchemy import func
from sqlalchemy import select
from webauthn import generate_authentication_options
from webauthn import generate_registration_options
from webauthn import options_to_json
from webauthn import verify_authentication_response
from webauthn import verify_registration_response
from webauthn.helpers import parse_authentication_credential_json
from webauthn.helpers import parse_client_data_json
from webauthn.helpers import parse_registration_credential_json
from webauthn.helpers.exceptions import WebAuthnException
from webauthn.helpers.structs import AttestationConveyancePreference
from webauthn.helpers.structs import AuthenticatorSelectionCriteria
from webauthn.helpers.structs import PublicKeyCredentialDescriptor
from webauthn.helpers.structs import ResidentKeyRequirement
from webauthn.helpers.structs import UserVerificationRequirement

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
from passport.login.models import SSOSession
from passport.mfa.errors import AccountLocked
from passport.passkeys.errors import CeremonyFailed
from passport.passkeys.errors import ChallengeUnusable
from passport.passkeys.errors import CounterRegressed
from passport.passkeys.errors import NotFresh
from passport.passkeys.errors import UnknownCredential
from passport.passkeys.errors import UnknownPasskey
from passport.passkeys.models import ChallengePurpose
from passport.passkeys.models import Passkey
from passport.passkeys.models import PasskeyChallenge
from passport.passkeys.models import PasskeyUserHandle

log = logging.getLogger(__name__)

CHALLENGE_TTL = timedelta(minutes=5)
TIMEOUT_MS = 120_000
NAME_MAX = 64
# What py_webauthn raises, plus what malformed base64/JSON surfaces as: hostile input.
_BAD_INPUT = (WebAuthnException, ValueError, TypeError, KeyError, AttributeError)


# --- The relying party -----------------------------------------------------------------


def rp_id() -> str:
    """The WebAuthn relying-party id: the issuer's host (passkeys are bound to it)."""
    return (urlsplit(str(current_app.config["ISSUER"])).hostname or "localhost").lower()


def expected_origin() -> str:
    """The origin the browser reports in clientDataJSON: the issuer's scheme and host."""
    parts = urlsplit(str(current_app.config["ISSUER"]))
    return f"{parts.scheme}://{parts.netloc}"


def reauth_window() -> timedelta:
    """How recent the sign-in must be to add a passkey (``PASSKEY_REAUTH_MINUTES``)."""
    return timedelta(minutes=int(current_app.config.get("PASSKEY_REAUTH_MINUTES", 5)))


def is_fresh(session: SSOSession) -> bool:
    """Whether the session was (re-)authenticated recently enough to add a passkey."""
    return utcnow() - session.auth_time <= reauth_window()


# --- Queries ---------------------------------------------------------------------------


def passkeys_of(user_id: int) -> list[Passkey]:
    """The user's passkeys, oldest first."""
    return list(
        db.session.scalars(
            select(Passkey).where(Passkey.user_id == user_id).order_by(Passkey.created_at)
        )
    )


def _passkey_of(user_id: int, passkey_id: int) -> Passkey:
    passkey = db.session.get(Passkey, passkey_id)
    if passkey is None or passkey.user_id != user_id:
        raise UnknownPasskey()
    return passkey


def user_handle(user: User) -> bytes:
    """The user's opaque handle (64 random bytes, made on first use); no commit."""
    row = db.session.get(PasskeyUserHandle, user.id)
    if row is None:
        row = PasskeyUserHandle(user_id=user.id, handle=secrets.token_bytes(64))
        db.session.add(row)
        db.session.flush()
    return row.handle


# --- Challenges ------------------------------------------------------------------------


def _digest(challenge: bytes) -> str:
    return hashlib.sha256(challenge).hexdigest()


def _new_challenge(purpose: ChallengePurpose, user_id: int | None) -> bytes:
    """A random challenge remembered (as its hash) for one use; no commit."""
    now = utcnow()
    db.session.execute(delete(PasskeyChallenge).where(PasskeyChallenge.expires_at <= now))
    challenge = secrets.token_bytes(32)
    db.session.add(
        PasskeyChallenge(
            challenge_hash=_digest(challenge),
            purpose=purpose.value,
            user_id=user_id,
            created_at=now,
            expires_at=now + CHALLENGE_TTL,
        )
    )
    return challenge


def _spend_challenge(challenge: bytes, purpose: ChallengePurpose, user_id: int | None) -> None:
    """Consume the challenge the browser signed; ChallengeUnusable unless it is live, ours,
    for this purpose and this person. Deleted either way: a challenge is tried once."""
    row = db.session.scalar(
        select(PasskeyChallenge)
        .where(PasskeyChallenge.challenge_hash == _digest(challenge))
        .with_for_update()
    )
    if row is None:
        raise ChallengeUnusable()
    db.session.delete(row)
    db.session.flush()
    if row.expires_at <= utcnow() or row.purpose != purpose.value or row.user_id != user_id:
        raise ChallengeUnusable()


def _signed_challenge(client_data_json: bytes) -> bytes:
    try:
        return parse_client_data_json(client_data_json).challenge
    except _BAD_INPUT as error:
        raise CeremonyFailed("clientDataJSON") from error


# --- Registration ----------------------------------------------------------------------


def registration_options(session: SSOSession) -> str:
    """The options of ``navigator.credentials.create`` (JSON); commits the challenge."""
    user = session.user
    if not is_fresh(session):
        raise NotFresh()
    options = generate_registration_options(
        rp_id=rp_id(),
        rp_name=str(current_app.config["BRAND_NAME"]),
        # The account name the phone shows; the handle (user.id) is what stays opaque.
        user_name=user.dni,
        user_display_name=user.name,
        user_id=user_handle(user),
        challenge=_new_challenge(ChallengePurpose.REGISTER, user.id),
        timeout=TIMEOUT_MS,
        attestation=AttestationConveyancePreference.NONE,
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.REQUIRED,
            require_resident_key=True,
            user_verification=UserVerificationRequirement.REQUIRED,
        ),
        exclude_credentials=[
            PublicKeyCredentialDescriptor(id=passkey.credential_id)
            for passkey in passkeys_of(user.id)
        ],
    )
    db.session.commit()
    return options_to_json(options)


def clean_name(name: str | None) -> str:
    """The passkey's name as kept: trimmed, one line, at most 64 characters."""
    cleaned = " ".join((name or "").split())[:NAME_MAX]
    return cleaned


def register(session: SSOSession, credential: Any, name: str | None, info: Actor) -> Passkey:
    """Verify a new credential and keep it as the person's passkey; commits."""
    user = session.user
    if not is_fresh(session):
        raise NotFresh()
    try:
        parsed = parse_registration_credential_json(credential)
        _spend_challenge(
            _signed_challenge(parsed.response.client_data_json),
            ChallengePurpose.REGISTER,
            user.id,
        )
        verified = verify_registration_response(
            credential=parsed,
            expected_challenge=_signed_challenge(parsed.response.client_data_json),
            expected_rp_id=rp_id(),
            expected_origin=expected_origin(),
            require_user_verification=True,
        )
    except ChallengeUnusable:
        db.session.commit()  # the spent challenge stays spent
        raise
    except _BAD_INPUT as error:
        db.session.commit()
        _audit("passkey.registered", user, info, outcome="failure", reason=_reason(error))
        db.session.commit()
        raise CeremonyFailed(str(error)) from error
    taken = db.session.scalar(
        select(Passkey.id).where(Passkey.credential_id == verified.credential_id)
    )
    if taken is not None:
        db.session.commit()
        raise CeremonyFailed("credential already registered")
    passkey = Passkey(
        user_id=user.id,
        credential_id=verified.credential_id,
        public_key=verified.credential_public_key,
        sign_count=verified.sign_count,
        aaguid=verified.aaguid.replace("-", "").lower()[:32],
        name=clean_name(name) or default_name(user.id),
        rp_id=rp_id(),
        backed_up=verified.credential_backed_up,
        created_at=utcnow(),
    )
    db.session.add(passkey)
    db.session.flush()
    _audit("passkey.registered", user, info, passkey=passkey)
    db.session.commit()
    return passkey


def default_name(user_id: int) -> str:
    """ "Llave de acceso 2" when the person gave no name."""
    count = db.session.scalar(select(func.count(Passkey.id)).where(Passkey.user_id == user_id))
    return f"Llave de acceso {int(count or 0) + 1}"


# --- Assertions (sign-in and step-up) ----------------------------------------------------


def sign_in_options() -> str:
    """Options of ``navigator.credentials.get`` for the sign-in page (any discoverable
    credential, no user known yet); commits the challenge."""
    options = generate_authentication_options(
        rp_id=rp_id(),
        challenge=_new_challenge(ChallengePurpose.SIGN_IN, None),
        timeout=TIMEOUT_MS,
        user_verification=UserVerificationRequirement.REQUIRED,
    )
    db.session.commit()
    return options_to_json(options)


def step_up_options(user: User) -> str:
    """Options for a signed-in person proving a passkey (admin console, acr step-up)."""
    options = generate_authentication_options(
        rp_id=rp_id(),
        challenge=_new_challenge(ChallengePurpose.STEP_UP, user.id),
        timeout=TIMEOUT_MS,
        allow_credentials=[
            PublicKeyCredentialDescriptor(id=passkey.credential_id)
            for passkey in passkeys_of(user.id)
        ],
        user_verification=UserVerificationRequirement.REQUIRED,
    )
    db.session.commit()
    return options_to_json(options)


@dataclass(frozen=True)
class Assertion:
    """A verified use of a passkey."""

    user: User
    passkey: Passkey


def verify_assertion(
    credential: Any, purpose: ChallengePurpose, info: Actor, user: User | None = None
) -> Assertion:
    """Check a ``navigator.credentials.get`` answer; count the use or the failure; commits.

    ``user`` is the signed-in person for a step-up (the passkey must be theirs), None on the
    sign-in page (the credential names the person). A failure on a known account counts
    toward its lockout exactly as a wrong password does. Raises ChallengeUnusable,
    UnknownCredential, CeremonyFailed (CounterRegressed) or AccountLocked.
    """
    try:
        parsed = parse_authentication_credential_json(credential)
        challenge = _signed_challenge(parsed.response.client_data_json)
    except _BAD_INPUT as error:
        raise CeremonyFailed("malformed") from error
    try:
        _spend_challenge(challenge, purpose, user.id if user is not None else None)
    except ChallengeUnusable:
        db.session.commit()
        _audit_failure(None, info, "challenge")
        raise
    passkey = db.session.scalar(
        select(Passkey).where(Passkey.credential_id == parsed.raw_id).with_for_update()
    )
    if passkey is None or (user is not None and passkey.user_id != user.id):
        _audit_failure(user, info, "unknown_credential")
        raise UnknownCredential()
    owner = db.session.scalar(select(User).where(User.id == passkey.user_id).with_for_update())
    if owner is None or not owner.is_active:
        _audit_failure(owner, info, "inactive")
        raise UnknownCredential()
    handle = parsed.response.user_handle
    if handle is not None and handle != user_handle(owner):
        return _fail(owner, passkey, info, "user_handle")
    now = utcnow()
    if is_locked(owner, now):
        _audit_failure(owner, info, "locked")
        raise AccountLocked(None)
    try:
        # The counter is compared below (0 here): a regression is audited as a possible clone,
        # and only after the signature proved the answer genuine.
        verified = verify_authentication_response(
            credential=parsed,
            expected_challenge=challenge,
            expected_rp_id=rp_id(),
            expected_origin=expected_origin(),
            credential_public_key=passkey.public_key,
            credential_current_sign_count=0,
            require_user_verification=True,
        )
    except _BAD_INPUT as error:
        return _fail(owner, passkey, info, _reason(error))
    if counter_regressed(passkey.sign_count, verified.new_sign_count):
        info.record(
            "passkey.counter_regression",
            outcome="failure",
            subject_user_id=owner.id,
            subject_dni=owner.dni,
            details={
                "passkey_id": passkey.id,
                "stored": passkey.sign_count,
                "received": verified.new_sign_count,
            },
        )
        _fail(owner, passkey, info, "counter")
    passkey.sign_count = verified.new_sign_count
    passkey.last_used_at = now
    passkey.backed_up = verified.credential_backed_up
    register_successful_login(owner)
    _audit("passkey.used", owner, info, passkey=passkey, purpose=purpose.value)
    db.session.commit()
    return Assertion(owner, passkey)


def counter_regressed(stored: int, received: int) -> bool:
    """WebAuthn §6.1.1: a counter that did not grow is suspect, unless both are 0 (an
    authenticator without counters, as synced passkeys are)."""
    return (stored != 0 or received != 0) and received <= stored


def _count_failure(user: User, info: Actor) -> None:
    """Count a failure toward the account's lockout (as a wrong password); raise
    AccountLocked, after auditing it, when this failure locks the account; no commit."""
    locked_until = register_failed_login(
        user, LockoutPolicy.from_config(current_app.config), utcnow()
    )
    if locked_until is not None:
        record_lockout(user, locked_until, info)
        db.session.commit()
        raise AccountLocked(locked_until, user.id)


def _fail(owner: User, passkey: Passkey, info: Actor, reason: str) -> Assertion:
    """A failed assertion on a known account: counts toward its lockout; commits; raises."""
    # One commit after the count: the owner's row stays locked (PostgreSQL) until then.
    _record_failure(owner, info, reason, passkey_id=passkey.id)
    _count_failure(owner, info)
    db.session.commit()
    if reason == "counter":
        raise CounterRegressed()
    raise CeremonyFailed(reason)


def _reason(error: Exception) -> str:
    """A short, secret-free reason for the audit log (the library's message class)."""
    text = str(error).lower()
    for word, reason in (
        ("origin", "origin"),
        ("rp id", "rp_id"),
        ("verif", "user_verification"),
        ("signature", "signature"),
        ("challenge", "challenge"),
    ):
        if word in text:
            return reason
    return type(error).__name__[:40]


# --- Management --------------------------------------------------------------------------


def rename(session: SSOSession, passkey_id: int, name: str | None, info: Actor) -> Passkey:
    """Give one's own passkey a new name; commits."""
    passkey = _passkey_of(session.user_id, passkey_id)
    cleaned = clean_name(name)
    if not cleaned:
        raise UnknownPasskey()
    passkey.name = cleaned
    _audit("passkey.renamed", session.user, info, passkey=passkey)
    db.session.commit()
    return passkey


def _drop(user: User, passkey: Passkey, actor: Actor, **details: Any) -> str:
    """Delete one passkey and audit it (``passkey.removed``: its id and name, never the
    credential id); return its name; no commit. Every removal goes through here."""
    name = passkey.name
    actor.record(
        "passkey.removed",
        subject_user_id=user.id,
        subject_dni=user.dni,
        details={"passkey_id": passkey.id, "name": name, **details},
    )
    db.session.delete(passkey)
    return name


def remove(session: SSOSession, passkey_id: int, info: Actor) -> str:
    """Remove one's own passkey (the password path stays); return its name; commits."""
    passkey = _passkey_of(session.user_id, passkey_id)
    name = _drop(session.user, passkey, replace(info, user_id=session.user_id))
    db.session.commit()
    return name


def remove_by_admin(user: User, passkey_id: int, *, actor: Actor) -> str | None:
    """The help desk removes a person's passkey (lost phone); audited, mailed; commits.

    Returns its name, or None when the person has no such passkey (removed meanwhile).

    The one admin write rule decides (``passport/accounts/territory.py``).
    """
    from passport.accounts.territory import checked
    from passport.passkeys.notifications import send_removed_notice

    user, actor = checked("remove_passkey", user, actor)
    passkey = db.session.get(Passkey, passkey_id)
    if passkey is None or passkey.user_id != user.id:
        return None
    name = _drop(user, passkey, actor)
    db.session.commit()
    send_removed_notice(user, name)
    return name


def remove_all_for_reset(sender: Flask, *, user: User, actor: Actor) -> int:
    """Receiver of ``accounts.signals.password_reset_forced``: remove every passkey of
    ``user``; return how many; no commit (the reset commits, or rolls back when its mail
    fails).

    A passkey signs in alone, without the password: one an intruder registered would outlive
    the reset. Each removal is audited as ``passkey.removed`` (``"cause":
    "password_reset_forced"``); the reset mail tells the person, so no separate notice goes.
    """
    passkeys = passkeys_of(user.id)
    for passkey in passkeys:
        _drop(user, passkey, actor, cause="password_reset_forced")
    db.session.flush()
    return len(passkeys)


def _audit(
    event: str,
    user: User,
    info: Actor,
    *,
    outcome: str = "success",
    passkey: Passkey | None = None,
    **details: Any,
) -> None:
    if passkey is not None:
        details = {"passkey_id": passkey.id, "name": passkey.name, **details}
    record_event(
        event,
        outcome=outcome,
        actor_user_id=user.id,
        subject_user_id=user.id,
        subject_dni=user.dni,
        client_id=info.client_id,
        ip_address=info.ip_address,
        user_agent=info.user_agent,
        details=details or None,
    )


def _audit_failure(user: User | None, info: Actor, reason: str, **details: Any) -> None:
    """A refused passkey assertion; commits (the refusal raises right after)."""
    _record_failure(user, info, reason, **details)
    db.session.commit()


def _record_failure(user: User | None, info: Actor, reason: str, **details: Any) -> None:
    info.record(
        "passkey.failed",
        outcome="failure",
        subject_user_id=user.id if user is not None else None,
        subject_dni=user.dni if user is not None else None,
        details={"reason": reason, **details},
    )


def confirm_password(session: SSOSession, password: str, info: Actor) -> bool:
    """Re-authenticate an older session with the password, to add a passkey; commits.

    A wrong password counts toward the lockout like one on the sign-in page; a right one
    makes the session fresh (``auth_time`` is the time of the last authentication).
    """
    from passport.security.passwords import verify_password

    user = session.user
    now = utcnow()
    if is_locked(user, now):
        raise AccountLocked(None)
    if not verify_password(user.password_hash, password):
        _audit("passkey.reauthenticated", user, info, outcome="failure", reason="password")
        _count_failure(user, info)
        db.session.commit()
        return False
    register_successful_login(user)
    session.auth_time = now
    _audit("passkey.reauthenticated", user, info)
    db.session.commit()
    return True


def prove_in_session(session: SSOSession, credential: Any, info: Actor) -> None:
    """A signed-in person proves one of their passkeys: the session gains the passkey's
    methods and acr, and counts as freshly authenticated; commits."""
    from passport.mfa.assurance import acr_for
    from passport.mfa.assurance import with_passkey

    verify_assertion(credential, ChallengePurpose.STEP_UP, info, user=session.user)
    session.amr = with_passkey(session.amr)
    session.acr = acr_for(session.amr)
    session.auth_time = utcnow()
    db.session.commit()


def record_sign_in(user: User, amr: list[str], info: Actor) -> None:
    """A sign-in completed with a passkey, as every sign-in is recorded ("Actividad
    reciente", metrics); the caller's start_sso_session commits it."""
    info.record(
        "login_succeeded",
        subject_user_id=user.id,
        subject_dni=user.dni,
        details={"amr": amr, "method": "passkey"},
    )
