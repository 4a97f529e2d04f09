"""What the admin API does to users, over the account services the CLI and console use.

The rules of an account (validation, scope, creation, disabling, mails) live in
``passport.accounts.administration``, where the API acts as the system (``actor=None``,
national) named by its ``client_id``. This module adds only what is particular to a machine
caller: an idempotent create (the same DNI with the same data answers the existing user) and
the JSON views of a user and of a session, which never carry secrets or lock internals.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from passport.accounts import administration
from passport.accounts.errors import DuplicateDniError
from passport.accounts.models import User
from passport.accounts.services import NewUser
from passport.accounts.services import find_user_by_dni
from passport.accounts.validation import UserData
from passport.accounts.validation import clean_user_data
from passport.api import schemas
from passport.api.errors import ConflictingUserError
from passport.audit.services import Actor
from passport.extensions import db
from passport.login.devices import describe_device
from passport.login.models import SSOSession

# The request members compared for idempotency, with the User attribute each one sets.
COMPARED_FIELDS = {
    "email": "email",
    "given_name": "given_name",
    "family_name": "family_name",
    "phone": "phone_number",
    "dre": "dre",
    "ugel": "ugel",
}


@dataclass(frozen=True)
class Provisioned:
    """The outcome of a create: the user, and whether this call created it."""

    user: User
    created: bool


def differing_fields(user: User, data: UserData) -> list[str]:
    """The request members whose normalised value differs from the stored user."""
    # UserData and User name their attributes alike.
    return [
        name for name, attr in COMPARED_FIELDS.items() if getattr(user, attr) != getattr(data, attr)
    ]


def provision_user(
    fields: dict[str, Any], *, send_activation_email: bool, actor: Actor
) -> Provisioned:
    """Create the user, or return the existing one when the request repeats its data.

    Raises InvalidUserDataError (bad fields), ConflictingUserError (same DNI, other data) or
    MailDeliveryError (nothing written). Commits when it creates.
    """
    data = clean_user_data(**fields)
    existing = find_user_by_dni(data.dni)
    if existing is None:
        try:
            user = administration.create_user(
                NewUser(
                    data.dni,
                    data.email,
                    data.given_name,
                    data.family_name,
                    phone=data.phone_number,
                    dre=data.dre,
                    ugel=data.ugel,
                ),
                actor=actor,
                send_email=send_activation_email,
            )
        except DuplicateDniError:
            # A concurrent request created it first: judge this one as a repeat.
            existing = find_user_by_dni(data.dni)
            if existing is None:  # pragma: no cover - deleted in between
                raise
        else:
            if user is None:  # pragma: no cover - the API client acts as the system: national
                raise DuplicateDniError(data.dni)
            return Provisioned(user, created=True)
    conflicts = differing_fields(existing, data)
    if conflicts:
        raise ConflictingUserError(data.dni, conflicts)
    return Provisioned(existing, created=False)


def refreshed(user: User) -> User:
    """The user as stored now (after a service committed a change)."""
    db.session.refresh(user)
    return user


def iso(moment: Any) -> str | None:
    """An ISO 8601 UTC timestamp, or None."""
    return moment.isoformat().replace("+00:00", "Z") if moment is not None else None


def user_json(user: User) -> dict[str, Any]:
    """The public view of a user, checked by the model that documents it."""
    return schemas.User.model_validate(
        {
            "dni": user.dni,
            "sub": user.sub,
            "email": user.email,
            "email_verified": user.email_verified,
            "given_name": user.given_name,
            "family_name": user.family_name,
            "phone": user.phone_number,
            "phone_verified": user.phone_number_verified,
            "dre": user.dre,
            "ugel": user.ugel,
            "status": user.status.value,
            "created_at": iso(user.created_at),
            "updated_at": iso(user.updated_at),
        }
    ).model_dump()


def session_json(session: SSOSession) -> dict[str, Any]:
    """The public view of an SSO session (model ``Session``): never its cookie hash."""
    return schemas.Session.model_validate(
        {
            "sid": session.sid,
            "created_at": iso(session.created_at),
            "last_seen_at": iso(session.last_seen_at),
            "expires_at": iso(session.expires_at),
            "ip_address": session.ip_address,
            "user_agent": session.user_agent,
            "device": describe_device(session.user_agent),  # as Mi cuenta names it
            "amr": list(session.amr or []),
        }
    ).model_dump()
