"""Signed request objects (RFC 9101, OIDC Core §6.1), by value at /authorize or inside /par.

Authlib's JAR extension (``rfc9101.JWTAuthenticationRequest``) decodes the object with the
client's registered keys (``client_keys.client_public_keys``: jwks, or jwks_uri through the
outbound rule), refuses an unsigned object or an alg outside the list, and checks the
``client_id`` claim and that no ``request``/``request_uri`` is nested. It leaves the claims
RFC 9101 §10.2 and FAPI 2.0 ask an authorization server to check to the application; they are
checked here: ``iss`` = client_id, ``aud`` = the issuer, ``exp`` required and at most an hour
ahead (and at most an hour after ``nbf``), ``nbf`` not in the future, a ``jti`` seen once
(the private_key_jwt replay table, ``server.record_assertion_jti``).

Only the object's parameters are used (RFC 9101 §6.3): the caller keeps nothing from outside
it but ``client_id``.
"""

from __future__ import annotations

import json
from datetime import UTC
from datetime import datetime
from types import SimpleNamespace
from typing import Any

from authlib.oauth2.base import OAuth2Error
from authlib.oauth2.rfc6749.requests import BasicOAuth2Payload
from authlib.oauth2.rfc9101 import JWTAuthenticationRequest
from flask import current_app
from joserfc import jwk
from joserfc import jwt

from passport.database import utcnow
from passport.oidc.client_keys import client_public_keys
from passport.oidc.client_validation import REQUEST_OBJECT_ALGS
from passport.oidc.client_validation import client_signing_algs
from passport.oidc.clients import RegisteredClient
from passport.oidc.clients import find_client

# FAPI 2.0 Message Signing §5.3.1 / Security Profile: an object lives at most 60 minutes.
MAX_REQUEST_OBJECT_LIFETIME_SECONDS = 3600
CLOCK_SKEW_SECONDS = 30  # an `nbf` this little ahead of our clock is the client's clock
MAX_REQUEST_OBJECT_LENGTH = 16_384
MAX_JTI_LENGTH = 200
JWT_CLAIMS = ("iss", "aud", "exp", "nbf", "iat", "jti", "sub")
JTI_PREFIX = "request-object:"  # apart from the same client's assertion ids in the one table


class RequestObjectError(Exception):
    """The request object is refused (``invalid_request_object``)."""

    def __init__(self, description: str) -> None:
        super().__init__(description)
        self.description = description


class PassportRequestObjects(JWTAuthenticationRequest):  # type: ignore[misc]
    """Authlib's JAR extension with Passport's keys and algorithms; by value only (a
    ``request_uri`` is Passport's own PAR reference, resolved by passport.oidc.par)."""

    # Authlib checks exp/nbf too (joserfc): with the same allowance for the client's clock.
    claims_validator = jwt.JWTClaimsRegistry(
        leeway=CLOCK_SKEW_SECONDS, client_id={"essential": True}
    )

    def __init__(self) -> None:
        super().__init__(support_request=True, support_request_uri=False)

    def resolve_client_public_key(self, client: RegisteredClient) -> jwk.KeySet:
        """The client's registered keys (jwks or jwks_uri, under the outbound rule)."""
        return client_public_keys(client)

    def get_server_metadata(self) -> dict[str, Any]:
        """Signed objects only, with the algorithms discovery lists."""
        return {
            "require_signed_request_object": True,
            "request_object_signing_alg_values_supported": list(REQUEST_OBJECT_ALGS),
        }

    def get_request_object_signing_algorithms(self, client: RegisteredClient) -> list[str]:
        """The client's registered alg when it has one (RFC 9101 §10.5), else the list;
        either narrowed for a FAPI 2.0 client (client_validation.client_signing_algs)."""
        if client.request_object_signing_alg:
            return client_signing_algs(client, [client.request_object_signing_alg])
        return client_signing_algs(client, REQUEST_OBJECT_ALGS)

    def get_client_require_signed_request_object(self, client: RegisteredClient) -> bool:
        """Unsigned objects are never accepted."""
        return True


