"""The behaviour of accounts: create, import, set passwords from links, lock state, status.

Every public function commits once (or raises, having written nothing). Views and commands
choose the wording; these functions take typed values and raise the errors of ``errors.py``.
"""

from __future__ import annotations

import logging
from contextlib import nullcontext
from dataclasses import dataclass
from dataclasses import replace
from typing import Any

from flask import current_app
from flask import has_request_context
from flask_babel import force_locale
from sqlalchemy import select
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError

from passport.accounts import signals
from passport.accounts.errors import DuplicateDniError
from passport.accounts.errors import FieldError
from passport.accounts.errors import InvalidLinkError
from passport.accounts.errors import InvalidUserDataError
from passport.accounts.errors import LinkFailure
from passport.accounts.errors import NotPermittedError
from passport.accounts.errors import PasswordRejectedError
from passport.accounts.errors import UnverifiedEmailError
from passport.accounts.importing import hold_request
from passport.accounts.importing import import_users
from passport.accounts.links import LinkPurpose
from passport.accounts.links import issue_link_token
from passport.accounts.links import resolve_link
from passport.accounts.mail_queue import enqueue_self_service_request
from passport.accounts.models import User
from passport.accounts.models import UserStatus
from passport.accounts.notifications import send_activation_mail
from passport.accounts.notifications import send_link_mail
from passport.accounts.notifications import send_lockout_notice
from passport.accounts.notifications import send_reset_mail
from passport.accounts.territory import acting_user
from passport.accounts.territory import change_refusal
from passport.accounts.territory import checked
from passport.accounts.territory import reason_for
from passport.accounts.territory import scope_of
from passport.accounts.validation import UserData
from passport.accounts.validation import clean_territory
from passport.accounts.validation import clean_user_data
from passport.audit.services import SYSTEM
from passport.audit.services import Actor
from passport.database import utcnow
from passport.extensions import db
from passport.mail import MailDeliveryError
from passport.security.password_policy import PasswordProblem
from passport.security.password_policy import check_password
from passport.security.password_policy import configured_rules
from passport.security.passwords import hash_password
from passport.signals import announce

__all__ = [
    "NewUser",
    "check_new_password",
    "clear_lockout",
    "create_user",
    "disable_user",
    "enable_user",
    "find_user_by_dni",
    "import_users",
    "request_password_link",
    "send_activation_mail",
    "send_lockout_notice",
    "send_reset_mail",
    "set_password_from_link",
    "unlock_user",
]

log = logging.getLogger(__name__)


def find_user_by_dni(dni: str) -> User | None:
    """The user with this DNI, or None."""
    return db.session.scalar(select(User).where(User.dni == dni))


def check_new_password(
    password: str, *, dni: str | None, confirmation: str | None = None
) -> list[PasswordProblem]:
    """Every problem with a new password under the configured policy (empty when fine)."""
    # Outside a request (the CLI) there is no browser language to pick: messages in Spanish.
    language = nullcontext() if has_request_context() else force_locale("es")
    with language:
        return check_password(
            password,
            rules=configured_rules(),
            dni=dni,
            confirmation=confirmation,
            extra_words=(
                current_app.config["BRAND_NAME"],
                current_app.config["DEFAULT_SYSTEM_NAME"],
            ),
        )


@dataclass(frozen=True)
class NewUser:
    """A person to create, as typed: ``create_user`` cleans and checks every field.

    ``password`` makes the account active at once (no mail); ``is_admin`` (national) needs
    ``email_verified``.
    """

    dni: str
    email: str
    given_name: str
    family_name: str
    phone: str | None = None
    address: dict[str, Any] | None = None
    dre: str | None = None
    ugel: str | None = None
    email_verified: bool = False
    phone_verified: bool = False
    password: str | None = None
    is_admin: bool = False

    def cleaned(self) -> UserData:
        """The person's fields cleaned and checked; InvalidUserDataError lists every problem."""
        return clean_user_data(
            dni=self.dni,
            email=self.email,
            given_name=self.given_name,
            family_name=self.family_name,
            phone=self.phone,
            address=self.address,
            dre=self.dre,
            ugel=self.ugel,
        )


