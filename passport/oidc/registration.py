"""Dynamic Client Registration (RFC 7591) and its management protocol (RFC 7592).

Open registration is off: every registration needs an initial access token created by an
administrator (`passport clients initial-token`), limited in time and number of uses. The
metadata goes through the same validator as the CLI; dynamic clients can never skip consent or
act as resource servers.

Not Authlib's ClientRegistrationEndpoint/ClientConfigurationEndpoint: they answer a missing or
bad access token with 403 ``access_denied``, where RFC 7591 §3 and RFC 7592 §2 use RFC 6750
§3.1 (401 ``invalid_token``), and they have no place for scopes held for an admin's approval.
"""

from __future__ import annotations

from datetime import datetime
from datetime import timedelta
from typing import Any

from flask import current_app
from sqlalchemy import select
from sqlalchemy import update

from passport.audit.services import Actor
from passport.database import utcnow
from passport.extensions import db
from passport.oidc.client_validation import BASELINE_SCOPES
from passport.oidc.client_validation import ClientMetadata
from passport.oidc.clients import create_client
from passport.oidc.clients import forget_client
from passport.oidc.clients import update_client
from passport.oidc.clients import validate_metadata
from passport.oidc.errors import InvalidClientMetadata
from passport.oidc.models import InitialAccessToken
from passport.oidc.models import OAuthClient
from passport.oidc.revocation import client_deleted
from passport.oidc.tokens import hash_secret
from passport.oidc.tokens import new_secret
from passport.oidc.tokens import secret_matches

MAX_METADATA_BYTES = 64 * 1024


class RegistrationDenied(Exception):  # noqa: N818 - STYLE.md naming
    """Missing or invalid initial / registration access token (RFC 6750 invalid_token)."""


def create_initial_access_token(
    expires_in_seconds: int,
    max_uses: int,
    *,
    label: str | None = None,
    action: Actor | None = None,
) -> tuple[str, datetime]:
    """A new initial access token (shown once, stored hashed); commits."""
    token = new_secret(32)
    expires_at = utcnow() + timedelta(seconds=expires_in_seconds)
    row = InitialAccessToken(
        token_hash=hash_secret(token),
        expires_at=expires_at,
        max_uses=max_uses,
        label=(label or "").strip()[:120] or None,
    )
    db.session.add(row)
    db.session.flush()
    (action or Actor()).record(
        "client.initial_token_created",
        details={"token_id": row.id, "expires_at": expires_at.isoformat(), "max_uses": max_uses},
    )
    db.session.commit()
    return token, expires_at


