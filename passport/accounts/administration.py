"""Administering people: the territorial scope of admins and every action an admin takes.

The console (passport/admin), the CLI and the admin API call these functions, so the rules
live here once:

- **Scope.** An admin is national (no territory), or scoped to a DRE and/or a UGEL
  (``User.admin_dre`` / ``admin_ugel``): a scoped admin sees and acts only on users whose
  ``dre`` / ``ugel`` equal those names (as stored, spaces collapsed). A user outside the
  actor's scope is reported as not found (``UserNotFoundError``), exactly like an unknown DNI,
  so a scoped admin cannot even learn that the DNI exists elsewhere.
- **Actors.** ``actor`` is the admin acting, or None for the system itself (the CLI run by an
  operator on the server, or a machine client of the admin API named by ``client_id``):
  None is national.
- **Reasons.** A scoped admin must give a reason for every action on a person. A national
  admin must give one to disable an account or force a password reset (the actions that cut
  a person off), and may give one for the rest. The system (CLI, API) may omit it. The
  reason is kept in the audit event's details.
- **Admin accounts.** Only national admins (or the system) change an admin's account, and
  nobody disables or resets their own account here.

Every public function commits once (or raises, having written nothing it should not).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from typing import TypeVar

from sqlalchemy import Select
from sqlalchemy import delete
from sqlalchemy import func
from sqlalchemy import or_
from sqlalchemy import select

from passport.accounts import services
from passport.accounts.errors import AccountStateError
from passport.accounts.errors import FieldError
from passport.accounts.errors import InvalidUserDataError
from passport.accounts.errors import NotPermittedError
from passport.accounts.errors import ReasonRequiredError
from passport.accounts.errors import UserNotFoundError
from passport.accounts.models import User
from passport.accounts.models import UserStatus
from passport.accounts.validation import clean_dni
from passport.accounts.validation import clean_territory
from passport.accounts.validation import clean_user_data
from passport.audit.models import AuditEvent
from passport.audit.services import record_event
from passport.database import utcnow
from passport.extensions import db

REASON_MAX_LENGTH = 500
# Actions a national admin must also justify: they cut a person off.
NATIONAL_REASON_REQUIRED = frozenset({"disable", "force_password_reset"})
SEARCH_MAX_LENGTH = 100


_Query = TypeVar("_Query", bound=Select[*tuple[Any, ...]])


@dataclass(frozen=True)
class Scope:
    """The territory an admin administers: national when both names are None."""

    dre: str | None = None
    ugel: str | None = None

    @property
    def is_national(self) -> bool:
        return self.dre is None and self.ugel is None

    def covers(self, dre: str | None, ugel: str | None) -> bool:
        """True when a person of this DRE and UGEL lives in this territory."""
        return (self.dre is None or dre == self.dre) and (self.ugel is None or ugel == self.ugel)

    def includes(self, user: User) -> bool:
        """True when ``user`` lives in this territory."""
        return self.covers(user.dre, user.ugel)

    def filter(self, query: _Query) -> _Query:
        """``query`` over User restricted to this territory."""
        if self.dre is not None:
            query = query.where(User.dre == self.dre)
        if self.ugel is not None:
            query = query.where(User.ugel == self.ugel)
        return query


NATIONAL = Scope()


def scope_of(actor: User | None) -> Scope:
    """The territory ``actor`` administers (the system, ``None``, is national)."""
    if actor is None:
        return NATIONAL
    if not actor.is_admin:
        raise NotPermittedError("administer users")
    return Scope(dre=actor.admin_dre, ugel=actor.admin_ugel)


def clean_reason(reason: str | None) -> str | None:
    """The reason with spaces collapsed, cut to REASON_MAX_LENGTH; None when blank."""
    text = " ".join((reason or "").split())[:REASON_MAX_LENGTH]
    return text or None


def is_reason_required(action: str, actor: User | None) -> bool:
    """Whether ``actor`` must justify ``action`` (see the module docstring)."""
    if actor is None:
        return False
    return not scope_of(actor).is_national or action in NATIONAL_REASON_REQUIRED


def _reason(action: str, actor: User | None, reason: str | None) -> str | None:
    cleaned = clean_reason(reason)
    if cleaned is None and is_reason_required(action, actor):
        raise ReasonRequiredError(action)
    return cleaned


def find_user(dni_or_user: str | User, *, actor: User | None) -> User:
    """The user with this DNI as ``actor`` may see it; UserNotFoundError when unknown or
    outside the actor's territory (the two are indistinguishable on purpose)."""
    scope = scope_of(actor)
    if isinstance(dni_or_user, User):
        user: User | None = dni_or_user
    else:
        dni, problem = clean_dni(dni_or_user)
        user = None if problem else services.find_user_by_dni(dni)
    if user is None or not scope.includes(user):
        raise UserNotFoundError(dni_or_user if isinstance(dni_or_user, str) else dni_or_user.dni)
    return user


