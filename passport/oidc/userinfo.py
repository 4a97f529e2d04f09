"""Bearer access tokens at the userinfo endpoint (OIDC Core §5.3, RFC 6750).

Not Authlib's UserInfoEndpoint: its ResourceProtector answers a request without a token with
``error="missing_authorization"``, where RFC 6750 §3.1 says such a challenge carries no error
code, and it reads token, client and user separately where one join serves (1 statement).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from typing import cast

from sqlalchemy import Table
from sqlalchemy import bindparam
from sqlalchemy import select

from passport.database import utcnow
from passport.extensions import db
from passport.login.models import SSOSession
from passport.logs import note
from passport.oidc.claims import SUBJECT_COLUMNS
from passport.oidc.claims import USERS
from passport.oidc.claims import Subject
from passport.oidc.claims import userinfo_claims
from passport.oidc.models import OAuthClient
from passport.oidc.models import OAuthToken
from passport.oidc.revocation import current_scopes
from passport.oidc.revocation import outlived_session
from passport.oidc.tokens import hash_secret


class BearerError(Exception):
    """A token problem, reported in WWW-Authenticate (RFC 6750 §3.1)."""

    def __init__(self, error: str | None, description: str, status: int = 401) -> None:
        super().__init__(description)
        self.error = error  # None when no token was presented at all (§3.1)
        self.description = description
        self.status = status

    def www_authenticate(self) -> str:
        """The challenge header value."""
        if self.error is None:
            return 'Bearer realm="passport"'
        return (
            f'Bearer realm="passport", error="{self.error}", error_description="{self.description}"'
        )


# One round trip for the token, its client, its session and its user, Core columns only (no
# ORM entities): the columns the checks read, then the user's claim fields. Built once.
TOKENS = cast(Table, OAuthToken.__table__)
CLIENTS = cast(Table, OAuthClient.__table__)
SESSIONS = cast(Table, SSOSession.__table__)
BEARER_COLUMNS = [
    TOKENS.c.revoked_at,
    TOKENS.c.access_expires_at,
    TOKENS.c.scope,
    TOKENS.c.access_scope,
    TOKENS.c.claims,
    TOKENS.c.is_offline,
    TOKENS.c.sid,
    CLIENTS.c.scopes.label("client_scopes"),
    CLIENTS.c.is_disabled.label("client_disabled"),
    SESSIONS.c.ended_at.label("session_ended_at"),
    SESSIONS.c.expires_at.label("session_expires_at"),
]
BEARER_GRANT = (
    select(*BEARER_COLUMNS, *SUBJECT_COLUMNS)
    .join_from(TOKENS, USERS, USERS.c.id == TOKENS.c.user_id)
    .join(CLIENTS, CLIENTS.c.id == TOKENS.c.client_pk)
    .outerjoin(SESSIONS, SESSIONS.c.sid == TOKENS.c.sid)
    .where(TOKENS.c.access_token_hash == bindparam("digest"))
)


@dataclass(frozen=True)
class BearerGrant:
    """What a valid access token grants."""

    user: Subject
    scopes: list[str]
    claims: dict[str, Any] | None
    client_scopes: tuple[str, ...] = ()


def authenticate_bearer(token: str | None) -> BearerGrant:
    """The grant behind an access token; raise BearerError when missing or unusable."""
    if not token:
        raise BearerError(None, "Missing access token.")
    if len(token) > 4096:
        raise BearerError("invalid_token", "The access token is invalid.")
    found = db.session.execute(BEARER_GRANT, {"digest": hash_secret(token)}).first()
    if found is None:
        raise BearerError("invalid_token", "The access token is invalid.")
    (
        revoked_at,
        expires_at,
        scope,
        access_scope,
        claims,
        is_offline,
        sid,
        client_scopes,
        client_disabled,
        session_ended_at,
        session_expires_at,
    ) = found[: len(BEARER_COLUMNS)]
    user = Subject(*found[len(BEARER_COLUMNS) :])
    now = utcnow()
    if revoked_at is not None:
        raise BearerError("invalid_token", "The access token is invalid.")
    if expires_at <= now:
        raise BearerError("invalid_token", "The access token expired.")
    if not user.is_active or client_disabled:
        raise BearerError("invalid_token", "The access token is invalid.")
    if outlived_session(is_offline, sid, session_ended_at, session_expires_at, now):
        raise BearerError("invalid_token", "The access token is invalid.")
    note(sub=user.sub)
    # A scope withdrawn from the client since the token was issued releases nothing more; a
    # token narrowed to resources (RFC 8707) has only their scopes (openid when the issuer
    # is among them).
    scopes = current_scopes((access_scope or scope).split(), client_scopes or ())
    if "openid" not in scopes:
        raise BearerError("insufficient_scope", "The openid scope is required.", status=403)
    return BearerGrant(
        user=user, scopes=scopes, claims=claims, client_scopes=tuple(client_scopes or ())
    )


def userinfo_response(token: str | None) -> dict[str, Any]:
    """The userinfo claims for an access token (only what its scopes granted)."""
    grant = authenticate_bearer(token)
    return userinfo_claims(grant.user, grant.scopes, grant.claims, grant.client_scopes)
