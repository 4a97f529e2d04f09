"""Pushed authorization requests (RFC 9126): the /par endpoint and its single-use request_uri.

Authlib 1.9.6 has no PAR, so this is an Authlib endpoint (``Endpoint``, registered on the
server like revocation and introspection): the client authenticates exactly as at /token
(the server's methods, private_key_jwt with its jti replay rule), the parameters are validated
as /authorize validates them (``authorization.parse_authorization_request``, a signed
``request`` object included), and the validated request is stored under the hash of a random
request_uri for PUSHED_AUTHORIZATION_REQUEST_TTL_SECONDS.

A ``DPoP`` header at /par (RFC 9449 §10.1) is checked as at /token (``dpop.verify_proof``:
signature, ``htu`` of /par, ``iat`` window, nonce, ``jti`` replay across instances) once the
client is authenticated, and binds the pushed request: its ``dpop_jkt`` becomes the proof key's
thumbprint, and a ``dpop_jkt`` that names another key is refused (``invalid_dpop_proof``).

/authorize redeems the request_uri with one DELETE … RETURNING bound to the client: one of two
racing browsers or instances gets it, the other ``invalid_request_uri``. The request then lives
on in the pending authorization the login and consent pages already keep (never read again
from here), so signing in between does not need the request_uri a second time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from typing import ClassVar
from typing import cast

from authlib.oauth2.base import OAuth2Error
from authlib.oauth2.rfc6749.endpoint import Endpoint
from authlib.oauth2.rfc6749.endpoint import EndpointRequest
from flask import current_app
from sqlalchemy import Table
from sqlalchemy import bindparam
from sqlalchemy import delete
from sqlalchemy import insert
from werkzeug.datastructures import MultiDict

from passport.database import utcnow
from passport.extensions import db
from passport.oidc import authorization as authz
from passport.oidc import dpop
from passport.oidc.client_validation import AUTH_METHODS
from passport.oidc.clients import RegisteredClient
from passport.oidc.models import PushedAuthorization
from passport.oidc.server import DPoPProofError
from passport.oidc.server import client_proof
from passport.oidc.tokens import hash_secret
from passport.oidc.tokens import new_secret
from passport.security.ratelimits import spend_anonymous_authorize

REQUEST_URI_PREFIX = "urn:ietf:params:oauth:request_uri:"
MAX_REQUEST_URI_LENGTH = 200
# Client authentication travels with the pushed parameters; it is not one of them.
AUTHENTICATION_PARAMETERS = ("client_secret", "client_assertion", "client_assertion_type")
REPEATABLE = ("resource",)
PUSHED = cast(Table, PushedAuthorization.__table__)
INSERT_PUSHED = insert(PUSHED)
REDEEM_PUSHED = (
    delete(PUSHED)
    .where(
        PUSHED.c.request_uri_hash == bindparam("digest"),
        PUSHED.c.client_pk == bindparam("client"),
        PUSHED.c.expires_at > bindparam("now", type_=PUSHED.c.expires_at.type),
    )
    .returning(PUSHED.c.params)
)


class PushedRequestError(OAuth2Error):  # type: ignore[misc]
    """A refused pushed request (RFC 9126 §2.3): JSON with the RFC error code, 400."""

    status_code = 400

    def __init__(self, error: str, description: str) -> None:
        super().__init__(description=description)
        self.error = error


def is_pushed_request_uri(value: str) -> bool:
    """A request_uri of the form /par hands out (RFC 9126 §2.2)."""
    return value.startswith(REQUEST_URI_PREFIX) and len(value) <= MAX_REQUEST_URI_LENGTH


def push_request(request: authz.AuthorizationRequest) -> tuple[str, int]:
    """Store a validated request; return its request_uri and lifetime; commits."""
    lifetime = int(current_app.config["PUSHED_AUTHORIZATION_REQUEST_TTL_SECONDS"])
    now = utcnow()
    secret = new_secret(32)
    db.session.execute(
        INSERT_PUSHED,
        dict(
            request_uri_hash=hash_secret(secret),
            client_pk=request.client.pk,
            params=request.pending_params(),
            created_at=now,
            expires_at=now + timedelta(seconds=lifetime),
        ),
    )
    db.session.commit()
    return REQUEST_URI_PREFIX + secret, lifetime


def redeem_request_uri(request_uri: str, client: RegisteredClient) -> dict[str, str] | None:
    """The pushed parameters, deleted as they are read (once, for this client, unexpired);
    commits, so a failure later in the request cannot give the request_uri back."""
    if not is_pushed_request_uri(request_uri):
        return None
    digest = hash_secret(request_uri[len(REQUEST_URI_PREFIX) :])
    row = db.session.execute(
        REDEEM_PUSHED, {"digest": digest, "client": client.pk, "now": utcnow()}
    ).first()
    db.session.commit()
    return dict(row.params) if row is not None else None


@dataclass
class PushedRequest(EndpointRequest):  # type: ignore[misc]
    """A pushed request, validated."""

    authorization: authz.AuthorizationRequest | None = None


class PushedAuthorizationEndpoint(Endpoint):  # type: ignore[misc]
    """RFC 9126 §2: POST the authorization parameters, get a request_uri (201)."""

    ENDPOINT_NAME = "pushed_authorization"
    CLIENT_AUTH_METHODS: ClassVar[list[str]] = list(AUTH_METHODS)

    def validate_request(self, request: Any) -> PushedRequest:
        """Authenticate the client, then validate the parameters as /authorize would."""
        client: RegisteredClient = self.server.authenticate_client(
            request, self.CLIENT_AUTH_METHODS, self.ENDPOINT_NAME
        )
        if client.is_public:
            # Its client_id is all it takes: anyone can make Passport store this request, as
            # a pending one at /authorize, so it spends the same per-address budget (429).
            spend_anonymous_authorize()
        proof = client_proof(client)
        form = request.form
        # RFC 8707 §2: `resource` may repeat, as at /authorize; no other parameter may.
        if any(len(values) > 1 for name, values in form.lists() if name not in REPEATABLE):
            raise PushedRequestError("invalid_request", "A parameter is repeated.")
        params = MultiDict(
            [(k, v) for k, v in form.items(multi=True) if k not in AUTHENTICATION_PARAMETERS]
        )
        if params.get("client_id", client.client_id) != client.client_id:
            raise PushedRequestError("invalid_request", "client_id is not the client's.")
        params["client_id"] = client.client_id
        try:
            parsed = authz.parse_authorization_request(params, source="pushed")
        except authz.AuthorizationPageError as error:
            code = error.reason if error.reason in OWN_CODES else "invalid_request"
            raise PushedRequestError(code, PAGE_REASONS.get(error.reason, code)) from None
        except authz.AuthorizationError as error:
            raise PushedRequestError(error.error, error.description) from None
        if proof is not None:
            # RFC 9449 §10.1: the proof's key binds the code; a different dpop_jkt is refused.
            if parsed.dpop_jkt is not None and parsed.dpop_jkt != proof.jkt:
                raise DPoPProofError(dpop.INVALID_PROOF, "dpop_jkt is not the proof's key.")
            parsed.dpop_jkt = proof.jkt
        return PushedRequest(request=request, client=client, authorization=parsed)

    def create_response(self, validated: PushedRequest) -> tuple[int, dict[str, Any], list[Any]]:
        """Store the request; answer its request_uri (RFC 9126 §2.2)."""
        request_uri, lifetime = push_request(
            cast(authz.AuthorizationRequest, validated.authorization)
        )
        headers = [
            ("Content-Type", "application/json"),
            ("Cache-Control", "no-store"),
            ("Pragma", "no-cache"),
        ]
        return 201, {"request_uri": request_uri, "expires_in": lifetime}, headers


# Reasons /authorize shows on a page, as the error code of a JSON answer.
OWN_CODES = ("invalid_request_object", "request_uri_not_supported")
PAGE_REASONS = {
    "invalid_redirect_uri": "redirect_uri is missing or not registered for the client.",
    "invalid_request": "Invalid request.",
    "invalid_request_object": "Invalid request object.",
}
