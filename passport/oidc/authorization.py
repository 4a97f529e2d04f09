"""The authorization endpoint's logic: validate the request, decide login/consent, issue codes.

Order of checks (RFC 6749 §4.1.2.1, RFC 9700 §4.1): until the client and its exact redirect
URI are known, errors are shown to the person and never redirected; afterwards every error goes
back to the client with its RFC code, `state` and `iss` (RFC 9207).

The parameters acted on are the browser's, or those of a pushed request (RFC 9126,
passport.oidc.par: a `request_uri` read once) or of a signed request object (RFC 9101,
passport.oidc.request_objects), never a mix (effective_parameters). A client that must push its
requests (per client, the FAPI 2.0 profile, or the deployment's setting) is refused without one.

Not Authlib's authorization endpoint with OpenIDCode: in 1.9.6 it does not act on max_age
(OIDC Core §3.1.2.1), acr_values or the `claims` parameter (§5.5), nor keep a request across
the login page; Authlib's IssuerParameter (RFC 9207 §2) hooks only that endpoint, so `iss` is
added here.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from dataclasses import field
from datetime import datetime
from datetime import timedelta
from typing import Any
from typing import cast

from flask import current_app
from joserfc import jwt
from joserfc.errors import JoseError
from sqlalchemy import Table
from sqlalchemy import bindparam
from sqlalchemy import delete
from sqlalchemy import insert
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from passport.accounts.models import User
from passport.audit.services import record_event
from passport.database import utcnow
from passport.extensions import db
from passport.login.models import SSOSession
from passport.login.sessions import SessionFacts
from passport.logs import note
from passport.mfa.assurance import ACR_VALUES
from passport.oidc.claims import MAX_CLAIMS_PARAMETER_LENGTH
from passport.oidc.claims import individually_requested
from passport.oidc.claims import parse_claims_parameter
from passport.oidc.claims import requested_sub
from passport.oidc.client_validation import MAX_URI_LENGTH
from passport.oidc.clients import RegisteredClient
from passport.oidc.clients import find_client
from passport.oidc.keys import key_ring
from passport.oidc.models import AuthorizationCode
from passport.oidc.models import Consent
from passport.oidc.models import PendingAuthorization
from passport.oidc.request_objects import RequestObjectError
from passport.oidc.request_objects import verify_request_object
from passport.oidc.resources import InvalidTargetError
from passport.oidc.resources import authorize_resources
from passport.oidc.resources import requested_resources
from passport.oidc.tokens import hash_secret
from passport.oidc.tokens import new_secret

# Parameters that must not repeat (RFC 6749 §3.1); the first two decide where errors go.
SINGLE_PARAMETERS = (
    "client_id",
    "redirect_uri",
    "response_type",
    "scope",
    "state",
    "nonce",
    "prompt",
    "max_age",
    "code_challenge",
    "code_challenge_method",
    "response_mode",
    "claims",
    "id_token_hint",
    "login_hint",
    "ui_locales",
    "dpop_jkt",
)
# Every parameter Passport acts on; the rest is ignored and never stored.
KEPT_PARAMETERS = (*SINGLE_PARAMETERS, "acr_values")
MAX_PARAMETER_LENGTH = 4000
MAX_NONCE_LENGTH = 512  # the column that binds it to the code
# The longest value each parameter may have; longer is invalid_request (a page for client_id
# and redirect_uri). What a pending request stores is rebuilt from the validated request
# (pending_params), so these limits also bound its row, with MAX_PENDING_LENGTH as the last word.
MAX_LENGTHS = {
    "client_id": 255,
    "redirect_uri": MAX_URI_LENGTH,
    "response_type": 64,
    "scope": 2048,
    "state": 2048,
    "nonce": MAX_NONCE_LENGTH,
    "prompt": 128,
    "max_age": 64,
    "code_challenge": 128,
    "code_challenge_method": 16,
    "response_mode": 32,
    "claims": MAX_CLAIMS_PARAMETER_LENGTH,
    "id_token_hint": MAX_PARAMETER_LENGTH,
    "login_hint": 254,
    "ui_locales": 256,
    "acr_values": 512,
    "dpop_jkt": 64,
}
MAX_PENDING_LENGTH = 16_384  # characters of a pending request's stored JSON
PKCE_CHALLENGE = re.compile(r"^[A-Za-z0-9_-]{43}$")  # base64url(SHA-256), RFC 7636 §4.2
DNI_PATTERN = re.compile(r"^\d{8}$")
KNOWN_PROMPTS = {"none", "login", "consent", "select_account"}
FAPI2_MAX_CODE_LIFETIME_SECONDS = 60
# Built once; the values travel as parameters, so the compiled form is cached too.
INSERT_CODE = insert(cast(Table, AuthorizationCode.__table__))
PENDING = cast(Table, PendingAuthorization.__table__)
# The sign-in page reads a pending request twice (form, post) without changing it: Core.
PENDING_PARAMS = select(PENDING.c.params, PENDING.c.expires_at).where(
    PENDING.c.authz_id == bindparam("authz_id")
)
MAX_AUTHZ_ID_LENGTH = 64


class AuthorizationPageError(Exception):
    """The request cannot be answered to the client: show a page (never redirect)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason  # unknown_client | invalid_redirect_uri | invalid_request


