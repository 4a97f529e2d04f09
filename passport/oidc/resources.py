"""Resource indicators (RFC 8707): the registered APIs, and narrowing a token's audience to them.

A resource is an API (a resource server) registered with its identifier (an absolute URI,
no fragment, no query, matched exactly), the scopes it accepts and the format of the access
tokens made for it. Passport's own userinfo is the one implicit resource: its identifier is
the issuer and it accepts the OpenID scopes (``openid profile email phone address dni``).

At /authorize a client may name registered resources with ``resource`` (repeatable); each
must accept at least one of the request's scopes (which are already limited to the client's
registered scopes): any registered, enabled resource, no per-client list. At /token (code and
refresh grants) ``resource`` narrows to a subset of what was authorized (§2.2); without it
the access token is for every authorized resource; the client-credentials grant names its
audience directly, checked as at /authorize. The access token's audience (``aud`` of a
JWT access token and of introspection) is then the resource identifiers, its scopes only
those its audience accepts, and its format JWT when any resource of the audience asks for it
(a JWT can be introspected too). A request without ``resource`` is unchanged: the audience is
the client, the scopes are the grant's.

Introspection: a token with an audience is active for its own client and for the resource
servers (``is_resource_server`` clients) linked to a resource of that audience, no other.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from typing import cast
from urllib.parse import urlsplit

from authlib.oauth2.rfc6749 import OAuth2Error
from flask import current_app
from sqlalchemy import Table
from sqlalchemy import select

from passport.audit.services import Actor
from passport.caches import Cache
from passport.caches import app_cache
from passport.extensions import db
from passport.oidc.client_validation import ACCESS_TOKEN_FORMATS
from passport.oidc.client_validation import OIDC_SCOPES
from passport.oidc.client_validation import check_uri
from passport.oidc.errors import InvalidClientMetadata
from passport.oidc.errors import InvalidResource
from passport.oidc.errors import UnknownClient
from passport.oidc.errors import UnknownResource
from passport.oidc.models import OAuthClient
from passport.oidc.models import Resource

MAX_IDENTIFIER_LENGTH = 512
MAX_RESOURCES_PER_REQUEST = 10
MAX_RESOURCE_SCOPES = 20
# RFC 6749 §3.3 scope-token.
SCOPE_TOKEN = re.compile(r"^[\x21\x23-\x5b\x5d-\x7e]{1,100}$")
# Passport's userinfo as a resource: the OpenID scopes, never offline_access (a grant's).
USERINFO_SCOPES = tuple(scope for scope in OIDC_SCOPES if scope != "offline_access")
REGISTRY_CACHE = "oidc.resources"


class InvalidTargetError(OAuth2Error):  # type: ignore[misc]
    """RFC 8707 §2: the requested resource is invalid, unknown or does not fit the request."""

    error = "invalid_target"
    status_code = 400


@dataclass(frozen=True)
class RegisteredResource:
    """An enabled resource as the protocol endpoints see it (cached, immutable)."""

    identifier: str
    scopes: tuple[str, ...]
    access_token_format: str
    client_pk: int | None


# --- The registry, cached ---------------------------------------------------------------

RESOURCES = cast(Table, Resource.__table__)
ENABLED_RESOURCES = select(
    RESOURCES.c.identifier,
    RESOURCES.c.scopes,
    RESOURCES.c.access_token_format,
    RESOURCES.c.client_pk,
).where(RESOURCES.c.is_disabled.is_(False))


def registry() -> dict[str, RegisteredResource]:
    """Every enabled resource by identifier, cached for CLIENT_CACHE_SECONDS (one query)."""
    cache: Cache[dict[str, RegisteredResource]] = app_cache(REGISTRY_CACHE, 1)
    hit, found = cache.get("all")
    if hit and found is not None:
        return found
    found = {
        row.identifier: RegisteredResource(
            row.identifier, tuple(row.scopes or ()), row.access_token_format, row.client_pk
        )
        for row in db.session.execute(ENABLED_RESOURCES)
    }
    cache.set("all", found, current_app.config["CLIENT_CACHE_SECONDS"])
    return found


def forget_registry() -> None:
    """Drop this process's cached registry (after a change)."""
    app_cache(REGISTRY_CACHE, 1).discard("all")


def issuer_resource() -> RegisteredResource:
    """Passport's own userinfo, named by the issuer identifier."""
    return RegisteredResource(current_app.config["ISSUER"], USERINFO_SCOPES, "opaque", None)


