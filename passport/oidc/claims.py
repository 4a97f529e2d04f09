"""Which user claims each scope releases, and the `claims` request parameter (OIDC Core §5).

The `claims` parameter asks for claims one by one, for userinfo and the ID token: released
within what the client's registered scopes allow (never beyond), only when a requested
``value``/``values`` matches, and an ``essential`` one that cannot be released is simply left
out (§5.5.1). Claims asked for beyond the request's scopes need consent like a scope
(``individually_requested``; the consent page lists them).

``Subject`` is a Core twin of User (columns from the table, passport.twins; rules from
accounts.models): 118 µs CPU per read against 233 µs for ``session.get(User)``
(benchmarks/twin_reads.py, SQLite), on every /token and refresh (about 1.6 ms each,
benchmarks/oidc_profile.py) and inside /userinfo's one join.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from typing import cast

from sqlalchemy import Table
from sqlalchemy import bindparam
from sqlalchemy import select

from passport import json_input
from passport.accounts.models import User
from passport.accounts.models import UserStatus
from passport.accounts.models import full_name
from passport.accounts.models import is_active
from passport.extensions import db
from passport.twins import columns

# OIDC Core §5.4, plus the ministry's `dni` scope. preferred_username is the DNI, so it is
# released only together with the `dni` scope (the DNI is personal data; `sub` is not).
SCOPE_CLAIMS: dict[str, tuple[str, ...]] = {
    "profile": (
        "name",
        "given_name",
        "family_name",
        "preferred_username",
        "locale",
        "updated_at",
    ),
    "email": ("email", "email_verified"),
    "phone": ("phone_number", "phone_number_verified"),
    "address": ("address",),
    "dni": ("dni",),
}
USER_CLAIMS = tuple(claim for claims in SCOPE_CLAIMS.values() for claim in claims)
ID_TOKEN_CLAIMS = (
    "iss",
    "sub",
    "aud",
    "exp",
    "iat",
    "auth_time",
    "nonce",
    "acr",
    "amr",
    "azp",
    "at_hash",
    "sid",
)
ADDRESS_FIELDS = (
    "formatted",
    "street_address",
    "locality",
    "region",
    "postal_code",
    "country",
)
MAX_CLAIMS_PARAMETER_LENGTH = 4000
REQUESTABLE_CLAIMS = frozenset((*USER_CLAIMS, *ID_TOKEN_CLAIMS))
CLAIM_REQUEST_MEMBERS = ("essential", "value", "values")


@dataclass(frozen=True)
class Subject:
    """The user fields tokens and claims need, read with one Core query (no ORM identity work)."""

    id: int
    sub: str
    dni: str
    email: str
    email_verified: bool
    given_name: str
    family_name: str
    phone_number: str | None
    phone_number_verified: bool
    address: dict[str, Any] | None
    locale: str
    updated_at: datetime
    status: UserStatus

    @property
    def name(self) -> str:
        """As User.name (one rule: accounts.models.full_name)."""
        return full_name(self)

    @property
    def is_active(self) -> bool:
        """As User.is_active (one rule: accounts.models.is_active)."""
        return is_active(self)


USERS = cast(Table, User.__table__)
SUBJECT_COLUMNS = columns(Subject, USERS)
# Built once: the protocol endpoints read a user on every token request.
SUBJECT_BY_ID = select(*SUBJECT_COLUMNS).where(USERS.c.id == bindparam("user_id"))


def subject_columns(user_id: Any) -> list[Any]:
    """The Subject of ``user_id`` (a column of the statement's table) as correlated scalar
    subqueries labelled ``subject_<field>``: for a RETURNING clause, so the statement that
    claims a code or a refresh token also reads its user (one round trip less per grant)."""
    return [
        select(column).where(USERS.c.id == user_id).scalar_subquery().label(f"subject_{name}")
        for name, column in zip(Subject.__dataclass_fields__, SUBJECT_COLUMNS, strict=True)
    ]


def subject_of(row: Any) -> Subject | None:
    """The Subject read by ``subject_columns``, or None when the row has no user."""
    mapping = row._mapping
    values = {name: mapping[f"subject_{name}"] for name in Subject.__dataclass_fields__}
    return Subject(**values) if values["id"] is not None else None


def load_subject(user_id: int) -> Subject | None:
    """The user's claim fields, or None when the row is gone."""
    row = db.session.execute(SUBJECT_BY_ID, {"user_id": user_id}).first()
    return Subject(**row._mapping) if row is not None else None


def parse_claims_parameter(raw: str | None) -> dict[str, Any] | None:
    """The `claims` parameter as {"id_token": {...}, "userinfo": {...}}; ValueError if bad."""
    if not raw:
        return None
    if len(raw) > MAX_CLAIMS_PARAMETER_LENGTH:
        raise ValueError("claims parameter too long")
    value = json_input.loads(raw)
    if not isinstance(value, dict):
        raise ValueError("claims must be a JSON object")
    result: dict[str, Any] = {}
    for member in ("id_token", "userinfo"):
        requested = value.get(member)
        if requested is None:
            continue
        if not isinstance(requested, dict):
            raise ValueError(f"claims.{member} must be an object")
        for name, request in requested.items():
            if request is not None and not isinstance(request, dict):
                raise ValueError(f"claims.{member}.{name} must be null or an object")
        # Only what Passport can act on is kept (pending requests and codes store the result):
        # claims it can state, and the members of a request that mean something (§5.5.1).
        result[member] = {
            name: _known_members(request)
            for name, request in requested.items()
            if name in REQUESTABLE_CLAIMS
        }
    return result or None


def _known_members(request: dict[str, Any] | None) -> dict[str, Any] | None:
    if request is None:
        return None
    return {key: value for key, value in request.items() if key in CLAIM_REQUEST_MEMBERS}


def allowed_claims(scopes: set[str] | list[str] | tuple[str, ...]) -> set[str]:
    """Every user claim the granted scopes allow to leave Passport."""
    allowed: set[str] = set()
    for scope in scopes:
        allowed.update(SCOPE_CLAIMS.get(scope, ()))
    if "dni" not in scopes:
        allowed.discard("preferred_username")
    return allowed


def user_claim_values(user: User | Subject) -> dict[str, Any]:
    """Every user claim Passport can state, by name (None when unknown)."""
    address = None
    if isinstance(user.address, dict):
        address = {k: v for k, v in user.address.items() if k in ADDRESS_FIELDS and v}
    return {
        "name": user.name,
        "given_name": user.given_name,
        "family_name": user.family_name,
        "preferred_username": user.dni,
        "locale": user.locale,
        "updated_at": int(user.updated_at.timestamp()) if user.updated_at else None,
        "email": user.email,
        "email_verified": bool(user.email_verified),
        "phone_number": user.phone_number,
        "phone_number_verified": bool(user.phone_number_verified) if user.phone_number else None,
        "address": address or None,
        "dni": user.dni,
    }


def select_claims(user: User | Subject, names: set[str]) -> dict[str, Any]:
    """The values of ``names`` that the user has (absent claims are omitted, never null)."""
    values = user_claim_values(user)
    return {name: values[name] for name in sorted(names) if values.get(name) is not None}


def _same(value: Any, expected: Any) -> bool:
    # Strict: JSON true is not 1, "1" is not 1.
    return type(value) is type(expected) and bool(value == expected)


def matches_request(value: Any, request: Any) -> bool:
    """Whether a claim's value meets its request's ``value``/``values`` (§5.5.1); a request
    without them (null, or only ``essential``) accepts any value."""
    if not isinstance(request, dict):
        return True
    if "value" in request:
        return _same(value, request["value"])
    if isinstance(request.get("values"), list):
        return any(_same(value, expected) for expected in request["values"])
    return True


def _member(requested: dict[str, Any] | None, member: str) -> dict[str, Any]:
    entries = (requested or {}).get(member)
    return entries if isinstance(entries, dict) else {}


def release(
    user: User | Subject, names: set[str], member_request: dict[str, Any]
) -> dict[str, Any]:
    """The values of ``names`` the user has, minus those whose requested value differs."""
    values = select_claims(user, names)
    return {
        name: value
        for name, value in values.items()
        if name not in member_request or matches_request(value, member_request[name])
    }


def individually_requested(
    requested: dict[str, Any] | None, scopes: Iterable[str], client_scopes: Iterable[str]
) -> list[str]:
    """User claims the `claims` parameter asks for by name beyond what ``scopes`` release,
    among those the client's registered scopes allow (the rest are never released), sorted.

    These need the person's consent like a scope (the consent page lists them)."""
    names = {name for member in ("userinfo", "id_token") for name in _member(requested, member)}
    return claims_beyond_scopes(names, scopes, client_scopes)


def claims_beyond_scopes(
    names: Iterable[str], scopes: Iterable[str], client_scopes: Iterable[str]
) -> list[str]:
    """The user claims among ``names`` that ``scopes`` do not release but the client's
    registered scopes allow, sorted: what a consent holds one by one, and what Mi cuenta
    shows of it now (a claim whose scope the client lost is released no more)."""
    wanted = set(names) & set(USER_CLAIMS)
    return sorted((wanted & allowed_claims(set(client_scopes))) - allowed_claims(set(scopes)))


def requested_sub(requested: dict[str, Any] | None) -> Any:
    """The `sub` value the `claims` parameter demands (§5.5.1), or None."""
    for member in ("id_token", "userinfo"):
        entry = _member(requested, member).get("sub")
        if isinstance(entry, dict) and "value" in entry:
            return entry["value"]
    return None


def userinfo_claims(
    user: User | Subject,
    scopes: list[str],
    requested: dict[str, Any] | None,
    client_scopes: Iterable[str] = (),
) -> dict[str, Any]:
    """Claims for the userinfo response: `sub`, what the scopes grant (§5.3.2, §5.4) and what
    `claims.userinfo` asks for by name within the client's registered scopes (§5.5).

    A claim requested with ``value``/``values`` is released only when it matches; an
    ``essential`` one that cannot be released is left out, not an error (§5.5.1).
    """
    member_request = _member(requested, "userinfo")
    names = allowed_claims(scopes) | (set(member_request) & allowed_claims(set(client_scopes)))
    claims = {"sub": user.sub}
    claims.update(release(user, names, member_request))
    return claims


def id_token_user_claims(
    user: User | Subject,
    scopes: list[str],
    requested: dict[str, Any] | None,
    client_scopes: Iterable[str] = (),
) -> dict[str, Any]:
    """User claims asked for in `claims.id_token` (§5.5), within what the grant's scopes or
    the client's registered scopes release; ``value``/``values`` must match."""
    member_request = _member(requested, "id_token")
    if not member_request:
        return {}
    allowed = allowed_claims(scopes) | allowed_claims(set(client_scopes))
    return release(user, set(member_request) & allowed, member_request)
