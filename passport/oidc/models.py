"""Tables of the OpenID Provider: clients, codes, tokens, consents, keys and logout deliveries.

Secrets (client secrets, codes, tokens, registration tokens) are stored as SHA-256 hex digests
only: they are random 256-bit values, so a fast hash is enough (no dictionary to attack).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from typing import Protocol

from sqlalchemy import JSON
from sqlalchemy import ForeignKey
from sqlalchemy import Index
from sqlalchemy import String
from sqlalchemy import Text
from sqlalchemy import UniqueConstraint
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column
from sqlalchemy.orm import synonym

from passport.database import Base
from passport.database import utcnow
from passport.outbox import OutboxMixin


class AuthMethodHolder(Protocol):
    """A client row or its cached snapshot (passport.oidc.clients.RegisteredClient)."""

    @property
    def token_endpoint_auth_method(self) -> str: ...


def is_public(client: AuthMethodHolder) -> bool:
    """A client without credentials (RFC 6749 §2.1): PKCE is its only proof."""
    return client.token_endpoint_auth_method == "none"  # noqa: S105


class OAuthClient(Base):
    """A relying party (ministry app) or a back-end service."""

    __tablename__ = "oauth_clients"

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    # Shown to people on the consent page and to admins in the console.
    description: Mapped[str | None] = mapped_column(String(500))
    logo_uri: Mapped[str | None] = mapped_column(String(2000))
    secret_hash: Mapped[str | None] = mapped_column(String(64))
    # After `clients rotate-secret --grace-seconds N` the old secret keeps working until then.
    previous_secret_hash: Mapped[str | None] = mapped_column(String(64))
    previous_secret_expires_at: Mapped[datetime | None]
    redirect_uris: Mapped[list[str]] = mapped_column(JSON, default=list)
    post_logout_redirect_uris: Mapped[list[str]] = mapped_column(JSON, default=list)
    backchannel_logout_uri: Mapped[str | None] = mapped_column(String(2000))
    token_endpoint_auth_method: Mapped[str] = mapped_column(String(32))
    grant_types: Mapped[list[str]] = mapped_column(JSON, default=list)
    scopes: Mapped[list[str]] = mapped_column(JSON, default=list)
    # Governed onboarding: scopes a self-registered client asked for beyond the baseline,
    # not granted (not in ``scopes``) until an administrator approves them.
    pending_scopes: Mapped[list[str] | None] = mapped_column(JSON)
    skip_consent: Mapped[bool] = mapped_column(default=False)
    jwks: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    jwks_uri: Mapped[str | None] = mapped_column(String(2000))
    id_token_signed_response_alg: Mapped[str] = mapped_column(String(10), default="RS256")
    access_token_format: Mapped[str] = mapped_column(String(10), default="opaque")
    access_token_ttl_seconds: Mapped[int | None]
    refresh_token_ttl_seconds: Mapped[int | None]
    # A resource server may introspect (and revoke) tokens issued to any client.
    is_resource_server: Mapped[bool] = mapped_column(default=False)
    # RFC 9449 §5.2: every token request of this client must carry a DPoP proof.
    dpop_bound_access_tokens: Mapped[bool] = mapped_column(default=False)
    is_disabled: Mapped[bool] = mapped_column(default=False)
    # RFC 9126 §6: /authorize only through a pushed request (request_uri from /par).
    require_pushed_authorization_requests: Mapped[bool] = mapped_column(default=False)
    # FAPI 2.0 Security Profile: PAR, PKCE S256, private_key_jwt, codes of at most 60 s
    # (passport.oidc.client_validation.fapi2_requirements, passport.oidc.authorization).
    fapi2_profile: Mapped[bool] = mapped_column(default=False)
    # RFC 9101 / OIDC Registration: the one alg its request objects must use (None: any allowed).
    request_object_signing_alg: Mapped[str | None] = mapped_column(String(10))
    # RFC 7592: hash of the registration access token of a dynamically registered client.
    registration_token_hash: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    @property
    def is_public(self) -> bool:
        """A client without credentials (RFC 6749 §2.1): PKCE is its only proof."""
        return is_public(self)

    def __repr__(self) -> str:
        return f"<OAuthClient {self.client_id}>"


class AuthorizationCode(Base):
    """An issued authorization code, bound to everything the token request must match."""

    __tablename__ = "oauth_authorization_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    client_pk: Mapped[int] = mapped_column(ForeignKey("oauth_clients.id", ondelete="CASCADE"))
    # Indexed: a logout voids its session's codes, a reset or "Revocar acceso" a person's.
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    sid: Mapped[str | None] = mapped_column(String(64), index=True)
    redirect_uri: Mapped[str] = mapped_column(String(2000))
    scope: Mapped[str] = mapped_column(String(1000))
    nonce: Mapped[str | None] = mapped_column(String(512))
    code_challenge: Mapped[str | None] = mapped_column(String(128))
    # RFC 9449 §10: the DPoP key (JWK thumbprint) that alone may redeem the code.
    dpop_jkt: Mapped[str | None] = mapped_column(String(64))
    # The `claims` request parameter (OIDC Core §5.5), kept for the ID token and userinfo.
    claims: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # RFC 8707: the resource identifiers the code was authorized for (None: no `resource`).
    resources: Mapped[list[str] | None] = mapped_column(JSON)
    auth_time: Mapped[datetime]
    amr: Mapped[list[str] | None] = mapped_column(JSON)
    acr: Mapped[str | None] = mapped_column(String(64))
    expires_at: Mapped[datetime] = mapped_column(index=True)  # the purge
    used_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    # Authlib's AuthorizationCodeMixin.
    def get_redirect_uri(self) -> str:
        """Authlib: the redirect_uri the code is bound to."""
        return self.redirect_uri

    def get_scope(self) -> str:
        """Authlib: the granted scope."""
        return self.scope


class OAuthToken(Base):
    """An access token and, optionally, its refresh token (one row per issuance)."""

    __tablename__ = "oauth_tokens"
    __table_args__ = (
        Index("ix_oauth_tokens_sid", "sid"),
        # The purge: a row is dead after its refresh expiry, or its access expiry when it
        # has no refresh token (both ranges of this one index).
        Index("ix_oauth_tokens_dead_after", "refresh_expires_at", "access_expires_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    client_pk: Mapped[int] = mapped_column(ForeignKey("oauth_clients.id", ondelete="CASCADE"))
    # Indexed: Mi cuenta lists a person's live grants; a reset revokes them all.
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    access_token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    refresh_token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    scope: Mapped[str] = mapped_column(String(1000))
    claims: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # RFC 8707: the grant's resources (what a refresh may ask for), the access token's
    # audience among them, and the access token's scopes narrowed to what that audience
    # accepts (None, None, None: a token without `resource`, for the client itself).
    resources: Mapped[list[str] | None] = mapped_column(JSON)
    audience: Mapped[list[str] | None] = mapped_column(JSON)
    access_scope: Mapped[str | None] = mapped_column(String(1000))
    # Every token descended from one authorization code shares a family (reuse detection).
    family_id: Mapped[str] = mapped_column(String(32), index=True)
    parent_id: Mapped[int | None]
    authorization_code_id: Mapped[int | None] = mapped_column(index=True)
    sid: Mapped[str | None] = mapped_column(String(64))
    is_offline: Mapped[bool] = mapped_column(default=False)
    auth_time: Mapped[datetime | None]
    access_expires_at: Mapped[datetime]
    refresh_expires_at: Mapped[datetime | None]
    # Set when the refresh token is exchanged; presenting it again means theft (RFC 9700).
    refresh_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
    # RFC 9449: the JWK SHA-256 thumbprint (RFC 7638) of the DPoP key the access token is
    # bound to (and, for a public client, its refresh token); None for a Bearer token.
    jkt: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    def get_scope(self) -> str:
        """Authlib's TokenMixin: the granted scope."""
        return self.scope