def _changeable(action: str, user: User, actor: User | None) -> None:
    """Refuse changes to admin accounts by scoped admins, and self-harm by anyone."""
    if actor is None:
        return
    if user.is_admin and not scope_of(actor).is_national:
        raise NotPermittedError(f"{action} on an admin account")
    if user.id == actor.id and action in ("disable", "force_password_reset", "revoke_admin"):
        raise NotPermittedError(f"{action} on one's own account")


def _checked(
    action: str, dni_or_user: str | User, actor: User | None, reason: str | None
) -> tuple[User, str | None]:
    """The user ``actor`` may apply ``action`` to, and the cleaned reason (or raise)."""
    user = find_user(dni_or_user, actor=actor)
    _changeable(action, user, actor)
    return user, _reason(action, actor, reason)


@dataclass(frozen=True)
class UserPage:
    """One page of a search: the users, the page number (from 1) and whether more exist."""

    items: list[User]
    number: int
    has_previous: bool
    has_next: bool


def search_users(
    text: str | None, *, actor: User | None, page: int = 1, per_page: int = 25
) -> UserPage:
    """Users of the actor's territory matching a DNI (prefix), an e-mail or name words.

    Digits search the DNI from its start; text with ``@`` searches e-mails; anything else
    must match every word somewhere in the full name (case-insensitive). Empty: everyone.
    Ordered by surnames, names.
    """
    page = max(page, 1)
    query = scope_of(actor).filter(select(User))
    words = (text or "").strip()[:SEARCH_MAX_LENGTH].split()
    if len(words) == 1 and words[0].isdigit():
        query = query.where(User.dni.startswith(words[0], autoescape=True))
    elif len(words) == 1 and "@" in words[0]:
        query = query.where(User.email.icontains(words[0], autoescape=True))
    else:
        full_name = User.given_name + " " + User.family_name
        for word in words:
            query = query.where(or_(full_name.icontains(word, autoescape=True), User.dni == word))
    query = query.order_by(User.family_name, User.given_name, User.id)
    rows = list(db.session.scalars(query.offset((page - 1) * per_page).limit(per_page + 1)))
    return UserPage(
        items=rows[:per_page], number=page, has_previous=page > 1, has_next=len(rows) > per_page
    )


def count_users(*, actor: User | None) -> dict[str, int]:
    """How many users of the actor's territory are in each status."""
    query = scope_of(actor).filter(select(User.status, func.count()).select_from(User))
    counts = {status.value: 0 for status in UserStatus}
    for status, number in db.session.execute(query.group_by(User.status)):
        counts[UserStatus(status).value] = number
    return counts