def _in_territory(new: NewUser, actor: Actor) -> tuple[NewUser, Actor] | None:
    """The write rule for a creation: a scoped admin's blank DRE/UGEL takes its own, another
    territory (or admin rights) is refused; None when the DNI exists outside the admin's
    territory and the request was held for a national admin instead (committed)."""
    admin = acting_user(actor)
    scope = scope_of(admin)
    actor = replace(actor, reason=reason_for("create", admin, actor.reason))
    dre = clean_territory(new.dre)[0] or scope.dre
    ugel = clean_territory(new.ugel)[0] or scope.ugel
    changes: dict[str, Any] = {"dre": dre, "ugel": ugel}
    if new.is_admin:
        changes["is_admin"] = True
    if change_refusal(admin, None, changes, action="create") is not None:
        raise NotPermittedError("create a user outside the admin's territory")
    new = replace(new, dre=dre, ugel=ugel)
    if not scope.is_national:
        data = new.cleaned()
        existing = find_user_by_dni(data.dni)
        if existing is not None and not scope.includes(existing):
            hold_request(data, existing, actor, "create")
            db.session.commit()
            return None
    return new, actor


def create_user(new: NewUser, *, actor: Actor = SYSTEM, send_email: bool = True) -> User | None:
    """Create a user: active with ``password``, else pending with the activation mail.

    An admin (``is_admin``) needs ``email_verified`` and is mailed a one-time link to enrol
    the second factor (passport/mfa/enrolment.py), even with ``send_email=False``.

    ``actor`` (who acts, through which client, from where, why) goes to the audit log, and
    its admin's territory bounds the creation (``_in_territory``). A scoped admin's DNI that
    exists outside its territory is not refused (that would tell it the DNI exists
    elsewhere): it is held for a national admin and None is returned; the caller answers
    exactly as for a creation. The system (and a national admin) never gets None.

    Raises InvalidUserDataError, DuplicateDniError, UnverifiedEmailError,
    PasswordRejectedError, NotPermittedError, ReasonRequiredError or MailDeliveryError; on
    any of them nothing is written.
    """
    checked_new = _in_territory(new, actor)
    if checked_new is None:
        return None
    new, actor = checked_new
    data = new.cleaned()
    is_admin, password = new.is_admin, new.password
    if new.phone_verified and data.phone_number is None:
        raise InvalidUserDataError(
            [FieldError("phone", "cannot be verified without a phone number")]
        )
    if find_user_by_dni(data.dni) is not None:
        raise DuplicateDniError(data.dni)
    if is_admin and not new.email_verified:
        # An admin's enrolment (and password) links go only to a proven address.
        raise UnverifiedEmailError(data.dni)
    password_hash = None
    if password is not None:
        problems = check_new_password(password, dni=data.dni)
        if problems:
            raise PasswordRejectedError(problems)
        password_hash = hash_password(password)
    user = User(
        dni=data.dni,
        email=data.email,
        email_verified=new.email_verified,
        given_name=data.given_name,
        family_name=data.family_name,
        phone_number=data.phone_number,
        phone_number_verified=new.phone_verified,
        address=data.address,
        dre=data.dre,
        ugel=data.ugel,
        is_admin=is_admin,
        status=UserStatus.ACTIVE if password_hash else UserStatus.PENDING,
        password_hash=password_hash,
        password_changed_at=utcnow() if password_hash else None,
    )
    db.session.add(user)
    try:
        db.session.flush()
    except IntegrityError:
        # Another process created the same DNI between our check and our insert.
        db.session.rollback()
        raise DuplicateDniError(data.dni) from None
    actor.record(
        "user.created",
        subject_user_id=user.id,
        subject_dni=user.dni,
        details={"status": user.status.value, "is_admin": is_admin},
    )
    if is_admin:
        try:  # whoever knows the password must not be the one who enrols the second factor
            announce(signals.admin_granted, user=user, actor=actor)
        except MailDeliveryError:
            db.session.rollback()
            raise
    if password_hash is None and send_email:
        try:
            send_link_mail(
                user,
                LinkPurpose.ACTIVATION,
                actor_user_id=actor.user_id,
                actor_client_id=actor.client_id,
            )
        except (MailDeliveryError, UnverifiedEmailError):
            db.session.rollback()
            raise
    db.session.commit()
    return user


def clear_lockout(user: User) -> None:
    """Forget the failed logins and any lockout of ``user`` (no commit)."""
    user.failed_logins = 0
    user.last_failed_login_at = None
    user.locked_until = None
    user.lockouts = 0


