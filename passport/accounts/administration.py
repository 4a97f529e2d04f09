"""Administering people: every action an admin (or the system) takes on an account.

The console (passport/admin), the CLI and the admin API call these functions, so the rules
live here once: the territory and reason rules are in ``territory.py``, the look-ups in
``directory.py`` (both re-exported here), disable/enable/unlock in ``services.py``. Every
action takes the person (DNI or User) and one ``Actor`` (the admin by ``user_id``, or none
for the system; the machine client acting through the API; address, browser and reason):
the territory rule is applied to its admin inside the action (territory.checked) and the
actor is recorded in the action's audit event.

Every public function commits once (or raises, having written nothing it should not).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from sqlalchemy import select

from passport.accounts import services
from passport.accounts import signals
from passport.accounts import territory
from passport.accounts.directory import SEARCH_MAX_LENGTH
from passport.accounts.directory import UserPage
from passport.accounts.directory import count_users
from passport.accounts.directory import recent_events
from passport.accounts.directory import search_users
from passport.accounts.errors import AccountStateError
from passport.accounts.errors import FieldError
from passport.accounts.errors import InvalidUserDataError
from passport.accounts.errors import NotPermittedError
from passport.accounts.errors import UnverifiedEmailError
from passport.accounts.links import LinkPurpose
from passport.accounts.models import HeldUserRequest
from passport.accounts.models import User
from passport.accounts.models import UserStatus
from passport.accounts.notifications import send_link_mail
from passport.accounts.services import create_user
from passport.accounts.services import disable_user
from passport.accounts.services import enable_user
from passport.accounts.services import unlock_user
from passport.accounts.territory import NATIONAL
from passport.accounts.territory import Scope
from passport.accounts.territory import acting_user
from passport.accounts.territory import checked
from passport.accounts.territory import clean_reason
from passport.accounts.territory import ensure_changeable
from passport.accounts.territory import find_user
from passport.accounts.territory import is_reason_required
from passport.accounts.territory import reason_for
from passport.accounts.territory import scope_of
from passport.accounts.validation import clean_territory
from passport.accounts.validation import clean_user_data
from passport.audit.services import SYSTEM
from passport.audit.services import Actor
from passport.database import utcnow
from passport.extensions import db
from passport.mail import MailDeliveryError
from passport.signals import announce

__all__ = [  # what callers use (the look-ups and rules are re-exported from their modules)
    "NATIONAL",
    "SEARCH_MAX_LENGTH",
    "Scope",
    "UserPage",
    "clean_reason",
    "count_users",
    "create_user",
    "disable_user",
    "enable_user",
    "find_user",
    "force_password_reset",
    "grant_admin",
    "held_requests",
    "is_reason_required",
    "recent_events",
    "resend_activation",
    "resolve_held_request",
    "revoke_admin",
    "scope_of",
    "search_users",
    "unlock_user",
    "update_user",
]


def update_user(
    dni_or_user: str | User,
    *,
    email: str,
    given_name: str,
    family_name: str,
    phone: str | None,
    actor: Actor = SYSTEM,
) -> list[str]:
    """Replace names, e-mail and phone; return the changed fields (empty: nothing written).

    A changed e-mail is unverified until a link mailed to it is used; a changed phone is
    unverified. Raises InvalidUserDataError (nothing written), UserNotFoundError.
    """
    user, actor = checked("edit", dni_or_user, actor)
    data = clean_user_data(
        dni=user.dni,
        email=email,
        given_name=given_name,
        family_name=family_name,
        phone=phone or None,
        address=user.address,
        dre=user.dre,
        ugel=user.ugel,
    )
    wanted = {
        "email": data.email,
        "given_name": data.given_name,
        "family_name": data.family_name,
        "phone_number": data.phone_number,
    }
    changed = [name for name, value in wanted.items() if getattr(user, name) != value]
    if not changed:
        return []
    ensure_changeable("edit", user, acting_user(actor), {name: wanted[name] for name in changed})
    for name in changed:
        setattr(user, name, wanted[name])
    if "email" in changed:
        user.email_verified = False
    if "phone_number" in changed:
        user.phone_number_verified = False
    actor.record(
        "user.updated",
        subject_user_id=user.id,
        subject_dni=user.dni,
        # Field names only: the values are personal data the audit log need not copy.
        details={"fields": changed},
    )
    db.session.commit()
    return changed


def _record_action(event: str, user: User, actor: Actor, **details: Any) -> None:
    actor.record(event, subject_user_id=user.id, subject_dni=user.dni, details=details)


def resend_activation(dni_or_user: str | User, *, actor: Actor = SYSTEM) -> None:
    """Mail a new "Generar tu contraseña" link to a pending user (older links die).

    AccountStateError for an active or disabled account; MailDeliveryError when the mail
    cannot be sent (nothing is written then).
    """
    user, actor = checked("resend_activation", dni_or_user, actor)
    if user.status is not UserStatus.PENDING:
        raise AccountStateError("resend_activation", user.status.value)
    _record_action("user.activation_resent", user, actor)
    services.send_activation_mail(
        user, actor_user_id=actor.user_id, actor_client_id=actor.client_id
    )


def force_password_reset(dni_or_user: str | User, *, actor: Actor = SYSTEM) -> int:
    """The password stops working now: the passkeys are removed, sessions end, tokens are
    revoked, and the person gets "Restablecer tu contraseña" to choose a new one (the mail
    says when passkeys were removed). Returns how many passkeys were removed.

    This is the answer to a suspected compromise: a passkey signs in alone, without the
    password, so one an intruder registered must not outlive the reset (the passkeys
    capability removes them on ``signals.password_reset_forced``). TOTP stays: a second factor
    is useless without the password. The reset the person asks for (a link) keeps them.

    AccountStateError unless the account is active (a pending one gets the activation mail
    instead). If the mail cannot be sent, MailDeliveryError and nothing changed (the passkeys
    stay too).
    """
    user, actor = checked("force_password_reset", dni_or_user, actor)
    if user.status is not UserStatus.ACTIVE:
        raise AccountStateError("force_password_reset", user.status.value)
    user.password_hash = None
    try:
        answers = announce(signals.password_reset_forced, user=user, actor=actor)
        removed = sum(int(count) for count in answers)
        _record_action("user.password_reset_forced", user, actor, passkeys_removed=removed)
        send_link_mail(
            user,
            LinkPurpose.RESET,
            actor_user_id=actor.user_id,
            forced=True,
            passkeys_removed=removed,
        )
    except (MailDeliveryError, UnverifiedEmailError):
        db.session.rollback()
        raise
    announce(signals.password_reset, user_id=user.id, reason="password_reset_forced")
    db.session.commit()
    return removed


def grant_admin(
    dni_or_user: str | User,
    *,
    dre: str | None = None,
    ugel: str | None = None,
    actor: Actor = SYSTEM,
) -> User:
    """Make the user an admin: national, or of a DRE and/or a UGEL. Only national admins
    (and the system) grant; an admin granted again gets the new territory.

    An admin without TOTP is mailed a one-time enrolment link (passport/mfa/enrolment.py),
    so the e-mail must be verified (UnverifiedEmailError, nothing written); MailDeliveryError
    leaves nothing written either.
    """
    admin = acting_user(actor)
    if territory.change_refusal(admin, None, {"is_admin": True}, action="grant_admin") is not None:
        raise NotPermittedError("grant admin")
    user = find_user(dni_or_user, actor=admin)
    actor = replace(actor, reason=reason_for("grant_admin", admin, actor.reason))
    errors: list[FieldError] = []
    cleaned: dict[str, str | None] = {}
    for name, value in (("dre", dre), ("ugel", ugel)):
        cleaned[name], problem = clean_territory(value)
        if problem:
            errors.append(FieldError(name, problem))
    if errors:
        raise InvalidUserDataError(errors)
    ensure_changeable(
        "grant_admin",
        user,
        admin,
        {"is_admin": True, "admin_dre": cleaned["dre"], "admin_ugel": cleaned["ugel"]},
    )
    if not user.email_verified:
        raise UnverifiedEmailError(user.dni)
    previous = {"dre": user.admin_dre, "ugel": user.admin_ugel} if user.is_admin else None
    user.is_admin = True
    user.admin_dre = cleaned["dre"]
    user.admin_ugel = cleaned["ugel"]
    _record_action(
        "admin.granted",
        user,
        actor,
        dre=user.admin_dre,
        ugel=user.admin_ugel,
        previous=previous,
    )
    try:  # the mfa capability mails the enrolment link to an admin without TOTP
        announce(signals.admin_granted, user=user, actor=actor)
    except MailDeliveryError:
        db.session.rollback()
        raise
    db.session.commit()
    return user


def revoke_admin(dni_or_user: str | User, *, actor: Actor = SYSTEM) -> bool:
    """Take the admin flag (and territory) away; True when the user was an admin."""
    if (
        territory.change_refusal(
            acting_user(actor), None, {"is_admin": False}, action="revoke_admin"
        )
        is not None
    ):
        raise NotPermittedError("revoke admin")
    user, actor = checked("revoke_admin", dni_or_user, actor)
    if not user.is_admin:
        return False
    user.is_admin = False
    user.admin_dre = None
    user.admin_ugel = None
    _record_action("admin.revoked", user, actor)
    db.session.commit()
    return True


def held_requests(*, actor: User | None, limit: int = 200) -> list[HeldUserRequest]:
    """The requests scoped admins made for DNIs outside their territory, oldest first,
    waiting for a national admin (see ``create_user`` and the import)."""
    if territory.change_refusal(actor, None, {"is_admin": False}) is not None:
        raise NotPermittedError("review held requests")
    query = (
        select(HeldUserRequest)
        .where(HeldUserRequest.resolved_at.is_(None))
        .order_by(HeldUserRequest.created_at, HeldUserRequest.id)
        .limit(limit)
    )
    return list(db.session.scalars(query))


def resolve_held_request(
    request_id: int,
    *,
    apply: bool,
    actor: Actor = SYSTEM,
) -> bool:
    """Apply a held request to its person (as a national import row would) or dismiss it.

    Only national admins (and the system). False when no such unresolved request exists.
    """
    from passport.accounts.importing import changes_for
    from passport.accounts.validation import UserData

    admin = acting_user(actor)
    if territory.change_refusal(admin, None, {"is_admin": False}) is not None:
        raise NotPermittedError("review held requests")
    held = db.session.get(HeldUserRequest, request_id)
    if held is None or held.resolved_at is not None:
        return False
    user = db.session.get(User, held.user_id)
    changed: list[str] = []
    if apply and user is not None:
        changes = changes_for(user, UserData(**held.data))
        ensure_changeable("edit", user, admin, changes)
        if "email" in changes:
            changes["email_verified"] = False
        for name, value in changes.items():
            setattr(user, name, value)
        changed = sorted(changes)
    held.resolved_at = utcnow()
    held.resolved_by_user_id = actor.user_id
    held.resolution = "applied" if apply else "dismissed"
    replace(actor, reason=None).record(
        "user.held_request_resolved",
        subject_user_id=held.user_id,
        subject_dni=held.dni,
        details={"resolution": held.resolution, "fields": changed},
    )
    db.session.commit()
    return True
