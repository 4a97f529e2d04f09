"""Validation of JWTs signed by Passport: logout tokens and refreshed ID tokens.

ID tokens of the code flow are validated by Authlib (signature by kid with a JWKS refresh on
an unknown kid, iss, aud, exp, iat, nonce, at_hash); this module covers the tokens that
arrive outside that flow, with the same keys.
"""

from __future__ import annotations

import time
from typing import Any
from typing import cast

from flask import current_app
from joserfc import jwt
from joserfc.errors import InvalidKeyIdError
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from relying_party_demo.auth.client import jwks
from relying_party_demo.auth.client import provider_metadata
from relying_party_demo.auth.errors import InvalidLogoutToken
from relying_party_demo.auth.errors import InvalidToken

BACKCHANNEL_LOGOUT_EVENT = "http://schemas.openid.net/event/backchannel-logout"
MAX_TOKEN_LENGTH = 16_384
# Asymmetric algorithms only: "none" and HMAC (keyed with our client secret) are refused.
ACCEPTED_ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384")


def signing_algorithms() -> list[str]:
    """The algorithms Passport advertises that we accept."""
    advertised = provider_metadata().get("id_token_signing_alg_values_supported") or ["RS256"]
    return [alg for alg in advertised if alg in ACCEPTED_ALGORITHMS]


def import_keys(*, force: bool) -> KeySet:
    """Passport's JWKS as a joserfc KeySet."""
    return KeySet.import_key_set(cast(Any, jwks(force=force)))


def decode_signed(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """Verify the signature against Passport's JWKS (refetched once on an unknown kid)."""
    if not isinstance(token, str) or not token or len(token) > MAX_TOKEN_LENGTH:
        raise InvalidToken("missing or oversized token")
    if token.count(".") != 2:
        raise InvalidToken("not a compact JWS")
    algorithms = signing_algorithms()
    try:
        try:
            decoded = jwt.decode(token, import_keys(force=False), algorithms=algorithms)
        except InvalidKeyIdError:
            # A rotated key: Passport publishes the new one before using it (RFC 7517 §5).
            decoded = jwt.decode(token, import_keys(force=True), algorithms=algorithms)
    except JoseError as error:
        raise InvalidToken(f"signature: {error.error}") from None
    except (ValueError, TypeError, KeyError) as error:
        raise InvalidToken(f"malformed token: {type(error).__name__}") from None
    return dict(decoded.header), dict(decoded.claims)


def check_issuer_and_audience(claims: dict[str, Any]) -> None:
    """iss is Passport's issuer and aud names our client_id."""
    if claims.get("iss") != current_app.config["ISSUER"]:
        raise InvalidToken("iss mismatch")
    audience = claims.get("aud")
    audiences = [audience] if isinstance(audience, str) else audience
    if not isinstance(audiences, list) or current_app.config["CLIENT_ID"] not in audiences:
        raise InvalidToken("aud mismatch")


def check_times(claims: dict[str, Any], *, max_age_seconds: int | None, require_exp: bool) -> None:
    """iat is present and not in the future; exp (when present or required) not passed."""
    leeway = current_app.config["TOKEN_LEEWAY_SECONDS"]
    now = time.time()
    issued_at = claims.get("iat")
    if not isinstance(issued_at, int | float) or isinstance(issued_at, bool):
        raise InvalidToken("iat missing")
    if issued_at > now + leeway:
        raise InvalidToken("iat in the future")
    if max_age_seconds is not None and issued_at < now - max_age_seconds - leeway:
        raise InvalidToken("token too old")
    expires_at = claims.get("exp")
    if expires_at is None:
        if require_exp:
            raise InvalidToken("exp missing")
        return
    if not isinstance(expires_at, int | float) or isinstance(expires_at, bool):
        raise InvalidToken("exp malformed")
    if expires_at < now - leeway:
        raise InvalidToken("token expired")


def validate_logout_token(token: str) -> tuple[str | None, str | None]:
    """Validate a logout token (OIDC Back-Channel Logout 1.0 §2.6); return (sub, sid)."""
    try:
        header, claims = decode_signed(token)
        check_issuer_and_audience(claims)
        check_times(
            claims,
            max_age_seconds=current_app.config["LOGOUT_TOKEN_MAX_AGE_SECONDS"],
            require_exp=False,
        )
    except InvalidToken as error:
        raise InvalidLogoutToken(str(error)) from None
    token_type = header.get("typ")
    # §2.4: typ "logout+jwt" is recommended; when present it must be exactly that.
    if token_type is not None and str(token_type).lower() not in (
        "logout+jwt",
        "application/logout+jwt",
    ):
        raise InvalidLogoutToken("typ is not logout+jwt")
    events = claims.get("events")
    if not isinstance(events, dict) or not isinstance(events.get(BACKCHANNEL_LOGOUT_EVENT), dict):
        raise InvalidLogoutToken("events lacks the back-channel logout event")
    # §2.4: a nonce is prohibited, so an ID token can never pass as a logout token.
    if "nonce" in claims:
        raise InvalidLogoutToken("nonce present")
    subject = claims.get("sub")
    session_id = claims.get("sid")
    if subject is not None and (not isinstance(subject, str) or not subject):
        raise InvalidLogoutToken("sub malformed")
    if session_id is not None and (not isinstance(session_id, str) or not session_id):
        raise InvalidLogoutToken("sid malformed")
    if subject is None and session_id is None:
        raise InvalidLogoutToken("neither sub nor sid")
    return subject, session_id


def validate_refreshed_id_token(token: str, expected_subject: str) -> dict[str, Any]:
    """Validate an ID token from a refresh (OIDC Core §12.2: same iss and sub, our aud)."""
    _, claims = decode_signed(token)
    check_issuer_and_audience(claims)
    check_times(claims, max_age_seconds=None, require_exp=True)
    if claims.get("sub") != expected_subject:
        raise InvalidToken("sub changed on refresh")
    return claims
