"""Authlib's authorization server, assembled: grants, client authentication, token endpoints.

Authlib parses token requests, dispatches grants, authenticates clients and verifies PKCE;
this module supplies storage (race-safe redemption, rotation with reuse detection) and the
response bodies (passport.oidc.issuance).

``RedeemedCode`` and ``RotatedToken`` are what the consume-once UPDATE … RETURNING gives back
(``ConsumeOnce``), their columns named by their fields (passport.twins), with the user's claim
fields read in the same statement (``claims.subject_columns``): one statement, no ORM entity, on
the two hottest grants (/token 2 statements, refresh 2, pinned by
tests/integration/oidc/test_statement_counts.py; a DPoP proof adds the INSERT of its jti).
``TokenRecord`` wraps the Core row of introspection and revocation (one join instead of three
entity loads). ``DPoPTokenRequest`` binds a grant's tokens to the key of its DPoP proof.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import replace
from datetime import UTC
from datetime import datetime
from typing import Any
from typing import ClassVar
from typing import cast

from authlib.integrations.flask_oauth2 import AuthorizationServer
from authlib.oauth2.rfc6749 import InvalidClientError
from authlib.oauth2.rfc6749 import InvalidGrantError
from authlib.oauth2.rfc6749 import InvalidRequestError
from authlib.oauth2.rfc6749 import InvalidScopeError
from authlib.oauth2.rfc6749 import OAuth2Error
from authlib.oauth2.rfc6749 import grants
from authlib.oauth2.rfc6749.util import scope_to_list
from authlib.oauth2.rfc7009 import RevocationEndpoint
from authlib.oauth2.rfc7523 import JWTBearerClientAssertion
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oauth2.rfc7662 import IntrospectionEndpoint
from flask import Flask
from flask import current_app
from flask import url_for
from joserfc import jwk
from joserfc import jwt
from joserfc.errors import JoseError
from sqlalchemy import Row
from sqlalchemy import Table
from sqlalchemy import bindparam
from sqlalchemy import exists
from sqlalchemy import or_
from sqlalchemy import select
from sqlalchemy import update

from passport.accounts.models import User
from passport.accounts.models import UserStatus
from passport.audit.services import record_event
from passport.database import insert_once
from passport.database import read_first
from passport.database import utcnow
from passport.extensions import db
from passport.login.models import SSOSession
from passport.login.sessions import idle_timeout
from passport.login.sessions import live_conditions
from passport.logs import note
from passport.oidc import dpop
from passport.oidc.claims import Subject
from passport.oidc.claims import subject_columns
from passport.oidc.claims import subject_of
from passport.oidc.client_keys import client_public_keys
from passport.oidc.client_validation import ASSERTION_ALGS
from passport.oidc.client_validation import AUTH_METHODS
from passport.oidc.client_validation import OIDC_SCOPES
from passport.oidc.client_validation import client_signing_algs
from passport.oidc.clients import RegisteredClient
from passport.oidc.clients import find_client
from passport.oidc.issuance import Authentication
from passport.oidc.issuance import issue_tokens
from passport.oidc.models import AuthorizationCode
from passport.oidc.models import ClientAssertionJti
from passport.oidc.models import OAuthClient
from passport.oidc.models import OAuthToken
from passport.oidc.resources import Audience
from passport.oidc.resources import InvalidTargetError
from passport.oidc.resources import audience_for
from passport.oidc.resources import authorize_resources
from passport.oidc.resources import narrow_audience
from passport.oidc.resources import requested_resources
from passport.oidc.resources import serves_audience
from passport.oidc.revocation import current_scopes
from passport.oidc.revocation import outlived_session
from passport.oidc.revocation import session_lapsed
from passport.oidc.signals import tokens_issued
from passport.oidc.tokens import hash_secret
from passport.signals import announce
from passport.twins import columns

CONFIDENTIAL_METHODS = [m for m in AUTH_METHODS if m != "none"]


class PassportServer(AuthorizationServer):  # type: ignore[misc]
    """The Flask authorization server with Passport's storage."""

    def query_client(self, client_id: str) -> RegisteredClient | None:
        """Authlib: the cached, enabled client."""
        return find_client(client_id)

    def save_token(self, token: dict[str, Any], request: Any) -> None:
        """Authlib hook, unused: grants store their own rows."""
        # Grants here store their own rows (issuance.issue_tokens).
        return None

    def authenticate_client(self, request: Any, methods: list[str], endpoint: str = "token") -> Any:
        """Authlib's client authentication, answering 401 on failure."""
        # RFC 6749 §5.2: always 401 with WWW-Authenticate on failed client authentication.
        try:
            client = super().authenticate_client(request, methods, endpoint)
        except InvalidClientError as error:
            error.status_code = 401
            raise
        except UnicodeDecodeError:
            # Authlib decodes Basic credentials as UTF-8 without catching the failure.
            raise InvalidClientError(
                status_code=401, description="The client credentials are not UTF-8."
            ) from None
        note(client_id=client.client_id)
        return client