class AuthorizationError(Exception):
    """A protocol error to send back to the client's redirect_uri."""

    def __init__(
        self,
        error: str,
        description: str,
        redirect_uri: str,
        state: str | None,
        response_mode: str = "query",
    ) -> None:
        super().__init__(f"{error}: {description}")
        self.error = error
        self.description = description
        self.redirect_uri = redirect_uri
        self.state = state
        self.response_mode = response_mode

    def params(self, issuer: str) -> list[tuple[str, str]]:
        """Response parameters (RFC 6749 §4.1.2.1, RFC 9207 §2)."""
        result = [("error", self.error), ("error_description", self.description)]
        if self.state is not None:
            result.append(("state", self.state))
        result.append(("iss", issuer))
        return result


@dataclass
class AuthorizationRequest:
    """A validated authorization request."""

    client: RegisteredClient
    redirect_uri: str
    scopes: list[str]
    state: str | None
    nonce: str | None
    code_challenge: str | None
    prompts: set[str]
    max_age: int | None
    hinted_sub: str | None
    login_hint: str | None
    ui_locales: list[str]
    claims: dict[str, Any] | None
    response_mode: str
    raw: dict[str, str] = field(default_factory=dict)
    # RFC 9449 §10: the thumbprint of the DPoP key that must redeem the code.
    dpop_jkt: str | None = None
    # RFC 8707 resource indicators, checked against the registry and the scopes.
    resources: list[str] = field(default_factory=list)

    @property
    def extra_claims(self) -> list[str]:
        """User claims asked for by name beyond the scopes, that the client may get (the
        consent page lists them; a remembered consent must cover them)."""
        return individually_requested(self.claims, self.scopes, self.client.scopes)

    def fail(self, error: str, description: str) -> AuthorizationError:
        """An error for this request's redirect_uri."""
        return AuthorizationError(
            error, description, self.redirect_uri, self.state, self.response_mode
        )

    def pending_params(self) -> dict[str, Any]:
        """What a pending request stores: the validated values Passport acts on, normalised.

        Parsing them again (on resume and consent) gives back this request; nothing else the
        client sent (unknown parameters, scopes it may not have, unknown prompts, locales or
        acr values, a login_hint that is not a DNI) is kept.
        """
        params: dict[str, Any] = {
            "client_id": self.client.client_id,
            "redirect_uri": self.redirect_uri,
            "response_type": "code",
            "scope": " ".join(self.scopes),
        }
        optional = {
            "state": self.state,
            "nonce": self.nonce,
            "code_challenge": self.code_challenge,
            "code_challenge_method": "S256" if self.code_challenge is not None else None,
            "response_mode": self.response_mode if self.response_mode != "query" else None,
            "prompt": " ".join(sorted(self.prompts)) or None,
            "max_age": str(self.max_age) if self.max_age is not None else None,
            "claims": (
                json.dumps(self.claims, separators=(",", ":"), ensure_ascii=False)
                if self.claims
                else None
            ),
            # A hint we signed, checked above: no bigger than the ID tokens Passport issues.
            "id_token_hint": self.raw.get("id_token_hint") if self.hinted_sub else None,
            "login_hint": self.login_hint,
            "ui_locales": " ".join(self.ui_locales) or None,
            "acr_values": " ".join(known_acr_values(self.raw.get("acr_values"))) or None,
            "dpop_jkt": self.dpop_jkt,
        }
        params.update({name: value for name, value in optional.items() if value is not None})
        if self.resources:
            # A list: MultiDict(params) gives it back as the repeated parameter.
            params["resource"] = list(self.resources)
        return params


