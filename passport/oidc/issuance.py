"""Issuing access, refresh and ID tokens (one row per issuance, hashes only).

at_hash is Authlib's ``create_half_hash``. The ID token is built here, not by Authlib's
OpenIDCode/OpenIDToken: that extension hooks only the code grant and copies every scope claim
into the token, while Passport also issues ID tokens on refresh (OIDC Core §12.2) and puts user
claims in them only when `claims.id_token` asks (§5.4, §5.5), with one builder for both.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from datetime import timedelta
from typing import Any
from typing import cast

from authlib.oidc.core.util import create_half_hash
from flask import current_app
from sqlalchemy import Table
from sqlalchemy import insert

from passport.database import utcnow
from passport.extensions import db
from passport.logs import note
from passport.oidc.claims import Subject
from passport.oidc.claims import id_token_user_claims
from passport.oidc.clients import RegisteredClient
from passport.oidc.keys import key_ring
from passport.oidc.models import OAuthToken
from passport.oidc.resources import Audience
from passport.oidc.tokens import hash_secret
from passport.oidc.tokens import new_secret

# Built once; the values travel as parameters, so the compiled form is cached too.
INSERT_TOKEN = insert(cast(Table, OAuthToken.__table__))


@dataclass(frozen=True)
class Authentication:
    """How and when the person authenticated (copied from the SSO session into codes)."""

    auth_time: datetime | None
    amr: list[str] | None
    acr: str | None
    sid: str | None


def half_hash(value: str, alg: str) -> str:
    """at_hash / c_hash (OIDC Core §3.1.3.6): Authlib's, with the hash of the JWS ``alg``."""
    return str(create_half_hash(value, alg).decode("ascii"))


def issuer() -> str:
    """The issuer identifier, exactly as configured."""
    return str(current_app.config["ISSUER"])


def build_id_token(
    client: RegisteredClient,
    user: Subject,
    scopes: list[str],
    authentication: Authentication,
    *,
    nonce: str | None,
    access_token: str | None,
    requested_claims: dict[str, Any] | None,
) -> str:
    """A signed ID token (OIDC Core §2), with the client's algorithm."""
    now = int(utcnow().timestamp())
    claims: dict[str, Any] = {
        "iss": issuer(),
        "sub": user.sub,
        "aud": client.client_id,
        "azp": client.client_id,
        "iat": now,
        "exp": now + current_app.config["ID_TOKEN_TTL_SECONDS"],
    }
    if authentication.auth_time is not None:
        claims["auth_time"] = int(authentication.auth_time.timestamp())
    if nonce:
        claims["nonce"] = nonce
    if authentication.acr:
        claims["acr"] = authentication.acr
    if authentication.amr:
        claims["amr"] = list(authentication.amr)
    if authentication.sid:
        claims["sid"] = authentication.sid
    if access_token:
        claims["at_hash"] = half_hash(access_token, client.id_token_signed_response_alg)
    claims.update(id_token_user_claims(user, scopes, requested_claims, client.scopes))
    return key_ring().sign(claims, client.id_token_signed_response_alg)


def build_jwt_access_token(
    client: RegisteredClient,
    user: Subject | None,
    scope: str,
    authentication: Authentication | None,
    expires_at: datetime,
    audience: list[str] | None = None,
    jkt: str | None = None,
) -> str:
    """An RFC 9068 access token (typ at+jwt), for resource servers that validate offline.

    ``aud`` is the resource identifiers when the request named some (RFC 8707), else the
    client; ``cnf.jkt`` names the DPoP key it is bound to (RFC 9449 §6.1)."""
    now = int(utcnow().timestamp())
    claims: dict[str, Any] = {
        "iss": issuer(),
        "sub": user.sub if user is not None else client.client_id,
        "aud": (audience[0] if len(audience) == 1 else audience) if audience else client.client_id,
        "client_id": client.client_id,
        "iat": now,
        "exp": int(expires_at.timestamp()),
        "jti": new_secret(16),
        "scope": scope,
    }
    if authentication is not None:
        if authentication.auth_time is not None:
            claims["auth_time"] = int(authentication.auth_time.timestamp())
        if authentication.acr:
            claims["acr"] = authentication.acr
        if authentication.amr:
            claims["amr"] = list(authentication.amr)
    if jkt is not None:
        claims["cnf"] = {"jkt": jkt}
    return key_ring().sign(claims, "RS256", typ="at+jwt")