def active(user: Subject | None) -> Subject | None:
    """The user (claim fields) if the account is still active."""
    return user if user is not None and user.is_active else None


def token_audience(
    form: Any, authorized: list[str] | None, scopes: list[str]
) -> tuple[list[str] | None, Audience | None]:
    """RFC 8707 §2.2 at /token: the grant's resources and the access token's audience.

    `resource` narrows to some of the authorized resources (all of them when absent); a
    grant authorized without resources may name none. A request without either costs no
    statement (the registry is read only when there are resources).
    """
    requested = requested_resources(form.getlist("resource")) if "resource" in form else []
    if not authorized:
        if requested:
            raise InvalidTargetError("The resource was not part of the authorization.")
        return None, None
    identifiers = narrow_audience(requested, authorized)
    return authorized, audience_for(identifiers, scopes)


def revoke_families(family_ids: list[str]) -> None:
    """Revoke every token of these families (the caller commits)."""
    if family_ids:
        db.session.execute(
            update(OAuthToken)
            .where(OAuthToken.family_id.in_(family_ids), OAuthToken.revoked_at.is_(None))
            .values(revoked_at=utcnow())
        )


@dataclass(frozen=True)
class ConsumeOnce:
    """A secret exchanged once (a code, a refresh token), claimed by one UPDATE … RETURNING.

    One of N racing requests wins the row. A loser whose row is usable but for its SSO session
    ends that session as a logout would; a row already consumed means the secret leaked, so the
    families it gave are revoked and the reuse recorded (RFC 6749 §4.1.2, RFC 9700 §4.14.2).
    """

    claim: Any  # the conditional UPDATE … RETURNING, built once
    model: type[Any]  # the ORM class, read only when the claim lost
    hash_column: Any
    consumed_column: str  # set when the secret is exchanged
    usable_but_for_session: Callable[[Any, datetime], bool]
    families: Callable[[Any], list[str]]

    def consume(
        self, digest: str, client: RegisteredClient, params: dict[str, Any]
    ) -> Row[Any] | None:
        """The claimed row, or None (after ending a lapsed session or revoking on reuse)."""
        now = params["now"]
        won = db.session.execute(self.claim, {"digest": digest, "client": client.pk, **params})
        row = won.first()
        if row is not None:
            return row
        lost = db.session.scalar(select(self.model).where(self.hash_column == digest))
        if lost is None or lost.client_pk != client.pk:
            return None
        if getattr(lost, self.consumed_column) is not None:
            revoke_families(self.families(lost))
            record_event(
                # Literal names: tests/unit/audit/test_labels.py finds events at this call.
                "authorization_code.reused"
                if self.model is AuthorizationCode
                else "refresh_token.reused",
                outcome="failure",
                subject_user_id=lost.user_id,
                client_id=client.client_id,
            )
            db.session.commit()
        elif self.usable_but_for_session(lost, now):
            session_lapsed(lost.sid)
        return None


@dataclass(frozen=True)
class RedeemedCode:
    """The bindings of a code just marked used (Authlib's AuthorizationCodeMixin)."""

    id: int
    user_id: int
    sid: str | None
    redirect_uri: str
    scope: str
    nonce: str | None
    code_challenge: str | None
    claims: dict[str, Any] | None
    resources: list[str] | None
    auth_time: datetime
    amr: list[str] | None
    acr: str | None
    dpop_jkt: str | None

    def get_redirect_uri(self) -> str:
        """Authlib: the redirect_uri the code is bound to."""
        return self.redirect_uri

    def get_scope(self) -> str:
        """Authlib: the granted scope."""
        return self.scope


CODE_TABLE = cast(Table, AuthorizationCode.__table__)
SESSIONS = cast(Table, SSOSession.__table__)
REDEEMED_COLUMNS = columns(RedeemedCode, CODE_TABLE)
NOW = bindparam("now", type_=CODE_TABLE.c.expires_at.type)
# Built once: a statement object reused across requests skips construction and cache-key work.
REDEEM_CODE = (
    update(CODE_TABLE)
    .where(
        CODE_TABLE.c.code_hash == bindparam("digest"),
        CODE_TABLE.c.client_pk == bindparam("client"),
        CODE_TABLE.c.used_at.is_(None),
        CODE_TABLE.c.expires_at > NOW,
        # The SSO session the code came from is still live (a logout voids its codes too;
        # this also catches a session that lapsed): checked in the same round trip.
        exists().where(
            SESSIONS.c.sid == CODE_TABLE.c.sid,
            *live_conditions(NOW, bindparam("idle_cutoff", type_=CODE_TABLE.c.expires_at.type)),
        ),
    )
    .values(used_at=bindparam("now", type_=CODE_TABLE.c.used_at.type))
    # The user's claim fields in the same round trip (authenticate_user needs them).
    .returning(*REDEEMED_COLUMNS, *subject_columns(CODE_TABLE.c.user_id))
)


