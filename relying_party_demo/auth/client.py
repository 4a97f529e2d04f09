"""Passport as seen by AYNI_SERVIDOR: Authlib's Flask OAuth client built from discovery.

Two client profiles (``AYNI_CLIENT_PROFILE``): ``basic`` authenticates with the client secret;
``fapi2`` (FAPI 2.0 Security Profile) with a client assertion signed by AYNI's own key
(private_key_jwt through Authlib's ``PrivateKeyJWT``), and adds PAR and DPoP (``fapi.py``).
"""

from __future__ import annotations

import threading
import time
from typing import Any

from authlib.integrations.flask_client import OAuth
from authlib.integrations.flask_client.apps import FlaskOAuth2App
from authlib.oauth2.rfc7523 import PrivateKeyJWT
from authlib.oauth2.rfc7523.assertion import sign_jwt_bearer_assertion
from flask import Flask
from flask import current_app
from joserfc.jwk import ECKey

from relying_party_demo.auth.client_key import ALGORITHM
from relying_party_demo.auth.client_key import load_key
from relying_party_demo.auth.dpop import NonceCache

PROVIDER_NAME = "passport"
PROFILES = ("basic", "fapi2")
# Passport keeps an assertion's jti until it expires and refuses any that lives over 5 minutes.
ASSERTION_LIFETIME_SECONDS = 60


class IssuerAudienceAssertion(PrivateKeyJWT):  # type: ignore[misc]
    """private_key_jwt whose ``aud`` is Passport's issuer, valid for one minute.

    The issuer, not the endpoint URL (Authlib's default): FAPI 2.0 asks for it, it is the one
    value every endpoint that authenticates clients (token, PAR) accepts, and it closes the
    audience confusion between an authorization server's endpoints (draft-ietf-oauth-rfc7523bis).
    """

    alg = ALGORITHM

    def __init__(self, issuer: str) -> None:
        super().__init__(alg=ALGORITHM)
        self.issuer = issuer

    def sign(self, auth: Any, token_endpoint: str) -> str:
        """The assertion for one request (a fresh jti each time)."""
        return client_assertion(auth.client_secret, auth.client_id, self.issuer)


def client_assertion(key: ECKey, client_id: str, issuer: str) -> str:
    """A client assertion (RFC 7523 §3: iss = sub = client_id, aud, jti, iat, exp)."""
    token: str = sign_jwt_bearer_assertion(
        key,
        issuer=client_id,
        audience=issuer,
        subject=client_id,
        header={"kid": key.kid},
        alg=ALGORITHM,
        expires_in=ASSERTION_LIFETIME_SECONDS,
    )
    return token


def register_provider(app: Flask) -> None:
    """Register Passport with a per-app Authlib registry (tests build several apps)."""
    client_kwargs: dict[str, Any] = {
        "scope": app.config["SCOPE"],
        # RFC 7636: S256 only; Authlib then keeps the verifier in the (server-side) session.
        "code_challenge_method": "S256",
        "token_endpoint_auth_method": "client_secret_basic",
        "default_timeout": app.config["HTTP_TIMEOUT_SECONDS"],
    }
    credential: Any = app.config["CLIENT_SECRET"]
    auth_methods: list[Any] = []
    if app.config["CLIENT_PROFILE"] == "fapi2":
        key = load_key(app.config, app.instance_path)
        app.extensions["ayni.client_key"] = key
        app.extensions["ayni.dpop_nonces"] = NonceCache()
        # Authlib's PrivateKeyJWT signs with the "client secret": here, AYNI's private key.
        credential = key
        client_kwargs["token_endpoint_auth_method"] = IssuerAudienceAssertion.name
        auth_methods.append(IssuerAudienceAssertion(app.config["ISSUER"]))
    oauth = OAuth(app)
    oauth.register(
        name=PROVIDER_NAME,
        client_id=app.config["CLIENT_ID"],
        client_secret=credential,
        server_metadata_url=f"{app.config['ISSUER']}/.well-known/openid-configuration",
        client_kwargs=client_kwargs,
        client_auth_methods=auth_methods or None,
    )
    app.extensions["ayni.oauth"] = oauth
    app.extensions["ayni.jwks_refresh"] = JwksRefreshGate(app.config["JWKS_MIN_REFRESH_SECONDS"])


def is_fapi2() -> bool:
    """True when the app is a FAPI 2.0 client (``AYNI_CLIENT_PROFILE=fapi2``)."""
    return bool(current_app.config["CLIENT_PROFILE"] == "fapi2")


def client_key() -> ECKey | None:
    """AYNI's private key (fapi2), or None when none is configured."""
    key: ECKey | None = current_app.extensions.get("ayni.client_key")
    return key


def is_configured() -> bool:
    """True when sign-in can work: a client id, and the secret or (fapi2) the private key."""
    if not current_app.config["CLIENT_ID"]:
        return False
    if is_fapi2():
        return client_key() is not None
    return bool(current_app.config["CLIENT_SECRET"])


def provider() -> FlaskOAuth2App:
    """The registered Passport client of the current app."""
    client = current_app.extensions["ayni.oauth"].create_client(PROVIDER_NAME)
    if not isinstance(client, FlaskOAuth2App):
        raise RuntimeError("Passport client is not registered")
    return client


def provider_metadata() -> dict[str, Any]:
    """Passport's discovery document (fetched once, then cached by Authlib)."""
    return dict(provider().load_server_metadata())


def jwks(force: bool = False) -> dict[str, Any]:
    """Passport's JWKS; ``force`` refetches it, at most once per JWKS_MIN_REFRESH_SECONDS."""
    gate: JwksRefreshGate = current_app.extensions["ayni.jwks_refresh"]
    if force and not gate.may_refresh():
        force = False
    return dict(provider().fetch_jwk_set(force=force))


class JwksRefreshGate:
    """Rate limit for forced JWKS refreshes (an unknown kid must not make us hammer Passport)."""

    def __init__(self, min_interval_seconds: int) -> None:
        self.min_interval = float(min_interval_seconds)
        self.last = float("-inf")
        self.lock = threading.Lock()

    def may_refresh(self) -> bool:
        """True (and remember now) when enough time has passed since the last refresh."""
        with self.lock:
            now = time.monotonic()
            if now - self.last < self.min_interval:
                return False
            self.last = now
            return True