def create_user(
    dni: str,
    email: str,
    given_name: str,
    family_name: str,
    *,
    phone: str | None = None,
    dre: str | None = None,
    ugel: str | None = None,
    actor: User | None,
    reason: str | None = None,
    client_id: str | None = None,
    ip_address: str | None = None,
    send_email: bool = True,
) -> User:
    """Create a pending user and send "Generar tu contraseña".

    A scoped admin creates only in its territory: a blank DRE/UGEL takes the admin's, a
    different one is refused (NotPermittedError). Raises as services.create_user does.
    """
    scope = scope_of(actor)
    why = _reason("create", actor, reason)
    dre = clean_territory(dre)[0] or scope.dre
    ugel = clean_territory(ugel)[0] or scope.ugel
    if not scope.covers(dre, ugel):
        raise NotPermittedError("create a user outside the admin's territory")
    return services.create_user(
        dni,
        email,
        given_name,
        family_name,
        phone=phone,
        dre=dre,
        ugel=ugel,
        send_email=send_email,
        actor_user_id=actor.id if actor else None,
        actor_client_id=client_id,
        reason=why,
        ip_address=ip_address,
    )


def update_user(
    dni_or_user: str | User,
    *,
    email: str,
    given_name: str,
    family_name: str,
    phone: str | None,
    actor: User | None,
    reason: str | None = None,
    client_id: str | None = None,
    ip_address: str | None = None,
) -> list[str]:
    """Replace names, e-mail and phone; return the changed fields (empty: nothing written).

    A changed e-mail is unverified until a link mailed to it is used; a changed phone is
    unverified. Raises InvalidUserDataError (nothing written), UserNotFoundError.
    """
    user, why = _checked("edit", dni_or_user, actor, reason)
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
    for name in changed:
        setattr(user, name, wanted[name])
    if "email" in changed:
        user.email_verified = False
    if "phone_number" in changed:
        user.phone_number_verified = False
    record_event(
        "user.updated",
        actor_user_id=actor.id if actor else None,
        client_id=client_id,
        subject_user_id=user.id,
        subject_dni=user.dni,
        ip_address=ip_address,
        # Field names only: the values are personal data the audit log need not copy.
        details={"fields": changed, **({"reason": why} if why else {})},
    )
    db.session.commit()
    return changed


def _delegate(
    service: Callable[..., bool],
    action: str,
    dni_or_user: str | User,
    actor: User | None,
    reason: str | None,
    client_id: str | None,
    ip_address: str | None,
) -> bool:
    """Check scope and reason, then run the plain accounts service on the user."""
    user, why = _checked(action, dni_or_user, actor, reason)
    return service(
        user.dni,
        actor_user_id=actor.id if actor else None,
        actor_client_id=client_id,
        reason=why,
        ip_address=ip_address,
    )


def disable_user(
    dni_or_user: str | User,
    *,
    actor: User | None,
    reason: str | None = None,
    client_id: str | None = None,
    ip_address: str | None = None,
) -> bool:
    """Disable: no sign-in, links dead, every session ended and token revoked at once.

    True when it changed (False: already disabled).
    """
    return _delegate(
        services.disable_user, "disable", dni_or_user, actor, reason, client_id, ip_address
    )


def enable_user(
    dni_or_user: str | User,
    *,
    actor: User | None,
    reason: str | None = None,
    client_id: str | None = None,
    ip_address: str | None = None,
) -> bool:
    """Re-enable a disabled user (active with a password, else pending). True when changed."""
    return _delegate(
        services.enable_user, "enable", dni_or_user, actor, reason, client_id, ip_address
    )


def unlock_user(
    dni_or_user: str | User,
    *,
    actor: User | None,
    reason: str | None = None,
    client_id: str | None = None,
    ip_address: str | None = None,
) -> bool:
    """Forget failed sign-ins and any lockout; True when the account was locked."""
    return _delegate(
        services.unlock_user, "unlock", dni_or_user, actor, reason, client_id, ip_address
    )


def _record_action(
    event: str,
    user: User,
    actor: User | None,
    why: str | None,
    client_id: str | None,
    ip_address: str | None,
    **details: Any,
) -> None:
    record_event(
        event,
        actor_user_id=actor.id if actor else None,
        client_id=client_id,
        subject_user_id=user.id,
        subject_dni=user.dni,
        ip_address=ip_address,
        details={**details, **({"reason": why} if why else {})} or None,
    )