def _code_families(row: AuthorizationCode) -> list[str]:
    return list(
        db.session.scalars(
            select(OAuthToken.family_id).where(OAuthToken.authorization_code_id == row.id)
        )
    )


CODES = ConsumeOnce(
    claim=REDEEM_CODE,
    model=AuthorizationCode,
    hash_column=AuthorizationCode.code_hash,
    consumed_column="used_at",
    # Unused and unexpired, so only its session is over.
    usable_but_for_session=lambda row, now: row.expires_at > now,
    families=_code_families,
)


def twin_of(twin: Any, row: Row[Any]) -> Any:
    """The twin's fields of a row that also carries other columns."""
    mapping = row._mapping
    return twin(**{name: mapping[name] for name in twin.__dataclass_fields__})


def redeem_code(code: str, client: RegisteredClient) -> tuple[RedeemedCode, Subject | None] | None:
    """Mark a code used (one of N racing requests wins) and return it with its user (Core:
    the hottest statement of the code flow). A code presented again revokes everything
    issued from it."""
    if not isinstance(code, str) or len(code) > 200:
        return None
    now = utcnow()
    won = CODES.consume(
        hash_secret(code), client, {"now": now, "idle_cutoff": now - idle_timeout()}
    )
    return (twin_of(RedeemedCode, won), subject_of(won)) if won is not None else None


class DPoPProofError(OAuth2Error):  # type: ignore[misc]
    """A DPoP proof refused at /token (RFC 9449 §5): 400, with a fresh nonce when asked for."""

    status_code = 400

    def __init__(self, error: str, description: str) -> None:
        super().__init__(description=description, error=error)

    def get_headers(self) -> list[tuple[str, str]]:
        """JSON headers, and ``DPoP-Nonce`` with ``use_dpop_nonce`` (RFC 9449 §8)."""
        headers: list[tuple[str, str]] = super().get_headers()
        if self.error == dpop.USE_NONCE:
            headers.append(("DPoP-Nonce", dpop.current_nonce()))
        return headers


def client_proof(client: RegisteredClient) -> dpop.Proof | None:
    """The request's DPoP proof, checked for an authenticated client (/token and /par);
    None when there is none. A refused proof is a DPoPProofError (400)."""
    if not dpop.request_proofs():
        return None
    try:
        return dpop.verify_request_proof(client=client)
    except dpop.DPoPError as refused:
        raise DPoPProofError(refused.error, refused.description) from None


class DPoPTokenRequest:
    """Grant mixin, RFC 9449 §5: a token request's DPoP proof binds the tokens it gets.

    The proof is checked once the client is authenticated (an anonymous caller fills no jti
    record) and before the grant redeems its code or refresh token (the jti is committed in a
    transaction of its own, which must not wait behind the grant's write); a client registered
    with ``dpop_bound_access_tokens`` must present one.
    """

    request: Any

    def authenticate_token_endpoint_client(self) -> RegisteredClient:
        """Authlib's client authentication, then the request's DPoP proof."""
        client: RegisteredClient = super().authenticate_token_endpoint_client()  # type: ignore[misc]
        proof = client_proof(client)
        if proof is None and client.dpop_bound_access_tokens:
            raise DPoPProofError(dpop.INVALID_PROOF, "This client must present a DPoP proof.")
        self.request.dpop_jkt = proof.jkt if proof is not None else None
        return client

    @property
    def dpop_jkt(self) -> str | None:
        """The thumbprint of the key the tokens are bound to, or None (Bearer)."""
        return getattr(self.request, "dpop_jkt", None)

    def token_response_headers(self) -> list[tuple[str, str]]:
        """Authlib's JSON headers, and a fresh ``DPoP-Nonce`` when nonces are required."""
        headers = list(grants.BaseGrant.TOKEN_RESPONSE_HEADER)
        if self.dpop_jkt is not None and dpop.nonce_required():
            headers.append(("DPoP-Nonce", dpop.current_nonce()))
        return headers