def set_password_from_link(
    token: str,
    password: str,
    confirmation: str,
    *,
    actor: Actor = SYSTEM,
) -> User:
    """Set the password through a live link: the account becomes active and the link dies.

    Also: the e-mail counts as verified (the link reached it), the lockout is cleared and
    every SSO session of the user ends. Raises InvalidLinkError or PasswordRejectedError, having
    changed nothing.
    """
    user, purpose = resolve_link(token)
    problems = check_new_password(password, dni=user.dni, confirmation=confirmation)
    if problems:
        raise PasswordRejectedError(problems)
    password_hash = hash_password(password)
    generation = user.link_generation
    # Consume the link with a compare-and-set: of two concurrent uses of one link, only one
    # finds the generation unchanged (the other waits on the row lock, then matches nothing).
    consumed = db.session.execute(
        update(User)
        .where(User.id == user.id, User.link_generation == generation)
        .values(link_generation=generation + 1)
        .execution_options(synchronize_session=False)
    )
    if consumed.rowcount != 1:  # type: ignore[attr-defined]
        db.session.rollback()
        raise InvalidLinkError(LinkFailure.USED)
    db.session.refresh(user, attribute_names=["link_generation"])
    user.password_hash = password_hash
    user.password_changed_at = utcnow()
    user.status = UserStatus.ACTIVE
    user.email_verified = True
    clear_lockout(user)
    actor.record(
        "password.set" if purpose is LinkPurpose.ACTIVATION else "password.reset",
        subject_user_id=user.id,
        subject_dni=user.dni,
    )
    # Every session ends and every app is cut off, offline grants too: whoever knew the old
    # password (or the link) keeps nothing (the oidc capability's receiver). The passkeys stay:
    # forgetting a password is no sign of compromise, and the person chose this reset. Only
    # an admin's forced reset (administration.force_password_reset) removes them.
    announce(
        signals.password_reset,
        user_id=user.id,
        reason="password_reset" if purpose is LinkPurpose.RESET else "password_set",
    )
    db.session.commit()
    return user


def request_password_link(dni: str, *, actor: Actor = SYSTEM) -> None:
    """Self-service ("Generar contraseña", "¿Olvidaste la contraseña?"): queue the request.

    The same two inserts and one commit whatever the DNI: the mail queue's sender decides,
    after the response, whether an account exists and which link it gets (mail_queue.py). A
    lookup or a mail here would make a known DNI answer measurably slower than an unknown one.
    """
    enqueue_self_service_request(dni)
    actor.record("password_link.requested", subject_dni=dni, details={"result": "queued"})
    db.session.commit()


def record_rejected_link(failure: LinkFailure, *, actor: Actor = SYSTEM) -> None:
    """Audit an attempt to set a password through a dead link; commits."""
    actor.record("password_link.rejected", outcome="failure", details={"reason": failure.value})
    db.session.commit()


def unlock_user(dni_or_user: str | User, *, actor: Actor = SYSTEM) -> bool:
    """Clear the lockout of the user; True when it was locked. Commits.

    Like every change an admin makes, within ``actor``'s territory and with a reason where
    one is required (territory.checked).
    """
    user, actor = checked("unlock", dni_or_user, actor)
    was_locked = user.locked_until is not None and user.locked_until > utcnow()
    clear_lockout(user)
    actor.record(
        "user.unlocked",
        subject_user_id=user.id,
        subject_dni=user.dni,
        details={"was_locked": was_locked},
    )
    db.session.commit()
    return was_locked


def disable_user(dni_or_user: str | User, *, actor: Actor = SYSTEM) -> bool:
    """Disable the user: no login, links dead, SSO sessions ended, every token revoked (offline
    ones too). True when it changed. Within ``actor``'s territory (territory.checked)."""
    user, actor = checked("disable", dni_or_user, actor)
    if user.status is UserStatus.DISABLED:
        return False
    previous = user.status
    user.status = UserStatus.DISABLED
    issue_link_token(user)  # every password link in flight dies
    actor.record(
        "user.disabled",
        subject_user_id=user.id,
        subject_dni=user.dni,
        details={"previous_status": previous.value},
    )
    announce(signals.user_disabled, user_id=user.id)  # sessions end, tokens are revoked
    db.session.commit()
    return True


def enable_user(dni_or_user: str | User, *, actor: Actor = SYSTEM) -> bool:
    """Re-enable a disabled user (active with a password, else pending). True when changed.
    Within ``actor``'s territory (territory.checked)."""
    user, actor = checked("enable", dni_or_user, actor)
    if user.status is not UserStatus.DISABLED:
        return False
    user.status = UserStatus.ACTIVE if user.password_hash else UserStatus.PENDING
    actor.record(
        "user.enabled",
        subject_user_id=user.id,
        subject_dni=user.dni,
        details={"status": user.status.value},
    )
    db.session.commit()
    return True