def single_values(params: MultiDict[str, str]) -> dict[str, str]:
    """First value of each kept parameter; a repeated client_id/redirect_uri is a page error."""
    for name in ("client_id", "redirect_uri"):
        if len(params.getlist(name)) > 1:
            raise AuthorizationPageError("invalid_request")
    return {name: params[name] for name in KEPT_PARAMETERS if name in params}


def known_acr_values(value: str | None) -> list[str]:
    """The acr_values Passport knows, in the client's order (the others cannot be met and
    change no decision: acr.py)."""
    return [acr for acr in dict.fromkeys((value or "").split()) if acr in ACR_VALUES]


def requires_pushed_requests(client: RegisteredClient) -> bool:
    """RFC 9126 §5-§6: this client (or every client here) must push its requests to /par."""
    return (
        client.require_pushed_authorization_requests
        or client.fapi2_profile
        or bool(current_app.config["REQUIRE_PUSHED_AUTHORIZATION_REQUESTS"])
    )


def early_error(
    params: MultiDict[str, str], client: RegisteredClient, error: str, description: str
) -> AuthorizationPageError | AuthorizationError:
    """An error found before the effective request is known (its redirect_uri is inside the
    pushed request or the object): to the outer redirect_uri when it is registered for this
    client, else a page."""
    redirect_uri = params.get("redirect_uri")
    state = params.get("state")
    if (
        redirect_uri
        and len(redirect_uri) <= MAX_LENGTHS["redirect_uri"]
        and client.check_redirect_uri(redirect_uri)
    ):
        usable_state = state if state is not None and len(state) <= MAX_LENGTHS["state"] else None
        return AuthorizationError(error, description, redirect_uri, usable_state)
    return AuthorizationPageError(error)


def effective_parameters(
    params: MultiDict[str, str], client: RegisteredClient, source: str
) -> MultiDict[str, str]:
    """The parameters to act on.

    ``source``: "front" (the browser at /authorize), "pushed" (the body of /par, the client
    authenticated) or "stored" (a pending request or a redeemed request_uri, validated before).
    A signed ``request`` replaces every other parameter but client_id (RFC 9101 §6.3); a
    ``request_uri`` from /par does the same (RFC 9126 §4); any other request_uri is not
    supported (discovery says so).
    """
    # Here, not at the top: passport.oidc.par (the /par endpoint) builds on this module.
    from passport.oidc.par import is_pushed_request_uri
    from passport.oidc.par import redeem_request_uri

    if source == "stored":
        return params
    if "request_uri" in params:
        if source == "pushed":
            raise AuthorizationPageError("invalid_request")  # RFC 9126 §2.1
        if "request" in params or len(params.getlist("request_uri")) > 1:
            raise early_error(params, client, "invalid_request", "Give request or request_uri.")
        request_uri = params["request_uri"]
        if not is_pushed_request_uri(request_uri):
            raise early_error(
                params, client, "request_uri_not_supported", "Only request_uri from /par."
            )
        stored = redeem_request_uri(request_uri, client)
        if stored is None:
            raise early_error(
                params, client, "invalid_request_uri", "Unknown, expired or used request_uri."
            )
        return MultiDict(stored)
    if source == "front" and requires_pushed_requests(client):
        raise early_error(
            params, client, "invalid_request", "This client must use pushed authorization requests."
        )
    if "request" in params:
        if len(params.getlist("request")) > 1:
            raise early_error(params, client, "invalid_request", "Repeated parameter request.")
        try:
            inner = verify_request_object(params["request"], client)
        except RequestObjectError as refused:
            raise early_error(
                params, client, "invalid_request_object", refused.description
            ) from None
        inner["client_id"] = client.client_id
        return MultiDict(inner)
    return params