class PassportCodeChallenge(CodeChallenge):  # type: ignore[misc]
    """PKCE at the token endpoint: S256 only (plain is refused at /authorize)."""

    def get_authorization_code_challenge_method(self, authorization_code: Any) -> str:
        """Authlib: always S256."""
        return "S256"


class AuthorizationCodeGrant(DPoPTokenRequest, grants.AuthorizationCodeGrant):  # type: ignore[misc]
    """grant_type=authorization_code: codes are issued by passport.oidc.authorization."""

    subject: Subject | None = None  # the grant's user, read with its code or token
    TOKEN_ENDPOINT_AUTH_METHODS: ClassVar[list[str]] = list(AUTH_METHODS)

    def query_authorization_code(self, code: str, client: RegisteredClient) -> Any:
        """Authlib: redeem (mark used) the code, race-safely; keep the user it was read with."""
        redeemed = redeem_code(code, client)
        if redeemed is None:
            return None
        authorization_code, self.subject = redeemed
        return authorization_code

    def delete_authorization_code(self, authorization_code: Any) -> None:
        """Authlib: keep the used code for reuse detection."""
        return None  # kept (marked used) for reuse detection; pruned when expired

    def authenticate_user(self, authorization_code: RedeemedCode) -> Subject | None:
        """Authlib: the still-active user of the grant (read with the code)."""
        return active(self.subject)

    def create_token_response(self) -> tuple[int, dict[str, Any], list[tuple[str, str]]]:
        """Issue the tokens and commit."""
        client: RegisteredClient = self.request.client
        code: RedeemedCode = self.request.authorization_code
        if code.dpop_jkt is not None and code.dpop_jkt != self.dpop_jkt:
            db.session.rollback()  # RFC 9449 §10: only the key's holder redeems the code
            raise DPoPProofError(dpop.INVALID_PROOF, "The code is bound to another DPoP key.")
        user = self.authenticate_user(code)
        if user is None:
            raise InvalidGrantError("The user of this code is no longer active.")
        scopes = current_scopes(code.scope.split(), client.scopes)
        resources, audience = token_audience(self.request.form, code.resources, scopes)
        body = issue_tokens(
            client,
            user,
            scopes,
            authentication=Authentication(code.auth_time, code.amr, code.acr, code.sid),
            include_refresh_token=client.check_grant_type("refresh_token"),
            include_id_token="openid" in scopes,
            nonce=code.nonce,
            requested_claims=code.claims,
            authorization_code_id=code.id,
            resources=resources,
            audience=audience,
            jkt=self.dpop_jkt,
        )
        db.session.commit()
        announce(tokens_issued, grant_type=self.GRANT_TYPE, client_id=client.client_id)
        return 200, body, self.token_response_headers()


@dataclass(frozen=True)
class RotatedToken:
    """The grant behind a refresh token just marked used (Authlib's TokenMixin)."""

    id: int
    user_id: int | None
    scope: str
    claims: dict[str, Any] | None
    resources: list[str] | None
    family_id: str
    sid: str | None
    auth_time: datetime | None
    authorization_code_id: int | None
    refresh_expires_at: datetime | None
    jkt: str | None

    def get_scope(self) -> str:
        """Authlib: the granted scope (a refresh may narrow it, never widen it)."""
        return self.scope


def check_refresh_binding(
    client: RegisteredClient, bound: str | None, presented: str | None
) -> None:
    """A family bound to a DPoP key stays bound: its refresh needs a proof, and a public
    client's refresh token is bound to the key itself (RFC 9449 §5; a confidential client's
    is bound to its authentication)."""
    if bound is None:
        return
    if presented is None:
        refusal = "This refresh token needs a DPoP proof."
    elif client.is_public and presented != bound:
        refusal = "The refresh token is bound to another key."
    else:
        return
    db.session.rollback()  # the token just claimed stays usable by the key's holder
    raise DPoPProofError(dpop.INVALID_PROOF, refusal)


TOKEN_TABLE = cast(Table, OAuthToken.__table__)
ROTATED_COLUMNS = columns(RotatedToken, TOKEN_TABLE)
ROTATE_REFRESH_TOKEN = (
    update(TOKEN_TABLE)
    .where(
        TOKEN_TABLE.c.refresh_token_hash == bindparam("digest"),
        TOKEN_TABLE.c.client_pk == bindparam("client"),
        TOKEN_TABLE.c.refresh_used_at.is_(None),
        TOKEN_TABLE.c.revoked_at.is_(None),
        TOKEN_TABLE.c.refresh_expires_at > NOW,
        # Bound to its SSO session unless offline_access (passport.oidc.revocation): refused
        # once the session ended or passed its absolute end, even if a revocation was missed.
        # revocation.outlived_session, in SQL.
        or_(
            TOKEN_TABLE.c.is_offline.is_(True),
            TOKEN_TABLE.c.sid.is_(None),
            exists().where(SESSIONS.c.sid == TOKEN_TABLE.c.sid, *live_conditions(NOW, None)),
        ),
    )
    .values(refresh_used_at=bindparam("now", type_=TOKEN_TABLE.c.refresh_used_at.type))
    # The user's claim fields in the same round trip (authenticate_user needs them).
    .returning(*ROTATED_COLUMNS, *subject_columns(TOKEN_TABLE.c.user_id))
)