def resend_activation(
    dni_or_user: str | User,
    *,
    actor: User | None,
    reason: str | None = None,
    client_id: str | None = None,
    ip_address: str | None = None,
) -> None:
    """Mail a new "Generar tu contraseña" link to a pending user (older links die).

    AccountStateError for an active or disabled account; MailDeliveryError when the mail
    cannot be sent (nothing is written then).
    """
    user, why = _checked("resend_activation", dni_or_user, actor, reason)
    if user.status is not UserStatus.PENDING:
        raise AccountStateError("resend_activation", user.status.value)
    _record_action("user.activation_resent", user, actor, why, client_id, ip_address)
    services.send_activation_mail(
        user, actor_user_id=actor.id if actor else None, actor_client_id=client_id
    )


def force_password_reset(
    dni_or_user: str | User,
    *,
    actor: User | None,
    reason: str | None = None,
    client_id: str | None = None,
    ip_address: str | None = None,
) -> None:
    """The password stops working now: sessions end, tokens are revoked, and the person gets
    "Restablecer tu contraseña" to choose a new one.

    AccountStateError unless the account is active (a pending one gets the activation mail
    instead). If the mail cannot be sent, MailDeliveryError and nothing changed.
    """
    from passport.accounts.links import LinkPurpose
    from passport.accounts.notifications import send_link_mail
    from passport.login.sessions import end_user_sessions
    from passport.mail import MailDeliveryError
    from passport.oidc.revocation import revoke_user_tokens

    user, why = _checked("force_password_reset", dni_or_user, actor, reason)
    if user.status is not UserStatus.ACTIVE:
        raise AccountStateError("force_password_reset", user.status.value)
    user.password_hash = None
    _record_action("user.password_reset_forced", user, actor, why, client_id, ip_address)
    try:
        send_link_mail(user, LinkPurpose.RESET, actor_user_id=actor.id if actor else None)
    except MailDeliveryError:
        db.session.rollback()
        raise
    revoke_user_tokens(user.id)
    end_user_sessions(user.id, "password_reset_forced")  # commits everything above


@dataclass(frozen=True)
class AppAccess:
    """An app a person allowed: its client id and name, and the scopes granted."""

    client_id: str
    client_name: str
    scopes: list[str]
    granted_at: Any


def user_sessions(user: User) -> list[Any]:
    """The user's SSO sessions that have not ended nor expired, newest first."""
    from passport.login.models import SSOSession

    query = (
        select(SSOSession)
        .where(
            SSOSession.user_id == user.id,
            SSOSession.ended_at.is_(None),
            SSOSession.expires_at > utcnow(),
        )
        .order_by(SSOSession.created_at.desc())
    )
    return list(db.session.scalars(query))


def end_session(
    dni_or_user: str | User,
    session_id: int,
    *,
    actor: User | None,
    reason: str | None = None,
    client_id: str | None = None,
    ip_address: str | None = None,
) -> bool:
    """End one SSO session of the user (its tokens die with it); False when not live."""
    from passport.login.models import SSOSession
    from passport.login.sessions import end_sso_session

    user, why = _checked("end_session", dni_or_user, actor, reason)
    session = db.session.get(SSOSession, session_id)
    if session is None or session.user_id != user.id or session.ended_at is not None:
        return False
    _record_action("session.revoked", user, actor, why, client_id, ip_address, sid=session.sid)
    end_sso_session(session, "admin")
    return True


def user_apps(user: User) -> list[AppAccess]:
    """The apps the user consented to, by name."""
    from passport.oidc.models import Consent
    from passport.oidc.models import OAuthClient

    rows = db.session.execute(
        select(Consent, OAuthClient)
        .join(OAuthClient, OAuthClient.id == Consent.client_pk)
        .where(Consent.user_id == user.id)
        .order_by(OAuthClient.name)
    )
    return [
        AppAccess(client.client_id, client.name, list(consent.scopes or []), consent.created_at)
        for consent, client in rows
    ]