def parse_authorization_request(
    params: MultiDict[str, str], source: str = "front"
) -> AuthorizationRequest:
    """Validate an authorization request; raise AuthorizationPageError or AuthorizationError.

    ``source``: see effective_parameters.
    """
    raw = single_values(params)
    client_id = raw.get("client_id")
    if client_id is None or len(client_id) > MAX_LENGTHS["client_id"]:
        raise AuthorizationPageError("unknown_client")
    client = find_client(client_id)
    if client is None:
        raise AuthorizationPageError("unknown_client")
    note(client_id=client.client_id)
    params = effective_parameters(params, client, source)
    raw = single_values(params)
    redirect_uri = raw.get("redirect_uri")
    if (
        not redirect_uri
        or len(redirect_uri) > MAX_LENGTHS["redirect_uri"]
        or not client.check_redirect_uri(redirect_uri)
    ):
        raise AuthorizationPageError("invalid_redirect_uri")
    state = raw.get("state")
    response_mode = raw.get("response_mode") or "query"
    if response_mode not in ("query", "form_post"):
        response_mode = "query"
        raise AuthorizationError(
            "invalid_request", "Unsupported response_mode.", redirect_uri, state
        )

    def fail(error: str, description: str) -> AuthorizationError:
        """An error for this request's redirect_uri."""
        return AuthorizationError(error, description, redirect_uri, state, response_mode)

    for name in SINGLE_PARAMETERS:
        if len(params.getlist(name)) > 1:
            raise fail("invalid_request", f"Repeated parameter {name}.")
    for name, value in raw.items():
        if len(value) > MAX_LENGTHS[name]:
            raise fail("invalid_request", f"{name} is too long.")
    response_type = raw.get("response_type")
    if not response_type:
        raise fail("invalid_request", "Missing response_type.")
    if response_type != "code":
        raise fail("unsupported_response_type", "Only response_type=code is supported.")
    if not client.check_response_type("code"):
        raise fail("unauthorized_client", "The client may not use the code flow.")
    requested = list(dict.fromkeys((raw.get("scope") or "").split()))
    scopes = [s for s in requested if s in client.scopes]
    if not scopes:
        raise fail("invalid_scope", "No requested scope is allowed for this client.")
    method = raw.get("code_challenge_method")
    challenge = raw.get("code_challenge")
    if method is not None and method != "S256":
        raise fail("invalid_request", "code_challenge_method must be S256.")
    if challenge is not None:
        if method is None:
            # RFC 7636 §4.3 would default to "plain", which RFC 9700 §2.1.1 rules out.
            raise fail("invalid_request", "code_challenge_method must be S256.")
        if not PKCE_CHALLENGE.match(challenge):
            raise fail("invalid_request", "Invalid code_challenge.")
    elif method is not None:
        raise fail("invalid_request", "Missing code_challenge.")
    elif client.is_public or client.fapi2_profile:
        # RFC 9700 §2.1.1 for public clients; FAPI 2.0 §5.3.2.2 for every client of the profile.
        raise fail("invalid_request", "PKCE (S256) is required for this client.")
    prompts = set((raw.get("prompt") or "").split()) & KNOWN_PROMPTS
    if "none" in prompts and len(prompts) > 1:
        raise fail("invalid_request", "prompt=none cannot be combined.")
    max_age = None
    if "max_age" in raw:
        # ASCII: str.isdigit() also accepts "²", which int() refuses (a 500).
        if not (raw["max_age"].isascii() and raw["max_age"].isdigit()) or len(raw["max_age"]) > 9:
            raise fail("invalid_request", "max_age must be a non-negative integer.")
        max_age = int(raw["max_age"])
    try:
        claims = parse_claims_parameter(raw.get("claims"))
    except ValueError:
        raise fail("invalid_request", "Invalid claims parameter.") from None
    hinted_sub = None
    if raw.get("id_token_hint"):
        hinted_sub = subject_of_id_token_hint(raw["id_token_hint"], client.client_id)
        if hinted_sub is None:
            raise fail("invalid_request", "Invalid id_token_hint.")
    dpop_jkt = raw.get("dpop_jkt")
    if dpop_jkt is not None and not PKCE_CHALLENGE.match(dpop_jkt):
        # A JWK SHA-256 thumbprint (RFC 7638) is base64url of 32 bytes, as a PKCE challenge.
        raise fail("invalid_request", "Invalid dpop_jkt.")
    # §5.5.1: a `sub` asked for with a value is answered only for that person, as a hint is.
    claimed_sub = requested_sub(claims)
    if claimed_sub is not None:
        if not isinstance(claimed_sub, str) or (
            hinted_sub is not None and hinted_sub != claimed_sub
        ):
            raise fail("invalid_request", "The sub claim request does not fit the request.")
        hinted_sub = claimed_sub
    try:
        resources = authorize_resources(requested_resources(params.getlist("resource")), scopes)
    except InvalidTargetError as error:
        raise fail("invalid_target", error.description) from None
    login_hint = raw.get("login_hint")
    request = AuthorizationRequest(
        client=client,
        redirect_uri=redirect_uri,
        scopes=scopes,
        state=state,
        nonce=raw.get("nonce"),
        code_challenge=challenge,
        prompts=prompts,
        max_age=max_age,
        hinted_sub=hinted_sub,
        login_hint=login_hint if login_hint and DNI_PATTERN.match(login_hint) else None,
        ui_locales=parse_ui_locales(raw.get("ui_locales")),
        claims=claims,
        response_mode=response_mode,
        raw=raw,
        resources=resources,
        dpop_jkt=dpop_jkt,
    )
    # Measured as the JSON column stores it (non-ASCII escaped).
    if len(json.dumps(request.pending_params())) > MAX_PENDING_LENGTH:
        raise fail("invalid_request", "The request is too large.")
    return request