def _refresh_usable_but_for_session(row: OAuthToken, now: datetime) -> bool:
    return (
        row.revoked_at is None
        and not row.is_offline
        and row.refresh_expires_at is not None
        and row.refresh_expires_at > now
    )


REFRESH_TOKENS = ConsumeOnce(
    claim=ROTATE_REFRESH_TOKEN,
    model=OAuthToken,
    hash_column=OAuthToken.refresh_token_hash,
    consumed_column="refresh_used_at",
    usable_but_for_session=_refresh_usable_but_for_session,
    # A rotated token came back: someone holds a copy. End the whole family.
    families=lambda row: [row.family_id],
)


# FAPI 2.0 §5.3.2.1 item 10: no rotation unless a retry with the previous refresh token would
# succeed. A FAPI 2.0 client's refresh token is sender-constrained (private_key_jwt, DPoP), so it
# is kept: the same UPDATE … RETURNING claims the row (its checks, its lock) but marks nothing.
KEEP_REFRESH_TOKEN = ROTATE_REFRESH_TOKEN.values(refresh_used_at=TOKEN_TABLE.c.refresh_used_at)
KEPT_REFRESH_TOKENS = replace(REFRESH_TOKENS, claim=KEEP_REFRESH_TOKEN)


def rotates_refresh_tokens(client: RegisteredClient) -> bool:
    """Whether a refresh replaces the client's refresh token (RFC 9700 §4.14.2: rotation with
    reuse detection), or keeps it (a FAPI 2.0 client, FAPI 2.0 §5.3.2.1 item 10: the response
    has no ``refresh_token`` and the client goes on using the one it has; the token still
    dies with its family's life, its revocation, its session's end, and is purged)."""
    return not client.fapi2_profile


class RefreshTokenGrant(DPoPTokenRequest, grants.RefreshTokenGrant):  # type: ignore[misc]
    """grant_type=refresh_token with rotation and reuse detection (RFC 9700 §4.14.2), except
    for FAPI 2.0 clients (``rotates_refresh_tokens``)."""

    subject: Subject | None = None  # the grant's user, read with its code or token
    TOKEN_ENDPOINT_AUTH_METHODS: ClassVar[list[str]] = list(AUTH_METHODS)
    INCLUDE_NEW_REFRESH_TOKEN = True

    def _validate_request_token(self, client: RegisteredClient) -> RotatedToken:
        raw = self.request.form.get("refresh_token")
        if not raw or len(raw) > 200:
            raise InvalidGrantError("Invalid refresh token.")
        claim = REFRESH_TOKENS if rotates_refresh_tokens(client) else KEPT_REFRESH_TOKENS
        won = claim.consume(hash_secret(raw), client, {"now": utcnow()})
        if won is None:
            raise InvalidGrantError("Invalid refresh token.")
        self.subject = subject_of(won)
        rotated: RotatedToken = twin_of(RotatedToken, won)
        return rotated

    def authenticate_user(self, refresh_token: RotatedToken) -> Subject | None:
        """Authlib: the still-active user of the grant (read with the token)."""
        return active(self.subject)

    def create_token_response(self) -> tuple[int, dict[str, Any], list[tuple[str, str]]]:
        """Issue the tokens and commit."""
        client: RegisteredClient = self.request.client
        old: RotatedToken = self.request.refresh_token
        check_refresh_binding(client, old.jkt, self.dpop_jkt)
        user = self.authenticate_user(old)
        if user is None:
            raise InvalidGrantError("The user of this token is no longer active.")
        requested = scope_to_list(self.request.payload.scope) or old.scope.split()
        # Never more than the client is registered for now (a scope withdrawn from it stays
        # withdrawn), nor than the grant (Authlib checked the request against it).
        scopes = current_scopes(requested, client.scopes)
        if not scopes:
            raise InvalidScopeError("The client may no longer use the scopes of this grant.")
        resources, audience = token_audience(self.request.form, old.resources, scopes)
        body = issue_tokens(
            client,
            user,
            scopes,
            authentication=Authentication(old.auth_time, None, None, old.sid),
            include_refresh_token=rotates_refresh_tokens(client),
            include_id_token="openid" in scopes,
            requested_claims=old.claims,
            family_id=old.family_id,
            parent_id=old.id,
            authorization_code_id=old.authorization_code_id,
            # Rotation does not extend the family's life (OIDC session or offline grant).
            refresh_expires_at=old.refresh_expires_at,
            resources=resources,
            audience=audience,
            jkt=self.dpop_jkt,
        )
        db.session.commit()
        announce(tokens_issued, grant_type=self.GRANT_TYPE, client_id=client.client_id)
        return 200, body, self.token_response_headers()


