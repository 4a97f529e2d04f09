"""Client services (create, list, show, rotate the secret) and the cached client lookup.

``RegisteredClient`` is the cached snapshot: frozen (shared across threads), read as Core
columns named by its fields (passport.twins; 138 µs against 269 µs for the ORM row,
benchmarks/twin_reads.py), though only once per CLIENT_CACHE_SECONDS, so it is kept for
immutability, not speed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field
from datetime import datetime
from datetime import timedelta
from typing import Any
from typing import cast

from authlib.oauth2.rfc6749 import ClientMixin
from authlib.oauth2.rfc6749.util import scope_to_list
from flask import current_app
from sqlalchemy import Table
from sqlalchemy import bindparam
from sqlalchemy import select

from passport.audit.services import Actor
from passport.caches import Cache
from passport.caches import app_cache
from passport.database import utcnow
from passport.extensions import db
from passport.oidc.client_validation import CallbackCheck
from passport.oidc.client_validation import ClientMetadata
from passport.oidc.client_validation import validate_client_metadata
from passport.oidc.errors import ClientHasNoSecret
from passport.oidc.errors import UnknownClient
from passport.oidc.models import OAuthClient
from passport.oidc.models import is_public
from passport.oidc.tokens import hash_secret
from passport.oidc.tokens import new_identifier
from passport.oidc.tokens import new_secret
from passport.oidc.tokens import secret_matches
from passport.security import outbound
from passport.twins import columns


@dataclass(frozen=True)
class RegisteredClient(ClientMixin):  # type: ignore[misc]
    """An immutable snapshot of a client row: safe to cache across requests and threads."""

    pk: int
    client_id: str
    name: str
    # Out of repr: Authlib logs the client object at DEBUG ("Validate token request of %r").
    secret_hash: str | None = field(repr=False)
    previous_secret_hash: str | None = field(repr=False)
    previous_secret_expires_at: datetime | None
    redirect_uris: tuple[str, ...]
    post_logout_redirect_uris: tuple[str, ...]
    backchannel_logout_uri: str | None
    token_endpoint_auth_method: str
    grant_types: tuple[str, ...]
    scopes: tuple[str, ...]
    skip_consent: bool
    jwks: dict[str, Any] | None
    jwks_uri: str | None
    id_token_signed_response_alg: str
    access_token_format: str
    access_token_ttl_seconds: int | None
    refresh_token_ttl_seconds: int | None
    is_resource_server: bool
    is_disabled: bool
    require_pushed_authorization_requests: bool
    fapi2_profile: bool
    request_object_signing_alg: str | None
    dpop_bound_access_tokens: bool = False

    @classmethod
    def from_row(cls, row: Mapping[Any, Any]) -> RegisteredClient:
        """The snapshot of a row read with CLIENT_COLUMNS (JSON lists become tuples)."""
        values: dict[str, Any] = {
            k: tuple(v or ()) if k in LIST_FIELDS else v for k, v in row.items()
        }
        return cls(**values)

    @property
    def is_public(self) -> bool:
        """No credentials: PKCE is required (RFC 9700 §2.1.1; one rule: models.is_public)."""
        return is_public(self)

    # Authlib's ClientMixin.
    def get_client_id(self) -> str:
        """Authlib: the client_id."""
        return self.client_id

    def get_default_redirect_uri(self) -> str | None:
        """Authlib: never a default (OIDC Core §3.1.2.1 requires redirect_uri)."""
        return None

    def get_allowed_scope(self, scope: str | None) -> str:
        """Authlib: the requested scopes this client may have, in request order."""
        if not scope:
            return ""
        allowed = set(self.scopes)
        return " ".join(s for s in dict.fromkeys(scope_to_list(scope)) if s in allowed)

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        """Authlib: exact match with a registered redirect URI."""
        # Exact string comparison (RFC 9700 §4.1.3); no pattern, no prefix.
        return redirect_uri in self.redirect_uris

    def check_client_secret(self, client_secret: str) -> bool:
        """Authlib: the current secret, or the previous one during its grace period."""
        if secret_matches(client_secret, self.secret_hash):
            return True
        expires = self.previous_secret_expires_at
        return (
            expires is not None
            and expires > utcnow()
            and secret_matches(client_secret, self.previous_secret_hash)
        )

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        """Authlib: the one registered method, and never for a disabled client."""
        if self.is_disabled:
            return False
        return method == self.token_endpoint_auth_method

    def check_response_type(self, response_type: str) -> bool:
        """Authlib: only `code`, for clients allowed the code grant."""
        return response_type == "code" and "authorization_code" in self.grant_types

    def check_grant_type(self, grant_type: str) -> bool:
        """Authlib: a registered grant type."""
        return grant_type in self.grant_types


CLIENTS = cast(Table, OAuthClient.__table__)
# The cached snapshot is read as Core columns named by its fields (passport.twins).
CLIENT_COLUMNS = columns(RegisteredClient, CLIENTS, pk=CLIENTS.c.id)
LIST_FIELDS = frozenset(
    name for name, f in RegisteredClient.__dataclass_fields__.items() if "tuple" in str(f.type)
)
CLIENT_BY_ID = select(*CLIENT_COLUMNS).where(CLIENTS.c.client_id == bindparam("client_id"))
CLIENT_CACHE = "oidc.clients"
MAX_CACHED_CLIENTS = 10000


def find_client(client_id: str | None) -> RegisteredClient | None:
    """The enabled client with this client_id, cached for CLIENT_CACHE_SECONDS."""
    if not client_id or not isinstance(client_id, str) or len(client_id) > 64:
        return None
    cache: Cache[RegisteredClient] = app_cache(CLIENT_CACHE, MAX_CACHED_CLIENTS)
    hit, client = cache.get(client_id)
    if not hit:
        row = db.session.execute(CLIENT_BY_ID, {"client_id": client_id}).first()
        client = RegisteredClient.from_row(row._mapping) if row is not None else None
        # An unknown client_id is remembered too: a flood of bogus ids costs one query each.
        cache.set(client_id, client, current_app.config["CLIENT_CACHE_SECONDS"])
    if client is None or client.is_disabled:
        return None
    return client


def forget_client(client_id: str) -> None:
    """Drop a client from this process's cache (after a change)."""
    app_cache(CLIENT_CACHE, MAX_CACHED_CLIENTS).discard(client_id)