class Consent(Base):
    """The scopes a person allowed a client; asked again when a request asks for more."""

    __tablename__ = "oauth_consents"
    __table_args__ = (UniqueConstraint("user_id", "client_pk"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    client_pk: Mapped[int] = mapped_column(ForeignKey("oauth_clients.id", ondelete="CASCADE"))
    scopes: Mapped[list[str]] = mapped_column(JSON, default=list)
    # User claims allowed one by one through the `claims` parameter (OIDC Core §5.5), beyond
    # what the scopes above release.
    claims: Mapped[list[str] | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Resource(Base):
    """A resource server's API (RFC 8707): tokens may be narrowed to it with `resource`."""

    __tablename__ = "resources"

    id: Mapped[int] = mapped_column(primary_key=True)
    # An absolute URI without fragment or query, matched exactly (RFC 8707 §2).
    identifier: Mapped[str] = mapped_column(String(512), unique=True)
    name: Mapped[str | None] = mapped_column(String(120))
    # The scopes this API accepts: a token for it carries no other.
    scopes: Mapped[list[str]] = mapped_column(JSON, default=list)
    access_token_format: Mapped[str] = mapped_column(String(10), default="opaque")
    # The resource server (a client with is_resource_server) that introspects its tokens.
    client_pk: Mapped[int | None] = mapped_column(
        ForeignKey("oauth_clients.id", ondelete="SET NULL")
    )
    is_disabled: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class SigningKey(Base):
    """A signing key: published as "next", signs while "active", published while "retired"."""

    __tablename__ = "oauth_signing_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    kid: Mapped[str] = mapped_column(String(64), unique=True)
    alg: Mapped[str] = mapped_column(String(10))
    state: Mapped[str] = mapped_column(String(10))  # next | active | retired
    private_key_encrypted: Mapped[str] = mapped_column(Text)
    public_jwk: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    activates_at: Mapped[datetime]
    retired_at: Mapped[datetime | None]
    # Retired keys stay in the JWKS until every token they signed has expired.
    publish_until: Mapped[datetime | None]


class ClientAssertionJti(Base):
    """A `jti` of a private_key_jwt assertion already seen (RFC 7523 §3 replay check)."""

    __tablename__ = "oauth_client_assertion_jtis"
    __table_args__ = (UniqueConstraint("client_id", "jti"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[str] = mapped_column(String(64))
    jti: Mapped[str] = mapped_column(String(255))
    expires_at: Mapped[datetime] = mapped_column(index=True)


class DPoPProofJti(Base):
    """A DPoP proof already seen (RFC 9449 §11.1): SHA-256 of its key thumbprint and `jti`."""

    __tablename__ = "oauth_dpop_proof_jtis"

    id: Mapped[int] = mapped_column(primary_key=True)
    jti_hash: Mapped[str] = mapped_column(String(64), unique=True)
    expires_at: Mapped[datetime] = mapped_column(index=True)


class PendingAuthorization(Base):
    """An authorization request waiting for the person to sign in (login resumes it)."""

    __tablename__ = "oauth_pending_authorizations"

    id: Mapped[int] = mapped_column(primary_key=True)
    authz_id: Mapped[str] = mapped_column(String(64), unique=True)
    client_pk: Mapped[int] = mapped_column(ForeignKey("oauth_clients.id", ondelete="CASCADE"))
    # Strings, and `resource` as a list (RFC 8707 allows it to repeat).
    params: Mapped[dict[str, Any]] = mapped_column(JSON)
    # A session whose auth_time is older than this does not satisfy prompt=login / max_age.
    requires_auth_after: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(index=True)


class PushedAuthorization(Base):
    """An authorization request pushed to /par (RFC 9126), redeemed once at /authorize.

    Only the hash of its request_uri is stored; /authorize deletes the row as it reads it
    (DELETE … RETURNING), so two browsers or two instances cannot both use it.
    """

    __tablename__ = "oauth_pushed_authorizations"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_uri_hash: Mapped[str] = mapped_column(String(64), unique=True)
    client_pk: Mapped[int] = mapped_column(ForeignKey("oauth_clients.id", ondelete="CASCADE"))
    params: Mapped[dict[str, str]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(index=True)  # the purge


class BackchannelDelivery(OutboxMixin, Base):
    """A logout token to POST to a client (Back-Channel Logout 1.0 §2.5), through
    passport/outbox.py; the token is signed afresh at each attempt (it lives
    LOGOUT_TOKEN_TTL_SECONDS), so the row holds no token."""

    __tablename__ = "oauth_backchannel_deliveries"
    client_pk: Mapped[int] = mapped_column(ForeignKey("oauth_clients.id", ondelete="CASCADE"))
    uri: Mapped[str] = mapped_column(String(2000))
    sub: Mapped[str | None] = mapped_column(String(64))
    sid: Mapped[str | None] = mapped_column(String(64))
    # The outbox's ``sent_at`` under the name of Back-Channel Logout.
    delivered_at: Mapped[datetime | None] = synonym("sent_at")


class InitialAccessToken(Base):
    """An admin-issued token that allows dynamic client registration (RFC 7591 §3)."""

    __tablename__ = "oauth_initial_access_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    expires_at: Mapped[datetime | None] = mapped_column(index=True)
    max_uses: Mapped[int | None]
    uses: Mapped[int] = mapped_column(default=0)
    # What the token is for (admin's note) and when an admin withdrew it.
    label: Mapped[str | None] = mapped_column(String(120))
    revoked_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