class ClientCredentialsGrant(DPoPTokenRequest, grants.ClientCredentialsGrant):  # type: ignore[misc]
    """grant_type=client_credentials: API scopes only, no ID token, no refresh token."""

    TOKEN_ENDPOINT_AUTH_METHODS: ClassVar[list[str]] = CONFIDENTIAL_METHODS

    def create_token_response(self) -> tuple[int, dict[str, Any], list[tuple[str, str]]]:
        """Issue the tokens and commit."""
        client: RegisteredClient = self.request.client
        allowed = [s for s in client.scopes if s not in OIDC_SCOPES]
        requested = scope_to_list(self.request.payload.scope) or allowed
        if not requested or any(s not in allowed for s in requested):
            raise InvalidScopeError("The client may not request these scopes.")
        scopes = list(dict.fromkeys(requested))
        form = self.request.form
        # RFC 8707 §2: here `resource` names the audience directly (no earlier authorization).
        resources = requested_resources(form.getlist("resource")) if "resource" in form else []
        audience = (
            audience_for(authorize_resources(resources, scopes), scopes) if resources else None
        )
        body = issue_tokens(
            client,
            None,
            scopes,
            authentication=None,
            include_refresh_token=False,
            include_id_token=False,
            resources=resources,
            audience=audience,
            jkt=self.dpop_jkt,
        )
        db.session.commit()
        announce(tokens_issued, grant_type=self.GRANT_TYPE, client_id=client.client_id)
        return 200, body, self.token_response_headers()


class PrivateKeyJWT(JWTBearerClientAssertion):  # type: ignore[misc]
    """private_key_jwt (OIDC Core §9, RFC 7523 §2.2) with jti replay refused."""

    CLIENT_AUTH_METHOD = "private_key_jwt"

    def get_audiences(self) -> list[str]:
        """The token endpoint or the issuer (RFC 7523 §3, OIDC Core §9)."""
        issuer = current_app.config["ISSUER"]
        # RFC 9126 §2: at /par, its own URL too.
        return [
            issuer,
            issuer + url_for("oidc.token"),
            issuer + url_for("oidc.pushed_authorization"),
        ]

    def resolve_client_public_key(self, client: RegisteredClient) -> AssertionKeys:
        """The client's registered public keys and the algorithms it may sign with."""
        return AssertionKeys(
            client_public_keys(client), client_signing_algs(client, ASSERTION_ALGS)
        )

    def process_assertion_claims(self, assertion: str, key: AssertionKeys) -> dict[str, Any]:
        """Authlib's, with the client's algorithms (joserfc's default list has no PS256)."""
        try:
            token = jwt.decode(assertion, key.keys, algorithms=key.algorithms)
        except JoseError as error:
            raise InvalidClientError(description=error.description) from None
        self.verify_claims(token.claims)
        return dict(token.claims)

    def validate_jti(self, claims: dict[str, Any], jti: str) -> bool:
        """Remember the assertion id durably; False when it was seen before (replay)."""
        if not isinstance(jti, str) or not jti or len(jti) > 255:
            return False
        return record_assertion_jti(claims["sub"], jti, assertion_expiry(claims))


@dataclass(frozen=True)
class AssertionKeys:
    """What PrivateKeyJWT verifies an assertion with (Authlib passes it through untouched)."""

    keys: jwk.KeySet
    algorithms: list[str]


# An assertion is made for one request: a longer one would outlive any sane replay window.
MAX_ASSERTION_LIFETIME_SECONDS = 300
JTI_TABLE = cast(Table, ClientAssertionJti.__table__)


def assertion_expiry(claims: dict[str, Any]) -> datetime:
    """The assertion's `exp`, refused unless whole seconds at most 5 minutes past now and `iat`.

    A float or an absurd `exp` is refused rather than clamped: the client is broken or hostile,
    and the stored expiry must be the real one (the row is kept until then, so no replay).
    """
    expires, issued = claims.get("exp"), claims.get("iat")
    if type(expires) is not int or (issued is not None and type(issued) is not int):
        raise InvalidClientError(description="'exp' and 'iat' must be whole seconds.")
    longest = MAX_ASSERTION_LIFETIME_SECONDS
    now = int(utcnow().timestamp())
    if expires - now > longest or (issued is not None and expires - issued > longest):
        raise InvalidClientError(description="The assertion may live at most 5 minutes.")
    return datetime.fromtimestamp(expires, UTC)