def find_resource(identifier: str) -> RegisteredResource | None:
    """The enabled resource (or Passport itself) with exactly this identifier."""
    if identifier == current_app.config["ISSUER"]:
        return issuer_resource()
    return registry().get(identifier)


# --- Requests ---------------------------------------------------------------------------


def requested_resources(values: Iterable[Any]) -> list[str]:
    """The `resource` values of a request, once each; InvalidTargetError when malformed.

    RFC 8707 §2: an absolute URI without a fragment.
    """
    result: list[str] = []
    for value in values:
        if not isinstance(value, str) or not value or len(value) > MAX_IDENTIFIER_LENGTH:
            raise InvalidTargetError("Invalid resource.")
        if any(ch.isspace() or ord(ch) < 0x20 for ch in value) or "#" in value:
            raise InvalidTargetError("A resource must be an absolute URI without a fragment.")
        try:
            parts = urlsplit(value)
        except ValueError:
            raise InvalidTargetError("Invalid resource.") from None
        if not parts.scheme or not (parts.netloc or parts.path):
            raise InvalidTargetError("A resource must be an absolute URI.")
        if value not in result:
            result.append(value)
    if len(result) > MAX_RESOURCES_PER_REQUEST:
        raise InvalidTargetError("Too many resources.")
    return result


def authorize_resources(identifiers: list[str], scopes: Iterable[str]) -> list[str]:
    """Check requested resources against the registry and the request's scopes (granted to
    the client already); InvalidTargetError for an unknown one or one no scope fits."""
    wanted = set(scopes)
    for identifier in identifiers:
        resource = find_resource(identifier)
        if resource is None:
            raise InvalidTargetError("Unknown resource.")
        if not wanted & set(resource.scopes):
            raise InvalidTargetError("The requested scopes do not fit this resource.")
    return identifiers


def narrow_audience(requested: list[str], authorized: list[str]) -> list[str]:
    """The token request's resources, each one of the authorized ones (RFC 8707 §2.2);
    all of them when none is asked for."""
    if not requested:
        return list(authorized)
    if any(identifier not in authorized for identifier in requested):
        raise InvalidTargetError("The resource was not part of the authorization.")
    return requested


@dataclass(frozen=True)
class Audience:
    """What an access token for some resources carries: who, which scopes, which format."""

    identifiers: list[str]
    scopes: list[str]
    access_token_format: str | None  # None: the client's format


def audience_for(identifiers: list[str], scopes: list[str]) -> Audience:
    """The access token's scopes (those its resources accept) and format;
    InvalidTargetError when a resource is gone or nothing of the grant fits it."""
    accepted: set[str] = set()
    wants_jwt = False
    for identifier in identifiers:
        resource = find_resource(identifier)
        if resource is None:
            raise InvalidTargetError("Unknown resource.")
        if not set(scopes) & set(resource.scopes):
            raise InvalidTargetError("The granted scopes do not fit this resource.")
        accepted.update(resource.scopes)
        wants_jwt = wants_jwt or resource.access_token_format == "jwt"  # noqa: S105
    narrowed = [scope for scope in scopes if scope in accepted]
    return Audience(identifiers, narrowed, "jwt" if wants_jwt else None)


def serves_audience(client_pk: int, audience: Iterable[str]) -> bool:
    """Whether this client is the resource server of one of these resources."""
    resources = registry()
    return any(
        (found := resources.get(identifier)) is not None and found.client_pk == client_pk
        for identifier in audience
    )


# --- Administration (CLI and console) ---------------------------------------------------


@dataclass(frozen=True)
class ResourceInput:
    """What an administrator gives for a resource (validated by ``validate_resource``)."""

    identifier: str
    scopes: list[str]
    access_token_format: str = "opaque"  # noqa: S105
    name: str | None = None
    client_id: str | None = None  # the resource server that introspects its tokens


def validate_identifier(value: Any) -> str:
    """An absolute https URI (http on loopback, or anywhere in development), no fragment,
    no query, no credentials, at most 512 characters (RFC 8707 §2)."""
    if not isinstance(value, str) or not value or len(value) > MAX_IDENTIFIER_LENGTH:
        raise InvalidResource("identifier", "must be a URI of at most 512 characters")
    try:
        check_uri("identifier", value, allow_any_http=current_app.config["ENV"] == "development")
    except InvalidClientMetadata as error:
        raise InvalidResource("identifier", error.reason) from None
    if "?" in value:
        raise InvalidResource("identifier", "must not contain a query")
    if value == current_app.config["ISSUER"]:
        raise InvalidResource("identifier", "is Passport's own identifier")
    return value