def consume_initial_access_token(token: str | None) -> None:
    """Count one use of an initial access token (conditional UPDATE); RegistrationDenied."""
    if not token or len(token) > 200:
        raise RegistrationDenied()
    now = utcnow()
    result = db.session.execute(
        update(InitialAccessToken)
        .where(
            InitialAccessToken.token_hash == hash_secret(token),
            InitialAccessToken.revoked_at.is_(None),
            (InitialAccessToken.expires_at.is_(None)) | (InitialAccessToken.expires_at > now),
            (InitialAccessToken.max_uses.is_(None))
            | (InitialAccessToken.uses < InitialAccessToken.max_uses),
        )
        .values(uses=InitialAccessToken.uses + 1)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        db.session.rollback()
        raise RegistrationDenied()


# Protections a client may switch on for itself and only an administrator may switch off.
ONE_WAY_FLAGS = (
    "fapi2_profile",
    "require_pushed_authorization_requests",
    "dpop_bound_access_tokens",
)


def metadata_from_request(body: Any, current: OAuthClient | None = None) -> ClientMetadata:
    """Map RFC 7591 field names onto the shared validator.

    ``current``: the client an RFC 7592 update replaces. Its protections (ONE_WAY_FLAGS) stay on
    whatever the body says (switching them off is an admin's edit, console or CLI), and the
    body is validated with them on (a FAPI 2.0 client's update is checked as one).
    """
    if not isinstance(body, dict):
        raise InvalidClientMetadata("body", "must be a JSON object")
    response_types = body.get("response_types")
    if response_types is not None and response_types != ["code"]:
        raise InvalidClientMetadata("response_types", 'only ["code"] is supported')
    scope = body.get("scope")
    if scope is not None and not isinstance(scope, str):
        raise InvalidClientMetadata("scope", "must be a space-separated string")
    raw = {
        "name": body.get("client_name") or "Aplicación registrada",
        "logo_uri": body.get("logo_uri"),
        "redirect_uris": body.get("redirect_uris"),
        "post_logout_redirect_uris": body.get("post_logout_redirect_uris"),
        "backchannel_logout_uri": body.get("backchannel_logout_uri"),
        "token_endpoint_auth_method": body.get("token_endpoint_auth_method"),
        "grant_types": body.get("grant_types"),
        "scopes": scope.split() if scope else ["openid"],
        "jwks": body.get("jwks"),
        "jwks_uri": body.get("jwks_uri"),
        "id_token_signed_response_alg": body.get("id_token_signed_response_alg"),
        # RFC 9126 §6, RFC 9101 §10.5 / OIDC Registration §2, Passport's FAPI 2.0 profile.
        "require_pushed_authorization_requests": body.get("require_pushed_authorization_requests"),
        "fapi2_profile": body.get("fapi2_profile"),
        "request_object_signing_alg": body.get("request_object_signing_alg"),
        "dpop_bound_access_tokens": body.get("dpop_bound_access_tokens"),
        **kept_protections(body, current),
        # Never from the outside: first-party trust and resource-server reach are admin choices.
        "skip_consent": False,
        "is_resource_server": False,
    }
    # Admin API scopes are an administrator's grant, never self-service (RFC 7591 §2).
    return validate_metadata(raw, allow_admin_scopes=False)


def kept_protections(body: dict[str, Any], current: OAuthClient | None) -> dict[str, Any]:
    """The ONE_WAY_FLAGS ``current`` has on, on, unless the body sends a non-boolean (which
    the validator refuses)."""
    if current is None:
        return {}
    return {
        name: True
        for name in ONE_WAY_FLAGS
        if getattr(current, name) and (body.get(name) is None or isinstance(body.get(name), bool))
    }


def registration_response(
    row: OAuthClient, secret: str | None, token: str | None
) -> dict[str, Any]:
    """The client information response (RFC 7591 §3.2.1, RFC 7592 §3)."""
    issuer = current_app.config["ISSUER"]
    body: dict[str, Any] = {
        "client_id": row.client_id,
        "client_id_issued_at": int(row.created_at.timestamp()),
        "client_name": row.name,
        "redirect_uris": list(row.redirect_uris),
        "post_logout_redirect_uris": list(row.post_logout_redirect_uris),
        "token_endpoint_auth_method": row.token_endpoint_auth_method,
        "grant_types": list(row.grant_types),
        "response_types": ["code"] if "authorization_code" in row.grant_types else [],
        # The granted scope only: what waits for approval is not promised (RFC 7591 §3.2.1).
        "scope": " ".join(row.scopes),
        "id_token_signed_response_alg": row.id_token_signed_response_alg,
        "registration_client_uri": f"{issuer}/register/{row.client_id}",
        "require_pushed_authorization_requests": row.require_pushed_authorization_requests,
        "fapi2_profile": row.fapi2_profile,
        "dpop_bound_access_tokens": row.dpop_bound_access_tokens,
    }
    if row.request_object_signing_alg:
        body["request_object_signing_alg"] = row.request_object_signing_alg
    if row.backchannel_logout_uri:
        body["backchannel_logout_uri"] = row.backchannel_logout_uri
        body["backchannel_logout_session_required"] = True
    if row.logo_uri:
        body["logo_uri"] = row.logo_uri
    if row.jwks is not None:
        body["jwks"] = row.jwks
    if row.jwks_uri:
        body["jwks_uri"] = row.jwks_uri
    if secret is not None:
        body["client_secret"] = secret
        body["client_secret_expires_at"] = 0
    if token is not None:
        body["registration_access_token"] = token
    return body


def govern_scopes(requested: list[str], granted: list[str]) -> tuple[list[str], list[str]]:
    """Split requested scopes into those granted now and those waiting for an admin.

    Granted: the baseline and whatever an admin already approved (``granted``).
    """
    allowed = set(BASELINE_SCOPES) | set(granted)
    return [s for s in requested if s in allowed], [s for s in requested if s not in allowed]


def register_client(initial_token: str | None, body: Any) -> dict[str, Any]:
    """RFC 7591 §3: validate, store and describe a new client; commits."""
    metadata = metadata_from_request(body)
    consume_initial_access_token(initial_token)
    registration_token = new_secret(32)
    metadata.scopes, pending = govern_scopes(metadata.scopes, [])
    row, secret = create_client(
        metadata, registration_token=registration_token, pending_scopes=pending
    )
    return registration_response(row, secret, registration_token)


def managed_client(client_id: str, token: str | None) -> OAuthClient:
    """The client a registration access token manages (RFC 7592 §2); RegistrationDenied."""
    row = db.session.scalar(select(OAuthClient).where(OAuthClient.client_id == client_id))
    if row is None or not token or not secret_matches(token, row.registration_token_hash):
        raise RegistrationDenied()
    return row


def read_client(client_id: str, token: str | None) -> dict[str, Any]:
    """RFC 7592 §2.1."""
    return registration_response(managed_client(client_id, token), None, None)


def replace_client(client_id: str, token: str | None, body: Any) -> dict[str, Any]:
    """RFC 7592 §2.2: the body replaces the metadata; the auth method cannot change, nor the
    admin-only settings (clients._apply_metadata), and protections stay on (ONE_WAY_FLAGS)."""
    row = managed_client(client_id, token)
    if isinstance(body, dict) and body.get("client_id") not in (None, client_id):
        raise InvalidClientMetadata("client_id", "does not match")
    metadata = metadata_from_request(body, current=row)
    if metadata.token_endpoint_auth_method != row.token_endpoint_auth_method:
        raise InvalidClientMetadata("token_endpoint_auth_method", "cannot be changed")
    metadata.scopes, pending = govern_scopes(metadata.scopes, list(row.scopes or ()))
    update_client(row, metadata, pending_scopes=pending)
    return registration_response(row, None, None)


def delete_client(client_id: str, token: str | None) -> None:
    """RFC 7592 §2.3: deregister (disable, keeping the audit trail); commits.

    Its tokens, codes and consents go with it (passport.oidc.revocation.client_deleted).
    """
    row = managed_client(client_id, token)
    row.is_disabled = True
    row.registration_token_hash = None
    revoked = client_deleted(row.id)
    Actor().record("client.deleted", client_id=client_id, details={"tokens_revoked": revoked})
    db.session.commit()
    forget_client(client_id)
