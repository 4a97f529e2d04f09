"""Who calls the admin API: a machine client with a client_credentials access token.

The token is looked up exactly as introspection looks it up (``find_token``: by its SHA-256,
with expiry and revocation), and must belong to no person: a token issued to a user (a
browser flow) never carries admin rights, even if its scope string said so. Cookies are
ignored entirely; the token is the only credential (RFC 6750 §2.1, header only).
"""

from __future__ import annotations

from dataclasses import dataclass

from passport.logs import note
from passport.oidc.client_validation import ADMIN_SCOPES
from passport.oidc.clients import find_client
from passport.oidc.revocation import current_scopes
from passport.oidc.server import find_token
from passport.oidc.userinfo import BearerError
from passport.oidc.userinfo import PresentedToken
from passport.oidc.userinfo import check_binding
from passport.oidc.userinfo import presented_token

READ_SCOPE, WRITE_SCOPE = ADMIN_SCOPES

MAX_TOKEN_LENGTH = 4096


@dataclass(frozen=True)
class ApiCaller:
    """The authenticated client and the admin scopes its token carries."""

    client_id: str
    scopes: frozenset[str]


def authenticate_caller(authorization: str | None, needed_scope: str) -> ApiCaller:
    """The caller behind the header if its token grants ``needed_scope``; else BearerError.

    ``Authorization: Bearer`` or, with a proof in the ``DPoP`` header, ``DPoP`` (RFC 9449).
    """
    presented = presented_token(authorization)
    try:
        return _caller(presented, needed_scope)
    except BearerError as error:
        if presented.is_dpop:
            error.scheme = "DPoP"  # answer in the scheme the client used (RFC 9449 §7.1)
        raise


def _caller(presented: PresentedToken, needed_scope: str) -> ApiCaller:
    token = presented.token
    if token is None:
        raise BearerError(None, "Missing access token.")
    if len(token) > MAX_TOKEN_LENGTH:
        raise BearerError("invalid_token", "The access token is invalid.")
    record = find_token(token, "access_token")
    if (
        record is None
        or record.kind != "access_token"
        or record.is_expired()
        or record.is_revoked()
        or record.row.user_id is not None
    ):
        raise BearerError("invalid_token", "The access token is invalid.")
    client = find_client(record.client_id)
    if client is None:  # disabled or deleted since the token was issued
        raise BearerError("invalid_token", "The access token is invalid.")
    check_binding(record.row.jkt, presented, client)
    # The access token's own scopes (a token narrowed to another resource has only that
    # resource's, RFC 8707), bounded by the client's current scopes: withdrawing a scope
    # takes effect at once.
    granted = record.get_scope().split()
    scopes = frozenset(current_scopes(granted, client.scopes)) & set(ADMIN_SCOPES)
    if needed_scope not in scopes:
        raise BearerError("insufficient_scope", f"The {needed_scope} scope is required.", 403)
    note(client_id=client.client_id)
    return ApiCaller(client_id=client.client_id, scopes=scopes)
