"""Signed, expiring, single-use password links ("Generar tu contraseña", "Restablecer").

A link carries ``[user id, link generation]`` signed by itsdangerous with one salt per
purpose, so an activation link never works as a reset link. Nothing about a link is stored:
issuing a link bumps ``User.link_generation`` and the link carries the new value, so a newer
link supersedes every older one; setting a password bumps it again, so the link that was
used dies with every other.
"""

from __future__ import annotations

import enum
from typing import Any
from urllib.parse import urlsplit

from flask import current_app
from itsdangerous import BadData
from itsdangerous import SignatureExpired
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import update

from passport.accounts.errors import InvalidLinkError
from passport.accounts.errors import LinkFailure
from passport.accounts.models import User
from passport.accounts.models import UserStatus
from passport.extensions import db
from passport.security.app_secret import secret_keys

# A real token is about 50 characters; anything much longer is not ours.
MAX_TOKEN_LENGTH = 200


class LinkPurpose(enum.StrEnum):
    """What a link lets the person do, and which account state it needs."""

    ACTIVATION = "activation"  # a pending user generates a first password
    RESET = "reset"  # an active user replaces a forgotten password

    @property
    def required_status(self) -> UserStatus:
        """The account state in which a link of this purpose may be used."""
        return UserStatus.PENDING if self is LinkPurpose.ACTIVATION else UserStatus.ACTIVE


def _serializer(purpose: LinkPurpose) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(
        secret_keys(current_app), salt=f"passport.accounts.password-link.{purpose}"
    )


def link_ttl_seconds(purpose: LinkPurpose) -> int:
    """How long a link lives (ACTIVATION_LINK_TTL_HOURS, RESET_LINK_TTL_MINUTES)."""
    if purpose is LinkPurpose.ACTIVATION:
        return int(current_app.config["ACTIVATION_LINK_TTL_HOURS"]) * 3600
    return int(current_app.config["RESET_LINK_TTL_MINUTES"]) * 60


def absolute_url(endpoint: str, **values: Any) -> str:
    """An absolute URL under ISSUER: never built from the request's (spoofable) Host."""
    issuer = urlsplit(current_app.config["ISSUER"])
    adapter = current_app.url_map.bind(
        issuer.netloc, script_name=issuer.path or "/", url_scheme=issuer.scheme
    )
    return adapter.build(endpoint, values, force_external=True)


def issue_link_token(user: User) -> int:
    """Bump the user's link generation in the database (no commit) and return the new value.

    The increment is done by the database (``SET link_generation = link_generation + 1``), so
    two concurrent requests never hand out links of the same generation.
    """
    db.session.flush()
    db.session.execute(
        update(User)
        .where(User.id == user.id)
        .values(link_generation=User.link_generation + 1)
        .execution_options(synchronize_session=False)
    )
    db.session.refresh(user, attribute_names=["link_generation"])
    return user.link_generation


def issue_link(user: User, purpose: LinkPurpose) -> str:
    """A new absolute link for ``user`` (older links die); the caller commits."""
    generation = issue_link_token(user)
    token = _serializer(purpose).dumps([user.id, generation])
    return absolute_url("accounts.verify", token=token)


def resolve_link(token: str) -> tuple[User, LinkPurpose]:
    """The user and purpose of a live link; InvalidLinkError says why a dead one is dead."""
    if not token or len(token) > MAX_TOKEN_LENGTH:
        raise InvalidLinkError(LinkFailure.MALFORMED)
    expired = False
    for purpose in LinkPurpose:
        try:
            payload = _serializer(purpose).loads(token, max_age=link_ttl_seconds(purpose))
        except SignatureExpired:
            # Raised only once the signature is known to be ours.
            expired = True
            continue
        except BadData:
            continue
        return _live_user(payload, purpose), purpose
    raise InvalidLinkError(LinkFailure.EXPIRED if expired else LinkFailure.MALFORMED)


def _live_user(payload: Any, purpose: LinkPurpose) -> User:
    if (
        not isinstance(payload, list)
        or len(payload) != 2
        or not all(type(item) is int for item in payload)
    ):
        raise InvalidLinkError(LinkFailure.MALFORMED)
    user_id, generation = payload
    user = db.session.get(User, user_id)
    if (
        user is None
        or user.link_generation != generation
        or user.status is not purpose.required_status
    ):
        raise InvalidLinkError(LinkFailure.USED)
    return user