def revoke_app(
    dni_or_user: str | User,
    app_client_id: str,
    *,
    actor: User | None,
    reason: str | None = None,
    client_id: str | None = None,
    ip_address: str | None = None,
) -> bool:
    """Forget the user's consent to an app and revoke that app's tokens for the user.

    False when there was no consent to that app.
    """
    from passport.oidc.models import Consent
    from passport.oidc.models import OAuthClient
    from passport.oidc.revocation import revoke_user_tokens

    user, why = _checked("revoke_app", dni_or_user, actor, reason)
    client = db.session.scalar(select(OAuthClient).where(OAuthClient.client_id == app_client_id))
    if client is None:
        return False
    removed = db.session.execute(
        delete(Consent).where(Consent.user_id == user.id, Consent.client_pk == client.id)
    )
    if not removed.rowcount:  # type: ignore[attr-defined]
        db.session.rollback()
        return False
    revoked = revoke_user_tokens(user.id, client_pk=client.id)
    record_event(
        "consent.revoked",
        actor_user_id=actor.id if actor else None,
        client_id=app_client_id,
        subject_user_id=user.id,
        subject_dni=user.dni,
        ip_address=ip_address,
        details={
            "tokens_revoked": revoked,
            **({"reason": why} if why else {}),
            **({"by_client": client_id} if client_id else {}),
        },
    )
    db.session.commit()
    return True


def recent_events(user: User, limit: int = 20) -> list[AuditEvent]:
    """The latest audit events about the user (as subject), newest first."""
    query = (
        select(AuditEvent)
        .where(AuditEvent.subject_user_id == user.id)
        .order_by(AuditEvent.occurred_at.desc(), AuditEvent.id.desc())
        .limit(limit)
    )
    return list(db.session.scalars(query))


def grant_admin(
    dni_or_user: str | User,
    *,
    dre: str | None = None,
    ugel: str | None = None,
    actor: User | None,
    reason: str | None = None,
    client_id: str | None = None,
    ip_address: str | None = None,
) -> User:
    """Make the user an admin: national, or of a DRE and/or a UGEL. Only national admins
    (and the system) grant; an admin granted again gets the new territory."""
    if not scope_of(actor).is_national:
        raise NotPermittedError("grant admin")
    user = find_user(dni_or_user, actor=actor)
    why = _reason("grant_admin", actor, reason)
    errors: list[FieldError] = []
    cleaned: dict[str, str | None] = {}
    for name, value in (("dre", dre), ("ugel", ugel)):
        cleaned[name], problem = clean_territory(value)
        if problem:
            errors.append(FieldError(name, problem))
    if errors:
        raise InvalidUserDataError(errors)
    previous = {"dre": user.admin_dre, "ugel": user.admin_ugel} if user.is_admin else None
    user.is_admin = True
    user.admin_dre = cleaned["dre"]
    user.admin_ugel = cleaned["ugel"]
    _record_action(
        "admin.granted",
        user,
        actor,
        why,
        client_id,
        ip_address,
        dre=user.admin_dre,
        ugel=user.admin_ugel,
        previous=previous,
    )
    db.session.commit()
    return user


def revoke_admin(
    dni_or_user: str | User,
    *,
    actor: User | None,
    reason: str | None = None,
    client_id: str | None = None,
    ip_address: str | None = None,
) -> bool:
    """Take the admin flag (and territory) away; True when the user was an admin."""
    if not scope_of(actor).is_national:
        raise NotPermittedError("revoke admin")
    user, why = _checked("revoke_admin", dni_or_user, actor, reason)
    if not user.is_admin:
        return False
    user.is_admin = False
    user.admin_dre = None
    user.admin_ugel = None
    _record_action("admin.revoked", user, actor, why, client_id, ip_address)
    db.session.commit()
    return True
