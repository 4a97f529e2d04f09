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
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from typing import TypeVar

from sqlalchemy import Select

from passport.accounts.errors import NotPermittedError
from passport.accounts.errors import ReasonRequiredError
from passport.accounts.errors import UserNotFoundError
from passport.accounts.models import User
from passport.accounts.services import find_user_by_dni
from passport.accounts.validation import clean_dni

REASON_MAX_LENGTH = 500
# Actions a national admin must also justify: they cut a person off.
NATIONAL_REASON_REQUIRED = frozenset({"disable", "force_password_reset"})


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
        user = None if problem else find_user_by_dni(dni)
    if user is None or not scope.includes(user):
        raise UserNotFoundError(dni_or_user if isinstance(dni_or_user, str) else dni_or_user.dni)
    return user


def ensure_changeable(action: str, user: User, actor: User | None) -> None:
    """Refuse changes to admin accounts by scoped admins, and self-harm by anyone."""
    if actor is None:
        return
    if user.is_admin and not scope_of(actor).is_national:
        raise NotPermittedError(f"{action} on an admin account")
    if user.id == actor.id and action in ("disable", "force_password_reset", "revoke_admin"):
        raise NotPermittedError(f"{action} on one's own account")


def target(
    action: str, dni_or_user: str | User, actor: User | None, reason: str | None
) -> tuple[User, str | None]:
    """The user ``actor`` may apply ``action`` to, and the cleaned reason (or raise)."""
    user = find_user(dni_or_user, actor=actor)
    ensure_changeable(action, user, actor)
    return user, reason_for(action, actor, reason)