def validate_scopes(value: Any) -> list[str]:
    """Distinct API scopes of this deployment (PASSPORT_API_SCOPES): what clients may hold."""
    if not isinstance(value, list) or not value or len(value) > MAX_RESOURCE_SCOPES:
        raise InvalidResource("scopes", f"give 1 to {MAX_RESOURCE_SCOPES} scopes")
    allowed = tuple(current_app.config["API_SCOPES"])
    result: list[str] = []
    for scope in value:
        if not isinstance(scope, str) or not SCOPE_TOKEN.match(scope):
            raise InvalidResource("scopes", "a scope is not a valid scope token")
        if scope not in allowed:
            raise InvalidResource("scopes", f"{scope!r} is not one of {' '.join(allowed)}")
        if scope not in result:
            result.append(scope)
    return result


def _resource_server(client_id: str | None) -> int | None:
    if not client_id:
        return None
    row = db.session.scalar(select(OAuthClient).where(OAuthClient.client_id == client_id))
    if row is None:
        raise UnknownClient(client_id)
    if not row.is_resource_server:
        raise InvalidResource("client_id", "the client is not a resource server")
    return row.id


def _apply(row: Resource, data: ResourceInput) -> None:
    if data.access_token_format not in ACCESS_TOKEN_FORMATS:
        raise InvalidResource("access_token_format", "must be opaque or jwt")
    name = (data.name or "").strip() or None
    if name is not None and (len(name) > 120 or any(ord(ch) < 0x20 for ch in name)):
        raise InvalidResource("name", "must be 1 to 120 printable characters")
    row.scopes = validate_scopes(data.scopes)
    row.access_token_format = data.access_token_format
    row.name = name
    row.client_pk = _resource_server(data.client_id)


def create_resource(data: ResourceInput, *, action: Actor | None = None) -> Resource:
    """Register a resource; InvalidResource or UnknownClient when refused; commits."""
    identifier = validate_identifier(data.identifier)
    if db.session.scalar(select(Resource.id).where(Resource.identifier == identifier)):
        raise InvalidResource("identifier", "is already registered")
    row = Resource(identifier=identifier, is_disabled=False)
    _apply(row, data)
    db.session.add(row)
    db.session.flush()
    (action or Actor()).record("resource.created", details=_audit_details(row))
    db.session.commit()
    forget_registry()
    return row


def update_resource(row: Resource, data: ResourceInput, *, action: Actor | None = None) -> None:
    """Change a resource's scopes, format, name or resource server (not its identifier)."""
    _apply(row, data)
    (action or Actor()).record("resource.updated", details=_audit_details(row))
    db.session.commit()
    forget_registry()


def set_resource_disabled(row: Resource, disabled: bool, *, action: Actor | None = None) -> None:
    """Disable (no new token names it; its tokens stop introspecting) or enable; commits."""
    row.is_disabled = disabled
    (action or Actor()).record(
        "resource.disabled" if disabled else "resource.enabled",
        details={"identifier": row.identifier},
    )
    db.session.commit()
    forget_registry()


def _audit_details(row: Resource) -> dict[str, Any]:
    return {
        "identifier": row.identifier,
        "scopes": list(row.scopes),
        "access_token_format": row.access_token_format,
    }


def get_resource(resource_id: int) -> Resource:
    """The resource row by id, disabled or not; UnknownResource."""
    row = db.session.get(Resource, resource_id)
    if row is None:
        raise UnknownResource(str(resource_id))
    return row


def list_resources() -> list[Resource]:
    """Every resource, oldest first."""
    return list(db.session.scalars(select(Resource).order_by(Resource.id)))


def describe_resource(row: Resource) -> dict[str, Any]:
    """A resource's registration as JSON (CLI)."""
    client_id = (
        db.session.scalar(select(OAuthClient.client_id).where(OAuthClient.id == row.client_pk))
        if row.client_pk is not None
        else None
    )
    return {
        "id": row.id,
        "identifier": row.identifier,
        "name": row.name,
        "scope": " ".join(row.scopes or []),
        "access_token_format": row.access_token_format,
        "client_id": client_id,
        "is_disabled": row.is_disabled,
        "created_at": row.created_at.isoformat(),
    }