def parse_ui_locales(value: str | None) -> list[str]:
    """Supported languages among ui_locales, in the caller's order (es-PE -> es)."""
    supported = current_app.config["LANGUAGES"]
    result: list[str] = []
    for tag in (value or "").split()[:10]:
        language = tag.split("-")[0].lower()
        if language in supported and language not in result:
            result.append(language)
    return result


def verify_id_token_hint(token: str) -> dict[str, Any] | None:
    """Claims of an ID token we signed (expired ones too: OIDC Core §3.1.2.1), else None."""
    if len(token) > MAX_PARAMETER_LENGTH:
        return None
    try:
        decoded = jwt.decode(token, key_ring().public_key_set(), algorithms=["RS256", "ES256"])
    except (JoseError, ValueError, TypeError):
        return None
    claims = dict(decoded.claims)
    if claims.get("iss") != current_app.config["ISSUER"] or not isinstance(claims.get("sub"), str):
        return None
    return claims


def subject_of_id_token_hint(token: str, client_id: str) -> str | None:
    """The `sub` of a valid hint issued to this client."""
    claims = verify_id_token_hint(token)
    if claims is None:
        return None
    audience = claims.get("aud")
    audiences = audience if isinstance(audience, list) else [audience]
    return str(claims["sub"]) if client_id in audiences else None


def needs_login(
    request: AuthorizationRequest, session: SessionFacts | None, satisfied_after: datetime | None
) -> bool:
    """Whether the person must (re)authenticate (OIDC Core §3.1.2.3)."""
    if session is None:
        return True
    if request.hinted_sub is not None and request.hinted_sub != session.user_sub:
        return True
    if satisfied_after is not None:
        # Resumed after a forced login: the new session must be newer than the request.
        return session.auth_time < satisfied_after
    if "login" in request.prompts or "select_account" in request.prompts:
        return True
    if request.max_age is not None:
        return utcnow() - session.auth_time > timedelta(seconds=request.max_age)
    return False


def forces_login(request: AuthorizationRequest) -> bool:
    """prompt=login/select_account or max_age: the resumed request needs a fresh auth_time."""
    return bool({"login", "select_account"} & request.prompts) or request.max_age is not None


def has_consent(user_id: int, request: AuthorizationRequest) -> bool:
    """A remembered grant covering every requested scope and claim asked for by name."""
    granted = db.session.execute(
        select(Consent.scopes, Consent.claims).where(
            Consent.user_id == user_id, Consent.client_pk == request.client.pk
        )
    ).first()
    if granted is None or not set(request.scopes) <= set(granted.scopes):
        return False
    if not request.claims:
        return True
    # Claims asked for by name that the remembered scopes do not release were allowed one by one.
    beyond = individually_requested(request.claims, granted.scopes, request.client.scopes)
    return set(beyond) <= set(granted.claims or ())


def needs_consent(user_id: int, request: AuthorizationRequest) -> bool:
    """Consent is shown unless first-party, or remembered and prompt is not consent."""
    if request.client.skip_consent:
        return False
    if "consent" in request.prompts:
        return True
    return not has_consent(user_id, request)


