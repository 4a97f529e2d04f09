"""Infrastructure: password hashing and policy, per-IP limits, HTTP security headers,
client addresses and outbound requests, encryption at rest, length-limited forms."""

from __future__ import annotations

from flask import Flask

from passport.security.app_secret import init_app_secret
from passport.security.headers import init_headers
from passport.security.network import init_network
from passport.security.ratelimits import init_ratelimits


def init_app(app: Flask) -> None:
    """The web plumbing every page relies on: client addresses behind trusted proxies
    (ProxyFix), per-IP rate limits, the security headers (CSP and the rest) and the CSRF
    tokens' secret fallbacks."""
    init_network(app)
    init_ratelimits(app)
    init_headers(app)
    init_app_secret(app)