def outbound_check() -> CallbackCheck:
    """The deployment's outbound policy as a registration check (None = usable)."""
    policy = outbound.current_policy()

    def check(uri: str) -> str | None:
        try:
            outbound.check_url(uri, policy)
        except outbound.OutboundError as refused:
            return str(refused)
        return None

    return check


def validate_metadata(raw: dict[str, Any], *, allow_admin_scopes: bool = True) -> ClientMetadata:
    """Validate metadata with this deployment's API scopes and http policy."""
    config = current_app.config
    return validate_client_metadata(
        raw,
        api_scopes=tuple(config["API_SCOPES"]),
        allow_admin_scopes=allow_admin_scopes,
        allow_any_http=config["ENV"] == "development",
        # The same policy the fetch applies again at connect time (security/outbound.py).
        callback_check=outbound_check(),
        max_access_token_ttl=config["ACCESS_TOKEN_TTL_SECONDS"],
        max_refresh_token_ttl=config["OFFLINE_REFRESH_TOKEN_TTL_SECONDS"],
    )


def create_client(
    metadata: ClientMetadata,
    *,
    registration_token: str | None = None,
    pending_scopes: list[str] | None = None,
    action: Actor | None = None,
) -> tuple[OAuthClient, str | None]:
    """Store a client; return it and its secret (None for public clients); commits.

    ``pending_scopes``: scopes a self-registered client asked for that wait for an admin.
    """
    secret = (
        None
        if metadata.token_endpoint_auth_method in ("none", "private_key_jwt")
        else (new_secret(32))
    )
    row = OAuthClient(
        client_id=new_identifier(),
        secret_hash=hash_secret(secret) if secret else None,
        registration_token_hash=hash_secret(registration_token) if registration_token else None,
        pending_scopes=pending_scopes or None,
    )
    _apply_metadata(row, metadata, trusted=True)
    db.session.add(row)
    db.session.flush()
    (action or Actor()).record(
        "client.registered" if registration_token else "client.created",
        client_id=row.client_id,
        details={
            "name": row.name,
            "auth_method": row.token_endpoint_auth_method,
            "scopes": list(row.scopes),
            **({"pending_scopes": pending_scopes} if pending_scopes else {}),
        },
    )
    db.session.commit()
    return row, secret