def record_assertion_jti(client_id: str, jti: str, expires_at: datetime) -> bool:
    """Store the jti in its own committed transaction; False when it is already there."""
    return insert_once(JTI_TABLE, {"client_id": client_id, "jti": jti, "expires_at": expires_at})


@dataclass
class TokenRecord:
    """A token row as revocation and introspection see it, with its client and user."""

    row: Row[Any]  # every column of oauth_tokens, read-only
    kind: str  # access_token | refresh_token
    client_id: str
    user_sub: str | None
    is_user_active: bool
    client_scopes: tuple[str, ...] = ()
    is_client_disabled: bool = False
    has_outlived_session: bool = False

    @property
    def audience(self) -> list[str] | None:
        """The resources (RFC 8707) the presented token is for; None: its client only."""
        resources = self.row.audience if self.kind == "access_token" else self.row.resources
        return list(resources) if resources else None

    def check_client(self, client: RegisteredClient) -> bool:
        """Whether this client may see or revoke the token: its own client, or a resource
        server; for a token narrowed to resources, only the resource server of one of them."""
        if self.row.client_pk == client.pk:
            return True
        if not client.is_resource_server:
            return False
        audience = self.audience
        return audience is None or serves_audience(client.pk, audience)

    def is_expired(self) -> bool:
        """Whether the presented kind of token has expired."""
        expires = (
            self.row.access_expires_at
            if self.kind == "access_token"
            else (self.row.refresh_expires_at)
        )
        return expires is None or expires <= utcnow()

    def is_revoked(self) -> bool:
        """Revoked, a refresh token already rotated, or a non-offline token whose session is
        over (a revocation missed in a race with the logout still holds)."""
        if self.row.revoked_at is not None or self.has_outlived_session:
            return True
        return self.kind == "refresh_token" and self.row.refresh_used_at is not None

    def get_scope(self) -> str:
        """Authlib: the granted scope, as far as the client is still registered for it (an
        access token narrowed to resources: its own scopes)."""
        scope = self.row.scope
        if self.kind == "access_token" and self.row.access_scope is not None:
            scope = self.row.access_scope
        return " ".join(current_scopes(str(scope).split(), self.client_scopes))


USERS = cast(Table, User.__table__)
CLIENTS = cast(Table, OAuthClient.__table__)
# Core, built once: introspection and the admin API run it on every call.
TOKEN_LOOKUP = (
    select(
        TOKEN_TABLE,
        CLIENTS.c.client_id.label("owner_client_id"),
        CLIENTS.c.scopes.label("owner_scopes"),
        CLIENTS.c.is_disabled.label("owner_disabled"),
        USERS.c.sub.label("user_sub"),
        USERS.c.status.label("user_status"),
        SESSIONS.c.ended_at.label("session_ended_at"),
        SESSIONS.c.expires_at.label("session_expires_at"),
    )
    .join_from(TOKEN_TABLE, CLIENTS, CLIENTS.c.id == TOKEN_TABLE.c.client_pk)
    .outerjoin(USERS, USERS.c.id == TOKEN_TABLE.c.user_id)
    .outerjoin(SESSIONS, SESSIONS.c.sid == TOKEN_TABLE.c.sid)
    .where(
        or_(
            TOKEN_TABLE.c.access_token_hash == bindparam("digest"),
            TOKEN_TABLE.c.refresh_token_hash == bindparam("digest"),
        )
    )
)


def find_token(value: str, hint: str | None) -> TokenRecord | None:
    """The token whose access or refresh hash matches, with its client and user (one query).

    The hint (RFC 7009 §2.1) only orders a search; one indexed query answers both kinds.
    """
    if not isinstance(value, str) or not value or len(value) > 4096:
        return None
    digest = hash_secret(value)
    found = read_first(TOKEN_LOOKUP, {"digest": digest})
    if found is None:
        return None
    kind = "access_token" if found.access_token_hash == digest else "refresh_token"
    return TokenRecord(
        found,
        kind,
        found.owner_client_id,
        found.user_sub,
        found.user_status is UserStatus.ACTIVE,
        client_scopes=tuple(found.owner_scopes or ()),
        is_client_disabled=bool(found.owner_disabled),
        has_outlived_session=outlived_session(
            found.is_offline, found.sid, found.session_ended_at, found.session_expires_at, utcnow()
        ),
    )