def remember_consent(user: User, request: AuthorizationRequest) -> None:
    """Record the granted scopes, adding to earlier grants (the caller commits)."""
    record_event(
        "consent.granted",
        actor_user_id=user.id,
        subject_user_id=user.id,
        client_id=request.client.client_id,
        details={
            "scopes": request.scopes,
            **({"claims": request.extra_claims} if request.extra_claims else {}),
        },
    )
    consent = db.session.scalar(
        select(Consent).where(Consent.user_id == user.id, Consent.client_pk == request.client.pk)
    )
    claims = request.extra_claims or None
    if consent is None:
        db.session.add(
            Consent(
                user_id=user.id, client_pk=request.client.pk, scopes=request.scopes, claims=claims
            )
        )
    else:
        consent.scopes = sorted(set(consent.scopes) | set(request.scopes))
        if claims:
            consent.claims = sorted(set(consent.claims or ()) | set(claims))


def save_pending(request: AuthorizationRequest, requires_auth_after: datetime | None) -> str:
    """Store the request server-side for login/consent to resume; commits; returns its id."""
    now = utcnow()
    ttl = timedelta(seconds=current_app.config["PENDING_AUTHORIZATION_TTL_SECONDS"])
    db.session.execute(delete(PendingAuthorization).where(PendingAuthorization.expires_at <= now))
    authz_id = new_secret(24)
    db.session.add(
        PendingAuthorization(
            authz_id=authz_id,
            client_pk=request.client.pk,
            params=request.pending_params(),
            requires_auth_after=requires_auth_after,
            created_at=now,
            expires_at=now + ttl,
        )
    )
    db.session.commit()
    return authz_id


def load_pending(authz_id: str | None) -> PendingAuthorization | None:
    """A pending request that has not expired."""
    if not authz_id or len(authz_id) > MAX_AUTHZ_ID_LENGTH:
        return None
    pending = db.session.scalar(
        select(PendingAuthorization).where(PendingAuthorization.authz_id == authz_id)
    )
    if pending is None or pending.expires_at <= utcnow():
        return None
    return pending


def load_pending_params(authz_id: str | None) -> dict[str, Any] | None:
    """The parameters of a pending request that has not expired (``load_pending``'s rule),
    read as plain columns: for the sign-in page, which only reads them."""
    if not authz_id or len(authz_id) > MAX_AUTHZ_ID_LENGTH:
        return None
    row = db.session.execute(PENDING_PARAMS, {"authz_id": authz_id}).first()
    if row is None or row.expires_at <= utcnow():
        return None
    return cast(dict[str, Any], row.params)


def discard_pending(pending: PendingAuthorization) -> None:
    """Forget a pending request once answered (the caller commits)."""
    db.session.delete(pending)


def code_lifetime(client: RegisteredClient) -> int:
    """Seconds an authorization code lives: at most 60 for a FAPI 2.0 client (§5.3.2.1)."""
    seconds = int(current_app.config["AUTHORIZATION_CODE_TTL_SECONDS"])
    return min(seconds, FAPI2_MAX_CODE_LIFETIME_SECONDS) if client.fapi2_profile else seconds


def issue_code(
    request: AuthorizationRequest, session: SSOSession | SessionFacts
) -> list[tuple[str, str]]:
    """Store a single-use code bound to client, redirect_uri, PKCE, nonce and session; commits."""
    code = new_secret(32)
    now = utcnow()
    db.session.execute(
        INSERT_CODE,
        dict(
            code_hash=hash_secret(code),
            client_pk=request.client.pk,
            user_id=session.user_id,
            sid=session.sid,
            redirect_uri=request.redirect_uri,
            scope=" ".join(request.scopes),
            nonce=request.nonce,
            code_challenge=request.code_challenge,
            dpop_jkt=request.dpop_jkt,
            claims=request.claims,
            resources=request.resources or None,
            auth_time=session.auth_time,
            amr=list(session.amr or []),
            acr=session.acr,
            expires_at=now + timedelta(seconds=code_lifetime(request.client)),
            created_at=now,
        ),
    )
    db.session.commit()
    params = [("code", code)]
    if request.state is not None:
        params.append(("state", request.state))
    params.append(("iss", current_app.config["ISSUER"]))
    return params