def _apply_metadata(row: OAuthClient, metadata: ClientMetadata, *, trusted: bool) -> None:
    """Copy metadata onto a row; ``trusted`` (an admin) also sets what clients may not."""
    row.name = metadata.name
    row.logo_uri = metadata.logo_uri
    row.redirect_uris = metadata.redirect_uris
    row.post_logout_redirect_uris = metadata.post_logout_redirect_uris
    row.backchannel_logout_uri = metadata.backchannel_logout_uri
    row.token_endpoint_auth_method = metadata.token_endpoint_auth_method
    row.grant_types = metadata.grant_types
    row.scopes = metadata.scopes
    row.jwks = metadata.jwks
    row.jwks_uri = metadata.jwks_uri
    row.id_token_signed_response_alg = metadata.id_token_signed_response_alg
    row.require_pushed_authorization_requests = metadata.require_pushed_authorization_requests
    row.fapi2_profile = metadata.fapi2_profile
    row.request_object_signing_alg = metadata.request_object_signing_alg
    row.dpop_bound_access_tokens = metadata.dpop_bound_access_tokens
    if trusted:
        # Admin-only settings: a client's own update (RFC 7592) leaves them as they are.
        row.access_token_format = metadata.access_token_format
        row.description = metadata.description
        row.skip_consent = metadata.skip_consent
        row.is_resource_server = metadata.is_resource_server
        row.access_token_ttl_seconds = metadata.access_token_ttl_seconds
        row.refresh_token_ttl_seconds = metadata.refresh_token_ttl_seconds


def update_client(
    row: OAuthClient,
    metadata: ClientMetadata,
    *,
    trusted: bool = False,
    pending_scopes: list[str] | None = None,
    action: Actor | None = None,
) -> OAuthClient:
    """Replace a client's metadata (RFC 7592 PUT, or ``trusted`` by an admin); commits.

    An admin's edit grants the scopes it lists, so they stop waiting for approval.
    """
    before = set(row.scopes or ())
    _apply_metadata(row, metadata, trusted=trusted)
    if trusted:
        pending = [s for s in row.pending_scopes or () if s not in row.scopes]
    else:
        pending = list(pending_scopes or ())
    row.pending_scopes = pending or None
    added = sorted(set(row.scopes) - before)
    removed = sorted(before - set(row.scopes))
    changes = {"scopes_added": added, "scopes_removed": removed}
    (action or Actor()).record(
        "client.updated", client_id=row.client_id, details={k: v for k, v in changes.items() if v}
    )
    db.session.commit()
    forget_client(row.client_id)
    return row


def get_client_row(client_id: str) -> OAuthClient:
    """The client row, disabled or not; raise UnknownClient."""
    row = db.session.scalar(select(OAuthClient).where(OAuthClient.client_id == client_id))
    if row is None:
        raise UnknownClient(client_id)
    return row


def list_clients() -> list[OAuthClient]:
    """Every client, oldest first."""
    return list(db.session.scalars(select(OAuthClient).order_by(OAuthClient.id)).all())


def rotate_client_secret(
    client_id: str, grace_seconds: int = 0, *, action: Actor | None = None
) -> str:
    """Give a confidential client a new secret (old one valid for grace_seconds); commits."""
    row = get_client_row(client_id)
    if row.token_endpoint_auth_method not in ("client_secret_basic", "client_secret_post"):
        raise ClientHasNoSecret(client_id)
    secret = new_secret(32)
    if grace_seconds > 0 and row.secret_hash:
        row.previous_secret_hash = row.secret_hash
        row.previous_secret_expires_at = utcnow() + timedelta(seconds=grace_seconds)
    else:
        row.previous_secret_hash = None
        row.previous_secret_expires_at = None
    row.secret_hash = hash_secret(secret)
    (action or Actor()).record(
        "client.secret_rotated", client_id=client_id, details={"grace_seconds": grace_seconds}
    )
    db.session.commit()
    forget_client(client_id)
    return secret


def describe_client(row: OAuthClient) -> dict[str, Any]:
    """Public metadata of a client (never secrets or hashes)."""
    return {
        "client_id": row.client_id,
        "client_name": row.name,
        "description": row.description,
        "logo_uri": row.logo_uri,
        "redirect_uris": list(row.redirect_uris or []),
        "post_logout_redirect_uris": list(row.post_logout_redirect_uris or []),
        "backchannel_logout_uri": row.backchannel_logout_uri,
        "token_endpoint_auth_method": row.token_endpoint_auth_method,
        "grant_types": list(row.grant_types or []),
        "scope": " ".join(row.scopes or []),
        "pending_scope": " ".join(row.pending_scopes or []),
        "skip_consent": row.skip_consent,
        "jwks_uri": row.jwks_uri,
        "jwks": row.jwks,
        "id_token_signed_response_alg": row.id_token_signed_response_alg,
        "access_token_format": row.access_token_format,
        "access_token_ttl_seconds": row.access_token_ttl_seconds,
        "refresh_token_ttl_seconds": row.refresh_token_ttl_seconds,
        "is_resource_server": row.is_resource_server,
        "require_pushed_authorization_requests": row.require_pushed_authorization_requests,
        "fapi2_profile": row.fapi2_profile,
        "request_object_signing_alg": row.request_object_signing_alg,
        "dpop_bound_access_tokens": row.dpop_bound_access_tokens,
        "is_disabled": row.is_disabled,
        "created_at": row.created_at.isoformat(),
    }