def issue_tokens(
    client: RegisteredClient,
    user: Subject | None,
    scopes: list[str],
    *,
    authentication: Authentication | None,
    include_refresh_token: bool,
    include_id_token: bool,
    nonce: str | None = None,
    requested_claims: dict[str, Any] | None = None,
    family_id: str | None = None,
    parent_id: int | None = None,
    authorization_code_id: int | None = None,
    refresh_expires_at: datetime | None = None,
    resources: list[str] | None = None,
    audience: Audience | None = None,
    jkt: str | None = None,
) -> dict[str, Any]:
    """Create the token row and the token response body (the caller commits).

    ``resources``: the grant's resources (RFC 8707), kept for the refresh grant;
    ``audience``: the access token's, with its narrowed scopes and format;
    ``jkt``: the thumbprint of the DPoP key the tokens are bound to (RFC 9449 §5).
    """
    note(client_id=client.client_id, sub=user.sub if user is not None else None)
    now = utcnow()
    config = current_app.config
    scope = " ".join(scopes)
    access_scope = " ".join(audience.scopes) if audience is not None else scope
    access_format = client.access_token_format
    if audience is not None and audience.access_token_format is not None:
        access_format = audience.access_token_format
    access_ttl = client.access_token_ttl_seconds or config["ACCESS_TOKEN_TTL_SECONDS"]
    access_expires_at = now + timedelta(seconds=access_ttl)
    if access_format == "jwt":
        access_token = build_jwt_access_token(
            client,
            user,
            access_scope,
            authentication,
            access_expires_at,
            audience.identifiers if audience is not None else None,
            jkt,
        )
    else:
        access_token = new_secret(32)
    is_offline = "offline_access" in scopes
    refresh_token = None
    if include_refresh_token:
        refresh_token = new_secret(32)
        if refresh_expires_at is None:
            ttl = (
                config["OFFLINE_REFRESH_TOKEN_TTL_SECONDS"]
                if is_offline
                else client.refresh_token_ttl_seconds or config["REFRESH_TOKEN_TTL_SECONDS"]
            )
            refresh_expires_at = now + timedelta(seconds=ttl)
    # A Core INSERT: the row is never read back in this request, so skip the unit of work.
    row = dict(
        client_pk=client.pk,
        user_id=user.id if user is not None else None,
        access_token_hash=hash_secret(access_token),
        refresh_token_hash=hash_secret(refresh_token) if refresh_token else None,
        scope=scope,
        claims=requested_claims,
        resources=resources or None,
        audience=audience.identifiers if audience is not None else None,
        access_scope=access_scope if audience is not None else None,
        family_id=family_id or new_secret(16),
        parent_id=parent_id,
        authorization_code_id=authorization_code_id,
        sid=authentication.sid if authentication else None,
        is_offline=is_offline,
        auth_time=authentication.auth_time if authentication else None,
        access_expires_at=access_expires_at,
        refresh_expires_at=refresh_expires_at if refresh_token else None,
        jkt=jkt,
        created_at=now,
    )
    db.session.execute(INSERT_TOKEN, row)
    body: dict[str, Any] = {
        "access_token": access_token,
        "token_type": "Bearer" if jkt is None else "DPoP",
        "expires_in": access_ttl,
        "scope": access_scope,
    }
    if refresh_token:
        body["refresh_token"] = refresh_token
    if include_id_token and user is not None and authentication is not None:
        body["id_token"] = build_id_token(
            client,
            user,
            scopes,
            authentication,
            nonce=nonce,
            access_token=access_token,
            requested_claims=requested_claims,
        )
    return body
