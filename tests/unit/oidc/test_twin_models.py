"""The Core twins of ORM models keep the models' fields, types and rules (passport.twins)."""

from __future__ import annotations

import typing
from dataclasses import fields
from typing import Any

import pytest

from passport.accounts.importing import StoredPerson
from passport.accounts.models import User
from passport.accounts.models import UserStatus
from passport.login.models import SSOSession
from passport.login.sessions import SessionFacts
from passport.oidc.claims import Subject
from passport.oidc.clients import RegisteredClient
from passport.oidc.models import AuthorizationCode
from passport.oidc.models import OAuthClient
from passport.oidc.models import OAuthToken
from passport.oidc.server import RedeemedCode
from passport.oidc.server import RotatedToken

# twin, its model, and fields read from another column: field -> (model, attribute)
TWINS: list[tuple[type, type, dict[str, tuple[type, str]]]] = [
    (Subject, User, {}),
    (StoredPerson, User, {}),
    (SessionFacts, SSOSession, {"user_sub": (User, "sub"), "user_status": (User, "status")}),
    (RedeemedCode, AuthorizationCode, {}),
    (RotatedToken, OAuthToken, {}),
    (RegisteredClient, OAuthClient, {"pk": (OAuthClient, "id")}),
]


def column_type(model: type, name: str) -> Any:
    """The Python type a mapped attribute holds (Mapped[X] -> X)."""
    hint = typing.get_type_hints(model)[name]
    assert typing.get_origin(hint) is not None, f"{model.__name__}.{name} is not mapped"
    return typing.get_args(hint)[0]


def comparable(hint: Any) -> Any:
    """tuple[X, ...] (the frozen twin's copy of a JSON list) compares as list[X]."""
    if typing.get_origin(hint) is tuple:
        return list[typing.get_args(hint)[0]]  # type: ignore[misc]
    args = typing.get_args(hint)
    if args and type(None) in args:
        return typing.Optional[comparable(next(a for a in args if a is not type(None)))]  # noqa: UP045
    return hint


@pytest.mark.parametrize(
    ("twin", "model", "renamed"), TWINS, ids=lambda v: getattr(v, "__name__", "")
)
def test_every_twin_field_is_a_column_of_the_same_type(
    twin: type, model: type, renamed: dict[str, tuple[type, str]]
) -> None:
    hints = typing.get_type_hints(twin)
    for field in fields(twin):  # type: ignore[arg-type]
        owner, attribute = renamed.get(field.name, (model, field.name))
        assert comparable(hints[field.name]) == comparable(column_type(owner, attribute)), (
            f"{twin.__name__}.{field.name} drifted from {owner.__name__}.{attribute}"
        )


@pytest.mark.parametrize("status", list(UserStatus))
def test_subject_rules_are_the_users(status: UserStatus) -> None:
    user = User(given_name="Rosa", family_name="Quispe Mamani", status=status)
    values = {f.name: None for f in fields(Subject)}
    subject = Subject(
        **{**values, "given_name": "Rosa", "family_name": "Quispe Mamani", "status": status}
    )  # type: ignore[arg-type]
    assert subject.is_active == user.is_active
    assert subject.name == user.name == "Rosa Quispe Mamani"


@pytest.mark.parametrize("method", ["none", "client_secret_basic", "private_key_jwt"])
def test_registered_client_is_public_as_the_row_is(method: str) -> None:
    row = OAuthClient(token_endpoint_auth_method=method)
    values: dict[str, Any] = {f.name: None for f in fields(RegisteredClient)}
    snapshot = RegisteredClient(**{**values, "token_endpoint_auth_method": method})
    assert snapshot.is_public == row.is_public == (method == "none")
