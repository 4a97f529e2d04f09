"""The territory of an admin, and what an admin may do to whom.

- **Scope.** An admin is national (no territory), or scoped to a DRE and/or a UGEL
  (``User.admin_dre`` / ``admin_ugel``): a scoped admin sees and acts only on users whose
  ``dre`` / ``ugel`` equal those names (as stored, spaces collapsed). A user outside the
  actor's scope is reported as not found (``UserNotFoundError``), exactly like an unknown DNI,
  so a scoped admin cannot even learn that the DNI exists elsewhere.
- **Actors.** ``actor`` is the admin acting, or None for the system itself (the CLI run by an
  operator on the server, or a machine client of the admin API): None is national.
- **Reasons.** A scoped admin must give a reason for every action on a person. A national
  admin must give one to disable an account or force a password reset (the actions that cut
  a person off), and may give one for the rest. The system (CLI, API) may omit it. The
  reason is kept in the audit event's details.
- **Admin accounts.** Only national admins (or the system) change an admin's account, and
  nobody disables, resets or demotes their own account.
- **One rule for every write path.** ``change_refusal`` decides whether ``actor`` may change
  ``user`` (None: a person being created) and these fields; the console, the CSV import
  (preview and confirmation), the admin API and the CLI all ask it, so no path is laxer.
  A scoped admin never moves a person out of its territory, and never sets a territory level
  its scope does not fix (a UGEL-only admin cannot change a person's DRE: that would hide the
  person from their DRE's admin).
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import replace
from typing import Any
from typing import Protocol
from typing import TypeVar

from sqlalchemy import Select
from sqlalchemy import select

from passport.accounts.errors import NotPermittedError
from passport.accounts.errors import ReasonRequiredError
from passport.accounts.errors import UserNotFoundError
from passport.accounts.models import User
from passport.accounts.validation import clean_dni
from passport.audit.services import Actor
from passport.extensions import db

REASON_MAX_LENGTH = 500
# Actions a national admin must also justify: they cut a person off (a passkey too).
NATIONAL_REASON_REQUIRED = frozenset({"disable", "force_password_reset", "remove_passkey"})


_Query = TypeVar("_Query", bound=Select[*tuple[Any, ...]])


class Administered(Protocol):
    """What the rules below read of a person: a User, or a Core twin of one (the import's
    ``StoredPerson``)."""

    @property
    def id(self) -> int: ...
    @property
    def dre(self) -> str | None: ...
    @property
    def ugel(self) -> str | None: ...
    @property
    def is_admin(self) -> bool: ...


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

    def includes(self, user: Administered) -> bool:
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


def reason_for(action: str, actor: User | None, reason: str | None) -> str | None:
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
        user = None if problem else db.session.scalar(select(User).where(User.dni == dni))
    if user is None or not scope.includes(user):
        raise UserNotFoundError(dni_or_user if isinstance(dni_or_user, str) else dni_or_user.dni)
    return user


# The attributes of a person an admin may set, and those of admin rights (national only).
PERSON_FIELDS = frozenset(
    {"email", "given_name", "family_name", "phone_number", "address", "dre", "ugel"}
)
ADMIN_FIELDS = frozenset({"is_admin", "admin_dre", "admin_ugel"})
SELF_HARM = frozenset({"disable", "force_password_reset", "revoke_admin"})


class Refusal(enum.StrEnum):
    """Why an actor may not make a change (the value is the English reason operators read)."""

    NOT_VISIBLE = "outside the admin's territory"
    ADMIN_ACCOUNT = "only national admins change an admin account"
    TERRITORY = "would place the person outside the admin's territory"
    NATIONAL_ONLY = "only national admins change admin rights"
    OWN_ACCOUNT = "not on one's own account"


def change_refusal(
    actor: User | None,
    user: Administered | None,
    changes: Mapping[str, Any] | None = None,
    *,
    action: str = "edit",
) -> Refusal | None:
    """Why ``actor`` may not apply ``action`` with ``changes`` (new values by attribute) to
    ``user`` (None: a person being created with ``changes``); None when it may.

    The one decision of every write path (see the module docstring).
    """
    changes = changes or {}
    unknown = set(changes) - PERSON_FIELDS - ADMIN_FIELDS
    if unknown:  # a caller's mistake, never a person's input
        raise ValueError(f"unknown fields: {sorted(unknown)}")
    if actor is None:
        return None
    scope = scope_of(actor)
    if user is not None and user.id == actor.id and action in SELF_HARM:
        return Refusal.OWN_ACCOUNT
    if scope.is_national:
        return None
    if ADMIN_FIELDS & set(changes):
        return Refusal.NATIONAL_ONLY
    if user is not None and not scope.includes(user):
        return Refusal.NOT_VISIBLE
    if user is not None and user.is_admin:
        return Refusal.ADMIN_ACCOUNT
    dre = changes.get("dre", user.dre if user is not None else None)
    ugel = changes.get("ugel", user.ugel if user is not None else None)
    if not scope.covers(dre, ugel):
        return Refusal.TERRITORY
    # A level the scope leaves open is not the admin's to change (UGEL-only: the DRE).
    if user is not None and scope.dre is None and dre != user.dre:
        return Refusal.TERRITORY
    return None


def ensure_changeable(
    action: str, user: User, actor: User | None, changes: Mapping[str, Any] | None = None
) -> None:
    """``change_refusal`` as an exception: UserNotFoundError for a person the actor cannot
    see, NotPermittedError for the rest."""
    refusal = change_refusal(actor, user, changes, action=action)
    if refusal is Refusal.NOT_VISIBLE:
        raise UserNotFoundError(user.dni)
    if refusal is not None:
        raise NotPermittedError(f"{action}: {refusal.value}")


def target(
    action: str, dni_or_user: str | User, actor: User | None, reason: str | None
) -> tuple[User, str | None]:
    """The user ``actor`` may apply ``action`` to, and the cleaned reason (or raise)."""
    user = find_user(dni_or_user, actor=actor)
    ensure_changeable(action, user, actor)
    return user, reason_for(action, actor, reason)


def acting_user(actor: Actor) -> User | None:
    """The person behind ``actor`` whose territory bounds the change (None: the system, or a
    machine client acting through the admin API, which are national).

    An actor naming a person who no longer exists is refused, never taken for the system.
    """
    if actor.user_id is None:
        return None
    user = db.session.get(User, actor.user_id)
    if user is None:
        raise NotPermittedError("administer users")
    return user


def checked(action: str, dni_or_user: str | User, actor: Actor) -> tuple[User, Actor]:
    """``target`` for an ``Actor``: the user it may apply ``action`` to, and the actor with
    the cleaned (and, where required, present) reason the audit event keeps."""
    user, why = target(action, dni_or_user, acting_user(actor), actor.reason)
    return user, replace(actor, reason=why)
