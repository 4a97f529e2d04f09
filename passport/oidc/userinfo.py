"""Access tokens at resource endpoints (RFC 6750, RFC 9449) and the userinfo endpoint (OIDC
Core §5.3).

``presented_token`` reads the credentials of a request and ``check_binding`` is the one rule
every resource endpoint (/userinfo, the admin API) applies to a token's DPoP binding: a
DPoP-bound token only with ``Authorization: DPoP`` and a proof by its key with the right
``ath`` (passport.oidc.dpop); a bound token presented as Bearer is refused (RFC 9449 §7.1).

Not Authlib's UserInfoEndpoint: its ResourceProtector answers a request without a token with
``error="missing_authorization"``, where RFC 6750 §3.1 says such a challenge carries no error
code, and it reads token, client and user separately where one join serves (1 statement).
"""

from __future__ import annotations

from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any
from typing import cast

from sqlalchemy import Table
from sqlalchemy import bindparam
from sqlalchemy import select

from passport.database import read_first
from passport.database import utcnow
from passport.login.models import SSOSession
from passport.logs import note
from passport.oidc import dpop
from passport.oidc.claims import SUBJECT_COLUMNS
from passport.oidc.claims import USERS
from passport.oidc.claims import Subject
from passport.oidc.claims import userinfo_claims
from passport.oidc.client_validation import FapiFlag
from passport.oidc.models import OAuthClient
from passport.oidc.models import OAuthToken
from passport.oidc.revocation import current_scopes
from passport.oidc.revocation import outlived_session
from passport.oidc.tokens import hash_secret


class BearerError(Exception):
    """A token problem, reported in WWW-Authenticate (RFC 6750 §3.1, RFC 9449 §7.1)."""

    def __init__(
        self, error: str | None, description: str, status: int = 401, *, scheme: str = "Bearer"
    ) -> None:
        super().__init__(description)
        self.error = error  # None when no token was presented at all (§3.1)
        self.description = description
        self.status = status
        self.scheme = scheme  # DPoP for a problem with a DPoP-bound token or its proof

    @property
    def offers_dpop(self) -> bool:
        """Whether the challenge offers the DPoP scheme: a problem in DPoP, or no token at
        all (RFC 9449 §7.1: either scheme will do)."""
        return self.scheme == "DPoP" or self.error is None

    def www_authenticate(self) -> str:
        """The challenge header value. Without a token, a Bearer and a DPoP challenge in the
        one value (RFC 9110 §11.6.1 allows several; Bearer first, as before DPoP)."""
        value = challenge(self.scheme, self.error, self.description)
        if self.error is None and self.scheme == "Bearer":
            value += ", " + challenge("DPoP", None, self.description)
        return value

    def headers(self) -> dict[str, str]:
        """WWW-Authenticate, and DPoP-Nonce when a fresh nonce is asked for (RFC 9449 §9)."""
        headers = {"WWW-Authenticate": self.www_authenticate()}
        if self.error == dpop.USE_NONCE or (self.offers_dpop and dpop.nonce_required()):
            headers["DPoP-Nonce"] = dpop.current_nonce()
        return headers


def challenge(scheme: str, error: str | None, description: str) -> str:
    """One challenge (RFC 6750 §3, RFC 9449 §7.1): DPoP's with the proof algorithms."""
    params = 'realm="passport"'
    if scheme == "DPoP":
        params += f', algs="{" ".join(dpop.ALGORITHMS)}"'
    if error is not None:
        params += f', error="{error}", error_description="{description}"'
    return f"{scheme} {params}"


def fresh_nonce_headers(presented: PresentedToken) -> dict[str, str]:
    """The headers of a resource's successful answer to a DPoP request: a fresh DPoP-Nonce
    when nonces are required (RFC 9449 §9), so the client's next proof carries one still
    good after the nonce rotates, with no refused request in between."""
    if presented.is_dpop and dpop.nonce_required():
        return {"DPoP-Nonce": dpop.current_nonce()}
    return {}


@dataclass(frozen=True)
class PresentedToken:
    """An access token as a request presents it: its scheme (``bearer`` or ``dpop``)."""

    scheme: str
    token: str | None

    @property
    def is_dpop(self) -> bool:
        """Presented with ``Authorization: DPoP``."""
        return self.scheme == "dpop"


def presented_token(authorization: str | None, form_token: str | None = None) -> PresentedToken:
    """The token of an ``Authorization: Bearer|DPoP`` header (RFC 6750 §2.1, RFC 9449 §7.1),
    else of the form body (RFC 6750 §2.2, where the caller allows it)."""
    scheme, _, token = (authorization or "").strip().partition(" ")
    if scheme.lower() in ("bearer", "dpop"):
        return PresentedToken(scheme.lower(), token.strip() or None)
    if not authorization and form_token:
        return PresentedToken("bearer", form_token)
    return PresentedToken("bearer", None)


def check_binding(jkt: str | None, presented: PresentedToken, client: FapiFlag | None) -> None:
    """The DPoP rule of every resource endpoint, for a token bound to ``jkt`` (or None);
    ``client``: the token's client, whose profile says what its proofs may be signed with."""
    if not presented.is_dpop:
        if jkt is not None:
            # RFC 9449 §7.1: a DPoP-bound token is never accepted as a Bearer token.
            raise BearerError("invalid_token", "The access token is DPoP-bound.", scheme="DPoP")
        return
    if jkt is None:
        raise BearerError("invalid_token", "The access token is not DPoP-bound.", scheme="DPoP")
    try:
        proof = dpop.verify_request_proof(access_token=presented.token, client=client)
    except dpop.DPoPError as refused:
        raise BearerError(refused.error, refused.description, scheme="DPoP") from None
    if proof.jkt != jkt:
        raise BearerError(
            dpop.INVALID_PROOF, "The proof is not signed by the token's key.", scheme="DPoP"
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
    TOKENS.c.jkt,
    CLIENTS.c.scopes.label("client_scopes"),
    CLIENTS.c.is_disabled.label("client_disabled"),
    CLIENTS.c.fapi2_profile.label("client_fapi2_profile"),
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


def authenticate_bearer(presented: PresentedToken) -> BearerGrant:
    """The grant behind an access token; raise BearerError when missing or unusable."""
    try:
        return _grant_of(presented)
    except BearerError as error:
        if presented.is_dpop:
            error.scheme = "DPoP"  # answer in the scheme the client used (RFC 9449 §7.1)
        raise


def _grant_of(presented: PresentedToken) -> BearerGrant:
    token = presented.token
    if not token:
        raise BearerError(None, "Missing access token.")
    if len(token) > 4096:
        raise BearerError("invalid_token", "The access token is invalid.")
    found = read_first(BEARER_GRANT, {"digest": hash_secret(token)})
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
        jkt,
        client_scopes,
        client_disabled,
        client_fapi2_profile,
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
    check_binding(jkt, presented, SimpleNamespace(fapi2_profile=client_fapi2_profile))
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


def userinfo_response(presented: PresentedToken) -> dict[str, Any]:
    """The userinfo claims for an access token (only what its scopes granted)."""
    grant = authenticate_bearer(presented)
    return userinfo_claims(grant.user, grant.scopes, grant.claims, grant.client_scopes)
