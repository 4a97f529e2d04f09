"""The second factor: TOTP (RFC 6238), recovery codes and the sign-in's second step."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the blueprint of the second factor."""
    from passport.mfa.views import bp

    app.register_blueprint(bp)
