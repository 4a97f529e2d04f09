"""Factories: valid defaults, overridable per test. They write through the models directly."""

from __future__ import annotations

import itertools
from typing import Any

from passport.accounts.models import User
from passport.accounts.models import UserStatus
from passport.database import utcnow
from passport.extensions import db

_dni_counter = itertools.count(40000001)

DEFAULT_PASSWORD = "Clave2024ok"


def next_dni() -> str:
    return f"{next(_dni_counter):08d}"


def make_user(password: str | None = DEFAULT_PASSWORD, **overrides: Any) -> User:
    """An active user with ``password`` (pending, with no password, when it is None)."""
    from passport.security.passwords import hash_password

    dni = overrides.pop("dni", None) or next_dni()
    values: dict[str, Any] = {
        "dni": dni,
        "email": f"docente{dni}@example.edu.pe",
        "given_name": "Rosa Elena",
        "family_name": "Quispe Huamán",
        "status": UserStatus.ACTIVE if password else UserStatus.PENDING,
    }
    values.update(overrides)
    user = User(**values)
    if password:
        user.password_hash = hash_password(password)
        user.password_changed_at = utcnow()
    db.session.add(user)
    db.session.commit()
    return user