def require_token_parameter(request: Any) -> None:
    """`token` is required; a hint is only advice, so an unknown one is ignored (RFC 7009 §2.1)."""
    token = request.form.get("token")
    if not token:
        raise InvalidRequestError("Missing 'token'.")


class Revocation(RevocationEndpoint):  # type: ignore[misc]
    """RFC 7009: a client revokes its own tokens (a resource server, any)."""

    CLIENT_AUTH_METHODS: ClassVar[list[str]] = list(AUTH_METHODS)

    def check_params(self, request: Any, client: RegisteredClient) -> None:
        """Require the token; ignore unknown hints."""
        require_token_parameter(request)

    def authenticate_token(self, request: Any, client: RegisteredClient) -> Any:
        """The client's own token, or None (same answer for foreign tokens)."""
        self.check_params(request, client)
        token = self.query_token(request.form["token"], request.form.get("token_type_hint"))
        # §2.2: an unknown or foreign token gets the same 200 (no oracle for other clients).
        if token is None or not token.check_client(client):
            return None
        return token

    def query_token(self, token_string: str, token_type_hint: str | None) -> TokenRecord | None:
        """The token by its hash."""
        return find_token(token_string, token_type_hint)

    def revoke_token(self, token: TokenRecord, request: Any) -> None:
        """Revoke the token (a refresh token takes its whole family); commits."""
        if token.kind == "refresh_token":
            # §2.1: revoking a refresh token also ends the access tokens of that grant.
            revoke_families([token.row.family_id])
        elif token.row.revoked_at is None:
            db.session.execute(
                update(TOKEN_TABLE)
                .where(TOKEN_TABLE.c.id == token.row.id, TOKEN_TABLE.c.revoked_at.is_(None))
                .values(revoked_at=utcnow())
            )
        db.session.commit()


class Introspection(IntrospectionEndpoint):  # type: ignore[misc]
    """RFC 7662: a client introspects its own tokens (a resource server, any)."""

    CLIENT_AUTH_METHODS: ClassVar[list[str]] = list(AUTH_METHODS)

    def check_params(self, request: Any, client: RegisteredClient) -> None:
        """Require the token; ignore unknown hints (RFC 7662 §2.1)."""
        require_token_parameter(request)

    def query_token(self, token_string: str, token_type_hint: str | None) -> TokenRecord | None:
        """The token by its hash."""
        return find_token(token_string, token_type_hint)

    def check_permission(self, token: TokenRecord, client: RegisteredClient, request: Any) -> bool:
        """Own tokens, or any token for a resource server."""
        return token.check_client(client)

    def introspect_token(self, token: TokenRecord) -> dict[str, Any]:
        """The RFC 7662 §2.2 response for an active token."""
        row = token.row
        if row.user_id is not None and not token.is_user_active:
            return {"active": False}
        if token.is_client_disabled:
            return {"active": False}
        expires = row.access_expires_at if token.kind == "access_token" else row.refresh_expires_at
        payload: dict[str, Any] = {
            "active": True,
            "scope": token.get_scope(),
            "client_id": token.client_id,
            "token_type": "Bearer" if token.kind == "access_token" else "refresh_token",
            "exp": int(expires.timestamp()) if expires else None,
            "iat": int(row.created_at.timestamp()),
            "iss": current_app.config["ISSUER"],
            "sub": token.user_sub or token.client_id,
            "aud": token.audience or token.client_id,
        }
        if row.auth_time is not None:
            payload["auth_time"] = int(row.auth_time.timestamp())
        if row.sid:
            payload["sid"] = row.sid
        if row.jkt is not None and token.kind == "access_token":
            # RFC 9449 §6.2: the resource server checks the proof's key against this.
            payload["token_type"] = "DPoP"  # noqa: S105
            payload["cnf"] = {"jkt": row.jkt}
        return {k: v for k, v in payload.items() if v is not None}


def build_server(app: Flask) -> PassportServer:
    """Assemble the server with Passport's grants, client auth and endpoints."""
    server = PassportServer()
    server.init_app(app)
    server.register_grant(AuthorizationCodeGrant, [PassportCodeChallenge(required=True)])
    server.register_grant(RefreshTokenGrant)
    server.register_grant(ClientCredentialsGrant)
    server.register_client_auth_method(PrivateKeyJWT.CLIENT_AUTH_METHOD, PrivateKeyJWT(leeway=60))
    server.register_endpoint(Revocation)
    server.register_endpoint(Introspection)
    # Imported here: par needs authorization, whose request objects need this module.
    from passport.oidc.par import PushedAuthorizationEndpoint

    server.register_endpoint(PushedAuthorizationEndpoint)
    return server
