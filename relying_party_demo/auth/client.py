"""Passport as seen by AYNI_SERVIDOR: Authlib's Flask OAuth client built from discovery."""

from __future__ import annotations

import threading
import time
from typing import Any

from authlib.integrations.flask_client import OAuth
from authlib.integrations.flask_client.apps import FlaskOAuth2App
from flask import Flask
from flask import current_app

PROVIDER_NAME = "passport"


def register_provider(app: Flask) -> None:
    """Register Passport with a per-app Authlib registry (tests build several apps)."""
    oauth = OAuth(app)
    oauth.register(
        name=PROVIDER_NAME,
        client_id=app.config["CLIENT_ID"],
        client_secret=app.config["CLIENT_SECRET"],
        server_metadata_url=f"{app.config['ISSUER']}/.well-known/openid-configuration",
        client_kwargs={
            "scope": app.config["SCOPE"],
            # RFC 7636: S256 only; Authlib then keeps the verifier in the (server-side) session.
            "code_challenge_method": "S256",
            "token_endpoint_auth_method": "client_secret_basic",
            "default_timeout": app.config["HTTP_TIMEOUT_SECONDS"],
        },
    )
    app.extensions["ayni.oauth"] = oauth
    app.extensions["ayni.jwks_refresh"] = JwksRefreshGate(app.config["JWKS_MIN_REFRESH_SECONDS"])


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