class ClientLookup:
    """The one method of an authorization server Authlib's extension calls."""

    def query_client(self, client_id: str) -> RegisteredClient | None:
        """The enabled client."""
        return find_client(client_id)


EXTENSION = PassportRequestObjects()


def verify_request_object(raw: str, client: RegisteredClient) -> dict[str, str]:
    """The authorization parameters of a signed object, as strings; RequestObjectError."""
    if not isinstance(raw, str) or len(raw) > MAX_REQUEST_OBJECT_LENGTH:
        raise RequestObjectError("The request object is too large.")
    if raw.count(".") != 2:
        raise RequestObjectError("The request object must be a signed JWT (JWS compact).")
    holder = SimpleNamespace(
        payload=BasicOAuth2Payload({"client_id": client.client_id, "request": raw})
    )
    try:
        EXTENSION.parse_authorization_request(ClientLookup(), holder)
    except OAuth2Error as error:
        raise RequestObjectError(error.description or "Invalid request object.") from None
    except (ValueError, TypeError, KeyError):
        raise RequestObjectError("The request object cannot be decoded.") from None
    claims: dict[str, Any] = dict(holder.payload.data)
    check_claims(claims, client)
    return authorization_parameters(claims)


def check_claims(claims: dict[str, Any], client: RegisteredClient) -> None:
    """RFC 9101 §10.2 and FAPI 2.0: issuer, audience, lifetime, replay."""
    if claims.get("iss") != client.client_id:
        raise RequestObjectError("'iss' must be the client_id.")
    issuer = current_app.config["ISSUER"]
    audience = claims.get("aud")
    audiences = audience if isinstance(audience, list) else [audience]
    if issuer not in audiences:
        raise RequestObjectError("'aud' must be the issuer.")
    now = int(utcnow().timestamp())
    expires, not_before = claims.get("exp"), claims.get("nbf")
    if type(expires) is not int:
        raise RequestObjectError("'exp' is required, in whole seconds.")
    if expires <= now:
        raise RequestObjectError("The request object has expired.")
    if expires - now > MAX_REQUEST_OBJECT_LIFETIME_SECONDS:
        raise RequestObjectError("The request object may live at most 60 minutes.")
    if not_before is None and client.fapi2_profile:
        raise RequestObjectError("'nbf' is required.")
    if not_before is not None:
        if type(not_before) is not int:
            raise RequestObjectError("'nbf' must be whole seconds.")
        if not_before > now + CLOCK_SKEW_SECONDS:
            raise RequestObjectError("The request object is not valid yet.")
        if expires - not_before > MAX_REQUEST_OBJECT_LIFETIME_SECONDS:
            raise RequestObjectError("The request object may live at most 60 minutes.")
    jti = claims.get("jti")
    if jti is not None:
        if not isinstance(jti, str) or not jti or len(jti) > MAX_JTI_LENGTH:
            raise RequestObjectError("Invalid 'jti'.")
        from passport.oidc.server import record_assertion_jti

        expiry = datetime.fromtimestamp(expires, UTC)
        if not record_assertion_jti(client.client_id, JTI_PREFIX + jti, expiry):
            raise RequestObjectError("The request object was used before.")


def authorization_parameters(claims: dict[str, Any]) -> dict[str, str]:
    """The object's authorization parameters as /authorize reads them: strings, the
    ``claims`` member as JSON (OIDC Core §6.1), ``max_age`` as digits."""
    params: dict[str, str] = {}
    for name, value in claims.items():
        if name in JWT_CLAIMS:
            continue
        if isinstance(value, str):
            params[name] = value
        elif name == "claims" and isinstance(value, dict):
            params[name] = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
        elif name == "max_age" and type(value) is int:
            params[name] = str(value)
        else:
            raise RequestObjectError(f"'{name}' has an unexpected type.")
    return params
